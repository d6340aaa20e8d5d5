//! [`Limits`], how a decoder divides its buffer, and [`DecodeError`].

use core::fmt;

use crate::{DEFAULT_MAX_EVENT_TYPE_LEN, DEFAULT_MAX_ID_LEN};

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
    /// [`Limits::max_comment_len`] for reported comments and
    /// [`Limits::max_line_len`] for any other line except `data`.
    LineTooLong,
    /// The data of one event did not fit in the data buffer
    /// ([`Decoder::max_event_len`](crate::Decoder::max_event_len)).
    EventTooLarge,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LineTooLong => "line longer than the decoder's limit; event discarded",
            Self::EventTooLarge => "event data larger than the decoder's buffer; event discarded",
        })
    }
}

impl core::error::Error for DecodeError {}

/// How a [`Decoder`](crate::Decoder) divides its buffer.
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
/// let limits = Limits::new().with_max_id_len(64).with_max_comment_len(80);
/// let buf = vec![0u8; limits.buffer_len(16 * 1024)];
/// let decoder = Decoder::with_limits(buf, limits);
/// assert_eq!(decoder.max_event_len(), 16 * 1024);
/// assert_eq!(decoder.limits().max_comment_len(), 80);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    max_id_len: usize,
    max_event_type_len: usize,
    max_comment_len: usize,
    max_line_len: Option<usize>,
}

impl Limits {
    /// The default limits: ids up to [`DEFAULT_MAX_ID_LEN`] bytes, event
    /// types up to [`DEFAULT_MAX_EVENT_TYPE_LEN`], comments not reported,
    /// other lines up to the data buffer's size.
    pub const fn new() -> Self {
        Self {
            max_id_len: DEFAULT_MAX_ID_LEN,
            max_event_type_len: DEFAULT_MAX_EVENT_TYPE_LEN,
            max_comment_len: 0,
            max_line_len: None,
        }
    }

    /// The longest `id` value accepted.
    pub const fn with_max_id_len(mut self, len: usize) -> Self {
        self.max_id_len = len;
        self
    }

    /// The longest `event` value accepted.
    pub const fn with_max_event_type_len(mut self, len: usize) -> Self {
        self.max_event_type_len = len;
        self
    }

    /// Report comments up to `len` bytes as [`Frame::Comment`](crate::Frame).
    /// With the default of 0, comments are skipped without being stored.
    pub const fn with_max_comment_len(mut self, len: usize) -> Self {
        self.max_comment_len = len;
        self
    }

    /// The longest line accepted other than `data`, `id`, `event` and reported
    /// comments, which have their own limits. Defaults to the data buffer's
    /// size. Bounds how long a peer can keep the decoder busy with a line
    /// that will never yield anything.
    pub const fn with_max_line_len(mut self, len: usize) -> Self {
        self.max_line_len = Some(len);
        self
    }

    /// The longest `id` value accepted.
    pub const fn max_id_len(&self) -> usize {
        self.max_id_len
    }

    /// The longest `event` value accepted.
    pub const fn max_event_type_len(&self) -> usize {
        self.max_event_type_len
    }

    /// The longest comment reported; 0 when comments are not reported.
    pub const fn max_comment_len(&self) -> usize {
        self.max_comment_len
    }

    /// The longest other line accepted; `None` means the data buffer's size.
    pub const fn max_line_len(&self) -> Option<usize> {
        self.max_line_len
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
    pub(super) const fn for_buffer(len: usize) -> Self {
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
pub(super) struct Layout {
    pub(super) id_cap: usize,
    pub(super) type_off: usize,
    pub(super) type_cap: usize,
    pub(super) comment_off: usize,
    pub(super) comment_cap: usize,
    pub(super) data_off: usize,
    pub(super) data_cap: usize,
    pub(super) max_line_len: usize,
}

impl Layout {
    /// Carves the regions out of `len` bytes in order, shrinking whatever
    /// does not fit; the data gets the rest.
    pub(super) fn new(len: usize, limits: &Limits) -> Self {
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

    /// How much event data a buffer of `len` bytes holds room for.
    pub(super) fn data_room(&self, len: usize) -> usize {
        len.saturating_sub(self.data_off).min(self.data_cap)
    }

    pub(super) fn id_off(&self, slot: usize) -> usize {
        slot * self.id_cap
    }

    /// The limits this layout enforces.
    pub(super) const fn limits(&self) -> Limits {
        Limits {
            max_id_len: self.id_cap,
            max_event_type_len: self.type_cap,
            max_comment_len: self.comment_cap,
            max_line_len: Some(self.max_line_len),
        }
    }
}
