//! Server-Sent Events on smol: the `sse-proto` core bound to futures-io and
//! async-io.
//!
//! This crate moves bytes, arms timers and wakes tasks; every protocol rule
//! lives in [`sse_proto`], which it re-exports, and everything that does not
//! depend on the runtime (the client, the readers and writers, the server
//! side) in [`sse_hyper`], whose types it names with smol filled in
//! ([`SmolRuntime`]). `sse-tokio` offers the same types under the same
//! names for tokio.
//!
//! - [`EventReader`]: events out of an [`AsyncRead`](futures_io::AsyncRead),
//!   borrowed (`next_event`, no allocation per event) or owned (a `Stream`).
//! - [`EventWriter`]: events, comments and retry hints into an
//!   [`AsyncWrite`](futures_io::AsyncWrite).
//! - [`EventStream`]: events out of any `Stream` of byte chunks, such as an
//!   HTTP client's response body.
//! - [`EventSource`] (feature `client`, on by default): an HTTP client that
//!   reconnects and resumes as [`sse_proto::Client`] decides. It runs on any
//!   executor (async-net's TCP, async-io's timers).
//! - [`Publisher`]: the fan-out publisher of [`sse_proto::publisher`], the
//!   very same type in both adapters; [`server::SseBody`] (feature `server`,
//!   on by default) serves a [`Subscription`] as a streaming HTTP body with
//!   keep-alive comments, and [`server::Events`] is a ready `GET
//!   /events?channel=..` endpoint over a publisher with an access hook.
//!   [`server::serve`] runs hyper on an `async_net::TcpListener`.
//!
//! ```
//! use sse_proto::{Event, Frame};
//! use sse_smol::{EventReader, EventWriter};
//!
//! # fn main() -> Result<(), sse_smol::Error> { smol::block_on(async {
//! let mut writer = EventWriter::new(Vec::new());
//! writer.send(Event::new("hello")).await?;
//! let bytes = writer.into_inner();
//! let mut reader = EventReader::new(&bytes[..]);
//! let Some(Ok(Frame::Event(event))) = reader.next_event().await else {
//!     panic!("expected an event");
//! };
//! assert_eq!(event.data(), "hello");
//! # Ok(())
//! # }) }
//! ```
//!
//! # Features
//!
//! - `client` (default): [`EventSource`], over hyper (HTTP/1.1), plain `http`.
//! - `rustls`: `https` for [`EventSource`], through rustls (ring) with the
//!   system's root certificates.
//! - `http2`: HTTP/2 for [`EventSource`] over `https` (`h2` by ALPN, with
//!   HTTP/1.1 as the fallback).
//! - `server` (default): [`server`], the event stream as an HTTP response
//!   body, the ready endpoint, and [`serve`](server::serve).
//! - `durable`: [`durable`], the history and ids of one node kept in an
//!   embedded database across restarts (sse-hyper's `DurablePublisher`).
//!
//! Each turns on sse-hyper's feature of the same name.

mod rt;

/// The `http` crate, whose types the client's and the server's APIs use
/// (`StatusCode`, `HeaderMap`, `Uri`, `Method`, `request::Parts`).
#[cfg(any(feature = "client", feature = "server"))]
pub use sse_hyper::http;
pub use sse_proto as proto;

pub use rt::SmolRuntime;
pub use sse_hyper::{Error, EventStream};
#[cfg(feature = "client")]
pub use sse_hyper::{FailedResponse, HyperTransport, SourceEvent, Transport};

pub use sse_proto::publisher::{self, Publisher, Subscription};

/// Events out of an [`AsyncRead`](futures_io::AsyncRead), borrowed
/// (`next_event`) or owned (a `Stream`): [`sse_hyper::EventReader`] on
/// [`SmolRuntime`].
pub type EventReader<R> = sse_hyper::EventReader<R, SmolRuntime>;

/// Events, comments and retry hints into an
/// [`AsyncWrite`](futures_io::AsyncWrite): [`sse_hyper::EventWriter`] on
/// [`SmolRuntime`].
pub type EventWriter<W> = sse_hyper::EventWriter<W, SmolRuntime>;

/// An HTTP client for event streams that reconnects on its own, as browsers
/// do, and resumes with `Last-Event-ID`: [`sse_hyper::EventSource`] on
/// [`SmolRuntime`].
#[cfg(feature = "client")]
pub type EventSource = sse_hyper::EventSource<SmolRuntime>;

/// Sets up an [`EventSource`]: [`sse_hyper::Builder`] on [`SmolRuntime`].
#[cfg(feature = "client")]
pub type Builder = sse_hyper::Builder<SmolRuntime>;

/// The history and ids of one node kept in an embedded database across
/// restarts: sse-hyper's module of this name, whose `DurablePublisher` is a
/// back end for the hub and the endpoint.
#[cfg(feature = "durable")]
pub use sse_hyper::durable;
#[cfg(feature = "hub")]
pub mod hub;
#[cfg(feature = "server")]
pub mod server;

/// This crate's README: its examples compile as doctests, so it cannot drift
/// from the code (the server is `no_run`; the readers and writers run).
#[cfg(all(doctest, feature = "hub"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
