//! The encoder: the exact bytes it writes, its refusals, and streaming a
//! large frame through a small buffer.

use sse_proto::{EncodeError, Event, EventId, EventType, FieldError, Frame, Text};
use sse_testkit::vectors::{Out, decode_chunks};

fn encode(frame: impl Into<Frame<'static>>) -> Vec<u8> {
    let frame = frame.into();
    let mut buf = vec![0u8; frame.encoded_len()];
    let n = frame.encode(&mut buf).expect("buffer of encoded_len bytes");
    assert_eq!(n, buf.len());
    buf
}

macro_rules! encodes {
    ($($name:ident: $frame:expr => $wire:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_eq!(String::from_utf8_lossy(&encode($frame)), String::from_utf8_lossy($wire));
            }
        )*
    };
}

encodes! {
    message_event: Event::new("hello") => b"data: hello\n\n";
    empty_data: Event::new("") => b"data: \n\n";
    lf_splits_data: Event::new("a\nb") => b"data: a\ndata: b\n\n";
    crlf_splits_data_once: Event::new("a\r\nb") => b"data: a\ndata: b\n\n";
    lone_cr_splits_data: Event::new("a\rb") => b"data: a\ndata: b\n\n";
    cr_cr_lf_is_two_breaks: Event::new("a\r\r\nb") => b"data: a\ndata: \ndata: b\n\n";
    trailing_newline_is_an_empty_line: Event::new("a\n") => b"data: a\ndata: \n\n";
    leading_space_survives: Event::new(" a") => b"data:  a\n\n";
    typed_event: Event::new("1").with_type(EventType::new("add").unwrap()) => b"event: add\ndata: 1\n\n";
    message_type_is_not_written: Event::new("1").with_type(EventType::new("message").unwrap()) => b"data: 1\n\n";
    event_with_id: Event::new("1").with_id(EventId::new("42").unwrap()) => b"id: 42\ndata: 1\n\n";
    empty_id_resets: Event::new("1").with_id(EventId::new("").unwrap()) => b"id: \ndata: 1\n\n";
    all_fields: Event::new("x").with_type(EventType::new("t").unwrap()).with_id(EventId::new("i").unwrap())
        => b"event: t\nid: i\ndata: x\n\n";
    comment: Frame::comment("keep-alive") => b": keep-alive\n";
    empty_comment: Frame::comment("") => b": \n";
    multi_line_comment: Frame::comment("a\nb\r\nc") => b": a\n: b\n: c\n";
    retry: Frame::Retry(3000) => b"retry: 3000\n";
    retry_zero: Frame::Retry(0) => b"retry: 0\n";
    retry_max: Frame::Retry(u64::MAX) => b"retry: 18446744073709551615\n";
    raw_bytes_pass_through: Event::from_text(Text::from_bytes(b"\xFF\xFE")) => b"data: \xFF\xFE\n\n";
}

/// Field values that would inject fields are refused when built.
#[test]
fn injection_is_refused_when_fields_are_built() {
    assert_eq!(
        EventType::new("a\ndata: injected"),
        Err(FieldError::LineBreak)
    );
    assert_eq!(EventType::new("a\r"), Err(FieldError::LineBreak));
    assert_eq!(EventId::new("1\nretry: 1"), Err(FieldError::LineBreak));
    assert_eq!(EventId::new("1\r"), Err(FieldError::LineBreak));
    assert_eq!(EventId::new("1\0"), Err(FieldError::Nul));
    assert_eq!(
        EventId::from_bytes(b"\xFF"),
        Ok(EventId::from_bytes(b"\xFF").unwrap())
    );
    assert!(FieldError::LineBreak.to_string().contains("line break"));
    assert!(FieldError::Nul.to_string().contains("NUL"));
}

