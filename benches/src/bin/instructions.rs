//! One run of one implementation on one corpus, for counting instructions
//! with callgrind, which (unlike time on a shared machine) gives the same
//! figure every run:
//!
//! ```text
//! cargo build --release -p benches --bin instructions
//! valgrind --tool=callgrind --toggle-collect='*measured*' --callgrind-out-file=/dev/null \
//!     target/release/instructions decode sse-proto small 64
//! ```
//!
//! Arguments: `decode <implementation> <corpus> <chunk size>` (chunk size in
//! bytes, or `whole`) or `encode <implementation> <corpus>`, named as in
//! the tables. The run is checked like the timed ones; one run goes first,
//! uncounted, so that buffers kept between runs are warm. `instructions.sh`
//! runs the whole table.

use std::hint::black_box;
use std::process::ExitCode;

use benches::{corpus, decode, encode};

#[inline(never)]
fn measured_decode(
    runner: &mut decode::Runner,
    imp: decode::Impl,
    chunks: &[&[u8]],
) -> decode::Outcome {
    runner.run(imp, black_box(chunks))
}

#[inline(never)]
fn measured_encode(runner: &mut encode::Runner, imp: encode::Impl) -> usize {
    runner.run(black_box(imp))
}

/// With `TIMES=n` in the environment, the measured run is repeated `n`
/// times and the median time printed: a quick A/B check, not a benchmark.
fn repeat(mut run: impl FnMut()) {
    let times: usize = std::env::var("TIMES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut ns: Vec<u128> = (0..times)
        .map(|_| {
            let start = std::time::Instant::now();
            run();
            start.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    if let Some(median) = ns.get(ns.len() / 2) {
        println!("median {median} ns, min {} ns over {times} runs", ns[0]);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["decode", name, corpus_name, chunk] => {
            let Some(imp) = decode::Impl::ALL.into_iter().find(|i| i.name() == *name) else {
                eprintln!("no decoder {name}");
                return ExitCode::FAILURE;
            };
            let Some(corpus) = corpus::all().into_iter().find(|c| c.name == *corpus_name) else {
                eprintln!("no corpus {corpus_name}");
                return ExitCode::FAILURE;
            };
            let size = if *chunk == "whole" {
                usize::MAX
            } else {
                chunk.parse().unwrap_or(64)
            };
            let chunks = corpus::chunks(&corpus.bytes, size);
            let mut runner = decode::Runner::new(&corpus);
            let expected = imp.expected(&corpus);
            assert_eq!(runner.run(imp, &chunks), expected);
            assert_eq!(measured_decode(&mut runner, imp, &chunks), expected);
            repeat(|| assert_eq!(runner.run(imp, &chunks), expected));
        }
        ["encode", name, corpus_name] => {
            let Some(imp) = encode::Impl::ALL.into_iter().find(|i| i.name() == *name) else {
                eprintln!("no encoder {name}");
                return ExitCode::FAILURE;
            };
            let Some(corpus) = corpus::encode_all()
                .into_iter()
                .find(|c| c.name == *corpus_name)
            else {
                eprintln!("no corpus {corpus_name}");
                return ExitCode::FAILURE;
            };
            let mut runner = encode::Runner::new(&corpus);
            let expected = runner.expected();
            assert_eq!(runner.run(imp), expected);
            assert_eq!(measured_encode(&mut runner, imp), expected);
            repeat(|| assert_eq!(runner.run(imp), expected));
        }
        _ => {
            eprintln!("usage: instructions decode <impl> <corpus> <chunk>|encode <impl> <corpus>");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
