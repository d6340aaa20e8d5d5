//! [`EventSource`]: an HTTP client for event streams that reconnects as
//! `sse_proto::Client` decides.

mod io;
mod request;
#[cfg(feature = "rustls")]
mod tls;

use std::future::{Future, poll_fn};
use std::hash::{BuildHasher, RandomState};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use http::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use http::{Method, Request, Response, StatusCode, Uri, response};
use http_body::Body;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use sse_proto::{
    Action, Client, ClientConfig, CloseReason, Decoder, EventBuf, EventId, Frame, ReadyState,
    Verdict,
};

use self::io::{Clock, Connector, Io};
use self::request::{BODY_PREFIX_LEN, Hop, Target};
use crate::pump::{self, ClientFeed, Pumped, Source};
use crate::rt::Connect;
use crate::{Error, FailedResponse, default_decoder};

/// How long the body of a failed response is read for the error report.
const BODY_PREFIX_WAIT: Duration = Duration::from_secs(1);

/// What an [`EventSource`] yields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// A connection opened: the server answered `200` with an event stream.
    /// After a reconnect, this comes again.
    Open,
    /// An event.
    Event(EventBuf),
    /// A comment, when the decoder's limits report comments
    /// ([`Limits::with_max_comment_len`](sse_proto::Limits::with_max_comment_len)).
    Comment(String),
}

/// An `EventSource`: a [`Stream`] of events from a URL that reconnects on
/// its own, as browsers do, and resumes with `Last-Event-ID`.
///
/// It is a thin driver: [`sse_proto::Client`] decides what to request, how
/// to read each response, and when to reconnect; this type does the HTTP
/// (hyper, HTTP/1.1, `https` with the `rustls` feature), and the runtime
/// `R` the connections and the timers ([`Connect`]). Name it through an
/// adapter: `sse_tokio::EventSource` or `sse_smol::EventSource`.
///
/// The stream yields [`Item::Open`] each time a connection opens, then the
/// events, and errors as they happen: an error is a report, and the stream
/// goes on (reconnecting) until the connection model says it is closed.
/// It ends (`None`) when the server answers `204 No Content`, when a
/// response fails and the [`RetryPolicy`](sse_proto::RetryPolicy) does not
/// retry it (by default, as in browsers, any status but `200` and any
/// content type but `text/event-stream`), after
/// [`max_attempts`](ClientConfig::max_attempts) failed attempts, or on
/// [`close`](Self::close). [`close_reason`](Self::close_reason) says which.
///
/// The connection is driven inside the stream's `poll_next`, so it needs
/// no task of its own and closes when the `EventSource` is dropped. It uses
/// the runtime's TCP and timers: `sse_tokio::EventSource` must be polled
/// inside a tokio runtime with I/O and time enabled, `sse_smol::EventSource`
/// (async-net and async-io) runs on any executor.
///
/// ```no_run
/// use futures_lite::StreamExt;
/// use sse_tokio::{EventSource, Item};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sse_tokio::Error> {
/// let mut source = EventSource::new("http://127.0.0.1:8080/events")?;
/// while let Some(item) = source.next().await {
///     match item {
///         Ok(Item::Event(event)) => println!("{}: {}", event.event_type(), event.data()),
///         Ok(_) => {}
///         Err(error) => eprintln!("{error}"),
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct EventSource<R: Connect> {
    client: Client<Box<[u8]>>,
    /// The first request of every attempt.
    first: Hop,
    connector: Connector<R>,
    clock: Clock<R>,
    state: State<R>,
}

/// A request in flight, until its response head arrives.
type Exchanging<R> = Pin<Box<dyn Future<Output = Result<Exchange<R>, Error>> + Send>>;

enum State<R: Connect> {
    /// No request in flight: the connection model says what is next.
    Idle,
    /// A request is on its way; `hop` is what was asked.
    Requesting { hop: Hop, exchange: Exchanging<R> },
    /// An event stream is open.
    Streaming(OpenBody<R>),
    /// Reading the start of a failed response's body, for the error.
    Failing {
        conn: Conn<R>,
        body: Incoming,
        url: Uri,
        head: response::Parts,
        prefix: Vec<u8>,
        until: sse_proto::Instant,
    },
}

