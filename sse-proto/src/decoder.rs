//! [`Decoder`]: the incremental `text/event-stream` parser.

use core::fmt;

use memchr::{memchr, memchr2};

use crate::{Event, EventId, EventType, Frame, Text};

/// Why the decoder discarded an event.
///
/// Both errors are recoverable: the decoder drops the event in progress
/// (including any `id` it set), ignores everything up to the next blank line,
/// and then decodes normally again. Events already yielded are not affected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// A line was longer than its limit: [`Limits::max_id_len`] for `id`,
    /// [`Limits::max_event_type_len`] for `event`,
    /// [`Limits::comments`] for reported comments and
    /// [`Limits::max_line_len`] for any other line except `data`.
    LineTooLong,
    /// The data of one event did not fit in the data buffer
    /// ([`Decoder::max_event_len`]).
    EventTooLong,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LineTooLong => "line longer than the decoder's limit; event discarded",
            Self::EventTooLong => "event data larger than the decoder's buffer; event discarded",
        })
    }
}

impl core::error::Error for DecodeError {}

/// How a [`Decoder`] divides its buffer.
///
/// The buffer holds, in order: three id slots of `max_id_len` bytes each (the
/// last event id, the id of the event in progress, and the id line being
/// read), the event type, reported comments, and the data of the event in
/// progress, which gets whatever is left. [`buffer_len`](Self::buffer_len)
/// says how big a buffer must be for a given event size.
///
/// ```
/// use sse_proto::{Decoder, Limits};
///
/// let limits = Limits::new().max_id_len(64).comments(80);
/// let buf = vec![0u8; limits.buffer_len(16 * 1024)];
/// let decoder = Decoder::with_limits(buf, limits);
/// assert_eq!(decoder.max_event_len(), 16 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    max_id_len: usize,
    max_event_type_len: usize,
    max_comment_len: usize,
    max_line_len: Option<usize>,
}

impl Limits {
    /// The default limits: ids up to 256 bytes, event types up to 128 bytes,
    /// comments not reported, other lines up to the data buffer's size.
    pub const fn new() -> Self {
        Self {
            max_id_len: 256,
            max_event_type_len: 128,
            max_comment_len: 0,
            max_line_len: None,
        }
    }

    /// The longest `id` value accepted.
    pub const fn max_id_len(mut self, len: usize) -> Self {
        self.max_id_len = len;
        self
    }

    /// The longest `event` value accepted.
    pub const fn max_event_type_len(mut self, len: usize) -> Self {
        self.max_event_type_len = len;
        self
    }

    /// Report comments up to `max_len` bytes as [`Frame::Comment`]. With the
    /// default of 0, comments are skipped without being stored.
    pub const fn comments(mut self, max_len: usize) -> Self {
        self.max_comment_len = max_len;
        self
    }

    /// The longest line accepted other than `data`, `id`, `event` and reported
    /// comments, which have their own limits. Defaults to the data buffer's
    /// size. Bounds how long a peer can keep the decoder busy with a line
    /// that will never yield anything.
    pub const fn max_line_len(mut self, len: usize) -> Self {
        self.max_line_len = Some(len);
        self
    }

    /// The buffer size that gives events of up to `max_event_len` bytes of
    /// data (saturating).
    pub const fn buffer_len(&self, max_event_len: usize) -> usize {
        self.max_id_len
            .saturating_mul(3)
            .saturating_add(self.max_event_type_len)
            .saturating_add(self.max_comment_len)
            .saturating_add(max_event_len)
    }

