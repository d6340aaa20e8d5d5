//! The decoder's fast path: whole lines of the common kinds (`data`, `id`,
//! `event`, blank), taken one after the other from a line start without
//! going through the state machine.
//!
//! Each line is found with one search, matched against the known field
//! names with a few word compares, and stored with one copy: a `data` value
//! is copied together with its line end, which becomes the LF that joins it
//! to the next line (a CR is overwritten), so consecutive `data` lines cost
//! no join step. A CRLF is consumed whole. Anything else (comments,
//! `retry`, unknown fields, a value over its limit, a line cut by the end of
//! the input) is left where it starts, for the state machine, which gives
//! exactly the same result for it.

use super::scan::{has_nul, known_field, push};
use super::{Decoder, Field, MAX_NAME, Ready, State};
use crate::line_end;

/// Where the fast path stopped.
pub(super) enum Lines {
    /// An event or another frame is ready.
    Ready(Ready),
    /// The input is used up, or holds only the start of a line.
    Partial,
    /// The input starts with a whole line for the state machine, which ends
    /// at this offset.
    Other(usize),
}

impl<B: super::DecodeBuf> Decoder<B> {
    /// Takes whole lines from `input`, which starts at a line start (no
    /// name or value begun, no CR just seen).
    #[inline]
    pub(super) fn lines(&mut self, input: &mut &[u8]) -> Lines {
        loop {
            let rest = *input;
            let Some(&first) = rest.first() else {
                return Lines::Partial;
            };
            if first == b'\n' || first == b'\r' {
                *input = self.after_line_end(rest, 0);
                if let Some(ready) = self.dispatch() {
                    return Lines::Ready(ready);
                }
                continue;
            }
            let Some(eol) = line_end::find(rest) else {
                if self.start_data(rest) {
                    *input = &[];
                }
                return Lines::Partial;
            };
            let Some((field, name_len)) = known_field(rest) else {
                return Lines::Other(eol);
            };
            // The name and colon hold no line break, so lie within the line.
            let start = if rest.get(name_len) == Some(&b' ') {
                name_len + 1
            } else {
                name_len
            };
            let stored = match field {
                Field::Data => self.store_data(rest, start, eol),
                Field::Id => self.store_id(rest, start, eol),
                Field::Event => self.store_type(rest, start, eol),
                Field::Retry | Field::Comment | Field::Ignore => false,
            };
            if !stored {
                return Lines::Other(eol);
            }
            *input = self.after_line_end(rest, eol);
        }
    }

    /// Goes on with a data value begun in an earlier chunk, up to and with
    /// its line end if the input holds it. False, changing nothing, when
    /// the state machine must take it (it does not fit).
    #[inline]
    pub(super) fn continue_data(&mut self, input: &mut &[u8]) -> bool {
        let rest = *input;
        // A line already long is likely to go on: past a short read, straight
        // to `memchr2` (for a short read the word-at-a-time search is
        // cheaper than its call).
        let eol = if self.line_len > line_end::SHORT && rest.len() > line_end::SHORT {
            memchr::memchr2(b'\n', b'\r', rest)
        } else {
            line_end::find(rest)
        };
        if let Some(eol) = eol {
            if !self.store_data(rest, 0, eol) {
                return false;
            }
            // The line is over, as `end_line` would leave it.
            self.line_len = 0;
            self.name_len = 0;
            self.state = State::Name;
            *input = self.after_line_end(rest, eol);
            return true;
        }
        if !self.write_data(rest, rest) {
            return false;
        }
        self.line_len = self.line_len.saturating_add(rest.len());
        *input = &[];
        true
    }

    /// Begins a `data` line that the input cuts (`rest` holds no line end):
    /// its value so far is stored and the next chunk goes on with it. False,
    /// changing nothing, for any other line, or when it is too early to tell
    /// whether a space follows the colon, or the value does not fit.
    #[inline]
    fn start_data(&mut self, rest: &[u8]) -> bool {
        let Some((Field::Data, name_len)) = known_field(rest) else {
            return false;
        };
        let start = match rest.get(name_len) {
            Some(b' ') => name_len + 1,
            Some(_) => name_len,
            None => return false,
        };
        let value = rest.get(start..).unwrap_or_default();
        if !self.write_data(value, value) {
            return false;
        }
        self.line_len = rest.len();
        self.state = State::Value {
            field: Field::Data,
            strip_space: false,
        };
        true
    }

    /// Takes a last byte of input in the middle of a line, when it is the
    /// next byte of a field name, its colon, the space after it, or the next
    /// byte of a `data`, `event` or `id` value: input that comes a byte at a
    /// time, in a few steps instead of the state machine's. False, changing
    /// nothing, for anything else.
    #[inline]
    pub(super) fn take_byte(&mut self, byte: u8) -> bool {
        if byte == b'\n' || byte == b'\r' || self.after_cr {
            return false;
        }
        // The most common: the next byte of a data value.
        if self.state == super::DATA_VALUE && self.data_len < self.data_room {
            let at = self.layout.data_off + self.data_len;
            if let Some(slot) = self.buf.bytes_mut().get_mut(at) {
                *slot = byte;
                self.data_len += 1;
                self.line_len += 1;
                return true;
            }
        }
        self.take_other_byte(byte)
    }

