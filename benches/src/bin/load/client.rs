//! The load generator's HTTP/1.1 client, as lean as the measurement needs:
//! connect from one of several loopback source addresses, open a stream,
//! scan its body for `data:` lines, and publish over keep-alive
//! connections.
//!
//! Written by hand rather than with a client library so that the client's
//! own cost per event stays small and the same for every hub: one read
//! buffer per connection, no allocation per event.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How many loopback source addresses the clients spread over
/// (127.0.0.2 to 127.0.0.9): eight times the ephemeral ports, so that
/// churn's TIME_WAIT sockets cannot run out of them.
const SOURCES: usize = 8;
/// The largest response head accepted.
const MAX_HEAD: usize = 16 * 1024;

static NEXT_SOURCE: AtomicUsize = AtomicUsize::new(0);

/// Options of a client socket.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SocketOptions {
    /// `SO_RCVBUF`, set before connecting (a stalled subscriber's small
    /// window fills at once).
    pub(crate) recv_buffer: Option<u32>,
}

/// Connects to `addr` from the next loopback source address, round-robin.
pub(crate) async fn connect(addr: SocketAddr, options: SocketOptions) -> io::Result<TcpStream> {
    let n = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) % SOURCES;
    // n < 8, so the last octet is 2..=9.
    let source = Ipv4Addr::new(127, 0, 0, 2 + n as u8);
    let socket = TcpSocket::new_v4()?;
    bind_address_no_port(&socket);
    socket.bind(SocketAddr::from((source, 0)))?;
    if let Some(size) = options.recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `IP_BIND_ADDRESS_NO_PORT`: let `connect` choose the source port for
/// the whole 4-tuple instead of `bind` reserving one for the address alone.
/// Best effort: without it, ports are only used up faster.
fn bind_address_no_port(socket: &TcpSocket) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket descriptor owned by `socket`, and a pointer to
    // a live c_int with its exact size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&raw const one).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Closes a stream with a reset instead of a FIN: no TIME_WAIT socket left
/// behind when a scenario tears thousands of streams down at once.
pub(crate) fn close_with_reset(stream: TcpStream) {
    if let Ok(std) = stream.into_std() {
        let _ = socket_linger_zero(&std);
    }
}

fn socket_linger_zero(stream: &std::net::TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a pointer to a live `linger`
    // with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// An open event stream: its socket, the body bytes that came with the
/// head, and how the body is framed.
pub(crate) struct OpenStream {
    pub(crate) stream: TcpStream,
    pub(crate) scanner: Scanner,
    /// Body bytes read together with the head, not yet scanned.
    pub(crate) leftover: Vec<u8>,
    /// From the start of `connect` to the end of the response head.
    pub(crate) open_time: Duration,
}

/// Opens `GET /events?channel=NAME` and reads the response head; a status
/// other than 200 is an error.
pub(crate) async fn open_stream(
    addr: SocketAddr,
    channel: &str,
    options: SocketOptions,
) -> io::Result<OpenStream> {
    let start = Instant::now();
    let mut stream = connect(addr, options).await?;
    let (scanner, leftover) = request_stream(&mut stream, addr, channel).await?;
    Ok(OpenStream {
        stream,
        scanner,
        leftover,
        open_time: start.elapsed(),
    })
}

/// Sends `GET /events?channel=NAME` over `stream` (plain or TLS) and reads
/// the response head; a status other than 200 is an error. Returns the
/// body's scanner and the body bytes read with the head.
pub(crate) async fn request_stream<S>(
    stream: &mut S,
    addr: SocketAddr,
    channel: &str,
) -> io::Result<(Scanner, Vec<u8>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = format!(
        "GET /events?channel={channel} HTTP/1.1\r\nHost: {addr}\r\n\
         Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    // A TLS stream may hold the last record until flushed.
    stream.flush().await?;
    let mut buffer = Vec::with_capacity(1024);
    let head = read_head(stream, &mut buffer).await?;
    if head.status != 200 {
        return Err(io::Error::other(format!(
            "GET /events: status {}",
            head.status
        )));
    }
    let leftover = buffer.split_off(head.len);
    Ok((Scanner::new(head.chunked), leftover))
}

/// What a response head says.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    chunked: bool,
    content_length: Option<usize>,
    /// The head's length in bytes, its blank line included.
    len: usize,
}

/// Reads until `buffer` holds a whole response head.
async fn read_head<S>(stream: &mut S, buffer: &mut Vec<u8>) -> io::Result<Head>
where
    S: AsyncRead + Unpin,
{
    loop {
        if let Some(head) = parse_head(buffer)? {
            return Ok(head);
        }
        if buffer.len() >= MAX_HEAD {
            return Err(io::Error::other("response head too long"));
        }
        if stream.read_buf(buffer).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Parses a response head once it is complete (`None` before).
fn parse_head(bytes: &[u8]) -> io::Result<Option<Head>> {
    let Some(end) = memchr::memmem::find(bytes, b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes[..end])
        .map_err(|_| io::Error::other("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1.1 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line in {text:?}")))?;
    let mut chunked = false;
    let mut content_length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().ok();
        }
    }
    Ok(Some(Head {
        status,
        chunked,
        content_length,
        len: end + 4,
    }))
}

