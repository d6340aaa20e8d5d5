//! Encoding frames into caller buffers: [`Frame::encode`] into a slice in
//! one go, [`Frame::encode_into`] onto the end of a growing buffer, or
//! [`Encoder`] through a buffer of any size.

mod append;

use core::fmt;
use core::time::Duration;

use memchr::{memchr, memchr2};

use crate::{Event, Frame, Text};

pub use append::{BufferFull, EncodeBuf};

/// Why a frame could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is too small; it was left untouched. `required` is the
    /// encoded length of the frame.
    BufferTooSmall {
        /// How many bytes the frame needs.
        required: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { required } => {
                write!(f, "buffer too small: the frame needs {required} bytes")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

const DATA: &[u8] = b"data: ";
const COMMENT: &[u8] = b": ";
const EVENT: &[u8] = b"event: ";
const ID: &[u8] = b"id: ";
const RETRY: &[u8] = b"retry: ";

impl Frame<'static> {
    /// The comment a server sends on a quiet stream so that proxies keep the
    /// connection open and a vanished client is noticed: `: keep-alive`.
    pub const KEEP_ALIVE: Self = Self::Comment(Text::new("keep-alive"));

    /// A `retry:` frame for a reconnection time, in whole milliseconds
    /// (rounded down; saturating).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Frame;
    ///
    /// assert_eq!(Frame::retry(Duration::from_millis(2500)), Frame::Retry(2500));
    /// assert_eq!(Frame::retry(Duration::MAX), Frame::Retry(u64::MAX));
    /// ```
    pub fn retry(reconnection_time: Duration) -> Self {
        Self::Retry(crate::time::millis(reconnection_time))
    }
}

impl<'a> Frame<'a> {
    /// A comment frame, such as a keep-alive.
    pub const fn comment(text: &'a str) -> Self {
        Self::Comment(Text::new(text))
    }

    /// The exact number of bytes [`encode`](Self::encode) writes.
    ///
    /// ```
    /// use sse_proto::{Event, Frame};
    ///
    /// assert_eq!(Frame::from(Event::new("hi")).encoded_len(), b"data: hi\n\n".len());
    /// assert_eq!(Frame::Retry(2500).encoded_len(), b"retry: 2500\n".len());
    /// ```
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::Event(event) => {
                let mut len = lines_len(DATA.len(), event.data().as_bytes()).saturating_add(1);
                if !event.event_type().is_message() {
                    len = len.saturating_add(EVENT.len() + event.event_type().as_text().len() + 1);
                }
                if let Some(id) = event.id() {
                    len = len.saturating_add(ID.len() + id.as_text().len() + 1);
                }
                len
            }
            Self::Comment(text) => lines_len(COMMENT.len(), text.as_bytes()),
            Self::Retry(ms) => RETRY.len() + Digits::new(*ms).as_bytes().len() + 1,
        }
    }

    /// Encodes the frame into `buf` and returns the number of bytes written,
    /// always [`encoded_len`](Self::encoded_len).
    ///
    /// A buffer that is too small is left untouched; the error says how many
    /// bytes are needed. To stream a large frame through a small buffer, use
    /// [`encoder`](Self::encoder).
    ///
    /// ```
    /// use sse_proto::{EncodeError, Event, Frame};
    ///
    /// let frame = Frame::from(Event::new("a\r\nb\n"));
    /// let mut small = [0u8; 4];
    /// assert_eq!(frame.encode(&mut small), Err(EncodeError::BufferTooSmall { required: 24 }));
    /// assert_eq!(small, [0; 4]);
    ///
    /// let mut buf = [0u8; 32];
    /// let n = frame.encode(&mut buf)?;
    /// assert_eq!(&buf[..n], b"data: a\ndata: b\ndata: \n\n");
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        if let Self::Event(event) = self {
            return encode_event(event, buf);
        }
        let required = self.encoded_len();
        let out = buf
            .get_mut(..required)
            .ok_or(EncodeError::BufferTooSmall { required })?;
        let written = self.encoder().encode(out);
        debug_assert_eq!(written, required, "encoded_len and Encoder disagree");
        Ok(written)
    }

    /// Appends the frame to `buf` (a `Vec<u8>`, a `BytesMut`, a
    /// `heapless::Vec`: see [`EncodeBuf`]) and returns the number of bytes
    /// appended, always [`encoded_len`](Self::encoded_len).
    ///
    /// One pass over the data, which splits it into lines and copies them;
    /// nothing is zero-filled first. This is the encoder for a server's
    /// write buffer. A buffer of fixed capacity that cannot take the whole
    /// frame is left as it was, and the error says how long the frame is.
    ///
    /// ```
    /// # #[cfg(feature = "alloc")] {
    /// use sse_proto::{Event, EventId, Frame};
    ///
    /// let mut buf = Vec::new(); // feature `alloc`
    /// Event::new("a\r\nb").with_id(EventId::new("1")?).encode_into(&mut buf)?;
    /// Frame::comment("keep-alive").encode_into(&mut buf)?;
    /// assert_eq!(buf, b"id: 1\ndata: a\ndata: b\n\n: keep-alive\n");
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn encode_into<B: EncodeBuf + ?Sized>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        append::encode_into(self, buf)
    }

    /// A resumable encoding of this frame, which writes it through buffers of
    /// any size.
    pub fn encoder(&self) -> Encoder<'a> {
        Encoder::new(*self)
    }
}

