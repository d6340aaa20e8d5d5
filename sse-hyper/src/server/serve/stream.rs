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
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Version};
use hyper::rt::{Read, ReadBuf, Write};
use sse_proto::Frame;
use sse_proto::publisher::Chunk;

use super::tick::{KeepAlive, Tick};
use crate::rt::Runtime;
use crate::server::watch::{StreamEnd, StreamPath, Watched};
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

/// What is being written: `head`, then `chunks` framed as one HTTP chunk
/// (none when empty), then `tail`; `written` bytes of it so far.
struct Job {
    head: &'static [u8],
    chunks: Vec<Chunk>,
    tail: &'static [u8],
    written: usize,
}

impl Job {
    fn chunks(chunks: Vec<Chunk>) -> Self {
        Self {
            head: b"",
            chunks,
            tail: b"",
            written: 0,
        }
    }

    /// Writes what is left, one vectored write per poll where the socket
    /// takes it; the slices are made on each poll's stack, so the task
    /// keeps none of them.
    fn poll_write<S: Write + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let body: usize = self.chunks.iter().map(|chunk| chunk.len()).sum();
            let mut size = [0u8; 20];
            let size = if body == 0 {
                &[][..]
            } else {
                size_line(body, &mut size)
            };
            let crlf: &[u8] = if body == 0 { b"" } else { b"\r\n" };
            let mut slices: [IoSlice<'_>; BATCH + 4] = [IoSlice::new(&[]); BATCH + 4];
            let mut parts = 0;
            let mut skip = self.written;
            let all = [self.head, size]
                .into_iter()
                .chain(self.chunks.iter().map(|chunk| &chunk[..]))
                .chain([crlf, self.tail]);
            for part in all {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                if let Some(slot) = slices.get_mut(parts) {
                    *slot = IoSlice::new(part.get(skip..).unwrap_or_default());
                    parts += 1;
                }
                skip = 0;
            }
            if parts == 0 {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut *io).poll_write_vectored(cx, &slices[..parts]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written += n,
            }
        }
    }
}

/// One stream on the lean path: the socket, the source, a place on the
/// keep-alive clock, and what is being written. A hand-written future, so
/// that an idle stream holds these and nothing more (no write buffers, no
/// inner futures). `G` is dropped with it (the open-connection count, the
/// shutdown watcher).
pub(super) struct StreamTask<S, G> {
    io: S,
    source: Pin<Box<dyn crate::server::Source>>,
    tick: Arc<Tick>,
    clock: Option<KeepAlive>,
    job: Option<Job>,
    /// A batch's vector, kept for the next batch once written.
    spare: Vec<Chunk>,
    ignored: usize,
    /// The source has ended: the last chunk is being written.
    ending: bool,
    /// What a hub watches of this stream, if it does.
    watched: Option<Watched>,
    _guard: G,
}

impl<S, G> StreamTask<S, G> {
    /// The stream of `body` on `io`: the response head and the `retry:`
    /// hint first.
    pub(super) fn new<R: Runtime>(io: S, body: SseBody<R>, tick: Arc<Tick>, guard: G) -> Self {
        let SseBody {
            source,
            retry,
            keep_alive,
            mut watched,
            ..
        } = body;
        if let Some(watched) = &mut watched {
            watched.start(StreamPath::Lean);
        }
        let clock = keep_alive.map(|_| KeepAlive::new(&tick));
        let first = Job {
            head: HEAD,
            chunks: retry
                .map(|retry| Chunk::encode(Frame::retry(retry)))
                .into_iter()
                .collect(),
            tail: b"",
            written: 0,
        };
        Self {
            io,
            source,
            tick,
            clock,
            job: Some(first),
            spare: Vec::new(),
            ignored: 0,
            ending: false,
            watched,
            _guard: guard,
        }
    }
}

impl<S, G> StreamTask<S, G> {
    /// Tells the watcher, if any, how the stream ended.
    fn end(&mut self, why: StreamEnd) {
        if let Some(watched) = &mut self.watched {
            watched.end(why);
        }
    }
}

impl<S: Read + Write + Unpin, G: Unpin> Future for StreamTask<S, G> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if let Some(job) = &mut this.job {
                match job.poll_write(&mut this.io, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(error)) => {
                        this.end(if error.kind() == io::ErrorKind::TimedOut {
                            StreamEnd::WriteTimeout
                        } else {
                            StreamEnd::WriteError
                        });
                        return Poll::Ready(());
                    }
                    Poll::Ready(Ok(())) => {}
                }
                if this.ending {
                    let _ = Pin::new(&mut this.io).poll_shutdown(cx);
                    return Poll::Ready(());
                }
                if let Some(mut job) = this.job.take() {
                    job.chunks.clear();
                    this.spare = job.chunks;
                }
                if let Some(clock) = &mut this.clock {
                    clock.sent(&this.tick);
                }
            }
            let mut batch = core::mem::take(&mut this.spare);
            while batch.len() < BATCH {
                match this.source.as_mut().poll_chunk(cx) {
                    Poll::Ready(Some(chunk)) => {
                        if let Some(watched) = &this.watched {
                            watched.taken(this.source.position());
                        }
                        batch.push(chunk);
                    }
                    Poll::Ready(None) => {
                        this.ending = true;
                        let lagged = this.source.lagged();
                        this.end(if lagged {
                            StreamEnd::Lagged
                        } else {
                            StreamEnd::Closed
                        });
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            if !batch.is_empty() || this.ending {
                if let Some(watched) = &mut this.watched {
                    let bytes = batch.iter().map(|chunk| chunk.len()).sum();
                    watched.wrote(batch.len(), bytes);
                }
                let mut job = Job::chunks(batch);
                if this.ending {
                    job.tail = LAST_CHUNK;
                }
                this.job = Some(job);
                continue;
            }
            this.spare = batch;
            if poll_gone(&mut this.io, cx, &mut this.ignored) {
                this.end(StreamEnd::Client);
                return Poll::Ready(());
            }
            let due = match &mut this.clock {
                Some(clock) => clock.poll_due(&this.tick, cx),
                None => false,
            };
            if due {
                this.job = Some(Job::chunks(vec![keep_alive_chunk()]));
                continue;
            }
            return Poll::Pending;
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
