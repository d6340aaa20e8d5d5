//! [`Decoder`]: the incremental `text/event-stream` parser.

mod buf;
mod data;
mod limits;
mod lines;
mod machine;
mod scan;

use core::fmt;

pub use buf::DecodeBuf;
#[cfg(feature = "alloc")]
pub use buf::GrowableBuf;
pub use limits::{DecodeError, Limits};

use crate::{Event, EventId, EventType, Frame, Text};
use limits::Layout;
use lines::Lines;

/// The field a line sets, known once its name has been read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Data,
    Event,
    Id,
    Retry,
    Comment,
    /// An unknown field, or a comment that is not reported.
    Ignore,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of the stream, `n` bytes of a UTF-8 BOM seen so far.
    Bom(u8),
    /// Reading a field name; at the start of a line when `line_len == 0`.
    Name,
    /// Reading the value of a field; `strip_space` until its first byte.
    Value { field: Field, strip_space: bool },
    /// Discarding an event after an error, up to the next blank line.
    Skip,
}

/// What `advance` stopped for.
#[derive(Clone, Copy, Debug)]
enum Ready {
    Event,
    Comment,
    Retry(u64),
}

/// The frame the last call yielded: what to clear before the next call, once
/// the caller is done with it, and what [`Decoder::frame`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Yielded {
    Nothing,
    Event,
    Comment,
    Retry(u64),
}

/// Reading the value of a `data` line, its leading space dealt with.
const DATA_VALUE: State = State::Value {
    field: Field::Data,
    strip_space: false,
};

/// The longest known field name ("event", "retry").
const MAX_NAME: usize = 5;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// An incremental `text/event-stream` decoder: bytes in, [`Frame`]s out.
///
/// It follows the WHATWG HTML rules for parsing an event stream exactly: one
/// BOM stripped at the start; CR, LF and CRLF line ends (also split across
/// chunks); comments; one leading space stripped from values; `data`,
/// `event`, `id` (ignored when it contains NUL) and `retry` (only ASCII
/// digits, saturating); dispatch on a blank line, and the unfinished event
/// discarded at the end of the stream.
///
/// # Memory and time
///
/// All state lives in the buffer `B` the caller supplies (an array, a
/// `&mut [u8]`, or a `Vec<u8>`/`Box<[u8]>` with a heap) plus a few words; see
/// [`Limits`] for how it is divided. The decoder itself never allocates, and
/// a fixed buffer never grows: input that does not fit gives a
/// [`DecodeError`], and decoding resumes at the next event. A
/// [`GrowableBuf`] (what [`with_capacity`](Self::with_capacity) uses) grows
/// only as far as the data of the event in progress needs, up to the limit,
/// and shrinks back after it (see [`DecodeBuf`]). Each input byte is looked at a constant number
/// of times, however the input is split into chunks: a long line fed in small
/// chunks is never scanned again.
///
/// The decoder never panics, whatever the input.
///
/// # Use
///
/// Call [`decode`](Self::decode) with each chunk of input until it returns
/// `None`, which means the chunk is used up; or [`feed`](Self::feed), which
/// says whether a frame is ready, and [`frame`](Self::frame), which borrows
/// it. Frames borrow from the decoder, so take what you need before the next
/// call. At the end of the stream call [`finish`](Self::finish).
///
/// ```
/// use sse_proto::{Decoder, Frame};
///
/// let mut decoder = Decoder::new([0u8; 1024]);
/// let mut seen = Vec::new();
/// for chunk in [&b"data: YHOO\ndata: +2\nda"[..], b"ta: 10\n\nretry: 30", b"00\n"] {
///     let mut input = chunk;
///     while let Some(frame) = decoder.decode(&mut input) {
///         match frame? {
///             Frame::Event(event) => seen.push(event.data().to_string()),
///             Frame::Retry(ms) => seen.push(format!("retry {ms}")),
///             Frame::Comment(_) => {}
///         }
///     }
/// }
/// assert_eq!(seen, ["YHOO\n+2\n10", "retry 3000"]);
/// assert!(!decoder.finish());
/// # Ok::<(), sse_proto::DecodeError>(())
/// ```
pub struct Decoder<B> {
    buf: B,
    layout: Layout,
    /// How much event data the buffer holds room for now: the layout's
    /// `data_cap` for a fixed buffer, less for a growable one until it grows.
    data_room: usize,
    /// `data_room` as the decoder was built: a buffer that grew past it is
    /// offered the chance to shrink after each event.
    base_room: usize,
    state: State,
    /// The last byte was a CR, so an LF right after it ends nothing.
    after_cr: bool,
    /// Bytes of the current line so far.
    line_len: usize,
    name: [u8; MAX_NAME],
    name_len: usize,
    data_len: usize,
    type_len: usize,
    comment_len: usize,
    /// Lengths of the three id slots.
    id_lens: [usize; 3],
    /// The slot holding the last event id (set at dispatch).
    id_last: usize,
    /// The slot holding the spec's "last event ID buffer".
    id_current: usize,
    /// The slot an `id` line is being read into.
    id_scratch: usize,
    id_has_nul: bool,
    /// The digits of a `retry` line so far; `None` once a non-digit appears.
    retry: Option<u64>,
    retry_digits: bool,
    yielded: Yielded,
}

