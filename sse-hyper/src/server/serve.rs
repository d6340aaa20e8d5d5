//! [`serve`]: a hyper service on a runtime's listener, with the time limits
//! and caps a server on the open internet needs, until told to stop.
//!
//! What a connection may do, and what happens when it does not:
//!
//! | rule | default | when broken |
//! |---|---|---|
//! | the first request head arrives within the head timeout of the accept | 10 s | closed |
//! | a request head is at most so many bytes and header fields | 16 KiB, 64 | `431`, closed |
//! | no `Content-Length` together with `Transfer-Encoding` | | `400`, closed |
//! | a keep-alive connection sends its next head within the idle timeout | 60 s | closed |
//! | the client takes what is written within the write timeout | 30 s | closed (a stalled subscriber) |
//! | connections that are not streams yet ("pending") are capped in all, and per client address | 1024, 64 | closed at once |
//! | at shutdown, requests in flight finish within the shutdown timeout | 5 s | cut |
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

mod head;
mod io;
mod route;
mod slots;
mod stream;
mod tick;

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
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::server::graceful::GracefulShutdown;
use ipnet::IpNet;

use crate::rt::{Runtime, Serve};

pub use route::StreamRoute;
pub use slots::{ConnectionHandle, ServeCounts, ServeStats};

/// How long the first request head may take to arrive, from the accept.
pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a keep-alive connection may wait for its next request.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take nothing of what is written to it.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request head, in bytes.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header fields in a request head.
pub const DEFAULT_MAX_HEADERS: usize = 64;
/// The most connections that are not streams, in all.
pub const DEFAULT_MAX_PENDING: usize = 1024;
/// The most connections that are not streams, per client address.
pub const DEFAULT_MAX_PENDING_PER_CLIENT: usize = 64;
/// How long requests in flight may take to finish at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The address of the client a request came from, in the request's
/// extensions when [`serve`] accepted its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

/// A connection task, boxed for the executor.
pub type ConnectionTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The connection rules of [`Server`]: see the module `server::serve` for what
/// each does and its default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    head_timeout: Duration,
    idle_timeout: Duration,
    write_timeout: Duration,
    max_head_bytes: usize,
    max_headers: usize,
    max_pending: usize,
    max_pending_per_client: usize,
    shutdown_timeout: Duration,
    trusted_proxies: Vec<IpNet>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ServeConfig {
    /// The defaults (`DEFAULT_*`).
    pub fn new() -> Self {
        Self {
            head_timeout: DEFAULT_HEAD_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_pending: DEFAULT_MAX_PENDING,
            max_pending_per_client: DEFAULT_MAX_PENDING_PER_CLIENT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            trusted_proxies: Vec::new(),
        }
    }

    /// How long the first request head may take, from the accept.
    pub fn with_head_timeout(mut self, timeout: Duration) -> Self {
        self.head_timeout = timeout;
        self
    }

    /// How long a keep-alive connection may wait for its next request.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a client may take nothing of what is written to it.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The largest request head, in bytes (at least 1 KiB).
    pub fn with_max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes.max(1024);
        self
    }

    /// The most header fields in a request head (at least 1).
    pub fn with_max_headers(mut self, fields: usize) -> Self {
        self.max_headers = fields.max(1);
        self
    }

    /// The most connections that are not streams, in all.
    pub fn with_max_pending(mut self, connections: usize) -> Self {
        self.max_pending = connections;
        self
    }

    /// The most connections that are not streams, per client address
    /// (trusted proxies excepted).
    pub fn with_max_pending_per_client(mut self, connections: usize) -> Self {
        self.max_pending_per_client = connections;
        self
    }

    /// How long requests in flight may take to finish at shutdown.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Addresses of proxies in front of the server: their connections are
    /// not capped per client address (they carry many clients).
    pub fn with_trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// The head timeout.
    pub fn head_timeout(&self) -> Duration {
        self.head_timeout
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// The largest request head.
    pub fn max_head_bytes(&self) -> usize {
        self.max_head_bytes
    }

    /// The most header fields.
    pub fn max_headers(&self) -> usize {
        self.max_headers
    }

    /// The pending cap.
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// The pending cap per client.
    pub fn max_pending_per_client(&self) -> usize {
        self.max_pending_per_client
    }

    /// The shutdown timeout.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// The trusted proxies.
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }
}

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
    E: Executor<ConnectionTask>,
{
    Server::new(ServeConfig::new())
        .serve::<R, _, _, _>(listener, service, executor, shutdown)
        .await
}

/// The stop signal for connections still reading their first head.
#[derive(Debug, Default)]
struct Stop {
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
struct Open(Arc<ServeStats>);

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

