//! [`Events`]: a ready event-stream endpoint over a [`Publisher`], with an
//! access hook, for any HTTP stack that speaks the `http` crate's types.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};
use http_body::{Body, Frame, SizeHint};
use sse_proto::EventId;
use sse_proto::publisher::{DEFAULT_CHANNEL, MAX_ID_LEN, Publisher, SubscribeError, check_channel};

use super::{KEEP_ALIVE, RETRY, SseBody};

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

    /// The response: the status, the headers, and the message as
    /// `text/plain`.
    pub fn response(self) -> http::Response<EventsBody> {
        let RefusalParts {
            status,
            headers,
            message,
        } = *self.0;
        let mut response = http::Response::new(EventsBody(Inner::Full(Some(Bytes::from(message)))));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

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

/// The values of a query parameter, percent-decoded.
fn query_values<'a>(parts: &'a Parts, key: &'a str) -> impl Iterator<Item = String> + 'a {
    let query = parts.uri.query().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .filter(move |(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
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
    /// UTF-8, over [`MAX_ID_LEN`] bytes, CR, LF or NUL) is refused with `400
    /// Bad Request`.
    pub fn from_parts(parts: &Parts) -> Result<Self, Refusal> {
        let bad = || {
            Refusal::bad_request(format!(
                "invalid Last-Event-ID: not UTF-8, longer than {MAX_ID_LEN} bytes, or contains CR, LF or NUL"
            ))
        };
        let value = match parts.headers.get("last-event-id") {
            Some(value) => Some(
                core::str::from_utf8(value.as_bytes())
                    .map_err(|_| bad())?
                    .to_owned(),
            ),
            None => query_values(parts, "lastEventId").next(),
        };
        match value {
            Some(id) if id.len() > MAX_ID_LEN || EventId::new(&id).is_err() => Err(bad()),
            Some(id) if !id.is_empty() => Ok(Self(Some(id))),
            _ => Ok(Self(None)),
        }
    }
}

/// The body of an [`Events`] response: the event stream, or a refusal's
/// message.
#[derive(Debug)]
pub struct EventsBody(Inner);

#[derive(Debug)]
enum Inner {
    Stream(SseBody),
    Full(Option<Bytes>),
}

impl From<SseBody> for EventsBody {
    fn from(body: SseBody) -> Self {
        Self(Inner::Stream(body))
    }
}

impl Body for EventsBody {
    type Data = Bytes;
    type Error = core::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match &mut self.get_mut().0 {
            Inner::Stream(body) => Pin::new(body).poll_frame(cx),
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
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

type AccessFuture<P> = Pin<Box<dyn Future<Output = Result<P, Refusal>> + Send>>;
type Access<P> = dyn Fn(&Parts, Vec<String>) -> AccessFuture<P> + Send + Sync;

/// A ready event-stream endpoint over a [`Publisher`], like a blueprint to
/// mount: `GET /events?channel=a&channel=b` subscribes to the channels named
/// (the [default channel](DEFAULT_CHANNEL) when none is), resuming from the
/// [`LastEventId`], once the access hook has accepted the request and given
/// the subscriber's properties.
///
/// Before the stream starts: invalid channels or `Last-Event-ID` get `400`, a
/// refusal from the hook its own response (`401`, `403`, ...), a full or
/// closed publisher `503`. Each adapter mounts it its own way (an axum
/// router, a hyper service); [`handle`](Self::handle) answers one request
/// anywhere.
pub struct Events<P> {
    publisher: Publisher<P>,
    access: Arc<Access<P>>,
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
}

impl<P> Clone for Events<P> {
    fn clone(&self) -> Self {
        Self {
            publisher: self.publisher.clone(),
            access: Arc::clone(&self.access),
            keep_alive: self.keep_alive,
            retry: self.retry,
        }
    }
}

impl<P> fmt::Debug for Events<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("publisher", &self.publisher)
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<P: Send + Sync + 'static> Events<P> {
    /// Everyone may subscribe to any channel, with `P::default()` as
    /// properties.
    pub fn new(publisher: Publisher<P>) -> Self
    where
        P: Default,
    {
        Self::with_access(publisher, |_, _| Ok(P::default()))
    }

    /// With an access hook: given the request head and the channels asked
    /// for (checked, the default channel filled in), it returns the
    /// subscriber's properties, or a [`Refusal`] sent instead of the stream.
    pub fn with_access<F>(publisher: Publisher<P>, access: F) -> Self
    where
        F: Fn(&Parts, &[String]) -> Result<P, Refusal> + Send + Sync + 'static,
    {
        Self::build(
            publisher,
            Arc::new(
                move |parts: &Parts, channels: Vec<String>| -> AccessFuture<P> {
                    Box::pin(core::future::ready(access(parts, &channels)))
                },
            ),
        )
    }

    /// With an asynchronous access hook (one that looks a token up, say),
    /// given a copy of the request head and the channels.
    pub fn with_access_async<F, Fut>(publisher: Publisher<P>, access: F) -> Self
    where
        F: Fn(Parts, Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<P, Refusal>> + Send + 'static,
    {
        Self::build(
            publisher,
            Arc::new(
                move |parts: &Parts, channels: Vec<String>| -> AccessFuture<P> {
                    Box::pin(access(parts.clone(), channels))
                },
            ),
        )
    }

    fn build(publisher: Publisher<P>, access: Arc<Access<P>>) -> Self {
        Self {
            publisher,
            access,
            keep_alive: Some(KEEP_ALIVE),
            retry: Some(RETRY),
        }
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

    /// The publisher.
    pub fn publisher(&self) -> &Publisher<P> {
        &self.publisher
    }

    /// Subscribes for one request head (the method and path are not
    /// checked): the stream's body, or the refusal to send instead.
    pub async fn subscribe(&self, parts: &Parts) -> Result<SseBody, Refusal> {
        let limit = self.publisher.config().max_channels_value();
        let mut channels: Vec<String> = Vec::new();
        for channel in query_values(parts, "channel") {
            check_channel(&channel)
                .map_err(|e| Refusal::bad_request(format!("channel {channel:?}: {e}")))?;
            if !channels.contains(&channel) {
                channels.push(channel);
            }
            if channels.len() > limit {
                return Err(Refusal::bad_request(format!(
                    "more than {limit} channels named"
                )));
            }
        }
        if channels.is_empty() {
            channels.push(DEFAULT_CHANNEL.to_owned());
        }
        let last_event_id = LastEventId::from_parts(parts)?;
        let properties = (self.access)(parts, channels.clone()).await?;
        let subscription = self
            .publisher
            .subscriber(properties)
            .channels(&channels)
            .last_event_id(last_event_id.as_deref())
            .subscribe()?;
        Ok(SseBody::new(subscription)
            .keep_alive(self.keep_alive)
            .retry(self.retry))
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