    /// The default limits, scaled down so that none of the small regions
    /// takes more than an eighth of a `len`-byte buffer.
    const fn for_buffer(len: usize) -> Self {
        let mut limits = Self::new();
        let eighth = len / 8;
        if limits.max_id_len > eighth {
            limits.max_id_len = eighth;
        }
        if limits.max_event_type_len > eighth {
            limits.max_event_type_len = eighth;
        }
        limits
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

/// The offsets of the regions inside the decoder's buffer.
#[derive(Clone, Copy, Debug)]
struct Layout {
    id_cap: usize,
    type_off: usize,
    type_cap: usize,
    comment_off: usize,
    comment_cap: usize,
    data_off: usize,
    data_cap: usize,
    max_line_len: usize,
}

impl Layout {
    /// Carves the regions out of `len` bytes in order, shrinking whatever
    /// does not fit; the data gets the rest.
    fn new(len: usize, limits: &Limits) -> Self {
        let id_cap = limits.max_id_len.min(len / 3);
        let mut off = 3 * id_cap;
        let type_cap = limits.max_event_type_len.min(len - off);
        let type_off = off;
        off += type_cap;
        let comment_cap = limits.max_comment_len.min(len - off);
        let comment_off = off;
        off += comment_cap;
        let data_cap = len - off;
        Self {
            id_cap,
            type_off,
            type_cap,
            comment_off,
            comment_cap,
            data_off: off,
            data_cap,
            max_line_len: limits.max_line_len.unwrap_or(data_cap),
        }
    }

    fn id_off(&self, slot: usize) -> usize {
        slot * self.id_cap
    }
}

/// The field a line sets, known once its name has been read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
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
/// the caller is done with it, and what [`Decoder::last_frame`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Yielded {
    Nothing,
    Event,
    Comment,
    Retry(u64),
}

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
/// [`Limits`] for how it is divided. The decoder never allocates and never
/// grows: input that does not fit gives a [`DecodeError`], and decoding
/// resumes at the next event. Each input byte is looked at a constant number
/// of times, however the input is split into chunks: a long line fed in small
/// chunks is never scanned again.
///
/// The decoder never panics, whatever the input.
///
/// # Use
///
/// Call [`decode`](Self::decode) with each chunk of input until it returns
/// `None`, which means the chunk is used up. Frames borrow from the decoder,
/// so take what you need before the next call. At the end of the stream call
/// [`finish`](Self::finish).
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

impl<B: AsRef<[u8]> + AsMut<[u8]>> Decoder<B> {
    /// A decoder with the default [`Limits`], scaled down for small buffers
    /// so that ids and the event type each take at most an eighth of it.
    pub fn new(buf: B) -> Self {
        let limits = Limits::for_buffer(buf.as_ref().len());
        Self::with_limits(buf, limits)
    }

