//! [`SmolRuntime`]: what sse-hyper's generic types need from smol.

#[cfg(feature = "client")]
mod connect;

#[cfg(any(feature = "client", feature = "server"))]
use std::time::Instant;

#[cfg(any(feature = "client", feature = "server"))]
use async_io::Timer;
#[cfg(any(feature = "client", feature = "server"))]
use sse_hyper::rt::Runtime;

/// smol, for sse-hyper's generic types: this crate's
/// [`EventSource`](crate::EventSource), [`EventReader`](crate::EventReader)
/// and the others are sse-hyper's with this type filled in.
///
/// It is a marker, never built. The client connects with async-net's TCP
/// (and `futures-rustls`), and its timers and the server's keep-alive are
/// `async_io::Timer`s, so they run on any executor.
#[derive(Clone, Copy, Debug)]
pub enum SmolRuntime {}

#[cfg(any(feature = "client", feature = "server"))]
impl Runtime for SmolRuntime {
    type Sleep = Timer;

    fn now() -> Instant {
        Instant::now()
    }

    fn sleep_until(deadline: Instant) -> Self::Sleep {
        Timer::at(deadline)
    }

    fn reset(sleep: &mut Self::Sleep, deadline: Instant) {
        sleep.set_at(deadline);
    }
}
