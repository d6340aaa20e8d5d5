//! A decoder on a `GrowableBuf`: memory follows the event in progress, not
//! the limit; the frames are the same as in a fixed buffer.

use proptest::prelude::*;
use sse_proto::{DEFAULT_MAX_EVENT_LEN, DecodeError, Decoder, Frame, GrowableBuf, Limits};
use sse_testkit::vectors::{Out, decoder, feed, roomy};

/// The data of every event (or the error) that `input` yields, fed in
/// chunks of `chunk` bytes, and the largest the buffer was after any call.
fn decode_growing(
    decoder: &mut Decoder<GrowableBuf>,
    input: &[u8],
    chunk: usize,
) -> (Vec<Result<usize, DecodeError>>, usize) {
    let mut out = Vec::new();
    let mut largest = decoder.buffer_len();
    for mut piece in input.chunks(chunk) {
        loop {
            let ready = decoder.feed(&mut piece);
            largest = largest.max(decoder.buffer_len());
            match ready {
                Ok(false) => break,
                Ok(true) => {
                    if let Some(Frame::Event(event)) = decoder.frame() {
                        out.push(Ok(event.data().len()));
                    }
                }
                Err(error) => out.push(Err(error)),
            }
        }
    }
    (out, largest)
}

fn event(len: usize) -> Vec<u8> {
    let mut input = b"data: ".to_vec();
    input.resize(6 + len, b'x');
    input.extend_from_slice(b"\n\n");
    input
}

#[test]
fn small_events_never_grow_the_buffer() {
    let mut decoder = Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new());
    let start = decoder.buffer_len();
    // The regions before the data and 4 KiB of data: far from 16 MiB.
    assert!(start < 8 * 1024, "starts with {start} bytes");
    let input: Vec<u8> = (0..1000).flat_map(|_| event(100)).collect();
    for chunk in [1, 64, 16 * 1024] {
        let (events, largest) = decode_growing(&mut decoder, &input, chunk);
        assert_eq!(events, vec![Ok(100); 1000]);
        assert_eq!(largest, start, "chunks of {chunk}");
    }
}

#[test]
fn a_large_event_grows_the_buffer_and_gives_it_back() {
    let mut decoder = Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new());
    let start = decoder.buffer_len();
    let len = 10 << 20;
    for chunk in [1 << 10, 16 << 10, len + 8] {
        let (events, largest) = decode_growing(&mut decoder, &event(len), chunk);
        assert_eq!(events, [Ok(len)], "chunks of {chunk}");
        // Room for the event (with its last LF), at most doubled.
        assert!(
            largest > len && largest <= 2 * (len + start),
            "grew to {largest}"
        );
        // Taken by the next call: the room goes back.
        assert_eq!(decode_growing(&mut decoder, b": next\n", 7).0, []);
        assert_eq!(decoder.buffer_len(), start, "chunks of {chunk}");
    }
}

#[test]
fn the_limit_holds_and_the_room_goes_back_after_a_refusal() {
    let max = 64 * 1024;
    let mut decoder = Decoder::with_capacity(max, Limits::new());
    let start = decoder.buffer_len();
    let mut input = event(max + 1);
    input.extend_from_slice(&event(5));
    let (events, largest) = decode_growing(&mut decoder, &input, 4096);
    assert_eq!(events, [Err(DecodeError::EventTooLarge), Ok(5)]);
    assert!(
        largest <= Limits::new().buffer_len(max),
        "grew to {largest}"
    );
    assert_eq!(decoder.buffer_len(), start);
    // Exactly at the limit still fits (its last LF is stored, then removed).
    let (events, _) = decode_growing(&mut decoder, &event(max - 1), 4096);
    assert_eq!(events, [Ok(max - 1)]);
}

#[test]
fn events_under_the_keep_length_reuse_what_grew() {
    let mut decoder = Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new());
    let start = decoder.buffer_len();
    let input: Vec<u8> = (0..50).flat_map(|_| event(20 * 1024)).collect();
    let (events, largest) = decode_growing(&mut decoder, &input, 16 * 1024);
    assert_eq!(events, vec![Ok(20 * 1024); 50]);
    assert!(largest > start);
    // Still as grown: no allocation per event for a stream of such events.
    assert_eq!(decoder.buffer_len(), largest);
    assert!(largest <= GrowableBuf::DEFAULT_KEEP_LEN);
}

#[test]
fn a_fixed_growable_buffer_is_a_fixed_buffer() {
    let limits = Limits::new();
    let len = limits.buffer_len(1024);
    let mut decoder = Decoder::with_limits(GrowableBuf::new(len, len), limits);
    assert_eq!(decoder.max_event_len(), 1024);
    let (events, largest) = decode_growing(&mut decoder, &[event(1023), event(1024)].concat(), 100);
    assert_eq!(events, [Ok(1023), Err(DecodeError::EventTooLarge)]);
    assert_eq!(largest, len);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Whatever the input and its chunking, a buffer that starts with no
    /// room for data and gives it all back after each event yields what a
    /// fixed buffer of the full size yields, under tight and roomy limits.
    #[test]
    fn growing_and_fixed_buffers_agree(
        lines in prop::collection::vec((0usize..4, 0usize..300), 0..40),
        chunk in 1usize..100,
        max_event_len in prop_oneof![Just(8usize), Just(700), Just(5000)],
    ) {
        let mut input = Vec::new();
        for (kind, len) in lines {
            match kind {
                0 => input.extend_from_slice(&event(len)[..len + 7]),
                1 => input.extend_from_slice(b"\n"),
                2 => input.extend_from_slice(format!("id: {len}\r\n").as_bytes()),
                _ => input.extend_from_slice(&event(len)),
            }
        }
        for limits in [Limits::new(), roomy()] {
            let chunks: Vec<&[u8]> = input.chunks(chunk).collect();
            let mut fixed = decoder(limits, max_event_len);
            let expected: Vec<Out> = feed(&mut fixed, &chunks);
            let mut growing = Decoder::with_limits(
                GrowableBuf::new(0, limits.buffer_len(max_event_len)).with_keep_len(0),
                limits,
            );
            prop_assert_eq!(feed(&mut growing, &chunks), expected);
        }
    }
}