impl<R: Connect> std::fmt::Debug for State<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Idle => "Idle",
            Self::Requesting { .. } => "Requesting",
            Self::Streaming { .. } => "Streaming",
            Self::Failing { .. } => "Failing",
        })
    }
}

/// What [`EventSource::poll_ready`] found.
enum Ready {
    Open,
    /// A frame, in the decoder's `last_frame`.
    Frame,
}

/// A response head and the connection it came on.
struct Exchange<R: Connect> {
    response: Response<Incoming>,
    conn: Conn<R>,
}

/// hyper's half of an HTTP/1.1 connection: the future that does its I/O.
type Connection<R> = Pin<Box<http1::Connection<Io<R>, Full<Bytes>>>>;

/// An HTTP/1.1 connection, polled by whoever reads its response.
struct Conn<R: Connect> {
    /// Kept so that hyper does not close the connection early.
    _sender: SendRequest<Full<Bytes>>,
    /// `None` once it has finished; its errors reach the body too.
    connection: Option<Connection<R>>,
}

impl<R: Connect> Conn<R> {
    fn poll(&mut self, cx: &mut Context<'_>) {
        poll_connection(&mut self.connection, cx);
    }
}

/// The body of an open stream and its connection: the pump's [`Source`].
struct OpenBody<R: Connect> {
    conn: Conn<R>,
    body: Incoming,
    /// Received but not yet decoded.
    chunk: Bytes,
}

impl<R: Connect> Source for OpenBody<R> {
    type Error = hyper::Error;

    fn unread(&self) -> &[u8] {
        &self.chunk
    }

    fn consume(self: Pin<&mut Self>, n: usize) {
        let chunk = &mut self.get_mut().chunk;
        chunk.advance(n.min(chunk.len()));
    }

    fn poll_fill(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<bool, hyper::Error>> {
        let this = self.get_mut();
        loop {
            this.conn.poll(cx);
            match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    // Trailers carry no event bytes.
                    if let Ok(data) = frame.into_data() {
                        this.chunk = data;
                        return Poll::Ready(Ok(true));
                    }
                }
                Some(Err(error)) => return Poll::Ready(Err(error)),
                None => return Poll::Ready(Ok(false)),
            }
        }
    }
}

/// Polls `connection` until it finishes.
fn poll_connection<R: Connect>(connection: &mut Option<Connection<R>>, cx: &mut Context<'_>) {
    if let Some(conn) = connection {
        if conn.as_mut().poll(cx).is_ready() {
            *connection = None;
        }
    }
}

/// Connects, sends `request` and waits for the response head.
async fn exchange<R: Connect>(
    connector: Connector<R>,
    target: Target,
    request: Request<Full<Bytes>>,
) -> Result<Exchange<R>, Error> {
    let io = connector.connect(&target).await?;
    let (mut sender, connection) = http1::handshake(io).await?;
    let mut connection = Some(Box::pin(connection));
    let response = {
        let mut response = pin!(sender.send_request(request));
        poll_fn(|cx| {
            poll_connection(&mut connection, cx);
            response.as_mut().poll(cx)
        })
        .await?
    };
    Ok(Exchange {
        response,
        conn: Conn {
            _sender: sender,
            connection,
        },
    })
}

impl<R: Connect> EventSource<R> {
    /// An `EventSource` that GETs `url`, with the default configuration.
    ///
    /// Fails if `url` is not an `http` (or, with the `rustls` feature,
    /// `https`) URL with a host.
    pub fn new<U>(url: U) -> Result<Self, Error>
    where
        U: TryInto<Uri>,
        U::Error: Into<::http::Error>,
    {
        Self::builder(url).build()
    }

    /// A builder, to set the method, headers, body, connection model
    /// configuration and limits.
    pub fn builder<U>(url: U) -> Builder<R>
    where
        U: TryInto<Uri>,
        U::Error: Into<::http::Error>,
    {
        Builder::new(url)
    }

