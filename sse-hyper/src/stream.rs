//! [`EventStream`]: events out of a `Stream` of byte chunks.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use pin_project_lite::pin_project;
use sse_proto::{Decoder, EventId, Frame, FrameBuf, GrowableBuf};

use crate::pump::{self, Pumped, Source};
use crate::{Error, default_decoder};

/// The error of a byte stream, boxed.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// Decodes a [`Stream`] of byte chunks (an HTTP body: reqwest's
    /// `bytes_stream()`, or a hyper body through `http_body_util::BodyDataStream`)
    /// as a `text/event-stream`.
    ///
    /// It works on any runtime, and is the same type in every adapter. Each chunk is fed to [`sse_proto::Decoder`] as
    /// it arrives, so: a UTF-8 BOM is stripped once even when split across
    /// chunks; invalid UTF-8 never stalls the stream (text is read as a browser
    /// reads it, with U+FFFD); a long line split over many chunks is never
    /// scanned twice; a `retry:` outside any event is yielded; and memory is
    /// bounded by the decoder's limits.
    ///
    /// [`next_event`](Self::next_event) borrows each frame from the decoder;
    /// the [`Stream`] implementation is built on it and yields owned
    /// [`FrameBuf`]s.
    ///
    /// # Errors
    ///
    /// An event over the decoder's limits gives [`Error::Decode`] and decoding
    /// goes on. An error from the byte stream gives [`Error::Body`] and ends
    /// the stream (the unfinished event is dropped, as at its end).
    ///
    /// ```
    /// use futures_lite::{StreamExt, stream};
    /// use sse_proto::FrameBuf;
    /// use sse_hyper::EventStream; // or sse_tokio::EventStream, sse_smol::EventStream
    ///
    /// # futures_lite::future::block_on(async {
    /// // Chunks as an HTTP client delivers them: a BOM split in two, a
    /// // standalone `retry:`, an event split mid-line.
    /// let chunks = [&b"\xEF\xBB"[..], b"\xBFretry: 500\n\nda", b"ta: hi\n\n"];
    /// let body = stream::iter(chunks.map(Ok::<_, std::io::Error>));
    /// let frames: Vec<FrameBuf> = EventStream::new(body).try_collect().await?;
    /// assert_eq!(frames[0], FrameBuf::Retry(500));
    /// assert!(matches!(&frames[1], FrameBuf::Event(event) if event.data() == "hi"));
    /// # Ok::<(), sse_hyper::Error>(())
    /// # }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct EventStream<S, C> {
        #[pin]
        input: Chunks<S, C>,
        decoder: Decoder<GrowableBuf>,
        done: bool,
    }
}

pin_project! {
    /// A stream of chunks and the part of the current one not decoded yet:
    /// the [`Source`] of an [`EventStream`].
    #[derive(Debug)]
    struct Chunks<S, C> {
        #[pin]
        stream: S,
        chunk: Option<C>,
        // Bytes of `chunk` already decoded.
        pos: usize,
    }
}

impl<S, C, E> Source for Chunks<S, C>
where
    S: Stream<Item = Result<C, E>>,
    C: AsRef<[u8]>,
    E: Into<BoxError>,
{
    type Error = BoxError;

    fn unread(&self) -> &[u8] {
        let chunk = self.chunk.as_ref().map(AsRef::as_ref).unwrap_or_default();
        chunk.get(self.pos..).unwrap_or_default()
    }

    fn consume(self: Pin<&mut Self>, n: usize) {
        let this = self.project();
        *this.pos = this.pos.saturating_add(n);
    }

    fn poll_fill(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<bool, BoxError>> {
        let this = self.project();
        *this.chunk = None;
        *this.pos = 0;
        match ready!(this.stream.poll_next(cx)) {
            Some(Ok(chunk)) => {
                *this.chunk = Some(chunk);
                Poll::Ready(Ok(true))
            }
            Some(Err(error)) => Poll::Ready(Err(error.into())),
            None => Poll::Ready(Ok(false)),
        }
    }
}

impl<S, C, E> EventStream<S, C>
where
    S: Stream<Item = Result<C, E>>,
    C: AsRef<[u8]>,
    E: Into<BoxError>,
{
    /// Decodes `stream` with the default limits: events of up to
    /// [`DEFAULT_MAX_EVENT_LEN`](sse_proto::DEFAULT_MAX_EVENT_LEN) bytes of data, ids up to 256 bytes, event types up to 128, comments not
    /// reported.
    pub fn new(stream: S) -> Self {
        Self::with_decoder(stream, default_decoder())
    }

    /// Decodes `stream` with `decoder`: its limits, and its last event id.
    pub fn with_decoder(stream: S, decoder: Decoder<GrowableBuf>) -> Self {
        Self {
            input: Chunks {
                stream,
                chunk: None,
                pos: 0,
            },
            decoder,
            done: false,
        }
    }

    /// The next frame, borrowed from the decoder until the next call; `None`
    /// at the end of the stream.
    pub async fn next_event(&mut self) -> Option<Result<Frame<'_>, Error>>
    where
        S: Unpin,
    {
        match poll_fn(|cx| Pin::new(&mut *self).poll_ready(cx)).await? {
            Ok(()) => self.decoder.frame().map(Ok),
            Err(error) => Some(Err(error)),
        }
    }

    /// The poll form of [`next_event`](Self::next_event).
    pub fn poll_next_event(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<'_>, Error>>> {
        let ready = ready!(self.as_mut().poll_ready(cx));
        let this = self.project();
        Poll::Ready(match ready {
            Some(Ok(())) => this.decoder.frame().map(Ok),
            Some(Err(error)) => Some(Err(error)),
            None => None,
        })
    }

    /// Decodes until the decoder has a frame (then `Ok`: the decoder's
    /// [`frame`](Decoder::frame)), an error, or the end.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<(), Error>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        Poll::Ready(match ready!(pump::poll(this.input, this.decoder, cx)) {
            Pumped::Frame => Some(Ok(())),
            Pumped::Decode(error) => Some(Err(Error::Decode(error))),
            Pumped::End => {
                *this.done = true;
                this.decoder.finish();
                None
            }
            Pumped::Failed(error) => {
                *this.done = true;
                this.decoder.finish();
                Some(Err(Error::Body(error)))
            }
        })
    }
}

impl<S, C> EventStream<S, C> {
    /// The last event id the stream set; `None` when empty.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        self.decoder.last_event_id()
    }

    /// The decoder, for its limits.
    pub fn decoder(&self) -> &Decoder<GrowableBuf> {
        &self.decoder
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.input.stream
    }

    /// The underlying stream. Taking chunks from it directly skips them.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.input.stream
    }

    /// Gives the underlying stream back. A chunk taken from it but not yet
    /// decoded is lost.
    pub fn into_inner(self) -> S {
        self.input.stream
    }
}

impl<S, C, E> Stream for EventStream<S, C>
where
    S: Stream<Item = Result<C, E>>,
    C: AsRef<[u8]>,
    E: Into<BoxError>,
{
    type Item = Result<FrameBuf, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_next_event(cx)
            .map(|frame| frame.map(|frame| frame.map(FrameBuf::from)))
    }
}