    /// A decoder that divides `buf` as `limits` says. Regions that do not fit
    /// are shrunk, in the order of [`Limits`]; check
    /// [`max_event_len`](Self::max_event_len) or size the buffer with
    /// [`Limits::buffer_len`].
    pub fn with_limits(buf: B, limits: Limits) -> Self {
        let layout = Layout::new(buf.as_ref().len(), &limits);
        Self {
            buf,
            layout,
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

    /// The limits in effect, after fitting them into the buffer.
    pub fn limits(&self) -> Limits {
        Limits {
            max_id_len: self.layout.id_cap,
            max_event_type_len: self.layout.type_cap,
            max_comment_len: self.layout.comment_cap,
            max_line_len: Some(self.layout.max_line_len),
        }
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
        if let Some(dst) = self.buf.as_mut().get_mut(off..off + id.len()) {
            dst.copy_from_slice(id);
        }
        self.id_lens[slot] = id.len();
        self.id_last = slot;
        self.id_current = slot;
        Ok(())
    }

    /// Decodes from `input` until a frame is ready, and advances `input` past
    /// the bytes it used. Returns `None` once `input` is used up without
    /// completing a frame: the decoder keeps the partial line and event, and
    /// the next call goes on with the next chunk.
    ///
    /// An error means an event was discarded (see [`DecodeError`]); keep
    /// calling to decode the rest.
    pub fn decode(&mut self, input: &mut &[u8]) -> Option<Result<Frame<'_>, DecodeError>> {
        Some(match self.advance(input)? {
            Ok(Ready::Event) => Ok(Frame::Event(self.event())),
            Ok(Ready::Comment) => Ok(Frame::Comment(Text::from_bytes(self.comment()))),
            Ok(Ready::Retry(ms)) => {
                self.yielded = Yielded::Retry(ms);
                Ok(Frame::Retry(ms))
            }
            Err(error) => Err(error),
        })
    }

    /// The frame the last call to [`decode`](Self::decode) returned, again;
    /// `None` if it returned an error or nothing, or if the decoder has been
    /// changed since.
    ///
    /// This lets a caller that feeds chunks in a loop return the frame it
    /// finds, borrowed from the decoder: the borrow checker rejects
    /// returning the result of `decode` from inside such a loop, but accepts
    /// asking `decode` whether a frame is ready and then returning this.
    ///
    /// ```
    /// use sse_proto::{Decoder, Frame};
    ///
    /// /// The next frame from `chunks`, borrowed from the decoder.
    /// fn next<'d>(decoder: &'d mut Decoder<[u8; 256]>, chunks: &mut Vec<&[u8]>) -> Option<Frame<'d>> {
    ///     while let Some(mut chunk) = chunks.pop() {
    ///         let ready = decoder.decode(&mut chunk).is_some_and(|frame| frame.is_ok());
    ///         if !chunk.is_empty() {
    ///             chunks.push(chunk);
    ///         }
    ///         if ready {
    ///             return decoder.last_frame();
    ///         }
    ///     }
    ///     None
    /// }
    ///
    /// let mut decoder = Decoder::new([0u8; 256]);
    /// let mut chunks = vec![&b"lo\n\nretry: 5\n"[..], b"data: hel"];
    /// assert!(matches!(next(&mut decoder, &mut chunks), Some(Frame::Event(e)) if e.data() == "hello"));
    /// assert_eq!(next(&mut decoder, &mut chunks), Some(Frame::Retry(5)));
    /// assert_eq!(next(&mut decoder, &mut chunks), None);
    /// ```
    pub fn last_frame(&self) -> Option<Frame<'_>> {
        match self.yielded {
            Yielded::Nothing => None,
            Yielded::Event => Some(Frame::Event(self.event())),
            Yielded::Comment => Some(Frame::Comment(Text::from_bytes(self.comment()))),
            Yielded::Retry(ms) => Some(Frame::Retry(ms)),
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
            .as_ref()
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
    fn clear_yielded(&mut self) {
        match core::mem::replace(&mut self.yielded, Yielded::Nothing) {
            Yielded::Event => {
                self.data_len = 0;
                self.type_len = 0;
            }
            Yielded::Comment => self.comment_len = 0,
            Yielded::Retry(_) | Yielded::Nothing => {}
        }
    }

    fn advance(&mut self, input: &mut &[u8]) -> Option<Result<Ready, DecodeError>> {
        self.clear_yielded();
        loop {
            let (&first, after_first) = input.split_first()?;
            if self.after_cr {
                self.after_cr = false;
                if first == b'\n' {
                    *input = after_first;
                    continue;
                }
            }
            if let State::Bom(matched) = self.state {
                self.skip_bom(matched, input);
                continue;
            }
            // A line start is usually a short field line; the rest of a line
            // already begun is usually long data.
            let at_line_start = self.line_len == 0 && self.state == State::Name;
            // A long line is taken a window at a time, so that each piece is
            // still in cache when it is copied after the search.
            let window = input.get(..SCAN_WINDOW).unwrap_or(input);
            let eol = if at_line_start {
                find_line_end(window)
            } else {
                find_in_rest_of_line(window)
            };
            if let (true, Some(eol)) = (at_line_start, eol) {
                let (line, rest) = input.split_at(eol);
                // `rest` starts with the line end just found.
                let (&end, after_eol) = rest.split_first()?;
                if let Err(error) = self.whole_line(line, input) {
                    *input = rest;
                    return Some(Err(error));
                }
                self.after_cr = end == b'\r';
                *input = after_eol;
                if let Some(ready) = self.end_line() {
                    return Some(ready);
                }
                continue;
            }
            let (segment, rest) = input.split_at(eol.unwrap_or(window.len()));
            if let Err(error) = self.feed(segment) {
                *input = rest;
                return Some(Err(error));
            }
            let (Some(_), Some((&end, after_eol))) = (eol, rest.split_first()) else {
                // No line end in the window: the line goes on.
                *input = rest;
                continue;
            };
            self.after_cr = end == b'\r';
            *input = after_eol;
            if let Some(ready) = self.end_line() {
                return Some(ready);
            }
        }
    }

    /// Matches the start of the stream against the BOM. `input` is not empty.
    fn skip_bom(&mut self, mut matched: u8, input: &mut &[u8]) {
        while let Some(&expected) = BOM.get(usize::from(matched)) {
            match input.split_first() {
                Some((&byte, rest)) if byte == expected => {
                    matched += 1;
                    *input = rest;
                }
                Some(_) => break,
                None => {
                    self.state = State::Bom(matched);
                    return;
                }
            }
        }
        self.state = State::Name;
        if usize::from(matched) < BOM.len() && matched > 0 {
            // Not a BOM after all: its bytes begin a field name that cannot be
            // one of the known ones.
            self.line_len = usize::from(matched);
            self.state = State::Value {
                field: Field::Ignore,
                strip_space: false,
            };
        }
    }

    /// Takes in a whole line (no CR or LF in `line`) from its start: the
    /// same steps as [`feed`](Self::feed), with the name found in one look
    /// instead of byte by byte. [`end_line`](Self::end_line) follows.
    #[inline]
    fn whole_line(&mut self, line: &[u8], window: &[u8]) -> Result<(), DecodeError> {
        if let Some((field, taken)) = known_field(window) {
            // The pattern holds no line break, so it lies within the line.
            let mut value = line.get(taken..).unwrap_or_default();
            if let Some(rest) = value.strip_prefix(b" ") {
                value = rest;
            }
            self.enter(field);
            self.state = State::Value {
                field,
                strip_space: false,
            };
            let start = line.len() - value.len();
            self.line_len = start;
            return self.take_value(field, value, window.get(start..).unwrap_or_default());
        }
        let probe = line.get(..=MAX_NAME).unwrap_or(line);
        let Some(colon) = probe.iter().position(|&byte| byte == b':') else {
            if line.len() <= MAX_NAME {
                // No colon: the whole line is the name; `end_line` acts on it.
                self.store_name(line);
                self.line_len = line.len();
                return Ok(());
            }
            self.line_len = probe.len();
            self.state = State::Value {
                field: Field::Ignore,
                strip_space: false,
            };
            let rest = line.get(probe.len()..).unwrap_or_default();
            return self.take_value(Field::Ignore, rest, rest);
        };
        let field = self.field(line.get(..colon).unwrap_or_default());
        self.enter(field);
        let mut value = line.get(colon + 1..).unwrap_or_default();
        if let Some(rest) = value.strip_prefix(b" ") {
            value = rest;
        }
        self.state = State::Value {
            field,
            strip_space: false,
        };
        let start = line.len() - value.len();
        self.line_len = start;
        self.take_value(field, value, window.get(start..).unwrap_or_default())
    }

    /// Takes in part of a line (no CR or LF in `segment`).
    #[inline]
    fn feed(&mut self, mut segment: &[u8]) -> Result<(), DecodeError> {
        if self.state == State::Skip {
            self.line_len = self.line_len.saturating_add(segment.len());
            return Ok(());
        }
        if self.state == State::Name {
            // At most MAX_NAME + 1 bytes decide the field: the name and its
            // colon, or a sixth byte that makes the name unknown.
            let room = MAX_NAME + 1 - self.name_len;
            let probe = segment.get(..room).unwrap_or(segment);
            let colon = probe.iter().position(|&byte| byte == b':');
            let name_bytes = colon.unwrap_or(probe.len());
            let name = probe.get(..name_bytes).unwrap_or_default();
            let taken = colon.map_or(name_bytes, |colon| colon + 1);
            self.line_len += taken;
            segment = segment.get(taken..).unwrap_or_default();
            match colon {
                // The whole name in this segment, the common case: no copy.
                Some(_) if self.name_len == 0 => {
                    let field = self.field(name);
                    self.enter(field);
                }
                Some(_) => {
                    let start = self.name_len;
                    self.store_name(name);
                    let field = self.field(self.name.get(..start + name.len()).unwrap_or_default());
                    self.enter(field);
                }
                None if name_bytes == room => {
                    // Longer than any known name: whatever follows is ignored.
                    self.state = State::Value {
                        field: Field::Ignore,
                        strip_space: false,
                    };
                }
                None => {
                    // The name goes on in the next segment.
                    self.store_name(name);
                    return Ok(());
                }
            }
        }
        let State::Value { field, strip_space } = self.state else {
            return Ok(());
        };
        if strip_space {
            if let Some((&first, rest)) = segment.split_first() {
                if first == b' ' {
                    segment = rest;
                    self.line_len += 1;
                }
                self.state = State::Value {
                    field,
                    strip_space: false,
                };
            }
        }
        self.take_value(field, segment, segment)
    }

    /// Takes in part of the value of `field`; on an error the event is
    /// dropped and the rest of it skipped.
    #[inline]
    ///
    /// `window` starts with `segment` and may go on past it: a short value
    /// is copied as a fixed-size block from it (see [`push`]).
    fn take_value(
        &mut self,
        field: Field,
        segment: &[u8],
        window: &[u8],
    ) -> Result<(), DecodeError> {
        self.line_len = self.line_len.saturating_add(segment.len());
        let fits = match field {
            Field::Data => self.push_data(segment, window),
            Field::Event => push(
                self.buf.as_mut(),
                self.layout.type_off,
                self.layout.type_cap,
                &mut self.type_len,
                segment,
                window,
            ),
            Field::Id => {
                // Ids are short: a loop beats the call.
                self.id_has_nul |= if segment.len() < 32 {
                    segment.contains(&0)
                } else {
                    memchr(0, segment).is_some()
                };
                let slot = self.id_scratch;
                let mut len = self.id_lens[slot];
                let fits = push(
                    self.buf.as_mut(),
                    self.layout.id_off(slot),
                    self.layout.id_cap,
                    &mut len,
                    segment,
                    window,
                );
                self.id_lens[slot] = len;
                fits
            }
            Field::Comment => push(
                self.buf.as_mut(),
                self.layout.comment_off,
                self.layout.comment_cap,
                &mut self.comment_len,
                segment,
                window,
            ),
            Field::Retry => {
                for &byte in segment {
                    self.retry = match byte {
                        b'0'..=b'9' => self
                            .retry
                            .map(|ms| ms.saturating_mul(10).saturating_add(u64::from(byte - b'0'))),
                        _ => None,
                    };
                }
                self.retry_digits |= !segment.is_empty();
                self.line_len <= self.layout.max_line_len
            }
            Field::Ignore => self.line_len <= self.layout.max_line_len,
        };
        if fits {
            return Ok(());
        }
        self.discard_event();
        // Not a blank line, so the skip goes on to the next one.
        self.line_len = self.line_len.max(1);
        self.state = State::Skip;
        Err(match field {
            Field::Data => DecodeError::EventTooLong,
            _ => DecodeError::LineTooLong,
        })
    }

    #[inline]
    fn push_data(&mut self, bytes: &[u8], window: &[u8]) -> bool {
        push(
            self.buf.as_mut(),
            self.layout.data_off,
            self.layout.data_cap,
            &mut self.data_len,
            bytes,
            window,
        )
    }

    /// Keeps the start of a field name that continues in the next segment.
    #[inline]
    fn store_name(&mut self, name: &[u8]) {
        let end = self.name_len + name.len();
        if let Some(slot) = self.name.get_mut(self.name_len..end) {
            slot.copy_from_slice(name);
            self.name_len = end;
        }
    }

    /// The field called `name`.
    #[inline]
    fn field(&self, name: &[u8]) -> Field {
        match name {
            b"data" => Field::Data,
            b"event" => Field::Event,
            b"id" => Field::Id,
            b"retry" => Field::Retry,
            b"" if self.layout.comment_cap > 0 => Field::Comment,
            _ => Field::Ignore,
        }
    }

    /// Starts reading the value of `field`.
    #[inline]
    fn enter(&mut self, field: Field) {
        match field {
            Field::Event => self.type_len = 0,
            Field::Id => {
                self.id_scratch = self.free_id_slot();
                self.id_lens[self.id_scratch] = 0;
                self.id_has_nul = false;
            }
            Field::Retry => {
                self.retry = Some(0);
                self.retry_digits = false;
            }
            Field::Comment => self.comment_len = 0,
            Field::Data | Field::Ignore => {}
        }
        self.state = State::Value {
            field,
            strip_space: true,
        };
    }

    /// Acts on a line end.
    #[inline]
    fn end_line(&mut self) -> Option<Result<Ready, DecodeError>> {
        let line_len = core::mem::replace(&mut self.line_len, 0);
        let name_len = core::mem::replace(&mut self.name_len, 0);
        let state = core::mem::replace(&mut self.state, State::Name);
        let field = match state {
            State::Name if line_len == 0 => return self.dispatch().map(Ok),
            State::Name => {
                // A line without a colon: the whole line is the name, the
                // value is empty.
                let field = self.field(self.name.get(..name_len).unwrap_or_default());
                self.enter(field);
                self.state = State::Name;
                field
            }
            State::Value { field, .. } => field,
            State::Skip if line_len == 0 => return None,
            State::Skip | State::Bom(_) => {
                self.state = State::Skip;
                return None;
            }
        };
        self.finish_field(field)
    }

    /// Acts on the end of a line that set `field`.
    #[inline]
    fn finish_field(&mut self, field: Field) -> Option<Result<Ready, DecodeError>> {
        match field {
            Field::Data => {
                if !self.push_data(b"\n", b"\n") {
                    self.discard_event();
                    self.state = State::Skip;
                    return Some(Err(DecodeError::EventTooLong));
                }
            }
            Field::Id if !self.id_has_nul => self.id_current = self.id_scratch,
            Field::Retry => {
                if let (Some(ms), true) = (self.retry, self.retry_digits) {
                    return Some(Ok(Ready::Retry(ms)));
                }
            }
            Field::Comment => {
                self.yielded = Yielded::Comment;
                return Some(Ok(Ready::Comment));
            }
            Field::Id | Field::Event | Field::Ignore => {}
        }
        None
    }

    /// A blank line: dispatches the event, if it has data.
    #[inline]
    fn dispatch(&mut self) -> Option<Ready> {
        self.id_last = self.id_current;
        if self.data_len == 0 {
            self.type_len = 0;
            return None;
        }
        // Every data line ends with LF; the spec removes the last one.
        self.data_len -= 1;
        self.yielded = Yielded::Event;
        Some(Ready::Event)
    }

    /// Forgets the event in progress, including an id it set.
    fn discard_event(&mut self) {
        self.data_len = 0;
        self.type_len = 0;
        self.line_len = 0;
        self.name_len = 0;
        self.id_current = self.id_last;
        self.state = State::Name;
    }
}

/// A field name and its colon as the low bytes of a little-endian word, and
/// the mask that keeps those bytes.
const fn name_pattern(name: &[u8]) -> (u64, u64) {
    let mut word = 0u64;
    let mut i = 0;
    while i < name.len() {
        word |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    (word, u64::MAX >> (64 - 8 * name.len()))
}

/// The known fields, each with its name and colon as a pattern.
const KNOWN_FIELDS: [(Field, usize, (u64, u64)); 4] = [
    (Field::Data, 5, name_pattern(b"data:")),
    (Field::Id, 3, name_pattern(b"id:")),
    (Field::Event, 6, name_pattern(b"event:")),
    (Field::Retry, 6, name_pattern(b"retry:")),
];

/// When `window` starts with `data:`, `id:`, `event:` or `retry:`, that
/// field and the length of its name and colon: a few word compares instead
/// of a search for the colon.
#[inline]
fn known_field(window: &[u8]) -> Option<(Field, usize)> {
    let mut bytes = [0u8; 8];
    match window.get(..8) {
        Some(head) => bytes.copy_from_slice(head),
        None => {
            let head = bytes.get_mut(..window.len())?;
            head.copy_from_slice(window);
        }
    }
    let word = u64::from_le_bytes(bytes);
    KNOWN_FIELDS
        .iter()
        .find(|(_, _, (pattern, mask))| word & mask == *pattern)
        .map(|&(field, len, _)| (field, len))
}

/// Bytes with the high bit of each byte set, and with the low bit set.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
const LOW_BITS: u64 = 0x0101_0101_0101_0101;

/// How many leading bytes of a line [`find_line_end`] checks a word at a
/// time before it hands over to `memchr2`.
const SHORT_LINE: usize = 32;

/// The high bit of every byte of `word` that is zero, and no other bit.
const fn zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH_BITS).wrapping_add(!HIGH_BITS)) | word) & HIGH_BITS
}