    /// The URL of the first request of every attempt.
    pub fn url(&self) -> &Uri {
        self.first.target.uri()
    }

    /// Connecting (or waiting to reconnect), open, or closed.
    pub fn ready_state(&self) -> ReadyState {
        self.client.ready_state()
    }

    /// The last event id, sent as `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        self.client.last_event_id()
    }

    /// The reconnection time: the configured one until the server sends
    /// `retry:`.
    pub fn reconnection_time(&self) -> Duration {
        self.client.reconnection_time()
    }

    /// Why the stream ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.client.close_reason()
    }

    /// Closes the connection and stops reconnecting: the stream ends.
    pub fn close(&mut self) {
        self.client.close();
        self.state = State::Idle;
    }

    /// Does I/O until there is something to yield.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Ready, Error>>> {
        loop {
            let now = self.clock.now();
            match &mut self.state {
                State::Idle => match self.client.poll(now) {
                    Action::Connect => self.start(self.first.clone()),
                    Action::Wait { until } => ready!(self.clock.poll_until(until, cx)),
                    // The model thinks a request is in flight, but none is.
                    Action::Io { .. } => self.client.handle_error(now),
                    Action::Closed(_) => return Poll::Ready(None),
                },
                State::Requesting { exchange, .. } => match exchange.as_mut().poll(cx) {
                    Poll::Ready(Ok(exchange)) => {
                        if let Some(ready) = self.respond(now, exchange) {
                            return Poll::Ready(Some(ready));
                        }
                    }
                    Poll::Ready(Err(error)) => {
                        self.client.handle_error(now);
                        self.state = State::Idle;
                        return Poll::Ready(Some(Err(error)));
                    }
                    Poll::Pending => return self.poll_idle_timeout(cx),
                },
                State::Streaming(body) => {
                    let mut feed = ClientFeed {
                        client: &mut self.client,
                        now,
                    };
                    match pump::poll(Pin::new(body), &mut feed, cx) {
                        Poll::Ready(Pumped::Frame) => return Poll::Ready(Some(Ok(Ready::Frame))),
                        Poll::Ready(Pumped::Decode(error)) => {
                            return Poll::Ready(Some(Err(Error::Decode(error))));
                        }
                        Poll::Ready(Pumped::End) => {
                            self.client.handle_end(now);
                            self.state = State::Idle;
                        }
                        Poll::Ready(Pumped::Failed(error)) => {
                            self.client.handle_error(now);
                            self.state = State::Idle;
                            return Poll::Ready(Some(Err(Error::Http(error))));
                        }
                        Poll::Pending => return self.poll_idle_timeout(cx),
                    }
                }
                State::Failing {
                    conn,
                    body,
                    prefix,
                    until,
                    ..
                } => {
                    conn.poll(cx);
                    let done = match Pin::new(body).poll_frame(cx) {
                        Poll::Ready(Some(Ok(frame))) => {
                            if let Ok(data) = frame.into_data() {
                                let room = BODY_PREFIX_LEN.saturating_sub(prefix.len());
                                prefix.extend_from_slice(data.get(..room).unwrap_or(&data));
                            }
                            prefix.len() >= BODY_PREFIX_LEN
                        }
                        Poll::Ready(Some(Err(_)) | None) => true,
                        Poll::Pending => {
                            let until = *until;
                            ready!(self.clock.poll_until(until, cx));
                            true
                        }
                    };
                    if done {
                        let State::Failing {
                            url, head, prefix, ..
                        } = std::mem::replace(&mut self.state, State::Idle)
                        else {
                            continue;
                        };
                        let failed = FailedResponse::new(url, head, prefix.into());
                        return Poll::Ready(Some(Err(Error::Response(Box::new(failed)))));
                    }
                }
            }
        }
    }

    /// Sends the request `hop`.
    fn start(&mut self, hop: Hop) {
        let request = hop.request(self.client.request_headers());
        let exchange = exchange(self.connector.clone(), hop.target.clone(), request);
        self.state = State::Requesting {
            hop,
            exchange: Box::pin(exchange),
        };
    }

    /// Acts on a response head as the connection model says.
    fn respond(
        &mut self,
        now: sse_proto::Instant,
        exchange: Exchange<R>,
    ) -> Option<Result<Ready, Error>> {
        let State::Requesting { hop, .. } = std::mem::replace(&mut self.state, State::Idle) else {
            return None;
        };
        let Exchange { response, conn } = exchange;
        let (head, body) = response.into_parts();
        let verdict = self
            .client
            .handle_response(now, &request::response_head(&head));
        match verdict {
            Verdict::Open => {
                self.state = State::Streaming(OpenBody {
                    conn,
                    body,
                    chunk: Bytes::new(),
                });
                return Some(Ok(Ready::Open));
            }
            Verdict::Redirect => {
                if let Some(next) = hop.redirect(head.status.as_u16(), head.headers.get(LOCATION)) {
                    self.start(next);
                    return None;
                }
                // Nowhere to go: the attempt failed.
                self.client.handle_error(now);
            }
            // The server asked to stop: nothing to report.
            Verdict::Closed if head.status == StatusCode::NO_CONTENT => return None,
            Verdict::Retry | Verdict::Closed => {}
        }
        self.state = State::Failing {
            conn,
            body,
            url: hop.target.uri().clone(),
            head,
            prefix: Vec::new(),
            until: now + BODY_PREFIX_WAIT,
        };
        None
    }

    /// While a request or stream waits for I/O: trips the idle timeout if
    /// its deadline has passed.
    fn poll_idle_timeout(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Ready, Error>>> {
        loop {
            let Action::Io {
                deadline: Some(deadline),
            } = self.client.poll(self.clock.now())
            else {
                return Poll::Pending;
            };
            ready!(self.clock.poll_until(deadline, cx));
            if self.client.handle_timeout(self.clock.now()) {
                self.state = State::Idle;
                return Poll::Ready(Some(Err(Error::TimedOut)));
            }
        }
    }
}

