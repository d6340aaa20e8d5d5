//! Server-Sent Events on tokio: the `sse-proto` core bound to tokio I/O.
//!
//! This crate moves bytes, arms timers and wakes tasks; every protocol rule
//! lives in [`sse_proto`], which it re-exports, and everything that does not
//! depend on the runtime (the client, the readers and writers, the server
//! side) in [`sse_hyper`], whose types it names with tokio filled in
//! ([`TokioRuntime`]). `sse-smol` offers the same types under the same
//! names for smol.
//!
//! - [`EventReader`]: events out of an [`AsyncRead`](tokio::io::AsyncRead),
//!   borrowed (`next_event`, no allocation per event) or owned (a `Stream`).
//! - [`EventWriter`]: events, comments and retry hints into an
//!   [`AsyncWrite`](tokio::io::AsyncWrite).
//! - [`EventStream`]: events out of any `Stream` of byte chunks, such as an
//!   HTTP client's response body.
//! - [`EventCodec`]: the same as a `tokio_util::codec` pair.
//! - [`EventSource`] (feature `client`, on by default): an HTTP client that
//!   reconnects and resumes as [`sse_proto::Client`] decides, on tokio's TCP
//!   and timers.
//! - [`Publisher`]: the fan-out publisher of [`sse_proto::publisher`], the
//!   very same type in both adapters; [`server::SseBody`] (feature `server`,
//!   on by default) serves a [`Subscription`] as a streaming HTTP body with
//!   keep-alive comments on tokio's clock, and [`server::Events`] is a ready
//!   `GET /events?channel=..` endpoint over a publisher with an access hook.
//!   [`axum`] (feature `axum`) mounts it as a router.
//! - The `sse` command-line tool (feature `cli`).
//!
//! ```
//! use sse_proto::{Event, Frame};
//! use sse_tokio::{EventReader, EventWriter};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sse_tokio::Error> {
//! let (client, server) = tokio::io::duplex(64);
//! let mut writer = EventWriter::new(server);
//! writer.send(Event::new("hello")).await?;
//! drop(writer);
//! let mut reader = EventReader::new(client);
//! let Some(Ok(Frame::Event(event))) = reader.next_event().await else {
//!     panic!("expected an event");
//! };
//! assert_eq!(event.data(), "hello");
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `client` (default): [`EventSource`], over hyper (HTTP/1.1), plain `http`.
//! - `rustls`: `https` for [`EventSource`], through rustls (ring) with the
//!   system's root certificates.
//! - `http2`: HTTP/2 for [`EventSource`] over `https` (`h2` by ALPN, with
//!   HTTP/1.1 as the fallback).
//! - `reqwest`: [`reqwest`], the same client over the application's own
//!   `reqwest::Client` (reqwest 0.13), with reqwest-eventsource's names.
//! - `reqwest-012`: [`reqwest_012`], the same for reqwest 0.12.
//! - `server` (default): [`server`], the event stream as an HTTP response
//!   body, and the ready endpoint.
//! - `axum`: [`axum`], axum responses, the `LastEventId` extractor and
//!   `Events::router`.
//! - `durable`: [`durable`], the history and ids of one node kept in an
//!   embedded database across restarts (sse-hyper's `DurablePublisher`).
//! - `redis`: [`redis`], fan-out across several nodes through Redis Streams,
//!   with resume from `Last-Event-ID` on any node; `rediss://` (TLS) with
//!   `rustls` too.
//! - `cli`: the `sse` binary.
//!
//! Each turns on sse-hyper's feature of the same name (`redis` and `cli`
//! have none there: they are tokio-only).

mod codec;
mod rt;

/// The `http` crate, whose types the client's and the server's APIs use
/// (`StatusCode`, `HeaderMap`, `Uri`, `Method`, `request::Parts`).
#[cfg(any(feature = "client", feature = "server"))]
pub use sse_hyper::http;
pub use sse_proto as proto;

pub use codec::EventCodec;
pub use rt::TokioRuntime;
pub use sse_hyper::{Error, EventStream};
#[cfg(feature = "client")]
pub use sse_hyper::{FailedResponse, HyperTransport, SourceEvent, Transport};

pub use sse_proto::publisher::{self, Publisher, Subscription};

/// Events out of an [`AsyncRead`](tokio::io::AsyncRead), borrowed
/// (`next_event`) or owned (a `Stream`): [`sse_hyper::EventReader`] on
/// [`TokioRuntime`].
pub type EventReader<R> = sse_hyper::EventReader<R, TokioRuntime>;

/// Events, comments and retry hints into an
/// [`AsyncWrite`](tokio::io::AsyncWrite): [`sse_hyper::EventWriter`] on
/// [`TokioRuntime`].
pub type EventWriter<W> = sse_hyper::EventWriter<W, TokioRuntime>;

/// An HTTP client for event streams that reconnects on its own, as browsers
/// do, and resumes with `Last-Event-ID`: [`sse_hyper::EventSource`] on
/// [`TokioRuntime`].
#[cfg(feature = "client")]
pub type EventSource = sse_hyper::EventSource<TokioRuntime>;

/// Sets up an [`EventSource`]: [`sse_hyper::Builder`] on [`TokioRuntime`].
#[cfg(feature = "client")]
pub type Builder = sse_hyper::Builder<TokioRuntime>;

#[cfg(feature = "axum")]
pub mod axum;
/// The history and ids of one node kept in an embedded database across
/// restarts: sse-hyper's module of this name, whose `DurablePublisher` is a
/// back end for the hub and the endpoint.
#[cfg(feature = "durable")]
pub use sse_hyper::durable;
#[cfg(feature = "hub")]
pub mod hub;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "reqwest-012")]
pub mod reqwest_012;
#[cfg(feature = "server")]
pub mod server;
