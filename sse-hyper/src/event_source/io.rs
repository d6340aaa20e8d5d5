//! What `EventSource` does with the runtime: opens connections (plain TCP,
//! or TLS for `https`) through [`Connect`], and keeps the connection
//! model's clock with one timer through [`Runtime`].

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Read, ReadBufCursor, Write};

use super::request::Target;
#[cfg(feature = "rustls")]
use super::tls;
use crate::Error;
#[cfg(feature = "rustls")]
use crate::rt::TlsConnect;
use crate::rt::{Connect, Runtime};

/// Opens connections: plain TCP, or TLS for `https`.
pub(crate) struct Connector<R> {
    /// The caller's TLS configuration; the default one when `None`.
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Default for Connector<R> {
    fn default() -> Self {
        Self {
            #[cfg(feature = "rustls")]
            tls: None,
            runtime: PhantomData,
        }
    }
}

impl<R> Clone for Connector<R> {
    fn clone(&self) -> Self {
        Self {
            #[cfg(feature = "rustls")]
            tls: self.tls.clone(),
            runtime: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Connector<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Connector");
        #[cfg(feature = "rustls")]
        debug.field("tls", &self.tls.is_some());
        debug.finish_non_exhaustive()
    }
}

impl<R: Connect> Connector<R> {
    pub(crate) async fn connect(&self, target: &Target) -> Result<Io<R>, Error> {
        let tcp = R::connect(target.host(), target.port()).await?;
        if !target.is_tls() {
            return Ok(Io::Plain(tcp));
        }
        #[cfg(feature = "rustls")]
        {
            let config = match &self.tls {
                Some(config) => Arc::clone(config),
                None => tls::default_config()?,
            };
            let server_name = tls::server_name(target.host())?;
            let tls = TlsConnect {
                config,
                server_name,
            };
            let stream = R::connect_tls(tcp, tls)
                .await
                .map_err(tls::handshake_error)?;
            Ok(Io::Tls(Box::new(stream)))
        }
        #[cfg(not(feature = "rustls"))]
        Err(Error::UnsupportedUrl(target.uri().clone()))
    }
}

/// The connection hyper speaks HTTP over: TCP, maybe inside TLS.
pub(crate) enum Io<R: Connect> {
    Plain(R::Tcp),
    // Boxed: a TLS stream is large, and the enum is moved into hyper.
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    Tls(Box<R::Tls>),
}

impl<R: Connect> Read for Io<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tls(stream) => Pin::new(&mut **stream).poll_read(cx, buf),
        }
    }
}

impl<R: Connect> Write for Io<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(&mut **stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Self::Tls(stream) => Pin::new(&mut **stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(stream) => stream.is_write_vectored(),
            Self::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(&mut **stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tls(stream) => Pin::new(&mut **stream).poll_shutdown(cx),
        }
    }
}

/// The connection model's clock (milliseconds since the client was built,
/// on the runtime's clock) and one timer on it.
pub(crate) struct Clock<R: Runtime> {
    origin: Instant,
    timer: Option<R::Sleep>,
    /// What the timer is set for.
    armed: Option<sse_proto::Instant>,
}

impl<R: Runtime> fmt::Debug for Clock<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("origin", &self.origin)
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Clock<R> {
    pub(crate) fn new() -> Self {
        Self {
            origin: R::now(),
            timer: None,
            armed: None,
        }
    }

    /// Now, rounded up to the millisecond, so that a delay or timeout the
    /// model computes from it never ends early.
    pub(crate) fn now(&self) -> sse_proto::Instant {
        let elapsed = R::now().saturating_duration_since(self.origin);
        let ms = elapsed.as_nanos().div_ceil(1_000_000);
        sse_proto::Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The moment the clock reads `at`.
    fn deadline(&self, at: sse_proto::Instant) -> Instant {
        // Far enough to mean never, near enough not to overflow the clock.
        const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
        self.origin
            .checked_add(Duration::from_millis(at.as_millis()))
            .unwrap_or_else(|| R::now() + NEVER)
    }

    /// Ready once the clock reaches `at`.
    pub(crate) fn poll_until(&mut self, at: sse_proto::Instant, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline(at);
        if R::now() >= deadline {
            return Poll::Ready(());
        }
        let timer = match &mut self.timer {
            Some(timer) => {
                if self.armed != Some(at) {
                    R::reset(timer, deadline);
                }
                timer
            }
            None => self.timer.insert(R::sleep_until(deadline)),
        };
        self.armed = Some(at);
        match Pin::new(timer).poll(cx) {
            Poll::Ready(_) => {
                self.armed = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
