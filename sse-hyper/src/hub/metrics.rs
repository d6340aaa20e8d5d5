//! `GET /metrics`: every figure of the hub in the Prometheus text format,
//! read at each scrape from where it is kept (the server's, the
//! publisher's, the streams' and the hub's own counters, the back end's
//! health) and encoded by `prometheus-client`.
//!
//! `prometheus-client` is the Prometheus project's own Rust client: it
//! writes both text formats (OpenMetrics, and the classic 0.0.4 that older
//! scrapers and `curl` users read), escapes label values, and takes
//! figures from a [`Collector`] at scrape time, so the hub keeps its
//! counters where they already are (plain atomics) and keeps no registry
//! or global state. (`metrics` with its exporter installs a process-wide
//! recorder, which a library mounted in someone else's application must
//! not do.)

use core::fmt;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use http::request::Parts;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use sse_proto::publisher::Stats;

use super::Shared;
use super::auth::Action;
use super::ops::{OpsCounts, Outcome, Reason, Route};
use crate::server::watch::{LATENCY_BUCKETS, StreamCounts, StreamEnd, StreamPath};
use crate::server::{BackendHealth, ClientAddr, Refusal, ServeCounts};

/// The content type of the classic text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics text.
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Everything the hub reports, read at one moment.
#[derive(Clone, Debug)]
pub(super) struct Snapshot {
    pub(super) stats: Stats,
    pub(super) served: Option<ServeCounts>,
    pub(super) streams: StreamCounts,
    pub(super) health: BackendHealth,
    pub(super) ops: OpsCounts,
    /// The listed channels and their subscribers on this node.
    pub(super) channels: Vec<(String, usize)>,
}

impl Snapshot {
    pub(super) fn take(shared: &Shared) -> Self {
        let publisher = shared.publisher();
        let channels = shared
            .config
            .metrics_channels()
            .iter()
            .map(|name| {
                let count = publisher.subscribers(name.as_str()).map_or(0, |l| l.len());
                (name.clone(), count)
            })
            .collect();
        Self {
            stats: publisher.stats(),
            served: shared.served.get().map(|served| served.counts()),
            streams: shared.ops.watch.counts(),
            health: shared.backend.health(),
            ops: shared.ops.counts(),
            channels,
        }
    }

    /// Streams open now, on both paths.
    pub(super) fn open_streams(&self) -> u64 {
        self.streams.open.iter().sum()
    }

    /// Subscribers dropped for a write timeout: the server's count of
    /// connections cut (streams, mostly) when it serves, else the lean
    /// writer's.
    fn write_timeouts(&self) -> u64 {
        match &self.served {
            Some(served) => served.write_timeouts,
            None => self.streams.ended[StreamEnd::WriteTimeout as usize],
        }
    }
}

/// One figure's value.
#[derive(Clone, Copy, Debug)]
enum Value {
    Count(u64),
    Gauge(i64),
    Float(f64),
}

fn gauge(value: impl TryInto<i64>) -> Value {
    Value::Gauge(value.try_into().unwrap_or(i64::MAX))
}

fn encode_value(metric: &mut MetricEncoder<'_>, value: Value) -> fmt::Result {
    match value {
        Value::Count(count) => metric.encode_counter::<NoLabelSet, _, u64>(&count, None),
        Value::Gauge(value) => metric.encode_gauge(&value),
        Value::Float(value) => metric.encode_gauge(&value),
    }
}

/// Labels of one sample.
type Labels<'a> = Vec<(&'static str, &'a str)>;