/// Short values are checked a word at a time and long ones by a search:
/// both find a forbidden byte wherever it is, next to bytes of any value,
/// and a line break is reported before a NUL.
#[test]
fn forbidden_bytes_are_found_at_every_position_of_short_and_long_values() {
    let lens = (1..=40).chain([63, 64, 65, 300]);
    let fillers = [b'x', 0x01, 0x0B, 0x0C, 0x0E, 0x80, 0x8A, 0x8D, 0xFF];
    for (len, filler) in lens.flat_map(|len| fillers.map(|filler| (len, filler))) {
        for at in 0..len {
            for (byte, error) in [
                (b'\r', FieldError::LineBreak),
                (b'\n', FieldError::LineBreak),
                (0, FieldError::Nul),
            ] {
                let mut value = vec![filler; len];
                value[at] = byte;
                assert_eq!(EventId::from_bytes(&value), Err(error), "{len} {at} {byte}");
                let as_type = EventType::from_bytes(&value).map(|_| ());
                let expected = if byte == 0 { Ok(()) } else { Err(error) };
                assert_eq!(as_type, expected, "{len} {at} {byte}");
                // A NUL before a line break: the line break is reported.
                if at + 1 < len && byte == 0 {
                    value[at + 1] = b'\n';
                    assert_eq!(EventId::from_bytes(&value), Err(FieldError::LineBreak));
                }
            }
        }
        assert!(EventId::from_bytes(&vec![filler; len]).is_ok());
    }
}

/// Data with line breaks cannot inject fields either: each line is data.
#[test]
fn data_cannot_inject_fields() {
    let wire = encode(Event::new("x\n\nevent: evil\nid: 666\nretry: 1\n\ndata: y"));
    let (frames, last_id) = decode_chunks(&[&wire]);
    assert_eq!(
        frames,
        [Out::data("x\n\nevent: evil\nid: 666\nretry: 1\n\ndata: y")]
    );
    assert!(last_id.is_empty());
}

#[test]
fn too_small_buffer_is_untouched_and_says_what_it_needs() {
    let frame = Frame::from(Event::new("hello").with_id(EventId::new("1").unwrap()));
    let required = frame.encoded_len();
    for len in 0..required {
        let mut buf = vec![0xAA; len];
        assert_eq!(
            frame.encode(&mut buf),
            Err(EncodeError::BufferTooSmall { required })
        );
        assert!(
            buf.iter().all(|&b| b == 0xAA),
            "buffer of {len} was touched"
        );
    }
    let mut larger = vec![0xAA; required + 3];
    assert_eq!(frame.encode(&mut larger), Ok(required));
    assert_eq!(
        &larger[required..],
        [0xAA; 3],
        "bytes past the frame were touched"
    );
    assert!(
        EncodeError::BufferTooSmall { required: 9 }
            .to_string()
            .contains('9')
    );
}

/// A 64 KiB event with line breaks, streamed through a 256-byte buffer, comes
/// out byte for byte as the one-shot encoding.
#[test]
fn large_event_streams_through_a_small_buffer() {
    let data: String = (0..64 * 1024)
        .map(|i| {
            if i % 1000 == 999 {
                '\n'
            } else {
                char::from(b'a' + (i % 26) as u8)
            }
        })
        .collect();
    let event = Event::new(&data)
        .with_type(EventType::new("big").unwrap())
        .with_id(EventId::new("7").unwrap());
    let frame = Frame::from(event);
    let mut one_shot = vec![0; frame.encoded_len()];
    frame.encode(&mut one_shot).unwrap();

    let mut encoder = frame.encoder();
    let mut streamed = Vec::new();
    let mut buf = [0u8; 256];
    while !encoder.is_done() {
        let n = encoder.encode(&mut buf);
        assert!(n > 0, "no progress before the frame was done");
        streamed.extend_from_slice(&buf[..n]);
    }
    assert_eq!(streamed, one_shot);
    assert_eq!(
        encoder.encode(&mut buf),
        0,
        "a finished encoder writes nothing"
    );

    let mut decoder = sse_testkit::vectors::decoder(sse_testkit::vectors::roomy(), 1 << 17);
    let frames = sse_testkit::vectors::feed(&mut decoder, &[&streamed]);
    assert!(
        frames == [Out::event("big", &data, "7")],
        "the streamed event does not decode back"
    );
}

/// An empty output buffer makes no progress and loses nothing.
#[test]
fn empty_output_buffer_writes_nothing() {
    let mut encoder = Frame::comment("x").encoder();
    assert_eq!(encoder.encode(&mut []), 0);
    assert!(!encoder.is_done());
    let mut buf = [0u8; 8];
    let n = encoder.encode(&mut buf);
    assert_eq!(&buf[..n], b": x\n");
    assert!(encoder.is_done());
}
