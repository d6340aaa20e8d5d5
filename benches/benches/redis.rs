//! Events through Redis to N subscribers on two nodes, next to the in-memory
//! Publisher: events per second and publish-to-receive latency.
//!
//! It starts its own `redis-server` (the one `SSE_REDIS_SERVER` names, or
//! the one on the `PATH`; without one it says so and skips) on a free port
//! of 127.0.0.1, with an append-only file (fsync every second, as a
//! production Redis would) in a temporary directory, and two nodes in this
//! process: two `RedisPublisher`s, each with its own local `Publisher`. The
//! subscribers are split evenly between the nodes, all on one channel, each
//! read by its own task on a two-thread tokio runtime.
//!
//! - Throughput: 16 tasks (8 per node) publish 10,000 events of 77 bytes of
//!   data, each awaiting its publish; the time runs until every subscriber
//!   has read every event. In memory: one publisher, the same subscribers
//!   and tasks.
//! - Latency: 2,000 events published at 1,000 per second from one node; for
//!   every delivery, the time from the start of the publish call to the
//!   subscriber reading it (the data carries the send time).
//!
//! Every run checks that each subscriber got every event, in order, once.
//! A custom harness rather than criterion, which has no latency
//! percentiles. `cargo bench -p benches --bench redis` (about a minute).
#![allow(missing_docs)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sse_proto::Event;
use sse_proto::publisher::{Chunk, Publisher, PublisherConfig, Subscription};
use sse_tokio::redis::{RedisConfig, RedisPublisher};

const DATA: &str =
    "{\"user\":\"ada\",\"text\":\"the quick brown fox jumps over the lazy dog\",\"room\":42}";
const SUBSCRIBERS: [usize; 3] = [2, 100, 1000];
const EVENTS: usize = 10_000;
const PUBLISHERS: usize = 16;
const LATENCY_EVENTS: usize = 2_000;
const LATENCY_INTERVAL: Duration = Duration::from_millis(1);

fn main() {
    let Some(mut redis) = RedisServer::start() else {
        println!("redis: skipped, no redis-server (set SSE_REDIS_SERVER or install it)");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(&redis.url()));
    redis.stop();
}

async fn run(url: &str) {
    println!(
        "{:<32} {:>12} {:>14} {:>9} {:>9} {:>9} {:>9}",
        "", "events/s", "deliveries/s", "p50", "p90", "p99", "max"
    );
    for &n in &SUBSCRIBERS {
        // Fresh nodes per size, on keys of their own.
        let prefix = format!("bench{n}");
        let a = node(url, &prefix).await;
        let b = node(url, &prefix).await;
        let rate = redis_throughput(&a, &b, n).await;
        let latency = redis_latency(&a, &b, n).await;
        report(
            &format!("Redis, 2 nodes, {n} subscribers"),
            rate,
            n,
            &latency,
        );

        let local = local_publisher();
        let rate = memory_throughput(&local, n).await;
        let latency = memory_latency(&local, n).await;
        report(&format!("in memory, {n} subscribers"), rate, n, &latency);
    }
}

fn local_config() -> PublisherConfig {
    // Room for every event of a run in each queue: this measures the
    // fan-out, not the lag policy.
    PublisherConfig::new()
        .with_queue_bytes(16 << 20)
        .with_max_subscribers(100_000)
}

fn local_publisher() -> Publisher {
    Publisher::with_config(local_config()).expect("config")
}

async fn node(url: &str, prefix: &str) -> RedisPublisher {
    let publisher =
        Publisher::with_config(local_config().with_generate_ids(false)).expect("config");
    let config = RedisConfig::new(url)
        .with_prefix(prefix)
        .with_feed_cap(1_000_000)
        .with_retention(1000);
    RedisPublisher::connect(publisher, config)
        .await
        .expect("connect to Redis")
}

/// `n` subscribers split between the publishers' subscribe functions.
fn subscribe_split(n: usize, subscribe: &[&dyn Fn() -> Subscription]) -> Vec<Subscription> {
    (0..n).map(|i| subscribe[i % subscribe.len()]()).collect()
}

/// Reads `count` events from each subscription, checks their order, and
/// returns the latencies when the data carries send times.
fn consume(
    subscriptions: Vec<Subscription>,
    count: usize,
    base: Instant,
    timed: bool,
) -> Vec<tokio::task::JoinHandle<Vec<u64>>> {
    subscriptions
        .into_iter()
        .map(|mut subscription| {
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(if timed { count } else { 0 });
                let mut last_id: Option<Vec<u8>> = None;
                let mut got = 0;
                while got < count {
                    let chunk = tokio::time::timeout(Duration::from_secs(60), subscription.next())
                        .await
                        .expect("events arrive")
                        .expect("the stream stays open");
                    let Some((id, data)) = parse(&chunk) else {
                        continue;
                    };
                    if let Some(last) = &last_id {
                        assert!(newer(id, last), "out of order or repeated");
                    }
                    last_id = Some(id.to_vec());
                    if timed {
                        let sent: u64 = std::str::from_utf8(data)
                            .ok()
                            .and_then(|text| text.parse().ok())
                            .expect("a send time");
                        let now = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        latencies.push(now.saturating_sub(sent));
                    }
                    got += 1;
                }
                latencies
            })
        })
        .collect()
}

