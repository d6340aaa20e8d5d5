//! `EventReader` and `EventWriter` behaviour, on every runtime.

use std::io;
use std::time::Duration;

use futures_lite::StreamExt;
use sse_hyper::{Error, EventReader, EventWriter};
use sse_proto::{
    Decoder, Event, EventBuf, EventId, EventType, Frame, FrameBuf, GrowableBuf, Limits,
};

use crate::rt::TestRuntime;
use crate::scripted::scripted;
use crate::scripted_server::{self, Step};

/// A reader of scripted chunks on `R`.
type ScriptedReader<R> = EventReader<<R as TestRuntime>::Scripted, <R as TestRuntime>::Rt>;

/// A writer into memory on `R`.
type VecWriter<R> = EventWriter<Vec<u8>, <R as TestRuntime>::Rt>;

/// A reader of `chunks`, one per read, on `R`.
fn script<R: TestRuntime>(chunks: Vec<io::Result<Vec<u8>>>) -> R::Scripted {
    R::scripted(scripted(chunks))
}

// --- Helpers -------------------------------------------------------------

fn show_frame(frame: Result<Frame<'_>, Error>) -> String {
    match frame {
        Ok(Frame::Event(event)) => format!(
            "event {} {:?} {:?}",
            event.event_type(),
            event.id().map(|id| id.to_string()),
            event.data().to_string()
        ),
        Ok(Frame::Comment(text)) => format!("comment {text}"),
        Ok(Frame::Retry(ms)) => format!("retry {ms}"),
        Err(error) => show_error(&error),
    }
}

fn show_owned(frame: Result<FrameBuf, Error>) -> String {
    match frame {
        Ok(frame) => show_frame(Ok(frame.as_frame())),
        Err(error) => show_error(&error),
    }
}

fn show_error(error: &Error) -> String {
    match error {
        Error::Io(error) => format!("io error {:?}", error.kind()),
        Error::Decode(error) => format!("decode error {error:?}"),
        other => format!("error {other}"),
    }
}

/// `input` whole, one byte at a time, and split in two at every point.
fn splits(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut all = vec![
        vec![input.to_vec()],
        input.chunks(1).map(<[u8]>::to_vec).collect(),
    ];
    for at in 1..input.len() {
        let (a, b) = input.split_at(at);
        all.push(vec![a.to_vec(), b.to_vec()]);
    }
    all
}

fn chunks(chunks: &[&[u8]]) -> Vec<io::Result<Vec<u8>>> {
    chunks.iter().map(|chunk| Ok(chunk.to_vec())).collect()
}

// --- EventReader and EventWriter ----------------------------------------

/// Every rule that chunking could break: a BOM, CRLF and lone CR line
/// ends, comments, a standalone `retry:`, a multi-line event, an `id`
/// reset.
const STREAM: &[u8] = b"\xEF\xBB\xBF: hello\r\nretry: 100\r\n\r\nid: 1\r\nevent: greet\r\n\
data: hello\r\ndata: world\r\n\r\ndata: no id\rid\r\r: bye\ndata: last\n\n";

fn stream_frames() -> Vec<String> {
    [
        "comment hello",
        "retry 100",
        r#"event greet Some("1") "hello\nworld""#,
        r#"event message None "no id""#,
        "comment bye",
        r#"event message None "last""#,
    ]
    .map(String::from)
    .to_vec()
}

fn commenting_decoder() -> Decoder<GrowableBuf> {
    Decoder::with_capacity(1024, Limits::new().with_max_comment_len(64))
}

pub async fn reader_yields_the_same_frames_however_the_input_is_split<R: TestRuntime>() {
    for split in splits(STREAM) {
        let input = split.iter().cloned().map(Ok).collect();
        let mut reader =
            ScriptedReader::<R>::with_decoder(script::<R>(input), commenting_decoder());
        let mut borrowed = Vec::new();
        while let Some(frame) = reader.next_event().await {
            borrowed.push(show_frame(frame));
        }
        assert_eq!(borrowed, stream_frames(), "{split:?}");
        assert_eq!(reader.last_event_id(), None);

        let input = split.iter().cloned().map(Ok).collect();
        let reader = ScriptedReader::<R>::with_decoder(script::<R>(input), commenting_decoder());
        let owned: Vec<String> = reader.map(show_owned).collect().await;
        assert_eq!(owned, stream_frames(), "{split:?}");
    }
}

