//! The properties the fuzz targets check, in one place: the targets in
//! `fuzz/fuzz_targets/` call these functions on what libFuzzer generates, and
//! `sse-proto/tests/fuzz_corpus.rs` replays the committed corpora through the same
//! functions on stable Rust.
//!
//! Each function takes raw bytes, reads its configuration (capacities, split
//! points, field lengths) from the first few of them, and panics when a
//! property does not hold. Any byte string is a valid input, so every corpus
//! file means something to its target.

use std::path::Path;

use sse_proto::{
    DecodeBuf, DecodeError, Decoder, EncodeError, Event, EventId, EventType, FieldError, Frame,
    GrowableBuf, Limits, Text,
};

use crate::oracle;
use crate::vectors::{Out, decoder, feed, roomy};

/// Reads configuration bytes off the front of a fuzz input; past the end
/// every byte reads as zero, so short inputs are valid too. Shared with the
/// `publisher` target (`publisher_model.rs`).
pub(crate) struct Input<'a>(pub(crate) &'a [u8]);

impl<'a> Input<'a> {
    pub(crate) fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&byte, rest)) => {
                self.0 = rest;
                byte
            }
            None => 0,
        }
    }

    #[cfg_attr(
        not(feature = "publisher"),
        expect(dead_code, reason = "only the publisher model asks")
    )]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    fn u16(&mut self) -> usize {
        usize::from(u16::from_le_bytes([self.byte(), self.byte()]))
    }

    fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// Small sizes for the decoder's regions, so that fuzzing trips every limit.
const SIZES: [usize; 8] = [0, 1, 2, 3, 5, 8, 16, 300];

fn size(bits: u8) -> usize {
    SIZES[usize::from(bits & 7)]
}

/// Feeds `stream` to `decoder` in chunks of `chunk` bytes (0: whole), and
/// checks after every call that `last_frame` gives the same frame again
/// (and nothing after an error or a used-up chunk).
fn feed_chunked<B: DecodeBuf>(decoder: &mut Decoder<B>, stream: &[u8], chunk: usize) -> Vec<Out> {
    let chunk = if chunk == 0 {
        stream.len().max(1)
    } else {
        chunk
    };
    let mut out = Vec::new();
    for mut input in stream.chunks(chunk) {
        loop {
            let frame = decoder.decode(&mut input).map(Out::from_frame);
            let again = decoder.frame().map(|frame| Out::from_frame(Ok(frame)));
            match frame {
                Some(Out::Error(error)) => {
                    assert_eq!(again, None, "last_frame after an error");
                    out.push(Out::Error(error));
                }
                Some(frame) => {
                    assert_eq!(again.as_ref(), Some(&frame), "last_frame disagrees");
                    out.push(frame);
                }
                None => {
                    assert_eq!(again, None, "last_frame after a used-up chunk");
                    assert!(
                        input.is_empty(),
                        "decode returned None before using up its input"
                    );
                    break;
                }
            }
        }
    }
    out
}

