//! [`EventSource`]: an HTTP client for event streams that reconnects as
//! `sse_proto::Client` decides, over any [`Transport`].

mod io;
mod request;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use http::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use http::{Method, Response, StatusCode, Uri, response};
use http_body::Body;
use sse_proto::{
    Action, Client, ClientConfig, CloseReason, Decoder, EventBuf, EventId, Frame, GrowableBuf,
    ReadyState, Verdict,
};

pub use self::transport::{HyperBody, HyperTransport, Transport};

use self::io::Clock;
use self::request::{BODY_PREFIX_LEN, Hop, Target};
use crate::pump::{self, ClientFeed, Pumped, Source};
use crate::rt::{Connect, Runtime};
use crate::{Error, FailedResponse, default_decoder};

/// How long the body of a failed response is read for the error report.
const BODY_PREFIX_WAIT: Duration = Duration::from_secs(1);

/// What an [`EventSource`] yields besides errors: the browser's
/// `EventSource` events, `open` and `message`, and comments on request.
///
/// Named for what it is rather than `Item` (it is the source's
/// `Stream::Item` inside a `Result`), and not `Event`, which is
/// [`sse_proto::Event`], the event on the wire. Code written for
/// reqwest-eventsource's `Event::Open` and `Event::Message` reads the same
/// after `use sse_tokio::SourceEvent as Event;` (sse-tokio's `reqwest`
/// module has an `Event` with exactly those two variants).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceEvent {
    /// A connection opened: the server answered `200` with an event stream.
    /// After a reconnect, this comes again;
    /// [`EventSource::response`] has the response's head.
    Open,
    /// An event: the browser's `message` event (whatever its type).
    Message(EventBuf),
    /// A comment, when the decoder's limits report comments
    /// ([`Limits::with_max_comment_len`](sse_proto::Limits::with_max_comment_len)).
    Comment(String),
}

/// An `EventSource`: a [`Stream`] of events from a URL that reconnects on
/// its own, as browsers do, and resumes with `Last-Event-ID`.
///
/// It is a thin driver: [`sse_proto::Client`] decides what to request, how
/// to read each response, and when to reconnect; the [`Transport`] `T`
/// carries the requests (by default [`HyperTransport`]: hyper, HTTP/1.1,
/// HTTP/2 over `https` with the `http2` feature, `https` with the `rustls`
/// feature), and the runtime `R` keeps the timers ([`Runtime`]). Name it
/// through an adapter: `sse_tokio::EventSource` or `sse_smol::EventSource`
/// (and, over a `reqwest::Client`, `sse_tokio::reqwest::EventSource`).
///
/// The stream yields [`SourceEvent::Open`] each time a connection opens,
/// then the events, and errors as they happen: an error is a report, and
/// the stream goes on (reconnecting) until the connection model says it is
/// closed. The end of an open stream's body is reported as
/// [`Error::StreamEnded`], distinct from a connection that broke
/// ([`Error::Http`], [`Error::Io`], [`Error::Transport`]); either way it
/// reconnects, as browsers do. It ends (`None`) when the server answers
/// `204 No Content`, when a response fails and the
/// [`RetryPolicy`](sse_proto::RetryPolicy) does not retry it (by default,
/// as in browsers, any status but `200` and any content type but
/// `text/event-stream`), after [`max_attempts`](ClientConfig::max_attempts)
/// failed attempts, or on [`close`](Self::close).
/// [`close_reason`](Self::close_reason) says which.
///
/// The connection is driven inside the stream's `poll_next`, so it needs
/// no task of its own and closes when the `EventSource` is dropped. It uses
/// the runtime's TCP and timers: `sse_tokio::EventSource` must be polled
/// inside a tokio runtime with I/O and time enabled, `sse_smol::EventSource`
/// (async-net and async-io) runs on any executor.
///
/// ```no_run
/// use futures_lite::StreamExt;
/// use sse_tokio::{EventSource, SourceEvent};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sse_tokio::Error> {
/// let mut source = EventSource::new("http://127.0.0.1:8080/events")?;
/// while let Some(item) = source.next().await {
///     match item {
///         Ok(SourceEvent::Message(event)) => println!("{}: {}", event.event_type(), event.data()),
///         Ok(_) => {}
///         Err(error) => eprintln!("{error}"),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct EventSource<R: Runtime, T: Transport = HyperTransport<R>> {
    client: Client<GrowableBuf>,
    /// The first request of every attempt.
    first: Hop,
    transport: T,
    clock: Clock<R>,
    state: State<T>,
    /// The URL and head of the response that opened the last stream.
    opened: Option<(Uri, Response<()>)>,
}

