//! [`StreamRoute`]: the endpoint whose plain `GET`s the server answers on
//! its lean path, without hyper.

use core::pin::Pin;
use core::time::Duration;

use http::request::Parts;

use crate::rt::Runtime;
use crate::server::{EVENTS_PATH, Events, Refusal, SseBody};

/// What [`Server::serve_with_streams`](super::Server::serve_with_streams)
/// needs from an event-stream endpoint to serve its plain `GET`s itself:
/// where it is, how often its streams send keep-alives, and the stream (or
/// refusal) for a request head. [`Events`] is one.
pub trait StreamRoute<R: Runtime>: Send + Sync + 'static {
    /// The path it answers (`/events`).
    fn path(&self) -> &str;

    /// The keep-alive interval of its streams; `None`: none.
    fn keep_alive(&self) -> Option<Duration>;

    /// The stream for a request head, or the refusal to send instead.
    fn open<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<SseBody<R>, Refusal>> + Send + 'a>>;
}

impl<P: Send + Sync + 'static, R: Runtime> StreamRoute<R> for Events<P, R> {
    fn path(&self) -> &str {
        EVENTS_PATH
    }

    fn keep_alive(&self) -> Option<Duration> {
        self.keep_alive_interval()
    }

    fn open<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<SseBody<R>, Refusal>> + Send + 'a>> {
        Box::pin(self.subscribe(parts))
    }
}
