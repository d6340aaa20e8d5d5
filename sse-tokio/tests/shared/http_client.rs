//! A plain hyper client for the server tests of both adapters: it reads a
//! streaming response and decodes its frames with `sse_proto` directly, so
//! it checks the bytes on the wire and not our own client.
//!
//! The test crate that includes it (`tests/server.rs` in each adapter)
//! provides `within`, its runtime's time limit for one await, and opens
//! the connection (`Client::get`).
//!
//! This file is shared by `sse-tokio` and `sse-smol` (`#[path]`).

#![allow(dead_code)]

use std::collections::VecDeque;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection};
use sse_proto::{Decoder, EventBuf, Frame, Limits};

use crate::within;

/// A frame as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Got {
    Event(EventBuf),
    Retry(u64),
    Comment(String),
}

/// An event with an id, as a client sees it.
pub(crate) fn event(id: u64, data: &str) -> Got {
    Got::Event(EventBuf::new(data).with_id(id.to_string()).unwrap())
}

/// A streaming response read with a plain hyper client.
pub(crate) struct Client {
    pub(crate) status: http::StatusCode,
    pub(crate) headers: http::HeaderMap,
    body: Incoming,
    decoder: Decoder<Box<[u8]>>,
    frames: VecDeque<Got>,
    /// What drives the connection; dropping it stops the connection.
    _connection: Box<dyn Send>,
}

impl Client {
    /// GETs `target` with `headers` over `io`. `spawn` runs the
    /// connection's I/O on the runtime and gives back a guard that stops it
    /// when dropped.
    pub(crate) async fn request<I>(
        io: I,
        spawn: impl FnOnce(Connection<I, Empty<Bytes>>) -> Box<dyn Send>,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Self
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (mut sender, connection) = within("handshake", http1::handshake(io)).await.unwrap();
        let connection = spawn(connection);
        let mut request = http::Request::get(target).header("host", "127.0.0.1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Empty::<Bytes>::new()).unwrap();
        let response = within("response head", sender.send_request(request))
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
        }
    }

    /// The next frame, or `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Option<Got> {
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Some(frame);
            }
            let frame = within("body frame", self.body.frame()).await?.ok()?;
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
    pub(crate) async fn events(&mut self, n: usize) -> Vec<Got> {
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
    pub(crate) async fn text(mut self) -> String {
        let body = within("body", (&mut self.body).collect()).await.unwrap();
        String::from_utf8(body.to_bytes().to_vec()).unwrap()
    }
}
