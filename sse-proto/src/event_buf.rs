//! [`EventBuf`] and [`FrameBuf`]: an owned [`Event`] and an owned [`Frame`].

use alloc::string::String;

use crate::{Event, EventId, EventType, FieldError, Frame, Text};

/// An owned [`Event`], as `String` is to `&str`: what the adapters' owned
/// streams yield, and what code that builds events at run time returns.
///
/// Its fields are strings, read the way a browser reads them (invalid UTF-8
/// becomes U+FFFD when converting from an [`Event`]). The type and id are
/// checked when set, exactly as for [`EventType`] and [`EventId`], so
/// [`as_event`](Self::as_event) cannot fail.
///
/// ```
/// use sse_proto::EventBuf;
///
/// let event = EventBuf::new(format!("{} joined", "ada")).with_type("join")?.with_id("17")?;
/// assert_eq!(event.event_type(), "join");
/// assert_eq!(event.as_event().encoded_len(), b"event: join\nid: 17\ndata: ada joined\n\n".len());
/// assert!(EventBuf::new("x").with_id("1\n").is_err());
/// # Ok::<(), sse_proto::FieldError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventBuf {
    event_type: String,
    id: Option<String>,
    data: String,
}

impl EventBuf {
    /// A `message` event without an id.
    pub fn new(data: impl Into<String>) -> Self {
        Self {
            event_type: String::from("message"),
            id: None,
            data: data.into(),
        }
    }

    /// The same event with another type; refused if it contains CR or LF.
    /// An empty type is `message`.
    pub fn with_type(mut self, event_type: impl Into<String>) -> Result<Self, FieldError> {
        let event_type = event_type.into();
        EventType::new(&event_type)?;
        if !event_type.is_empty() {
            self.event_type = event_type;
        }
        Ok(self)
    }

    /// The same event with an id; refused if it contains CR, LF or NUL.
    pub fn with_id(mut self, id: impl Into<String>) -> Result<Self, FieldError> {
        let id = id.into();
        EventId::new(&id)?;
        self.id = Some(id);
        Ok(self)
    }

    /// The data.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The type; `message` unless the event names another.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The id (for a received event, the stream's last event id; `None` when
    /// empty).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The borrowed form, for encoding.
    pub fn as_event(&self) -> Event<'_> {
        Event::new(&self.data)
            .with_type(EventType::from_line(self.event_type.as_bytes()))
            .with_id_opt(
                self.id
                    .as_deref()
                    .map(|id| EventId::from_checked(id.as_bytes())),
            )
    }
}

impl From<Event<'_>> for EventBuf {
    /// Copies an event, reading its text as a browser does.
    fn from(event: Event<'_>) -> Self {
        let lossy = |text: Text<'_>| text.to_string_lossy().into_owned();
        Self {
            event_type: lossy(event.event_type().as_text()),
            id: event.id().map(|id| lossy(id.as_text())),
            data: lossy(event.data()),
        }
    }
}

impl<'a> From<&'a EventBuf> for Event<'a> {
    fn from(event: &'a EventBuf) -> Self {
        event.as_event()
    }
}

impl<'a> From<&'a EventBuf> for Frame<'a> {
    fn from(event: &'a EventBuf) -> Self {
        Self::Event(event.as_event())
    }
}

/// An owned [`Frame`]: what the adapters' owned streams yield, so that a
/// standalone `retry:` or a comment is not lost on the way to the caller.
///
/// ```
/// use sse_proto::{EventBuf, Frame, FrameBuf, Text};
///
/// assert_eq!(FrameBuf::from(Frame::Retry(500)), FrameBuf::Retry(500));
/// let comment = FrameBuf::from(Frame::Comment(Text::from_bytes(b"keep-alive")));
/// assert_eq!(comment, FrameBuf::Comment("keep-alive".to_string()));
/// let event = FrameBuf::Event(EventBuf::new("hi"));
/// assert_eq!(event.as_frame().encoded_len(), b"data: hi\n\n".len());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FrameBuf {
    /// An event.
    Event(EventBuf),
    /// A comment, read as a browser reads text.
    Comment(String),
    /// A reconnection time in milliseconds.
    Retry(u64),
}

impl FrameBuf {
    /// The borrowed form, for encoding.
    pub fn as_frame(&self) -> Frame<'_> {
        match self {
            Self::Event(event) => Frame::Event(event.as_event()),
            Self::Comment(text) => Frame::Comment(Text::new(text)),
            Self::Retry(ms) => Frame::Retry(*ms),
        }
    }
}

impl From<Frame<'_>> for FrameBuf {
    /// Copies a frame, reading its text as a browser does.
    fn from(frame: Frame<'_>) -> Self {
        match frame {
            Frame::Event(event) => Self::Event(event.into()),
            Frame::Comment(text) => Self::Comment(text.to_string_lossy().into_owned()),
            Frame::Retry(ms) => Self::Retry(ms),
        }
    }
}

impl From<EventBuf> for FrameBuf {
    fn from(event: EventBuf) -> Self {
        Self::Event(event)
    }
}

impl<'a> From<&'a FrameBuf> for Frame<'a> {
    fn from(frame: &'a FrameBuf) -> Self {
        frame.as_frame()
    }
}

#[cfg(test)]
mod tests {
    use super::{EventBuf, FrameBuf};
    use crate::{Event, EventId, EventType, FieldError, Frame, Text};

    #[test]
    fn frames_convert_both_ways() {
        let frames = [
            Frame::Event(Event::new("d").with_id(EventId::new("1").unwrap())),
            Frame::Comment(Text::new("c")),
            Frame::Retry(3),
        ];
        for frame in frames {
            let owned = FrameBuf::from(frame);
            assert_eq!(owned.as_frame(), frame);
            assert_eq!(Frame::from(&owned), frame);
        }
        let event = EventBuf::new("x");
        assert_eq!(Frame::from(&event), Frame::Event(event.as_event()));
        assert_eq!(FrameBuf::from(event.clone()), FrameBuf::Event(event));
    }

    #[test]
    fn converts_both_ways() {
        let borrowed = Event::new("d")
            .with_type(EventType::new("t").unwrap())
            .with_id(EventId::new("1").unwrap());
        let owned = EventBuf::from(borrowed);
        assert_eq!(owned.as_event(), borrowed);
        assert_eq!(Event::from(&owned), borrowed);
    }

    #[test]
    fn reads_invalid_utf8_as_a_browser_does() {
        let owned = EventBuf::from(Event::from_text(Text::from_bytes(b"a\xFFb")));
        assert_eq!(owned.data(), "a\u{FFFD}b");
    }

    #[test]
    fn refuses_injection() {
        assert_eq!(
            EventBuf::new("x").with_type("a\rb"),
            Err(FieldError::LineBreak)
        );
        assert_eq!(EventBuf::new("x").with_id("a\0"), Err(FieldError::Nul));
        assert_eq!(
            EventBuf::new("x").with_type("").unwrap().event_type(),
            "message"
        );
    }
}
