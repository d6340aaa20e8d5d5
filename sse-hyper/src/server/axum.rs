//! axum glue: [`SseBody`], [`EventsBody`] and [`Refusal`] as responses, the
//! [`LastEventId`] extractor, and [`Events::router`], a ready `GET
//! /events?channel=..` route. Here rather than in `sse-tokio` because these
//! types are this crate's (a trait impl lives with its type or its trait);
//! axum without its `tokio` feature names no runtime.

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::request::Parts;

use super::{EVENTS_PATH, Events, EventsBody, LastEventId, Refusal, SseBody};
use crate::rt::Runtime;

impl<R: Runtime> IntoResponse for SseBody<R> {
    /// `200 OK` with the event-stream headers and this body.
    fn into_response(self) -> Response {
        self.response().map(Body::new)
    }
}

impl IntoResponse for EventsBody {
    fn into_response(self) -> Response {
        Response::new(Body::new(self))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.response().map(Body::new)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    /// `400 Bad Request` for a value no event could have had.
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)
    }
}

impl<P: Send + Sync + 'static, R: Runtime> Events<P, R> {
    /// A router with `GET /events`, to merge into an application (feature
    /// `axum`).
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route(
            EVENTS_PATH,
            get(move |request: Request| {
                let events = self.clone();
                async move {
                    match events.subscribe(&request.into_parts().0).await {
                        Ok(body) => body.into_response(),
                        Err(refusal) => refusal.into_response(),
                    }
                }
            }),
        )
    }
}
