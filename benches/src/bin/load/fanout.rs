//! Fan-out: subscribers on one channel (spread over one or more hubs), a
//! pool of keep-alive publishers, and for every delivery the time from the
//! publish to its receipt. Paced or as fast as the hub answers; with or
//! without a stalled subscriber among the live ones.
//!
//! Every event's data carries its sequence number and its send time (ns
//! since a base `Instant` of this process, which holds both the publishers
//! and the subscribers), so each subscriber checks that it got every event
//! once and measures each latency from the bytes it read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use crate::client::{self, OpenStream, Publisher, SocketOptions};
use crate::system::{PROGRESS, Progress};

/// How many streams are being opened at once.
pub(crate) const OPEN_CONCURRENCY: usize = 64;
/// How long subscribers may go without a new delivery, once every event
/// is published, before the run stops waiting for the rest.
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// The receive buffer of the stalled subscriber: its window fills at once.
const STALLED_RECV_BUFFER: u32 = 4096;

/// What a fan-out run does.
#[derive(Clone, Debug)]
pub(crate) struct FanoutPlan {
    pub(crate) subscribers: usize,
    pub(crate) events: usize,
    /// The data's size in bytes.
    pub(crate) size: usize,
    /// Events per second; `None`: as fast as the hubs answer.
    pub(crate) rate: Option<f64>,
    /// Concurrent keep-alive publishing connections.
    pub(crate) publishers: usize,
    /// One more subscriber that never reads after its response head.
    pub(crate) stalled: bool,
}

/// What a fan-out run measured.
#[derive(Clone, Debug, Default)]
pub(crate) struct FanoutOutcome {
    pub(crate) expected: u64,
    /// Distinct events received, over all live subscribers.
    pub(crate) delivered: u64,
    pub(crate) lost: u64,
    pub(crate) duplicated: u64,
    /// Live subscribers whose stream ended before the end of the run.
    pub(crate) closed_early: u64,
    pub(crate) publish_errors: u64,
    /// Events per second the publishers achieved.
    pub(crate) publish_rate: f64,
    /// Deliveries per second, from the first publish to the last receipt.
    pub(crate) delivery_rate: f64,
    /// Publish-to-receive latency percentiles, in milliseconds.
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
    pub(crate) stalled: Option<StalledOutcome>,
}

/// What happened to the stalled subscriber.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StalledOutcome {
    /// The hub closed its stream.
    pub(crate) closed: bool,
    /// Events it had received when it drained its socket at the end.
    pub(crate) received: u64,
}

static CHANNELS: AtomicUsize = AtomicUsize::new(0);

/// A channel name no earlier run used (nchan keeps recent messages).
pub(crate) fn fresh_channel() -> String {
    let n = CHANNELS.fetch_add(1, Ordering::Relaxed);
    format!("load{}x{n}", std::process::id())
}

/// Opens `count` streams on `channel`, spread over `nodes`, `OPEN_CONCURRENCY`
/// at a time.
pub(crate) async fn open_many(
    nodes: &[SocketAddr],
    channel: &str,
    count: usize,
) -> Result<Vec<OpenStream>, String> {
    if nodes.is_empty() {
        return Err("no hub to open streams on".into());
    }
    open_all(
        0..count,
        "opening a stream",
        |i| client::open_stream(nodes[i % nodes.len()], channel, SocketOptions::default()),
        |_| 1,
    )
    .await
}

/// Runs `open` on each of `items`, `OPEN_CONCURRENCY` at a time, adding to
/// the progress line the streams each success opened (`streams` of it).
/// Everything opened, or the first error, after `what`.
pub(crate) async fn open_all<I, T, F>(
    items: I,
    what: &str,
    open: impl FnMut(I::Item) -> F,
    streams: impl Fn(&T) -> usize,
) -> Result<Vec<T>, String>
where
    I: IntoIterator,
    F: Future<Output = std::io::Result<T>>,
{
    let opened: Vec<_> = futures_util::stream::iter(items)
        .map(open)
        .buffer_unordered(OPEN_CONCURRENCY)
        .inspect(|open| {
            if let Ok(open) = open {
                Progress::add(&PROGRESS.opened, streams(open) as u64);
            }
        })
        .collect()
        .await;
    opened
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{what}: {error}"))
}

