//! What the hub counts itself: refused requests by route and reason,
//! publishes by result, publishes to the channels the operator listed; the
//! layer and the stream route that count and log refusals; and the
//! watch over its streams.

use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use http::request::Parts;

use super::{ClientInfo, Shared};
use crate::rt::Runtime;
use crate::server::watch::StreamWatch;
use crate::server::{ClientAddr, Events, Refusal, Refused, SseBody, StreamRoute};

/// Which route a refused request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    Events,
    Publish,
    Channels,
    /// `/metrics` and the status stream.
    Metrics,
    Other,
}

impl Route {
    pub(super) const ALL: [Self; 5] = [
        Self::Events,
        Self::Publish,
        Self::Channels,
        Self::Metrics,
        Self::Other,
    ];

    fn of(path: &str) -> Self {
        match path {
            "/events" => Self::Events,
            "/publish" => Self::Publish,
            "/metrics" | "/status/events" => Self::Metrics,
            path if path.starts_with("/channels/") => Self::Channels,
            _ => Self::Other,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::Publish => "publish",
            Self::Channels => "channels",
            Self::Metrics => "metrics",
            Self::Other => "other",
        }
    }
}

/// Why a request was refused, by its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reason {
    /// `401`: no token, or a wrong one.
    Token,
    /// `403`: an origin not allowed.
    Forbidden,
    /// `429`: a publish rate, or the streams of one client address.
    Limit,
    /// `400`, `431`: a request that does not parse or is not allowed.
    BadRequest,
    /// `413`: a body or an event too large.
    TooLarge,
    /// `408`: a body too slow.
    Timeout,
    /// `404`, `405`: no such route or method.
    NotFound,
    /// `503`: the back end cannot serve now, or the publisher is full.
    Unavailable,
    /// Any other status of 400 or more.
    Other,
}

impl Reason {
    pub(super) const ALL: [Self; 9] = [
        Self::Token,
        Self::Forbidden,
        Self::Limit,
        Self::BadRequest,
        Self::TooLarge,
        Self::Timeout,
        Self::NotFound,
        Self::Unavailable,
        Self::Other,
    ];

    fn of(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Token,
            403 => Self::Forbidden,
            429 => Self::Limit,
            400 | 431 => Self::BadRequest,
            413 => Self::TooLarge,
            408 => Self::Timeout,
            404 | 405 => Self::NotFound,
            503 => Self::Unavailable,
            _ => Self::Other,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Forbidden => "forbidden",
            Self::Limit => "limit",
            Self::BadRequest => "bad_request",
            Self::TooLarge => "too_large",
            Self::Timeout => "timeout",
            Self::NotFound => "not_found",
            Self::Unavailable => "unavailable",
            Self::Other => "other",
        }
    }
}

/// How a publish through the hub ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Published.
    Ok,
    /// Refused: token, rate, size, fields.
    Refused,
    /// The back end could not take it now (`503`).
    Unavailable,
}

impl Outcome {
    pub(super) const ALL: [Self; 3] = [Self::Ok, Self::Refused, Self::Unavailable];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Unavailable => "unavailable",
        }
    }
}

/// The hub's own counters.
#[derive(Debug)]
pub(super) struct Ops {
    refused: [[AtomicU64; Reason::ALL.len()]; Route::ALL.len()],
    published: [AtomicU64; Outcome::ALL.len()],
    /// The channels the operator listed, and the events published to each
    /// through this hub.
    channels: Vec<(String, AtomicU64)>,
    /// The streams.
    pub(super) watch: Arc<StreamWatch>,
}

/// A snapshot of [`Ops`]' counters.
#[derive(Clone, Debug, Default)]
pub(super) struct OpsCounts {
    /// `[route][reason]`, in `Route::ALL` and `Reason::ALL` order.
    pub(super) refused: Vec<Vec<u64>>,
    /// In `Outcome::ALL` order.
    pub(super) published: Vec<u64>,
    /// The listed channels and the events published to each.
    pub(super) channels: Vec<(String, u64)>,
}

fn zeros<const N: usize>() -> [AtomicU64; N] {
    core::array::from_fn(|_| AtomicU64::new(0))
}

impl Ops {
    pub(super) fn new(channels: &[String], timing: bool) -> Self {
        Self {
            refused: core::array::from_fn(|_| zeros()),
            published: zeros(),
            channels: channels
                .iter()
                .map(|name| (name.clone(), AtomicU64::new(0)))
                .collect(),
            watch: StreamWatch::new(timing),
        }
    }

