//! The server side on smol over real HTTP on 127.0.0.1, what only smol's
//! tests check: `serve` giving the access hook the peer's address, and
//! keep-alive comments on smol's timers. The endpoint tests every runtime
//! runs are suites of `sse_testkit`, run in `tests/behaviour.rs`.
#![cfg(feature = "server")]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use smol::Executor;
use smol::net::{TcpListener, TcpStream};
use smol_hyper::rt::FuturesIo;
use sse_smol::server::{ClientAddr, Events, serve};
use sse_smol::{Publisher, SmolRuntime};
use sse_testkit::http_client::Got;
use sse_testkit::rt::within;

/// Runs a test on a fresh executor (with two extra threads, as a server
/// would have).
fn run<F: Future<Output = ()>>(test: impl FnOnce(Arc<Executor<'static>>) -> F) {
    let executor = Arc::new(Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let executor = Arc::clone(&executor);
            let stopped = stopped.clone();
            scope.spawn(move || smol::block_on(executor.run(stopped.recv())));
        }
        smol::block_on(executor.run(test(Arc::clone(&executor))));
        drop(stop);
    });
}

/// Starts `serve` on 127.0.0.1 (port chosen by the system).
async fn start<S, B>(executor: &Arc<Executor<'static>>, service: S) -> SocketAddr
where
    S: hyper::service::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::clone(executor);
    executor
        .spawn(async move {
            let _ = serve(&server, listener, service, std::future::pending()).await;
        })
        .detach();
    addr
}

/// The plain hyper client of the server tests, on smol's timers.
type Client = sse_testkit::http_client::Client<SmolRuntime>;

/// GETs `target` from `addr`, the connection a task on `executor`.
async fn get(
    executor: &Executor<'static>,
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
) -> Client {
    let stream = within::<SmolRuntime, _>("connect", TcpStream::connect(addr))
        .await
        .unwrap();
    let spawn = |connection| -> Box<dyn Send> {
        Box::new(executor.spawn(async move {
            let _ = connection.await;
        }))
    };
    Client::request(FuturesIo::new(stream), spawn, target, headers).await
}

#[test]
fn keep_alive_comments_fill_silence() {
    run(|ex| async move {
        let publisher: Publisher = Publisher::new();
        let events = Events::new(publisher.clone()).keep_alive(Some(Duration::from_millis(50)));
        let addr = start(&ex, events.service()).await;
        let mut client = get(&ex, addr, "/events", &[]).await;
        assert_eq!(client.next().await, Some(Got::Retry(3000)));
        assert_eq!(client.next().await, Some(Got::Comment("keep-alive".into())));
        assert_eq!(client.next().await, Some(Got::Comment("keep-alive".into())));
    });
}

#[test]
fn serve_tells_the_access_hook_who_is_calling() {
    run(|ex| async move {
        let publisher: Publisher<Option<SocketAddr>> = Publisher::new();
        let events = Events::with_access(publisher.clone(), |parts, _| {
            Ok(parts.extensions.get::<ClientAddr>().map(|client| client.0))
        });
        let addr = start(&ex, events.service()).await;
        let mut client = get(&ex, addr, "/events", &[]).await;
        assert_eq!(client.next().await, Some(Got::Retry(3000)));
        let peers: Vec<_> = publisher
            .subscribers(())
            .unwrap()
            .iter()
            .map(|s| *s.properties())
            .collect();
        assert_eq!(peers.len(), 1);
        let peer = peers[0].expect("the peer address");
        assert!(
            peer.ip().is_loopback() && peer.port() != addr.port(),
            "{peer}"
        );
    });
}
