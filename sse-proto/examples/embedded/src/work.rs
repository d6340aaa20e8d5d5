//! What the minimal programs do, in a file with nothing target-specific:
//! the bare-metal binaries run it, and sse-proto's host test measures the
//! stack it needs (`tests/embedded.rs`).
// Each program uses part of it.
#![allow(dead_code)]

use sse_proto::{Decoder, Event, EventId, EventType, Frame};

/// A stream as a sensor gateway might send it.
pub(crate) const SAMPLE: &[u8] = b"retry: 1000\n\n\
    id: 1\nevent: reading\ndata: {\"t\":21.5}\n\n\
    : keep-alive\n\n\
    id: 2\nevent: reading\ndata: {\"t\":21.7}\ndata: {\"t\":21.8}\n\n";

/// The decoder's buffer: ids, type and the data of one event.
pub(crate) const DECODE_BUF_LEN: usize = 512;

/// The encoder's buffer: one encoded event.
pub(crate) const ENCODE_BUF_LEN: usize = 128;

/// Decodes `input` in chunks of `chunk` bytes with a decoder whose buffer
/// is on the stack; returns the number of events and of data bytes.
#[inline(never)]
pub(crate) fn decode(input: &[u8], chunk: usize) -> (usize, usize) {
    let mut decoder = Decoder::new([0u8; DECODE_BUF_LEN]);
    let (mut events, mut bytes) = (0, 0);
    for mut piece in input.chunks(chunk.max(1)) {
        while let Some(frame) = decoder.decode(&mut piece) {
            if let Ok(Frame::Event(event)) = frame {
                events += 1;
                bytes += event.data().len();
            }
        }
    }
    (events, bytes)
}

/// Checks the fields, builds the event and encodes it into a buffer on the
/// stack; returns the encoded bytes' sum and length (0 when refused).
#[inline(never)]
pub(crate) fn encode(event_type: &str, id: &str, data: &str) -> (u32, usize) {
    let mut buf = [0u8; ENCODE_BUF_LEN];
    let (Ok(event_type), Ok(id)) = (EventType::new(event_type), EventId::new(id)) else {
        return (0, 0);
    };
    let event = Event::new(data).with_type(event_type).with_id(id);
    match event.encode(&mut buf) {
        Ok(len) => (buf[..len].iter().map(|&b| u32::from(b)).sum(), len),
        Err(_) => (0, 0),
    }
}
