//! [`HeaplessEvent`] and [`HeaplessFrame`]: an owned event and frame of
//! fixed capacity, for programs without a heap.

use core::fmt;

use heapless::Vec;

use crate::{Event, EventId, EventType, Frame, Text};

/// Why a value does not fit into a [`HeaplessEvent`] or [`HeaplessFrame`].
///
/// Nothing is ever cut short: a value that does not fit is refused whole,
/// and the error says which field and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CapacityError {
    /// The event type is longer than the type capacity.
    EventTypeTooLong {
        /// The length of the type, in bytes.
        len: usize,
    },
    /// The id is longer than the id capacity.
    IdTooLong {
        /// The length of the id, in bytes.
        len: usize,
    },
    /// The data (or a comment's text) is longer than the data capacity.
    DataTooLong {
        /// The length of the data, in bytes.
        len: usize,
    },
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventTypeTooLong { len } => {
                write!(f, "event type of {len} bytes is over its capacity")
            }
            Self::IdTooLong { len } => write!(f, "event id of {len} bytes is over its capacity"),
            Self::DataTooLong { len } => write!(f, "data of {len} bytes is over its capacity"),
        }
    }
}

impl core::error::Error for CapacityError {}

/// An owned [`Event`] with room for an event type of `TYPE` bytes, an id of
/// `ID` bytes and data of `DATA` bytes, in the value itself: what a `no_std`
/// program without a heap keeps from one `decode` call to the next, or
/// builds to send.
///
/// The bytes are kept exactly as they arrived (use [`Text`] to read them);
/// the type `message` takes no room. The type and id were checked when the
/// [`EventType`] and [`EventId`] were built, so [`as_event`](Self::as_event)
/// cannot fail, and an event that does not fit is refused, never cut.
///
/// ```
/// use sse_proto::{Decoder, Event, EventId, Frame, HeaplessEvent};
///
/// // The last event of a stream, kept after the decoder moved on.
/// let mut decoder = Decoder::new([0u8; 256]);
/// let mut input: &[u8] = b"id: 7\ndata: on\n\ndata: a much longer event than 16 bytes\n\n";
/// let mut kept: Option<HeaplessEvent<8, 8, 16>> = None;
/// while let Some(frame) = decoder.decode(&mut input) {
///     if let Frame::Event(event) = frame? {
///         match HeaplessEvent::try_from(event) {
///             Ok(event) => kept = Some(event),
///             Err(error) => assert_eq!(error.to_string(), "data of 33 bytes is over its capacity"),
///         }
///     }
/// }
/// let kept = kept.unwrap();
/// assert_eq!(kept.as_event(), Event::new("on").with_id(EventId::new("7")?));
///
/// // And encoded again, into a stack buffer.
/// let mut wire = [0u8; 32];
/// let n = kept.as_event().encode(&mut wire)?;
/// assert_eq!(&wire[..n], b"id: 7\ndata: on\n\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct HeaplessEvent<const TYPE: usize, const ID: usize, const DATA: usize> {
    /// Empty for `message`.
    event_type: Vec<u8, TYPE>,
    id: Option<Vec<u8, ID>>,
    data: Vec<u8, DATA>,
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> HeaplessEvent<TYPE, ID, DATA> {
    /// An empty `message` event without an id.
    pub const fn new() -> Self {
        Self {
            event_type: Vec::new(),
            id: None,
            data: Vec::new(),
        }
    }

    /// The event as an [`Event`], to encode or compare.
    pub fn as_event(&self) -> Event<'_> {
        Event::from_text(self.data())
            .with_type(self.event_type())
            .with_id_opt(self.id())
    }

    /// The data.
    pub fn data(&self) -> Text<'_> {
        Text::from_bytes(&self.data)
    }

    /// The type; `message` unless the event names another.
    pub fn event_type(&self) -> EventType<'_> {
        EventType::from_line(&self.event_type)
    }

    /// The id (see [`Event`] for what `None` means).
    pub fn id(&self) -> Option<EventId<'_>> {
        self.id.as_deref().map(EventId::from_checked)
    }

    /// Replaces the data; refused, changing nothing, if it does not fit.
    pub fn set_data(&mut self, data: Text<'_>) -> Result<(), CapacityError> {
        self.data = copy(data.as_bytes(), |len| CapacityError::DataTooLong { len })?;
        Ok(())
    }

    /// Replaces the type; refused, changing nothing, if it does not fit.
    pub fn set_event_type(&mut self, event_type: EventType<'_>) -> Result<(), CapacityError> {
        self.event_type = if event_type.is_message() {
            Vec::new()
        } else {
            let name = event_type.as_text().as_bytes();
            copy(name, |len| CapacityError::EventTypeTooLong { len })?
        };
        Ok(())
    }

    /// Replaces the id; refused, changing nothing, if it does not fit.
    pub fn set_id(&mut self, id: Option<EventId<'_>>) -> Result<(), CapacityError> {
        self.id = match id {
            Some(id) => Some(copy(id.as_text().as_bytes(), |len| {
                CapacityError::IdTooLong { len }
            })?),
            None => None,
        };
        Ok(())
    }
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> fmt::Debug
    for HeaplessEvent<TYPE, ID, DATA>
{
    /// As [`Event`]'s: the fields as text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_event(), f)
    }
}