    /// Serves `service` on `listener` (HTTP/1.1) until `shutdown` resolves,
    /// each connection a task of `executor`, under the rules of its
    /// [`ServeConfig`]. Each request carries its [`ClientAddr`] and its
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
        E: Executor<ConnectionTask>,
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
        E: Executor<ConnectionTask>,
    {
        let tick = Arc::new(tick::Tick::default());
        if let Some(interval) = streams.as_ref().and_then(|route| route.keep_alive()) {
            executor.execute(Box::pin(ticker::<R>(
                Arc::clone(&tick),
                tick::Tick::period(interval),
            )));
        }
        let config = Arc::new(self.config.clone());
        let slots = slots::Slots::new(
            Arc::clone(&self.stats),
            config.max_pending,
            config.max_pending_per_client,
        );
        let stop = Arc::new(Stop::default());
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
            let (stream, peer) = match accepted {
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
                .any(|proxy| proxy.contains(&peer.ip()));
            let client = (!trusted).then(|| peer.ip());
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
            let task = connection::<R, _, _>(
                Accepted {
                    stream,
                    peer,
                    handle: ConnectionHandle::new(slot),
                },
                service.clone(),
                streams.clone(),
                Shared {
                    config: Arc::clone(&config),
                    stats: Arc::clone(&self.stats),
                    stop: Arc::clone(&stop),
                    tick: Arc::clone(&tick),
                },
                graceful.watcher(),
            );
            executor.execute(Box::pin(task));
        }
        drop(listener);
        stop.stop();
        // The keep-alive clock stops with the server.
        tick.stop();
        let drained = core::pin::pin!(graceful.shutdown());
        let deadline = core::pin::pin!(R::sleep_until(crate::server::after(
            R::now(),
            config.shutdown_timeout
        )));
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

/// A connection just accepted.
struct Accepted<St> {
    stream: St,
    peer: SocketAddr,
    handle: ConnectionHandle,
}

/// What every connection task of one server shares.
struct Shared {
    config: Arc<ServeConfig>,
    stats: Arc<ServeStats>,
    stop: Arc<Stop>,
    tick: Arc<tick::Tick>,
}

/// Moves the keep-alive clock on every `period` until the server stops.
async fn ticker<R: Runtime>(tick: Arc<tick::Tick>, period: Duration) {
    while !tick.is_stopped() {
        R::sleep_until(crate::server::after(R::now(), period)).await;
        tick.advance();
    }
}

/// One connection: its first head, then the lean stream path or hyper.
async fn connection<R, S, B>(
    accepted: Accepted<R::Stream>,
    service: S,
    streams: Option<Arc<dyn StreamRoute<R>>>,
    shared: Shared,
    watcher: hyper_util::server::graceful::Watcher,
) where
    R: Serve,
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let Accepted {
        mut stream,
        peer,
        handle,
    } = accepted;
    let Shared {
        config,
        stats,
        stop,
        tick,
    } = shared;
    let _open = Open::new(&stats);
    let head = {
        let read = core::pin::pin!(head::read(&mut stream, &config));
        let deadline = R::sleep_until(crate::server::after(R::now(), config.head_timeout));
        let stopped = core::pin::pin!(stop.wait());
        let timed_out = async move {
            deadline.await;
        };
        let cut = core::pin::pin!(async move {
            let _ = first_of(core::pin::pin!(timed_out), stopped).await;
        });
        match first_of(read, cut).await {
            Some(head) => head,
            None => Err(head::NoHead::TimedOut),
        }
    };
    let head = match head {
        Ok(head) => head,
        Err(head::NoHead::Refused(status, message)) => {
            ServeStats::count(&stats.bad_heads);
            let refuse = core::pin::pin!(head::refuse(&mut stream, status, message));
            let deadline = R::sleep_until(crate::server::after(R::now(), config.write_timeout));
            let _ = first_of(
                refuse,
                core::pin::pin!(async move {
                    deadline.await;
                }),
            )
            .await;
            return;
        }
        Err(head::NoHead::TimedOut) => {
            if !stop.stopped.load(Ordering::SeqCst) {
                ServeStats::count(&stats.head_timeouts);
            }
            return;
        }
        Err(head::NoHead::Closed) => return,
    };
    let lean = streams.as_ref().and_then(|route| {
        stream::stream_request(&head, route.path(), config.max_headers).map(|parts| (route, parts))
    });
    if let Some((route, mut parts)) = lean {
        parts.extensions.insert(ClientAddr(peer));
        parts.extensions.insert(handle);
        let mut io = io::Conn::<_, R>::new(
            stream,
            bytes::Bytes::new(),
            config.write_timeout,
            Arc::clone(&stats),
        );
        match route.open(&parts).await {
            Ok(body) => {
                drop(parts);
                stream::run(io, body, &tick).await;
            }
            Err(refusal) => stream::refuse(&mut io, refusal).await,
        }
        drop(watcher);
        return;
    }
    let io = io::Conn::<_, R>::new(stream, head, config.write_timeout, Arc::clone(&stats));
    let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ClientAddr(peer));
        request.extensions_mut().insert(handle.clone());
        service.call(request)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(R::timer())
        .header_read_timeout(config.idle_timeout)
        .max_buf_size(config.max_head_bytes.max(8192))
        .max_headers(config.max_headers);
    let connection = builder.serve_connection(io, service);
    let _ = watcher.watch(connection).await;
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