/// The offset of the first CR or LF in `haystack`.
///
/// Field lines are short, and for a few dozen bytes calling `memchr2` costs
/// more than looking: the first [`SHORT_LINE`] bytes are checked eight at a
/// time in a register (the zero-byte test on the word XOR-ed with CR and
/// with LF), the rest with `memchr2`.
#[inline]
fn find_line_end(haystack: &[u8]) -> Option<usize> {
    let mut words = haystack.chunks_exact(8);
    for (i, word) in words.by_ref().take(SHORT_LINE / 8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let word = u64::from_le_bytes(bytes);
        let ends = zero_bytes(word ^ (LOW_BITS * u64::from(b'\n')))
            | zero_bytes(word ^ (LOW_BITS * u64::from(b'\r')));
        if ends != 0 {
            // Little-endian: the lowest set bit is the first byte.
            return Some(i * 8 + (ends.trailing_zeros() / 8) as usize);
        }
    }
    let checked = haystack.len() - words.remainder().len() - words.len() * 8;
    let rest = haystack.get(checked..).unwrap_or_default();
    find_in_rest_of_line(rest).map(|i| checked + i)
}

/// How much of a long line is searched and copied in one step.
const SCAN_WINDOW: usize = 32 * 1024;

/// Inputs shorter than this are searched byte by byte: the call to
/// `memchr2` costs more (tiny chunks, the tail of a chunk).
const TINY: usize = 16;

