//! The behaviour tests shared with `sse-smol` (in `tests/shared/`), run on
//! tokio: the same files, compiled against this crate.

use sse_tokio as sse;

#[path = "shared/reader.rs"]
mod reader;
#[path = "shared/server.rs"]
mod server;
#[cfg(feature = "client")]
#[path = "shared/source.rs"]
mod source;
#[path = "shared/stream.rs"]
mod stream;

/// What the shared tests need from the runtime.
mod rt {
    use std::collections::VecDeque;
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use tokio::io::{AsyncRead, ReadBuf};
    use tokio::net::TcpStream;

    /// Longer than any test needs; a test that takes this long has hung.
    const LIMIT: Duration = Duration::from_secs(20);

    /// Runs a test on a fresh current-thread runtime, failing it if it
    /// takes longer than `LIMIT`.
    pub(crate) fn run<F: Future>(test: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async {
            tokio::time::timeout(LIMIT, test)
                .await
                .expect("the test hung")
        })
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
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match self.chunks.pop_front() {
                None => Poll::Ready(Ok(())),
                Some(Err(error)) => Poll::Ready(Err(error)),
                Some(Ok(mut chunk)) => {
                    let n = chunk.len().min(buf.remaining());
                    buf.put_slice(&chunk[..n]);
                    if n < chunk.len() {
                        self.chunks.push_front(Ok(chunk.split_off(n)));
                    }
                    Poll::Ready(Ok(()))
                }
            }
        }
    }
}
