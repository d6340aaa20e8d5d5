//! The first request head of a connection, read by the server itself
//! before hyper takes over: within the head timeout (counted from the
//! accept, so a client that sends half a head, or nothing, is cut), within
//! a size and a header-count cap, and with conflicting framing refused.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;

use bytes::Bytes;
use http::StatusCode;
use hyper::rt::{Read, ReadBuf, Write};

use super::ServeConfig;

/// How much is read at a time.
const CHUNK: usize = 1024;

/// Why a connection got no further than its first head.
#[derive(Debug)]
pub(super) enum NoHead {
    /// The client closed the connection, or it failed.
    Closed,
    /// The head did not arrive in time (the caller's timer decides).
    TimedOut,
    /// A head that must be refused: answer with this and close.
    Refused(StatusCode, &'static str),
}

/// The framing of a parsed head, as far as the server checks it.
fn check_framing(request: &httparse::Request<'_, '_>) -> Result<(), NoHead> {
    let has = |name: &str| {
        request
            .headers
            .iter()
            .any(|header| header.name.eq_ignore_ascii_case(name))
    };
    if has("content-length") && has("transfer-encoding") {
        // RFC 9112, section 6.3: a request smuggling attempt, or a broken
        // client; either way it cannot be framed safely.
        return Err(NoHead::Refused(
            StatusCode::BAD_REQUEST,
            "Content-Length together with Transfer-Encoding",
        ));
    }
    Ok(())
}

/// What has been read so far parses to a complete head: `Some(true)`,
/// not yet: `Some(false)`; refused: the error.
fn parse(buf: &[u8], max_headers: usize) -> Result<bool, NoHead> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(_)) => check_framing(&request).map(|()| true),
        Ok(httparse::Status::Partial) => Ok(false),
        Err(httparse::Error::TooManyHeaders) => Err(NoHead::Refused(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "too many header fields",
        )),
        // Not HTTP/1 (an HTTP/2 preface among others): hyper's to answer,
        // which closes the connection with its own error.
        Err(httparse::Error::Version) => Ok(true),
        Err(_) => Err(NoHead::Refused(
            StatusCode::BAD_REQUEST,
            "the request head is malformed",
        )),
    }
}

/// Reads until `io` has sent a whole request head; returns every byte read
/// (the head, and whatever followed it in the same reads).
pub(super) async fn read<S: Read + Unpin>(
    io: &mut S,
    config: &ServeConfig,
) -> Result<Bytes, NoHead> {
    // On the heap, not in the connection's future: a task is as large as
    // its largest state, and streams keep theirs.
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let filled = buf.len();
        buf.resize(filled + CHUNK, 0);
        let n = core::future::poll_fn(|cx| {
            poll_read(
                Pin::new(&mut *io),
                cx,
                buf.get_mut(filled..).unwrap_or_default(),
            )
        })
        .await;
        match n {
            Ok(0) | Err(_) => return Err(NoHead::Closed),
            Ok(n) => buf.truncate(filled + n),
        }
        if parse(&buf, config.max_headers)? {
            return Ok(Bytes::from(buf));
        }
        if buf.len() >= config.max_head_bytes {
            return Err(NoHead::Refused(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "the request head is too large",
            ));
        }
    }
}

fn poll_read<S: Read + Unpin>(
    io: Pin<&mut S>,
    cx: &mut Context<'_>,
    chunk: &mut [u8],
) -> Poll<io::Result<usize>> {
    let mut buf = ReadBuf::new(chunk);
    match io.poll_read(cx, buf.unfilled()) {
        Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
        Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        Poll::Pending => Poll::Pending,
    }
}

/// Writes a refusal (`Connection: close`) as well as the client takes it;
/// the caller bounds the time.
pub(super) async fn refuse<S: Write + Unpin>(io: &mut S, status: StatusCode, message: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{message}\n",
        message.len() + 1
    );
    let mut rest = response.as_bytes();
    while !rest.is_empty() {
        let written = core::future::poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, rest)).await;
        match written {
            Ok(0) | Err(_) => return,
            Ok(n) => rest = rest.get(n..).unwrap_or_default(),
        }
    }
    let _ = core::future::poll_fn(|cx| Pin::new(&mut *io).poll_shutdown(cx)).await;
}

#[cfg(test)]
mod tests {
    use super::{NoHead, parse};

    #[test]
    fn complete_partial_and_refused_heads() {
        assert!(parse(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n", 8).unwrap());
        assert!(!parse(b"GET / HTTP/1.1\r\nhost: a\r\n", 8).unwrap());
        assert!(!parse(b"GET /", 8).unwrap());
        let smuggled =
            b"POST /publish HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n";
        assert!(matches!(parse(smuggled, 8), Err(NoHead::Refused(status, _)) if status == 400));
        let many = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
        assert!(matches!(parse(many, 2), Err(NoHead::Refused(status, _)) if status == 431));
        assert!(
            matches!(parse(b"GET / HTTP/1.1\r\nbad header\r\n\r\n", 8), Err(NoHead::Refused(status, _)) if status == 400)
        );
        // An HTTP/2 preface is hyper's to answer.
        assert!(parse(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 8).unwrap());
    }
}
