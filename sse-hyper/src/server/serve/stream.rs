//! The lean path: a `GET` of the stream route, read by the server itself,
//! is answered without hyper by a small writer that owns only the socket,
//! the subscription and a place on the shared keep-alive clock. A stream
//! connection reads nothing after its head, so it needs no read buffer, no
//! per-stream timer and no boxed body; what it has queued goes out in one
//! write.
//!
//! Every other request (and a stream request with an `Origin`, which needs
//! the CORS layer, or with anything unusual: a body, an upgrade, more bytes
//! after the head, HTTP/1.0) takes the hyper path with its full router.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::io::{self, IoSlice};

use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Version};
use hyper::rt::{Read, ReadBuf, Write};
use sse_proto::Frame;
use sse_proto::publisher::Chunk;

use super::tick::{KeepAlive, Tick};
use crate::rt::Runtime;
use crate::server::watch::{StreamEnd, StreamPath};
use crate::server::{Refusal, SseBody, keep_alive_chunk};

/// The most chunks written at once.
const BATCH: usize = 16;

/// How much a stream client may send after its head before it is cut
/// (it has no reason to send anything).
const MAX_IGNORED: usize = 16 * 1024;

/// The response head of a stream.
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nx-accel-buffering: no\r\ntransfer-encoding: chunked\r\n\r\n";

/// The end of a chunked body.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The request head in `head` as the stream route's request, if it is one
/// the lean path takes: `GET path` over HTTP/1.1, nothing after the head,
/// no body, no `Origin` (CORS is the router's), no upgrade or expectation.
pub(super) fn stream_request(head: &[u8], path: &str, max_headers: usize) -> Option<Parts> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut request = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = request.parse(head).ok()? else {
        return None;
    };
    let target = request.path?;
    let route = target.split('?').next().unwrap_or_default();
    if len != head.len()
        || request.method != Some("GET")
        || request.version != Some(1)
        || route != path
    {
        return None;
    }
    let mut builder = http::Request::builder()
        .method(Method::GET)
        .uri(target)
        .version(Version::HTTP_11);
    for header in request.headers.iter() {
        let name = header.name;
        let unusual = ["origin", "upgrade", "expect", "transfer-encoding"]
            .iter()
            .any(|other| name.eq_ignore_ascii_case(other));
        let body = name.eq_ignore_ascii_case("content-length") && header.value.trim_ascii() != b"0";
        if unusual || body {
            return None;
        }
        builder = builder.header(
            HeaderName::from_bytes(name.as_bytes()).ok()?,
            HeaderValue::from_bytes(header.value).ok()?,
        );
    }
    builder.body(()).ok().map(|request| request.into_parts().0)
}

/// Writes all of `slices`, however the writes split them.
async fn write_all<S: Write + Unpin>(io: &mut S, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        let written =
            core::future::poll_fn(|cx| Pin::new(&mut *io).poll_write_vectored(cx, slices)).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut slices, written);
    }
    Ok(())
}

