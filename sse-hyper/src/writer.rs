//! [`EventWriter`]: events into a runtime's writer.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use sse_proto::{DEFAULT_WRITE_BUF_LEN, Frame, Text};

use crate::Error;
use crate::rt::Writes;

/// The largest encoding buffer a writer keeps between frames: one grown
/// for a larger frame goes back to [`DEFAULT_WRITE_BUF_LEN`] after it.
const MAX_KEPT_BUF_LEN: usize = 64 * 1024;

/// Writes a `text/event-stream` to a writer of the runtime `Rt`, encoding
/// with [`Frame::encode_into`].
///
/// The writer is whatever the runtime writes to ([`Writes`]): a
/// `tokio::io::AsyncWrite` as `sse_tokio::EventWriter<W>`, a
/// `futures_io::AsyncWrite` as `sse_smol::EventWriter<W>`.
///
/// Each frame is encoded in one pass into a buffer the writer keeps
/// ([`DEFAULT_WRITE_BUF_LEN`] to start with), then written: no allocation
/// per frame up to 64 KiB; a buffer grown for a larger frame is let go
/// after it. Nothing is buffered between frames: wrap the writer in the
/// runtime's `BufWriter` to batch them, and call [`flush`](Self::flush) to
/// push them out.
///
/// Cancel safety: a frame is written in several writes; dropping a `send`
/// future part way leaves half a frame in the output.
///
/// ```
/// use sse_proto::{Event, EventId};
/// use sse_tokio::EventWriter; // or sse_smol::EventWriter
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
pub struct EventWriter<W, Rt> {
    writer: W,
    buf: Vec<u8>,
    runtime: PhantomData<fn() -> Rt>,
}

impl<W: fmt::Debug, Rt> fmt::Debug for EventWriter<W, Rt> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWriter")
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

impl<W: Unpin, Rt: Writes<W>> EventWriter<W, Rt> {
    /// A writer onto `writer`.
    pub fn new(writer: W) -> Self {
        Self {
            writer,
            buf: Vec::with_capacity(DEFAULT_WRITE_BUF_LEN),
            runtime: PhantomData,
        }
    }

    /// Writes a frame: an [`Event`](sse_proto::Event), a comment, a retry
    /// hint, or an owned [`EventBuf`](sse_proto::EventBuf) or
    /// [`FrameBuf`](sse_proto::FrameBuf) by reference.
    pub async fn send<'a>(&mut self, frame: impl Into<Frame<'a>>) -> Result<(), Error> {
        self.buf.clear();
        // A `Vec` grows, so encoding cannot fail.
        let _ = frame.into().encode_into(&mut self.buf);
        let written = write_all::<W, Rt>(&mut self.writer, &self.buf).await;
        if self.buf.capacity() > MAX_KEPT_BUF_LEN {
            self.buf = Vec::with_capacity(DEFAULT_WRITE_BUF_LEN);
        }
        Ok(written?)
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
        Ok(poll_fn(|cx| Rt::poll_flush(Pin::new(&mut self.writer), cx)).await?)
    }
}

/// Writes all of `bytes`, as `AsyncWriteExt::write_all` does.
async fn write_all<W: Unpin, Rt: Writes<W>>(writer: &mut W, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Rt::poll_write(Pin::new(&mut *writer), cx, bytes)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = bytes.get(n..).unwrap_or_default();
    }
    Ok(())
}

impl<W, Rt> EventWriter<W, Rt> {
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