/// Writes one metric: its descriptor, then each sample.
fn metric(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: &[(Labels<'_>, Value)],
) -> fmt::Result {
    let Some((_, first)) = samples.first() else {
        return Ok(());
    };
    let kind = match first {
        Value::Count(_) => MetricType::Counter,
        _ => MetricType::Gauge,
    };
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in samples {
        if labels.is_empty() {
            encode_value(&mut metric, *value)?;
        } else {
            let labels = labels.as_slice();
            let mut family = metric.encode_family(&labels)?;
            encode_value(&mut family, *value)?;
        }
    }
    Ok(())
}

/// One unlabelled sample.
fn one(value: Value) -> [(Labels<'static>, Value); 1] {
    [(Vec::new(), value)]
}

impl Snapshot {
    /// Writes every figure (names in the README, "Operating the hub").
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let e = &mut encoder;
        let stats = &self.stats;
        let count = |n: u64| Value::Count(n);

        // Streams and connections.
        let open: Vec<_> = StreamPath::ALL
            .iter()
            .map(|path| {
                let open = self.streams.open[*path as usize];
                (vec![("path", path.as_str())], gauge(open))
            })
            .collect();
        metric(
            e,
            "sse_streams_open",
            "Event streams open now, by the writer that serves them (lean: the server's own; hyper).",
            &open,
        )?;
        let ended: Vec<_> = StreamEnd::ALL
            .iter()
            .map(|end| {
                (
                    vec![("reason", end.as_str())],
                    count(self.streams.ended[*end as usize]),
                )
            })
            .collect();
        metric(
            e,
            "sse_streams_ended",
            "Event streams ended, by why.",
            &ended,
        )?;
        metric(
            e,
            "sse_subscribers",
            "Subscribers of the publisher now.",
            &one(gauge(stats.subscribers)),
        )?;
        metric(
            e,
            "sse_subscriptions",
            "Subscriptions opened.",
            &one(count(stats.subscribed)),
        )?;
        if let Some(served) = &self.served {
            metric(
                e,
                "sse_connections_open",
                "Connections open now.",
                &one(gauge(served.open)),
            )?;
            metric(
                e,
                "sse_connections_pending",
                "Connections open now that are not streams.",
                &one(gauge(served.pending)),
            )?;
            metric(
                e,
                "sse_connections_accepted",
                "Connections accepted.",
                &one(count(served.accepted)),
            )?;
            let refused = [
                (vec![("reason", "limit")], count(served.refused_pending)),
                (
                    vec![("reason", "client_limit")],
                    count(served.refused_client),
                ),
                (vec![("reason", "bad_request")], count(served.bad_heads)),
                (vec![("reason", "timeout")], count(served.head_timeouts)),
            ];
            metric(
                e,
                "sse_connections_refused",
                "Connections closed before a request was answered: too many pending in all (limit) or from one address (client_limit), a malformed or oversized head (bad_request), no head in time (timeout).",
                &refused,
            )?;
        }
        let mut refused = Vec::new();
        for route in Route::ALL {
            for reason in Reason::ALL {
                let n = self.ops.refused[route as usize][reason as usize];
                refused.push((
                    vec![("route", route.as_str()), ("reason", reason.as_str())],
                    count(n),
                ));
            }
        }
        metric(
            e,
            "sse_requests_refused",
            "Requests the hub refused, by route and reason (token 401, forbidden 403, limit 429, bad_request 400, too_large 413, timeout 408, not_found 404/405, unavailable 503).",
            &refused,
        )?;

        // Events.
        let published: Vec<_> = Outcome::ALL
            .iter()
            .map(|outcome| {
                (
                    vec![("result", outcome.as_str())],
                    count(self.ops.published[*outcome as usize]),
                )
            })
            .collect();
        metric(
            e,
            "sse_events_published",
            "Publishes through this hub, by result.",
            &published,
        )?;
        metric(
            e,
            "sse_events_fanned_out",
            "Events this node's publisher sent out (published here, or through another node).",
            &one(count(stats.published)),
        )?;
        metric(
            e,
            "sse_deliveries",
            "Events queued for subscribers, one per subscriber reached.",
            &one(count(stats.delivered)),
        )?;
        metric(
            e,
            "sse_events_dropped",
            "Events dropped from the queues of subscribers that fell behind.",
            &one(count(stats.dropped)),
        )?;
        let dropped = [
            (vec![("reason", "lag")], count(stats.lag_disconnects)),
            (
                vec![("reason", "write_timeout")],
                count(self.write_timeouts()),
            ),
            (vec![("reason", "closed")], count(stats.ended)),
        ];
        metric(
            e,
            "sse_subscribers_dropped",
            "Subscribers the server ended: fell behind (lag), took nothing for the write timeout, or their channel or the hub closed.",
            &dropped,
        )?;
        metric(
            e,
            "sse_lag_resets",
            "Reset events sent in place of events dropped for lag.",
            &one(count(stats.lag_resets)),
        )?;
        let replays = [
            (vec![("result", "served")], count(stats.replays_served)),
            (vec![("result", "reset")], count(stats.replays_reset)),
        ];
        metric(
            e,
            "sse_replay_requests",
            "Subscriptions resuming from a Last-Event-ID: served from the history, or reset (the id is unknown).",
            &replays,
        )?;
        metric(
            e,
            "sse_replayed_events",
            "Events replayed from the history.",
            &one(count(stats.replayed)),
        )?;
        metric(
            e,
            "sse_history_resets",
            "Reset events sent because history a resuming subscriber missed was gone.",
            &one(count(stats.history_resets)),
        )?;
        metric(
            e,
            "sse_queue_bytes",
            "Bytes queued for subscribers and not yet written.",
            &one(gauge(stats.queued_bytes)),
        )?;
        metric(
            e,
            "sse_history_events",
            "Events in the replay history.",
            &one(gauge(stats.history_events)),
        )?;
        metric(
            e,
            "sse_history_bytes",
            "Bytes in the replay history.",
            &one(gauge(stats.history_bytes)),
        )?;
        if let Some(latency) = &self.streams.latency {
            metric(
                e,
                "sse_stream_written_bytes",
                "Bytes of events written on streams (without the HTTP framing and keep-alives).",
                &one(count(self.streams.written_bytes)),
            )?;
            metric(
                e,
                "sse_stream_written_chunks",
                "Chunks of events written on streams.",
                &one(count(self.streams.written_chunks)),
            )?;
            let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
                .iter()
                .copied()
                .zip(latency.counts.iter().copied())
                .collect();
            buckets.push((f64::INFINITY, latency.counts.last().copied().unwrap_or(0)));
            let mut histogram = e.encode_descriptor(
                "sse_publish_to_write_seconds",
                "Time from an event's publish on this node to its stream's writer taking it.",
                None,
                MetricType::Histogram,
            )?;
            histogram.encode_histogram::<NoLabelSet>(
                latency.sum,
                latency.count(),
                &buckets,
                None,
            )?;
        }

        // Channels the operator listed.
        if !self.channels.is_empty() {
            let subscribers: Vec<_> = self
                .channels
                .iter()
                .map(|(name, n)| (vec![("channel", name.as_str())], gauge(*n)))
                .collect();
            metric(
                e,
                "sse_channel_subscribers",
                "Subscribers of each listed channel on this node.",
                &subscribers,
            )?;
            let published: Vec<_> = self
                .ops
                .channels
                .iter()
                .map(|(name, n)| (vec![("channel", name.as_str())], count(*n)))
                .collect();
            metric(
                e,
                "sse_channel_events_published",
                "Events published through this hub to each listed channel.",
                &published,
            )?;
        }

        // The back end.
        let kind = self.health.kind;
        let up = |up: bool| Value::Gauge(i64::from(up));
        metric(
            e,
            "sse_backend_up",
            "Whether the back end can serve (1) or not (0).",
            &[(vec![("backend", kind)], up(self.health.up))],
        )?;
        if let Some(link) = &self.health.link {
            let label = || vec![("backend", kind)];
            metric(
                e,
                "sse_link_up",
                "Whether the back end's link (to Redis) is up (1) or down (0).",
                &[(label(), up(link.up))],
            )?;
            metric(
                e,
                "sse_link_reconnects",
                "Times the back end's link was lost and made again.",
                &[(label(), count(link.reconnects))],
            )?;
            if let Some(lag) = link.lag {
                metric(
                    e,
                    "sse_link_lag_seconds",
                    "How late this node fed the last entry of the shared log: from its append (the log's clock) to its feed (this node's).",
                    &[(label(), Value::Float(lag.as_secs_f64()))],
                )?;
            }
        }
        Ok(())
    }
}

/// The hub's figures as a [`Collector`], taken at each encode.
pub(super) struct Live(pub(super) Arc<Shared>);

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HubMetrics")
    }
}

