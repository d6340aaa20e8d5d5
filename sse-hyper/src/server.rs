//! The server side: an event stream as a streaming HTTP response body.
//!
//! [`SseBody`] turns a [`Subscription`](sse_proto::publisher::Subscription)
//! (or any [`Stream`](futures_core::Stream) of events) into an
//! [`http_body::Body`], so it works with hyper and with every framework built
//! on it. It sends a `retry:` hint first, then the stream's chunks as they
//! come, without copying them, and a keep-alive comment whenever the stream
//! has been quiet for the keep-alive interval (timed on the runtime `R`'s
//! clock), so proxies keep the connection open and a vanished client is
//! noticed. When the client goes away the body is dropped, and with it the
//! subscription, which unregisters at once.
//!
//! [`Events`] is a ready `GET /events?channel=..` endpoint over a
//! [`Publisher`](sse_proto::publisher::Publisher), with an access hook that
//! can refuse a request before the stream starts; [`Events::service`] mounts
//! it as a hyper service and, with the `axum` feature, `Events::router` as
//! an axum router.
//!
//! The adapters name these types with their runtime filled in
//! (`sse_tokio::server::SseBody`, `sse_smol::server::Events<P>`), and add
//! what is their runtime's own: `sse_smol::server::serve` runs hyper on
//! smol.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use sse_tokio::Publisher;
//! use sse_tokio::server::SseBody;
//!
//! # async fn handle(publisher: Publisher) -> Result<http::Response<SseBody>, Infallible> {
//! // In a hyper service:
//! let subscription = publisher.subscribe("news", (), []).expect("valid channel");
//! Ok(SseBody::new(subscription).response())
//! # }
//! ```

use core::time::Duration;
use std::time::Instant;

#[cfg(feature = "axum")]
mod axum;
mod backend;
mod body;
mod events;
mod id_prefix;
pub(crate) mod query;
mod serve;
mod service;
pub(crate) mod watch;

pub use backend::{Backend, BackendError, BackendFuture, BackendHealth, LinkHealth, PublishReply};
pub(crate) use body::{Source, keep_alive_chunk};
pub use body::{SseBody, headers};
pub use events::{EVENTS_PATH, Events, EventsBody, LastEventId, Refusal};
#[cfg(feature = "hub")]
pub(crate) use events::{Refused, channel_refusal};
pub use id_prefix::fresh_id_prefix;
/// rustls's server configuration, as [`tls_config`] builds it.
#[cfg(feature = "rustls")]
pub use rustls::ServerConfig as TlsServerConfig;
pub use serve::{
    ClientAddr, ConnectionHandle, ConnectionTask, DEFAULT_HEAD_TIMEOUT, DEFAULT_HTTP2_PING,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS, DEFAULT_MAX_PENDING,
    DEFAULT_MAX_PENDING_PER_CLIENT, DEFAULT_MAX_STREAMS_PER_CONNECTION, DEFAULT_SHUTDOWN_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT, ServeConfig, ServeCounts, ServeStats, Server, StreamRoute, serve,
};
#[cfg(feature = "rustls")]
pub use serve::{TlsConfigError, tls_config};
pub use service::EventsService;
pub use sse_proto::{DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME};

/// `now + by`, or far in the future when that does not fit in an
/// `Instant`: a keep-alive interval of `Duration::MAX` means never.
pub(crate) fn after(now: Instant, by: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(by)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}
