//! What `EventSource` needs from smol: a TCP (and TLS) connection for
//! hyper, and a timer (async-net and async-io, which run on any executor).

use std::future::Future;
use std::io;
use std::pin::Pin;
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use async_net::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};
use smol_hyper::rt::FuturesIo;

use super::request::Target;
#[cfg(feature = "rustls")]
use super::tls;
use crate::Error;

/// The connection hyper speaks HTTP over.
pub(crate) type Io = FuturesIo<Stream>;

/// Opens connections: plain TCP, or TLS for `https`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connector {
    /// The caller's TLS configuration; the default one when `None`.
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl Connector {
    pub(crate) async fn connect(&self, target: &Target) -> Result<Io, Error> {
        let tcp = TcpStream::connect((target.host(), target.port())).await?;
        tcp.set_nodelay(true)?;
        if !target.is_tls() {
            return Ok(FuturesIo::new(Stream::Plain(tcp)));
        }
        #[cfg(feature = "rustls")]
        {
            let config = match &self.tls {
                Some(config) => Arc::clone(config),
                None => tls::default_config()?,
            };
            let name = tls::server_name(target.host())?;
            let stream = futures_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(tls::handshake_error)?;
            Ok(FuturesIo::new(Stream::Tls(Box::new(stream))))
        }
        #[cfg(not(feature = "rustls"))]
        Err(Error::UnsupportedUrl(target.uri().clone()))
    }
}

/// A TCP stream, maybe inside TLS.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<futures_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Tls(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Tls(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Self::Tls(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Self::Tls(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_close(cx),
            #[cfg(feature = "rustls")]
            Self::Tls(stream) => Pin::new(stream).poll_close(cx),
        }
    }
}

/// The connection model's clock (milliseconds since the client was built,
/// on the monotonic clock) and one timer on it.
#[derive(Debug)]
pub(crate) struct Clock {
    origin: Instant,
    timer: Timer,
    /// What the timer is set for.
    armed: Option<sse_proto::Instant>,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::now(),
            timer: Timer::never(),
            armed: None,
        }
    }

    /// Now, rounded up to the millisecond, so that a delay or timeout the
    /// model computes from it never ends early.
    pub(crate) fn now(&self) -> sse_proto::Instant {
        let elapsed = self.origin.elapsed().as_nanos().div_ceil(1_000_000);
        sse_proto::Instant::from_millis(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }

    /// The moment the clock reads `at`.
    fn deadline(&self, at: sse_proto::Instant) -> Instant {
        // Far enough to mean never, near enough not to overflow the clock.
        const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
        self.origin
            .checked_add(Duration::from_millis(at.as_millis()))
            .unwrap_or_else(|| Instant::now() + NEVER)
    }

    /// Ready once the clock reaches `at`.
    pub(crate) fn poll_until(&mut self, at: sse_proto::Instant, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline(at);
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        if self.armed != Some(at) {
            self.timer.set_at(deadline);
            self.armed = Some(at);
        }
        match Pin::new(&mut self.timer).poll(cx) {
            Poll::Ready(_) => {
                self.armed = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
