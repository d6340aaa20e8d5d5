//! One connection, over any I/O (a TCP stream, or TLS over one): its first
//! head, then the lean stream path, hyper's HTTP/1.1, or hyper's HTTP/2.

use core::pin::pin;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http_body::Body;
use hyper::body::Incoming;
use hyper::rt::{Executor, Read, Write};
use hyper::server::conn::{http1, http2};
use hyper::service::Service;
use hyper_util::server::graceful::Watcher;

use super::config::DEFAULT_HTTP2_PING;
use super::slots::{ConnectionHandle, ServeStats};
use super::tick::Tick;
use super::{ConnectionTask, Open, ServeConfig, Stop, StreamRoute, first_of, head, io, stream};
use crate::rt::Serve;
use crate::server::{ClientAddr, after};

/// The preface an HTTP/2 client starts with (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// What every connection of one server shares.
pub(super) struct Ctx<R: Serve, S, E> {
    pub(super) config: Arc<ServeConfig>,
    pub(super) stats: Arc<ServeStats>,
    pub(super) stop: Arc<Stop>,
    pub(super) tick: Arc<Tick>,
    /// Cloned for each connection; behind a lock only so that a service
    /// need not be `Sync`.
    pub(super) service: std::sync::Mutex<S>,
    pub(super) streams: Option<Arc<dyn StreamRoute<R>>>,
    pub(super) executor: E,
}

/// Who a connection is; it counts as open while this lives.
pub(super) struct Peer {
    pub(super) addr: SocketAddr,
    pub(super) handle: ConnectionHandle,
    pub(super) open: Open,
}

/// The executor as hyper's HTTP/2 connections need it: for any task.
#[derive(Clone)]
pub(super) struct Spawn<E>(pub(super) E);

impl<E, F> Executor<F> for Spawn<E>
where
    E: Executor<ConnectionTask>,
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.execute(Box::pin(future));
    }
}

/// Waits for `work` until `deadline` or the server's stop: `None` then.
pub(super) async fn before<R: Serve, T>(
    work: impl Future<Output = T>,
    deadline: Instant,
    stop: &Stop,
) -> Option<T> {
    let work = pin!(work);
    let sleep = R::sleep_until(deadline);
    let stopped = pin!(stop.wait());
    let cut = pin!(async move {
        let _ = first_of(
            pin!(async move {
                sleep.await;
            }),
            stopped,
        )
        .await;
    });
    first_of(work, cut).await
}

