//! Encoding onto the end of a growing buffer in one pass: [`EncodeBuf`] and
//! [`Frame::encode_into`].
//!
//! The slice encoder must know a frame's length before it writes its first
//! byte, so it scans the data twice (count the line breaks, then copy the
//! lines), and a growing buffer it writes into must first be zero-filled to
//! that length. Appending needs neither: the buffer reserves what the frame
//! needs if its data has no line break (the exact length of most events, a
//! lower bound for the rest), and each line is copied as soon as the scan
//! finds its end.

use core::fmt;

use super::{COMMENT, DATA, Digits, EVENT, EncodeError, ID, RETRY};
use crate::{Event, Frame, line_end};

/// A buffer that frames are appended to: [`Frame::encode_into`] reserves
/// room, then writes slices.
///
/// Implemented for `Vec<u8>` (feature `alloc`), `bytes::BytesMut` (feature
/// `bytes`) and `heapless::Vec<u8, N>` (feature `heapless`). A buffer that
/// grows never refuses; one of fixed capacity refuses what does not fit,
/// and the encoder then puts it back as it was.
///
/// ```
/// use sse_proto::{BufferFull, EncodeBuf, Event};
///
/// /// At most 16 bytes on the stack.
/// struct Small { bytes: [u8; 16], len: usize }
///
/// impl EncodeBuf for Small {
///     fn len(&self) -> usize { self.len }
///     fn reserve(&mut self, additional: usize) -> Result<(), BufferFull> {
///         if additional <= self.bytes.len() - self.len { Ok(()) } else { Err(BufferFull) }
///     }
///     fn push_slice(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
///         let dst = self.bytes.get_mut(self.len..self.len + bytes.len()).ok_or(BufferFull)?;
///         dst.copy_from_slice(bytes);
///         self.len += bytes.len();
///         Ok(())
///     }
///     fn truncate(&mut self, len: usize) { self.len = self.len.min(len); }
/// }
///
/// let mut buf = Small { bytes: [0; 16], len: 0 };
/// assert_eq!(Event::new("hi").encode_into(&mut buf), Ok(10));
/// assert!(Event::new("too long for it").encode_into(&mut buf).is_err());
/// assert_eq!(&buf.bytes[..buf.len], b"data: hi\n\n");
/// ```
pub trait EncodeBuf {
    /// The number of bytes in the buffer.
    fn len(&self) -> usize;

    /// Whether the buffer is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for `additional` more bytes: a growing buffer grows (or
    /// does nothing when it has the room), one of fixed capacity says
    /// whether they fit. Called once per frame, before the first write.
    fn reserve(&mut self, additional: usize) -> Result<(), BufferFull>;

    /// Appends `bytes`; when they do not fit, appends nothing and refuses.
    fn push_slice(&mut self, bytes: &[u8]) -> Result<(), BufferFull>;

    /// Shortens the buffer to `len` bytes; no effect when it is not longer.
    /// The encoder calls it to take back a frame that did not fit.
    fn truncate(&mut self, len: usize);
}

/// An [`EncodeBuf`] of fixed capacity has no room for what it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferFull;

impl fmt::Display for BufferFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("buffer full")
    }
}

impl core::error::Error for BufferFull {}

#[cfg(feature = "alloc")]
impl EncodeBuf for alloc::vec::Vec<u8> {
    #[inline]
    fn len(&self) -> usize {
        Self::len(self)
    }

    #[inline]
    fn reserve(&mut self, additional: usize) -> Result<(), BufferFull> {
        Self::reserve(self, additional);
        Ok(())
    }

    #[inline]
    fn push_slice(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn truncate(&mut self, len: usize) {
        Self::truncate(self, len);
    }
}

#[cfg(feature = "bytes")]
impl EncodeBuf for bytes::BytesMut {
    #[inline]
    fn len(&self) -> usize {
        Self::len(self)
    }

    #[inline]
    fn reserve(&mut self, additional: usize) -> Result<(), BufferFull> {
        Self::reserve(self, additional);
        Ok(())
    }

