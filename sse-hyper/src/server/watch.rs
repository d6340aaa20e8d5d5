//! What the server sees of the streams it writes, for a hub's metrics and
//! logs: streams open by path, why they ended, bytes written, and the time
//! from each publish to the writer taking the event.
//!
//! One [`StreamWatch`] is shared by every stream of a hub; each stream
//! carries a [`Watched`] that its writer (the lean path's, or the
//! [`SseBody`](super::SseBody) hyper polls) tells what it does. A stream
//! costs nothing per event unless timing is on ([`StreamWatch::new`]); with
//! it on, each event costs a clock read, three atomic loads (its publish
//! instant) and two atomic adds (the histogram), and each write one atomic
//! add (the bytes).
//!
//! The publish instants come from the publisher's observer
//! ([`Publisher::set_publish_observer`](sse_proto::publisher::Publisher::set_publish_observer)):
//! [`Latency::stamp`] notes each position in a ring of [`STAMPS`] slots,
//! and the writer looks up the position of the chunk it takes
//! ([`Subscription::last_position`](sse_proto::publisher::Subscription::last_position)).
//! An event taken more than [`STAMPS`] publishes after its own is not
//! timed (its slot was reused).
// Without the hub nothing makes a watch: the writers' hooks stay unused.
#![cfg_attr(not(feature = "hub"), allow(dead_code))]

use core::fmt;
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sse_proto::publisher::Position;

/// How many recent publishes keep their instant.
pub(crate) const STAMPS: usize = 4096;

/// The upper bounds of the latency histogram's buckets, in seconds.
pub(crate) const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Which writer serves a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamPath {
    /// The server's own writer (a plain `GET` of the stream route).
    Lean,
    /// hyper, polling an [`SseBody`](super::SseBody).
    Hyper,
}

