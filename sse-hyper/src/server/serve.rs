//! [`serve`]: a hyper service on a runtime's listener, with the time limits
//! and caps a server on the open internet needs, until told to stop.
//!
//! The rules a connection must keep, their defaults and what happens
//! when it does not: [`ServeConfig`].
//!
//! A plain `GET` of the stream route
//! ([`serve_with_streams`](Server::serve_with_streams)) is answered on a
//! lean path: the server writes the stream itself, from a task that owns
//! only the socket, the subscription and a place on one keep-alive clock
//! shared by all streams, so that an idle stream costs no read buffer, no
//! timer of its own and no hyper connection. Every other request goes to
//! hyper.
//!
//! Request rules (body deadlines, tokens, names, per-client stream caps)
//! are the endpoint's: see [`hub`](crate::hub). An application that serves
//! the hub with its own server should set the same limits there: hyper's
//! `header_read_timeout` with a timer, `max_headers`, a write timeout on
//! its I/O, and a connection cap.

mod config;
mod connection;
mod head;
mod io;
mod route;
mod slots;
mod stream;
mod tick;
#[cfg(feature = "rustls")]
mod tls;

use core::time::Duration;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;
use http_body::Body;
use hyper::body::Incoming;
use hyper::rt::Executor;
use hyper::service::Service;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};

use crate::rt::{Runtime, Serve};

pub use config::{
    DEFAULT_HEAD_TIMEOUT, DEFAULT_HTTP2_PING, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_HEAD_BYTES,
    DEFAULT_MAX_HEADERS, DEFAULT_MAX_PENDING, DEFAULT_MAX_PENDING_PER_CLIENT,
    DEFAULT_MAX_STREAMS_PER_CONNECTION, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_WRITE_TIMEOUT,
    ServeConfig,
};
pub use route::StreamRoute;
pub use slots::{ConnectionHandle, ServeCounts, ServeStats};
#[cfg(feature = "rustls")]
pub use tls::{TlsConfigError, tls_config};

/// The address of the client a request came from, in the request's
/// extensions when [`serve`] accepted its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

/// A connection task, boxed for the executor.
pub type ConnectionTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server: [`ServeConfig`]'s rules and the [`ServeStats`] it keeps.
#[derive(Debug, Default)]
pub struct Server {
    config: ServeConfig,
    stats: Arc<ServeStats>,
}

/// Serves `service` on `listener` with the default [`ServeConfig`] until
/// `shutdown` resolves: [`Server::serve`].
pub async fn serve<R, S, B, E>(
    listener: R::Listener,
    service: S,
    executor: E,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    R: Serve,
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
{
    Server::new(ServeConfig::new())
        .serve::<R, _, _, _>(listener, service, executor, shutdown)
        .await
}

/// The stop signal for connections still reading their first head.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stopped: AtomicBool,
    event: Event,
}

impl Stop {
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    async fn wait(&self) {
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            let listener = self.event.listen();
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            listener.await;
        }
    }
}

/// Counts a connection open while it lives.
pub(crate) struct Open(Arc<ServeStats>);

impl Open {
    fn new(stats: &Arc<ServeStats>) -> Self {
        stats.open.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(stats))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Moves the keep-alive clock on every `period` until the server stops.
async fn ticker<R: Runtime>(tick: Arc<tick::Tick>, period: Duration) {
    while !tick.is_stopped() {
        R::sleep_until(crate::server::after(R::now(), period)).await;
        tick.advance();
    }
}

impl Server {
    /// A server with these rules.
    pub fn new(config: ServeConfig) -> Self {
        Self {
            config,
            stats: Arc::default(),
        }
    }

    /// The rules.
    pub fn config(&self) -> &ServeConfig {
        &self.config
    }

    /// What it has counted.
    pub fn stats(&self) -> &Arc<ServeStats> {
        &self.stats
    }

