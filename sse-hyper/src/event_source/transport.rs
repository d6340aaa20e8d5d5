//! [`Transport`]: how an `EventSource` sends its requests, and
//! [`HyperTransport`], this crate's own: hyper over the runtime's TCP and
//! TLS ([`Connect`]), HTTP/1.1, or HTTP/2 when the server picks `h2` by
//! ALPN (feature `http2`).
//!
//! A transport only carries bytes: the connection model decides what to
//! request, how to read each response and when to reconnect, and the
//! `EventSource` follows the model's redirects, whatever the transport.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;

use super::io::{Connector, Io};
use super::request::Target;
use crate::Error;
use crate::rt::Connect;

/// How an [`EventSource`](crate::EventSource) sends a request and gets a
/// response: this crate's [`HyperTransport`], or another HTTP client
/// (sse-tokio's `reqwest` feature plugs in a `reqwest::Client`).
///
/// The `EventSource` hands over each request whole: an absolute URL, the
/// caller's method, headers and body, and the headers the connection model
/// asks for (`Accept`, `Cache-Control`, `Last-Event-ID`). A transport may
/// add its own (its client's defaults, cookies, `Host`), and may follow
/// redirects itself; any redirect it hands back is followed by the
/// `EventSource` as `fetch` does. Everything else (which status opens a
/// stream, retrying, backing off, `retry:`, the idle timeout) is the
/// connection model's, so it is the same over every transport.
pub trait Transport: Send + Sync + Unpin + 'static {
    /// A response body. Its errors are reported as they are (a hyper or
    /// I/O error, or [`Error::Transport`] with the client's own).
    type Body: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static;

    /// Whether it can fetch `https` URLs; checked when the `EventSource` is
    /// built, so that a URL it cannot fetch fails at once.
    fn supports_https(&self) -> bool;

    /// Sends `request` and waits for the response head.
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Self::Body>, Error>> + Send + 'static;
}

/// This crate's own transport: one connection per request, over the
/// runtime's TCP (and TLS for `https`, feature `rustls`), with hyper's
/// HTTP/1.1 client, or its HTTP/2 client when the server picks `h2` by ALPN
/// (feature `http2`). Nothing is spawned: the connection is driven by
/// whoever reads the response, inside the `EventSource`'s `poll_next`.
///
/// [`EventSource::builder`](crate::EventSource::builder) uses it; its TLS
/// settings are the builder's
/// ([`tls_config`](crate::Builder::tls_config),
/// [`add_root_certificate`](crate::Builder::add_root_certificate)).
pub struct HyperTransport<R> {
    pub(super) connector: Connector<R>,
}

impl<R> HyperTransport<R> {
    pub(super) fn new() -> Self {
        Self {
            connector: Connector::default(),
        }
    }
}

impl<R> fmt::Debug for HyperTransport<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connector", &self.connector)
            .finish()
    }
}

impl<R: Connect> Transport for HyperTransport<R> {
    type Body = HyperBody<R>;

    fn supports_https(&self) -> bool {
        cfg!(feature = "rustls")
    }

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Self::Body>, Error>> + Send + 'static {
        exchange(self.connector.clone(), request)
    }
}

/// Connects, sends `request` and waits for the response head.
async fn exchange<R: Connect>(
    connector: Connector<R>,
    request: Request<Bytes>,
) -> Result<Response<HyperBody<R>>, Error> {
    let target = Target::new(request.uri().clone())?;
    let (io, h2) = connector.connect(&target).await?;
    let (parts, body) = request.into_parts();
    let mut request = Request::from_parts(parts, Full::new(body));
    let (mut sender, mut conn) = if h2 {
        // HTTP/2 takes the absolute URL: scheme and authority are
        // pseudo-headers, and there is no `Host`.
        handshake_h2(io).await?
    } else {
        // HTTP/1.1: the target in origin form, the authority in `Host`.
        let path = target
            .uri()
            .path_and_query()
            .filter(|path| !path.as_str().is_empty())
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *request.uri_mut() = Uri::from(path);
        request
            .headers_mut()
            .insert(header::HOST, host_header(&target)?);
        let (sender, connection) = http1::handshake(io).await?;
        let conn = Conn {
            connection: Some(Connection::H1(Box::pin(connection))),
            spawned: Spawner::default(),
        };
        (Sender::H1(sender), conn)
    };
    let response = {
        let mut response = sender.send(request);
        poll_fn(|cx| {
            conn.poll(cx);
            response.as_mut().poll(cx)
        })
        .await?
    };
    Ok(response.map(|body| HyperBody {
        _sender: sender,
        conn,
        body,
    }))
}

