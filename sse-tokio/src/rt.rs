//! [`TokioRuntime`]: what sse-hyper's generic types need from tokio.

#[cfg(feature = "client")]
mod connect;

#[cfg(any(feature = "client", feature = "server"))]
use std::{pin::Pin, time::Instant};

#[cfg(any(feature = "client", feature = "server"))]
use sse_hyper::rt::Runtime;

/// tokio, for sse-hyper's generic types: this crate's
/// [`EventSource`](crate::EventSource), [`EventReader`](crate::EventReader)
/// and the others are sse-hyper's with this type filled in.
///
/// It is a marker, never built. The client connects with tokio's TCP (and
/// `tokio-rustls`), and its timers and the server's keep-alive use tokio's
/// clock, so they need a tokio runtime with I/O and time enabled, and
/// follow tokio's paused clock in tests.
#[derive(Clone, Copy, Debug)]
pub enum TokioRuntime {}

#[cfg(any(feature = "client", feature = "server"))]
impl Runtime for TokioRuntime {
    type Sleep = Pin<Box<tokio::time::Sleep>>;

    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(deadline: Instant) -> Self::Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn reset(sleep: &mut Self::Sleep, deadline: Instant) {
        sleep.as_mut().reset(deadline.into());
    }
}
