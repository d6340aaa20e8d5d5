//! Server-Sent Events over hyper, on any runtime: everything the adapters
//! share, written once.
//!
//! Most users never name this crate. They depend on an adapter, `sse-tokio`
//! or `sse-smol`, which re-exports these types under the same names with
//! its runtime filled in (`sse_tokio::EventSource` is
//! `sse_hyper::EventSource<TokioRuntime>`), so switching runtime is
//! changing one import. Depend on this crate to write code for both
//! runtimes, or to add a runtime.
//!
//! What is here: the [`EventSource`] client (hyper, HTTP/1.1 and HTTP/2,
//! rustls configuration, or any other HTTP client as a [`Transport`]), [`EventReader`] and [`EventWriter`] over a runtime's own
//! readers and writers, [`EventStream`] over any stream of byte chunks, the
//! [`server`] side ([`SseBody`](server::SseBody), the
//! [`Events`](server::Events) endpoint, axum glue), one [`Error`], and
//! [`rt`], the traits a runtime implements.
//!
//! What is not: protocol rules (they are [`sse_proto`]'s, which this crate
//! drives and re-exports as [`proto`]), and any runtime. This crate depends
//! on no executor, reactor or timer: the runtime comes in through [`rt`],
//! implemented by an adapter for a marker type, and nothing is spawned (the
//! client's connection is driven inside its `poll_next`, a body inside
//! hyper's).
//!
//! ```text
//!  the runtime's            this crate                 sse_proto
//!  TCP, TLS, timer ──▶ rt::Connect, rt::Runtime ──▶ EventSource ──▶ Client, Decoder
//!  AsyncRead/Write ──▶ rt::Reads, rt::Writes    ──▶ EventReader / EventWriter
//!  any byte stream ─────────────────────────────▶ EventStream
//!  Publisher ──▶ SseBody (keep-alive on rt::Runtime) ──▶ http_body::Body ──▶ hyper, axum
//! ```
//!
//! Code written once for every runtime names the runtime as a parameter:
//!
//! ```
//! use futures_lite::StreamExt;
//! use sse_hyper::rt::Reads;
//! use sse_hyper::{Error, EventReader};
//! use sse_proto::FrameBuf;
//!
//! /// The data of every event, from any reader of any runtime.
//! async fn all_data<R: Unpin, Rt: Reads<R>>(
//!     reader: EventReader<R, Rt>,
//! ) -> Result<Vec<String>, Error> {
//!     let frames: Vec<FrameBuf> = reader.try_collect().await?;
//!     let data = frames.into_iter().filter_map(|frame| match frame {
//!         FrameBuf::Event(event) => Some(event.data().to_owned()),
//!         _ => None,
//!     });
//!     Ok(data.collect())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! // On tokio, through the adapter: EventReader<&[u8], TokioRuntime>.
//! let input: &[u8] = b"data: one\n\ndata: two\n\n";
//! let data = all_data(sse_tokio::EventReader::new(input)).await?;
//! assert_eq!(data, ["one", "two"]);
//! # Ok(())
//! # }
//! ```
//!
//! # Adding a runtime
//!
//! Declare a marker (`pub enum MyRuntime {}`), implement [`rt::Runtime`]
//! (its clock and a timer), [`rt::Connect`] (TCP, and TLS over it, for the
//! client), and [`rt::Reads`] and [`rt::Writes`] for its I/O traits, then
//! name the types with it: `pub type EventSource =
//! sse_hyper::EventSource<MyRuntime>;`. `sse-smol`'s `rt.rs` is the
//! example: about a hundred lines.
//!
//! # Features
//!
//! The adapters turn these on from their features of the same names.
//!
//! - `client` (default): [`EventSource`], [`Builder`], [`SourceEvent`],
//!   [`FailedResponse`], [`Transport`] (another HTTP client can carry the
//!   requests) with [`HyperTransport`], and [`rt::Connect`]; hyper's
//!   HTTP/1.1 client.
//! - `rustls`: `https` for [`EventSource`]: the rustls configuration (ring,
//!   the system's root certificates and any added) and [`Error::Tls`]; the
//!   handshake is the runtime's ([`rt::Connect::connect_tls`]).
//! - `http2`: HTTP/2 for [`EventSource`] over `https`: `h2` offered by ALPN
//!   and spoken where the server picks it ([`rt::Connect::alpn_protocol`]),
//!   HTTP/1.1 otherwise; hyper's HTTP/2 client, driven inside the source's
//!   `poll_next` like the HTTP/1.1 one (its tasks are polled there, not
//!   spawned).
//! - `server` (default): [`server`]: [`SseBody`](server::SseBody), the
//!   response headers, the [`Events`](server::Events) endpoint and its
//!   hyper service.
//! - `axum`: axum responses for the server types, the
//!   [`LastEventId`](server::LastEventId) extractor and `Events::router`
//!   (axum without its `tokio` feature: no runtime).
//! - `hub`: the hub of `sse serve` as a library (`hub`).
//! - `durable`: `durable::DurablePublisher`, a back end that keeps the
//!   history and ids in an embedded database (redb) across restarts.
//!
//! Without features: [`EventReader`], [`EventWriter`], [`EventStream`] and
//! [`Error`], and no hyper.

#[cfg(feature = "durable")]
pub mod durable;
mod error;
#[cfg(feature = "client")]
mod event_source;
#[cfg(feature = "client")]
mod failed;
#[cfg(feature = "hub")]
pub mod hub;
mod pump;
mod reader;
pub mod rt;
#[cfg(feature = "server")]
pub mod server;
mod stream;
mod writer;

use sse_proto::{DEFAULT_MAX_EVENT_LEN, Decoder, GrowableBuf, Limits};

/// The `http` crate, whose types the client's and the server's APIs use
/// (`StatusCode`, `HeaderMap`, `Uri`, `Method`, `request::Parts`).
#[cfg(any(feature = "client", feature = "server"))]
pub use http;
pub use sse_proto as proto;

pub use error::Error;
#[cfg(feature = "client")]
pub use event_source::{Builder, EventSource, HyperBody, HyperTransport, SourceEvent, Transport};
#[cfg(feature = "client")]
pub use failed::FailedResponse;
pub use reader::EventReader;
pub use stream::EventStream;
pub use writer::EventWriter;

/// The decoder the readers, [`EventStream`] and the client use unless given
/// another: default [`Limits`] (ids up to 256 bytes, event types up to 128,
/// comments not reported) and events of up to
/// [`DEFAULT_MAX_EVENT_LEN`] (16 MiB) bytes of data. Its buffer (a
/// [`GrowableBuf`]) starts with room for 4 KiB of
/// data and grows only while an event needs more, then shrinks back.
pub fn default_decoder() -> Decoder<GrowableBuf> {
    Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new())
}

/// This crate's README: its examples compile as doctests, so it cannot drift
/// from the code (the one that needs a server is `no_run`).
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