impl<B: DecodeBuf> Decoder<B> {
    /// A decoder with the default [`Limits`], scaled down for small buffers
    /// so that ids and the event type each take at most an eighth of it.
    pub fn new(buf: B) -> Self {
        let limits = Limits::for_buffer(buf.max_len());
        Self::with_limits(buf, limits)
    }

    /// A decoder that divides `buf` as `limits` says. Regions that do not fit
    /// are shrunk, in the order of [`Limits`]; check
    /// [`max_event_len`](Self::max_event_len) or size the buffer with
    /// [`Limits::buffer_len`].
    ///
    /// A growable buffer shorter than the regions before the data is grown
    /// to hold them at once.
    pub fn with_limits(mut buf: B, limits: Limits) -> Self {
        let layout = Layout::new(buf.max_len(), &limits);
        let mut len = buf.bytes().len();
        if len < layout.data_off {
            len = buf.grow(layout.data_off);
        }
        let data_room = layout.data_room(len);
        Self {
            buf,
            layout,
            data_room,
            base_room: data_room,
            state: State::Bom(0),
            after_cr: false,
            line_len: 0,
            name: [0; MAX_NAME],
            name_len: 0,
            data_len: 0,
            type_len: 0,
            comment_len: 0,
            id_lens: [0; 3],
            id_last: 0,
            id_current: 0,
            id_scratch: 1,
            id_has_nul: false,
            retry: None,
            retry_digits: false,
            yielded: Yielded::Nothing,
        }
    }

    /// The largest event data this decoder accepts, in bytes.
    pub fn max_event_len(&self) -> usize {
        self.layout.data_cap
    }

    /// The length of its buffer now, in bytes: what a growable buffer holds
    /// at the moment, the whole buffer for a fixed one.
    pub fn buffer_len(&self) -> usize {
        self.buf.bytes().len()
    }

    /// The limits in effect, after fitting them into the buffer.
    pub fn limits(&self) -> Limits {
        self.layout.limits()
    }