    #[inline]
    fn push_slice(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn truncate(&mut self, len: usize) {
        Self::truncate(self, len);
    }
}

#[cfg(feature = "heapless")]
impl<const N: usize> EncodeBuf for heapless::Vec<u8, N> {
    #[inline]
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    #[inline]
    fn reserve(&mut self, additional: usize) -> Result<(), BufferFull> {
        if additional <= N - self.as_slice().len() {
            Ok(())
        } else {
            Err(BufferFull)
        }
    }

    #[inline]
    fn push_slice(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
        self.extend_from_slice(bytes).map_err(|()| BufferFull)
    }

    #[inline]
    fn truncate(&mut self, len: usize) {
        Self::truncate(self, len);
    }
}

/// A line break and the prefix of the next data line, written as one piece.
const DATA_BREAK: &[u8] = b"\ndata: ";
/// The same for comment lines.
const COMMENT_BREAK: &[u8] = b"\n: ";

/// How much of a long line is searched before it is copied, so that the
/// copy reads what the search has just brought into the cache.
const WINDOW: usize = 16 * 1024;

/// Appends `frame` to `buf`; see [`Frame::encode_into`].
#[inline]
pub(super) fn encode_into<B: EncodeBuf + ?Sized>(
    frame: &Frame<'_>,
    buf: &mut B,
) -> Result<usize, EncodeError> {
    let start = buf.len();
    let appended = match frame {
        Frame::Event(event) => append_event(event, buf),
        Frame::Comment(text) => {
            let text = text.as_bytes();
            (|| {
                buf.reserve(COMMENT_BREAK.len() + text.len())?;
                buf.push_slice(COMMENT)?;
                append_lines(buf, COMMENT_BREAK, text)?;
                buf.push_slice(b"\n")
            })()
        }
        Frame::Retry(ms) => {
            let digits = Digits::new(*ms);
            let digits = digits.as_bytes();
            (|| {
                buf.reserve(RETRY.len() + digits.len() + 1)?;
                buf.push_slice(RETRY)?;
                buf.push_slice(digits)?;
                buf.push_slice(b"\n")
            })()
        }
    };
    match appended {
        Ok(()) => Ok(buf.len() - start),
        Err(BufferFull) => {
            buf.truncate(start);
            Err(EncodeError::BufferTooSmall {
                required: frame.encoded_len(),
            })
        }
    }
}

/// Appends an event. The fixed text between the values goes in one piece
/// each (`"\nid: "`, `"\ndata: "`): fewer, larger appends.
#[inline]
fn append_event<B: EncodeBuf + ?Sized>(event: &Event<'_>, buf: &mut B) -> Result<(), BufferFull> {
    let data = event.data().as_bytes();
    let event_type = event.event_type();
    let typed = !event_type.is_message();
    let event_type = event_type.as_text().as_bytes();
    let id = event.id().map(|id| id.as_text().as_bytes());
    // The whole frame if the data has no line break.
    let mut room = (DATA.len() + 2).saturating_add(data.len());
    if typed {
        room = room.saturating_add(EVENT.len() + 1 + event_type.len());
    }
    if let Some(id) = id {
        room = room.saturating_add(ID.len() + 1 + id.len());
    }
    buf.reserve(room)?;
    match (typed, id) {
        (true, Some(id)) => {
            buf.push_slice(EVENT)?;
            buf.push_slice(event_type)?;
            buf.push_slice(b"\nid: ")?;
            buf.push_slice(id)?;
            buf.push_slice(DATA_BREAK)?;
        }
        (true, None) => {
            buf.push_slice(EVENT)?;
            buf.push_slice(event_type)?;
            buf.push_slice(DATA_BREAK)?;
        }
        (false, Some(id)) => {
            buf.push_slice(ID)?;
            buf.push_slice(id)?;
            buf.push_slice(DATA_BREAK)?;
        }
        (false, None) => buf.push_slice(DATA)?,
    }
    append_lines(buf, DATA_BREAK, data)?;
    buf.push_slice(b"\n\n")
}

/// The lines of `text`, split on CR, LF and CRLF, in one pass: each line is
/// copied as soon as its end is found, and `line_break` (LF and the next
/// line's prefix) written between them. The caller writes the first
/// prefix and the last LF.
#[inline]
fn append_lines<B: EncodeBuf + ?Sized>(
    buf: &mut B,
    line_break: &[u8],
    text: &[u8],
) -> Result<(), BufferFull> {
    let mut rest = text;
    loop {
        let window = rest.get(..WINDOW).unwrap_or(rest);
        match line_end::find(window) {
            Some(end) => {
                let (line, after) = rest.split_at(end);
                buf.push_slice(line)?;
                buf.push_slice(line_break)?;
                // `after` starts with the break; CRLF is one break.
                let skip = if after.starts_with(b"\r\n") { 2 } else { 1 };
                rest = after.get(skip..).unwrap_or_default();
            }
            None if window.len() == rest.len() => return buf.push_slice(rest),
            None => {
                // No break in the window: its part of the line goes now.
                buf.push_slice(window)?;
                rest = rest.get(window.len()..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::EncodeBuf;
    use crate::{EncodeError, Event, EventId, Frame};

    /// Every frame appends the same bytes as the slice encoder writes, after
    /// what the buffer already held.
    #[cfg(feature = "alloc")]
    #[test]
    fn appends_what_the_slice_encoder_writes() {
        use super::WINDOW;
        use crate::{EventType, Text};

        let mut long = std::vec![b'x'; 3 * WINDOW + 5];
        long[WINDOW - 1] = b'\r';
        long[WINDOW] = b'\n';
        long[2 * WINDOW] = b'\r';
        let texts: [&[u8]; 10] = [
            b"",
            b"x",
            b"\n",
            b"\r\n",
            b"a\r\r\nb",
            b"a\n\nb\n",
            b"line one\r\nline two\rline three\n",
            b"\xFF\x00\n",
            &long,
            &long[..WINDOW + 3],
        ];
        for text in texts {
            let event = Event::from_text(Text::from_bytes(text))
                .with_type(EventType::new("t").unwrap())
                .with_id(EventId::new("7").unwrap());
            for frame in [
                Frame::Event(event),
                Frame::Event(Event::from_text(Text::from_bytes(text))),
                Frame::Comment(Text::from_bytes(text)),
                Frame::Retry(text.len() as u64),
            ] {
                let mut expected = std::vec![0u8; frame.encoded_len()];
                frame.encode(&mut expected).unwrap();
                let mut buf: Vec<u8> = b"before".to_vec();
                assert_eq!(frame.encode_into(&mut buf), Ok(expected.len()));
                assert_eq!(&buf[..6], b"before");
                assert!(buf[6..] == expected[..], "{frame:?}");
            }
        }
    }

    /// A buffer of fixed capacity that is one byte short is left as it was.
    #[test]
    fn a_full_buffer_is_left_as_it_was() {
        struct Fixed(Vec<u8>, usize);
        impl EncodeBuf for Fixed {
            fn len(&self) -> usize {
                self.0.len()
            }
            fn reserve(&mut self, additional: usize) -> Result<(), super::BufferFull> {
                (self.0.len() + additional <= self.1)
                    .then_some(())
                    .ok_or(super::BufferFull)
            }
            fn push_slice(&mut self, bytes: &[u8]) -> Result<(), super::BufferFull> {
                self.reserve(bytes.len())?;
                self.0.extend_from_slice(bytes);
                Ok(())
            }
            fn truncate(&mut self, len: usize) {
                self.0.truncate(len);
            }
        }
        for text in ["one line", "two\nlines", "three\r\nlines\r"] {
            let frame = Frame::Event(Event::new(text).with_id(EventId::new("1").unwrap()));
            let len = frame.encoded_len();
            for cap in 0..len {
                let mut buf = Fixed(b"ab".to_vec(), cap + 2);
                assert_eq!(
                    frame.encode_into(&mut buf),
                    Err(EncodeError::BufferTooSmall { required: len })
                );
                assert_eq!(buf.0, b"ab");
            }
            let mut buf = Fixed(b"ab".to_vec(), len + 2);
            assert_eq!(frame.encode_into(&mut buf), Ok(len));
        }
    }
}
