//! [`SmolRuntime`]: what sse-hyper's generic types need from smol.

#[cfg(feature = "client")]
mod connect;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
#[cfg(any(feature = "client", feature = "server"))]
use std::time::Instant;

#[cfg(any(feature = "client", feature = "server"))]
use async_io::Timer;
use futures_io::{AsyncRead, AsyncWrite};
#[cfg(any(feature = "client", feature = "server"))]
use sse_hyper::rt::Runtime;
use sse_hyper::rt::{Reads, Writes};

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

impl<R: AsyncRead + ?Sized> Reads<R> for SmolRuntime {
    fn poll_read(
        reader: Pin<&mut R>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        reader.poll_read(cx, buf)
    }
}

impl<W: AsyncWrite + ?Sized> Writes<W> for SmolRuntime {
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
/// async-net's listener, smol-hyper's glue and timer.
#[cfg(feature = "server")]
impl sse_hyper::rt::Serve for SmolRuntime {
    type Listener = async_net::TcpListener;
    type Stream = smol_hyper::rt::FuturesIo<async_net::TcpStream>;
    type Timer = smol_hyper::rt::SmolTimer;

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, std::net::SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        // Events are small and must not wait for more (Nagle's algorithm).
        stream.set_nodelay(true)?;
        Ok((smol_hyper::rt::FuturesIo::new(stream), peer))
    }

    fn timer() -> Self::Timer {
        smol_hyper::rt::SmolTimer::new()
    }
}

/// TLS for sse-hyper's server (features `server` and `rustls`):
/// futures-rustls.
#[cfg(all(feature = "server", feature = "rustls"))]
use futures_rustls::rustls::ServerConfig as TlsServerConfig;

#[cfg(all(feature = "server", feature = "rustls"))]
impl sse_hyper::rt::ServeTls for SmolRuntime {
    type TlsStream =
        smol_hyper::rt::FuturesIo<futures_rustls::server::TlsStream<async_net::TcpStream>>;

    async fn accept_tls(
        stream: Self::Stream,
        config: std::sync::Arc<TlsServerConfig>,
    ) -> io::Result<Self::TlsStream> {
        let tls = futures_rustls::TlsAcceptor::from(config)
            .accept(stream.into_inner())
            .await?;
        Ok(smol_hyper::rt::FuturesIo::new(tls))
    }

    fn alpn_protocol(stream: &Self::TlsStream) -> Option<&[u8]> {
        stream.get_ref().get_ref().1.alpn_protocol()
    }
}