    /// The last event id: the one the stream set before its last dispatched
    /// event, or the one given to
    /// [`set_last_event_id`](Self::set_last_event_id). `None` when empty.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        let id = self.id_slot(self.id_last);
        (!id.is_empty()).then(|| EventId::from_checked(id))
    }

    /// Seeds the last event id, for example to resume a stream after a
    /// reconnect; events that set no id of their own carry it.
    ///
    /// Fails with [`DecodeError::LineTooLong`] when the id is longer than the
    /// id limit; the last event id is then unchanged.
    pub fn set_last_event_id(&mut self, id: Option<EventId<'_>>) -> Result<(), DecodeError> {
        self.clear_yielded();
        let id = id.map(|id| id.as_text().as_bytes()).unwrap_or_default();
        if id.len() > self.layout.id_cap {
            return Err(DecodeError::LineTooLong);
        }
        let slot = self.free_id_slot();
        let off = self.layout.id_off(slot);
        if let Some(dst) = self.buf.bytes_mut().get_mut(off..off + id.len()) {
            dst.copy_from_slice(id);
        }
        self.id_lens[slot] = id.len();
        self.id_last = slot;
        self.id_current = slot;
        Ok(())
    }

    /// Decodes from `input` until a frame is ready, and advances `input` past
    /// the bytes it used: `Ok(true)` when a frame is ready, to borrow with
    /// [`frame`](Self::frame); `Ok(false)` once `input` is used up without
    /// completing one (the decoder keeps the partial line and event, and the
    /// next call goes on with the next chunk).
    ///
    /// An error means an event was discarded (see [`DecodeError`]); keep
    /// calling to decode the rest.
    ///
    /// The split between this and [`frame`](Self::frame) lets a loop that
    /// reads chunks return the frame it finds, borrowed from the decoder:
    ///
    /// ```
    /// use sse_proto::{DecodeError, Decoder, Frame};
    ///
    /// /// The next frame from `chunks`, borrowed from the decoder.
    /// fn next<'d>(
    ///     decoder: &'d mut Decoder<[u8; 256]>,
    ///     chunks: &mut Vec<&[u8]>,
    /// ) -> Result<Option<Frame<'d>>, DecodeError> {
    ///     while let Some(mut chunk) = chunks.pop() {
    ///         let ready = decoder.feed(&mut chunk)?;
    ///         if !chunk.is_empty() {
    ///             chunks.push(chunk);
    ///         }
    ///         if ready {
    ///             return Ok(decoder.frame());
    ///         }
    ///     }
    ///     Ok(None)
    /// }
    ///
    /// let mut decoder = Decoder::new([0u8; 256]);
    /// let mut chunks = vec![&b"lo\n\nretry: 5\n"[..], b"data: hel"];
    /// assert!(matches!(next(&mut decoder, &mut chunks)?, Some(Frame::Event(e)) if e.data() == "hello"));
    /// assert_eq!(next(&mut decoder, &mut chunks)?, Some(Frame::Retry(5)));
    /// assert_eq!(next(&mut decoder, &mut chunks)?, None);
    /// # Ok::<(), DecodeError>(())
    /// ```
    #[inline]
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<bool, DecodeError> {
        // Input a byte at a time in the middle of a line, and more of a data
        // line that an earlier chunk began: a few steps here rather than a
        // call into the state machine, as long as no frame can be ready.
        self.clear_yielded();
        if let [byte] = **input {
            if self.take_byte(byte) {
                *input = &[];
                return Ok(false);
            }
        } else if self.state == DATA_VALUE
            && !self.after_cr
            && !input.is_empty()
            && self.continue_data(input)
            && input.is_empty()
        {
            return Ok(false);
        }
        // Whole lines of the usual kinds, from a line start.
        if self.line_len == 0 && self.state == State::Name && !self.after_cr {
            match self.lines(input) {
                Lines::Ready(_) => return Ok(true),
                Lines::Partial if input.is_empty() => return Ok(false),
                Lines::Partial | Lines::Other(_) => {}
            }
        }
        match self.advance(input) {
            None => Ok(false),
            Some(Ok(Ready::Retry(ms))) => {
                self.yielded = Yielded::Retry(ms);
                Ok(true)
            }
            Some(Ok(Ready::Event | Ready::Comment)) => Ok(true),
            Some(Err(error)) => Err(error),
        }
    }

    /// The frame the last call to [`feed`](Self::feed) readied; `None` if it
    /// readied none, or if the decoder has been fed or changed since.
    #[inline]
    pub fn frame(&self) -> Option<Frame<'_>> {
        match self.yielded {
            Yielded::Nothing => None,
            Yielded::Event => Some(Frame::Event(self.event())),
            Yielded::Comment => Some(Frame::Comment(Text::from_bytes(self.comment()))),
            Yielded::Retry(ms) => Some(Frame::Retry(ms)),
        }
    }

    /// [`feed`](Self::feed) and [`frame`](Self::frame) in one call, for
    /// loops that use each frame before the next call: the next frame, or
    /// `None` once `input` is used up.
    #[inline]
    pub fn decode(&mut self, input: &mut &[u8]) -> Option<Result<Frame<'_>, DecodeError>> {
        match self.feed(input) {
            Ok(true) => self.frame().map(Ok),
            Ok(false) => None,
            Err(error) => Some(Err(error)),
        }
    }

    /// Ends the stream: discards the unfinished line and event, as the spec
    /// requires, and readies the decoder for a new stream (a BOM is stripped
    /// again). The last event id is kept. Returns whether anything was
    /// discarded.
    pub fn finish(&mut self) -> bool {
        self.clear_yielded();
        let discarded = !matches!(self.state, State::Bom(0))
            && (self.state != State::Name
                || self.line_len != 0
                || self.data_len != 0
                || self.type_len != 0
                || self.id_current != self.id_last);
        self.discard_event();
        self.state = State::Bom(0);
        self.after_cr = false;
        discarded
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> B {
        self.buf
    }

    /// The dispatched event; valid right after `advance` returned it.
    fn event(&self) -> Event<'_> {
        let id = self.id_slot(self.id_current);
        Event::from_text(Text::from_bytes(
            self.region(self.layout.data_off, self.data_len),
        ))
        .with_type(EventType::from_line(
            self.region(self.layout.type_off, self.type_len),
        ))
        .with_id_opt((!id.is_empty()).then(|| EventId::from_checked(id)))
    }

    fn comment(&self) -> &[u8] {
        self.region(self.layout.comment_off, self.comment_len)
    }

    fn id_slot(&self, slot: usize) -> &[u8] {
        let len = self.id_lens.get(slot).copied().unwrap_or(0);
        self.region(self.layout.id_off(slot), len)
    }

    /// `len` bytes of the buffer from `off`. The layout keeps every region
    /// inside the buffer; an empty slice stands in should that ever break.
    fn region(&self, off: usize, len: usize) -> &[u8] {
        self.buf
            .bytes()
            .get(off..off.saturating_add(len))
            .unwrap_or_default()
    }

    /// An id slot that holds neither the last event id nor the current one.
    fn free_id_slot(&self) -> usize {
        (0..3)
            .find(|&slot| slot != self.id_last && slot != self.id_current)
            .unwrap_or(0)
    }

    /// Clears what the caller has now seen.
    #[inline]
    fn clear_yielded(&mut self) {
        match core::mem::replace(&mut self.yielded, Yielded::Nothing) {
            Yielded::Event => {
                self.data_len = 0;
                self.type_len = 0;
                self.release_data();
            }
            Yielded::Comment => self.comment_len = 0,
            Yielded::Retry(_) | Yielded::Nothing => {}
        }
    }
}

