//! A plain hyper client for the server tests: it reads a streaming response
//! and decodes its frames with `sse_proto` directly, so it checks the bytes
//! on the wire and not our own client.
//!
//! [`get`] opens a connection on a [`TestRuntime`]; tests of one runtime
//! that open their own sockets call [`Client::request`]. Every await is
//! bounded by [`within`] on the runtime's clock.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection};
use sse_hyper::rt::{Connect, Runtime};
use sse_proto::{Decoder, EventBuf, Frame, GrowableBuf, Limits};

use crate::rt::{TestRuntime, within};

/// A frame as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Got {
    /// An event.
    Event(EventBuf),
    /// A `retry:` hint, in milliseconds.
    Retry(u64),
    /// A comment (a keep-alive, say).
    Comment(String),
}

/// An event with an id, as a client sees it.
pub fn event(id: u64, data: &str) -> Got {
    Got::Event(EventBuf::new(data).with_id(id.to_string()).unwrap())
}

/// A streaming response read with a plain hyper client; its waits are
/// bounded on `Rt`'s clock.
pub struct Client<Rt> {
    /// The response's status.
    pub status: http::StatusCode,
    /// The response's headers.
    pub headers: http::HeaderMap,
    body: Incoming,
    decoder: Decoder<GrowableBuf>,
    frames: VecDeque<Got>,
    /// What drives the connection; dropping it stops the connection.
    _connection: Box<dyn Send>,
    runtime: PhantomData<fn() -> Rt>,
}

/// GETs `target` from `addr` with `headers`, over a connection of `R`
/// whose I/O runs as a task of `R`.
pub async fn get<R: TestRuntime>(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
) -> Client<R::Rt> {
    let host = addr.ip().to_string();
    let io = within::<R::Rt, _>("connect", R::Rt::connect(&host, addr.port()))
        .await
        .unwrap();
    let spawn = |connection: Connection<_, _>| -> Box<dyn Send> {
        Box::new(R::spawn(async move {
            let _ = connection.await;
        }))
    };
    Client::request(io, spawn, target, headers).await
}

impl<Rt: Runtime> Client<Rt> {
    /// GETs `target` with `headers` over `io`. `spawn` runs the
    /// connection's I/O on the runtime and gives back a guard that stops it
    /// when dropped.
    pub async fn request<I>(
        io: I,
        spawn: impl FnOnce(Connection<I, Empty<Bytes>>) -> Box<dyn Send>,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Self
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (mut sender, connection) = within::<Rt, _>("handshake", http1::handshake(io))
            .await
            .unwrap();
        let connection = spawn(connection);
        let mut request = http::Request::get(target).header("host", "127.0.0.1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Empty::<Bytes>::new()).unwrap();
        let response = within::<Rt, _>("response head", sender.send_request(request))
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
            decoder: Decoder::with_capacity(1 << 16, Limits::new().with_max_comment_len(64)),
            frames: VecDeque::new(),
            _connection: connection,
            runtime: PhantomData,
        }
    }

    /// The next frame, or `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Got> {
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Some(frame);
            }
            let frame = within::<Rt, _>("body frame", self.body.frame())
                .await?
                .ok()?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let mut input = &data[..];
            while let Some(frame) = self.decoder.decode(&mut input) {
                self.frames.push_back(match frame.unwrap() {
                    Frame::Event(event) => Got::Event(EventBuf::from(event)),
                    Frame::Retry(ms) => Got::Retry(ms),
                    Frame::Comment(text) => Got::Comment(text.to_string_lossy().into_owned()),
                });
            }
        }
    }

    /// The next `n` frames that are not keep-alive comments (fewer if the
    /// body ends).
    pub async fn events(&mut self, n: usize) -> Vec<Got> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.next().await {
                Some(Got::Comment(_)) => {}
                Some(got) => out.push(got),
                None => break,
            }
        }
        out
    }

    /// The whole body as text.
    pub async fn text(mut self) -> String {
        let body = within::<Rt, _>("body", (&mut self.body).collect())
            .await
            .unwrap();
        String::from_utf8(body.to_bytes().to_vec()).unwrap()
    }
}
