//! Properties over generated input (proptest):
//! - any chunking of the same bytes yields the same frames and errors;
//! - the decoder agrees with the naive spec-text oracle;
//! - `decode(encode(e)) == e`, up to newline normalisation;
//! - `encode` writes exactly `encoded_len` bytes, and the resumable encoder
//!   writes the same bytes through buffers of any size.

use proptest::prelude::*;
use sse_proto::{Event, EventId, EventType, Frame, Limits, Text};
use sse_testkit::oracle;
use sse_testkit::vectors::{Out, decoder, feed, roomy};

/// Pieces that make event streams interesting: field names, separators,
/// every kind of line end, BOM bytes, NUL, invalid UTF-8.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(b"data".to_vec()),
        2 => Just(b"event".to_vec()),
        2 => Just(b"id".to_vec()),
        2 => Just(b"retry".to_vec()),
        1 => Just(b"Data".to_vec()),
        1 => Just(b"dat".to_vec()),
        6 => Just(b":".to_vec()),
        4 => Just(b" ".to_vec()),
        5 => Just(b"\n".to_vec()),
        3 => Just(b"\r".to_vec()),
        3 => Just(b"\r\n".to_vec()),
        3 => Just(b"\n\n".to_vec()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        1 => Just(b"\xEF\xBB".to_vec()),
        1 => Just(b"\0".to_vec()),
        1 => Just(b"\xFF".to_vec()),
        1 => Just(b"\xE2\x82".to_vec()),
        2 => "[0-9]{1,3}".prop_map(String::into_bytes),
        3 => "[a-z ]{0,12}".prop_map(String::into_bytes),
        2 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(token(), 0..64).prop_map(|tokens| tokens.concat())
}

/// Splits `input` at the given points (taken modulo its length).
fn split<'a>(input: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&input[start..cut]);
        start = cut;
    }
    chunks.push(&input[start..]);
    chunks
}

fn decode_with(
    limits: Limits,
    max_event_len: usize,
    chunks: &[&[u8]],
) -> (Vec<Out>, bool, Option<Vec<u8>>) {
    let mut decoder = decoder(limits, max_event_len);
    let frames = feed(&mut decoder, chunks);
    let discarded = decoder.finish();
    let last = decoder
        .last_event_id()
        .map(|id| id.as_text().as_bytes().to_vec());
    (frames, discarded, last)
}

/// Limits small enough that generated input trips every one of them.
fn tight() -> Limits {
    Limits::new()
        .with_max_id_len(3)
        .with_max_event_type_len(4)
        .with_max_comment_len(5)
        .with_max_line_len(12)
}

