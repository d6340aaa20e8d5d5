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
    /// Certificates trusted besides the system's roots (a private CA), for
    /// the default configuration.
    #[cfg(feature = "rustls")]
    pub(crate) extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The default configuration with [`extra_roots`](Self::extra_roots),
    /// built on the first `https` connection and kept.
    #[cfg(feature = "rustls")]
    with_roots: Arc<std::sync::OnceLock<Arc<rustls::ClientConfig>>>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Default for Connector<R> {
    fn default() -> Self {
        Self {
            #[cfg(feature = "rustls")]
            tls: None,
            #[cfg(feature = "rustls")]
            extra_roots: Vec::new(),
            #[cfg(feature = "rustls")]
            with_roots: Arc::default(),
            runtime: PhantomData,
        }
    }
}

impl<R> Clone for Connector<R> {
    fn clone(&self) -> Self {
        Self {
            #[cfg(feature = "rustls")]
            tls: self.tls.clone(),
            #[cfg(feature = "rustls")]
            extra_roots: self.extra_roots.clone(),
            #[cfg(feature = "rustls")]
            with_roots: Arc::clone(&self.with_roots),
            runtime: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Connector<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Connector");
        #[cfg(feature = "rustls")]
        debug
            .field("tls", &self.tls.is_some())
            .field("extra_roots", &self.extra_roots.len());
        debug.finish_non_exhaustive()
    }
}

impl<R: Connect> Connector<R> {
    /// Connects to `target`: the connection, and whether the server picked
    /// HTTP/2 by ALPN.
    pub(crate) async fn connect(&self, target: &Target) -> Result<(Io<R>, bool), Error> {
        let tcp = R::connect(target.host(), target.port()).await?;
        if !target.is_tls() {
            return Ok((Io::Plain(tcp), false));
        }
        #[cfg(feature = "rustls")]
        {
            let config = self.tls_config()?;
            let server_name = tls::server_name(target.host())?;
            let tls = TlsConnect {
                config,
                server_name,
            };
            let stream = R::connect_tls(tcp, tls)
                .await
                .map_err(tls::handshake_error)?;
            let h2 = R::alpn_protocol(&stream) == Some(b"h2");
            Ok((Io::Tls(Box::new(stream)), h2))
        }
        #[cfg(not(feature = "rustls"))]
        Err(Error::UnsupportedUrl(target.uri().clone()))
    }

    #[cfg(feature = "rustls")]
    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        if let Some(config) = &self.tls {
            return Ok(Arc::clone(config));
        }
        if self.extra_roots.is_empty() {
            return tls::default_config();
        }
        if let Some(config) = self.with_roots.get() {
            return Ok(Arc::clone(config));
        }
        let config = tls::config_with_roots(&self.extra_roots).map_err(Error::Tls)?;
        Ok(Arc::clone(self.with_roots.get_or_init(|| config)))
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
