//! The behaviour suites every runtime runs (`sse_testkit::suites`: readers
//! and writers, `EventStream`, `EventSource`, the `Events` endpoint), on
//! tokio: [`TokioRuntime`] for sse-hyper's types, and here what else the
//! suites need from tokio.
#![cfg(all(feature = "client", feature = "server"))]

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use sse_testkit::rt::TestRuntime;
use sse_testkit::scripted::Scripted;
use sse_tokio::TokioRuntime;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

sse_testkit::behaviour_suite!(Tokio);

/// The `EventSource` suite again over a `reqwest::Client`, in the module
/// `$name` for the module `$ours` of this crate and the reqwest crate
/// `$reqwest`: the same tests, the same connection model, another road for
/// the bytes.
macro_rules! over_reqwest {
    ($name:ident, $feature:literal, $ours:ident, $reqwest:ident) => {
        #[cfg(feature = $feature)]
        mod $name {
            use sse_testkit::rt::TestTransport;
            use sse_tokio::TokioRuntime;
            use sse_tokio::$ours::ReqwestTransport;

            sse_testkit::source_suite!(super::Tokio, Reqwest);

            /// A default `reqwest::Client` per source, as an application has.
            enum Reqwest {}

            impl TestTransport<TokioRuntime> for Reqwest {
                type Transport = ReqwestTransport;

                fn builder(url: &str) -> Result<sse_tokio::$ours::Builder, sse_tokio::Error> {
                    sse_tokio::$ours::builder($reqwest::Client::new().get(url))
                }
            }
        }
    };
}

over_reqwest!(over_reqwest, "reqwest", reqwest, reqwest);
over_reqwest!(over_reqwest_012, "reqwest-012", reqwest_012, reqwest_012);

/// tokio, for the suites.
enum Tokio {}

impl TestRuntime for Tokio {
    type Rt = TokioRuntime;
    type Tcp = TcpStream;
    type Scripted = ScriptedIo;
    type Task = AbortOnDrop;

    /// A multi-threaded runtime with two workers, as a server would have.
    fn block_on<F: Future>(test: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(test)
    }

    fn spawn<F>(task: F) -> AbortOnDrop
    where
        F: Future<Output = ()> + Send + 'static,
    {
        AbortOnDrop(tokio::spawn(task))
    }

    async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    fn scripted(reader: Scripted) -> ScriptedIo {
        ScriptedIo(reader)
    }

    /// hyper's HTTP/1.1 connections on tokio's TCP, as a hand-written
    /// server would have them.
    async fn serve<S, B>(service: S) -> SocketAddr
    where
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
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

    /// The endpoint as an axum router, served by `axum::serve`, as users
    /// of tokio mount it (feature `axum`; without it, the hyper service).
    #[cfg(feature = "axum")]
    async fn serve_events<P>(events: sse_tokio::server::Events<P>) -> SocketAddr
    where
        P: Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = events.router();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }
}

/// A scripted reader as a tokio `AsyncRead`.
struct ScriptedIo(Scripted);

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

/// Stops a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
