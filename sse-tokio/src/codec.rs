//! [`EventCodec`]: `text/event-stream` as a `tokio_util::codec` pair.

use std::io;

use bytes::{Buf, BytesMut};
use sse_proto::{DecodeError, Decoder, Frame, FrameBuf, GrowableBuf};

use sse_hyper::default_decoder;

/// A [`tokio_util::codec`] decoder and encoder for `text/event-stream`, for
/// use with `FramedRead`, `FramedWrite` and `Framed`.
///
/// Decoding yields owned frames, each wrapped in a `Result`: an event over
/// the decoder's limits is an `Err(DecodeError)` item, and the stream goes
/// on. (A codec error would end a `FramedRead` stream, so it is kept for
/// I/O errors.) Every byte handed to the codec is consumed at once, so
/// `FramedRead`'s buffer never grows past one read. At the end of the input
/// the unfinished event is dropped, as the spec says.
///
/// Encoding takes anything that converts into a [`Frame`]: an
/// [`Event`](sse_proto::Event), a `Frame`, or a reference to an
/// [`EventBuf`](sse_proto::EventBuf) or [`FrameBuf`].
///
/// [`EventReader`](crate::EventReader) does the same reading without an
/// allocation per event; prefer it unless you need a codec.
///
/// ```
/// use futures_lite::StreamExt;
/// use sse_proto::FrameBuf;
/// use sse_tokio::EventCodec;
/// use tokio_util::codec::FramedRead;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let input: &[u8] = b"data: one\n\nretry: 10\n";
/// let frames: Vec<_> = FramedRead::new(input, EventCodec::new()).try_collect().await?;
/// assert!(matches!(&frames[0], Ok(FrameBuf::Event(event)) if event.data() == "one"));
/// assert_eq!(frames[1], Ok(FrameBuf::Retry(10)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct EventCodec {
    decoder: Decoder<GrowableBuf>,
}

impl EventCodec {
    /// A codec whose decoder has the default limits: events of up to
    /// [`DEFAULT_MAX_EVENT_LEN`](sse_proto::DEFAULT_MAX_EVENT_LEN) (16 MiB)
    /// of data, in a buffer that grows only as events need; ids up to 256
    /// bytes, event types up to 128, comments not reported.
    pub fn new() -> Self {
        Self::with_decoder(default_decoder())
    }

    /// A codec that decodes with `decoder`.
    pub fn with_decoder(decoder: Decoder<GrowableBuf>) -> Self {
        Self { decoder }
    }

    /// The decoder, for its limits and last event id.
    pub fn decoder(&self) -> &Decoder<GrowableBuf> {
        &self.decoder
    }
}

impl Default for EventCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl tokio_util::codec::Decoder for EventCodec {
    type Item = Result<FrameBuf, DecodeError>;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, io::Error> {
        let mut input = &src[..];
        let frame = self
            .decoder
            .decode(&mut input)
            .map(|frame| frame.map(FrameBuf::from));
        let used = src.len() - input.len();
        src.advance(used);
        Ok(frame)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, io::Error> {
        let frame = self.decode(src)?;
        if frame.is_none() {
            self.decoder.finish();
        }
        Ok(frame)
    }
}

impl<'a, T: Into<Frame<'a>>> tokio_util::codec::Encoder<T> for EventCodec {
    type Error = io::Error;

    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), io::Error> {
        // Appended in one pass; a `BytesMut` grows, so this cannot fail.
        item.into()
            .encode_into(dst)
            .map(|_| ())
            .map_err(io::Error::other)
    }
}
