//! [`Event`], [`Frame`] and the checked field types [`EventType`] and [`EventId`].

use core::fmt;

use memchr::{memchr, memchr2};

use crate::Text;

/// Why a value cannot be an event type or an event id.
///
/// The wire format has no escaping: a line break inside an `event` or `id`
/// value would end the line and start a new field, and the spec ignores an
/// `id` that contains NUL. Such values are refused when the field is built, so
/// nothing can be injected into a stream by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldError {
    /// The value contains a carriage return or a line feed.
    LineBreak,
    /// The id contains a NUL character (U+0000), which the spec ignores.
    Nul,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LineBreak => "field value contains a line break (CR or LF)",
            Self::Nul => "event id contains a NUL character",
        })
    }
}

impl core::error::Error for FieldError {}

/// The type of an event: the value of its `event` field.
///
/// Never contains a line break. An empty type is the same as no type at all,
/// and consumers see both as `message` (the spec's default), so
/// [`EventType::new("")`](Self::new) is [`EventType::MESSAGE`].
///
/// ```
/// use sse_proto::{EventType, FieldError};
///
/// assert_eq!(EventType::new("update")?.as_text(), "update");
/// assert_eq!(EventType::new("")?, EventType::MESSAGE);
/// assert_eq!(EventType::new("a\nid: 7"), Err(FieldError::LineBreak));
/// # Ok::<(), FieldError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventType<'a>(Text<'a>);

impl<'a> EventType<'a> {
    /// `message`, the type of an event that names none.
    pub const MESSAGE: EventType<'static> = EventType(Text::new("message"));

    /// An event type, refused if it contains CR or LF.
    #[inline]
    pub fn new(name: &'a str) -> Result<Self, FieldError> {
        Self::from_bytes(name.as_bytes())
    }

    /// An event type from raw bytes, refused if they contain CR or LF.
    #[inline]
    pub fn from_bytes(name: &'a [u8]) -> Result<Self, FieldError> {
        check_field(name, false)?;
        Ok(Self::from_line(name))
    }

    /// A type read from one line of a stream, so already free of line breaks.
    pub(crate) const fn from_line(name: &'a [u8]) -> Self {
        if name.is_empty() {
            EventType::MESSAGE
        } else {
            Self(Text::from_bytes(name))
        }
    }

    /// The type as text.
    pub const fn as_text(&self) -> Text<'a> {
        self.0
    }

    /// Whether this is the default type, `message`.
    #[inline]
    pub fn is_message(&self) -> bool {
        self.0 == Self::MESSAGE.0
    }
}

/// Refuses a field value with CR or LF, or with NUL when `nul` is set (a
/// line break is reported first, wherever it is).
///
/// Event types and ids are short and built for every event a server sends.
/// CR, LF and NUL are all below 0x0E, and a value of up to 16 bytes with no
/// byte that low is passed after one test on two words in registers (loaded
/// so that they may overlap: no loop, no call). Anything else, a tab
/// included, takes the exact check.
#[inline(always)]
fn check_field(value: &[u8], nul: bool) -> Result<(), FieldError> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// Whether some byte of `word` is below 0x0E: exact as to whether there
    /// is one (a borrow can only mark bytes above a marked one).
    const fn has_control(word: u64) -> bool {
        word.wrapping_sub(LOW * 0x0E) & !word & HIGH != 0
    }
    if value.len() <= 16 {
        let (first, last) = short_words(value);
        if !has_control(first) && !has_control(last) {
            return Ok(());
        }
    }
    check_field_exactly(value, nul)
}

