//! The floors: a plain decoder and a plain encoder, each what someone would
//! write in an afternoon with `memchr`, doing only the common case's work.
//!
//! They are not correct SSE implementations and are not meant to be: no BOM,
//! no limits, no `retry`, no comments, no NUL check on ids, no field
//! validation, no CR in encoded data. They are here so that the tables can
//! say what the spec's rules cost: `sse-proto` is asked to be at least as
//! fast as the plain decoder and at least 0.8× the plain encoder while doing
//! all of that.

use memchr::{memchr, memchr_iter, memchr2};

/// A plain decoder: `memchr2` for line ends, the fields copied into `Vec`s.
#[derive(Debug, Default)]
pub struct PlainDecoder {
    /// The start of a line cut by the end of a chunk.
    line: Vec<u8>,
    data: Vec<u8>,
    event_type: Vec<u8>,
    id: Vec<u8>,
    /// The last chunk ended with CR: an LF first in the next ends nothing.
    after_cr: bool,
}

impl PlainDecoder {
    /// Decodes `chunk`, calling `on_event(type, id, data)` per event.
    pub fn feed(&mut self, chunk: &[u8], on_event: &mut impl FnMut(&[u8], &[u8], &[u8])) {
        let mut rest = chunk;
        if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        while let Some(end) = memchr2(b'\n', b'\r', rest) {
            if self.line.is_empty() {
                self.line_end(&rest[..end], on_event);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..end]);
                self.line_end(&line, on_event);
                line.clear();
                self.line = line;
            }
            let cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
        }
        self.line.extend_from_slice(rest);
    }

    fn line_end(&mut self, line: &[u8], on_event: &mut impl FnMut(&[u8], &[u8], &[u8])) {
        if line.is_empty() {
            if self.data.pop().is_some() {
                on_event(&self.event_type, &self.id, &self.data);
            }
            self.data.clear();
            self.event_type.clear();
            return;
        }
        let (name, value) = match memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            b"id" => {
                self.id.clear();
                self.id.extend_from_slice(value);
            }
            _ => {}
        }
    }

    /// Ends the stream: drops the unfinished line and event.
    pub fn finish(&mut self) {
        self.line.clear();
        self.data.clear();
        self.event_type.clear();
        self.after_cr = false;
    }
}

/// A plain encoder: appends `event`, `id` and one `data:` line per LF of
/// `data` to `out`, with no check of any of them.
pub fn plain_encode(out: &mut Vec<u8>, event_type: &str, id: &str, data: &str) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event_type.as_bytes());
    out.extend_from_slice(b"\nid: ");
    out.extend_from_slice(id.as_bytes());
    out.push(b'\n');
    let data = data.as_bytes();
    let mut start = 0;
    for end in memchr_iter(b'\n', data) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&data[start..end]);
        out.push(b'\n');
        start = end + 1;
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(&data[start..]);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::{PlainDecoder, plain_encode};

    #[test]
    fn the_plain_decoder_reads_the_common_case() {
        let stream = b"id: 1\r\nevent: a\r\ndata: x\r\ndata:y\r\n\r\ndata: z\n\n";
        for size in [1, 2, 5, stream.len()] {
            let mut decoder = PlainDecoder::default();
            let mut events = Vec::new();
            for chunk in stream.chunks(size) {
                decoder.feed(chunk, &mut |t, id, data| {
                    events.push((t.to_vec(), id.to_vec(), data.to_vec()));
                });
            }
            assert_eq!(
                events,
                [
                    (b"a".to_vec(), b"1".to_vec(), b"x\ny".to_vec()),
                    (Vec::new(), b"1".to_vec(), b"z".to_vec())
                ],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn the_plain_encoder_writes_one_data_line_per_lf() {
        let mut out = Vec::new();
        plain_encode(&mut out, "t", "1", "a\nb");
        assert_eq!(out, b"event: t\nid: 1\ndata: a\ndata: b\n\n");
    }
}