/// Encodes an event in one go: the same bytes as [`Encoder`], written
/// straight into `buf` (the resumable encoder's bookkeeping costs more than
/// the copying for a small event).
fn encode_event(event: &Event<'_>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    let data = event.data().as_bytes();
    let first_break = memchr2(b'\r', b'\n', data);
    let data_len = match first_break {
        None => DATA.len() + data.len() + 1,
        Some(_) => lines_len(DATA.len(), data),
    };
    let event_type = (!event.event_type().is_message()).then(|| event.event_type().as_text());
    let id = event.id().map(|id| id.as_text());
    let required = event_type
        .map_or(0, |t| EVENT.len() + t.len() + 1)
        .saturating_add(id.map_or(0, |id| ID.len() + id.len() + 1))
        .saturating_add(data_len)
        .saturating_add(1);
    let out = buf
        .get_mut(..required)
        .ok_or(EncodeError::BufferTooSmall { required })?;
    let mut writer = Writer(out);
    if let Some(event_type) = event_type {
        writer.line(EVENT, event_type.as_bytes());
    }
    if let Some(id) = id {
        writer.line(ID, id.as_bytes());
    }
    match first_break {
        None => writer.line(DATA, data),
        Some(first) => {
            let mut start = 0;
            let mut end = first;
            loop {
                writer.line(DATA, data.get(start..end).unwrap_or_default());
                // CRLF is one line break.
                let crlf = data.get(end) == Some(&b'\r') && data.get(end + 1) == Some(&b'\n');
                start = end + 1 + usize::from(crlf);
                let rest = data.get(start..).unwrap_or_default();
                match memchr2(b'\r', b'\n', rest) {
                    Some(i) => end = start + i,
                    None => {
                        writer.line(DATA, rest);
                        break;
                    }
                }
            }
        }
    }
    writer.put(b"\n");
    debug_assert!(writer.0.is_empty(), "encoded_len and encode disagree");
    Ok(required)
}

/// Writes into a buffer already checked to be exactly long enough.
struct Writer<'b>(&'b mut [u8]);

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let out = core::mem::take(&mut self.0);
        if bytes.len() > out.len() {
            // The length was checked first, so this never happens; writing
            // nothing is the safe answer if it ever did.
            self.0 = out;
            return;
        }
        // Cannot panic: `bytes.len() <= out.len()` was just checked.
        let (head, tail) = out.split_at_mut(bytes.len());
        head.copy_from_slice(bytes);
        self.0 = tail;
    }

    /// `prefix`, `value`, LF.
    #[inline]
    fn line(&mut self, prefix: &[u8], value: &[u8]) {
        self.put(prefix);
        self.put(value);
        self.put(b"\n");
    }
}

/// The length of `text` written as lines of `prefix_len + line + LF`, split
/// on CR, LF and CRLF. There is always at least one line.
///
/// Counting is branch-free loops over the bytes, which the compiler
/// vectorizes: cheaper than stopping at every line break.
fn lines_len(prefix_len: usize, text: &[u8]) -> usize {
    // Byte-wide counters over blocks of up to 255 bytes vectorize well.
    let break_bytes: usize = text
        .chunks(255)
        .map(|block| {
            let n = block
                .iter()
                .fold(0u8, |n, &b| n + u8::from((b == b'\n') | (b == b'\r')));
            usize::from(n)
        })
        .sum();
    // The LF of a CRLF ends the same line as its CR.
    let crlf = if memchr(b'\r', text).is_none() {
        0
    } else {
        text.windows(2).filter(|pair| pair == b"\r\n").count()
    };
    let lines = (break_bytes - crlf).saturating_add(1);
    lines
        .saturating_mul(prefix_len + 1)
        .saturating_add(text.len() - break_bytes)
}

