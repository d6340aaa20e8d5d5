//! [`Events`]: a ready event-stream endpoint over a [`Publisher`], with an
//! access hook, for any HTTP stack that speaks the `http` crate's types.

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};
use http_body::{Body, Frame as BodyFrame, SizeHint};
use sse_proto::publisher::{
    ChannelError, ChannelList, LastEventIdError, PublishError, Publisher, SubscribeError,
    check_channel, parse_last_event_id,
};
use sse_proto::{DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME};

use super::watch::StreamWatch;
use super::{Backend, BackendError, ConnectionHandle, SseBody, query};
use crate::rt::Runtime;

/// The path of the ready endpoint: `GET /events?channel=..`.
pub const EVENTS_PATH: &str = "/events";

/// A response sent instead of an event stream: a status, headers and a
/// plain-text message. What an access hook returns to refuse a request, and
/// how [`Events`] answers bad requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(Box<RefusalParts>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct RefusalParts {
    status: StatusCode,
    headers: HeaderMap,
    message: String,
}

impl Refusal {
    /// A refusal with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(Box::new(RefusalParts {
            status,
            headers: HeaderMap::new(),
            message: message.into(),
        }))
    }

    /// `401 Unauthorized`. (Add a `WWW-Authenticate` challenge with
    /// [`header`](Self::header).)
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// `403 Forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// `400 Bad Request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The same refusal with one more header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.append(name, value);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The status, the headers and the message, taken apart.
    pub(crate) fn into_parts(self) -> (StatusCode, HeaderMap, String) {
        let RefusalParts {
            status,
            headers,
            message,
        } = *self.0;
        (status, headers, message)
    }

    /// The response: the status, the headers, and the message as
    /// `text/plain`.
    pub fn response(self) -> http::Response<EventsBody> {
        let RefusalParts {
            status,
            headers,
            message,
        } = *self.0;
        let refused = Refused(message.clone());
        let mut response = http::Response::new(EventsBody(Inner::Full(Some(Bytes::from(message)))));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response.extensions_mut().insert(refused);
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

/// Why a response refused its request: the [`Refusal`]'s message, in the
/// response's extensions, for the hub's log of refused requests.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "hub"), allow(dead_code))]
pub(crate) struct Refused(pub(crate) String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.status, self.0.message)
    }
}

impl std::error::Error for Refusal {}

impl From<SubscribeError> for Refusal {
    fn from(e: SubscribeError) -> Self {
        let status = match e {
            SubscribeError::TooManySubscribers { .. } | SubscribeError::Closed => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, e.to_string())
    }
}

/// The id of the last event a reconnecting client saw: the `Last-Event-ID`
/// header, or else a `lastEventId` query parameter (for clients that cannot
/// set headers). `None` when neither is given or the value is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LastEventId(pub Option<String>);

impl LastEventId {
    /// The id, if any.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Reads it from a request head. A value no event could have had (not
    /// UTF-8, over [`MAX_ID_LEN`](sse_proto::publisher::MAX_ID_LEN) bytes, CR, LF or NUL) is refused with `400
    /// Bad Request` ([`parse_last_event_id`], the rule every layer uses).
    pub fn from_parts(parts: &Parts) -> Result<Self, Refusal> {
        let bad = |error: LastEventIdError| Refusal::bad_request(error.to_string());
        let id = match parts.headers.get("last-event-id") {
            Some(value) => parse_last_event_id(value.as_bytes())
                .map_err(bad)?
                .map(str::to_owned),
            None => match query::first(parts, "lastEventId")? {
                Some(value) => parse_last_event_id(value.as_bytes())
                    .map_err(bad)?
                    .map(str::to_owned),
                None => None,
            },
        };
        Ok(Self(id))
    }
}

impl From<BackendError> for Refusal {
    /// `413` for an event over the size limit, `503` for a back end that
    /// cannot serve now (or a publisher that is full or closed), `400` for
    /// the rest.
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Subscribe(error) => error.into(),
            BackendError::Publish(error @ PublishError::EventTooLarge { .. }) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
            }
            BackendError::Publish(error @ PublishError::Closed) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
            }
            error @ BackendError::Unavailable(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
            }
            error => Self::bad_request(error.to_string()),
        }
    }
}