/// `decode`: arbitrary bytes through a decoder of at most 255 bytes with
/// small limits. Input layout: buffer length, two configuration bytes, then
/// the stream.
///
/// - `decode` never panics and uses up its input before returning `None`;
/// - `last_frame` gives back what `decode` just returned;
/// - nothing yielded is larger than the buffer or the limit it was given;
/// - what the decoder yields can be built again as checked fields and
///   encoded (so it cannot carry a line break into an `id` or `event`);
/// - every error is one of the documented, recoverable ones: after a blank
///   line the decoder decodes again, and so it does after `finish`.
pub fn decode(bytes: &[u8]) {
    let mut input = Input(bytes);
    let len = usize::from(input.byte());
    let regions = input.byte();
    let other = input.byte();
    let stream = input.rest();

    let (mut decoder, max_id, max_type, max_comment) = if regions & 0x80 != 0 {
        // The default limits, scaled to the buffer.
        (Decoder::new(vec![0u8; len]), 256, 128, 0)
    } else {
        let (id, event_type, comment) = (size(regions), size(regions >> 3), size(other));
        let mut limits = Limits::new()
            .with_max_id_len(id)
            .with_max_event_type_len(event_type)
            .with_max_comment_len(comment);
        if other & 0x38 != 0 {
            limits = limits.with_max_line_len(size(other >> 3));
        }
        (
            Decoder::with_limits(vec![0u8; len], limits),
            id,
            event_type,
            comment,
        )
    };
    let max_event_len = decoder.max_event_len();
    assert!(max_event_len <= len, "data region larger than the buffer");
    assert_eq!(
        decoder.limits().buffer_len(max_event_len),
        len,
        "the regions do not add up to the buffer"
    );

    let chunk = [0, 1, 7, 64][usize::from(other >> 6)];
    let frames = feed_chunked(&mut decoder, stream, chunk);
    // The same limits in a buffer that starts with no room for data, grows
    // as each event needs and gives it all back after each: the same
    // frames, and the room back where it started after the stream.
    let mut growing =
        Decoder::with_limits(GrowableBuf::new(0, len).with_keep_len(0), decoder.limits());
    let start = growing.buffer_len();
    assert_eq!(growing.max_event_len(), max_event_len);
    assert_eq!(
        feed_chunked(&mut growing, stream, chunk),
        frames,
        "a growable buffer decodes differently"
    );
    growing.finish();
    assert_eq!(
        growing.buffer_len(),
        start,
        "the buffer did not shrink back"
    );
    for frame in &frames {
        match frame {
            Out::Event {
                event_type,
                data,
                id,
            } => {
                assert!(data.len() < max_event_len, "event data over the limit");
                assert!(id.len() <= max_id.min(len), "id over the limit");
                assert!(
                    event_type == b"message" || event_type.len() <= max_type.min(len),
                    "event type over the limit"
                );
                let event_type = EventType::from_bytes(event_type).expect("a decoded type");
                let id = EventId::from_bytes(id).expect("a decoded id");
                let event = Event::from_text(Text::from_bytes(data))
                    .with_type(event_type)
                    .with_id(id);
                let mut wire = vec![0u8; event.encoded_len()];
                assert_eq!(event.encode(&mut wire), Ok(wire.len()));
            }
            Out::Comment(text) => {
                assert!(text.len() <= max_comment.min(len), "comment over the limit");
                assert!(!text.contains(&b'\r') && !text.contains(&b'\n'));
            }
            Out::Retry(_) => {}
            Out::Error(DecodeError::LineTooLong | DecodeError::EventTooLarge) => {}
            Out::Error(other) => panic!("undocumented error {other:?}"),
        }
    }

    // Recovery: a blank line ends whatever was in progress (an event, or the
    // skip after an error), and the next event comes through intact.
    let ok = b"data: ok\n\n";
    let fits = max_event_len >= b"ok\n".len();
    let after = feed(&mut decoder, &[b"\n\n", ok]);
    let last_id = decoder
        .last_event_id()
        .map(|id| id.as_text().as_bytes().to_vec())
        .unwrap_or_default();
    if fits {
        let expected = Out::Event {
            event_type: b"message".to_vec(),
            data: b"ok".to_vec(),
            id: last_id,
        };
        assert_eq!(after.last(), Some(&expected), "no recovery after {after:?}");
    }
    assert!(!decoder.finish(), "the stream ended on a complete event");
    decoder.finish();
    let again = feed(&mut decoder, &[ok]);
    if fits {
        assert!(
            matches!(again.as_slice(), [Out::Event { data, .. }] if data == b"ok"),
            "no recovery after finish: {again:?}"
        );
    }
    assert_eq!(decoder.into_inner().len(), len, "the buffer changed size");
}

/// Limits for the chunking properties: roomy, tight, or tiny.
fn chunk_limits(selector: u8) -> (Limits, usize) {
    match selector % 3 {
        0 => (roomy(), 1 << 12),
        1 => (
            Limits::new()
                .with_max_id_len(3)
                .with_max_event_type_len(4)
                .with_max_comment_len(5)
                .with_max_line_len(12),
            8,
        ),
        _ => (
            Limits::new().with_max_id_len(1).with_max_event_type_len(1),
            2,
        ),
    }
}

/// Everything a decoder says about a stream: its frames and errors, whether
/// `finish` discarded anything, and the last event id.
fn decode_all(limits: Limits, max_event_len: usize, chunks: &[&[u8]]) -> (Vec<Out>, bool, Vec<u8>) {
    let mut decoder = decoder(limits, max_event_len);
    let frames = feed(&mut decoder, chunks);
    let discarded = decoder.finish();
    let last = decoder
        .last_event_id()
        .map(|id| id.as_text().as_bytes().to_vec())
        .unwrap_or_default();
    (frames, discarded, last)
}