/// A `u64` in decimal, without allocating.
#[derive(Clone, Copy, Debug)]
struct Digits {
    buf: [u8; 20],
    start: u8,
}

impl Digits {
    fn new(mut n: u64) -> Self {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        loop {
            start -= 1;
            // `n % 10 < 10`, so the cast cannot truncate; `start` stays within
            // `buf` because u64::MAX has 20 digits.
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self {
            buf,
            start: start as u8,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(usize::from(self.start)..).unwrap_or_default()
    }
}

/// Where an [`Encoder`] is in its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    EventType,
    Id,
    /// The lines of the data (events) or the text (comments).
    Lines,
    Retry,
    /// The blank line that dispatches an event.
    Blank,
    Done,
}

/// Which part of the current line is being written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Prefix,
    Value,
    End,
}

/// A frame being encoded through buffers of any size, for example a 64 KiB
/// event through a 256-byte buffer.
///
/// Call [`encode`](Self::encode) with each free buffer until
/// [`is_done`](Self::is_done). Scanning for line breaks resumes where it
/// stopped, so the work is linear in the frame whatever the buffer size.
///
/// ```
/// use sse_proto::{Event, Frame};
///
/// let frame = Frame::from(Event::new("streamed\nthrough a small buffer"));
/// let mut encoder = frame.encoder();
/// let mut out = Vec::new();
/// let mut buf = [0u8; 5];
/// while !encoder.is_done() {
///     let n = encoder.encode(&mut buf);
///     out.extend_from_slice(&buf[..n]);
/// }
/// assert_eq!(out, b"data: streamed\ndata: through a small buffer\n\n");
/// assert_eq!(out.len(), frame.encoded_len());
/// ```
#[derive(Clone, Debug)]
pub struct Encoder<'a> {
    frame: Frame<'a>,
    section: Section,
    part: Part,
    /// Bytes of the current part already written.
    offset: usize,
    /// The current line of a multi-line text: `start..end`.
    line: (usize, usize),
    /// Where the next line starts, or `None` on the last line.
    next_line: Option<usize>,
    digits: Digits,
}

impl<'a> Encoder<'a> {
    /// An encoder at the start of `frame`.
    pub fn new(frame: impl Into<Frame<'a>>) -> Self {
        let frame = frame.into();
        let mut encoder = Self {
            frame,
            section: Section::Done,
            part: Part::Prefix,
            offset: 0,
            line: (0, 0),
            next_line: None,
            digits: Digits::new(0),
        };
        match frame {
            Frame::Event(event) if !event.event_type().is_message() => {
                encoder.section = Section::EventType;
            }
            Frame::Event(event) if event.id().is_some() => encoder.section = Section::Id,
            Frame::Event(_) | Frame::Comment(_) => encoder.start_lines(),
            Frame::Retry(ms) => {
                encoder.digits = Digits::new(ms);
                encoder.section = Section::Retry;
            }
        }
        encoder
    }

    /// Whether the whole frame has been written.
    pub fn is_done(&self) -> bool {
        self.section == Section::Done
    }

    /// Writes as much of the frame as fits into `out` and returns how many
    /// bytes were written (0 only when `out` is empty or the frame is done).
    pub fn encode(&mut self, out: &mut [u8]) -> usize {
        let mut written = 0;
        while let Some(free) = out.get_mut(written..) {
            if free.is_empty() {
                break;
            }
            let Some(part) = self.current_part() else {
                break;
            };
            let rest = part.get(self.offset..).unwrap_or_default();
            let n = rest.len().min(free.len());
            if let (Some(dst), Some(src)) = (free.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            let part_done = n == rest.len();
            written += n;
            self.offset += n;
            if part_done {
                self.next_part();
            }
        }
        written
    }

    /// The multi-line text of the frame: an event's data or a comment.
    fn text(&self) -> &'a [u8] {
        match self.frame {
            Frame::Event(event) => event.data().as_bytes(),
            Frame::Comment(text) => text.as_bytes(),
            Frame::Retry(_) => &[],
        }
    }