/// Finds the `data:` lines of an event stream, through chunked transfer
/// coding when the response has it.
///
/// A minimal scan for the hubs measured here, which end lines with LF and
/// send single-line data: each `data:` line counts as one event. (A full
/// decoder would be sse-proto's; this one costs a `memchr` per line.)
pub(crate) struct Scanner {
    chunk: Option<Chunk>,
    /// The unfinished line carried over between reads.
    line: Vec<u8>,
    /// The body has ended (the last chunk).
    ended: bool,
}

/// Where the chunk decoder is.
#[derive(Clone, Copy, Debug)]
enum Chunk {
    /// In a size line: the value so far, and whether an extension started.
    Size { value: usize, extension: bool },
    /// In a chunk's data, with this many bytes left.
    Data(usize),
    /// After a chunk's data, before its line end.
    DataEnd,
    /// After the last chunk's size line, in the trailer: whether at the
    /// start of a line (an empty line ends the body).
    Trailer { line_start: bool },
}

impl Scanner {
    pub(crate) fn new(chunked: bool) -> Self {
        Self {
            chunk: chunked.then_some(Chunk::Size {
                value: 0,
                extension: false,
            }),
            line: Vec::new(),
            ended: false,
        }
    }

    /// Whether the body has ended with its last chunk.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// Scans `bytes`, calling `on_data` with the value of every complete
    /// `data:` line. A malformed chunked body is an error.
    pub(crate) fn feed(
        &mut self,
        mut bytes: &[u8],
        on_data: &mut impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let Some(mut state) = self.chunk else {
            self.lines(bytes, on_data);
            return Ok(());
        };
        // Every `bytes[0]` below is inside this loop: `bytes` is not empty.
        while !bytes.is_empty() && !self.ended {
            match state {
                Chunk::Size { value, extension } => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    state = match byte {
                        b'\n' if value == 0 => Chunk::Trailer { line_start: true },
                        b'\n' => Chunk::Data(value),
                        b'\r' => state,
                        _ if extension => state,
                        b';' => Chunk::Size {
                            value,
                            extension: true,
                        },
                        _ => {
                            let digit = (byte as char)
                                .to_digit(16)
                                .ok_or_else(|| io::Error::other("bad chunk size"))?;
                            let value = value
                                .checked_mul(16)
                                .and_then(|v| v.checked_add(digit as usize))
                                .ok_or_else(|| io::Error::other("chunk size overflows"))?;
                            Chunk::Size { value, extension }
                        }
                    };
                }
                Chunk::Data(left) => {
                    let take = left.min(bytes.len());
                    let (data, rest) = bytes.split_at(take);
                    self.lines(data, on_data);
                    bytes = rest;
                    state = if take == left {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - take)
                    };
                }
                Chunk::DataEnd => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    state = match byte {
                        b'\r' => state,
                        b'\n' => Chunk::Size {
                            value: 0,
                            extension: false,
                        },
                        _ => return Err(io::Error::other("no line end after a chunk")),
                    };
                }
                Chunk::Trailer { line_start } => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    state = match byte {
                        b'\n' if line_start => {
                            self.ended = true;
                            state
                        }
                        b'\n' => Chunk::Trailer { line_start: true },
                        b'\r' => state,
                        _ => Chunk::Trailer { line_start: false },
                    };
                }
            }
        }
        self.chunk = Some(state);
        Ok(())
    }

    /// Splits body bytes into lines, carrying an unfinished one over.
    fn lines(&mut self, mut bytes: &[u8], on_data: &mut impl FnMut(&[u8])) {
        while let Some(end) = memchr::memchr(b'\n', bytes) {
            let (line, rest) = bytes.split_at(end);
            bytes = &rest[1..];
            if self.line.is_empty() {
                data_line(line, on_data);
            } else {
                self.line.extend_from_slice(line);
                data_line(&self.line, on_data);
                self.line.clear();
            }
        }
        self.line.extend_from_slice(bytes);
    }
}

fn data_line(line: &[u8], on_data: &mut impl FnMut(&[u8])) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(value) = line.strip_prefix(b"data:") {
        on_data(value.strip_prefix(b" ").unwrap_or(value));
    }
}

/// The data of a benchmark event: `SEQ SENT_NS ` and padding to the size.
pub(crate) fn event_data(seq: u64, sent_ns: u64, size: usize, out: &mut Vec<u8>) {
    use std::io::Write;
    out.clear();
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{seq} {sent_ns} ");
    if out.len() < size {
        out.resize(size, b'x');
    }
}

