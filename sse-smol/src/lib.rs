//! Server-Sent Events on smol: the `sse-proto` core bound to futures-io and
//! async-io.
//!
//! This crate moves bytes, arms timers and wakes tasks; every protocol rule
//! lives in [`sse_proto`], which it re-exports. `sse-tokio` offers the same
//! types under the same names for tokio.
//!
//! - [`EventReader`]: events out of an [`AsyncRead`](futures_io::AsyncRead),
//!   borrowed (`next_event`, no allocation per event) or owned (a `Stream`).
//! - [`EventWriter`]: events, comments and retry hints into an
//!   [`AsyncWrite`](futures_io::AsyncWrite).
//! - [`EventStream`]: events out of any `Stream` of byte chunks, such as an
//!   HTTP client's response body.
//! - [`EventSource`] (feature `client`, on by default): an HTTP client that
//!   reconnects and resumes as [`sse_proto::Client`] decides. It runs on any
//!   executor.
//!
//! # Features
//!
//! - `client` (default): [`EventSource`], over hyper (HTTP/1.1), plain `http`.
//! - `rustls`: `https` for [`EventSource`], through rustls (ring) with the
//!   system's root certificates.

mod error;
#[cfg(feature = "client")]
mod event_source;
mod reader;
mod stream;
mod writer;

/// The `http` crate, whose types the client's API uses (`StatusCode`,
/// `HeaderMap`, `Uri`, `Method`).
#[cfg(feature = "client")]
pub use http;
pub use sse_proto as proto;

pub use error::Error;
#[cfg(feature = "client")]
pub use event_source::{Builder, EventSource, FailedResponse, Item};
pub use reader::EventReader;
pub use stream::EventStream;
pub use writer::EventWriter;
