//! The decoder's state machine: the spec's rules one segment of a line at a
//! time, for whatever the fast paths of `lines` leave to it (lines cut by
//! a chunk end, comments, `retry`, unknown fields, values over a limit, the
//! BOM, errors and the skip after them).

use memchr::memchr;

use super::lines::Lines;
use super::scan::{known_field, push};
use super::{
    BOM, DATA_VALUE, DecodeBuf, DecodeError, Decoder, Field, MAX_NAME, Ready, State, Yielded,
};
use crate::line_end;

impl<B: DecodeBuf> Decoder<B> {
    pub(super) fn advance(&mut self, input: &mut &[u8]) -> Option<Result<Ready, DecodeError>> {
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
            // At a line start, whole lines of the usual kinds take the fast
            // path; the rest of a line already begun is usually long data.
            let eol = if self.line_len == 0 && self.state == State::Name {
                match self.lines(input) {
                    Lines::Ready(ready) => return Some(Ok(ready)),
                    Lines::Partial if input.is_empty() => return None,
                    Lines::Partial => None,
                    Lines::Other(eol) => {
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
                }
            } else {
                if self.state == DATA_VALUE && self.continue_data(input) {
                    continue;
                }
                // The rest of a line begun in an earlier chunk: one search
                // over the whole input, then one copy of what belongs to it.
                line_end::find(input)
            };
            let (segment, rest) = input.split_at(eol.unwrap_or(input.len()));
            if let Err(error) = self.take_segment(segment) {
                *input = rest;
                return Some(Err(error));
            }
            let (Some(_), Some((&end, after_eol))) = (eol, rest.split_first()) else {
                // No line end in the input: the line goes on.
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
    /// same steps as [`take_segment`](Self::take_segment), with the name found in one look
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
    fn take_segment(&mut self, mut segment: &[u8]) -> Result<(), DecodeError> {
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
            Field::Data => self.write_data(segment, window),
            Field::Event => push(
                self.buf.bytes_mut(),
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
                    self.buf.bytes_mut(),
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
                self.buf.bytes_mut(),
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
            Field::Data => DecodeError::EventTooLarge,
            _ => DecodeError::LineTooLong,
        })
    }

    /// Keeps the start of a field name that continues in the next segment.
    #[inline]
    pub(super) fn store_name(&mut self, name: &[u8]) {
        let end = self.name_len + name.len();
        if let Some(slot) = self.name.get_mut(self.name_len..end) {
            slot.copy_from_slice(name);
            self.name_len = end;
        }
    }

    /// The field called `name`.
    #[inline]
    pub(super) fn field(&self, name: &[u8]) -> Field {
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
    pub(super) fn enter(&mut self, field: Field) {
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
                if !self.write_data(b"\n", b"\n") {
                    self.discard_event();
                    self.state = State::Skip;
                    return Some(Err(DecodeError::EventTooLarge));
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
    pub(super) fn dispatch(&mut self) -> Option<Ready> {
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
    pub(super) fn discard_event(&mut self) {
        self.data_len = 0;
        self.release_data();
        self.type_len = 0;
        self.line_len = 0;
        self.name_len = 0;
        self.id_current = self.id_last;
        self.state = State::Name;
    }
}