pub async fn reader_reads_whole_events_from_a_socket_written_a_byte_at_a_time<R: TestRuntime>() {
    let addr = scripted_server::raw(vec![Step::Trickle(STREAM.to_vec())]);
    let socket = R::connect(addr).await.expect("connect");
    let reader = EventReader::<_, R::Rt>::with_decoder(socket, commenting_decoder());
    let frames: Vec<String> = reader.map(show_owned).collect().await;
    assert_eq!(frames, stream_frames());
}

pub async fn reader_reports_an_oversized_event_and_goes_on<R: TestRuntime>() {
    let input = chunks(&[b"data: short\n\ndata: this one is too long\n\nid: 2\ndata: ok\n\n"]);
    let decoder = Decoder::with_capacity(16, Limits::new());
    let reader = ScriptedReader::<R>::with_decoder(script::<R>(input), decoder);
    let frames: Vec<String> = reader.map(show_owned).collect().await;
    assert_eq!(
        frames,
        [
            r#"event message None "short""#,
            "decode error EventTooLarge",
            r#"event message Some("2") "ok""#,
        ]
    );
}

pub async fn reader_ends_after_an_io_error_and_drops_the_unfinished_event<R: TestRuntime>() {
    let mut input = chunks(&[b"data: one\n\ndata: unfini"]);
    input.push(Err(io::ErrorKind::ConnectionReset.into()));
    input.push(Ok(b"shed\n\n".to_vec()));
    let mut reader = ScriptedReader::<R>::new(script::<R>(input));
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_event().await {
        frames.push(show_frame(frame));
    }
    assert_eq!(
        frames,
        [r#"event message None "one""#, "io error ConnectionReset"]
    );
    assert!(reader.next_event().await.is_none());
}

pub async fn writer_output_reads_back_as_the_same_frames<R: TestRuntime>() {
    let mut writer = VecWriter::<R>::new(Vec::new());
    let event = Event::new("line one\nline two")
        .with_type(EventType::new("update").unwrap())
        .with_id(EventId::new("7").unwrap());
    writer.send(event).await.unwrap();
    writer.comment("keep-alive").await.unwrap();
    writer.retry(Duration::from_millis(2500)).await.unwrap();
    let owned = EventBuf::new("owned").with_id("8").unwrap();
    writer.send(&owned).await.unwrap();
    writer.send(&FrameBuf::Retry(1)).await.unwrap();
    writer.flush().await.unwrap();
    let bytes = writer.into_inner();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        "event: update\nid: 7\ndata: line one\ndata: line two\n\n: keep-alive\n\
         retry: 2500\nid: 8\ndata: owned\n\nretry: 1\n"
    );

    let reader =
        ScriptedReader::<R>::with_decoder(script::<R>(chunks(&[&bytes])), commenting_decoder());
    let frames: Vec<String> = reader.map(show_owned).collect().await;
    assert_eq!(
        frames,
        [
            r#"event update Some("7") "line one\nline two""#,
            "comment keep-alive",
            "retry 2500",
            r#"event message Some("8") "owned""#,
            "retry 1",
        ]
    );
}

pub fn readers_writers_and_their_futures_are_send<R: TestRuntime>() {
    fn send<T: Send>(_: &T) {}
    let mut reader = ScriptedReader::<R>::new(script::<R>(Vec::new()));
    send(&reader.next_event());
    send(&reader);
    let mut writer = VecWriter::<R>::new(Vec::new());
    send(&writer.send(Event::new("x")));
    send(&writer);
}

pub async fn writer_streams_an_event_larger_than_its_buffer<R: TestRuntime>() {
    let data = "0123456789\n".repeat(10_000);
    let mut writer = VecWriter::<R>::new(Vec::new());
    writer.send(Event::new(&data)).await.unwrap();
    let bytes = writer.into_inner();
    assert_eq!(bytes.len(), Event::new(&data).encoded_len());

    let mut reader = ScriptedReader::<R>::new(script::<R>(chunks(&[&bytes])));
    let Some(Ok(Frame::Event(event))) = reader.next_event().await else {
        panic!("expected the event");
    };
    assert_eq!(event.data(), &*data);
}