/// The id and data of an encoded event (`id: ..\ndata: ..\n\n`).
fn parse(chunk: &Chunk) -> Option<(&[u8], &[u8])> {
    let bytes = chunk.as_bytes();
    let rest = bytes.strip_prefix(b"id: ")?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    let (id, rest) = rest.split_at(end);
    let data = rest.strip_prefix(b"\ndata: ")?;
    let data = data.strip_suffix(b"\n\n")?;
    Some((id, data))
}

/// Whether `id` comes after `last`: Redis ids (`ms-seq`) or decimal ones.
fn newer(id: &[u8], last: &[u8]) -> bool {
    let key = |id: &[u8]| -> (u64, u64) {
        let text = std::str::from_utf8(id).unwrap_or_default();
        match text.split_once('-') {
            Some((ms, seq)) => (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0)),
            None => (text.parse().unwrap_or(0), 0),
        }
    };
    key(id) > key(last)
}

async fn collect(consumers: Vec<tokio::task::JoinHandle<Vec<u64>>>) -> Vec<u64> {
    let mut all = Vec::new();
    for consumer in consumers {
        all.extend(consumer.await.expect("a consumer"));
    }
    all
}

/// Events per second through Redis, publishing from both nodes.
async fn redis_throughput(a: &RedisPublisher, b: &RedisPublisher, n: usize) -> f64 {
    let sub_a = || a.publisher().subscribe("bench", (), []).expect("subscribe");
    let sub_b = || b.publisher().subscribe("bench", (), []).expect("subscribe");
    let consumers = consume(
        subscribe_split(n, &[&sub_a, &sub_b]),
        EVENTS,
        Instant::now(),
        false,
    );
    let start = Instant::now();
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let node = if p % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for _ in 0..EVENTS / PUBLISHERS {
                    node.publish(Event::new(DATA), "bench")
                        .await
                        .expect("publish");
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.expect("a publisher");
    }
    collect(consumers).await;
    EVENTS as f64 / start.elapsed().as_secs_f64()
}

/// Publish-to-receive latencies through Redis, publishing from node A.
async fn redis_latency(a: &RedisPublisher, b: &RedisPublisher, n: usize) -> Vec<u64> {
    let base = Instant::now();
    let sub_a = || a.publisher().subscribe("bench", (), []).expect("subscribe");
    let sub_b = || b.publisher().subscribe("bench", (), []).expect("subscribe");
    let consumers = consume(
        subscribe_split(n, &[&sub_a, &sub_b]),
        LATENCY_EVENTS,
        base,
        true,
    );
    let a = a.clone();
    let publisher = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        for i in 0..LATENCY_EVENTS {
            tokio::time::sleep_until(start + LATENCY_INTERVAL * i as u32).await;
            let sent = base.elapsed().as_nanos().to_string();
            a.publish(Event::new(&sent), "bench")
                .await
                .expect("publish");
        }
    });
    publisher.await.expect("the publisher");
    collect(consumers).await
}

async fn memory_throughput(publisher: &Publisher, n: usize) -> f64 {
    let sub = || publisher.subscribe("bench", (), []).expect("subscribe");
    let consumers = consume(subscribe_split(n, &[&sub]), EVENTS, Instant::now(), false);
    let start = Instant::now();
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|_| {
            let publisher = publisher.clone();
            tokio::spawn(async move {
                for _ in 0..EVENTS / PUBLISHERS {
                    publisher
                        .publish(Event::new(DATA), "bench")
                        .expect("publish");
                    // As a handler would between requests: let readers run.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.expect("a publisher");
    }
    collect(consumers).await;
    EVENTS as f64 / start.elapsed().as_secs_f64()
}

async fn memory_latency(publisher: &Publisher, n: usize) -> Vec<u64> {
    let base = Instant::now();
    let sub = || publisher.subscribe("bench", (), []).expect("subscribe");
    let consumers = consume(subscribe_split(n, &[&sub]), LATENCY_EVENTS, base, true);
    let publisher = publisher.clone();
    let task = tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        for i in 0..LATENCY_EVENTS {
            tokio::time::sleep_until(start + LATENCY_INTERVAL * i as u32).await;
            let sent = base.elapsed().as_nanos().to_string();
            publisher
                .publish(Event::new(&sent), "bench")
                .expect("publish");
        }
    });
    task.await.expect("the publisher");
    collect(consumers).await
}

fn report(name: &str, events_per_second: f64, n: usize, latencies: &[u64]) {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| -> String {
        if sorted.is_empty() {
            return "-".into();
        }
        let i = ((sorted.len() - 1) as f64 * q).round() as usize;
        micros(sorted[i])
    };
    println!(
        "{name:<32} {:>12} {:>14} {:>9} {:>9} {:>9} {:>9}",
        format!("{:.0}", events_per_second),
        format!("{:.0}", events_per_second * n as f64),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
    );
}

fn micros(nanos: u64) -> String {
    if nanos >= 10_000_000 {
        format!("{} ms", nanos / 1_000_000)
    } else {
        format!("{} µs", nanos / 1_000)
    }
}

/// The benchmark's own `redis-server`, stopped by its process id.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> Option<Self> {
        let program = std::env::var("SSE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let child = Command::new(&program)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(dir.path())
            .args(["--appendonly", "yes", "--save", "", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        let server = Self {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
