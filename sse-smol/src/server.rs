//! The server side on smol: an event stream as a streaming HTTP response
//! body, a ready endpoint, and [`serve`], hyper on an
//! `async_net::TcpListener`.
//!
//! [`SseBody`] turns a [`Subscription`](crate::Subscription) (or any stream
//! of events) into an `http_body::Body`, so it works with hyper and with
//! every framework built on it: a `retry:` hint first, the chunks without
//! copying, and a keep-alive comment whenever the stream has been quiet for
//! the keep-alive interval (timed with `async_io::Timer`, on any executor).
//! [`Events`] is a ready `GET /events?channel=..` endpoint over a
//! [`Publisher`](crate::Publisher), with an access hook that can refuse a
//! request before the stream starts; [`Events::service`] mounts it as a
//! hyper service, and [`serve`] runs a service.
//!
//! These are sse-hyper's types ([`sse_hyper::server`]) on [`SmolRuntime`]:
//! their documentation is there.
//!
//! ```no_run
//! use std::sync::Arc;
//! use smol::{Executor, net::TcpListener};
//! use sse_smol::Publisher;
//! use sse_smol::server::{Events, serve};
//!
//! let publisher: Publisher = Publisher::new();
//! let executor = Arc::new(Executor::new());
//! smol::block_on(executor.run(async {
//!     let listener = TcpListener::bind("127.0.0.1:8000").await?;
//!     // GET /events?channel=..; publish from anywhere with `publisher.publish`.
//!     let service = Events::new(publisher.clone()).service();
//!     serve(&executor, listener, service, std::future::pending()).await
//! }))?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;

use async_executor::Executor;
use async_net::TcpListener;
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;

use crate::SmolRuntime;

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

/// An event stream as an HTTP response body, with keep-alive comments on
/// `async_io::Timer`: [`sse_hyper::server::SseBody`] on [`SmolRuntime`].
pub type SseBody = sse_hyper::server::SseBody<SmolRuntime>;

/// The ready `GET /events?channel=..` endpoint:
/// [`sse_hyper::server::Events`] on [`SmolRuntime`].
pub type Events<P> = sse_hyper::server::Events<P, SmolRuntime>;

/// [`Events`] as a hyper service, for [`serve`]:
/// [`sse_hyper::server::EventsService`] on [`SmolRuntime`].
pub type EventsService<P> = sse_hyper::server::EventsService<P, SmolRuntime>;

/// An [`Executor`] as hyper's: each task (a connection, an HTTP/2
/// stream) detached on it. For [`Hub::serve`](sse_hyper::hub::Hub::serve)
/// and [`sse_hyper::server::serve`]. The executor lives as long as its
/// tasks may (`'static`), shared.
#[derive(Clone, Debug)]
pub struct SmolExecutor(pub Arc<Executor<'static>>);

impl<F> hyper::rt::Executor<F> for SmolExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.spawn(future).detach();
    }
}

/// Serves `service` (such as [`Events::service`], or a hub's) on `listener`
/// until `shutdown` resolves (`std::future::pending()`: for ever), each
/// connection a task on `executor`; then stops accepting, lets each
/// connection finish the request it is on, and returns. Each request
/// carries its [`ClientAddr`]; Nagle's algorithm is off on every
/// connection: [`sse_hyper::server::serve`] on smol.
///
/// hyper reads request heads with a 30 s timeout (timed with
/// `async_io::Timer`); a connection that fails is dropped quietly. Accept
/// errors do not stop the loop: a failed handshake is skipped, anything else
/// (too many open files, say) retried after a second.
pub async fn serve<S, B>(
    executor: &Arc<Executor<'static>>,
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
    sse_hyper::server::serve::<SmolRuntime, _, _, _>(
        listener,
        service,
        SmolExecutor(Arc::clone(executor)),
        shutdown,
    )
    .await
}