/// `decode_chunked`: the same bytes split anywhere give the same frames,
/// errors, `finish` result and last event id as the whole input, also one
/// byte at a time. Input layout: a limits selector, the number of split
/// points (up to 15), each split point as a little-endian `u16` (taken modulo
/// the stream's length plus one), then the stream.
pub fn decode_chunked(bytes: &[u8]) {
    let mut input = Input(bytes);
    let (limits, max_event_len) = chunk_limits(input.byte());
    let count = usize::from(input.byte() & 15);
    let points: Vec<usize> = (0..count).map(|_| input.u16()).collect();
    let stream = input.rest();

    let mut cuts: Vec<usize> = points.iter().map(|p| p % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        chunks.push(&stream[start..cut]);
        start = cut;
    }
    chunks.push(&stream[start..]);

    let whole = decode_all(limits, max_event_len, &[stream]);
    assert_eq!(
        decode_all(limits, max_event_len, &chunks),
        whole,
        "split at {:?}",
        chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
    );
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(
        decode_all(limits, max_event_len, &bytes),
        whole,
        "one byte at a time"
    );
}

/// `differential`: with limits too large to trip, the decoder agrees with
/// the naive decoder written from the spec text (`oracle.rs`), frame for
/// frame (read as a browser reads UTF-8) and on the last event id. The whole
/// input is the stream.
pub fn differential(stream: &[u8]) {
    let n = stream.len();
    let limits = Limits::new()
        .with_max_id_len(n)
        .with_max_event_type_len(n)
        .with_max_comment_len(n);
    let (frames, _, last) = decode_all(limits, n + 1, &[stream]);
    let (expected, expected_last) = oracle::decode(stream);
    let lossy: Vec<Out> = frames.into_iter().map(Out::lossy).collect();
    assert_eq!(lossy, expected, "the oracle disagrees");
    assert_eq!(
        String::from_utf8_lossy(&last),
        expected_last,
        "the oracle's last event id"
    );
}

/// `text` split into lines at CR, LF and CRLF, as the encoder splits it.
fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = vec![Vec::new()];
    let mut bytes = text.iter().peekable();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'\r' | b'\n' => {
                if byte == b'\r' && bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
                lines.push(Vec::new());
            }
            _ => lines.last_mut().expect("never empty").push(byte),
        }
    }
    lines
}

/// Checks that building a field from `value` fails exactly when it should,
/// and returns the value with the offending bytes removed.
fn checked_field(value: &[u8], is_id: bool) -> Vec<u8> {
    let line_break = value.contains(&b'\r') || value.contains(&b'\n');
    let nul = is_id && value.contains(&0);
    let built = if is_id {
        EventId::from_bytes(value).map(|_| ())
    } else {
        EventType::from_bytes(value).map(|_| ())
    };
    let expected = if line_break {
        Err(FieldError::LineBreak)
    } else if nul {
        Err(FieldError::Nul)
    } else {
        Ok(())
    };
    assert_eq!(built, expected, "field {value:?}");
    value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n' && !(is_id && b == 0))
        .collect()
}

