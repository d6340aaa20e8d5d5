//! Decoding test vectors: frames as owned values ([`Out`]), a roomy
//! decoder, and [`check`], which feeds a vector whole, split at every point
//! and one byte at a time, and asks the [`oracle`] too.

use sse_proto::{DecodeError, Decoder, Frame, Limits};

use crate::{fuzz_props, oracle};

/// A decoded frame, owned, as the tests compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// An event.
    Event {
        /// Its type (`message` unless the stream named another).
        event_type: Vec<u8>,
        /// Its data.
        data: Vec<u8>,
        /// Its id, empty for none.
        id: Vec<u8>,
    },
    /// A comment, without the colon and the one space after it.
    Comment(Vec<u8>),
    /// A `retry:` value in milliseconds.
    Retry(u64),
    /// An error the decoder reported.
    Error(DecodeError),
}

impl Out {
    /// An event of `event_type` with `data` and `id` (empty for none).
    pub fn event(event_type: &str, data: &str, id: &str) -> Self {
        Self::Event {
            event_type: event_type.into(),
            data: data.into(),
            id: id.into(),
        }
    }

    /// A `message` event without an id.
    pub fn data(data: &str) -> Self {
        Self::event("message", data, "")
    }

    /// A comment.
    pub fn comment(text: &str) -> Self {
        Self::Comment(text.into())
    }

    pub(crate) fn from_frame(frame: Result<Frame<'_>, DecodeError>) -> Self {
        match frame {
            Ok(Frame::Event(event)) => Self::Event {
                event_type: event.event_type().as_text().as_bytes().to_vec(),
                data: event.data().as_bytes().to_vec(),
                id: event
                    .id()
                    .map(|id| id.as_text().as_bytes().to_vec())
                    .unwrap_or_default(),
            },
            Ok(Frame::Comment(text)) => Self::Comment(text.as_bytes().to_vec()),
            Ok(Frame::Retry(ms)) => Self::Retry(ms),
            Err(error) => Self::Error(error),
        }
    }

    /// The browser's reading of this frame: invalid UTF-8 becomes U+FFFD.
    pub fn lossy(self) -> Self {
        let lossy = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned().into_bytes();
        match self {
            Self::Event {
                event_type,
                data,
                id,
            } => Self::Event {
                event_type: lossy(event_type),
                data: lossy(data),
                id: lossy(id),
            },
            Self::Comment(text) => Self::Comment(lossy(text)),
            other => other,
        }
    }
}

/// Limits roomy enough for every vector, with comments reported.
pub fn roomy() -> Limits {
    Limits::new()
        .with_max_id_len(4096)
        .with_max_event_type_len(4096)
        .with_max_comment_len(4096)
}

/// A heap-backed decoder for tests.
pub fn decoder(limits: Limits, max_event_len: usize) -> Decoder<Vec<u8>> {
    Decoder::with_limits(vec![0; limits.buffer_len(max_event_len)], limits)
}

/// Feeds `chunks` to `decoder` and collects every frame and error.
pub fn feed<B: sse_proto::DecodeBuf>(decoder: &mut Decoder<B>, chunks: &[&[u8]]) -> Vec<Out> {
    let mut out = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        while let Some(frame) = decoder.decode(&mut input) {
            out.push(Out::from_frame(frame));
        }
        assert!(
            input.is_empty(),
            "decode returned None before using up its input"
        );
    }
    out
}

/// Decodes a whole stream given as `chunks` with roomy limits; returns the
/// frames and the last event id after `finish`.
pub fn decode_chunks(chunks: &[&[u8]]) -> (Vec<Out>, Vec<u8>) {
    let mut decoder = decoder(roomy(), 1 << 16);
    let out = feed(&mut decoder, chunks);
    decoder.finish();
    let last = decoder
        .last_event_id()
        .map(|id| id.as_text().as_bytes().to_vec())
        .unwrap_or_default();
    (out, last)
}

/// Checks that `input` decodes to `expected` whole, split in two at every
/// point, and one byte at a time; and that the oracle agrees. Writes the
/// vector into the fuzz corpora when asked to (see `fuzz_props::write_seeds`).
pub fn check(input: &[u8], expected: &[Out]) {
    fuzz_props::write_seeds(input);
    let (whole, last_id) = decode_chunks(&[input]);
    assert_eq!(
        whole,
        expected,
        "whole input {:?}",
        String::from_utf8_lossy(input)
    );
    for split in 0..=input.len() {
        let (head, tail) = input.split_at(split);
        assert_eq!(
            decode_chunks(&[head, tail]),
            (whole.clone(), last_id.clone()),
            "split at {split}"
        );
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        decode_chunks(&bytes),
        (whole.clone(), last_id.clone()),
        "one byte at a time"
    );

    let (oracle, oracle_last) = oracle::decode(input);
    let lossy: Vec<Out> = whole.into_iter().map(Out::lossy).collect();
    assert_eq!(lossy, oracle, "oracle disagrees");
    assert_eq!(
        String::from_utf8_lossy(&last_id),
        oracle_last,
        "oracle's last event id"
    );
}
