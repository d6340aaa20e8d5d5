//! [`SseBody`]: an event stream as a streaming HTTP response body.

use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::OnceLock;
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame as BodyFrame, SizeHint};
use sse_proto::FrameBuf;
use sse_proto::publisher::{Chunk, Position, Subscription};

use super::watch::{StreamEnd, StreamPath, Watched};
use super::{DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME, after};
use crate::rt::Runtime;

/// The keep-alive comment ([`Frame::KEEP_ALIVE`](sse_proto::Frame::KEEP_ALIVE)),
/// encoded once for every stream of the process.
pub(crate) fn keep_alive_chunk() -> Chunk {
    static ENCODED: OnceLock<Chunk> = OnceLock::new();
    ENCODED
        .get_or_init(|| Chunk::encode(sse_proto::Frame::KEEP_ALIVE))
        .clone()
}

fn keep_alive_comment() -> Bytes {
    Bytes::from_owner(keep_alive_chunk())
}

/// The response headers of an event stream: `Content-Type:
/// text/event-stream`, `Cache-Control: no-cache` and `X-Accel-Buffering: no`
/// (which stops nginx from buffering the stream).
pub fn headers() -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    headers
}

/// What an [`SseBody`] streams: chunks of encoded frames, shared and not
/// copied.
pub(crate) trait Source: Send {
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>>;

    /// The position of the published event the last chunk was, if any.
    fn position(&self) -> Option<Position> {
        None
    }

    /// Whether the source ended because its subscriber fell behind.
    fn lagged(&self) -> bool {
        false
    }
}

impl<P: Send + Sync + 'static> Source for Subscription<P> {
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.get_mut().poll_next(cx)
    }

    fn position(&self) -> Option<Position> {
        self.last_position()
    }

    fn lagged(&self) -> bool {
        self.stats().disconnected
    }
}

pin_project_lite::pin_project! {
    /// A stream of frames, encoded one by one.
    struct Frames<S> {
        #[pin]
        stream: S,
    }
}

impl<S> Source for Frames<S>
where
    S: Stream + Send,
    S::Item: Into<FrameBuf>,
{
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.project()
            .stream
            .poll_next(cx)
            .map(|event| event.map(|frame| Chunk::encode(frame.into().as_frame())))
    }
}

/// The keep-alive timer: re-armed lazily, so a busy stream costs a clock
/// read per chunk rather than a timer update.
struct KeepAlive<R: Runtime> {
    every: Duration,
    sleep: R::Sleep,
    last_sent: Instant,
}

impl<R: Runtime> KeepAlive<R> {
    fn new(every: Duration) -> Self {
        let now = R::now();
        Self {
            every,
            sleep: R::sleep_until(after(now, every)),
            last_sent: now,
        }
    }

    /// Whether a keep-alive is due now; arms the waker when not.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if Pin::new(&mut self.sleep).poll(cx).is_pending() {
                return false;
            }
            let due = after(self.last_sent, self.every);
            let now = R::now();
            if now >= due {
                self.last_sent = now;
                R::reset(&mut self.sleep, after(now, self.every));
                return true;
            }
            // Something was sent since the timer was armed: wait the rest.
            R::reset(&mut self.sleep, due);
        }
    }

    fn sent(&mut self) {
        self.last_sent = R::now();
    }
}

/// An event stream as an HTTP response body (`Data = Bytes`, never fails).
///
/// Built from a [`Subscription`] ([`new`](Self::new)) or any stream of
/// events ([`from_stream`](Self::from_stream)). It sends a `retry:` hint
/// first ([`retry`](Self::retry), [`DEFAULT_RECONNECTION_TIME`] by default), then each chunk as
/// it comes, and a keep-alive comment when nothing has been sent for the
/// keep-alive interval ([`keep_alive`](Self::keep_alive), [`DEFAULT_KEEP_ALIVE`] by
/// default). It ends when the stream ends. Serve it with [`headers`]; or
/// use [`response`](Self::response).
///
/// The keep-alive timer is the runtime `R`'s: `sse_tokio::server::SseBody`
/// needs a tokio runtime with the time driver enabled,
/// `sse_smol::server::SseBody` (an `async_io::Timer`) works on any executor.
pub struct SseBody<R: Runtime> {
    pub(crate) source: Pin<Box<dyn Source>>,
    pub(crate) retry: Option<Duration>,
    pub(crate) keep_alive: Option<Duration>,
    /// What a hub watches of this stream, if it does.
    pub(crate) watched: Option<Watched>,
    started: bool,
    timer: Option<KeepAlive<R>>,
    done: bool,
}

