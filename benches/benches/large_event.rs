//! What one 10 MiB event costs the decoder as users get it, next to a copy
//! of the same bytes, in one run (issue 15: "decoding a 10 MiB event costs
//! close to a copy of it").
//!
//! - `copy into a new Vec`: the floor. The event's bytes copied into a
//!   freshly allocated `Vec` and dropped, as any decoder that hands out
//!   the event must at least copy it somewhere and get the memory for it.
//! - `copy into a kept buffer`: the same copy into memory allocated once,
//!   the best case.
//! - `default decoder, 16 KiB chunks` and `whole`: the adapters' default
//!   (`Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, ..)` on a
//!   `GrowableBuf`), built once as a long-lived stream holds it: per event
//!   it grows from its start by doubling, takes the data, and gives the
//!   room back when the next call finds the event taken. Fed in 16 KiB
//!   chunks as it arrives from a socket, and in one piece.
//! - `fixed 16 MiB buffer, 16 KiB chunks`: a decoder whose buffer was
//!   allocated once at full size, never grown or given back.
//! - `plain floor, 16 KiB chunks` and `whole`: the 70-line `memchr2`
//!   decoder of `src/floor.rs` (no limits, no checks), whose `Vec`s keep
//!   what they grew to.
//!
//! Each round measures every row `REPS` times and keeps the median; the
//! table shows the median over `ROUNDS` rounds with the lowest and highest
//! round, and each row's time over the new-`Vec` copy's in the same round.
//! `cargo bench -p benches --bench large_event` (about half a minute).
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::floor::PlainDecoder;
use sse_proto::{DEFAULT_MAX_EVENT_LEN, DecodeBuf, Decoder, Frame, Limits};

const LEN: usize = 10 << 20;
const ROUNDS: usize = 7;
const REPS: usize = 9;
const CHUNK: usize = 16 * 1024;

fn input() -> Vec<u8> {
    let mut input = b"id: 1\ndata: ".to_vec();
    input.extend((0..LEN).map(|i| b'a' + (i % 26) as u8));
    input.extend_from_slice(b"\n\n");
    input
}

/// Decodes the one event in `input`, in chunks of `chunk`, and returns its
/// data length; then a comment, which releases the event's room.
fn decode<B: DecodeBuf>(decoder: &mut Decoder<B>, input: &[u8], chunk: usize) -> usize {
    let mut len = 0;
    for mut piece in input.chunks(chunk) {
        while let Some(frame) = decoder.decode(&mut piece) {
            if let Ok(Frame::Event(event)) = frame {
                len = black_box(event.data()).len();
            }
        }
    }
    let mut ping = &b":\n"[..];
    assert!(decoder.decode(&mut ping).is_none());
    len
}

/// The plain floor over the same input; the data length of its event.
fn plain(decoder: &mut PlainDecoder, input: &[u8], chunk: usize) -> usize {
    let mut len = 0;
    for piece in input.chunks(chunk) {
        decoder.feed(piece, &mut |_, _, data| len = black_box(data).len());
    }
    len
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let input = input();
    let data = &input[12..12 + LEN];
    let mut default = Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new());
    let fixed_len = Limits::new().buffer_len(DEFAULT_MAX_EVENT_LEN);
    let mut fixed = Decoder::with_limits(vec![0u8; fixed_len].into_boxed_slice(), Limits::new());
    let mut kept = vec![0u8; LEN];
    let start = default.buffer_len();

    let names = [
        "copy into a new Vec",
        "copy into a kept buffer",
        "default decoder, 16 KiB chunks",
        "default decoder, whole",
        "fixed 16 MiB buffer, 16 KiB chunks",
        "plain floor, 16 KiB chunks",
        "plain floor, whole",
    ];
    let mut floor = PlainDecoder::default();
    // rounds[row] = (median time, ratio to the new-Vec copy) per round.
    let mut rounds: Vec<Vec<(Duration, f64)>> = vec![Vec::new(); names.len()];
    for _ in 0..ROUNDS {
        let mut medians = Vec::new();
        for (row, name) in names.iter().enumerate() {
            let mut times = Vec::with_capacity(REPS);
            for _ in 0..REPS {
                let started = Instant::now();
                let len = match row {
                    0 => {
                        let mut copy = Vec::with_capacity(LEN);
                        copy.extend_from_slice(data);
                        black_box(&copy).len()
                    }
                    1 => {
                        kept.copy_from_slice(data);
                        black_box(&kept).len()
                    }
                    2 => decode(&mut default, &input, CHUNK),
                    3 => decode(&mut default, &input, input.len()),
                    4 => decode(&mut fixed, &input, CHUNK),
                    5 => plain(&mut floor, &input, CHUNK),
                    _ => plain(&mut floor, &input, input.len()),
                };
                times.push(started.elapsed());
                assert_eq!(len, LEN, "{name}");
            }
            assert_eq!(default.buffer_len(), start, "the room was not given back");
            medians.push(median(times));
        }
        for (row, &time) in medians.iter().enumerate() {
            let ratio = time.as_secs_f64() / medians[0].as_secs_f64();
            rounds[row].push((time, ratio));
        }
    }

    println!("One event of 10 MiB of data: median of {ROUNDS} rounds (lowest–highest round).\n");
    println!("| | time | GiB/s | time ÷ copy into a new Vec |");
    println!("|---|---:|---:|---:|");
    for (row, name) in names.iter().enumerate() {
        let mut times: Vec<f64> = rounds[row].iter().map(|(t, _)| t.as_secs_f64()).collect();
        let mut ratios: Vec<f64> = rounds[row].iter().map(|(_, r)| *r).collect();
        times.sort_by(f64::total_cmp);
        ratios.sort_by(f64::total_cmp);
        let mid = times[times.len() / 2];
        println!(
            "| {name} | {:.2} ms ({:.2}–{:.2}) | {:.1} | {:.2}× ({:.2}–{:.2}) |",
            mid * 1e3,
            times[0] * 1e3,
            times[times.len() - 1] * 1e3,
            LEN as f64 / mid / f64::from(1 << 30),
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1],
        );
    }
}