/// The `Host` header: the host, and the port unless it is the default.
fn host_header(target: &Target) -> Result<HeaderValue, Error> {
    let authority = target
        .uri()
        .authority()
        .ok_or_else(|| Error::UnsupportedUrl(target.uri().clone()))?;
    let default_port = if target.is_tls() { 443 } else { 80 };
    let host = match authority.port_u16() {
        Some(port) if port != default_port => format!("{}:{port}", authority.host()),
        _ => authority.host().to_owned(),
    };
    HeaderValue::try_from(host).map_err(|_| Error::UnsupportedUrl(target.uri().clone()))
}

#[cfg(feature = "http2")]
async fn handshake_h2<R: Connect>(io: Io<R>) -> Result<(Sender, Conn<R>), Error> {
    let spawned = Spawner::default();
    let (sender, connection) = hyper::client::conn::http2::handshake(spawned.clone(), io).await?;
    Ok((
        Sender::H2(sender),
        Conn {
            connection: Some(Connection::H2(Box::pin(connection))),
            spawned,
        },
    ))
}

#[cfg(not(feature = "http2"))]
async fn handshake_h2<R: Connect>(io: Io<R>) -> Result<(Sender, Conn<R>), Error> {
    // Never reached: without the feature, `h2` is not offered.
    drop(io);
    Err(Error::Io(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "the server picked HTTP/2, which this build does not speak (feature `http2`)",
    )))
}

/// The sending half of a connection.
enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    #[cfg(feature = "http2")]
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn send(&mut self, request: Request<Full<Bytes>>) -> ResponseFuture {
        match self {
            Self::H1(sender) => Box::pin(sender.send_request(request)),
            #[cfg(feature = "http2")]
            Self::H2(sender) => Box::pin(sender.send_request(request)),
        }
    }
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Incoming>, hyper::Error>> + Send>>;

/// hyper's HTTP/2 connection future, with its tasks kept in a [`Spawner`].
#[cfg(feature = "http2")]
type H2Connection<R> = hyper::client::conn::http2::Connection<Io<R>, Full<Bytes>, Spawner>;

/// hyper's half of a connection: the future that does its I/O.
enum Connection<R: Connect> {
    H1(Pin<Box<http1::Connection<Io<R>, Full<Bytes>>>>),
    #[cfg(feature = "http2")]
    H2(Pin<Box<H2Connection<R>>>),
}

/// A connection, polled by whoever reads its response, with the tasks
/// hyper's HTTP/2 client would spawn.
struct Conn<R: Connect> {
    /// `None` once it has finished; its errors reach the body too.
    connection: Option<Connection<R>>,
    spawned: Spawner,
}

impl<R: Connect> Conn<R> {
    fn poll(&mut self, cx: &mut Context<'_>) {
        let done = match &mut self.connection {
            Some(Connection::H1(connection)) => connection.as_mut().poll(cx).is_ready(),
            #[cfg(feature = "http2")]
            Some(Connection::H2(connection)) => connection.as_mut().poll(cx).is_ready(),
            None => false,
        };
        if done {
            self.connection = None;
        }
        self.spawned.poll(cx);
    }
}

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// hyper's executor for an HTTP/2 connection: instead of spawning, it keeps
/// the tasks (sending request bodies, watching responses), and the
/// connection's reader polls them with the connection, so that the
/// `EventSource` still needs no task of its own and no runtime executor.
#[derive(Clone, Default)]
struct Spawner(std::sync::Arc<std::sync::Mutex<Vec<Task>>>);

impl Spawner {
    fn tasks(&self) -> std::sync::MutexGuard<'_, Vec<Task>> {
        // A task that panicked is dropped with the poll that panicked; the
        // list itself is always whole.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Polls every task until none is added meanwhile.
    fn poll(&self, cx: &mut Context<'_>) {
        loop {
            let mut tasks = std::mem::take(&mut *self.tasks());
            if tasks.is_empty() {
                return;
            }
            tasks.retain_mut(|task| task.as_mut().poll(cx).is_pending());
            let mut kept = self.tasks();
            let added = !kept.is_empty();
            kept.extend(tasks);
            if !added {
                return;
            }
        }
    }
}

impl<F> hyper::rt::Executor<F> for Spawner
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, task: F) {
        self.tasks().push(Box::pin(task));
    }
}

/// A response body from [`HyperTransport`], with the connection it comes
/// on: reading it drives the connection.
pub struct HyperBody<R: Connect> {
    /// Kept so that hyper does not close the connection early.
    _sender: Sender,
    conn: Conn<R>,
    body: Incoming,
}

impl<R: Connect> fmt::Debug for HyperBody<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperBody").finish_non_exhaustive()
    }
}

impl<R: Connect> Body for HyperBody<R> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        this.conn.poll(cx);
        Pin::new(&mut this.body).poll_frame(cx).map_err(Error::Http)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
