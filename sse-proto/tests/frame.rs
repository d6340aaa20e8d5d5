//! `Decoder::frame`: the frame `feed` (or `decode`) just readied, again, so
//! that drivers looping over chunks can return it borrowed.

use sse_proto::{Client, ClientConfig, DecodeError, Decoder, EventId, Frame, Limits};

/// A stream with every kind of frame, and an error in the middle.
const STREAM: &[u8] =
    b": hi\nid: 1\nevent: e\ndata: a\n\nretry: 40\ndata: longer than the sixteen bytes allowed\n\ndata: b\n\n";

fn decoder() -> Decoder<Vec<u8>> {
    let limits = Limits::new().with_max_comment_len(16);
    Decoder::with_limits(vec![0; limits.buffer_len(16)], limits)
}

#[test]
fn repeats_every_frame_decode_returned_whatever_the_chunking() {
    for size in [1, 2, 3, 7, STREAM.len()] {
        let mut decoder = decoder();
        let mut seen = Vec::new();
        for mut chunk in STREAM.chunks(size) {
            while let Some(result) = decoder.decode(&mut chunk) {
                let again = result.map(|frame| format!("{frame:?}"));
                let last = decoder.frame().map(|frame| format!("{frame:?}"));
                match again {
                    Ok(frame) => assert_eq!(last, Some(frame)),
                    Err(error) => {
                        assert_eq!(error, DecodeError::EventTooLarge);
                        assert_eq!(last, None);
                    }
                }
                seen.push(decoder.frame().is_some());
            }
            // Used up without a frame: nothing to repeat.
            assert_eq!(decoder.frame(), None, "size {size}");
        }
        assert_eq!(seen, [true, true, true, false, true], "size {size}");
    }
}

#[test]
fn is_none_before_decoding_and_after_the_decoder_changes() {
    let mut decoder = decoder();
    assert_eq!(decoder.frame(), None);

    let mut input: &[u8] = b"data: a\n\n";
    assert!(decoder.decode(&mut input).is_some());
    assert!(matches!(decoder.frame(), Some(Frame::Event(_))));
    decoder
        .set_last_event_id(Some(EventId::new("9").unwrap()))
        .unwrap();
    assert_eq!(decoder.frame(), None);

    let mut input: &[u8] = b"retry: 5\n";
    assert!(decoder.decode(&mut input).is_some());
    assert_eq!(decoder.frame(), Some(Frame::Retry(5)));
    decoder.finish();
    assert_eq!(decoder.frame(), None);
}

#[test]
fn works_through_the_client() {
    use sse_proto::{Action, Instant, ResponseHead, Verdict};

    let now = Instant::from_millis(0);
    let mut client = Client::new(decoder(), ClientConfig::new(), 1);
    assert_eq!(client.poll(now), Action::Connect);
    let head = ResponseHead {
        status: 200,
        content_type: Some(b"text/event-stream"),
        ..ResponseHead::default()
    };
    assert_eq!(client.handle_response(now, &head), Verdict::Open);
    let mut body: &[u8] = b"retry: 7\n";
    assert_eq!(client.handle_body(now, &mut body), Ok(true));
    assert_eq!(client.decoder().frame(), Some(Frame::Retry(7)));
    assert_eq!(client.frame(), Some(Frame::Retry(7)));
}
