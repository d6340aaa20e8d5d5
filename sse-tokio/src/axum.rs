//! axum glue: [`SseBody`] as a response, the [`LastEventId`] extractor, and
//! [`Events`], a ready `GET /events?channel=..` router over a [`Publisher`]
//! with an access hook.
//!
//! ```no_run
//! use axum::Router;
//! use sse_tokio::Publisher;
//! use sse_tokio::axum::{Events, Refusal};
//!
//! // Subscribers' properties: here the user name from a header.
//! let publisher: Publisher<String> = Publisher::new();
//! let events = Events::with_access(publisher.clone(), |parts, channels| {
//!     let user = parts.headers.get("x-user").and_then(|v| v.to_str().ok());
//!     match user {
//!         None => Err(Refusal::unauthorized("log in first")),
//!         Some(_) if channels.iter().any(|c| c == "admin") => Err(Refusal::forbidden("admins only")),
//!         Some(user) => Ok(user.to_string()),
//!     }
//! });
//! let app: Router = Router::new().merge(events.router());
//! // axum::serve(listener, app).await
//! ```

use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::request::Parts;
use sse_proto::EventId;
use sse_proto::publisher::{DEFAULT_CHANNEL, MAX_ID_LEN, Publisher, SubscribeError, check_channel};

use crate::server::{KEEP_ALIVE, RETRY, SseBody};

impl IntoResponse for SseBody {
    /// `200 OK` with the event-stream headers and this body.
    fn into_response(self) -> Response {
        self.response().map(Body::new)
    }
}

/// A plain-text error response.
fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut response = Response::new(Body::from(message.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The id of the last event a reconnecting client saw: the `Last-Event-ID`
/// header, or else a `lastEventId` query parameter (for clients that cannot
/// set headers). `None` when neither is given or the value is empty.
///
/// A value that no event could have had (over
/// [`MAX_ID_LEN`] bytes, CR, LF or NUL, not UTF-8) is refused with `400 Bad
/// Request`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LastEventId(pub Option<String>);

impl LastEventId {
    /// The id, if any.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Reads it from a request head.
    pub fn from_parts(parts: &Parts) -> Result<Self, BadLastEventId> {
        let value = match parts.headers.get("last-event-id") {
            Some(value) => Some(
                core::str::from_utf8(value.as_bytes())
                    .map_err(|_| BadLastEventId)?
                    .to_owned(),
            ),
            None => query_values(parts, "lastEventId").next(),
        };
        match value {
            Some(id) if id.len() > MAX_ID_LEN || EventId::new(&id).is_err() => Err(BadLastEventId),
            Some(id) if !id.is_empty() => Ok(Self(Some(id))),
            _ => Ok(Self(None)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = BadLastEventId;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)
    }
}

/// The rejection of an invalid [`LastEventId`]: `400 Bad Request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BadLastEventId;

impl core::fmt::Display for BadLastEventId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "invalid Last-Event-ID: not UTF-8, longer than {MAX_ID_LEN} bytes, or contains CR, LF or NUL"
        )
    }
}

impl std::error::Error for BadLastEventId {}

impl IntoResponse for BadLastEventId {
    fn into_response(self) -> Response {
        text(StatusCode::BAD_REQUEST, self.to_string())
    }
}

/// The values of a query parameter, percent-decoded.
fn query_values<'a>(parts: &'a Parts, key: &'a str) -> impl Iterator<Item = String> + 'a {
    let query = parts.uri.query().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .filter(move |(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

/// An access hook's refusal: the response sent instead of the stream.
#[derive(Debug)]
pub struct Refusal(Box<Response>);

impl Refusal {
    /// `401 Unauthorized` with a plain-text message. (Add a
    /// `WWW-Authenticate` challenge with [`response`](Self::response).)
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self(Box::new(text(StatusCode::UNAUTHORIZED, message)))
    }

    /// `403 Forbidden` with a plain-text message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self(Box::new(text(StatusCode::FORBIDDEN, message)))
    }

    /// Any response.
    pub fn response(response: impl IntoResponse) -> Self {
        Self(Box::new(response.into_response()))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

type AccessFuture<P> = Pin<Box<dyn Future<Output = Result<P, Refusal>> + Send>>;
type Access<P> = dyn Fn(&Parts, Vec<String>) -> AccessFuture<P> + Send + Sync;

/// A ready event-stream endpoint over a [`Publisher`]: `GET
/// /events?channel=a&channel=b` subscribes to the channels named (the
/// [default channel](DEFAULT_CHANNEL) when none is), resuming from
/// [`LastEventId`], after the access hook has accepted the request.
///
/// Before the stream starts: invalid channels or `Last-Event-ID` get `400`,
/// a refusal from the hook gets its response (`401`, `403`, ...), a full or
/// closed publisher gets `503`.
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

impl<P> core::fmt::Debug for Events<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
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
            Box::new(move |parts, channels| {
                let outcome = access(parts, &channels);
                Box::pin(core::future::ready(outcome))
            }),
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
            Box::new(move |parts, channels| Box::pin(access(parts.clone(), channels))),
        )
    }

    fn build(publisher: Publisher<P>, access: Box<Access<P>>) -> Self {
        Self {
            publisher,
            access: Arc::from(access),
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

    /// A router with `GET /events`, to merge into an application.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route(
            "/events",
            get(move |request: Request| {
                let events = self.clone();
                async move { events.handle(request.into_parts().0).await }
            }),
        )
    }

    /// Answers one request (for mounting the endpoint elsewhere).
    pub async fn handle(&self, parts: Parts) -> Response {
        let mut channels: Vec<String> = Vec::new();
        let limit = self.publisher.config().max_channels_value();
        for channel in query_values(&parts, "channel") {
            if let Err(e) = check_channel(&channel) {
                return text(StatusCode::BAD_REQUEST, format!("channel {channel:?}: {e}"));
            }
            if !channels.contains(&channel) {
                channels.push(channel);
            }
            if channels.len() > limit {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("more than {limit} channels named"),
                );
            }
        }
        if channels.is_empty() {
            channels.push(DEFAULT_CHANNEL.to_owned());
        }
        let last_event_id = match LastEventId::from_parts(&parts) {
            Ok(id) => id,
            Err(e) => return e.into_response(),
        };
        let properties = match (self.access)(&parts, channels.clone()).await {
            Ok(properties) => properties,
            Err(refusal) => return refusal.into_response(),
        };
        let subscription = self
            .publisher
            .subscriber(properties)
            .channels(&channels)
            .last_event_id(last_event_id.as_deref())
            .subscribe();
        match subscription {
            Ok(subscription) => SseBody::new(subscription)
                .keep_alive(self.keep_alive)
                .retry(self.retry)
                .into_response(),
            Err(e @ (SubscribeError::TooManySubscribers { .. } | SubscribeError::Closed)) => {
                text(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            Err(e) => text(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }
}
