//! axum glue: [`SseBody`], [`EventsBody`] and [`Refusal`] as responses, the
//! [`LastEventId`] extractor, and [`Events::router`], a ready `GET
//! /events?channel=..` route over a [`Publisher`](crate::Publisher) with an
//! access hook.
//!
//! The implementations live in sse-hyper (feature `axum`, which this
//! crate's `axum` feature turns on), next to the types they are for; this
//! module names the types you use with axum.
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

pub use crate::server::{Events, EventsBody, LastEventId, Refusal, SseBody};
