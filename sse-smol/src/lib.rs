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
//! - [`Publisher`]: the fan-out publisher of [`sse_proto::publisher`], the
//!   very same type in both adapters; [`server::SseBody`] (feature `server`,
//!   on by default) serves a [`Subscription`] as a streaming HTTP body with
//!   keep-alive comments, and [`server::Events`] is a ready `GET
//!   /events?channel=..` endpoint over a publisher with an access hook.
//!   [`server::serve`] runs hyper on an `async_net::TcpListener`.
//!
//! # Features
//!
//! - `client` (default): [`EventSource`], over hyper (HTTP/1.1), plain `http`.
//! - `rustls`: `https` for [`EventSource`], through rustls (ring) with the
//!   system's root certificates.
//! - `server` (default): [`server`], the event stream as an HTTP response
//!   body, and the ready endpoint.

mod error;
#[cfg(feature = "client")]
mod event_source;
mod reader;
mod stream;
mod writer;

/// The `http` crate, whose types the client's and the server's APIs use
/// (`StatusCode`, `HeaderMap`, `Uri`, `Method`, `request::Parts`).
#[cfg(any(feature = "client", feature = "server"))]
pub use http;
pub use sse_proto as proto;

pub use error::Error;
#[cfg(feature = "client")]
pub use event_source::{Builder, EventSource, FailedResponse, Item};
pub use reader::EventReader;
pub use stream::EventStream;
pub use writer::EventWriter;

pub use sse_proto::publisher::{self, Publisher, Subscription};

#[cfg(feature = "server")]
pub mod server;