/// `bytes` in a vector of capacity `N`, or the error `too_long` makes.
fn copy<const N: usize>(
    bytes: &[u8],
    too_long: impl FnOnce(usize) -> CapacityError,
) -> Result<Vec<u8, N>, CapacityError> {
    Vec::from_slice(bytes).map_err(|()| too_long(bytes.len()))
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> TryFrom<Event<'_>>
    for HeaplessEvent<TYPE, ID, DATA>
{
    type Error = CapacityError;

    /// Copies an event, byte for byte; refused if any field does not fit.
    fn try_from(event: Event<'_>) -> Result<Self, CapacityError> {
        let mut owned = Self::new();
        owned.set_event_type(event.event_type())?;
        owned.set_id(event.id())?;
        owned.set_data(event.data())?;
        Ok(owned)
    }
}

impl<'a, const TYPE: usize, const ID: usize, const DATA: usize>
    From<&'a HeaplessEvent<TYPE, ID, DATA>> for Event<'a>
{
    fn from(event: &'a HeaplessEvent<TYPE, ID, DATA>) -> Self {
        event.as_event()
    }
}

impl<'a, const TYPE: usize, const ID: usize, const DATA: usize>
    From<&'a HeaplessEvent<TYPE, ID, DATA>> for Frame<'a>
{
    fn from(event: &'a HeaplessEvent<TYPE, ID, DATA>) -> Self {
        Self::Event(event.as_event())
    }
}

/// An owned [`Frame`] of fixed capacity: an event as in [`HeaplessEvent`],
/// a comment of up to `DATA` bytes, or a reconnection time.
///
/// ```
/// use sse_proto::{Frame, HeaplessFrame, Text};
///
/// let comment: HeaplessFrame<0, 0, 16> = Frame::Comment(Text::new("keep-alive")).try_into()?;
/// assert_eq!(comment.as_frame(), Frame::comment("keep-alive"));
/// assert_eq!(HeaplessFrame::<0, 0, 0>::try_from(Frame::Retry(5))?, HeaplessFrame::Retry(5));
/// # Ok::<(), sse_proto::CapacityError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum HeaplessFrame<const TYPE: usize, const ID: usize, const DATA: usize> {
    /// An event.
    Event(HeaplessEvent<TYPE, ID, DATA>),
    /// A comment's text.
    Comment(Vec<u8, DATA>),
    /// A reconnection time in milliseconds.
    Retry(u64),
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> HeaplessFrame<TYPE, ID, DATA> {
    /// The frame as a [`Frame`], to encode or compare.
    pub fn as_frame(&self) -> Frame<'_> {
        match self {
            Self::Event(event) => Frame::Event(event.as_event()),
            Self::Comment(text) => Frame::Comment(Text::from_bytes(text)),
            Self::Retry(ms) => Frame::Retry(*ms),
        }
    }
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> fmt::Debug
    for HeaplessFrame<TYPE, ID, DATA>
{
    /// As [`Frame`]'s: the text as text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_frame(), f)
    }
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> TryFrom<Frame<'_>>
    for HeaplessFrame<TYPE, ID, DATA>
{
    type Error = CapacityError;

    /// Copies a frame, byte for byte; refused if it does not fit.
    fn try_from(frame: Frame<'_>) -> Result<Self, CapacityError> {
        Ok(match frame {
            Frame::Event(event) => Self::Event(event.try_into()?),
            Frame::Comment(text) => Self::Comment(copy(text.as_bytes(), |len| {
                CapacityError::DataTooLong { len }
            })?),
            Frame::Retry(ms) => Self::Retry(ms),
        })
    }
}

impl<const TYPE: usize, const ID: usize, const DATA: usize> From<HeaplessEvent<TYPE, ID, DATA>>
    for HeaplessFrame<TYPE, ID, DATA>
{
    fn from(event: HeaplessEvent<TYPE, ID, DATA>) -> Self {
        Self::Event(event)
    }
}

impl<'a, const TYPE: usize, const ID: usize, const DATA: usize>
    From<&'a HeaplessFrame<TYPE, ID, DATA>> for Frame<'a>
{
    fn from(frame: &'a HeaplessFrame<TYPE, ID, DATA>) -> Self {
        frame.as_frame()
    }
}
