//! The behaviour tests shared with `sse-tokio` (in
//! `sse-tokio/tests/shared/`), run on smol: the same files, compiled
//! against this crate.

use sse_smol as sse;

#[path = "../../sse-tokio/tests/shared/reader.rs"]
mod reader;
#[path = "../../sse-tokio/tests/shared/scripted.rs"]
mod scripted;
#[path = "../../sse-tokio/tests/shared/server.rs"]
mod server;
#[cfg(feature = "client")]
#[path = "../../sse-tokio/tests/shared/source.rs"]
mod source;
#[path = "../../sse-tokio/tests/shared/stream.rs"]
mod stream;

/// What the shared tests need from the runtime.
mod rt {
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use futures_lite::{AsyncRead, future};
    use smol::Timer;
    use smol::net::TcpStream;

    use crate::scripted::Scripted;

    /// Longer than any test needs; a test that takes this long has hung.
    const LIMIT: Duration = Duration::from_secs(20);

    /// Runs a test with `smol::block_on`, failing it if it takes longer
    /// than `LIMIT`.
    pub(crate) fn run<F: Future>(test: F) -> F::Output {
        smol::block_on(future::or(test, async {
            Timer::after(LIMIT).await;
            panic!("the test hung")
        }))
    }

    pub(crate) async fn connect(addr: SocketAddr) -> TcpStream {
        TcpStream::connect(addr).await.expect("connect")
    }

    impl AsyncRead for Scripted {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(self.get_mut().read(buf))
        }
    }
}