/// The offset of the first CR or LF in `haystack`, with `memchr2` unless the
/// haystack is tiny.
#[inline]
fn find_in_rest_of_line(haystack: &[u8]) -> Option<usize> {
    if haystack.len() < TINY {
        return haystack.iter().position(|&b| b == b'\n' || b == b'\r');
    }
    memchr2(b'\n', b'\r', haystack)
}

/// How many bytes [`push`] copies as one fixed-size block.
const BLOCK: usize = 32;

/// Appends `bytes` to the region at `off` of capacity `cap` holding `len`
/// bytes; false if they do not fit.
///
/// `window` starts with `bytes`. A short value with a full block of input
/// behind it and a block of room in the region is copied as a whole block,
/// which the compiler turns into two vector moves instead of a call to
/// `memcpy`; the bytes past the value are scratch, never read.
#[inline]
fn push(
    buf: &mut [u8],
    off: usize,
    cap: usize,
    len: &mut usize,
    bytes: &[u8],
    window: &[u8],
) -> bool {
    let new_len = *len + bytes.len();
    if new_len > cap {
        return false;
    }
    let at = off + *len;
    if bytes.len() <= BLOCK && *len + BLOCK <= cap {
        let src: Option<&[u8; BLOCK]> = window.get(..BLOCK).and_then(|w| w.try_into().ok());
        let dst: Option<&mut [u8; BLOCK]> =
            buf.get_mut(at..at + BLOCK).and_then(|d| d.try_into().ok());
        if let (Some(src), Some(dst)) = (src, dst) {
            *dst = *src;
            *len = new_len;
            return true;
        }
    }
    match (buf.get_mut(at..off + new_len), bytes) {
        // One byte at a time (tiny chunks): a store, not a call.
        (Some([dst]), [byte]) => {
            *dst = *byte;
            *len = new_len;
            true
        }
        (Some(dst), _) => {
            dst.copy_from_slice(bytes);
            *len = new_len;
            true
        }
        (None, _) => false,
    }
}