/// `400` for a list of channels that does not parse, naming the first
/// invalid name when a name is at fault.
pub(crate) fn channel_refusal<S: AsRef<str>>(names: &[S], error: ChannelError) -> Refusal {
    match names
        .iter()
        .find(|name| check_channel(name.as_ref()).is_err())
    {
        Some(name) => Refusal::bad_request(format!("channel {:?}: {error}", name.as_ref())),
        None => Refusal::bad_request(error.to_string()),
    }
}

/// The body of an [`Events`] response: the event stream, or a refusal's
/// message.
///
/// It is the same type whatever the runtime (the stream is boxed), so that
/// a [`Refusal`] becomes a response without naming one.
#[derive(Debug)]
pub struct EventsBody(Inner);

enum Inner {
    Stream(Pin<Box<dyn Body<Data = Bytes, Error = Infallible> + Send>>),
    Full(Option<Bytes>),
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stream(_) => f.write_str("Stream"),
            Self::Full(bytes) => f.debug_tuple("Full").field(bytes).finish(),
        }
    }
}

impl<R: Runtime> From<SseBody<R>> for EventsBody {
    fn from(body: SseBody<R>) -> Self {
        Self(Inner::Stream(Box::pin(body)))
    }
}

impl Body for EventsBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, Self::Error>>> {
        match &mut self.get_mut().0 {
            Inner::Stream(body) => body.as_mut().poll_frame(cx),
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(BodyFrame::data(bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Stream(body) => body.is_end_stream(),
            Inner::Full(bytes) => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Stream(body) => body.size_hint(),
            Inner::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

/// A stream that ends at once: the body of a "come back later" answer,
/// after its `retry:` hint.
struct Nothing;

impl futures_core::Stream for Nothing {
    type Item = sse_proto::FrameBuf;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}

type AccessFuture<P> = Pin<Box<dyn Future<Output = Result<P, Refusal>> + Send>>;
type Access<P> = dyn Fn(&Parts, Vec<String>) -> AccessFuture<P> + Send + Sync;

/// A ready event-stream endpoint over a [`Publisher`], like a blueprint to
/// mount: `GET /events?channel=a&channel=b` subscribes to the channels named
/// (the [default channel](sse_proto::publisher::DEFAULT_CHANNEL) when none is), resuming from the
/// [`LastEventId`], once the access hook has accepted the request and given
/// the subscriber's properties.
///
/// Before the stream starts: invalid channels or `Last-Event-ID` get `400`, a
/// refusal from the hook its own response (`401`, `403`, ...), a full or
/// closed publisher `503`. Mount it as a hyper service
/// ([`service`](Self::service)) or, with the `axum` feature, an axum router
/// (`router`); [`handle`](Self::handle) answers one request anywhere. The
/// streams' keep-alive runs on the runtime `R`.
pub struct Events<P, R> {
    backend: Arc<dyn Backend<P>>,
    access: Arc<Access<P>>,
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
    /// What a hub watches of the streams, if it does.
    watch: Option<Arc<StreamWatch>>,
    runtime: PhantomData<fn() -> R>,
}

impl<P, R> Clone for Events<P, R> {
    fn clone(&self) -> Self {
        Self {
            backend: Arc::clone(&self.backend),
            access: Arc::clone(&self.access),
            keep_alive: self.keep_alive,
            retry: self.retry,
            watch: self.watch.clone(),
            runtime: PhantomData,
        }
    }
}

impl<P: 'static, R> fmt::Debug for Events<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("publisher", self.backend.publisher())
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<P: Send + Sync + 'static, R: Runtime> Events<P, R> {
    /// Everyone may subscribe to any channel, with `P::default()` as
    /// properties. `backend` is a [`Publisher`], or a layer over one
    /// ([`Backend`]).
    pub fn new(backend: impl Backend<P>) -> Self
    where
        P: Default,
    {
        Self::with_access(backend, |_, _| Ok(P::default()))
    }

    /// With an access hook: given the request head and the channels asked
    /// for (checked, the default channel filled in), it returns the
    /// subscriber's properties, or a [`Refusal`] sent instead of the stream.
    pub fn with_access<F>(backend: impl Backend<P>, access: F) -> Self
    where
        F: Fn(&Parts, &[String]) -> Result<P, Refusal> + Send + Sync + 'static,
    {
        Self::build(
            Arc::new(backend),
            Arc::new(
                move |parts: &Parts, channels: Vec<String>| -> AccessFuture<P> {
                    Box::pin(core::future::ready(access(parts, &channels)))
                },
            ),
        )
    }

    /// With an asynchronous access hook (one that looks a token up, say),
    /// given a copy of the request head and the channels.
    pub fn with_access_async<F, Fut>(backend: impl Backend<P>, access: F) -> Self
    where
        F: Fn(Parts, Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<P, Refusal>> + Send + 'static,
    {
        Self::build(
            Arc::new(backend),
            Arc::new(
                move |parts: &Parts, channels: Vec<String>| -> AccessFuture<P> {
                    Box::pin(access(parts.clone(), channels))
                },
            ),
        )
    }

    fn build(backend: Arc<dyn Backend<P>>, access: Arc<Access<P>>) -> Self {
        Self {
            backend,
            access,
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            retry: Some(DEFAULT_RECONNECTION_TIME),
            watch: None,
            runtime: PhantomData,
        }
    }

    /// Reports every stream to `watch` (the hub's metrics and logs).
    #[cfg(feature = "hub")]
    pub(crate) fn with_watch(mut self, watch: Arc<StreamWatch>) -> Self {
        self.watch = Some(watch);
        self
    }

    /// The keep-alive interval of the streams ([`SseBody::keep_alive`]).
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval;
        self
    }

    /// The `retry:` hint of the streams ([`SseBody::retry`]).
    pub fn retry(mut self, reconnection_time: Option<Duration>) -> Self {
        self.retry = reconnection_time;
        self
    }

    /// The keep-alive interval of the streams.
    pub fn keep_alive_interval(&self) -> Option<Duration> {
        self.keep_alive
    }

    /// The local publisher of the back end.
    pub fn publisher(&self) -> &Publisher<P> {
        self.backend.publisher()
    }

    /// The back end.
    pub fn backend(&self) -> &Arc<dyn Backend<P>> {
        &self.backend
    }

    /// Subscribes for one request head (the method and path are not
    /// checked): the stream's body, or the refusal to send instead.
    pub async fn subscribe(&self, parts: &Parts) -> Result<SseBody<R>, Refusal> {
        let limit = self.publisher().config().max_channels();
        let names = query::values(parts, "channel").collect::<Result<Vec<_>, _>>()?;
        let channels = ChannelList::parse_or_default(names.iter().map(|name| &**name), limit)
            .map_err(|e| channel_refusal(&names, e))?;
        let last_event_id = LastEventId::from_parts(parts)?;
        let properties = (self.access)(parts, channels.to_vec()).await?;
        let subscribed = self
            .backend
            .subscribe(properties, &channels, last_event_id.as_deref())
            .await?;
        let Some(subscription) = subscribed else {
            // Not now: only the `retry:` hint, then the end, so that the
            // client comes back a little later.
            return Ok(SseBody::from_stream(Nothing)
                .keep_alive(None)
                .retry(Some(self.retry.unwrap_or(DEFAULT_RECONNECTION_TIME))));
        };
        // A connection that carries a stream no longer counts as pending.
        if let Some(connection) = parts.extensions.get::<ConnectionHandle>() {
            connection.became_stream();
        }
        let watched = self.watch.as_ref().map(|watch| {
            let id = subscription.id().get();
            let client = parts.extensions.get::<super::ClientAddr>().map(|a| a.0);
            tracing::debug!(
                subscriber = id,
                client = ?client,
                channels = ?channels.as_slice(),
                resuming = last_event_id.as_deref().is_some(),
                "stream opened"
            );
            watch.watched(id)
        });
        let mut body = SseBody::new(subscription)
            .keep_alive(self.keep_alive)
            .retry(self.retry);
        body.watched = watched;
        Ok(body)
    }

    /// Answers one request (the path is not checked): `200` with the event
    /// stream, `405` for a method other than `GET`, or a refusal.
    pub async fn handle<B>(&self, request: http::Request<B>) -> http::Response<EventsBody> {
        let (parts, _body) = request.into_parts();
        if parts.method != Method::GET {
            return Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "use GET")
                .header(ALLOW, HeaderValue::from_static("GET"))
                .response();
        }
        match self.subscribe(&parts).await {
            Ok(body) => body.response().map(EventsBody::from),
            Err(refusal) => refusal.response(),
        }
    }
}