#[cfg(feature = "alloc")]
impl Decoder<GrowableBuf> {
    /// A decoder on the heap for events of up to `max_event_len` bytes of
    /// data under `limits`, whose buffer starts with room for
    /// [`DEFAULT_START_EVENT_LEN`](crate::DEFAULT_START_EVENT_LEN) bytes of
    /// data and grows only as events need (see [`GrowableBuf`]): the limit
    /// can be high without costing memory for small events.
    pub fn with_capacity(max_event_len: usize, limits: Limits) -> Self {
        let max_len = limits.buffer_len(max_event_len);
        let start_len = limits
            .buffer_len(crate::DEFAULT_START_EVENT_LEN)
            .min(max_len);
        Self::with_limits(GrowableBuf::new(start_len, max_len), limits)
    }
}

impl<B: DecodeBuf> fmt::Debug for Decoder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("buffer_len", &self.buf.bytes().len())
            .field("data_room", &self.data_room)
            .field("state", &self.state)
            .field("line_len", &self.line_len)
            .field("data_len", &self.data_len)
            .field("max_event_len", &self.layout.data_cap)
            .finish_non_exhaustive()
    }
}
#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::Decoder;

    /// A length around which the tests below put line ends.
    const LONG: usize = 32 * 1024;
    use crate::Frame;

    /// Long lines, with their line end around chunk edges (a CRLF split by
    /// one too), whatever the chunking.
    #[test]
    fn long_lines_whatever_the_chunking() {
        for (len, end) in [
            (LONG - 1, &b"\r\n"[..]),
            (LONG, b"\n"),
            (LONG + 1, b"\r"),
            (LONG - 7, b"\r"),
            (3 * LONG + 5, b"\r\n"),
        ] {
            let mut input = b"data:".to_vec();
            input.resize(len, b'x');
            for part in [end, b"data: y", end, end] {
                input.extend_from_slice(part);
            }
            let mut expected = std::vec![b'x'; len - 5];
            expected.extend_from_slice(b"\ny");
            for chunk in [input.len(), 1000, LONG, LONG + 1] {
                let mut decoder = Decoder::new(std::vec![0u8; 4 * LONG + 4096]);
                let mut events = Vec::new();
                for mut piece in input.chunks(chunk) {
                    while let Some(frame) = decoder.decode(&mut piece) {
                        if let Ok(Frame::Event(event)) = frame {
                            events.push(event.data().as_bytes().to_vec());
                        }
                    }
                }
                assert_eq!(
                    events,
                    [expected.clone()],
                    "line of {len}, chunks of {chunk}"
                );
            }
        }
    }
}
