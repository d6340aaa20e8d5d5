//! Server-Sent Events on tokio: the `sse-proto` core bound to tokio I/O.
//!
//! This crate moves bytes, arms timers and wakes tasks; every protocol rule
//! lives in [`sse_proto`], which it re-exports. `sse-smol` offers the same
//! types under the same names for smol.

pub use sse_proto as proto;

pub use sse_proto::publisher::{self, Publisher, Subscription};

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "server")]
pub mod server;
