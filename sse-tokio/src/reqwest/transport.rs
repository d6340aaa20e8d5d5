//! The `EventSource` over a `reqwest::Client`, written once for each
//! reqwest line that the crate supports: `super::reqwest` is the reqwest
//! crate of the module that includes this file (0.13 in `crate::reqwest`,
//! 0.12 in `crate::reqwest_012`), whose types have the same names and
//! methods in both.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::reqwest::{
    Body as RequestBody, Client, Error as ReqwestError, IntoUrl, Request, RequestBuilder, Url,
};
use bytes::Bytes;
use futures_core::Stream;
use http_body::{Body, Frame, SizeHint};
use sse_hyper::http::{self, Version};
use sse_hyper::{SourceEvent, Transport};
use sse_proto::{CloseReason, EventBuf, EventId, ReadyState};

use crate::{Error, TokioRuntime};

/// A [`Transport`] over a `reqwest::Client`: each request goes through
/// [`Client::execute`], with the client's own settings (default headers,
/// cookies, proxies, TLS, timeouts, redirect policy) and the request's
/// timeout and HTTP version as the [`RequestBuilder`] set them.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: Client,
    timeout: Option<Duration>,
    version: Version,
}

impl ReqwestTransport {
    /// A transport that sends through `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            timeout: None,
            version: Version::default(),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The request as reqwest takes it.
    fn to_reqwest(&self, request: http::Request<Bytes>) -> Result<Request, Error> {
        let (parts, body) = request.into_parts();
        let url = Url::parse(&parts.uri.to_string())
            .map_err(|_| Error::UnsupportedUrl(parts.uri.clone()))?;
        let mut request = Request::new(parts.method, url);
        *request.headers_mut() = parts.headers;
        if !body.is_empty() {
            *request.body_mut() = Some(body.into());
        }
        *request.timeout_mut() = self.timeout;
        *request.version_mut() = self.version;
        Ok(request)
    }
}

impl Transport for ReqwestTransport {
    type Body = ReqwestBody;

    /// Always: whether the client can is its own business, and a client
    /// without TLS says so when it sends.
    fn supports_https(&self) -> bool {
        true
    }

    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<ReqwestBody>, Error>> + Send + 'static {
        let client = self.client.clone();
        let request = self.to_reqwest(request);
        async move {
            let response = client.execute(request?).await.map_err(transport_error)?;
            Ok(http::Response::from(response).map(ReqwestBody))
        }
    }
}

/// A response body from [`ReqwestTransport`]: reqwest's, with its errors
/// as [`Error::Transport`].
#[derive(Debug)]
pub struct ReqwestBody(RequestBody);

impl Body for ReqwestBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        Pin::new(&mut self.get_mut().0)
            .poll_frame(cx)
            .map_err(transport_error)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

fn transport_error(error: ReqwestError) -> Error {
    Error::Transport(Box::new(error))
}

/// A request that cannot be sent again: its body is a stream. An
/// `EventSource` sends its request on every reconnect, so it needs a body
/// in memory (bytes, a string, JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CannotCloneRequest;

impl fmt::Display for CannotCloneRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body is a stream, which cannot be sent again on each reconnect")
    }
}

impl std::error::Error for CannotCloneRequest {}

/// Sets up an `EventSource` over a `reqwest::Client`: the request comes
/// from the [`RequestBuilder`], and the rest is [`sse_hyper::Builder`]'s
/// (connection model, decoder, `Last-Event-ID`).
pub type Builder = sse_hyper::Builder<TokioRuntime, ReqwestTransport>;

/// A builder for the request `request` describes, sent through the client
/// it was made with: its method, URL, headers, body, timeout and version.
///
/// Fails if the request builder holds an error (an invalid URL, say), or if
/// its body is a stream ([`CannotCloneRequest`]), both as
/// [`Error::Transport`].
pub fn builder(request: RequestBuilder) -> Result<Builder, Error> {
    let (client, request) = request.build_split();
    from_request(client, request.map_err(transport_error)?)
}

/// A builder for `request`, sent through `client`; see [`builder`].
pub fn from_request(client: Client, request: Request) -> Result<Builder, Error> {
    let body = match request.body() {
        None => Bytes::new(),
        Some(body) => match body.as_bytes() {
            Some(bytes) => Bytes::copy_from_slice(bytes),
            None => return Err(Error::Transport(Box::new(CannotCloneRequest))),
        },
    };
    let transport = ReqwestTransport {
        client,
        timeout: request.timeout().copied(),
        version: request.version(),
    };
    let mut builder = Builder::with_transport(request.url().as_str(), transport)
        .method(request.method().clone())
        .body(body);
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    Ok(builder)
}

