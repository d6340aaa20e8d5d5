//! The behaviour tests shared with `sse-tokio` (in
//! `sse-tokio/tests/shared/`), run on smol: the same files, compiled
//! against this crate.

use sse_smol as sse;

#[path = "../../sse-tokio/tests/shared/reader.rs"]
mod reader;
#[path = "../../sse-tokio/tests/shared/server.rs"]
mod server;
#[cfg(feature = "client")]
#[path = "../../sse-tokio/tests/shared/source.rs"]
mod source;
#[path = "../../sse-tokio/tests/shared/stream.rs"]
mod stream;

/// What the shared tests need from the runtime.
mod rt {
    use std::collections::VecDeque;
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use futures_lite::{AsyncRead, future};
    use smol::Timer;
    use smol::net::TcpStream;

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

    /// A reader that returns exactly these chunks (or errors), one per
    /// read, then the end of the input.
    pub(crate) fn scripted(chunks: Vec<io::Result<Vec<u8>>>) -> Scripted {
        Scripted {
            chunks: chunks.into(),
        }
    }

    pub(crate) struct Scripted {
        chunks: VecDeque<io::Result<Vec<u8>>>,
    }

    impl AsyncRead for Scripted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            match self.chunks.pop_front() {
                None => Poll::Ready(Ok(0)),
                Some(Err(error)) => Poll::Ready(Err(error)),
                Some(Ok(mut chunk)) => {
                    let n = chunk.len().min(buf.len());
                    buf[..n].copy_from_slice(&chunk[..n]);
                    if n < chunk.len() {
                        self.chunks.push_front(Ok(chunk.split_off(n)));
                    }
                    Poll::Ready(Ok(n))
                }
            }
        }
    }
}
