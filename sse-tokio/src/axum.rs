//! axum glue: [`SseBody`], [`EventsBody`] and [`Refusal`] as responses, the
//! [`LastEventId`] extractor, and [`Events::router`], a ready `GET
//! /events?channel=..` route over a [`Publisher`](crate::Publisher) with an
//! access hook.
//!
//! ```no_run
//! use axum::Router;
//! use sse_tokio::Publisher;
//! use sse_tokio::server::{Events, Refusal};
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

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::request::Parts;

use crate::server::EVENTS_PATH;
pub use crate::server::{Events, EventsBody, LastEventId, Refusal, SseBody};

impl IntoResponse for SseBody {
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

impl<P: Send + Sync + 'static> Events<P> {
    /// A router with `GET /events`, to merge into an application.
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
