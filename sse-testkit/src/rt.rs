//! [`TestRuntime`]: what the suites need from a runtime, and the helpers
//! built on it.
//!
//! sse-hyper's own [`rt`](sse_hyper::rt) traits give the suites a clock, a
//! timer and the client's connections; a suite also has to start the test,
//! spawn a task, open a socket the runtime's readers read, and serve HTTP.
//! Those few things are [`TestRuntime`], implemented once per runtime in
//! that runtime's tests (`sse-tokio/tests/behaviour.rs`,
//! `sse-smol/tests/behaviour.rs`), and by this crate for
//! `KitRuntime` (feature `kit-runtime`), which sse-hyper's own tests use.
//!
//! [`run`] starts a test with a hang limit, [`within`] bounds one await and
//! [`until`] polls a condition: a bug fails a test instead of hanging it,
//! and no test asserts how fast anything is.

#[cfg(feature = "kit-runtime")]
mod kit;

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::future;
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use sse_hyper::rt::{Connect, Reads, Runtime, Writes};
use sse_hyper::server::Events;
use sse_hyper::{Builder, EventSource, HyperTransport, Transport};

#[cfg(feature = "kit-runtime")]
pub use kit::KitRuntime;

use crate::scripted::Scripted;

/// Longer than any test needs: a test that takes this long has hung.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Longer than any one await needs (see [`within`]).
pub const AWAIT_LIMIT: Duration = Duration::from_secs(20);

/// What the suites need from a runtime, beyond sse-hyper's own
/// [`rt`](sse_hyper::rt) traits.
///
/// Implemented on a marker type in each runtime's tests; the
/// [`behaviour_suite!`](crate::behaviour_suite) macro takes that type and
/// runs every suite on it. Every method is an associated function: there is
/// no value of the marker.
pub trait TestRuntime: 'static {
    /// The marker sse-hyper's types are named with on this runtime
    /// (`sse_tokio::TokioRuntime`, `sse_smol::SmolRuntime`): it connects the
    /// client, times the keep-alive, reads the runtime's sockets and the
    /// [scripted](Self::Scripted) reader, and writes into a `Vec<u8>`.
    type Rt: Connect + Reads<Self::Tcp> + Reads<Self::Scripted> + Writes<Vec<u8>>;

    /// A TCP connection as the runtime's own readers are
    /// (`tokio::net::TcpStream`, `async_net::TcpStream`), for `EventReader`.
    type Tcp: Send + Unpin + 'static;

    /// A [`Scripted`] reader wrapped as the runtime's readers are (a type of
    /// the runtime's tests that implements its `AsyncRead` with
    /// [`Scripted::read`]).
    type Scripted: Send + Unpin + 'static;

    /// A spawned task: dropping it stops the task.
    type Task: Send + 'static;

    /// Runs `test` to completion on a fresh runtime with at least two
    /// threads, as a server would have (no time limit: [`run`] adds it).
    fn block_on<F: Future>(test: F) -> F::Output;

    /// Spawns `task` on the runtime that [`block_on`](Self::block_on) is
    /// running.
    fn spawn<F>(task: F) -> Self::Task
    where
        F: Future<Output = ()> + Send + 'static;

    /// Connects to `addr` with the runtime's TCP.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Tcp>>;

    /// Wraps `reader` as the runtime's readers are.
    fn scripted(reader: Scripted) -> Self::Scripted;

    /// Serves HTTP/1.1 with `service` on 127.0.0.1 (port chosen by the
    /// system), each connection a task, until the test ends; the address.
    fn serve<S, B>(service: S) -> impl Future<Output = SocketAddr>
    where
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>;

    /// Serves the `Events` endpoint as this runtime's users would mount it:
    /// by default its hyper service through [`serve`](Self::serve); the
    /// tokio tests mount its axum router.
    fn serve_events<P>(events: Events<P, Self::Rt>) -> impl Future<Output = SocketAddr>
    where
        P: Send + Sync + 'static,
    {
        Self::serve(events.service())
    }
}

/// Which [`Transport`] the `source` suite's clients use: [`Hyper`]
/// (sse-hyper's own, what `EventSource::builder` gives) in every runtime's
/// suite, and another client's where one is plugged in (sse-tokio's tests
/// run the suite over reqwest too, with
/// [`source_suite!`](crate::source_suite)).
///
/// The suite builds every client through [`builder`](Self::builder), then
/// sets what it tests (method, headers, body, configuration, decoder), so
/// that one source of tests holds for every transport.
pub trait TestTransport<Rt: Runtime>: 'static {
    /// The transport.
    type Transport: Transport;

    /// A builder for a client that GETs `url` over this transport; an
    /// error when `url` cannot be fetched and the transport says so before
    /// the builder's own checks.
    fn builder(url: &str) -> Result<Builder<Rt, Self::Transport>, sse_hyper::Error>;
}

/// sse-hyper's own [`HyperTransport`], for [`TestTransport`].
#[derive(Debug)]
pub enum Hyper {}

impl<Rt: Connect> TestTransport<Rt> for Hyper {
    type Transport = HyperTransport<Rt>;

    fn builder(url: &str) -> Result<Builder<Rt>, sse_hyper::Error> {
        Ok(EventSource::<Rt>::builder(url))
    }
}

/// Runs `test` with [`TestRuntime::block_on`], failing it if it takes
/// longer than [`TEST_LIMIT`].
pub fn run<R: TestRuntime, F: Future>(test: F) -> F::Output {
    R::block_on(future::or(test, async {
        sleep::<R::Rt>(TEST_LIMIT).await;
        panic!("the test hung")
    }))
}

/// Waits for `time` on `Rt`'s clock.
pub async fn sleep<Rt: Runtime>(time: Duration) {
    Rt::sleep_until(Rt::now() + time).await;
}

/// Awaits `future`, failing the test if it takes longer than
/// [`AWAIT_LIMIT`] on `Rt`'s clock; `what` names the wait in the failure.
pub async fn within<Rt: Runtime, F: Future>(what: &str, future: F) -> F::Output {
    future::or(future, async {
        sleep::<Rt>(AWAIT_LIMIT).await;
        panic!("timed out: {what}")
    })
    .await
}

/// Waits until `check` holds, polling every few milliseconds, for at most
/// [`AWAIT_LIMIT`].
pub async fn until<Rt: Runtime>(what: &str, mut check: impl FnMut() -> bool) {
    within::<Rt, _>(what, async {
        while !check() {
            sleep::<Rt>(Duration::from_millis(5)).await;
        }
    })
    .await;
}
