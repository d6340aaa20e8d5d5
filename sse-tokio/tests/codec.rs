//! `EventCodec`: the decoder as `tokio_util` frames it, and the encoder.

use bytes::BytesMut;
use futures_lite::StreamExt;
use sse_proto::{DecodeError, Decoder, Event, EventBuf, EventId, Frame, FrameBuf, Limits, Text};
use sse_tokio::EventCodec;
use tokio_util::codec::{Decoder as _, Encoder as _, FramedRead};

const STREAM: &[u8] =
    b"\xEF\xBB\xBFretry: 10\r\n\r\nid: 1\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\r";

fn show(frame: Result<FrameBuf, DecodeError>) -> String {
    match frame {
        Ok(FrameBuf::Event(event)) => format!("{:?} {:?}", event.id(), event.data()),
        Ok(other) => format!("{other:?}"),
        Err(error) => format!("{error:?}"),
    }
}

fn run<F: Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(test)
}

/// Feeds `chunks` the way `FramedRead` does: appended to one buffer,
/// decoded until `None`, then `decode_eof` at the end.
fn decode_chunks(codec: &mut EventCodec, chunks: &[&[u8]]) -> Vec<String> {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            frames.push(show(frame));
        }
        assert!(buf.is_empty(), "the codec consumes every byte it is given");
    }
    while let Some(frame) = codec.decode_eof(&mut buf).unwrap() {
        frames.push(show(frame));
    }
    frames
}

#[test]
fn decodes_the_same_frames_at_every_split() {
    let expected = ["Retry(10)", r#"Some("1") "a\nb""#, r#"Some("1") "c""#];
    for at in 0..=STREAM.len() {
        let (a, b) = STREAM.split_at(at);
        assert_eq!(
            decode_chunks(&mut EventCodec::new(), &[a, b]),
            expected,
            "split at {at}"
        );
    }
    let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
    assert_eq!(decode_chunks(&mut EventCodec::new(), &bytes), expected);
}

#[test]
fn the_unfinished_event_is_dropped_at_the_end() {
    let frames = decode_chunks(&mut EventCodec::new(), &[b"data: a\n\ndata: unfinished"]);
    assert_eq!(frames, [r#"None "a""#]);
}

#[test]
fn framed_read_goes_on_after_an_oversized_event() {
    run(async {
        let input: &[u8] = b"data: far too long\n\ndata: ok\n\n";
        let codec = EventCodec::with_decoder(Decoder::with_capacity(8, Limits::new()));
        let frames: Vec<String> = FramedRead::new(input, codec)
            .map(|frame| show(frame.expect("no I/O error")))
            .collect()
            .await;
        assert_eq!(frames, ["EventTooLarge", r#"None "ok""#]);
    });
}

#[test]
fn encodes_events_owned_events_comments_and_retry() {
    let mut codec = EventCodec::new();
    let mut buf = BytesMut::new();
    codec
        .encode(
            Event::new("a\nb").with_id(EventId::new("1").unwrap()),
            &mut buf,
        )
        .unwrap();
    codec.encode(&EventBuf::new("owned"), &mut buf).unwrap();
    codec
        .encode(Frame::Comment(Text::new("ping")), &mut buf)
        .unwrap();
    codec.encode(&FrameBuf::Retry(250), &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        b"id: 1\ndata: a\ndata: b\n\ndata: owned\n\n: ping\nretry: 250\n"
    );
}
