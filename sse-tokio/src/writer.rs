//! [`EventWriter`]: events into an [`AsyncWrite`].

use std::time::Duration;

use sse_proto::{Encoder, Frame, Text};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::Error;

/// The size of the buffer frames are encoded through.
const WRITE_BUF_LEN: usize = 4 * 1024;

/// Writes a `text/event-stream` to an [`AsyncWrite`], encoding with
/// [`sse_proto::Encoder`].
///
/// Each frame goes out through a small fixed buffer, so events of any size
/// are written without allocating. Nothing is buffered between frames:
/// wrap the writer in a [`BufWriter`](tokio::io::BufWriter) to batch them,
/// and call [`flush`](Self::flush) to push them out.
///
/// Cancel safety: a frame is written in several writes; dropping a `send`
/// future part way leaves half a frame in the output.
///
/// ```
/// use sse_proto::{Event, EventId};
/// use sse_tokio::EventWriter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut writer = EventWriter::new(Vec::new());
/// writer.send(Event::new("hello").with_id(EventId::new("1")?)).await?;
/// writer.comment("keep-alive").await?;
/// writer.retry(std::time::Duration::from_secs(5)).await?;
/// writer.flush().await?;
/// assert_eq!(writer.get_ref(), b"id: 1\ndata: hello\n\n: keep-alive\nretry: 5000\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct EventWriter<W> {
    writer: W,
    buf: Box<[u8]>,
}

impl<W: AsyncWrite + Unpin> EventWriter<W> {
    /// A writer onto `writer`.
    pub fn new(writer: W) -> Self {
        Self {
            writer,
            buf: vec![0; WRITE_BUF_LEN].into_boxed_slice(),
        }
    }

    /// Writes a frame: an [`Event`](sse_proto::Event), a comment, a retry
    /// hint, or an owned [`EventBuf`](sse_proto::EventBuf) or
    /// [`FrameBuf`](sse_proto::FrameBuf) by reference.
    pub async fn send<'a>(&mut self, frame: impl Into<Frame<'a>>) -> Result<(), Error> {
        let mut encoder = Encoder::new(frame);
        while !encoder.is_done() {
            let len = encoder.encode(&mut self.buf);
            let encoded = self.buf.get(..len).unwrap_or_default();
            self.writer.write_all(encoded).await?;
        }
        Ok(())
    }

    /// Writes a comment, such as a keep-alive; each line of `text` becomes a
    /// comment line.
    pub async fn comment(&mut self, text: &str) -> Result<(), Error> {
        self.send(Frame::Comment(Text::new(text))).await
    }

    /// Writes a `retry:` line, which sets the client's reconnection time
    /// (in whole milliseconds).
    pub async fn retry(&mut self, time: Duration) -> Result<(), Error> {
        let ms = u64::try_from(time.as_millis()).unwrap_or(u64::MAX);
        self.send(Frame::Retry(ms)).await
    }

    /// Flushes the underlying writer.
    pub async fn flush(&mut self) -> Result<(), Error> {
        Ok(self.writer.flush().await?)
    }
}

impl<W> EventWriter<W> {
    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.writer
    }

    /// The underlying writer. Writing to it directly can break the stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// Gives the underlying writer back.
    pub fn into_inner(self) -> W {
        self.writer
    }
}