/// What [`EventSource`] yields besides errors: exactly reqwest-eventsource's
/// two cases, so that a `match` written for it needs no new arm.
/// (Comments, which sse-tokio's own [`SourceEvent`] can carry, are not
/// reported by this type's default decoder.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A connection opened; after a reconnect, this comes again.
    Open,
    /// An event.
    Message(EventBuf),
}

/// An `EventSource` over a `reqwest::Client`, with reqwest-eventsource's
/// constructors and item type: [`new`](Self::new) from a
/// [`RequestBuilder`], [`get`](Self::get), [`close`](Self::close), a
/// [`Stream`] of [`Event`]s and [`Error`]s.
///
/// It reconnects as [`crate::EventSource`] does (the same connection model
/// and driver, [`sse_hyper::EventSource`] over [`ReqwestTransport`]):
/// [`Error::StreamEnded`] when the server finishes a stream, then a
/// reconnect unless you [`close`](Self::close) it; a failed response is
/// [`Error::Response`], with its status, headers and the start of its body.
/// The stream ends (`None`) once the connection model closes.
pub struct EventSource {
    inner: Inner,
}

enum Inner {
    Source(Box<sse_hyper::EventSource<TokioRuntime, ReqwestTransport>>),
    /// It could not be built; the error is yielded once.
    Failed(Option<Error>),
}

impl fmt::Debug for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Source(source) => f.debug_tuple("EventSource").field(source).finish(),
            Inner::Failed(error) => f.debug_tuple("EventSource").field(error).finish(),
        }
    }
}

impl EventSource {
    /// An `EventSource` for the request `request` describes, sent through
    /// the client it was made with; see [`builder`] for what fails.
    pub fn new(request: RequestBuilder) -> Result<Self, Error> {
        Ok(Self::from(builder(request)?.build()?))
    }

    /// An `EventSource` that GETs `url` with a new default client. If that
    /// fails (an invalid URL), the source yields the error once and ends.
    pub fn get<U: IntoUrl>(url: U) -> Self {
        let source = Client::builder()
            .build()
            .map_err(transport_error)
            .and_then(|client| Self::new(client.get(url)));
        source.unwrap_or_else(|error| Self {
            inner: Inner::Failed(Some(error)),
        })
    }

    /// The client inside: [`sse_hyper::EventSource`] over
    /// [`ReqwestTransport`], with every getter (`last_event_id`,
    /// `reconnection_time`, `response`, ...). `None` if it could not be
    /// built.
    pub fn source(&self) -> Option<&sse_hyper::EventSource<TokioRuntime, ReqwestTransport>> {
        match &self.inner {
            Inner::Source(source) => Some(source),
            Inner::Failed(_) => None,
        }
    }

    /// Connecting (or waiting to reconnect), open, or closed.
    pub fn ready_state(&self) -> ReadyState {
        self.source()
            .map_or(ReadyState::Closed, sse_hyper::EventSource::ready_state)
    }

    /// The last event id, sent as `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        self.source()?.last_event_id()
    }

    /// Why the stream ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.source()?.close_reason()
    }

    /// Closes the connection and stops reconnecting: the stream ends.
    pub fn close(&mut self) {
        match &mut self.inner {
            Inner::Source(source) => source.close(),
            Inner::Failed(error) => *error = None,
        }
    }
}

impl From<sse_hyper::EventSource<TokioRuntime, ReqwestTransport>> for EventSource {
    fn from(source: sse_hyper::EventSource<TokioRuntime, ReqwestTransport>) -> Self {
        Self {
            inner: Inner::Source(Box::new(source)),
        }
    }
}

impl Stream for EventSource {
    type Item = Result<Event, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let source = match &mut self.get_mut().inner {
            Inner::Source(source) => source,
            Inner::Failed(error) => return Poll::Ready(error.take().map(Err)),
        };
        loop {
            let item = match std::task::ready!(Pin::new(&mut **source).poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Ok(SourceEvent::Open)) => Ok(Event::Open),
                Some(Ok(SourceEvent::Message(message))) => Ok(Event::Message(message)),
                Some(Ok(_)) => continue,
                Some(Err(error)) => Err(error),
            };
            return Poll::Ready(Some(item));
        }
    }
}

/// `.eventsource()` on a [`RequestBuilder`], as reqwest-eventsource has it.
pub trait RequestBuilderExt {
    /// An [`EventSource`] for this request; see [`EventSource::new`].
    fn eventsource(self) -> Result<EventSource, Error>;
}

impl RequestBuilderExt for RequestBuilder {
    fn eventsource(self) -> Result<EventSource, Error> {
        EventSource::new(self)
    }
}
