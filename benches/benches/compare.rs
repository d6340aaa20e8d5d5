//! The whole comparison in one run: every decoder and encoder on the same
//! corpora, the floors and limits beside them, allocations per event, and
//! the README's tables and charts. `cargo bench -p benches` runs it; see
//! `benches/README.md`.
//!
//! The whole suite runs `SSE_BENCH_ROUNDS` times (5 by default), one round
//! after the other, and every figure is the median of the rounds: on a
//! shared machine one run can be off by 2×, and a slow patch then hits all
//! implementations of a group alike rather than one of them.
//!
//! Every timed closure checks what came out (events and data bytes for
//! decoders, bytes written for encoders), so a benchmark cannot go fast by
//! doing less.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime};

use benches::corpus::{self, Corpus, chunk_label};
use benches::report::{self, AllocRow, Machine};
use benches::{decode, encode};
use criterion::{Criterion, SamplingMode, Throughput};

/// The system allocator, counting calls while `COUNTING` is set. Outside the
/// allocation pass the only cost is one relaxed load per allocation, the
/// same for every implementation.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

fn count(size: usize) {
    if COUNTING.load(Relaxed) {
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED_BYTES.fetch_add(size as u64, Relaxed);
    }
}

// SAFETY: every call is passed to `System` unchanged; counting touches only
// atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocation calls and bytes while `f` runs.
fn allocations(f: impl FnOnce()) -> (u64, u64) {
    ALLOCATIONS.store(0, Relaxed);
    ALLOCATED_BYTES.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    f();
    COUNTING.store(false, Relaxed);
    (ALLOCATIONS.load(Relaxed), ALLOCATED_BYTES.load(Relaxed))
}

fn bench_decoders(c: &mut Criterion, corpora: &[Corpus]) {
    for corpus in corpora {
        let mut runner = decode::Runner::new(corpus);
        for &size in corpus.chunk_sizes {
            let chunks = corpus::chunks(&corpus.bytes, size);
            let mut group =
                c.benchmark_group(format!("decode-{}-{}", corpus.name, chunk_label(size)));
            group.throughput(Throughput::Bytes(corpus.bytes.len() as u64));
            group.sampling_mode(SamplingMode::Flat);
            for imp in decode::Impl::ALL {
                if imp.skipped(corpus, size).is_some() {
                    continue;
                }
                let expected = imp.expected(corpus);
                group.bench_function(imp.name(), |b| {
                    b.iter(|| assert_eq!(runner.run(imp, &chunks), expected));
                });
            }
            group.finish();
        }
    }
}

fn bench_encoders(c: &mut Criterion, corpora: &[corpus::EncodeCorpus]) {
    for corpus in corpora {
        let mut runner = encode::Runner::new(corpus);
        let expected = runner.expected();
        let mut group = c.benchmark_group(format!("encode-{}", corpus.name));
        group.throughput(Throughput::Bytes(expected as u64));
        group.sampling_mode(SamplingMode::Flat);
        for imp in encode::Impl::ALL {
            group.bench_function(imp.name(), |b| {
                b.iter(|| assert_eq!(runner.run(imp), expected));
            });
        }
        group.finish();
    }
}

/// Allocations per event of every decoder and encoder, in every
/// configuration that is timed.
fn count_allocations(corpora: &[Corpus], encode_corpora: &[corpus::EncodeCorpus]) -> Vec<AllocRow> {
    let mut rows = Vec::new();
    for corpus in corpora {
        let mut runner = decode::Runner::new(corpus);
        for &size in corpus.chunk_sizes {
            let chunks = corpus::chunks(&corpus.bytes, size);
            let mut row = AllocRow::new("decode", corpus.name, &chunk_label(size));
            for imp in decode::Impl::ALL {
                if imp.is_limit() || imp.skipped(corpus, size).is_some() {
                    continue;
                }
                // One run first, so that a buffer kept between runs is
                // counted once, not per event.
                runner.run(imp, &chunks);
                let (calls, bytes) = allocations(|| {
                    runner.run(imp, &chunks);
                });
                row.push(imp.name(), calls, bytes, corpus.events);
            }
            rows.push(row);
        }
    }
    for corpus in encode_corpora {
        let mut runner = encode::Runner::new(corpus);
        let mut row = AllocRow::new("encode", corpus.name, "");
        for imp in encode::Impl::ALL {
            if imp == encode::Impl::Memcpy {
                continue;
            }
            runner.run(imp);
            let (calls, bytes) = allocations(|| {
                runner.run(imp);
            });
            row.push(imp.name(), calls, bytes, corpus.events.len());
        }
        rows.push(row);
    }
    rows
}

fn main() {
    let load_before = report::load_average();
    let rounds: usize = std::env::var("SSE_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
        .max(1);
    // Short by default, so that a round takes a few minutes; on a quiet
    // machine pass `-- --measurement-time 5` for tighter figures. A fresh
    // `Criterion` per round: one that has seen a benchmark's name gives a
    // second run of it another name (`#2`) and another directory.
    let criterion = || {
        Criterion::default()
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_millis(1500))
            .sample_size(10)
            .configure_from_args()
    };
    let corpora = corpus::all();
    let encode_corpora = corpus::encode_all();
    // Draw the tables and charts again from kept figures, measuring nothing.
    if let Some(path) = std::env::var_os("SSE_BENCH_REPORT") {
        // Cargo runs benches in the package's folder; the path may be given
        // from the workspace's.
        let path = std::path::PathBuf::from(path);
        let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = if path.exists() {
            path
        } else {
            workspace.join(path)
        };
        let json = std::fs::read(&path).expect("a readable results file");
        let json = serde_json::from_slice(&json).expect("a results file as report.rs writes it");
        let report = report::Report::from_json(&corpora, &encode_corpora, &json)
            .expect("a results file as report.rs writes it");
        print!("{}", report.render());
        match report.write_readme() {
            Ok(written) => println!("benches/README.md updated: {written}"),
            Err(error) => println!("benches/README.md not updated: {error}"),
        }
        return;
    }
    let listing = std::env::args().any(|arg| arg == "--test" || arg == "--list");
    let mut measured = Vec::new();
    for round in 1..=rounds {
        if !listing {
            println!("round {round} of {rounds}");
        }
        let started = SystemTime::now();
        let mut criterion = criterion();
        bench_decoders(&mut criterion, &corpora);
        bench_encoders(&mut criterion, &encode_corpora);
        criterion.final_summary();
        if listing {
            return;
        }
        measured.push(report::read_round(&corpora, &encode_corpora, started));
    }

    let allocations = count_allocations(&corpora, &encode_corpora);
    let machine = Machine::now(load_before);
    let report = report::Report::new(&corpora, &encode_corpora, measured, allocations, machine);
    print!("{}", report.render());
    match report.write_readme() {
        Ok(true) => println!("benches/README.md and benches/charts/ updated"),
        Ok(false) => {
            println!("benches/README.md left alone: not every benchmark ran in every round")
        }
        Err(error) => println!("benches/README.md not updated: {error}"),
    }
}