impl<R, S, B, E> Ctx<R, S, E>
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
    /// Serves a connection from its first byte: its first head within the
    /// head timeout, then the right path for it.
    pub(super) async fn serve<Io>(&self, mut io: Io, peer: Peer, watcher: Watcher)
    where
        Io: Read + Write + Send + Unpin + 'static,
    {
        let deadline = after(R::now(), self.config.head_timeout);
        let read = before::<R, _>(head::read(&mut io, &self.config), deadline, &self.stop).await;
        let head = match read.unwrap_or(Err(head::NoHead::TimedOut)) {
            Ok(head) => head,
            Err(head::NoHead::Refused(status, message)) => {
                ServeStats::count(&self.stats.bad_heads);
                let deadline = after(R::now(), self.config.write_timeout);
                let _ =
                    before::<R, _>(head::refuse(&mut io, status, message), deadline, &self.stop)
                        .await;
                return;
            }
            Err(head::NoHead::TimedOut) => {
                if !self.stop.stopped.load(Ordering::SeqCst) {
                    ServeStats::count(&self.stats.head_timeouts);
                }
                return;
            }
            Err(head::NoHead::Closed) => return,
        };
        if head.starts_with(H2_PREFACE) {
            if self.config.http2 {
                self.http2(io, head, peer, watcher).await;
            }
            return;
        }
        let lean = self.streams.as_ref().and_then(|route| {
            stream::stream_request(&head, route.path(), self.config.max_headers)
                .map(|parts| (route, parts))
        });
        if let Some((route, mut parts)) = lean {
            parts.extensions.insert(ClientAddr(peer.addr));
            parts.extensions.insert(peer.handle);
            let mut io = self.io(io, Bytes::new());
            match route.open(&parts).await {
                Ok(body) => {
                    // The stream runs as a task of its own, as small as
                    // what it holds: this connection task (sized for
                    // hyper's connections and the head read) ends here.
                    let tick = Arc::clone(&self.tick);
                    let guard = (peer.open, watcher);
                    let task = stream::StreamTask::new(io, body, tick, guard);
                    self.executor.execute(Box::pin(task));
                }
                Err(refusal) => stream::refuse(&mut io, refusal).await,
            }
            return;
        }
        self.http1(io, head, peer, watcher).await;
    }

    /// The connection's I/O with the write timeout, `read` put back first.
    fn io<Io>(&self, io: Io, read: Bytes) -> io::Conn<Io, R> {
        io::Conn::new(io, read, self.config.write_timeout, Arc::clone(&self.stats))
    }

    /// The service, with each request's [`ClientAddr`] and
    /// [`ConnectionHandle`] in its extensions.
    fn service(
        &self,
        peer: Peer,
    ) -> impl Service<
        http::Request<Incoming>,
        Response = http::Response<B>,
        Error = S::Error,
        Future = S::Future,
    > + Clone
    + Send
    + 'static {
        let service = self
            .service
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ClientAddr(peer.addr));
            request.extensions_mut().insert(peer.handle.clone());
            service.call(request)
        })
    }

    /// HTTP/1.1 through hyper, the head already read put back in front.
    async fn http1<Io>(&self, io: Io, head: Bytes, peer: Peer, watcher: Watcher)
    where
        Io: Read + Write + Send + Unpin + 'static,
    {
        let io = self.io(io, head);
        let mut builder = http1::Builder::new();
        builder
            .timer(R::timer())
            .header_read_timeout(self.config.idle_timeout)
            .max_buf_size(self.config.max_head_bytes.max(8192))
            .max_headers(self.config.max_headers);
        let connection = builder.serve_connection(io, self.service(peer));
        let _ = watcher.watch(connection).await;
    }

    /// HTTP/2 through hyper (over TLS by ALPN, or in cleartext after its
    /// preface): many streams share the connection, pinged so that a
    /// vanished peer is noticed.
    pub(super) async fn http2<Io>(&self, io: Io, read: Bytes, peer: Peer, watcher: Watcher)
    where
        Io: Read + Write + Send + Unpin + 'static,
    {
        let io = self.io(io, read);
        let mut builder = http2::Builder::new(Spawn(self.executor.clone()));
        builder
            .timer(R::timer())
            .keep_alive_interval(DEFAULT_HTTP2_PING)
            .keep_alive_timeout(DEFAULT_HTTP2_PING)
            .max_concurrent_streams(self.config.max_streams_per_connection)
            .max_header_list_size(u32::try_from(self.config.max_head_bytes).unwrap_or(u32::MAX));
        let connection = builder.serve_connection(io, self.service(peer));
        let _ = watcher.watch(connection).await;
    }
}

/// What the accept loop needs of a connection context, whatever its
/// service and executor.
pub(super) trait Shared {
    /// The rules.
    fn config(&self) -> &ServeConfig;
    /// Runs a connection task.
    fn spawn(&self, task: ConnectionTask);
    /// Stops the connections still reading a head, and the keep-alive
    /// clock.
    fn stop(&self);
}

impl<R: Serve, S, E: Executor<ConnectionTask>> Shared for Ctx<R, S, E> {
    fn config(&self) -> &ServeConfig {
        &self.config
    }

    fn spawn(&self, task: ConnectionTask) {
        self.executor.execute(task);
    }

    fn stop(&self) {
        self.stop.stop();
        self.tick.stop();
    }
}
