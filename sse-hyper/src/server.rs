//! The server side: an event stream as a streaming HTTP response body.
//!
//! [`SseBody`] turns a [`Subscription`] (or any [`Stream`] of events) into an
//! [`http_body::Body`], so it works with hyper and with every framework built
//! on it. It sends a `retry:` hint first, then the stream's chunks as they
//! come, without copying them, and a keep-alive comment whenever the stream
//! has been quiet for the keep-alive interval (timed on the runtime `R`'s
//! clock), so proxies keep the connection open and a vanished client is
//! noticed. When the client goes away the body is dropped, and with it the
//! subscription, which unregisters at once.
//!
//! [`Events`] is a ready `GET /events?channel=..` endpoint over a
//! [`Publisher`](sse_proto::publisher::Publisher), with an access hook that
//! can refuse a request before the stream starts; [`Events::service`] mounts
//! it as a hyper service and, with the `axum` feature, `Events::router` as
//! an axum router.
//!
//! The adapters name these types with their runtime filled in
//! (`sse_tokio::server::SseBody`, `sse_smol::server::Events<P>`), and add
//! what is their runtime's own: `sse_smol::server::serve` runs hyper on
//! smol.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use sse_tokio::Publisher;
//! use sse_tokio::server::SseBody;
//!
//! # async fn handle(publisher: Publisher) -> Result<http::Response<SseBody>, Infallible> {
//! // In a hyper service:
//! let subscription = publisher.subscribe("news", (), []).expect("valid channel");
//! Ok(SseBody::new(subscription).response())
//! # }
//! ```

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
use sse_proto::publisher::{Chunk, Subscription};

use crate::rt::Runtime;

#[cfg(feature = "axum")]
mod axum;
mod events;
mod query;
mod service;

pub use events::{
    EVENTS_PATH, Events, EventsBody, LastEventId, Refusal, SubscriptionFuture, SubscriptionSource,
};
pub use service::EventsService;
pub use sse_proto::{DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME};

/// The keep-alive comment ([`Frame::KEEP_ALIVE`](sse_proto::Frame::KEEP_ALIVE)),
/// encoded once for every stream of the process.
fn keep_alive_comment() -> Bytes {
    static ENCODED: OnceLock<Bytes> = OnceLock::new();
    ENCODED
        .get_or_init(|| Bytes::from_owner(Chunk::encode(sse_proto::Frame::KEEP_ALIVE)))
        .clone()
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

/// What an [`SseBody`] streams.
trait Source: Send {
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>>;
}

impl<P: Send + Sync + 'static> Source for Subscription<P> {
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.get_mut()
            .poll_next(cx)
            .map(|chunk| chunk.map(Bytes::from_owner))
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
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.project().stream.poll_next(cx).map(|event| {
            event.map(|frame| Bytes::from_owner(Chunk::encode(frame.into().as_frame())))
        })
    }
}

/// The keep-alive timer: re-armed lazily, so a busy stream costs a clock
/// read per chunk rather than a timer update.
struct KeepAlive<R: Runtime> {
    every: Duration,
    sleep: R::Sleep,
    last_sent: Instant,
}

/// `now + by`, or far in the future when that does not fit in an
/// `Instant`: a keep-alive interval of `Duration::MAX` means never.
fn after(now: Instant, by: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(by)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
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
    source: Pin<Box<dyn Source>>,
    retry: Option<Duration>,
    keep_alive: Option<Duration>,
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
            this.timer = this.keep_alive.map(KeepAlive::new);
            if let Some(retry) = this.retry {
                let chunk = Chunk::encode(sse_proto::Frame::retry(retry));
                return this.data(Bytes::from_owner(chunk));
            }
        }
        match this.source.as_mut().poll_chunk(cx) {
            Poll::Ready(Some(bytes)) => this.data(bytes),
            Poll::Ready(None) => {
                this.done = true;
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