    /// [`take_byte`](Self::take_byte) for all but data bytes.
    #[inline]
    fn take_other_byte(&mut self, byte: u8) -> bool {
        let layout = self.layout;
        let (off, len, cap) = match self.state {
            State::Value { field, strip_space } => match field {
                // Lines held to the line limit: the state machine checks it.
                Field::Retry | Field::Comment | Field::Ignore => return false,
                _ if strip_space && byte == b' ' => {
                    self.state = State::Value {
                        field,
                        strip_space: false,
                    };
                    self.line_len += 1;
                    return true;
                }
                Field::Data => {
                    if !self.write_data(&[byte], &[byte]) {
                        return false;
                    }
                    // The first byte of the value, which was not a space.
                    self.state = super::DATA_VALUE;
                    self.line_len += 1;
                    return true;
                }
                Field::Event => (layout.type_off, self.type_len, layout.type_cap),
                Field::Id => {
                    let slot = self.id_scratch;
                    let len = self.id_lens.get(slot).copied().unwrap_or(usize::MAX);
                    (layout.id_off(slot), len, layout.id_cap)
                }
            },
            // A name byte before the sixth, which would make it unknown.
            State::Name if byte != b':' && self.name_len < MAX_NAME => {
                self.store_name(&[byte]);
                self.line_len += 1;
                return true;
            }
            // The colon after a name of up to five bytes.
            State::Name if byte == b':' => {
                let field = self.field(self.name.get(..self.name_len).unwrap_or_default());
                // Only the fields with limits of their own: any other line
                // is held to the line limit, which the state machine checks
                // as it enters the value.
                if !matches!(field, Field::Data | Field::Event | Field::Id) {
                    return false;
                }
                self.enter(field);
                self.line_len += 1;
                return true;
            }
            _ => return false,
        };
        if len >= cap {
            return false;
        }
        let Some(slot) = self.buf.bytes_mut().get_mut(off + len) else {
            return false;
        };
        *slot = byte;
        if let State::Value { field, .. } = self.state {
            // The first byte of the value, which was not a space.
            self.state = State::Value {
                field,
                strip_space: false,
            };
        }
        match self.state {
            State::Value {
                field: Field::Event,
                ..
            } => self.type_len += 1,
            State::Value {
                field: Field::Id, ..
            } => {
                self.id_has_nul |= byte == 0;
                if let Some(len) = self.id_lens.get_mut(self.id_scratch) {
                    *len += 1;
                }
            }
            _ => self.data_len += 1,
        }
        self.line_len += 1;
        true
    }

    /// What follows the line end at `eol` in `rest`: a CRLF is taken whole,
    /// and a CR last in the input leaves the decoder expecting a possible LF.
    #[inline]
    fn after_line_end<'i>(&mut self, rest: &'i [u8], eol: usize) -> &'i [u8] {
        match rest.get(eol..) {
            Some([b'\r', b'\n', after @ ..]) => after,
            Some([b'\r']) => {
                self.after_cr = true;
                &[]
            }
            Some([_, after @ ..]) => after,
            _ => &[],
        }
    }

    /// Appends the value `rest[start..eol]` and an LF to the data; false,
    /// changing nothing, if they do not fit.
    #[inline]
    fn store_data(&mut self, rest: &[u8], start: usize, eol: usize) -> bool {
        // The value with its line end: one copy, the LF (or the CR that
        // becomes one) included.
        let (Some(with_end), Some(window)) = (rest.get(start..=eol), rest.get(start..)) else {
            return false;
        };
        if !self.write_data(with_end, window) {
            return false;
        }
        if with_end.last() == Some(&b'\r') {
            let at = self.layout.data_off + self.data_len - 1;
            if let Some(end) = self.buf.bytes_mut().get_mut(at) {
                *end = b'\n';
            }
        }
        true
    }

    /// Reads the id `rest[start..eol]`: it becomes the last event id of the
    /// event unless it holds NUL. False, changing nothing, if it is too long.
    #[inline]
    fn store_id(&mut self, rest: &[u8], start: usize, eol: usize) -> bool {
        let (Some(value), Some(window)) = (rest.get(start..eol), rest.get(start..)) else {
            return false;
        };
        if value.len() > self.layout.id_cap {
            return false;
        }
        let slot = self.free_id_slot();
        let mut len = 0;
        let off = self.layout.id_off(slot);
        push(
            self.buf.bytes_mut(),
            off,
            self.layout.id_cap,
            &mut len,
            value,
            window,
        );
        self.id_lens[slot] = len;
        self.id_scratch = slot;
        if !has_nul(value) {
            self.id_current = slot;
        }
        true
    }

    /// Sets the event type to `rest[start..eol]`; false, changing nothing,
    /// if it is too long.
    #[inline]
    fn store_type(&mut self, rest: &[u8], start: usize, eol: usize) -> bool {
        let (Some(value), Some(window)) = (rest.get(start..eol), rest.get(start..)) else {
            return false;
        };
        if value.len() > self.layout.type_cap {
            return false;
        }
        self.type_len = 0;
        let (off, cap) = (self.layout.type_off, self.layout.type_cap);
        push(
            self.buf.bytes_mut(),
            off,
            cap,
            &mut self.type_len,
            value,
            window,
        )
    }
}
