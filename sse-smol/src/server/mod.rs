//! The server side: an event stream as a streaming HTTP response body.
//!
//! [`SseBody`] turns a [`Subscription`] (or any [`Stream`] of events) into an
//! [`http_body::Body`], so it works with hyper and with every framework built
//! on it. It sends a `retry:` hint first, then the stream's chunks as they
//! come, without copying them, and a keep-alive comment whenever the stream
//! has been quiet for the keep-alive interval (timed with `async_io::Timer`), so
//! proxies keep the connection open and a vanished client is noticed. When
//! the client goes away the body is dropped, and with it the subscription,
//! which unregisters at once.
//!
//! [`Events`] is a ready `GET /events?channel=..` endpoint over a
//! [`Publisher`](crate::Publisher), with an access hook that can refuse a
//! request before the stream starts; [`Events::service`] mounts it as a hyper
//! service, and [`serve`] runs a service on an `async_net::TcpListener`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use smol::{Executor, net::TcpListener};
//! use sse_smol::Publisher;
//! use sse_smol::server::{Events, serve};
//!
//! let publisher: Publisher = Publisher::new();
//! let executor = Arc::new(Executor::new());
//! smol::block_on(executor.run(async {
//!     let listener = TcpListener::bind("127.0.0.1:8000").await?;
//!     // GET /events?channel=..; publish from anywhere with `publisher.publish`.
//!     serve(&executor, listener, Events::new(publisher.clone()).service()).await
//! }))?;
//! # Ok::<(), std::io::Error>(())
//! ```

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::error::Error as StdError;
use std::io;
use std::time::Instant;

use async_executor::Executor;
use async_io::Timer;
use async_net::TcpListener;
use bytes::Bytes;
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use smol_hyper::rt::{FuturesIo, SmolTimer};
use sse_proto::FrameBuf;
use sse_proto::publisher::{Chunk, Subscription};

mod events;

pub use events::{EVENTS_PATH, Events, EventsBody, LastEventId, Refusal};

/// How long a stream may stay quiet before a keep-alive comment, by default.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The reconnection time sent as `retry:` when a stream opens, by default.
pub const RETRY: Duration = Duration::from_secs(3);

/// The keep-alive comment (`: keep-alive`).
const KEEP_ALIVE_COMMENT: &[u8] = b": keep-alive\n";

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
    struct EventStream<S> {
        #[pin]
        stream: S,
    }
}

impl<S> Source for EventStream<S>
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
struct KeepAlive {
    every: Duration,
    timer: Timer,
    last_sent: Instant,
}

impl KeepAlive {
    fn new(every: Duration) -> Self {
        let now = Instant::now();
        Self {
            every,
            timer: Timer::at(now + every),
            last_sent: now,
        }
    }

    /// Whether a keep-alive is due now; arms the waker when not.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if Pin::new(&mut self.timer).poll(cx).is_pending() {
                return false;
            }
            let due = self.last_sent + self.every;
            let now = Instant::now();
            if now >= due {
                self.last_sent = now;
                self.timer.set_at(now + self.every);
                return true;
            }
            // Something was sent since the timer was armed: wait the rest.
            self.timer.set_at(due);
        }
    }

    fn sent(&mut self, now: Instant) {
        self.last_sent = now;
    }
}

/// An event stream as an HTTP response body (`Data = Bytes`, never fails).
///
/// Built from a [`Subscription`] ([`new`](Self::new)) or any stream of
/// events ([`from_stream`](Self::from_stream)). It sends a `retry:` hint
/// first ([`retry`](Self::retry), [`RETRY`] by default), then each chunk as
/// it comes, and a keep-alive comment when nothing has been sent for the
/// keep-alive interval ([`keep_alive`](Self::keep_alive), [`KEEP_ALIVE`] by
/// default). It ends when the stream ends. Serve it with [`headers`]; or
/// use [`response`](Self::response).
///
/// The keep-alive timer is an `async_io::Timer`: it works on any executor.
pub struct SseBody {
    source: Pin<Box<dyn Source>>,
    retry: Option<Duration>,
    keep_alive: Option<Duration>,
    started: bool,
    timer: Option<KeepAlive>,
    done: bool,
}

impl core::fmt::Debug for SseBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SseBody")
            .field("retry", &self.retry)
            .field("keep_alive", &self.keep_alive)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl SseBody {
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
        Self::from_source(Box::pin(EventStream { stream: events }))
    }

    fn from_source(source: Pin<Box<dyn Source>>) -> Self {
        Self {
            source,
            retry: Some(RETRY),
            keep_alive: Some(KEEP_ALIVE),
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

    fn data(&mut self, bytes: Bytes) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(timer) = &mut self.timer {
            timer.sent(Instant::now());
        }
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }
}

impl<P: Send + Sync + 'static> From<Subscription<P>> for SseBody {
    fn from(subscription: Subscription<P>) -> Self {
        Self::new(subscription)
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if !this.started {
            this.started = true;
            this.timer = this.keep_alive.map(KeepAlive::new);
            if let Some(retry) = this.retry {
                let ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
                let chunk = Chunk::encode(sse_proto::Frame::Retry(ms));
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
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                        KEEP_ALIVE_COMMENT,
                    )))))
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

impl<P: Send + Sync + 'static> Events<P> {
    /// The endpoint as a hyper service, for [`serve`]: `GET /events`
    /// streams, other paths get `404`.
    pub fn service(self) -> EventsService<P> {
        EventsService(self)
    }
}

/// [`Events`] as a hyper service: see [`Events::service`].
#[derive(Debug)]
pub struct EventsService<P>(Events<P>);

impl<P> Clone for EventsService<P> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<P: Send + Sync + 'static> Service<http::Request<Incoming>> for EventsService<P> {
    type Response = http::Response<EventsBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let events = self.0.clone();
        Box::pin(async move {
            if request.uri().path() == EVENTS_PATH {
                Ok(events.handle(request).await)
            } else {
                Ok(Refusal::new(http::StatusCode::NOT_FOUND, "not found").response())
            }
        })
    }
}

/// Serves HTTP/1.1 on `listener` with `service` (such as
/// [`Events::service`]), each connection a task on `executor`, until the
/// returned future is dropped. Each request carries the peer's
/// [`SocketAddr`](std::net::SocketAddr) in its extensions (for an access
/// hook, say).
///
/// hyper reads request heads with a 30 s timeout (timed with
/// `async_io::Timer`); a connection that fails is dropped quietly. Accept
/// errors do not stop the loop: a failed handshake is skipped, anything else
/// (too many open files, say) retried after a second.
pub async fn serve<S, B>(
    executor: &Executor<'_>,
    listener: TcpListener,
    service: S,
) -> io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(_) => {
                Timer::after(Duration::from_secs(1)).await;
                continue;
            }
        };
        let service = service.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(peer);
            service.call(request)
        });
        executor
            .spawn(async move {
                let _ = http1::Builder::new()
                    .timer(SmolTimer::new())
                    .serve_connection(FuturesIo::new(stream), service)
                    .await;
            })
            .detach();
    }
}

/// Errors of one connection's handshake, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::KEEP_ALIVE_COMMENT;

    #[test]
    fn the_keep_alive_is_a_comment() {
        let mut buf = [0u8; 32];
        let n = sse_proto::Frame::comment("keep-alive")
            .encode(&mut buf)
            .unwrap();
        assert_eq!(&buf[..n], KEEP_ALIVE_COMMENT);
    }
}
