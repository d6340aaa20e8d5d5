//! The bare-metal example (`examples/embedded`, built for
//! thumbv7em-none-eabihf in CI) on the host: its logic run and checked, and
//! the stack its minimal programs need, measured by painting.
//!
//! `cargo test -p sse-proto --release --features heapless --test embedded --
//! --nocapture` prints the figures that sse-proto's README quotes (a debug
//! build inlines nothing and needs several times more).
#![cfg(feature = "heapless")]

#[path = "../examples/embedded/src/ring.rs"]
#[allow(dead_code)]
mod ring;
#[path = "../examples/embedded/src/work.rs"]
mod work;

use std::hint::black_box;

use ring::{Kept, Rings, Transport};
use sse_proto::{Decoder, Event, EventId, EventType, Frame};

#[test]
fn the_example_acknowledges_every_event_and_keeps_the_last() {
    let mut rings = Rings::new();
    for &byte in work::SAMPLE {
        rings.rx.enqueue(byte).unwrap();
    }
    let transport: &mut dyn Transport = &mut rings;
    let last = ring::run(transport).unwrap();
    let expected = Event::new("{\"t\":21.7}\n{\"t\":21.8}")
        .with_type(EventType::new("reading").unwrap())
        .with_id(EventId::new("2").unwrap());
    assert_eq!(last, Kept::try_from(expected).unwrap());

    let mut sent = Vec::new();
    while let Some(byte) = rings.tx.dequeue() {
        sent.push(byte);
    }
    let mut decoder = Decoder::new([0u8; 128]);
    let mut input = &sent[..];
    let mut acks = Vec::new();
    while let Some(frame) = decoder.decode(&mut input) {
        if let Frame::Event(ack) = frame.unwrap() {
            assert_eq!(ack.event_type().as_text(), "ack");
            acks.push(ack.id().unwrap().to_string());
        }
    }
    assert_eq!(acks, ["1", "2"]);
}

#[test]
fn the_minimal_programs_do_their_work() {
    // Two events, two and one data lines' worth of bytes, in any chunking.
    for chunk in [1, 7, 16, work::SAMPLE.len()] {
        assert_eq!(work::decode(work::SAMPLE, chunk), (2, 10 + 21), "{chunk}");
    }
    let (_, len) = work::encode("reading", "42", "{\"t\":21.5}\n{\"t\":21.7}");
    assert_eq!(
        len,
        "event: reading\nid: 42\ndata: {\"t\":21.5}\ndata: {\"t\":21.7}\n\n".len()
    );
    assert_eq!(work::encode("bad\ntype", "1", "x"), (0, 0));
}

/// Painting: how deep below its caller's frame a function writes.
///
/// The stack below this frame is filled with a pattern, the function runs
/// from the same frame, and the lowest byte no longer holding the pattern
/// says how deep it went. Measured on the host (x86_64), with the buffers
/// the programs keep on the stack included; a Cortex-M4 saves fewer and
/// smaller registers, so this is an upper estimate there.
mod paint {
    use std::hint::black_box;
    use std::mem::MaybeUninit;

    /// How much of the stack is painted.
    const DEPTH: usize = 64 * 1024;
    const COLOUR: u8 = 0xA5;

    /// Fills `DEPTH` bytes of stack below the caller's frame with the
    /// colour; returns the lowest address painted.
    #[inline(never)]
    fn paint() -> usize {
        let mut area = [MaybeUninit::<u8>::uninit(); DEPTH];
        for byte in &mut area {
            byte.write(COLOUR);
        }
        black_box(&mut area);
        area.as_ptr() as usize
    }

    /// How many of the painted bytes, counted up from `lowest`, still hold
    /// the colour.
    #[inline(never)]
    fn untouched(lowest: usize) -> usize {
        (0..DEPTH)
            .take_while(|&i| {
                // SAFETY: `lowest..lowest + DEPTH` is stack that `paint`
                // wrote a moment ago in this thread, below the current
                // frame and still mapped; it is read as plain bytes, with
                // volatile reads so the compiler does not assume anything
                // about memory below the stack pointer.
                let byte = unsafe { std::ptr::read_volatile((lowest + i) as *const u8) };
                byte == COLOUR
            })
            .count()
    }

    /// The bytes of stack `f` wrote below this frame.
    #[inline(never)]
    fn depth(f: fn()) -> usize {
        let lowest = black_box(paint());
        black_box(f)();
        DEPTH - untouched(lowest)
    }

    /// The stack `f` needs, over what calling a function that does nothing
    /// needs, in a thread with room for the painting.
    pub(super) fn high_water_mark(f: fn()) -> usize {
        std::thread::Builder::new()
            .stack_size(4 * DEPTH)
            .spawn(move || depth(f).saturating_sub(depth(|| {})))
            .unwrap()
            .join()
            .unwrap()
    }
}

fn decode_sample() {
    black_box(work::decode(black_box(work::SAMPLE), black_box(16)));
}

fn encode_sample() {
    black_box(work::encode(
        black_box("reading"),
        black_box("42"),
        black_box("{\"t\":21.5}\n{\"t\":21.7}"),
    ));
}

#[test]
fn stack_high_water_marks() {
    let decode = paint::high_water_mark(decode_sample);
    let encode = paint::high_water_mark(encode_sample);
    println!(
        "stack high-water mark on the host: decode {decode} bytes \
         (with the decoder's {}-byte buffer), encode {encode} bytes \
         (with the {}-byte output buffer)",
        work::DECODE_BUF_LEN,
        work::ENCODE_BUF_LEN
    );
    // The buffers are on the stack, so each needs at least its buffer.
    assert!(decode >= work::DECODE_BUF_LEN, "{decode}");
    assert!(encode >= work::ENCODE_BUF_LEN, "{encode}");
    // Optimised, neither needs much more (no recursion, no large locals);
    // unoptimised, every call keeps its own copies.
    let (decode_over, encode_over) = if cfg!(debug_assertions) {
        (16 * 1024, 16 * 1024)
    } else {
        (2048, 1024)
    };
    assert!(decode < work::DECODE_BUF_LEN + decode_over, "{decode}");
    assert!(encode < work::ENCODE_BUF_LEN + encode_over, "{encode}");
}