impl<R: Runtime> core::fmt::Debug for SseBody<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SseBody")
            .field("retry", &self.retry)
            .field("keep_alive", &self.keep_alive)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> SseBody<R> {
    /// The body of a publisher subscription.
    pub fn new<P: Send + Sync + 'static>(subscription: Subscription<P>) -> Self {
        Self::from_source(Box::pin(subscription))
    }

    /// The body of any stream of frames (`EventBuf`s, or `FrameBuf`s for
    /// comments and `retry:` lines too), each encoded as it comes.
    pub fn from_stream<S>(events: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: Into<FrameBuf>,
    {
        Self::from_source(Box::pin(Frames { stream: events }))
    }

    fn from_source(source: Pin<Box<dyn Source>>) -> Self {
        Self {
            source,
            retry: Some(DEFAULT_RECONNECTION_TIME),
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            watched: None,
            started: false,
            timer: None,
            done: false,
        }
    }

    /// The reconnection time to send first, as `retry:` (whole
    /// milliseconds); `None` sends none.
    pub fn retry(mut self, reconnection_time: Option<Duration>) -> Self {
        self.retry = reconnection_time;
        self
    }

    /// How long the stream may stay quiet before a keep-alive comment;
    /// `None` sends none.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval;
        self
    }

    /// A `200 OK` response with this body and the event-stream [`headers`].
    pub fn response(self) -> http::Response<Self> {
        let mut response = http::Response::new(self);
        *response.headers_mut() = headers();
        response
    }

    fn data(&mut self, bytes: Bytes) -> Poll<Option<Result<BodyFrame<Bytes>, Infallible>>> {
        if let Some(timer) = &mut self.timer {
            timer.sent();
        }
        Poll::Ready(Some(Ok(BodyFrame::data(bytes))))
    }
}

impl<P: Send + Sync + 'static, R: Runtime> From<Subscription<P>> for SseBody<R> {
    fn from(subscription: Subscription<P>) -> Self {
        Self::new(subscription)
    }
}

impl<R: Runtime> Body for SseBody<R> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if !this.started {
            this.started = true;
            if let Some(watched) = &mut this.watched {
                watched.start(StreamPath::Hyper);
            }
            this.timer = this.keep_alive.map(KeepAlive::new);
            if let Some(retry) = this.retry {
                let chunk = Chunk::encode(sse_proto::Frame::retry(retry));
                return this.data(Bytes::from_owner(chunk));
            }
        }
        match this.source.as_mut().poll_chunk(cx) {
            Poll::Ready(Some(chunk)) => {
                if let Some(watched) = &mut this.watched {
                    watched.taken(this.source.position());
                    watched.wrote(1, chunk.len());
                }
                this.data(Bytes::from_owner(chunk))
            }
            Poll::Ready(None) => {
                this.done = true;
                if let Some(watched) = &mut this.watched {
                    let lagged = this.source.lagged();
                    watched.end(if lagged {
                        StreamEnd::Lagged
                    } else {
                        StreamEnd::Closed
                    });
                }
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.timer.as_mut().is_some_and(|timer| timer.poll_due(cx)) {
                    Poll::Ready(Some(Ok(BodyFrame::data(keep_alive_comment()))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::keep_alive_comment;

    #[test]
    fn the_keep_alive_is_a_comment() {
        assert_eq!(&keep_alive_comment()[..], b": keep-alive\n");
    }
}
