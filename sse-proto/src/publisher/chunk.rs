//! [`Chunk`]: encoded frames shared by every subscriber that receives them.

use core::cell::RefCell;
use core::fmt;
use core::ops::Deref;
use std::sync::Arc;
use std::vec::Vec;

use crate::{Frame, Text};

// A thread's buffer for encoding chunks: each frame is encoded into it in
// one pass, then copied into a chunk of exactly its length.
std::thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The largest scratch buffer a thread keeps between frames; one grown for
/// a larger frame is let go.
const MAX_SCRATCH: usize = 64 * 1024;

/// Encoded bytes of one or more whole frames (an event, a `retry:` line),
/// immutable and shared: cloning is a reference-count increment.
///
/// A published event is encoded once into a `Chunk` and the same bytes are
/// queued for every subscriber that receives it and kept in the history.
/// Adapters hand it to their HTTP stack without copying
/// (`bytes::Bytes::from_owner(chunk)`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Chunk(Arc<[u8]>);

impl Chunk {
    /// Encodes `frame` into a new chunk: one allocation of exactly its
    /// encoded length.
    ///
    /// The frame is encoded in one pass into a buffer the thread keeps
    /// (no length scan first, no zero fill), then copied into the chunk.
    pub fn encode<'a>(frame: impl Into<Frame<'a>>) -> Self {
        let frame = frame.into();
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.clear();
                let _ = frame.encode_into(&mut *scratch);
                let chunk = Self(Arc::from(scratch.as_slice()));
                if scratch.capacity() > MAX_SCRATCH {
                    *scratch = Vec::new();
                }
                chunk
            }
            // Only when encoding re-entered itself, which it never does; a
            // buffer of its own is the safe answer.
            Err(_) => {
                let mut own = Vec::new();
                let _ = frame.encode_into(&mut own);
                Self(Arc::from(own))
            }
        })
    }

    /// Encodes `frame` unless its encoding is longer than `max` bytes;
    /// `Err` holds the encoded length. Data longer than `max` is refused
    /// without being encoded.
    pub(crate) fn encode_within<'a>(
        frame: impl Into<Frame<'a>>,
        max: usize,
    ) -> Result<Self, usize> {
        let frame = frame.into();
        // Every byte of the text is in the encoding, apart from line breaks
        // that each become at least the prefix of the next line.
        let text = match frame {
            Frame::Event(event) => event.data().len(),
            Frame::Comment(text) => text.len(),
            Frame::Retry(_) => 0,
        };
        if text > max {
            return Err(frame.encoded_len());
        }
        let chunk = Self::encode(frame);
        if chunk.len() > max {
            return Err(chunk.len());
        }
        Ok(chunk)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Deref for Chunk {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Chunk {
    /// The bytes as text, invalid UTF-8 shown as `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Text::from_bytes(&self.0), f)
    }
}

#[cfg(test)]
mod tests {
    use super::Chunk;
    use crate::{Event, EventId, Frame};

    #[test]
    fn encode_within_refuses_what_is_too_long() {
        let event = Event::new("a\nb");
        let len = b"data: a\ndata: b\n\n".len();
        assert_eq!(Chunk::encode_within(event, len).unwrap().len(), len);
        assert_eq!(Chunk::encode_within(event, len - 1), Err(len));
        // Refused before encoding: the data alone is too long.
        assert_eq!(Chunk::encode_within(event, 2), Err(len));
        let big = "x".repeat(100 * 1024);
        assert_eq!(
            Chunk::encode(Event::new(&big)).len(),
            big.len() + b"data: \n\n".len()
        );
        // The next chunk on this thread is still exact.
        assert_eq!(Chunk::encode(event).as_bytes(), b"data: a\ndata: b\n\n");
    }

    #[test]
    fn encodes_exactly() {
        let event = Event::new("a\nb").with_id(EventId::new("7").unwrap());
        assert_eq!(
            Chunk::encode(event).as_bytes(),
            b"id: 7\ndata: a\ndata: b\n\n"
        );
        assert_eq!(
            Chunk::encode(Frame::Retry(1000)).as_bytes(),
            b"retry: 1000\n"
        );
    }
}
