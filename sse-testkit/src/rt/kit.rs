//! [`KitRuntime`]: sse-hyper's runtime traits on tokio, written here so that
//! sse-hyper's own tests need no adapter crate above it.

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use sse_hyper::rt::{Connect, Reads, Runtime, TlsConnect, Writes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::TestRuntime;
use crate::scripted::Scripted;

/// tokio, bound to sse-hyper's [`rt`](sse_hyper::rt) traits by this crate,
/// and a [`TestRuntime`]: sse-hyper's tests run the suites on it with
/// `sse_testkit::behaviour_suite!(sse_testkit::rt::KitRuntime)`.
///
/// The plainest binding there is: tokio's clock and timers, tokio's TCP
/// with Nagle off, `tokio-rustls` for https, tokio's `AsyncRead` and
/// `AsyncWrite` for the readers and writers, and a multi-threaded runtime
/// with two workers for each test. The adapters' own bindings are tested
/// by their own tests, with their own [`TestRuntime`].
#[derive(Clone, Copy, Debug)]
pub enum KitRuntime {}

impl Runtime for KitRuntime {
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

impl Connect for KitRuntime {
    type Tcp = TokioIo<TcpStream>;
    type Tls = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;

    async fn connect(host: &str, port: u16) -> io::Result<Self::Tcp> {
        let tcp = TcpStream::connect((host, port)).await?;
        tcp.set_nodelay(true)?;
        Ok(TokioIo::new(tcp))
    }

    async fn connect_tls(tcp: Self::Tcp, tls: TlsConnect) -> io::Result<Self::Tls> {
        let TlsConnect {
            config,
            server_name,
            ..
        } = tls;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(server_name, tcp.into_inner())
            .await?;
        Ok(TokioIo::new(stream))
    }

    fn alpn_protocol(tls: &Self::Tls) -> Option<&[u8]> {
        tls.inner().get_ref().1.alpn_protocol()
    }
}

impl<R: AsyncRead + ?Sized> Reads<R> for KitRuntime {
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

impl<W: AsyncWrite + ?Sized> Writes<W> for KitRuntime {
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

/// A [`Scripted`] reader as a tokio `AsyncRead`.
#[derive(Debug)]
pub struct ScriptedIo(Scripted);

impl AsyncRead for ScriptedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.get_mut().0.read(buf.initialize_unfilled())?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// A tokio task that is stopped when this is dropped.
#[derive(Debug)]
pub struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TestRuntime for KitRuntime {
    type Rt = Self;
    type Tcp = TcpStream;
    type Scripted = ScriptedIo;
    type Task = AbortOnDrop;

    fn block_on<F: Future>(test: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(test)
    }

    fn spawn<F>(task: F) -> Self::Task
    where
        F: Future<Output = ()> + Send + 'static,
    {
        AbortOnDrop(tokio::spawn(task))
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Tcp> {
        TcpStream::connect(addr).await
    }

    fn scripted(reader: Scripted) -> Self::Scripted {
        ScriptedIo(reader)
    }

    async fn serve<S, B>(service: S) -> SocketAddr
    where
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    }
}