impl Collector for Live {
    fn encode(&self, encoder: DescriptorEncoder<'_>) -> fmt::Result {
        Snapshot::take(&self.0).encode(encoder)
    }
}

/// Every figure as text: OpenMetrics, or the classic format.
pub(super) fn text(shared: &Arc<Shared>, openmetrics: bool) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Live(Arc::clone(shared))));
    let mut out = String::new();
    let encoded = if openmetrics {
        prometheus_client::encoding::text::encode(&mut out, &registry)
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
    };
    // Writing to a String cannot fail; an encoder error would be a bug in
    // a name or label, and leaves what was written before it.
    if encoded.is_err() {
        tracing::error!("the metrics could not all be encoded");
    }
    out
}

/// Checks the metrics token, if one is set (header only); counts and logs
/// a refusal.
pub(super) fn check_token(shared: &Shared, parts: &Parts) -> Result<(), Refusal> {
    shared
        .access
        .check(parts, Action::Operate)
        .map(drop)
        .inspect_err(|refusal| {
            let client = parts.extensions.get::<ClientAddr>().copied();
            shared.ops.refusal(
                parts.uri.path(),
                refusal.status(),
                refusal.message(),
                client,
            );
        })
}

/// `GET /metrics`.
pub(super) async fn handler(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = check_token(&shared, &parts) {
        return refusal.into_response();
    }
    let openmetrics = parts
        .headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let body = text(&shared, openmetrics);
    let content_type = if openmetrics {
        OPENMETRICS_TEXT
    } else {
        PROMETHEUS_TEXT
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
