//! `GET /status`, a page of live figures, and `GET /status/events`, the
//! event stream of the hub's own that feeds it: an `history` event with
//! the samples kept for the chart, then a `sample` event every status
//! interval (streams, events and deliveries per second, latency, queues,
//! the back end and its link, the busiest channels).
//!
//! Samples are taken by the status streams themselves, so a hub nobody
//! watches takes none; the last [`KEPT`] are kept (five minutes at one a
//! second) for the chart of the next page opened.

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};
use sse_proto::{EventBuf, FrameBuf};

use super::Shared;
use super::metrics::{Snapshot, check_token};
use crate::rt::Runtime;
use crate::server::SseBody;
use crate::server::watch::{HistogramCounts, LATENCY_BUCKETS};

/// The status page: plain HTML and JavaScript, no build step.
const STATUS_PAGE: &str = include_str!("status.html");

/// How many samples are kept for the chart.
pub(super) const KEPT: usize = 300;

/// How many channels a sample lists, busiest first.
const CHANNELS: usize = 20;

/// The counters a rate is computed from.
#[derive(Clone, Debug)]
struct Raw {
    at: Instant,
    fanned_out: u64,
    delivered: u64,
    published: u64,
    latency: Option<HistogramCounts>,
}

/// One sample: its figures as JSON (without the channels), and the
/// counters the next one's rates start from.
#[derive(Clone, Debug)]
struct Sample {
    raw: Raw,
    figures: Value,
}

/// The samples kept for the chart.
#[derive(Debug, Default)]
pub(super) struct Samples {
    kept: Mutex<VecDeque<Sample>>,
}

fn per_second(now: u64, before: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    now.saturating_sub(before) as f64 / seconds
}