impl<R: Connect> Stream for EventSource<R> {
    type Item = Result<Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let item = match ready!(this.poll_ready(cx)) {
                None => return Poll::Ready(None),
                Some(Err(error)) => Err(error),
                Some(Ok(Ready::Open)) => Ok(Item::Open),
                Some(Ok(Ready::Frame)) => match this.client.frame() {
                    Some(Frame::Event(event)) => Ok(Item::Event(event.into())),
                    Some(Frame::Comment(text)) => {
                        Ok(Item::Comment(text.to_string_lossy().into_owned()))
                    }
                    // The model has applied it.
                    Some(Frame::Retry(_)) | None => continue,
                },
            };
            return Poll::Ready(Some(item));
        }
    }
}

/// Sets up an [`EventSource`]: the request (method, headers, body), the
/// connection model's [`ClientConfig`], the decoder and its limits, and TLS.
///
/// Errors (an invalid URL or header) are kept until
/// [`build`](Self::build), as with [`http::request::Builder`](::http::request::Builder).
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{ClientConfig, EventId, RetryPolicy};
/// use sse_tokio::EventSource;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let source = EventSource::builder("http://127.0.0.1:8080/v1/chat")
///     .method("POST")
///     .header("authorization", "Bearer secret")
///     .header("content-type", "application/json")
///     .body(r#"{"stream": true}"#)
///     .last_event_id(EventId::new("41")?)
///     .config(
///         ClientConfig::new()
///             .with_idle_timeout(Some(Duration::from_secs(60)))
///             .with_retry_policy(RetryPolicy::Transient),
///     )
///     .build()?;
/// assert_eq!(source.last_event_id().unwrap().as_text(), "41");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Builder<R> {
    parts: Result<Parts<R>, Error>,
}

#[derive(Debug)]
struct Parts<R> {
    uri: Uri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
    config: ClientConfig,
    decoder: Option<Decoder<Box<[u8]>>>,
    last_event_id: Option<String>,
    connector: Connector<R>,
}