    /// Serves `service` on `listener` until `shutdown` resolves, each
    /// connection a task of `executor`, under the rules of its
    /// [`ServeConfig`]: HTTP/1.1, and HTTP/2 to clients that start with its
    /// preface. Each request carries its [`ClientAddr`] and its
    /// connection's [`ConnectionHandle`] in its extensions.
    ///
    /// When `shutdown` resolves it stops accepting, closes connections that
    /// are idle or still sending their first head, lets requests in flight
    /// finish within the shutdown timeout, and returns. Streams end when
    /// their source ends: close the publisher when `shutdown` fires (a
    /// hub's [`serve`](crate::hub::Hub::serve) does).
    pub async fn serve<R, S, B, E>(
        &self,
        listener: R::Listener,
        service: S,
        executor: E,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()>
    where
        R: Serve,
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
        E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
    {
        self.serve_with_streams::<R, _, _, _>(listener, service, None, executor, shutdown)
            .await
    }

    /// [`serve`](Self::serve), with the plain `GET`s of `streams` answered
    /// on the lean path: read and parsed by the server, and written by a
    /// small task that owns only the socket, the subscription and a place
    /// on one keep-alive clock shared by every stream (so an idle stream
    /// costs no read buffer, no timer and no hyper connection). A request
    /// with an `Origin` (CORS), a body, an upgrade or anything else unusual
    /// goes to `service` as usual.
    pub async fn serve_with_streams<R, S, B, E>(
        &self,
        listener: R::Listener,
        service: S,
        streams: Option<Arc<dyn StreamRoute<R>>>,
        executor: E,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()>
    where
        R: Serve,
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
        E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
    {
        let ctx = self.context::<R, _, _>(service, streams, executor);
        self.accept::<R, _>(listener, &ctx, shutdown, |ctx, stream, peer, watcher| {
            Box::pin(async move { ctx.serve(stream, peer, watcher).await })
        })
        .await
    }

    /// [`serve_with_streams`](Self::serve_with_streams) over TLS (features
    /// `server` and `rustls`): each connection's handshake within the head
    /// timeout, then HTTP/2 if the client chose it by ALPN (and
    /// [`ServeConfig::http2`] allows it), else HTTP/1.1 with the lean
    /// stream path. Build `tls` with [`tls_config`].
    #[cfg(feature = "rustls")]
    pub async fn serve_tls_with_streams<R, S, B, E>(
        &self,
        listener: R::Listener,
        tls: Arc<rustls::ServerConfig>,
        service: S,
        streams: Option<Arc<dyn StreamRoute<R>>>,
        executor: E,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()>
    where
        R: crate::rt::ServeTls,
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
        E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
    {
        let ctx = self.context::<R, _, _>(service, streams, executor);
        self.accept::<R, _>(
            listener,
            &ctx,
            shutdown,
            move |ctx, stream, peer, watcher| {
                let tls = Arc::clone(&tls);
                Box::pin(async move { ctx.serve_tls(stream, tls, peer, watcher).await })
            },
        )
        .await
    }

    fn context<R, S, E>(
        &self,
        service: S,
        streams: Option<Arc<dyn StreamRoute<R>>>,
        executor: E,
    ) -> Arc<connection::Ctx<R, S, E>>
    where
        R: Serve,
        E: Executor<ConnectionTask>,
    {
        let tick = Arc::new(tick::Tick::default());
        if let Some(interval) = streams.as_ref().and_then(|route| route.keep_alive()) {
            executor.execute(Box::pin(ticker::<R>(
                Arc::clone(&tick),
                tick::Tick::period(interval),
            )));
        }
        Arc::new(connection::Ctx {
            config: Arc::new(self.config.clone()),
            stats: Arc::clone(&self.stats),
            stop: Arc::new(Stop::default()),
            tick,
            service: std::sync::Mutex::new(service),
            streams,
            executor,
        })
    }

    /// The accept loop: gives each connection a pending slot (or closes it
    /// at once), runs `connection` for it as a task, and at shutdown stops
    /// the connections still reading a head, the keep-alive clock, and
    /// waits for the rest within the shutdown timeout.
    async fn accept<R, C>(
        &self,
        listener: R::Listener,
        ctx: &Arc<C>,
        shutdown: impl Future<Output = ()>,
        connection: impl Fn(Arc<C>, R::Stream, connection::Peer, Watcher) -> ConnectionTask,
    ) -> std::io::Result<()>
    where
        R: Serve,
        C: connection::Shared + Send + Sync + 'static,
    {
        let config = ctx.config();
        let slots = slots::Slots::new(
            Arc::clone(&self.stats),
            config.max_pending,
            config.max_pending_per_client,
        );
        let graceful = GracefulShutdown::new();
        let mut shutdown = core::pin::pin!(shutdown);
        loop {
            let accepted = {
                let accept = core::pin::pin!(R::accept(&listener));
                match first_of(accept, shutdown.as_mut()).await {
                    Some(accepted) => accepted,
                    None => break,
                }
            };
            let (stream, addr) = match accepted {
                Ok(accepted) => accepted,
                Err(error) if is_connection_error(&error) => continue,
                Err(_) => {
                    // Out of descriptors, say: wait before trying again
                    // rather than spin.
                    R::sleep_until(R::now() + Duration::from_secs(1)).await;
                    continue;
                }
            };
            ServeStats::count(&self.stats.accepted);
            let trusted = config
                .trusted_proxies
                .iter()
                .any(|proxy| proxy.contains(&addr.ip()));
            let client = (!trusted).then(|| addr.ip());
            let slot = match slots.take(client) {
                Ok(slot) => slot,
                Err(refused) => {
                    let counter = match refused {
                        slots::NoSlot::Full => &self.stats.refused_pending,
                        slots::NoSlot::Client => &self.stats.refused_client,
                    };
                    ServeStats::count(counter);
                    drop(stream);
                    continue;
                }
            };
            let peer = connection::Peer {
                addr,
                handle: ConnectionHandle::new(slot),
                open: Open::new(&self.stats),
            };
            ctx.spawn(connection(
                Arc::clone(ctx),
                stream,
                peer,
                graceful.watcher(),
            ));
        }
        drop(listener);
        ctx.stop();
        let drained = core::pin::pin!(graceful.shutdown());
        let deadline = R::sleep_until(crate::server::after(R::now(), config.shutdown_timeout));
        let _ = first_of(
            drained,
            core::pin::pin!(async move {
                deadline.await;
            }),
        )
        .await;
        Ok(())
    }
}

/// The first of `work` and `stop`: `Some` with `work`'s output, `None` when
/// `stop` finished first.
async fn first_of<T>(
    mut work: Pin<&mut impl Future<Output = T>>,
    mut stop: Pin<&mut impl Future<Output = ()>>,
) -> Option<T> {
    core::future::poll_fn(|cx| {
        if stop.as_mut().poll(cx).is_ready() {
            return core::task::Poll::Ready(None);
        }
        work.as_mut().poll(cx).map(Some)
    })
    .await
}

/// Errors of one connection that do not stop the listener.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