impl StreamPath {
    pub(crate) const ALL: [Self; 2] = [Self::Lean, Self::Hyper];

    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Lean => "lean",
            Self::Hyper => "hyper",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The client went away (or, on the hyper path, the connection ended
    /// for any reason before the stream did).
    Client,
    /// The client took nothing for the write timeout (the lean path; the
    /// hyper path's are counted by the server as connections).
    WriteTimeout,
    /// A write failed.
    WriteError,
    /// The subscriber fell behind and was disconnected.
    Lagged,
    /// The server ended it: its channel closed, or the hub stopping.
    Closed,
}

impl StreamEnd {
    pub(crate) const ALL: [Self; 5] = [
        Self::Client,
        Self::WriteTimeout,
        Self::WriteError,
        Self::Lagged,
        Self::Closed,
    ];

    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::WriteTimeout => "write_timeout",
            Self::WriteError => "write_error",
            Self::Lagged => "lag",
            Self::Closed => "closed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A histogram of durations with fixed buckets ([`LATENCY_BUCKETS`]): one
/// atomic count per bucket (not cumulative) and the sum in nanoseconds.
#[derive(Debug)]
pub(crate) struct Histogram {
    /// One per bound, and one for larger values.
    counts: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

/// A snapshot of a [`Histogram`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct HistogramCounts {
    /// Per bucket, not cumulative; the last is above every bound.
    pub(crate) counts: Vec<u64>,
    /// The sum of the values, in seconds.
    pub(crate) sum: f64,
}

impl HistogramCounts {
    /// How many values.
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(upper bound, values at or below it)` per bound, cumulative.
    #[cfg(test)]
    pub(crate) fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        LATENCY_BUCKETS
            .iter()
            .zip(&self.counts)
            .map(|(&bound, &count)| {
                total += count;
                (bound, total)
            })
            .collect()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: core::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Counts one value.
    pub(crate) fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The counts now.
    pub(crate) fn counts(&self) -> HistogramCounts {
        HistogramCounts {
            counts: self
                .counts
                .iter()
                .map(|count| count.load(Ordering::Relaxed))
                .collect(),
            sum: Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64(),
        }
    }
}

/// One publish's instant: its position and when, written position last so
/// that a reader that sees the same position before and after reading the
/// instant read the instant of that position.
#[derive(Debug, Default)]
struct Stamp {
    position: AtomicU64,
    nanos: AtomicU64,
}

/// The publish instants of recent positions and the histogram of the time
/// from publish to write.
pub(crate) struct Latency {
    base: Instant,
    stamps: Box<[Stamp]>,
    histogram: Histogram,
}

impl fmt::Debug for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latency")
            .field("histogram", &self.histogram)
            .finish_non_exhaustive()
    }
}

impl Latency {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            stamps: (0..STAMPS).map(|_| Stamp::default()).collect(),
            histogram: Histogram::default(),
        }
    }

    fn nanos_since_base(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    fn slot(&self, position: u64) -> Option<&Stamp> {
        // `STAMPS` fits in a u64 and the remainder in a usize.
        let index = usize::try_from(position % STAMPS as u64).ok()?;
        self.stamps.get(index)
    }

    /// Notes that `position` is published now (the publisher's observer).
    pub(crate) fn stamp(&self, position: Position) {
        let position = position.get();
        let nanos = self.nanos_since_base(Instant::now());
        if let Some(stamp) = self.slot(position) {
            stamp.position.store(0, Ordering::Release);
            stamp.nanos.store(nanos, Ordering::Release);
            stamp.position.store(position, Ordering::Release);
        }
    }

    /// When `position` was published, if its slot still holds it.
    fn published(&self, position: u64) -> Option<u64> {
        let stamp = self.slot(position)?;
        if stamp.position.load(Ordering::Acquire) != position {
            return None;
        }
        let nanos = stamp.nanos.load(Ordering::Acquire);
        (stamp.position.load(Ordering::Acquire) == position).then_some(nanos)
    }

    /// The event at `position` is taken to be written now.
    fn taken(&self, position: Position) {
        if let Some(published) = self.published(position.get()) {
            let now = self.nanos_since_base(Instant::now());
            self.histogram
                .observe(Duration::from_nanos(now.saturating_sub(published)));
        }
    }

    /// The histogram now.
    pub(crate) fn counts(&self) -> HistogramCounts {
        self.histogram.counts()
    }
}

/// What every stream of one hub adds to.
#[derive(Debug)]
pub(crate) struct StreamWatch {
    open: [AtomicU64; 2],
    ended: [AtomicU64; StreamEnd::ALL.len()],
    written_bytes: AtomicU64,
    written_chunks: AtomicU64,
    latency: Option<Latency>,
}

/// A snapshot of a [`StreamWatch`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct StreamCounts {
    /// Streams open now, by [`StreamPath`] (in `StreamPath::ALL` order).
    pub(crate) open: [u64; 2],
    /// Streams ended, by [`StreamEnd`] (in `StreamEnd::ALL` order).
    pub(crate) ended: [u64; StreamEnd::ALL.len()],
    /// Bytes written on streams (events, hints and keep-alives, without
    /// the HTTP framing); counted only with timing on.
    pub(crate) written_bytes: u64,
    /// Chunks written on streams; counted only with timing on.
    pub(crate) written_chunks: u64,
    /// The publish-to-write histogram, with timing on.
    pub(crate) latency: Option<HistogramCounts>,
}

impl StreamWatch {
    /// A watch; `timing` also counts bytes and times each event.
    pub(crate) fn new(timing: bool) -> Arc<Self> {
        Arc::new(Self {
            open: core::array::from_fn(|_| AtomicU64::new(0)),
            ended: core::array::from_fn(|_| AtomicU64::new(0)),
            written_bytes: AtomicU64::new(0),
            written_chunks: AtomicU64::new(0),
            latency: timing.then(Latency::new),
        })
    }

    /// The latency side, with timing on: what the publisher's observer
    /// stamps.
    pub(crate) fn latency(&self) -> Option<&Latency> {
        self.latency.as_ref()
    }

    /// The figures now.
    pub(crate) fn counts(&self) -> StreamCounts {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StreamCounts {
            open: self.open.each_ref().map(get),
            ended: self.ended.each_ref().map(get),
            written_bytes: get(&self.written_bytes),
            written_chunks: get(&self.written_chunks),
            latency: self.latency.as_ref().map(Latency::counts),
        }
    }

    /// A stream of subscriber `id` about to be served.
    pub(crate) fn watched(self: &Arc<Self>, id: u64) -> Watched {
        Watched {
            watch: Arc::clone(self),
            id,
            started: None,
            end: None,
            bytes: 0,
        }
    }
}

/// One stream as its writer reports it; counted as open from
/// [`start`](Self::start) until dropped, when its end is counted and
/// logged.
#[derive(Debug)]
pub(crate) struct Watched {
    watch: Arc<StreamWatch>,
    id: u64,
    started: Option<(Instant, StreamPath)>,
    end: Option<StreamEnd>,
    bytes: u64,
}

impl Watched {
    /// The writer starts on `path`.
    pub(crate) fn start(&mut self, path: StreamPath) {
        if self.started.is_none() {
            self.watch.open[path.index()].fetch_add(1, Ordering::Relaxed);
            self.started = Some((Instant::now(), path));
            tracing::trace!(subscriber = self.id, path = path.as_str(), "stream started");
        }
    }

    /// The writer took the chunk of the event at `position` (if it is a
    /// live event) to write it.
    pub(crate) fn taken(&self, position: Option<Position>) {
        if let (Some(latency), Some(position)) = (&self.watch.latency, position) {
            latency.taken(position);
        }
    }

    /// The writer wrote `chunks` chunks of `bytes` bytes in all.
    pub(crate) fn wrote(&mut self, chunks: usize, bytes: usize) {
        if self.watch.latency.is_some() {
            let bytes = bytes as u64;
            self.bytes = self.bytes.saturating_add(bytes);
            self.watch.written_bytes.fetch_add(bytes, Ordering::Relaxed);
            self.watch
                .written_chunks
                .fetch_add(chunks as u64, Ordering::Relaxed);
        }
    }

    /// Why the stream ends (the first reason given counts).
    pub(crate) fn end(&mut self, end: StreamEnd) {
        self.end.get_or_insert(end);
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let Some((started, path)) = self.started else {
            return;
        };
        let end = self.end.unwrap_or(StreamEnd::Client);
        self.watch.open[path.index()].fetch_sub(1, Ordering::Relaxed);
        self.watch.ended[end.index()].fetch_add(1, Ordering::Relaxed);
        let seconds = started.elapsed().as_secs_f64();
        match end {
            StreamEnd::Lagged | StreamEnd::WriteTimeout => tracing::info!(
                subscriber = self.id,
                path = path.as_str(),
                reason = end.as_str(),
                seconds,
                "subscriber dropped"
            ),
            _ => tracing::debug!(
                subscriber = self.id,
                path = path.as_str(),
                reason = end.as_str(),
                seconds,
                bytes = self.bytes,
                "stream ended"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use sse_proto::publisher::Position;

    use super::{Histogram, STAMPS, StreamEnd, StreamPath, StreamWatch};

    #[test]
    fn the_histogram_puts_each_value_in_its_bucket() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(100));
        histogram.observe(Duration::from_millis(1));
        histogram.observe(Duration::from_millis(30));
        histogram.observe(Duration::from_secs(60));
        let counts = histogram.counts();
        assert_eq!(counts.count(), 4);
        let cumulative = counts.cumulative();
        assert_eq!(cumulative[0], (0.0005, 1));
        assert_eq!(cumulative[1], (0.001, 2), "a bound is inclusive");
        assert_eq!(cumulative[6], (0.05, 3));
        assert_eq!(cumulative.last(), Some(&(10.0, 3)), "60 s is above all");
        assert!((counts.sum - 60.0311).abs() < 1e-9, "{}", counts.sum);
    }

    #[test]
    fn a_stamp_times_its_position_only_while_its_slot_holds_it() {
        let watch = StreamWatch::new(true);
        let latency = watch.latency().expect("timing on");
        latency.stamp(Position::new(7));
        assert!(latency.published(7).is_some());
        assert!(latency.published(8).is_none(), "never published");
        latency.stamp(Position::new(7 + STAMPS as u64));
        assert!(latency.published(7).is_none(), "the slot was reused");
        let watched = watch.watched(1);
        watched.taken(Some(Position::new(7 + STAMPS as u64)));
        watched.taken(Some(Position::new(7)));
        watched.taken(None);
        assert_eq!(watch.counts().latency.map(|c| c.count()), Some(1));
    }

    #[test]
    fn streams_count_open_by_path_and_ended_by_reason() {
        let watch = StreamWatch::new(false);
        let mut lean = watch.watched(1);
        lean.start(StreamPath::Lean);
        let mut hyper = watch.watched(2);
        hyper.start(StreamPath::Hyper);
        let never = watch.watched(3);
        lean.wrote(2, 100);
        assert_eq!(watch.counts().open, [1, 1]);
        assert_eq!(watch.counts().written_bytes, 0, "bytes need timing on");
        lean.end(StreamEnd::Lagged);
        lean.end(StreamEnd::Client);
        drop((lean, hyper, never));
        let counts = watch.counts();
        assert_eq!(counts.open, [0, 0]);
        let ended = |end: StreamEnd| counts.ended[end as usize];
        assert_eq!(
            (ended(StreamEnd::Lagged), ended(StreamEnd::Client)),
            (1, 1),
            "the first reason counts; a stream never started is not counted"
        );
    }
}