/// Runs one fan-out over `nodes` (the subscribers and publishers are spread
/// over them round-robin).
pub(crate) async fn run(nodes: &[SocketAddr], plan: &FanoutPlan) -> Result<FanoutOutcome, String> {
    if nodes.is_empty() {
        return Err("no hub to run on".into());
    }
    // `nodes` is not empty from here on (indexing it is safe).
    let channel = fresh_channel();
    let streams = open_many(nodes, &channel, plan.subscribers).await?;
    let stalled = if plan.stalled {
        let options = SocketOptions {
            recv_buffer: Some(STALLED_RECV_BUFFER),
        };
        Some(
            client::open_stream(nodes[0], &channel, options)
                .await
                .map_err(|error| format!("opening the stalled stream: {error}"))?,
        )
    } else {
        None
    };
    let mut publishers = Vec::with_capacity(plan.publishers);
    for p in 0..plan.publishers.max(1) {
        publishers.push(
            Publisher::connect(nodes[p % nodes.len()])
                .await
                .map_err(|error| format!("a publisher's connection: {error}"))?,
        );
    }
    // Let every hub finish registering what it has answered.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let base = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let subscribers: Vec<_> = streams
        .into_iter()
        .map(|open| tokio::spawn(subscribe(open, plan.events, base, stopped.clone())))
        .collect();
    let published = publish(publishers, &channel, plan, base).await;

    // Wait for the subscribers while deliveries still come.
    let mut last = PROGRESS.delivered.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while !subscribers.iter().all(|s| s.is_finished()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = PROGRESS.delivered.load(Ordering::Relaxed);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() > STALL_LIMIT {
            break;
        }
    }
    let _ = stop.send(true);
    let mut tallies = Vec::with_capacity(subscribers.len());
    for subscriber in subscribers {
        tallies.push(
            subscriber
                .await
                .map_err(|error| format!("a subscriber: {error}"))?,
        );
    }
    let stalled = match stalled {
        Some(open) => Some(drain(open, plan.events).await),
        None => None,
    };
    Ok(summarise(plan, &published, tallies, stalled))
}

fn summarise(
    plan: &FanoutPlan,
    published: &Published,
    tallies: Vec<Tally>,
    stalled: Option<StalledOutcome>,
) -> FanoutOutcome {
    let expected = (plan.subscribers * plan.events) as u64;
    let mut latencies = Vec::with_capacity(expected as usize);
    let mut outcome = FanoutOutcome {
        expected,
        publish_errors: published.errors,
        stalled,
        ..FanoutOutcome::default()
    };
    let mut last_receipt = 0;
    for tally in tallies {
        outcome.delivered += tally.distinct;
        outcome.duplicated += tally.duplicated;
        outcome.closed_early += u64::from(tally.ended);
        last_receipt = last_receipt.max(tally.last_ns);
        latencies.extend(tally.latencies);
    }
    outcome.lost = expected.saturating_sub(outcome.delivered);
    if published.sent > 1 && published.last_ns > published.first_ns {
        outcome.publish_rate =
            (published.sent - 1) as f64 / ((published.last_ns - published.first_ns) as f64 / 1e9);
    }
    if last_receipt > published.first_ns {
        outcome.delivery_rate =
            outcome.delivered as f64 / ((last_receipt - published.first_ns) as f64 / 1e9);
    }
    latencies.sort_unstable();
    let at = |q: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() - 1) as f64 * q).round() as usize;
        latencies[i.min(latencies.len() - 1)] as f64 / 1e6
    };
    outcome.p50 = at(0.5);
    outcome.p99 = at(0.99);
    outcome.p999 = at(0.999);
    outcome.max = at(1.0);
    outcome
}