/// The mean and the 99th percentile (the upper bound of its bucket) of
/// what was observed between two histograms, in milliseconds.
fn latency_ms(now: &HistogramCounts, before: Option<&HistogramCounts>) -> (Value, Value) {
    let before_counts = before.map(|b| b.counts.as_slice()).unwrap_or_default();
    let delta: Vec<u64> = now
        .counts
        .iter()
        .enumerate()
        .map(|(i, n)| n.saturating_sub(before_counts.get(i).copied().unwrap_or(0)))
        .collect();
    let count: u64 = delta.iter().sum();
    if count == 0 {
        return (Value::Null, Value::Null);
    }
    let sum = now.sum - before.map_or(0.0, |b| b.sum);
    let mean = sum.max(0.0) / count as f64 * 1000.0;
    let wanted = (count * 99).div_ceil(100);
    let mut seen = 0;
    let mut p99 = Value::Null;
    for (i, n) in delta.iter().enumerate() {
        seen += n;
        if seen >= wanted {
            p99 = LATENCY_BUCKETS
                .get(i)
                .map_or(Value::Null, |bound| json!(bound * 1000.0));
            break;
        }
    }
    (json!(mean), p99)
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

impl Samples {
    fn kept(&self) -> std::sync::MutexGuard<'_, VecDeque<Sample>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A sample of `snapshot` taken now, with rates since the last one
    /// kept; kept in turn unless one was taken less than half an
    /// `interval` ago (several pages open at once).
    fn take(&self, snapshot: &Snapshot, interval: Duration) -> Value {
        let now = Instant::now();
        let raw = Raw {
            at: now,
            fanned_out: snapshot.stats.published,
            delivered: snapshot.stats.delivered,
            published: snapshot.ops.published.first().copied().unwrap_or(0),
            latency: snapshot.streams.latency.clone(),
        };
        let mut kept = self.kept();
        let last = kept.back().cloned();
        let seconds = last
            .as_ref()
            .map_or(0.0, |last| now.duration_since(last.raw.at).as_secs_f64());
        let before = last.as_ref().map(|last| &last.raw);
        let rate = |now: u64, then: fn(&Raw) -> u64| {
            before.map_or(0.0, |before| per_second(now, then(before), seconds))
        };
        let (mean, p99) = match &raw.latency {
            Some(latency) => latency_ms(latency, before.and_then(|b| b.latency.as_ref())),
            None => (Value::Null, Value::Null),
        };
        let health = &snapshot.health;
        let figures = json!({
            "t": epoch_ms(),
            "streams": snapshot.open_streams(),
            "subscribers": snapshot.stats.subscribers,
            "connections": snapshot.served.map(|served| served.open),
            "eventsPerSecond": rate(raw.fanned_out, |raw| raw.fanned_out),
            "deliveriesPerSecond": rate(raw.delivered, |raw| raw.delivered),
            "publishesPerSecond": rate(raw.published, |raw| raw.published),
            "latencyMeanMs": mean,
            "latencyP99Ms": p99,
            "queueBytes": snapshot.stats.queued_bytes,
            "published": raw.published,
            "delivered": raw.delivered,
            "dropped": snapshot.stats.lag_disconnects,
            "backend": { "kind": health.kind, "up": health.up },
            "link": health.link.as_ref().map(|link| json!({
                "up": link.up,
                "reconnects": link.reconnects,
                "lastError": link.last_error,
                "lagSeconds": link.lag.map(|lag| lag.as_secs_f64()),
            })),
        });
        let recent = last.is_some_and(|last| now.duration_since(last.raw.at) < interval / 2);
        if !recent {
            if kept.len() >= KEPT {
                kept.pop_front();
            }
            kept.push_back(Sample {
                raw,
                figures: figures.clone(),
            });
        }
        figures
    }

    /// The samples kept, oldest first.
    fn history(&self) -> Value {
        Value::Array(self.kept().iter().map(|s| s.figures.clone()).collect())
    }
}

/// The busiest channels and their subscribers.
fn busiest(shared: &Shared) -> Value {
    let mut channels = shared.publisher().channel_subscribers();
    channels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total = channels.len();
    channels.truncate(CHANNELS);
    json!({
        "count": total,
        "busiest": channels
            .into_iter()
            .map(|(name, subscribers)| json!({ "name": name, "subscribers": subscribers }))
            .collect::<Vec<_>>(),
    })
}

/// An event of the status stream.
fn event(event_type: &str, data: &Value) -> FrameBuf {
    let event = EventBuf::new(data.to_string());
    // Both types are valid event types.
    event.clone().with_type(event_type).unwrap_or(event).into()
}

/// The status stream: the history, a sample at once, then one every
/// interval, until the hub closes.
struct StatusStream<R: Runtime> {
    shared: Arc<Shared>,
    interval: Duration,
    sleep: Option<R::Sleep>,
    history_sent: bool,
}

impl<R: Runtime> StatusStream<R> {
    fn sample(&self) -> FrameBuf {
        let snapshot = Snapshot::take(&self.shared);
        let mut figures = self.shared.samples.take(&snapshot, self.interval);
        figures["channels"] = busiest(&self.shared);
        event("sample", &figures)
    }
}

impl<R: Runtime> futures_core::Stream for StatusStream<R> {
    type Item = FrameBuf;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<FrameBuf>> {
        let this = self.get_mut();
        if this.shared.publisher().is_closed() {
            return Poll::Ready(None);
        }
        if !this.history_sent {
            this.history_sent = true;
            return Poll::Ready(Some(event("history", &this.shared.samples.history())));
        }
        let next = crate::server::after(R::now(), this.interval);
        match &mut this.sleep {
            None => {
                this.sleep = Some(R::sleep_until(next));
                Poll::Ready(Some(this.sample()))
            }
            Some(sleep) => {
                if Pin::new(&mut *sleep).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                R::reset(sleep, next);
                Poll::Ready(Some(this.sample()))
            }
        }
    }
}

pub(super) async fn page() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        STATUS_PAGE,
    )
        .into_response()
}

/// `GET /status/events`.
pub(super) async fn events<R: Runtime>(
    State(shared): State<Arc<Shared>>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = check_token(&shared, &parts) {
        return refusal.into_response();
    }
    let interval = shared.config.status_interval();
    SseBody::<R>::from_stream(StatusStream::<R> {
        shared: Arc::clone(&shared),
        interval,
        sleep: None,
        history_sent: false,
    })
    .keep_alive(None)
    .retry(Some(Duration::from_secs(2)))
    .into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::latency_ms;
    use crate::server::watch::HistogramCounts;

    #[test]
    fn latency_between_two_samples() {
        let before = HistogramCounts {
            counts: vec![5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            sum: 0.001,
        };
        let mut counts = vec![5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        counts[2] = 99; // 99 values in (1 ms, 2.5 ms]
        counts[4] = 1; // one in (5 ms, 10 ms]
        let now = HistogramCounts {
            counts,
            sum: 0.001 + 0.2,
        };
        let (mean, p99) = latency_ms(&now, Some(&before));
        let mean = mean.as_f64().expect("a mean");
        assert!((mean - 2.0).abs() < 1e-9, "{mean}");
        assert_eq!(p99, json!(2.5));
        let idle = latency_ms(&before, Some(&before));
        assert_eq!(idle, (Value::Null, Value::Null));
    }
}