/// Two words that hold every byte of `value` (at most 16 bytes) between
/// them, padded with a byte that is never forbidden.
#[inline(always)]
fn short_words(value: &[u8]) -> (u64, u64) {
    const PAD: u64 = u64::from_le_bytes([b'x'; 8]);
    let len = value.len();
    if let (Some(first), Some(last)) = (value.first_chunk::<8>(), value.last_chunk::<8>()) {
        (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
    } else if let (Some(low), Some(high)) = (value.first_chunk::<4>(), value.last_chunk::<4>()) {
        let word = u64::from(u32::from_le_bytes(*low)) | u64::from(u32::from_le_bytes(*high)) << 32;
        (word, word)
    } else if let (Some(&a), Some(&b), Some(&c)) = (value.first(), value.get(len / 2), value.last())
    {
        // One to three bytes: the first, the middle and the last cover them.
        let word = (PAD << 24) | u64::from(a) | u64::from(b) << 8 | u64::from(c) << 16;
        (word, word)
    } else {
        (PAD, PAD)
    }
}

/// [`check_field`] for long values and those with a byte below 0x0E: one
/// folded pass over up to 32 bytes, the searches beyond.
#[inline(never)]
fn check_field_exactly(value: &[u8], nul: bool) -> Result<(), FieldError> {
    let (line_break, has_nul) = if value.len() <= 32 {
        value
            .iter()
            .fold((false, false), |(line_break, has_nul), &b| {
                (line_break | (b == b'\r') | (b == b'\n'), has_nul | (b == 0))
            })
    } else {
        (
            memchr2(b'\r', b'\n', value).is_some(),
            nul && memchr(0, value).is_some(),
        )
    };
    if line_break {
        Err(FieldError::LineBreak)
    } else if nul && has_nul {
        Err(FieldError::Nul)
    } else {
        Ok(())
    }
}

impl fmt::Debug for EventType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for EventType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// An event id: the value of an `id` field, which a client sends back as
/// `Last-Event-ID` when it reconnects.
///
/// Never contains a line break or NUL. The empty id is valid: sending it
/// resets the client's last event id.
///
/// ```
/// use sse_proto::{EventId, FieldError};
///
/// assert_eq!(EventId::new("42")?.as_text(), "42");
/// assert_eq!(EventId::new("4\r2"), Err(FieldError::LineBreak));
/// assert_eq!(EventId::new("4\02"), Err(FieldError::Nul));
/// # Ok::<(), FieldError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId<'a>(Text<'a>);

impl<'a> EventId<'a> {
    /// An event id, refused if it contains CR, LF or NUL.
    #[inline]
    pub fn new(id: &'a str) -> Result<Self, FieldError> {
        Self::from_bytes(id.as_bytes())
    }

    /// An event id from raw bytes, refused if they contain CR, LF or NUL.
    #[inline]
    pub fn from_bytes(id: &'a [u8]) -> Result<Self, FieldError> {
        check_field(id, true)?;
        Ok(Self(Text::from_bytes(id)))
    }

    /// An id the decoder has already checked.
    pub(crate) const fn from_checked(id: &'a [u8]) -> Self {
        Self(Text::from_bytes(id))
    }

    /// The id as text.
    pub const fn as_text(&self) -> Text<'a> {
        self.0
    }

    /// Whether the id is empty (the value that resets a client's last event id).
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for EventId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for EventId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// One event, the same type whether it is being sent or was received.
///
/// - `data` is any text. Sending splits it on CR, LF and CRLF into `data:`
///   lines; receiving joins those lines with LF. So every line break arrives
///   as LF, and empty data and a trailing line break survive the trip.
/// - `event_type` defaults to [`EventType::MESSAGE`].
/// - `id`: when sending, `None` writes no `id` line (the client keeps its last
///   event id). When receiving, it is the stream's last event id at dispatch
///   (which persists from earlier events), `None` when that is empty.
///
/// ```
/// use sse_proto::{Event, EventId, EventType};
///
/// let event = Event::new("line one\nline two")
///     .with_type(EventType::new("note")?)
///     .with_id(EventId::new("7")?);
/// let mut buf = [0u8; 64];
/// let n = event.encode(&mut buf)?;
/// assert_eq!(&buf[..n], b"event: note\nid: 7\ndata: line one\ndata: line two\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event<'a> {
    event_type: EventType<'a>,
    id: Option<EventId<'a>>,
    data: Text<'a>,
}

impl<'a> Event<'a> {
    /// A `message` event without an id.
    pub const fn new(data: &'a str) -> Self {
        Self::from_text(Text::new(data))
    }

    /// A `message` event without an id, from data that may not be UTF-8.
    pub const fn from_text(data: Text<'a>) -> Self {
        Self {
            event_type: EventType::MESSAGE,
            id: None,
            data,
        }
    }

    /// The same event with another type.
    pub const fn with_type(mut self, event_type: EventType<'a>) -> Self {
        self.event_type = event_type;
        self
    }

    /// The same event with an id.
    pub const fn with_id(mut self, id: EventId<'a>) -> Self {
        self.id = Some(id);
        self
    }

    /// The same event with the id set or cleared.
    pub const fn with_id_opt(mut self, id: Option<EventId<'a>>) -> Self {
        self.id = id;
        self
    }

    /// The data.
    pub const fn data(&self) -> Text<'a> {
        self.data
    }

    /// The type; `message` unless the event names another.
    pub const fn event_type(&self) -> EventType<'a> {
        self.event_type
    }

    /// The id (see the type's documentation for what `None` means).
    pub const fn id(&self) -> Option<EventId<'a>> {
        self.id
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        Frame::Event(*self).encoded_len()
    }

    /// Encodes the event into `buf` and returns the number of bytes written.
    ///
    /// A buffer shorter than [`encoded_len`](Self::encoded_len) is left
    /// untouched and the error says how many bytes are needed.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, crate::EncodeError> {
        Frame::Event(*self).encode(buf)
    }

    /// Appends the event to a growing buffer in one pass and returns the
    /// number of bytes appended; see [`Frame::encode_into`].
    #[inline]
    pub fn encode_into<B: crate::EncodeBuf + ?Sized>(
        &self,
        buf: &mut B,
    ) -> Result<usize, crate::EncodeError> {
        Frame::Event(*self).encode_into(buf)
    }
}

/// One unit of an event stream: what a [`Decoder`](crate::Decoder) yields and
/// what an [`Encoder`](crate::Encoder) writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Frame<'a> {
    /// An event, dispatched by a blank line.
    Event(Event<'a>),
    /// A comment line (`: text`); keep-alives are comments. When decoding,
    /// one space after the colon is removed, as for field values. When
    /// encoding, each line of the text becomes its own comment line.
    Comment(Text<'a>),
    /// A reconnection time in milliseconds (`retry: 3000`). The decoder
    /// yields it as soon as the line ends: it takes effect whether or not an
    /// event follows.
    Retry(u64),
}

impl<'a> From<Event<'a>> for Frame<'a> {
    fn from(event: Event<'a>) -> Self {
        Self::Event(event)
    }
}