    /// The bytes of the current part, or `None` when done.
    fn current_part(&self) -> Option<&[u8]> {
        let (prefix, value): (&[u8], &[u8]) = match (self.section, self.frame) {
            (Section::EventType, Frame::Event(event)) => {
                (EVENT, event.event_type().as_text().as_bytes())
            }
            (Section::Id, Frame::Event(event)) => (
                ID,
                event
                    .id()
                    .map(|id| id.as_text().as_bytes())
                    .unwrap_or_default(),
            ),
            (Section::Lines, Frame::Event(_)) => (DATA, self.current_line()),
            (Section::Lines, _) => (COMMENT, self.current_line()),
            (Section::Retry, _) => (RETRY, self.digits.as_bytes()),
            (Section::Blank, _) => (b"", b""),
            _ => return None,
        };
        Some(match self.part {
            Part::Prefix => prefix,
            Part::Value => value,
            Part::End => b"\n",
        })
    }

    fn current_line(&self) -> &'a [u8] {
        self.text()
            .get(self.line.0..self.line.1)
            .unwrap_or_default()
    }

    fn next_part(&mut self) {
        self.offset = 0;
        self.part = match self.part {
            Part::Prefix => Part::Value,
            Part::Value => Part::End,
            Part::End => {
                self.next_section();
                Part::Prefix
            }
        };
    }

    /// Moves past the line just written.
    fn next_section(&mut self) {
        match self.section {
            Section::EventType => match self.frame {
                Frame::Event(event) if event.id().is_some() => self.section = Section::Id,
                _ => self.start_lines(),
            },
            Section::Id => self.start_lines(),
            Section::Lines => match (self.next_line, self.frame) {
                (Some(start), _) => self.find_line(start),
                (None, Frame::Event(_)) => self.section = Section::Blank,
                (None, _) => self.section = Section::Done,
            },
            Section::Retry | Section::Blank | Section::Done => self.section = Section::Done,
        }
    }

    fn start_lines(&mut self) {
        self.section = Section::Lines;
        self.find_line(0);
    }

    /// Finds the line of the text that starts at `start`; CR, LF and CRLF
    /// end lines, and the text after the last break is a line too.
    fn find_line(&mut self, start: usize) {
        let text = self.text();
        let rest = text.get(start..).unwrap_or_default();
        match memchr2(b'\r', b'\n', rest) {
            Some(i) => {
                let end = start + i;
                let crlf = text.get(end) == Some(&b'\r') && text.get(end + 1) == Some(&b'\n');
                self.line = (start, end);
                self.next_line = Some(end + 1 + usize::from(crlf));
            }
            None => {
                self.line = (start, text.len());
                self.next_line = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Digits;
    use crate::{Event, EventId, EventType, Frame, Text};

    /// The one-shot event writer and the resumable encoder write the same
    /// bytes, whatever the line breaks.
    #[test]
    fn one_shot_and_resumable_agree() {
        let texts: [&[u8]; 12] = [
            b"",
            b"x",
            b"\n",
            b"\r",
            b"\r\n",
            b"\n\r",
            b"a\r\r\nb",
            b"a\n\nb\n",
            b"\r\na",
            b"line one\r\nline two\rline three\n",
            b"\xFF\x00\n",
            b"a\rb\nc\r\nd\r",
        ];
        for text in texts {
            for typed in [false, true] {
                let mut event =
                    Event::from_text(Text::from_bytes(text)).with_id(EventId::new("7").unwrap());
                if typed {
                    event = event.with_type(EventType::new("t").unwrap());
                }
                let frame = Frame::Event(event);
                let mut one_shot = [0u8; 128];
                let n = frame.encode(&mut one_shot).unwrap();
                let mut resumable = [0u8; 128];
                let m = frame.encoder().encode(&mut resumable);
                assert_eq!(one_shot[..n], resumable[..m], "{text:?}");
                assert_eq!(n, frame.encoded_len());
            }
        }
    }

    /// Line breaks are counted in blocks of 255 bytes: many of them, across
    /// block boundaries and with CRLF split by one, are counted right.
    #[test]
    fn lines_are_counted_across_blocks() {
        let mut text = [b'\n'; 600];
        text[254] = b'\r'; // CR at the end of the first block, LF after it
        text[300] = b'x';
        // 599 break bytes, one CRLF pair: 598 breaks, 599 lines.
        assert_eq!(super::lines_len(6, &text), 599 * 7 + 1);
        assert_eq!(super::lines_len(6, b""), 7);
        assert_eq!(super::lines_len(2, b"a\r\nb\rc"), 3 * 3 + 3);
    }

    #[test]
    fn digits_cover_the_whole_range() {
        assert_eq!(Digits::new(0).as_bytes(), b"0");
        assert_eq!(Digits::new(3000).as_bytes(), b"3000");
        assert_eq!(Digits::new(u64::MAX).as_bytes(), b"18446744073709551615");
    }
}
