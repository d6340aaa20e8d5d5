//! [`Chunk`]: encoded frames shared by every subscriber that receives them.

use core::fmt;
use core::ops::Deref;
use std::iter;
use std::sync::Arc;

use crate::{Frame, Text};

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
    pub fn encode<'a>(frame: impl Into<Frame<'a>>) -> Self {
        let frame = frame.into();
        let len = frame.encoded_len();
        // `repeat_n` has a trusted length, so the slice is allocated once at
        // its final size.
        let mut bytes: Arc<[u8]> = iter::repeat_n(0u8, len).collect();
        // A freshly collected `Arc` has no other owner, so `get_mut` succeeds;
        // if it ever did not, the chunk would stay zeroed rather than panic.
        if let Some(buf) = Arc::get_mut(&mut bytes) {
            let written = frame.encoder().encode(buf);
            debug_assert_eq!(written, len, "encoded_len and Encoder disagree");
        }
        Self(bytes)
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