/// What one subscriber saw.
struct Tally {
    events: u64,
    seen: Vec<u64>,
    distinct: u64,
    duplicated: u64,
    /// Lines whose data was not a benchmark event.
    foreign: u64,
    latencies: Vec<u64>,
    /// The stream ended (closed by the hub, or an error).
    ended: bool,
    last_ns: u64,
}

impl Tally {
    fn new(events: usize, keep_latencies: bool) -> Self {
        Self {
            events: events as u64,
            seen: vec![0; events.div_ceil(64)],
            distinct: 0,
            duplicated: 0,
            foreign: 0,
            latencies: Vec::with_capacity(if keep_latencies { events } else { 0 }),
            ended: false,
            last_ns: 0,
        }
    }

    fn record(&mut self, data: &[u8], now_ns: u64, keep_latency: bool) {
        let Some((seq, sent)) = client::parse_event(data).filter(|&(seq, _)| seq < self.events)
        else {
            self.foreign += 1;
            return;
        };
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        let Some(slot) = self.seen.get_mut(word) else {
            self.foreign += 1;
            return;
        };
        if *slot & (1 << bit) != 0 {
            self.duplicated += 1;
            return;
        }
        *slot |= 1 << bit;
        self.distinct += 1;
        self.last_ns = now_ns;
        if keep_latency {
            self.latencies.push(now_ns.saturating_sub(sent));
        }
    }
}

fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Reads one stream until it has every event, it ends, or the run stops.
async fn subscribe(
    open: OpenStream,
    events: usize,
    base: Instant,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let OpenStream {
        mut stream,
        mut scanner,
        leftover,
        ..
    } = open;
    let mut tally = Tally::new(events, true);
    let now = nanos_since(base);
    if scanner
        .feed(&leftover, &mut |data| tally.record(data, now, true))
        .is_err()
    {
        tally.ended = true;
    }
    let mut buffer = vec![0u8; 16 * 1024];
    while !tally.ended && (tally.distinct as usize) < events && !*stop.borrow() {
        tokio::select! {
            read = stream.read(&mut buffer) => {
                let n = match read {
                    Ok(0) | Err(_) => {
                        tally.ended = true;
                        break;
                    }
                    Ok(n) => n,
                };
                let now = nanos_since(base);
                let before = tally.distinct;
                // A malformed body, or its end (the last chunk: the hub
                // ended the response, even if the connection stays open).
                if scanner
                    .feed(&buffer[..n], &mut |data| tally.record(data, now, true))
                    .is_err()
                    || scanner.ended()
                {
                    tally.ended = true;
                }
                Progress::add(&PROGRESS.delivered, tally.distinct - before);
            }
            _ = stop.changed() => break,
        }
    }
    client::close_with_reset(stream);
    tally
}

/// Reads what the stalled subscriber's socket holds, until the hub closes
/// it (or ends the response) or nothing comes for a second.
async fn drain(open: OpenStream, events: usize) -> StalledOutcome {
    let OpenStream {
        mut stream,
        mut scanner,
        leftover,
        ..
    } = open;
    let mut tally = Tally::new(events, false);
    let _ = scanner.feed(&leftover, &mut |data| tally.record(data, 0, false));
    let mut buffer = vec![0u8; 64 * 1024];
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await {
            Err(_) => break false,
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(n)) => {
                // The response's end counts as closed: an HTTP/1.1 hub may
                // keep the connection open for another request.
                if scanner
                    .feed(&buffer[..n], &mut |data| tally.record(data, 0, false))
                    .is_err()
                    || scanner.ended()
                {
                    break true;
                }
            }
        }
    };
    client::close_with_reset(stream);
    StalledOutcome {
        closed,
        received: tally.distinct,
    }
}

/// What the publishers did.
#[derive(Debug, Default)]
struct Published {
    sent: u64,
    errors: u64,
    first_ns: u64,
    last_ns: u64,
}

