//! The floors: what any tokio server must pay per idle stream, measured the
//! same way as the hubs. This binary re-executes itself with
//! `--floor-server KIND` to be one of them:
//!
//! - `floor-vec`: accept, write the response head, push the socket into a
//!   `Vec`. The socket alone: no task, no buffer.
//! - `floor-task`: a task per socket that reads the request head into a
//!   1 KiB buffer (in the task's future), writes the response head, and
//!   then waits forever. The least a stream served by a task can cost.
//! - `floor-hyper`: a task per socket running a bare hyper 1 HTTP/1.1
//!   connection whose response body never yields a frame. What a stream
//!   costs through hyper before any hub adds its own state.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::hubs::HubKind;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

/// Serves as one floor until killed.
pub(crate) fn serve(kind: HubKind) -> io::Result<()> {
    // One thread: the per-stream figure does not depend on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("floor: listening on http://{}", listener.local_addr()?);
        match kind {
            HubKind::FloorVec => hold_sockets(listener).await,
            HubKind::FloorHyper => loop {
                let (socket, _) = listener.accept().await?;
                tokio::spawn(serve_hyper(socket));
            },
            _ => loop {
                let (socket, _) = listener.accept().await?;
                tokio::spawn(hold_in_task(socket));
            },
        }
    })
}

async fn hold_sockets(listener: TcpListener) -> io::Result<()> {
    let mut held = Vec::new();
    loop {
        let (socket, _) = listener.accept().await?;
        // A 100-byte head fits any fresh socket's send buffer.
        let _ = socket.try_write(RESPONSE);
        held.push(socket);
    }
}

async fn hold_in_task(mut socket: tokio::net::TcpStream) {
    let mut head = [0u8; 1024];
    let mut len = 0;
    while len < head.len() {
        match socket.read(&mut head[len..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => len += n,
        }
        if memchr::memmem::find(&head[..len], b"\r\n\r\n").is_some() {
            break;
        }
    }
    if socket.write_all(RESPONSE).await.is_err() {
        return;
    }
    // Hold the socket (and the head buffer) until the end.
    std::future::pending::<()>().await;
    drop((socket, head));
}

/// A response body that never yields.
struct Never;

impl hyper::body::Body for Never {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Pending
    }
}

async fn serve_hyper(socket: tokio::net::TcpStream) {
    let _ = socket.set_nodelay(true);
    let service = hyper::service::service_fn(|_request| async {
        let mut response = hyper::Response::new(Never);
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/event-stream"),
        );
        Ok::<_, Infallible>(response)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(socket), service)
        .await;
}