impl<R: Connect> Builder<R> {
    fn new<U>(url: U) -> Self
    where
        U: TryInto<Uri>,
        U::Error: Into<::http::Error>,
    {
        let parts = url.try_into().map_err(Into::into).map_err(Error::Request);
        Self {
            parts: parts.map(|uri| Parts {
                uri,
                method: Method::GET,
                headers: HeaderMap::new(),
                body: Bytes::new(),
                config: ClientConfig::new(),
                decoder: None,
                last_event_id: None,
                connector: Connector::default(),
            }),
        }
    }

    fn and_then(self, f: impl FnOnce(Parts<R>) -> Result<Parts<R>, Error>) -> Self {
        Self {
            parts: self.parts.and_then(f),
        }
    }

    /// The request method; `GET` by default. `POST` with a
    /// [`body`](Self::body) suits the streaming APIs that take a request
    /// document.
    pub fn method<M>(self, method: M) -> Self
    where
        M: TryInto<Method>,
        M::Error: Into<http::Error>,
    {
        self.and_then(|mut parts| {
            parts.method = method
                .try_into()
                .map_err(|error| Error::Request(error.into()))?;
            Ok(parts)
        })
    }

    /// Adds a header to every request (authentication, for example).
    ///
    /// `Accept`, `Cache-Control` and `Last-Event-ID` are the connection
    /// model's to set and are replaced; `Host` is set from the URL.
    /// `Authorization`, `Proxy-Authorization` and `Cookie` are not sent to
    /// another origin when following a redirect.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<::http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<::http::Error>,
    {
        self.and_then(|mut parts| {
            let name = name
                .try_into()
                .map_err(|error| Error::Request(error.into()))?;
            let value = value
                .try_into()
                .map_err(|error| Error::Request(error.into()))?;
            parts.headers.append(name, value);
            Ok(parts)
        })
    }

    /// The request body, sent with every request (and dropped when a
    /// redirect turns the request into a `GET`).
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        self.and_then(|mut parts| {
            parts.body = body.into();
            Ok(parts)
        })
    }

    /// How the connection model reconnects; see [`ClientConfig`].
    pub fn config(self, config: ClientConfig) -> Self {
        self.and_then(|mut parts| {
            parts.config = config;
            Ok(parts)
        })
    }

    /// The decoder, for its [`Limits`](sse_proto::Limits) and size; by
    /// default events of up to 1 MiB of data, ids up to 256 bytes, event
    /// types up to 128, comments not reported.
    pub fn decoder(self, decoder: Decoder<Box<[u8]>>) -> Self {
        self.and_then(|mut parts| {
            parts.decoder = Some(decoder);
            Ok(parts)
        })
    }

    /// Resumes a stream: the first request already sends this
    /// `Last-Event-ID`.
    pub fn last_event_id(self, id: EventId<'_>) -> Self {
        self.and_then(|mut parts| {
            parts.last_event_id = Some(id.to_string());
            Ok(parts)
        })
    }

    /// The TLS configuration for `https`; by default the system's root
    /// certificates with ring. Only HTTP/1.1 is spoken, so a configuration
    /// that offers `h2` by ALPN will fail with servers that pick it.
    #[cfg(feature = "rustls")]
    pub fn tls_config(self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.and_then(|mut parts| {
            parts.connector.tls = Some(config);
            Ok(parts)
        })
    }

    /// Builds the `EventSource`. It connects when first polled.
    pub fn build(self) -> Result<EventSource<R>, Error> {
        let parts = self.parts?;
        let target = Target::new(parts.uri)?;
        let mut decoder = parts.decoder.unwrap_or_else(default_decoder);
        if let Some(id) = &parts.last_event_id {
            decoder.set_last_event_id(EventId::new(id).ok())?;
        }
        let seed = RandomState::new().hash_one(target.uri().to_string());
        Ok(EventSource {
            client: Client::new(decoder, parts.config, seed),
            first: Hop {
                method: parts.method,
                target,
                headers: parts.headers,
                body: parts.body,
            },
            connector: parts.connector,
            clock: Clock::new(),
            state: State::Idle,
        })
    }
}