/// The sequence number and send time in an event's data.
pub(crate) fn parse_event(data: &[u8]) -> Option<(u64, u64)> {
    let mut fields = data.split(|&b| b == b' ');
    let seq = ascii_u64(fields.next()?)?;
    let sent = ascii_u64(fields.next()?)?;
    Some((seq, sent))
}

fn ascii_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// A keep-alive connection that publishes one event at a time.
pub(crate) struct Publisher {
    stream: TcpStream,
    addr: SocketAddr,
    request: Vec<u8>,
    response: Vec<u8>,
}

impl Publisher {
    pub(crate) async fn connect(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            stream: connect(addr, SocketOptions::default()).await?,
            addr,
            request: Vec::with_capacity(2048),
            response: Vec::with_capacity(2048),
        })
    }

    /// `POST /publish?channel=NAME` with `data` as a plain body; returns
    /// the response status once the whole response is read.
    pub(crate) async fn publish(&mut self, channel: &str, data: &[u8]) -> io::Result<u16> {
        use std::io::Write;
        self.request.clear();
        write!(
            self.request,
            "POST /publish?channel={channel} HTTP/1.1\r\nHost: {}\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            data.len()
        )?;
        self.request.extend_from_slice(data);
        self.stream.write_all(&self.request).await?;
        let head = read_head(&mut self.stream, &mut self.response).await?;
        self.response.drain(..head.len);
        if head.chunked {
            self.skip_chunked().await?;
        } else {
            let length = head.content_length.unwrap_or(0);
            while self.response.len() < length {
                if self.stream.read_buf(&mut self.response).await? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            self.response.drain(..length);
        }
        Ok(head.status)
    }

    async fn skip_chunked(&mut self) -> io::Result<()> {
        let mut scanner = Scanner::new(true);
        loop {
            scanner.feed(&self.response, &mut |_| {})?;
            self.response.clear();
            if scanner.ended() {
                return Ok(());
            }
            if self.stream.read_buf(&mut self.response).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(chunked: bool, bytes: &[u8], split: usize) -> Vec<Vec<u8>> {
        let mut scanner = Scanner::new(chunked);
        let mut out = Vec::new();
        for piece in bytes.chunks(split.max(1)) {
            scanner
                .feed(piece, &mut |data| out.push(data.to_vec()))
                .unwrap();
        }
        out
    }

    #[test]
    fn plain_body_at_every_split() {
        let body = b": hi\n\nid: 1\ndata: 1 22 xx\n\nid: 2\r\ndata:2 33\r\n\r\n";
        for split in 1..=body.len() {
            assert_eq!(
                scan_all(false, body, split),
                [b"1 22 xx".to_vec(), b"2 33".to_vec()],
                "split {split}"
            );
        }
    }

    #[test]
    fn chunked_body_at_every_split() {
        let body = b"6\r\n: hi\n\n\r\n12;ext=1\r\nid: 1\ndata: 7 8 x\n\r\n1\r\n\n\r\n0\r\n\r\n";
        for split in 1..=body.len() {
            let mut scanner = Scanner::new(true);
            let mut out = Vec::new();
            for piece in body.chunks(split) {
                scanner.feed(piece, &mut |d| out.push(d.to_vec())).unwrap();
            }
            assert_eq!(out, [b"7 8 x".to_vec()], "split {split}");
            assert!(scanner.ended(), "split {split}");
        }
    }

    #[test]
    fn bad_chunk_size_is_an_error() {
        let mut scanner = Scanner::new(true);
        assert!(scanner.feed(b"zz\r\n", &mut |_| {}).is_err());
    }

    #[test]
    fn event_data_round_trips() {
        let mut out = Vec::new();
        event_data(42, 123_456_789, 128, &mut out);
        assert_eq!(out.len(), 128);
        assert_eq!(parse_event(&out), Some((42, 123_456_789)));
        event_data(7, 9, 2, &mut out);
        assert_eq!(out, b"7 9 ");
        assert_eq!(parse_event(b"x 1 "), None);
        assert_eq!(parse_event(b"1"), None);
    }

    #[test]
    fn heads_are_parsed_when_complete() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nrest";
        assert_eq!(parse_head(&head[..20]).unwrap(), None);
        assert_eq!(
            parse_head(head).unwrap(),
            Some(Head {
                status: 200,
                chunked: true,
                content_length: None,
                len: head.len() - 4,
            })
        );
        let head = b"HTTP/1.1 202 Accepted\r\ncontent-length: 12\r\n\r\n";
        assert_eq!(
            parse_head(head).unwrap().map(|h| h.content_length),
            Some(Some(12))
        );
        assert!(parse_head(b"HTTP/1.0 x\r\n\r\n").is_err());
    }
}
