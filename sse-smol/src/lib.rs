//! Server-Sent Events on smol: the `sse-proto` core bound to futures-io and
//! async-io.
//!
//! This crate moves bytes, arms timers and wakes tasks; every protocol rule
//! lives in [`sse_proto`], which it re-exports. `sse-tokio` offers the same
//! types under the same names for tokio.

pub use sse_proto as proto;

pub use sse_proto::publisher::{self, Publisher, Subscription};

#[cfg(feature = "server")]
pub mod server;
