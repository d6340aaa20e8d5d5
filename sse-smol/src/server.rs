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
//!     serve(&executor, listener, Events::new(publisher.clone()).service()).await
//! }))?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use async_executor::Executor;
use async_io::Timer;
use async_net::TcpListener;
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use smol_hyper::rt::{FuturesIo, SmolTimer};

use crate::SmolRuntime;

pub use sse_hyper::server::{
    DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME, EVENTS_PATH, EventsBody, LastEventId, Refusal,
    SubscriptionFuture, SubscriptionSource, headers,
};

/// An event stream as an HTTP response body, with keep-alive comments on
/// `async_io::Timer`: [`sse_hyper::server::SseBody`] on [`SmolRuntime`].
pub type SseBody = sse_hyper::server::SseBody<SmolRuntime>;

/// The ready `GET /events?channel=..` endpoint:
/// [`sse_hyper::server::Events`] on [`SmolRuntime`].
pub type Events<P> = sse_hyper::server::Events<P, SmolRuntime>;

/// [`Events`] as a hyper service, for [`serve`]:
/// [`sse_hyper::server::EventsService`] on [`SmolRuntime`].
pub type EventsService<P> = sse_hyper::server::EventsService<P, SmolRuntime>;

/// Serves HTTP/1.1 on `listener` with `service` (such as
/// [`Events::service`]), each connection a task on `executor`, until the
/// returned future is dropped. Each request carries the peer's
/// [`SocketAddr`](std::net::SocketAddr) in its extensions (for an access
/// hook, say).
///
/// hyper reads request heads with a 30 s timeout (timed with
/// `async_io::Timer`); a connection that fails is dropped quietly. Accept
/// errors do not stop the loop: a failed handshake is skipped, anything else
/// (too many open files, say) retried after a second.
pub async fn serve<S, B>(
    executor: &Executor<'_>,
    listener: TcpListener,
    service: S,
) -> io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(_) => {
                Timer::after(Duration::from_secs(1)).await;
                continue;
            }
        };
        let service = service.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(peer);
            service.call(request)
        });
        executor
            .spawn(async move {
                let _ = http1::Builder::new()
                    .timer(SmolTimer::new())
                    .serve_connection(FuturesIo::new(stream), service)
                    .await;
            })
            .detach();
    }
}

/// Errors of one connection's handshake, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