impl<R: Runtime, T: Transport + std::fmt::Debug> std::fmt::Debug for EventSource<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("client", &self.client)
            .field("url", self.first.target.uri())
            .field("transport", &self.transport)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A request in flight, until its response head arrives.
type Exchanging<B> = Pin<Box<dyn Future<Output = Result<Response<B>, Error>> + Send>>;

enum State<T: Transport> {
    /// No request in flight: the connection model says what is next.
    Idle,
    /// A request is on its way; `hop` is what was asked.
    Requesting {
        hop: Hop,
        exchange: Exchanging<T::Body>,
    },
    /// An event stream is open.
    Streaming(OpenBody<T::Body>),
    /// Reading the start of a failed response's body, for the error.
    Failing {
        body: T::Body,
        url: Uri,
        head: response::Parts,
        prefix: Vec<u8>,
        until: sse_proto::Instant,
    },
}

impl<T: Transport> std::fmt::Debug for State<T> {
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
    /// A frame, in the client model's `frame()`.
    Frame,
}

/// The body of an open stream: the pump's [`Source`].
struct OpenBody<B> {
    body: B,
    /// Received but not yet decoded.
    chunk: Bytes,
}

impl<B: Body<Data = Bytes, Error = Error> + Unpin> Source for OpenBody<B> {
    type Error = Error;

    fn unread(&self) -> &[u8] {
        &self.chunk
    }

    fn consume(self: Pin<&mut Self>, n: usize) {
        let chunk = &mut self.get_mut().chunk;
        chunk.advance(n.min(chunk.len()));
    }

