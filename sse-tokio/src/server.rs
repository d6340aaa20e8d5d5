//! The server side on tokio: an event stream as a streaming HTTP response
//! body, and a ready endpoint.
//!
//! [`SseBody`] turns a [`Subscription`](crate::Subscription) (or any stream
//! of events) into an `http_body::Body`, so it works with hyper and with
//! every framework built on it: a `retry:` hint first, the chunks without
//! copying, and a keep-alive comment whenever the stream has been quiet for
//! the keep-alive interval (timed with `tokio::time`, so it needs a tokio
//! runtime with the time driver enabled). [`Events`] is a ready `GET
//! /events?channel=..` endpoint over a [`Publisher`](crate::Publisher),
//! with an access hook that can refuse a request before the stream starts;
//! mount it with [`Events::service`] in hyper, or with the `axum` feature
//! as a router (see [`axum`](crate::axum)).
//!
//! These are sse-hyper's types ([`sse_hyper::server`]) on
//! [`TokioRuntime`]: their documentation is there.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use sse_tokio::Publisher;
//! use sse_tokio::server::SseBody;
//!
//! # async fn handle(publisher: Publisher) -> Result<sse_tokio::http::Response<SseBody>, Infallible> {
//! // In a hyper service:
//! let subscription = publisher.subscribe("news", (), []).expect("valid channel");
//! Ok(SseBody::new(subscription).response())
//! # }
//! ```

pub use sse_hyper::server::{
    DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME, EVENTS_PATH, EventsBody, LastEventId, Refusal,
    SubscriptionFuture, SubscriptionSource, headers,
};

use crate::TokioRuntime;

/// An event stream as an HTTP response body, with keep-alive comments on
/// tokio's clock: [`sse_hyper::server::SseBody`] on [`TokioRuntime`].
pub type SseBody = sse_hyper::server::SseBody<TokioRuntime>;

/// The ready `GET /events?channel=..` endpoint:
/// [`sse_hyper::server::Events`] on [`TokioRuntime`].
pub type Events<P> = sse_hyper::server::Events<P, TokioRuntime>;

/// [`Events`] as a hyper service: [`sse_hyper::server::EventsService`] on
/// [`TokioRuntime`].
pub type EventsService<P> = sse_hyper::server::EventsService<P, TokioRuntime>;
