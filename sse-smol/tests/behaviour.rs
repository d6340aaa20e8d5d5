//! The behaviour suites every runtime runs (`sse_testkit::suites`: readers
//! and writers, `EventStream`, `EventSource`, the `Events` endpoint), on
//! smol: [`SmolRuntime`] for sse-hyper's types, and here what else the
//! suites need from smol.
#![cfg(all(feature = "client", feature = "server"))]

use std::cell::RefCell;
use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::AsyncRead;
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use smol::net::{TcpListener, TcpStream};
use smol::{Executor, Task};
use sse_smol::SmolRuntime;
use sse_smol::server::serve;
use sse_testkit::rt::TestRuntime;
use sse_testkit::scripted::Scripted;

sse_testkit::behaviour_suite!(Smol);

/// smol, for the suites.
enum Smol {}

/// The test running on this thread: its executor, and the servers it
/// started (stopped when it ends).
struct Current {
    executor: Arc<Executor<'static>>,
    servers: Vec<Task<()>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// The executor of the test running on this thread.
fn executor() -> Arc<Executor<'static>> {
    CURRENT.with_borrow(|current| {
        let current = current.as_ref().expect("called from a test's own thread");
        Arc::clone(&current.executor)
    })
}

impl TestRuntime for Smol {
    type Rt = SmolRuntime;
    type Tcp = TcpStream;
    type Scripted = ScriptedIo;
    type Task = Task<()>;

    /// A fresh executor, run by this thread and two more, as a server
    /// would have.
    fn block_on<F: Future>(test: F) -> F::Output {
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                let executor = Arc::clone(&executor);
                let stopped = stopped.clone();
                scope.spawn(move || smol::block_on(executor.run(stopped.recv())));
            }
            CURRENT.set(Some(Current {
                executor: Arc::clone(&executor),
                servers: Vec::new(),
            }));
            let output = smol::block_on(executor.run(test));
            // The servers hold the executor: stop them, so that it goes.
            drop(CURRENT.take());
            drop(stop);
            output
        })
    }

    fn spawn<F>(task: F) -> Task<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        executor().spawn(task)
    }

    async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    fn scripted(reader: Scripted) -> ScriptedIo {
        ScriptedIo(reader)
    }

    /// `sse_smol::server::serve`.
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
        let executor = executor();
        let server = executor.spawn({
            let executor = Arc::clone(&executor);
            async move {
                let _ = serve(&executor, listener, service, std::future::pending()).await;
            }
        });
        CURRENT.with_borrow_mut(|current| {
            let current = current.as_mut().expect("called from a test's own thread");
            current.servers.push(server);
        });
        addr
    }
}

/// A scripted reader as a futures-io `AsyncRead`.
struct ScriptedIo(Scripted);

impl AsyncRead for ScriptedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().0.read(buf))
    }
}
