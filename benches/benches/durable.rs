//! What a publish costs with durable history (`sse serve --data`), next to
//! the in-memory publisher, in one run: publishes per second, one publisher
//! awaiting each publish and N concurrent publishers, each a tokio task
//! awaiting its own publishes (as the hub's request handlers do).
//!
//! - `memory`: the `Publisher` itself as the back end.
//! - `durable, fsync`: `DurablePublisher` with its default policy, every
//!   commit flushed to the disk before its publishes are answered.
//! - `durable, no fsync`: `DurableConfig::with_sync(false)`, committed to
//!   the operating system only (what a power loss can lose: the module docs).
//!
//! Each configuration runs `RUNS` times, each on a fresh data directory in
//! the system's temporary directory (so on its disk), with one subscriber
//! on the channel that every run checks got every event; the table gives
//! the median and the range. Events carry 77 bytes of data, like the other
//! benches'. A custom harness rather than criterion: one publish with fsync
//! costs milliseconds, and what matters is the spread across runs next to
//! the in-memory figure. `cargo bench -p benches --bench durable` (about a
//! minute).
#![allow(missing_docs)]

use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use sse_proto::Event;
use sse_proto::publisher::{ChannelList, Publisher, PublisherConfig};
use sse_tokio::durable::{DurableConfig, DurablePublisher};
use sse_tokio::server::Backend;

const DATA: &str =
    "{\"user\":\"ada\",\"text\":\"the quick brown fox jumps over the lazy dog\",\"room\":42}";
const RUNS: usize = 5;
const CONCURRENT: [usize; 2] = [16, 128];

#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Durable { sync: bool },
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Durable { sync: true } => "durable, fsync",
            Self::Durable { sync: false } => "durable, no fsync",
        }
    }

    /// Events per run: enough for a run of a second or more on a slow disk.
    fn events(self, publishers: usize) -> usize {
        match self {
            Self::Memory => 200_000,
            Self::Durable { sync: true } if publishers == 1 => 300,
            Self::Durable { sync: true } => 6_000,
            Self::Durable { sync: false } => 10_000,
        }
    }
}

fn config() -> PublisherConfig {
    // Room for every event of a run in the subscriber's queue and in the
    // history: this measures the publish, not the lag policy or trimming.
    PublisherConfig::new()
        .with_queue_bytes(64 << 20)
        .with_history(1_000_000, 1 << 30)
}

/// One run: publishes/s, and events per commit for the durable back end.
async fn run(kind: Kind, publishers: usize) -> (f64, Option<f64>) {
    let dir = tempfile::tempdir().expect("a data directory");
    let (backend, durable): (Arc<dyn Backend<()>>, Option<DurablePublisher>) = match kind {
        Kind::Memory => (
            Arc::new(Publisher::<()>::with_config(config()).expect("config")),
            None,
        ),
        Kind::Durable { sync } => {
            let durable = DurablePublisher::open_with(
                dir.path(),
                config(),
                DurableConfig::new().with_sync(sync),
            )
            .expect("open");
            (Arc::new(durable.clone()), Some(durable))
        }
    };
    let events = kind.events(publishers);
    let mut subscriber = backend
        .publisher()
        .subscribe("bench", (), [])
        .expect("subscribe");

    let started = Instant::now();
    let tasks: Vec<_> = (0..publishers)
        .map(|task| {
            let backend = Arc::clone(&backend);
            let count = events / publishers + usize::from(task < events % publishers);
            tokio::spawn(async move {
                let channels = ChannelList::parse(["bench"], 1).expect("a channel");
                for _ in 0..count {
                    backend
                        .publish(Event::new(DATA), &channels)
                        .await
                        .expect("published");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a publisher task");
    }
    let elapsed = started.elapsed().as_secs_f64();

    let mut received = 0;
    let mut cx = Context::from_waker(Waker::noop());
    while let Poll::Ready(Some(chunk)) = subscriber.poll_next(&mut cx) {
        assert!(chunk.as_bytes().ends_with(b"\n\n"), "an event");
        received += 1;
    }
    assert_eq!(
        received,
        events,
        "{}: every event delivered once",
        kind.name()
    );
    let per_commit = durable.map(|durable| {
        let stats = durable.stats();
        assert_eq!(stats.events, events as u64);
        stats.events as f64 / stats.commits.max(1) as f64
    });
    (events as f64 / elapsed, per_commit)
}

fn median_and_range(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn rate(value: f64) -> String {
    if value >= 100_000.0 {
        format!("{:.0} k", value / 1000.0)
    } else if value >= 10_000.0 {
        format!("{:.1} k", value / 1000.0)
    } else {
        format!("{value:.0}")
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "{:<20} {:>10} {:>12} {:>22} {:>16}",
        "", "publishers", "publishes/s", "range", "events/commit"
    );
    for publishers in [1, CONCURRENT[0], CONCURRENT[1]] {
        for kind in [
            Kind::Memory,
            Kind::Durable { sync: true },
            Kind::Durable { sync: false },
        ] {
            let runs: Vec<(f64, Option<f64>)> = (0..RUNS)
                .map(|_| runtime.block_on(run(kind, publishers)))
                .collect();
            let (median, low, high) = median_and_range(runs.iter().map(|r| r.0).collect());
            let per_commit = runs.iter().filter_map(|r| r.1).collect::<Vec<_>>();
            let per_commit = if per_commit.is_empty() {
                "–".to_string()
            } else {
                format!("{:.1}", median_and_range(per_commit).0)
            };
            println!(
                "{:<20} {:>10} {:>12} {:>22} {:>16}",
                kind.name(),
                publishers,
                rate(median),
                format!("{} – {}", rate(low), rate(high)),
                per_commit
            );
        }
    }
}