/// Publishes `plan.events` events from every connection in `publishers`,
/// each taking the next sequence number (paced: at its scheduled time).
async fn publish(
    publishers: Vec<Publisher>,
    channel: &str,
    plan: &FanoutPlan,
    base: Instant,
) -> Published {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first = Arc::new(AtomicU64::new(u64::MAX));
    let last = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now();
    let tasks: Vec<_> = publishers
        .into_iter()
        .map(|mut publisher| {
            let (next, errors, first, last) =
                (next.clone(), errors.clone(), first.clone(), last.clone());
            let (channel, events, size, rate) =
                (channel.to_string(), plan.events, plan.size, plan.rate);
            tokio::spawn(async move {
                let mut body = Vec::with_capacity(size + 32);
                loop {
                    let seq = next.fetch_add(1, Ordering::Relaxed);
                    if seq >= events {
                        break;
                    }
                    if let Some(rate) = rate {
                        tokio::time::sleep_until(
                            start + Duration::from_secs_f64(seq as f64 / rate),
                        )
                        .await;
                    }
                    let sent = nanos_since(base);
                    client::event_data(seq as u64, sent, size, &mut body);
                    first.fetch_min(sent, Ordering::Relaxed);
                    last.fetch_max(sent, Ordering::Relaxed);
                    match publisher.publish(&channel, &body).await {
                        Ok(status) if (200..300).contains(&status) => {
                            Progress::add(&PROGRESS.published, 1);
                        }
                        Ok(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            Progress::add(&PROGRESS.errors, 1);
                        }
                        Err(_) => {
                            // The connection is gone: this publisher stops,
                            // the others carry on with the sequence.
                            errors.fetch_add(1, Ordering::Relaxed);
                            Progress::add(&PROGRESS.errors, 1);
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let sent = next.load(Ordering::Relaxed).min(plan.events) as u64;
    Published {
        sent,
        errors: errors.load(Ordering::Relaxed),
        first_ns: first
            .load(Ordering::Relaxed)
            .min(last.load(Ordering::Relaxed)),
        last_ns: last.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_each_event_once() {
        let mut tally = Tally::new(100, true);
        let mut data = Vec::new();
        for seq in [3, 99, 3, 0] {
            client::event_data(seq, 1_000, 16, &mut data);
            tally.record(&data, 5_000, true);
        }
        tally.record(b"hello", 5_000, true);
        client::event_data(100, 1_000, 16, &mut data);
        tally.record(&data, 5_000, true);
        assert_eq!(tally.distinct, 3);
        assert_eq!(tally.duplicated, 1);
        assert_eq!(tally.foreign, 2);
        assert_eq!(tally.latencies, [4_000, 4_000, 4_000]);
    }

    #[test]
    fn summary_percentiles_and_loss() {
        let plan = FanoutPlan {
            subscribers: 2,
            events: 4,
            size: 16,
            rate: None,
            publishers: 1,
            stalled: false,
        };
        let mut a = Tally::new(4, true);
        let mut b = Tally::new(4, true);
        let mut data = Vec::new();
        for seq in 0..4 {
            client::event_data(seq, 0, 16, &mut data);
            a.record(&data, (seq + 1) * 1_000_000, true);
        }
        client::event_data(0, 0, 16, &mut data);
        b.record(&data, 9_000_000, true);
        let published = Published {
            sent: 4,
            errors: 0,
            first_ns: 0,
            last_ns: 3_000_000_000,
        };
        let outcome = summarise(&plan, &published, vec![a, b], None);
        assert_eq!(outcome.expected, 8);
        assert_eq!(outcome.delivered, 5);
        assert_eq!(outcome.lost, 3);
        assert_eq!(outcome.max, 9.0);
        assert_eq!(outcome.p50, 3.0);
        assert!((outcome.publish_rate - 1.0).abs() < 1e-9);
    }
}
