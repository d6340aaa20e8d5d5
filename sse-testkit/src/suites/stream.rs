//! `EventStream`: events out of a `Stream` of byte chunks, without the bugs
//! byte-stream decoders are known for (a panic on a split BOM, a stall on
//! invalid UTF-8, quadratic rescans of long lines, a dropped standalone
//! `retry:`). `EventStream` names no runtime, but every runtime runs the
//! suite, as each adapter's tests did.

use std::io;

use bytes::Bytes;
use futures_lite::{StreamExt, stream};
use http_body_util::{BodyDataStream, Full};
use sse_hyper::{Error, EventStream};
use sse_proto::{Decoder, Frame, FrameBuf, Limits};

use crate::rt::TestRuntime;

type Chunk = Result<Vec<u8>, io::Error>;

fn body(chunks: &[&[u8]]) -> impl futures_lite::Stream<Item = Chunk> + Unpin + use<> {
    let chunks: Vec<Chunk> = chunks.iter().map(|chunk| Ok(chunk.to_vec())).collect();
    stream::iter(chunks)
}

fn show(frame: Result<FrameBuf, Error>) -> String {
    match frame {
        Ok(FrameBuf::Event(event)) => format!("{:?} {:?}", event.id(), event.data()),
        Ok(FrameBuf::Retry(ms)) => format!("retry {ms}"),
        Ok(FrameBuf::Comment(text)) => format!("comment {text}"),
        Err(error) => format!("error {error}"),
    }
}

async fn collect(stream: impl futures_lite::Stream<Item = Chunk> + Unpin) -> Vec<String> {
    EventStream::new(stream).map(show).collect().await
}

pub async fn a_bom_split_across_chunks_is_stripped_once<R: TestRuntime>() {
    let frames = collect(body(&[
        b"\xEF",
        b"\xBB",
        b"\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n",
    ]))
    .await;
    // Only the first BOM is stripped; the second starts an unknown field.
    assert_eq!(frames, [r#"None "a""#]);
    // A stream that is nothing but part of a BOM ends quietly.
    assert!(collect(body(&[b"\xEF", b"\xBB"])).await.is_empty());
}

pub async fn invalid_utf8_never_stalls_the_stream<R: TestRuntime>() {
    let frames = collect(body(&[
        b"data: a\xFF",
        b"b\n\ndata: \xE2\x82",
        b"\xAC\n\n",
        b"data: \xE2\x82\n\ndata: next\n\n",
    ]))
    .await;
    let expected = ["a\u{FFFD}b", "€", "\u{FFFD}", "next"].map(|data| format!("None {data:?}"));
    assert_eq!(frames, expected);
}

pub async fn a_long_line_in_small_chunks_is_not_scanned_again_per_chunk<R: TestRuntime>() {
    // 1 MiB of data in 64-byte chunks: a decoder that rescans its buffer
    // for a line end on each chunk would scan about 8 GiB.
    let line = format!("data: {}\n\n", "x".repeat((1 << 20) - 64));
    let chunks: Vec<Chunk> = line.as_bytes().chunks(64).map(|c| Ok(c.to_vec())).collect();
    let mut events = EventStream::new(stream::iter(chunks));
    let Some(Ok(Frame::Event(event))) = events.next_event().await else {
        panic!("expected the event");
    };
    assert_eq!(event.data().len(), (1 << 20) - 64);
    assert!(events.next_event().await.is_none());
}

pub async fn a_standalone_retry_is_yielded<R: TestRuntime>() {
    let frames = collect(body(&[b"retry: 1500\n\n", b"retry: x\n\ndata: a\n\n"])).await;
    assert_eq!(frames, ["retry 1500", r#"None "a""#]);
}

pub async fn a_body_error_ends_the_stream_and_drops_the_unfinished_event<R: TestRuntime>() {
    let chunks: Vec<Chunk> = vec![
        Ok(b"id: 1\ndata: a\n\ndata: unfini".to_vec()),
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
        Ok(b"shed\n\n".to_vec()),
    ];
    let mut events = EventStream::new(stream::iter(chunks));
    assert!(matches!(events.next().await, Some(Ok(FrameBuf::Event(_)))));
    let Some(Err(Error::Body(error))) = events.next().await else {
        panic!("expected the body error");
    };
    let io = error
        .downcast_ref::<io::Error>()
        .expect("the body's own error");
    assert_eq!(io.kind(), io::ErrorKind::ConnectionReset);
    assert!(events.next().await.is_none());
    assert_eq!(events.last_event_id().unwrap().as_text(), "1");
}

pub async fn oversized_events_are_errors_and_decoding_goes_on<R: TestRuntime>() {
    let decoder = Decoder::with_capacity(8, Limits::new());
    let events = EventStream::with_decoder(body(&[b"data: far too long\n\ndata: ok\n\n"]), decoder);
    let frames: Vec<String> = events.map(show).collect().await;
    assert_eq!(frames.len(), 2);
    assert!(
        frames[0].starts_with("error event data larger"),
        "{}",
        frames[0]
    );
    assert_eq!(frames[1], r#"None "ok""#);
}

pub async fn reads_a_hyper_body<R: TestRuntime>() {
    let body = Full::new(Bytes::from_static(b"data: from hyper\n\n"));
    let frames: Vec<String> = EventStream::new(BodyDataStream::new(body))
        .map(show)
        .collect()
        .await;
    assert_eq!(frames, [r#"None "from hyper""#]);
}