/// The decoded form of an event we encoded: line breaks arrive as LF, and an
/// empty id means no id to the receiver.
fn normalised(data: &str, event_type: &str, id: Option<&str>) -> Out {
    Out::event(
        if event_type.is_empty() {
            "message"
        } else {
            event_type
        },
        &data.replace("\r\n", "\n").replace('\r', "\n"),
        id.unwrap_or_default(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_chunking_gives_the_same_frames(input in stream(), points in prop::collection::vec(any::<usize>(), 0..8)) {
        let chunks = split(&input, &points);
        prop_assert_eq!(decode_with(roomy(), 1 << 12, &chunks), decode_with(roomy(), 1 << 12, &[&input]));
        prop_assert_eq!(decode_with(tight(), 8, &chunks), decode_with(tight(), 8, &[&input]));
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(decode_with(tight(), 8, &bytes), decode_with(tight(), 8, &[&input]));
    }

    #[test]
    fn decoder_agrees_with_the_oracle(input in stream(), points in prop::collection::vec(any::<usize>(), 0..4)) {
        let (frames, _, last) = decode_with(roomy(), 1 << 12, &split(&input, &points));
        let (expected, expected_last) = oracle::decode(&input);
        let lossy: Vec<Out> = frames.into_iter().map(Out::lossy).collect();
        prop_assert_eq!(lossy, expected);
        let last = last.unwrap_or_default();
        prop_assert_eq!(String::from_utf8_lossy(&last), expected_last);
    }

    #[test]
    fn arbitrary_bytes_with_any_buffer_never_panic(input in prop::collection::vec(any::<u8>(), 0..512), len in 0usize..64) {
        let mut decoder = sse_proto::Decoder::new(vec![0u8; len]);
        let frames = feed(&mut decoder, &[&input]);
        for frame in frames {
            if let Out::Event { data, .. } = frame {
                prop_assert!(data.len() < len.max(1));
            }
        }
        decoder.finish();
    }

    #[test]
    fn events_round_trip(data in "(?s).{0,40}", event_type in "[^\r\n]{0,12}", id in proptest::option::of("[^\r\n\0]{0,12}")) {
        let event = Event::new(&data)
            .with_type(EventType::new(&event_type).unwrap())
            .with_id_opt(id.as_deref().map(|id| EventId::new(id).unwrap()));
        let mut wire = vec![0; event.encoded_len()];
        prop_assert_eq!(event.encode(&mut wire), Ok(wire.len()));
        let (frames, discarded, _) = decode_with(roomy(), 1 << 12, &[&wire]);
        prop_assert_eq!(frames, vec![normalised(&data, &event_type, id.as_deref())]);
        prop_assert!(!discarded);
    }

    #[test]
    fn raw_bytes_round_trip(data in prop::collection::vec(any::<u8>(), 0..40)) {
        let event = Event::from_text(Text::from_bytes(&data));
        let mut wire = vec![0; event.encoded_len()];
        event.encode(&mut wire).unwrap();
        let (frames, _, _) = decode_with(roomy(), 1 << 12, &[&wire]);
        let mut expected = data.clone();
        // Line breaks are normalised to LF, byte for byte.
        let mut i = 0;
        let mut out = Vec::new();
        while i < expected.len() {
            match expected[i] {
                b'\r' if expected.get(i + 1) == Some(&b'\n') => { out.push(b'\n'); i += 2; }
                b'\r' => { out.push(b'\n'); i += 1; }
                b => { out.push(b); i += 1; }
            }
        }
        expected = out;
        prop_assert_eq!(frames, vec![Out::Event { event_type: b"message".to_vec(), data: expected, id: Vec::new() }]);
    }

    #[test]
    fn comments_and_retries_round_trip(text in "[^\r\n]{0,20}", ms in any::<u64>()) {
        let mut wire = Vec::new();
        for frame in [Frame::comment(&text), Frame::Retry(ms)] {
            let start = wire.len();
            wire.resize(start + frame.encoded_len(), 0);
            frame.encode(&mut wire[start..]).unwrap();
        }
        let (frames, _, _) = decode_with(roomy(), 1 << 12, &[&wire]);
        prop_assert_eq!(frames, vec![Out::comment(&text), Out::Retry(ms)]);
    }

    #[test]
    fn encoders_agree_through_any_buffer(data in "(?s).{0,200}", comment in "(?s).{0,40}", size in 1usize..40) {
        let frames = [
            Frame::from(Event::new(&data).with_type(EventType::new("t").unwrap()).with_id(EventId::new("1").unwrap())),
            Frame::comment(&comment),
            Frame::Retry(size as u64),
        ];
        for frame in frames {
            let mut one_shot = vec![0; frame.encoded_len()];
            prop_assert_eq!(frame.encode(&mut one_shot), Ok(one_shot.len()));
            let mut encoder = frame.encoder();
            let mut streamed = Vec::new();
            let mut buf = vec![0u8; size];
            while !encoder.is_done() {
                let n = encoder.encode(&mut buf);
                prop_assert!(n > 0);
                streamed.extend_from_slice(&buf[..n]);
            }
            prop_assert_eq!(streamed, one_shot);
        }
    }
}
