//! [`EventReader`]: events out of an [`AsyncRead`].

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use futures_io::AsyncRead;
use sse_proto::{Decoder, EventId, Frame, FrameBuf, Limits};

use crate::Error;

/// The largest event the default decoder accepts: 1 MiB of data. The buffer
/// is allocated zeroed, so memory the events never reach is not touched.
pub(crate) const DEFAULT_MAX_EVENT_LEN: usize = 1 << 20;

/// How much is read from the source at a time.
const READ_BUF_LEN: usize = 8 * 1024;

/// The decoder the readers use unless told otherwise: default [`Limits`] and
/// events of up to 1 MiB.
pub(crate) fn default_decoder() -> Decoder<Box<[u8]>> {
    Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new())
}

/// Reads a `text/event-stream` from an [`AsyncRead`] and decodes it with
/// [`sse_proto::Decoder`].
///
/// [`next_event`](Self::next_event) borrows each frame from the decoder:
/// reading allocates nothing per event. The [`Stream`] implementation is
/// built on it and yields owned [`FrameBuf`]s.
///
/// Frames are events, `retry:` lines (also those outside any event) and,
/// when the decoder's [`Limits::comments`] asks for them, comments. Any
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
/// use sse_smol::EventReader;
///
/// # fn main() -> Result<(), sse_smol::Error> { smol::block_on(async {
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
/// # }) }
/// ```
#[derive(Debug)]
pub struct EventReader<R> {
    reader: R,
    decoder: Decoder<Box<[u8]>>,
    buf: Box<[u8]>,
    /// Bytes `pos..filled` of `buf` are read but not yet decoded.
    pos: usize,
    filled: usize,
    /// The input ended or failed; the decoder has been finished.
    done: bool,
}

impl<R: AsyncRead + Unpin> EventReader<R> {
    /// A reader with the default limits: events of up to 1 MiB of data, ids
    /// up to 256 bytes, event types up to 128, comments not reported.
    pub fn new(reader: R) -> Self {
        Self::with_decoder(reader, default_decoder())
    }

    /// A reader that decodes with `decoder`: its [`Limits`] (for example to
    /// report comments), its size, and its last event id (to resume).
    ///
    /// ```
    /// use sse_proto::{Decoder, Limits};
    /// use sse_smol::EventReader;
    ///
    /// let input: &[u8] = b": keep-alive\n";
    /// let decoder = Decoder::with_capacity(64 * 1024, Limits::new().comments(256));
    /// let reader = EventReader::with_decoder(input, decoder);
    /// assert_eq!(reader.decoder().max_event_len(), 64 * 1024);
    /// ```
    pub fn with_decoder(reader: R, decoder: Decoder<Box<[u8]>>) -> Self {
        Self {
            reader,
            decoder,
            buf: vec![0; READ_BUF_LEN].into_boxed_slice(),
            pos: 0,
            filled: 0,
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
            Ok(()) => self.decoder.last_frame().map(Ok),
            Err(error) => Some(Err(error)),
        }
    }

    /// The poll form of [`next_event`](Self::next_event).
    pub fn poll_next_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<'_>, Error>>> {
        Poll::Ready(match ready!(self.poll_ready(cx)) {
            Some(Ok(())) => self.decoder.last_frame().map(Ok),
            Some(Err(error)) => Some(Err(error)),
            None => None,
        })
    }

    /// Reads and decodes until the decoder has a frame (then `Ok`, and the
    /// frame is the decoder's [`last_frame`](Decoder::last_frame)), an
    /// error, or the end of the input.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(), Error>>> {
        loop {
            let mut input = self.buf.get(self.pos..self.filled).unwrap_or_default();
            if !input.is_empty() {
                let ready = self.decoder.decode(&mut input).map(|frame| frame.map(drop));
                self.pos = self.filled - input.len();
                match ready {
                    Some(ready) => return Poll::Ready(Some(ready.map_err(Error::Decode))),
                    None => continue,
                }
            }
            if self.done {
                return Poll::Ready(None);
            }
            let read = ready!(Pin::new(&mut self.reader).poll_read(cx, &mut self.buf));
            (self.pos, self.filled) = (0, *read.as_ref().unwrap_or(&0));
            match read {
                Ok(n) if n > 0 => {}
                Ok(_) => {
                    self.finish();
                    return Poll::Ready(None);
                }
                Err(error) => {
                    self.finish();
                    return Poll::Ready(Some(Err(Error::Io(error))));
                }
            }
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.decoder.finish();
    }
}

impl<R> EventReader<R> {
    /// The last event id the stream set; `None` when empty.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        self.decoder.last_event_id()
    }

    /// The decoder, for its limits.
    pub fn decoder(&self) -> &Decoder<Box<[u8]>> {
        &self.decoder
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The underlying reader. Reading from it directly skips those bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Gives the underlying reader back. Bytes read from it but not yet
    /// decoded are lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncRead + Unpin> Stream for EventReader<R> {
    type Item = Result<FrameBuf, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .poll_next_event(cx)
            .map(|frame| frame.map(|frame| frame.map(FrameBuf::from)))
    }
}