    fn refused(&self, route: Route, reason: Reason) {
        let counter = self
            .refused
            .get(route as usize)
            .and_then(|row| row.get(reason as usize));
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A publish through the hub ended with `outcome`, to `channels`.
    pub(super) fn published(&self, outcome: Outcome, channels: &[&str]) {
        if let Some(counter) = self.published.get(outcome as usize) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if outcome == Outcome::Ok {
            for (name, counter) in &self.channels {
                if channels.contains(&name.as_str()) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    pub(super) fn counts(&self) -> OpsCounts {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        OpsCounts {
            refused: self
                .refused
                .iter()
                .map(|row| row.iter().map(get).collect())
                .collect(),
            published: self.published.iter().map(get).collect(),
            channels: self
                .channels
                .iter()
                .map(|(name, counter)| (name.clone(), get(counter)))
                .collect(),
        }
    }

    /// Counts and logs a refused request. The log names the route, never
    /// the query (a subscribe token may be in it) or a header.
    pub(super) fn refusal(
        &self,
        path: &str,
        status: StatusCode,
        message: &str,
        client: Option<ClientAddr>,
    ) {
        let route = Route::of(path);
        let reason = Reason::of(status);
        self.refused(route, reason);
        let route = route.as_str();
        let reason = reason.as_str();
        let client = client.map(|address| address.0.ip());
        match reason {
            "token" | "forbidden" | "limit" => tracing::info!(
                route,
                status = status.as_u16(),
                reason,
                client = ?client,
                detail = message,
                "request refused"
            ),
            "unavailable" => tracing::warn!(
                route,
                status = status.as_u16(),
                reason,
                client = ?client,
                detail = message,
                "request refused"
            ),
            _ => tracing::debug!(
                route,
                status = status.as_u16(),
                reason,
                client = ?client,
                detail = message,
                "request refused"
            ),
        }
    }
}

/// The routes whose answers are not refusals of a user's request: the
/// probes answer `503` as a matter of course, and the metrics routes count
/// their own refusals.
const OPERATOR_PATHS: [&str; 6] = [
    "/health",
    "/live",
    "/ready",
    "/metrics",
    "/status",
    "/status/events",
];

/// Counts and logs the hub's refusals on the routes users call (a layer
/// over the whole router, the CORS layer included).
pub(super) async fn count_refusals(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if OPERATOR_PATHS.contains(&path.as_str()) {
        return next.run(request).await;
    }
    let client = request.extensions().get::<ClientAddr>().copied();
    let response = next.run(request).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let message = response
            .extensions()
            .get::<Refused>()
            .map_or("", |refused| refused.0.as_str());
        shared.ops.refusal(&path, status, message, client);
    }
    response
}

/// The hub's stream route for the lean path: its [`Events`], with the
/// refusals counted and logged as the layer does for the hyper path.
pub(super) struct Streams<R> {
    pub(super) events: Events<ClientInfo, R>,
    pub(super) shared: Arc<Shared>,
}

impl<R: Runtime> StreamRoute<R> for Streams<R> {
    fn path(&self) -> &str {
        StreamRoute::<R>::path(&self.events)
    }

    fn keep_alive(&self) -> Option<Duration> {
        StreamRoute::<R>::keep_alive(&self.events)
    }

    fn open<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<SseBody<R>, Refusal>> + Send + 'a>> {
        Box::pin(async move {
            let opened = self.events.subscribe(parts).await;
            if let Err(refusal) = &opened {
                let client = parts.extensions.get::<ClientAddr>().copied();
                self.shared.ops.refusal(
                    parts.uri.path(),
                    refusal.status(),
                    refusal.message(),
                    client,
                );
            }
            opened
        })
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::{Ops, Outcome, Reason, Route};

    #[test]
    fn refusals_are_counted_by_route_and_reason() {
        let ops = Ops::new(&["news".to_owned()], false);
        ops.refusal("/events", StatusCode::UNAUTHORIZED, "wrong", None);
        ops.refusal("/events", StatusCode::TOO_MANY_REQUESTS, "", None);
        ops.refusal("/channels/a/close", StatusCode::UNAUTHORIZED, "", None);
        ops.refusal("/nope", StatusCode::IM_A_TEAPOT, "", None);
        let counts = ops.counts();
        let at = |route: Route, reason: Reason| counts.refused[route as usize][reason as usize];
        assert_eq!(at(Route::Events, Reason::Token), 1);
        assert_eq!(at(Route::Events, Reason::Limit), 1);
        assert_eq!(at(Route::Channels, Reason::Token), 1);
        assert_eq!(at(Route::Other, Reason::Other), 1);
        assert_eq!(counts.refused.iter().flatten().sum::<u64>(), 4);
    }

    #[test]
    fn only_listed_channels_count_their_publishes() {
        let ops = Ops::new(&["news".to_owned()], false);
        ops.published(Outcome::Ok, &["news", "sport"]);
        ops.published(Outcome::Ok, &["sport"]);
        ops.published(Outcome::Refused, &["news"]);
        let counts = ops.counts();
        assert_eq!(counts.published, [2, 1, 0]);
        assert_eq!(counts.channels, [("news".to_owned(), 1)]);
    }
}
