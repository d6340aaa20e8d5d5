//! Server-Sent Events on tokio: the `sse-proto` core bound to tokio I/O.
//!
//! This crate moves bytes, arms timers and wakes tasks; every protocol rule
//! lives in [`sse_proto`], which it re-exports. `sse-smol` offers the same
//! types under the same names for smol.
//!
//! - [`EventReader`]: events out of an [`AsyncRead`](tokio::io::AsyncRead),
//!   borrowed (`next_event`, no allocation per event) or owned (a `Stream`).
//! - [`EventWriter`]: events, comments and retry hints into an
//!   [`AsyncWrite`](tokio::io::AsyncWrite).
//! - [`EventStream`]: events out of any `Stream` of byte chunks, such as an
//!   HTTP client's response body.
//! - [`EventCodec`]: the same as a `tokio_util::codec` pair.
//! - [`EventSource`] (feature `client`, on by default): an HTTP client that
//!   reconnects and resumes as [`sse_proto::Client`] decides.
//! - [`Publisher`]: the fan-out publisher of [`sse_proto::publisher`], the
//!   very same type in both adapters; [`server::SseBody`] (feature `server`,
//!   on by default) serves a [`Subscription`] as a streaming HTTP body with
//!   keep-alive comments, and [`server::Events`] is a ready `GET
//!   /events?channel=..` endpoint over a publisher with an access hook.
//!   [`axum`] (feature `axum`) mounts it as a router.
//!
//! # Features
//!
//! - `client` (default): [`EventSource`], over hyper (HTTP/1.1), plain `http`.
//! - `rustls`: `https` for [`EventSource`], through rustls (ring) with the
//!   system's root certificates.
//! - `server` (default): [`server`], the event stream as an HTTP response
//!   body, and the ready endpoint.
//! - `axum`: [`axum`], axum responses, the `LastEventId` extractor and
//!   `Events::router`.

mod codec;
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

pub use codec::EventCodec;
pub use error::Error;
#[cfg(feature = "client")]
pub use event_source::{Builder, EventSource, FailedResponse, Item};
pub use reader::EventReader;
pub use stream::EventStream;
pub use writer::EventWriter;

pub use sse_proto::publisher::{self, Publisher, Subscription};

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "server")]
pub mod server;