#[cfg(feature = "alloc")]
impl Decoder<alloc::boxed::Box<[u8]>> {
    /// A decoder with a heap buffer sized for events of up to
    /// `max_event_len` bytes of data under `limits`.
    pub fn with_capacity(max_event_len: usize, limits: Limits) -> Self {
        let buf = alloc::vec![0u8; limits.buffer_len(max_event_len)].into_boxed_slice();
        Self::with_limits(buf, limits)
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for Decoder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("buffer_len", &self.buf.as_ref().len())
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

    use super::{
        BLOCK, Decoder, Field, SCAN_WINDOW, find_in_rest_of_line, find_line_end, known_field, push,
        zero_bytes,
    };
    use crate::Frame;

    /// Lines longer than the search window, with their line end anywhere
    /// around its edges (a CRLF split by it too), whatever the chunking.
    #[test]
    fn long_lines_cross_the_scan_window() {
        for (len, end) in [
            (SCAN_WINDOW - 1, &b"\r\n"[..]),
            (SCAN_WINDOW, b"\n"),
            (SCAN_WINDOW + 1, b"\r"),
            (SCAN_WINDOW - 7, b"\r"),
            (3 * SCAN_WINDOW + 5, b"\r\n"),
        ] {
            let mut input = b"data:".to_vec();
            input.resize(len, b'x');
            for part in [end, b"data: y", end, end] {
                input.extend_from_slice(part);
            }
            let mut expected = std::vec![b'x'; len - 5];
            expected.extend_from_slice(b"\ny");
            for chunk in [input.len(), 1000, SCAN_WINDOW, SCAN_WINDOW + 1] {
                let mut decoder = Decoder::new(std::vec![0u8; 4 * SCAN_WINDOW + 4096]);
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

    /// The zero-byte test marks exactly the zero bytes, in every lane.
    #[test]
    fn zero_bytes_is_exact() {
        for lane in 0..8 {
            for byte in 0..=255u8 {
                let mut bytes = [0x41u8; 8];
                bytes[lane] = byte;
                let marks = zero_bytes(u64::from_le_bytes(bytes));
                let expected = if byte == 0 { 0x80u64 << (8 * lane) } else { 0 };
                assert_eq!(marks, expected, "byte {byte:#x} in lane {lane}");
            }
        }
    }

    /// The word-at-a-time head and the `memchr2` tail find what a plain
    /// search finds, for every length and position around both.
    #[test]
    fn find_line_end_agrees_with_a_plain_search() {
        for len in 0..80 {
            for end in [b'\n', b'\r'] {
                for at in 0..=len {
                    let mut haystack = [b'x'; 80];
                    let haystack = &mut haystack[..len];
                    if let Some(slot) = haystack.get_mut(at) {
                        *slot = end;
                    }
                    // A second line end later must not matter.
                    if let Some(slot) = haystack.get_mut(at + 9) {
                        *slot = b'\n';
                    }
                    let plain = haystack.iter().position(|&b| b == b'\n' || b == b'\r');
                    assert_eq!(find_line_end(haystack), plain, "len {len}, end at {at}");
                    assert_eq!(
                        find_in_rest_of_line(haystack),
                        plain,
                        "len {len}, end at {at}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_fields_need_their_colon() {
        assert_eq!(known_field(b"data: x"), Some((Field::Data, 5)));
        assert_eq!(known_field(b"data:"), Some((Field::Data, 5)));
        assert_eq!(known_field(b"id:7\n"), Some((Field::Id, 3)));
        assert_eq!(known_field(b"event:add"), Some((Field::Event, 6)));
        assert_eq!(known_field(b"retry:10"), Some((Field::Retry, 6)));
        for other in [
            &b"data"[..],
            b"dat:",
            b"Data: x",
            b"datas: x",
            b"id",
            b"ids:",
            b"event\n:",
            b"retry",
            b": comment",
            b"",
        ] {
            assert_eq!(known_field(other), None, "{other:?}");
        }
    }

    /// A short value is copied as a whole block only with a block of input
    /// behind it and a block of room, and never past its region.
    #[test]
    fn push_copies_blocks_only_inside_the_region() {
        for cap in [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK] {
            for value_len in 0..=BLOCK + 1 {
                for extra in [0, BLOCK] {
                    let window: [u8; 3 * BLOCK] = core::array::from_fn(|i| i as u8 + 1);
                    let window = &window[..value_len + extra];
                    let value = &window[..value_len];
                    // Region at 4..4 + cap, guarded on both sides.
                    let mut buf = [0xEEu8; 4 + 2 * BLOCK + 4];
                    let mut len = 0;
                    let fits = push(&mut buf, 4, cap, &mut len, value, window);
                    assert_eq!(fits, value_len <= cap);
                    if fits {
                        assert_eq!(len, value_len);
                        assert_eq!(&buf[4..4 + len], value);
                    }
                    assert!(buf[..4].iter().all(|&b| b == 0xEE));
                    assert!(
                        buf[4 + cap..].iter().all(|&b| b == 0xEE),
                        "wrote past the region"
                    );
                }
            }
        }
    }
}