    fn poll_fill(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<bool, Error>> {
        let this = self.get_mut();
        loop {
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

impl<R: Connect> EventSource<R> {
    /// An `EventSource` that GETs `url` over [`HyperTransport`], with the
    /// default configuration.
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

    /// A builder over [`HyperTransport`], to set the method, headers, body,
    /// connection model configuration, limits and TLS.
    pub fn builder<U>(url: U) -> Builder<R>
    where
        U: TryInto<Uri>,
        U::Error: Into<::http::Error>,
    {
        Builder::with_transport(url, HyperTransport::new())
    }
}

impl<R: Runtime, T: Transport> EventSource<R, T> {
    /// The URL of the first request of every attempt.
    pub fn url(&self) -> &Uri {
        self.first.target.uri()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
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

    /// While waiting to reconnect (after an error, or after
    /// [`Error::StreamEnded`]): the delay the connection model chose (the
    /// reconnection time or `Retry-After`, backed off, with jitter, never
    /// under [`ClientConfig::min_reconnection_delay`]). `None` otherwise.
    pub fn reconnect_delay(&self) -> Option<Duration> {
        self.client.reconnect_delay()
    }

    /// The head of the response that opened the current (or last) stream:
    /// status, HTTP version and headers.
    pub fn response(&self) -> Option<&Response<()>> {
        self.opened.as_ref().map(|(_, head)| head)
    }

    /// The URL that answered [`response`](Self::response): the first
    /// request's, or where redirects led.
    pub fn response_url(&self) -> Option<&Uri> {
        self.opened.as_ref().map(|(url, _)| url)
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
                    Poll::Ready(Ok(response)) => {
                        if let Some(ready) = self.respond(now, response) {
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
                            return Poll::Ready(Some(Err(Error::StreamEnded)));
                        }
                        Poll::Ready(Pumped::Failed(error)) => {
                            self.client.handle_error(now);
                            self.state = State::Idle;
                            return Poll::Ready(Some(Err(error)));
                        }
                        Poll::Pending => return self.poll_idle_timeout(cx),
                    }
                }
                State::Failing {
                    body,
                    prefix,
                    until,
                    ..
                } => {
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
        let exchange = self.transport.send(request);
        self.state = State::Requesting {
            hop,
            exchange: Box::pin(exchange),
        };
    }

    /// Acts on a response head as the connection model says.
    fn respond(
        &mut self,
        now: sse_proto::Instant,
        response: Response<T::Body>,
    ) -> Option<Result<Ready, Error>> {
        let State::Requesting { hop, .. } = std::mem::replace(&mut self.state, State::Idle) else {
            return None;
        };
        let (head, body) = response.into_parts();
        let verdict = self
            .client
            .handle_response(now, &request::response_head(&head));
        match verdict {
            Verdict::Open => {
                let mut opened = Response::new(());
                *opened.status_mut() = head.status;
                *opened.version_mut() = head.version;
                *opened.headers_mut() = head.headers;
                self.opened = Some((hop.target.uri().clone(), opened));
                self.state = State::Streaming(OpenBody {
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

impl<R: Runtime, T: Transport> Stream for EventSource<R, T> {
    type Item = Result<SourceEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let item = match ready!(this.poll_ready(cx)) {
                None => return Poll::Ready(None),
                Some(Err(error)) => Err(error),
                Some(Ok(Ready::Open)) => Ok(SourceEvent::Open),
                Some(Ok(Ready::Frame)) => match this.client.frame() {
                    Some(Frame::Event(event)) => Ok(SourceEvent::Message(event.into())),
                    Some(Frame::Comment(text)) => {
                        Ok(SourceEvent::Comment(text.to_string_lossy().into_owned()))
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
pub struct Builder<R, T = HyperTransport<R>> {
    parts: Result<Parts<T>, Error>,
    runtime: PhantomData<fn() -> R>,
}

impl<R, T: std::fmt::Debug> std::fmt::Debug for Builder<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("parts", &self.parts)
            .finish()
    }
}

#[derive(Debug)]
struct Parts<T> {
    uri: Uri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
    config: ClientConfig,
    decoder: Option<Decoder<GrowableBuf>>,
    last_event_id: Option<String>,
    transport: T,
}

impl<R: Runtime, T: Transport> Builder<R, T> {
    /// A builder for an `EventSource` that GETs `url` over `transport`
    /// (for [`HyperTransport`], [`EventSource::builder`] is shorter).
    pub fn with_transport<U>(url: U, transport: T) -> Self
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
                transport,
            }),
            runtime: PhantomData,
        }
    }

    fn and_then(self, f: impl FnOnce(Parts<T>) -> Result<Parts<T>, Error>) -> Self {
        Self {
            parts: self.parts.and_then(f),
            runtime: PhantomData,
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
    pub fn decoder(self, decoder: Decoder<GrowableBuf>) -> Self {
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

    /// Builds the `EventSource`. It connects when first polled.
    ///
    /// Fails if the URL is not `http` or `https` with a host, or `https`
    /// and the transport cannot fetch it; or if a setting failed.
    pub fn build(self) -> Result<EventSource<R, T>, Error> {
        let parts = self.parts?;
        let target = Target::new(parts.uri)?;
        if target.is_tls() && !parts.transport.supports_https() {
            return Err(Error::UnsupportedUrl(target.uri().clone()));
        }
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
            transport: parts.transport,
            clock: Clock::new(),
            state: State::Idle,
            opened: None,
        })
    }
}

impl<R: Connect> Builder<R, HyperTransport<R>> {
    /// The TLS configuration for `https`, replacing the default one (the
    /// system's root certificates and any
    /// [added](Self::add_root_certificate), ring, `h2` with the `http2`
    /// feature and `http/1.1` by ALPN). Its `alpn_protocols` say what is
    /// offered: with the `http2` feature, the client speaks HTTP/2 where
    /// the server picks `h2`, and HTTP/1.1 otherwise.
    #[cfg(feature = "rustls")]
    pub fn tls_config(self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.and_then(|mut parts| {
            parts.transport.connector.tls = Some(config);
            Ok(parts)
        })
    }

    /// Trusts `certificate` (a private CA, or a server's self-signed
    /// certificate) besides the system's root certificates, in the default
    /// TLS configuration. Repeat for more. `sse listen --cacert FILE` reads
    /// them from a PEM file with
    /// [`CertificateDer::pem_file_iter`](rustls::pki_types::pem::PemObject::pem_file_iter).
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate(
        self,
        certificate: rustls::pki_types::CertificateDer<'static>,
    ) -> Self {
        self.and_then(|mut parts| {
            parts.transport.connector.extra_roots.push(certificate);
            Ok(parts)
        })
    }
}
