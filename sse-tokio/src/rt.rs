//! [`TokioRuntime`]: what sse-hyper's generic types need from tokio.

#[cfg(feature = "client")]
mod connect;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
#[cfg(any(feature = "client", feature = "server"))]
use std::time::Instant;

#[cfg(any(feature = "client", feature = "server"))]
use sse_hyper::rt::Runtime;
use sse_hyper::rt::{Reads, Writes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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

impl<R: AsyncRead + ?Sized> Reads<R> for TokioRuntime {
    fn poll_read(
        reader: Pin<&mut R>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        ready!(reader.poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl<W: AsyncWrite + ?Sized> Writes<W> for TokioRuntime {
    fn poll_write(
        writer: Pin<&mut W>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        writer.poll_write(cx, buf)
    }

    fn poll_flush(writer: Pin<&mut W>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        writer.poll_flush(cx)
    }
}

/// Accepting connections for sse-hyper's `serve` (and so the hub's):
/// tokio's listener, hyper-util's tokio glue and timer.
#[cfg(feature = "server")]
impl sse_hyper::rt::Serve for TokioRuntime {
    type Listener = tokio::net::TcpListener;
    type Stream = hyper_util::rt::TokioIo<tokio::net::TcpStream>;
    type Timer = hyper_util::rt::TokioTimer;

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, std::net::SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        // Events are small and must not wait for more (Nagle's algorithm).
        stream.set_nodelay(true)?;
        Ok((hyper_util::rt::TokioIo::new(stream), peer))
    }

    fn timer() -> Self::Timer {
        hyper_util::rt::TokioTimer::new()
    }
}

/// TLS for sse-hyper's server (features `server` and `rustls`):
/// tokio-rustls.
#[cfg(all(feature = "server", feature = "rustls"))]
use tokio_rustls::rustls::ServerConfig as TlsServerConfig;

#[cfg(all(feature = "server", feature = "rustls"))]
impl sse_hyper::rt::ServeTls for TokioRuntime {
    type TlsStream =
        hyper_util::rt::TokioIo<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;

    async fn accept_tls(
        stream: Self::Stream,
        config: std::sync::Arc<TlsServerConfig>,
    ) -> io::Result<Self::TlsStream> {
        let tls = tokio_rustls::TlsAcceptor::from(config)
            .accept(stream.into_inner())
            .await?;
        Ok(hyper_util::rt::TokioIo::new(tls))
    }

    fn alpn_protocol(stream: &Self::TlsStream) -> Option<&[u8]> {
        stream.inner().get_ref().1.alpn_protocol()
    }
}
