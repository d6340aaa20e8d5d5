//! [`EventReader`]: events out of a runtime's reader.

use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use sse_proto::{DEFAULT_READ_BUF_LEN, Decoder, EventId, Frame, FrameBuf, GrowableBuf};

use crate::pump::{self, Pumped, Source};
use crate::rt::Reads;
use crate::{Error, default_decoder};

/// Reads a `text/event-stream` from a reader of the runtime `Rt` and
/// decodes it with [`sse_proto::Decoder`].
///
/// The reader is whatever the runtime reads ([`Reads`]): a
/// `tokio::io::AsyncRead` as `sse_tokio::EventReader<R>`, a
/// `futures_io::AsyncRead` as `sse_smol::EventReader<R>`.
///
/// [`next_event`](Self::next_event) borrows each frame from the decoder:
/// reading allocates nothing per event. The [`Stream`] implementation is
/// built on it and yields owned [`FrameBuf`]s.
///
/// Frames are events, `retry:` lines (also those outside any event) and,
/// when the decoder's [`Limits::with_max_comment_len`](sse_proto::Limits::with_max_comment_len)
/// asks for them, comments. Any
/// chunking of the input gives the same frames.
///
/// # Errors
///
/// An event over the decoder's limits gives [`Error::Decode`]; that event is
/// dropped and reading goes on. An I/O error ends the stream (the unfinished
/// event is dropped, as at the end of the input).
///
/// ```
/// use sse_proto::Frame;
/// use sse_tokio::EventReader; // or sse_smol::EventReader
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sse_tokio::Error> {
/// let input: &[u8] = b"retry: 1000\n\nid: 1\ndata: hello\n\n";
/// let mut reader = EventReader::new(input);
/// while let Some(frame) = reader.next_event().await {
///     match frame? {
///         Frame::Event(event) => assert_eq!(event.data(), "hello"),
///         Frame::Retry(ms) => assert_eq!(ms, 1000),
///         Frame::Comment(_) => {}
///     }
/// }
/// assert_eq!(reader.last_event_id().unwrap().as_text(), "1");
/// # Ok(())
/// # }
/// ```
pub struct EventReader<R, Rt> {
    input: ReadBuf<R, Rt>,
    decoder: Decoder<GrowableBuf>,
    /// The input ended or failed; the decoder has been finished.
    done: bool,
}

/// A reader and the bytes read from it that are not decoded yet: the
/// [`Source`] of an [`EventReader`].
struct ReadBuf<R, Rt> {
    reader: R,
    buf: Box<[u8]>,
    /// Bytes `pos..filled` of `buf` are read but not yet decoded.
    pos: usize,
    filled: usize,
    runtime: PhantomData<fn() -> Rt>,
}

impl<R: Unpin, Rt: Reads<R>> Source for ReadBuf<R, Rt> {
    type Error = std::io::Error;

    fn unread(&self) -> &[u8] {
        self.buf.get(self.pos..self.filled).unwrap_or_default()
    }

    fn consume(self: Pin<&mut Self>, n: usize) {
        let this = self.get_mut();
        this.pos = this.pos.saturating_add(n).min(this.filled);
    }

    fn poll_fill(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        let this = self.get_mut();
        let n = ready!(Rt::poll_read(Pin::new(&mut this.reader), cx, &mut this.buf))?;
        this.pos = 0;
        this.filled = n.min(this.buf.len());
        Poll::Ready(Ok(n > 0))
    }
}

impl<R: fmt::Debug, Rt> fmt::Debug for EventReader<R, Rt> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventReader")
            .field("reader", &self.input.reader)
            .field("decoder", &self.decoder)
            .field(
                "buffered",
                &self.input.filled.saturating_sub(self.input.pos),
            )
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Unpin, Rt: Reads<R>> EventReader<R, Rt> {
    /// A reader with the default limits ([`default_decoder`](crate::default_decoder)):
    /// events of up to [`DEFAULT_MAX_EVENT_LEN`](sse_proto::DEFAULT_MAX_EVENT_LEN)
    /// bytes of data, ids up to 256 bytes, event types up to 128, comments not
    /// reported.
    pub fn new(reader: R) -> Self {
        Self::with_decoder(reader, default_decoder())
    }

    /// A reader that decodes with `decoder`: its [`Limits`](sse_proto::Limits) (for example to
    /// report comments), its size, and its last event id (to resume).
    ///
    /// ```
    /// use sse_proto::{Decoder, Limits};
    /// use sse_tokio::EventReader; // or sse_smol::EventReader
    ///
    /// let input: &[u8] = b": keep-alive\n";
    /// let decoder = Decoder::with_capacity(64 * 1024, Limits::new().with_max_comment_len(256));
    /// let reader = EventReader::with_decoder(input, decoder);
    /// assert_eq!(reader.decoder().max_event_len(), 64 * 1024);
    /// ```
    pub fn with_decoder(reader: R, decoder: Decoder<GrowableBuf>) -> Self {
        Self {
            input: ReadBuf {
                reader,
                buf: vec![0; DEFAULT_READ_BUF_LEN].into_boxed_slice(),
                pos: 0,
                filled: 0,
                runtime: PhantomData,
            },
            decoder,
            done: false,
        }
    }

    /// The next frame, borrowed from the decoder until the next call; `None`
    /// at the end of the input.
    ///
    /// Cancel safety: dropping the future loses no input; the next call
    /// carries on where this one stopped.
    pub async fn next_event(&mut self) -> Option<Result<Frame<'_>, Error>> {
        match poll_fn(|cx| self.poll_ready(cx)).await? {
            Ok(()) => self.decoder.frame().map(Ok),
            Err(error) => Some(Err(error)),
        }
    }

    /// The poll form of [`next_event`](Self::next_event).
    pub fn poll_next_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<'_>, Error>>> {
        Poll::Ready(match ready!(self.poll_ready(cx)) {
            Some(Ok(())) => self.decoder.frame().map(Ok),
            Some(Err(error)) => Some(Err(error)),
            None => None,
        })
    }

    /// Reads and decodes until the decoder has a frame (then `Ok`, and the
    /// frame is the decoder's [`frame`](Decoder::frame)), an error, or the
    /// end of the input.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(), Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        Poll::Ready(
            match ready!(pump::poll(Pin::new(&mut self.input), &mut self.decoder, cx)) {
                Pumped::Frame => Some(Ok(())),
                Pumped::Decode(error) => Some(Err(Error::Decode(error))),
                Pumped::End => {
                    self.finish();
                    None
                }
                Pumped::Failed(error) => {
                    self.finish();
                    Some(Err(Error::Io(error)))
                }
            },
        )
    }

    fn finish(&mut self) {
        self.done = true;
        self.decoder.finish();
    }
}

impl<R, Rt> EventReader<R, Rt> {
    /// The last event id the stream set; `None` when empty.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        self.decoder.last_event_id()
    }

    /// The decoder, for its limits.
    pub fn decoder(&self) -> &Decoder<GrowableBuf> {
        &self.decoder
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.input.reader
    }

    /// The underlying reader. Reading from it directly skips those bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.input.reader
    }

    /// Gives the underlying reader back. Bytes read from it but not yet
    /// decoded are lost.
    pub fn into_inner(self) -> R {
        self.input.reader
    }
}

impl<R: Unpin, Rt: Reads<R>> Stream for EventReader<R, Rt> {
    type Item = Result<FrameBuf, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .poll_next_event(cx)
            .map(|frame| frame.map(|frame| frame.map(FrameBuf::from)))
    }
}