/// The size line of a chunk of `len` bytes: hexadecimal, then CRLF.
fn size_line(len: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len() - 2;
    buf[at..].copy_from_slice(b"\r\n");
    let mut rest = len;
    loop {
        at -= 1;
        buf[at] = b"0123456789ABCDEF"[rest % 16];
        rest /= 16;
        if rest == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Writes `chunks` as one HTTP chunk, in one vectored write where the
/// socket takes it.
async fn write_chunks<S: Write + Unpin>(io: &mut S, chunks: &[Chunk]) -> io::Result<()> {
    let len: usize = chunks.iter().map(|chunk| chunk.len()).sum();
    if len == 0 {
        return Ok(());
    }
    let mut size = [0u8; 20];
    let size = size_line(len, &mut size);
    let mut slices: [IoSlice<'_>; BATCH + 2] = [IoSlice::new(&[]); BATCH + 2];
    slices[0] = IoSlice::new(size);
    for (slot, chunk) in slices[1..].iter_mut().zip(chunks) {
        *slot = IoSlice::new(chunk);
    }
    let end = chunks.len() + 1;
    slices[end] = IoSlice::new(b"\r\n");
    write_all(io, &mut slices[..=end]).await
}

/// What woke the writer.
enum Next {
    /// Chunks are in the batch, or the source ended (`true`) after them.
    Chunks(bool),
    /// The client closed its side, or sent more than it may.
    Gone,
    /// Nothing was sent for two ticks.
    KeepAlive,
}

/// Reads and drops what the client sends after its head: `true` once it
/// has closed, failed, or sent too much.
fn poll_gone<S: Read + Unpin>(io: &mut S, cx: &mut Context<'_>, ignored: &mut usize) -> bool {
    let mut scratch = [0u8; 64];
    loop {
        let mut buf = ReadBuf::new(&mut scratch);
        match Pin::new(&mut *io).poll_read(cx, buf.unfilled()) {
            Poll::Pending => return false,
            Poll::Ready(Err(_)) => return true,
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                *ignored += n;
                if n == 0 || *ignored > MAX_IGNORED {
                    return true;
                }
            }
        }
    }
}

/// Serves one stream on `io` until its source ends or the client goes.
pub(super) async fn run<S, R>(mut io: S, body: SseBody<R>, tick: &Tick)
where
    S: Read + Write + Unpin,
    R: Runtime,
{
    let SseBody {
        mut source,
        retry,
        keep_alive,
        mut watched,
        ..
    } = body;
    if let Some(watched) = &mut watched {
        watched.start(StreamPath::Lean);
    }
    let retry = retry.map(|retry| Chunk::encode(Frame::retry(retry)));
    let mut start: Vec<IoSlice<'_>> = vec![IoSlice::new(HEAD)];
    let mut size = [0u8; 20];
    if let Some(retry) = &retry {
        start.extend([
            IoSlice::new(size_line(retry.len(), &mut size)),
            IoSlice::new(retry),
            IoSlice::new(b"\r\n"),
        ]);
    }
    if write_all(&mut io, &mut start).await.is_err() {
        return;
    }
    drop(start);
    let mut clock = keep_alive.map(|_| KeepAlive::new(tick));
    let mut batch: Vec<Chunk> = Vec::new();
    let mut ignored = 0;
    loop {
        let next = core::future::poll_fn(|cx| {
            let mut ended = false;
            while batch.len() < BATCH {
                match source.as_mut().poll_chunk(cx) {
                    Poll::Ready(Some(chunk)) => {
                        if let Some(watched) = &watched {
                            watched.taken(source.position());
                        }
                        batch.push(chunk);
                    }
                    Poll::Ready(None) => {
                        ended = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            if !batch.is_empty() || ended {
                return Poll::Ready(Next::Chunks(ended));
            }
            if poll_gone(&mut io, cx, &mut ignored) {
                return Poll::Ready(Next::Gone);
            }
            if clock.as_mut().is_some_and(|clock| clock.poll_due(tick, cx)) {
                return Poll::Ready(Next::KeepAlive);
            }
            Poll::Pending
        })
        .await;
        if let (Some(watched), Next::Chunks(_)) = (&mut watched, &next) {
            let bytes = batch.iter().map(|chunk| chunk.len()).sum();
            watched.wrote(batch.len(), bytes);
        }
        let written = match next {
            Next::Gone => {
                if let Some(watched) = &mut watched {
                    watched.end(StreamEnd::Client);
                }
                return;
            }
            Next::KeepAlive => write_chunks(&mut io, &[keep_alive_chunk()]).await,
            Next::Chunks(ended) => {
                let written = write_chunks(&mut io, &batch).await;
                batch.clear();
                if ended {
                    if let Some(watched) = &mut watched {
                        let lagged = source.lagged();
                        watched.end(if lagged {
                            StreamEnd::Lagged
                        } else {
                            StreamEnd::Closed
                        });
                    }
                    if written.is_ok() {
                        let mut last = [IoSlice::new(LAST_CHUNK)];
                        let _ = write_all(&mut io, &mut last).await;
                        let _ =
                            core::future::poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)).await;
                    }
                    return;
                }
                written
            }
        };
        if let Err(error) = written {
            if let Some(watched) = &mut watched {
                watched.end(if error.kind() == io::ErrorKind::TimedOut {
                    StreamEnd::WriteTimeout
                } else {
                    StreamEnd::WriteError
                });
            }
            return;
        }
        if let Some(clock) = &mut clock {
            clock.sent(tick);
        }
    }
}

/// Writes a refusal with `Connection: close`, then closes.
pub(super) async fn refuse<S: Write + Unpin>(io: &mut S, refusal: Refusal) {
    let (status, headers, message) = refusal.into_parts();
    let mut head = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for (name, value) in &headers {
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "content-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\r\n",
        message.len()
    ));
    let mut slices = [
        IoSlice::new(head.as_bytes()),
        IoSlice::new(message.as_bytes()),
    ];
    let _ = write_all(io, &mut slices).await;
    let _ = core::future::poll_fn(|cx| Pin::new(&mut *io).poll_shutdown(cx)).await;
}

#[cfg(test)]
mod tests {
    use super::{size_line, stream_request};

    #[test]
    fn size_lines_are_hexadecimal() {
        let mut buf = [0u8; 20];
        assert_eq!(size_line(0, &mut buf), b"0\r\n");
        assert_eq!(size_line(255, &mut buf), b"FF\r\n");
        assert_eq!(size_line(0x1_0000, &mut buf), b"10000\r\n");
    }

    #[test]
    fn only_plain_gets_of_the_route_take_the_lean_path() {
        let plain = b"GET /events?channel=a HTTP/1.1\r\nhost: x\r\nlast-event-id: 7\r\n\r\n";
        let parts = stream_request(plain, "/events", 16).expect("a stream request");
        assert_eq!(parts.uri.query(), Some("channel=a"));
        assert_eq!(parts.headers["last-event-id"], "7");
        for other in [
            &b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"[..],
            b"POST /events HTTP/1.1\r\nhost: x\r\n\r\n",
            b"GET /events HTTP/1.0\r\nhost: x\r\n\r\n",
            b"GET /events HTTP/1.1\r\norigin: http://a.test\r\n\r\n",
            b"GET /events HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc",
            b"GET /events HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET /events HTTP/1.1\r\nhost: x\r\n",
        ] {
            assert!(
                stream_request(other, "/events", 16).is_none(),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
