//! The fan-out publisher next to `tokio::sync::broadcast`.
//!
//! One iteration publishes one event (about 100 bytes of data) to N
//! in-process subscribers on one channel and reads it from every one of them,
//! so the throughput is deliveries per second. Before the timed runs it
//! prints the heap bytes and allocations per publish, counted by a global
//! allocator, and checks that every subscriber got every event.
//!
//! The baseline does what a hub built on `broadcast` does: encode the event
//! once into shared bytes (the same `Chunk`, an `Arc<[u8]>`), send it,
//! `try_recv` it on every receiver. It has no channels, ids, history,
//! per-subscriber bound or lag policy (a lagging receiver just loses events).
//!
//! `cargo bench -p benches --bench publisher` (about a minute).
#![allow(missing_docs)] // criterion's macros generate undocumented functions.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sse_proto::Event;
use sse_proto::publisher::{Chunk, Publisher, PublisherConfig, Subscription};
use tokio::sync::broadcast;

/// Counts heap bytes and allocations.
struct Counting;

static BYTES: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIZES: [usize; 3] = [1, 100, 10_000];
const DATA: &str =
    "{\"user\":\"ada\",\"text\":\"the quick brown fox jumps over the lazy dog\",\"room\":42}";

/// A publisher with `n` subscribers on channel `bench`.
fn publisher(n: usize) -> (Publisher, Vec<Subscription>) {
    let config = PublisherConfig::new().with_max_subscribers(n);
    let publisher = Publisher::with_config(config).expect("valid config");
    let subscriptions = (0..n)
        .map(|_| publisher.subscribe("bench", (), []).expect("subscribe"))
        .collect();
    (publisher, subscriptions)
}

/// Publishes one event and reads it from every subscription; returns how
/// many were delivered.
fn publish_and_drain(publisher: &Publisher, subscriptions: &mut [Subscription]) -> usize {
    let sent = publisher
        .publish(Event::new(DATA), "bench")
        .expect("publish");
    let mut cx = Context::from_waker(Waker::noop());
    let mut delivered = 0;
    for subscription in subscriptions {
        while let Poll::Ready(Some(chunk)) = subscription.poll_next(&mut cx) {
            black_box(chunk);
            delivered += 1;
        }
    }
    debug_assert_eq!(sent.reached(), delivered);
    delivered
}

type Sender = broadcast::Sender<Chunk>;
type Receiver = broadcast::Receiver<Chunk>;

fn broadcast_channel(n: usize) -> (Sender, Vec<Receiver>) {
    let (sender, _) = broadcast::channel(1024);
    let receivers = (0..n).map(|_| sender.subscribe()).collect();
    (sender, receivers)
}

/// The baseline: encode once, send, `try_recv` on every receiver.
fn broadcast_and_drain(sender: &Sender, receivers: &mut [Receiver]) -> usize {
    sender
        .send(Chunk::encode(Event::new(DATA)))
        .expect("receivers exist");
    let mut delivered = 0;
    for receiver in receivers {
        while let Ok(bytes) = receiver.try_recv() {
            black_box(bytes);
            delivered += 1;
        }
    }
    delivered
}

/// Heap bytes and allocations per call of `f`, over `rounds` calls.
fn allocated(rounds: usize, mut f: impl FnMut()) -> (f64, f64) {
    let (bytes, allocs) = (
        BYTES.load(Ordering::Relaxed),
        ALLOCS.load(Ordering::Relaxed),
    );
    for _ in 0..rounds {
        f();
    }
    let bytes = BYTES.load(Ordering::Relaxed) - bytes;
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs;
    (bytes as f64 / rounds as f64, allocs as f64 / rounds as f64)
}

/// Checks the results and prints the allocation figures.
fn report() {
    println!(
        "heap allocated per publish (steady state), {} B of data:",
        DATA.len()
    );
    println!(
        "{:>12} {:>26} {:>26}",
        "subscribers", "Publisher", "broadcast baseline"
    );
    for n in SIZES {
        let (publisher, mut subscriptions) = publisher(n);
        // Warm up until the history (1024 events) is full and every queue
        // has its capacity: the steady state of a long-running server.
        for _ in 0..1100 {
            assert_eq!(publish_and_drain(&publisher, &mut subscriptions), n);
        }
        let ours = allocated(100, || {
            assert_eq!(publish_and_drain(&publisher, &mut subscriptions), n);
        });
        let (sender, mut receivers) = broadcast_channel(n);
        let theirs = allocated(100, || {
            assert_eq!(broadcast_and_drain(&sender, &mut receivers), n);
        });
        println!(
            "{n:>12} {:>14.0} B in {:>4.1} {:>14.0} B in {:>4.1}",
            ours.0, ours.1, theirs.0, theirs.1
        );
    }
}

fn bench(c: &mut Criterion) {
    report();
    let mut group = c.benchmark_group("publish and deliver");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        let (publisher, mut subscriptions) = publisher(n);
        group.bench_function(BenchmarkId::new("Publisher", n), |b| {
            b.iter(|| publish_and_drain(&publisher, &mut subscriptions));
        });
        let (sender, mut receivers) = broadcast_channel(n);
        group.bench_function(BenchmarkId::new("tokio broadcast", n), |b| {
            b.iter(|| broadcast_and_drain(&sender, &mut receivers));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