/// `roundtrip`: a frame encodes to exactly `encoded_len` bytes, also through
/// the resumable encoder in pieces of any size; a too-small buffer is left
/// untouched and the error names the size needed; and decoding the bytes
/// gives the frame back (line breaks normalised to LF). Field values with a
/// line break (or NUL, in an id) are refused when built, then used without
/// the offending bytes.
///
/// Input layout: a byte choosing the frame kind (event, comment, retry) and
/// whether an event has an id; the encoder's piece size; then for an event
/// the type's length and bytes, the id's length and bytes, and the data
/// (the rest); for a comment its text (the rest); for a retry 8 bytes of
/// milliseconds, little-endian.
pub fn roundtrip(bytes: &[u8]) {
    let mut input = Input(bytes);
    let kind = input.byte();
    let piece = 1 + usize::from(input.byte() % 64);
    let (event_type, id, text, ms);
    let frame = match kind % 3 {
        0 => {
            let type_len = usize::from(input.byte() % 32);
            event_type = checked_field(input.bytes(type_len), false);
            let id_len = usize::from(input.byte() % 32);
            id = checked_field(input.bytes(id_len), true);
            let has_id = kind & 0x80 != 0;
            text = input.rest().to_vec();
            let event = Event::from_text(Text::from_bytes(&text))
                .with_type(EventType::from_bytes(&event_type).expect("checked"))
                .with_id_opt(has_id.then(|| EventId::from_bytes(&id).expect("checked")));
            Frame::Event(event)
        }
        1 => {
            text = input.rest().to_vec();
            Frame::Comment(Text::from_bytes(&text))
        }
        _ => {
            let mut le = [0u8; 8];
            le.iter_mut().for_each(|b| *b = input.byte());
            ms = u64::from_le_bytes(le);
            Frame::Retry(ms)
        }
    };

    // One shot, into a larger buffer: exactly `encoded_len` bytes written.
    let len = frame.encoded_len();
    let mut buf = vec![0xA5u8; len + 3];
    assert_eq!(frame.encode(&mut buf), Ok(len));
    assert_eq!(&buf[len..], [0xA5; 3], "wrote past encoded_len");
    let wire = &buf[..len];

    // Too small: untouched, and the error says how much is needed.
    for short in [0, len / 2, len - 1] {
        let mut small = vec![0x5Au8; short];
        assert_eq!(
            frame.encode(&mut small),
            Err(EncodeError::BufferTooSmall { required: len })
        );
        assert!(
            small.iter().all(|&b| b == 0x5A),
            "a too-small buffer was touched"
        );
    }

    // Resumable, in pieces: the same bytes, and progress on every call.
    let mut encoder = frame.encoder();
    let mut streamed = Vec::with_capacity(len);
    let mut out = vec![0u8; piece];
    while !encoder.is_done() {
        let n = encoder.encode(&mut out);
        assert!(n > 0, "the encoder made no progress");
        streamed.extend_from_slice(&out[..n]);
    }
    assert_eq!(streamed, wire, "the resumable encoder disagrees");

    // Decoded again: the same frame, line breaks normalised.
    let limits = Limits::new()
        .with_max_id_len(len)
        .with_max_event_type_len(len)
        .with_max_comment_len(len);
    let (frames, discarded, _) = decode_all(limits, len, &[wire]);
    assert!(!discarded, "the encoding left an unfinished event");
    let expected = match frame {
        Frame::Event(event) => vec![Out::Event {
            event_type: event.event_type().as_text().as_bytes().to_vec(),
            data: lines(event.data().as_bytes()).join(&b'\n'),
            id: event
                .id()
                .map(|id| id.as_text().as_bytes().to_vec())
                .unwrap_or_default(),
        }],
        Frame::Comment(text) => lines(text.as_bytes())
            .into_iter()
            .map(Out::Comment)
            .collect(),
        Frame::Retry(ms) => vec![Out::Retry(ms)],
    };
    assert_eq!(
        frames,
        expected,
        "decoded from {:?}",
        String::from_utf8_lossy(wire)
    );
}

/// When `SSE_FUZZ_SEEDS` names a directory (the `fuzz/corpus` folder), writes
/// a test vector into each target's corpus there, framed as that target reads
/// its input. The named tests call this for every vector, so the seeds grow
/// with the tests:
///
/// ```sh
/// SSE_FUZZ_SEEDS=$PWD/fuzz/corpus cargo test -p sse-proto --test spec
/// ```
pub fn write_seeds(stream: &[u8]) {
    let Some(root) = std::env::var_os("SSE_FUZZ_SEEDS") else {
        return;
    };
    let root = Path::new(&root);
    let framed = |prefix: &[u8]| [prefix, stream].concat();
    let mid = u16::try_from(stream.len() / 2).unwrap_or(0).to_le_bytes();
    // decode: 64 bytes with tight limits, 255 with comments, 32 by default.
    for prefix in [&[64, 0x1b, 0x23][..], &[255, 0x3f, 0x07], &[32, 0x80, 0x40]] {
        write_seed(root, "decode", &framed(prefix));
    }
    // decode_chunked: roomy and tight limits, split in the middle.
    write_seed(root, "decode_chunked", &framed(&[0, 1, mid[0], mid[1]]));
    write_seed(root, "decode_chunked", &framed(&[1, 1, mid[0], mid[1]]));
    write_seed(root, "differential", stream);
    // roundtrip: every frame the vector decodes to.
    let (frames, _, _) = decode_all(roomy(), 1 << 12, &[stream]);
    for frame in frames {
        let seed = match frame {
            Out::Event {
                event_type,
                data,
                id,
            } => {
                let event_type = if event_type == b"message" {
                    &[][..]
                } else {
                    &event_type
                };
                let mut seed = vec![0x81, 7, event_type.len().min(31) as u8];
                seed.extend(event_type.iter().take(31));
                seed.push(id.len().min(31) as u8);
                seed.extend(id.iter().take(31));
                seed.extend(data);
                seed
            }
            Out::Comment(text) => [&[1, 3][..], &text].concat(),
            Out::Retry(ms) => [&[2, 0][..], &ms.to_le_bytes()].concat(),
            Out::Error(_) => continue,
        };
        write_seed(root, "roundtrip", &seed);
    }
}

/// Writes `bytes` to `root/target/`, named by their FNV-1a hash.
pub fn write_seed(root: &Path, target: &str, bytes: &[u8]) {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = root.join(target);
    std::fs::create_dir_all(&dir).expect("create the corpus folder");
    std::fs::write(dir.join(format!("seed-{hash:016x}")), bytes).expect("write a seed");
}
