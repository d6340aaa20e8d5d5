//! The server side on tokio: an event stream as a streaming HTTP response
//! body, and a ready endpoint.
//!
//! [`SseBody`] turns a [`Subscription`](crate::Subscription) (or any stream
//! of events) into an `http_body::Body`, so it works with hyper and with
//! every framework built on it: a `retry:` hint first, the chunks without
//! copying, and a keep-alive comment whenever the stream has been quiet for
//! the keep-alive interval (timed with `tokio::time`, so it needs a tokio
//! runtime with the time driver enabled). [`Events`] is a ready `GET
//! /events?channel=..` endpoint over a [`Publisher`](crate::Publisher),
//! with an access hook that can refuse a request before the stream starts;
//! mount it with [`Events::service`] in hyper, or with the `axum` feature
//! as a router (see [`axum`](crate::axum)); [`serve`] runs a service on a
//! tokio listener.
//!
//! These are sse-hyper's types ([`sse_hyper::server`]) on
//! [`TokioRuntime`]: their documentation is there.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use sse_tokio::Publisher;
//! use sse_tokio::server::SseBody;
//!
//! # async fn handle(publisher: Publisher) -> Result<sse_tokio::http::Response<SseBody>, Infallible> {
//! // In a hyper service:
//! let subscription = publisher.subscribe("news", (), []).expect("valid channel");
//! Ok(SseBody::new(subscription).response())
//! # }
//! ```

pub use hyper_util::rt::TokioExecutor;
/// rustls's server configuration, as [`tls_config`] builds it.
#[cfg(feature = "rustls")]
pub use sse_hyper::server::TlsServerConfig;
pub use sse_hyper::server::{
    Backend, BackendError, BackendFuture, BackendHealth, ClientAddr, ConnectionHandle,
    ConnectionTask, DEFAULT_HEAD_TIMEOUT, DEFAULT_HTTP2_PING, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_KEEP_ALIVE, DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS, DEFAULT_MAX_PENDING,
    DEFAULT_MAX_PENDING_PER_CLIENT, DEFAULT_MAX_STREAMS_PER_CONNECTION, DEFAULT_RECONNECTION_TIME,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_WRITE_TIMEOUT, EVENTS_PATH, EventsBody, LastEventId,
    LinkHealth, PublishReply, Refusal, ServeConfig, ServeCounts, ServeStats, Server,
    fresh_id_prefix, headers,
};
/// What a TLS server configuration is built from, and its errors (features
/// `server` and `rustls`).
#[cfg(feature = "rustls")]
pub use sse_hyper::server::{TlsConfigError, tls_config};

use std::error::Error as StdError;
use std::io;

use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use sse_hyper::http;
use tokio::net::TcpListener;

use crate::TokioRuntime;

/// Serves `service` (such as [`Events::service`], or a hub's) on `listener`
/// until `shutdown` resolves, each connection a tokio task; then stops
/// accepting, lets each connection finish the request it is on, and
/// returns. Each request carries its [`ClientAddr`]; Nagle's algorithm is
/// off on every connection: [`sse_hyper::server::serve`] on tokio.
///
/// Streams end when their source ends: to stop a server of event streams,
/// close its publisher when `shutdown` fires (a hub's
/// [`serve`](sse_hyper::hub::Hub::serve) does).
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    sse_hyper::server::serve::<TokioRuntime, _, _, _>(
        listener,
        service,
        TokioExecutor::new(),
        shutdown,
    )
    .await
}

/// An event stream as an HTTP response body, with keep-alive comments on
/// tokio's clock: [`sse_hyper::server::SseBody`] on [`TokioRuntime`].
pub type SseBody = sse_hyper::server::SseBody<TokioRuntime>;

/// The ready `GET /events?channel=..` endpoint:
/// [`sse_hyper::server::Events`] on [`TokioRuntime`].
pub type Events<P> = sse_hyper::server::Events<P, TokioRuntime>;

/// [`Events`] as a hyper service: [`sse_hyper::server::EventsService`] on
/// [`TokioRuntime`].
pub type EventsService<P> = sse_hyper::server::EventsService<P, TokioRuntime>;
