//! An `EventSource` client on blocking `std::net`, with no async runtime:
//! the sans-IO [`Client`] decides what to do (connect, read, wait, give
//! up), and this loop does it with a `TcpStream`, a sleep, and the time
//! from `std::time::Instant`. Reconnection, `Last-Event-ID` and the server's
//! `retry:` are the `Client`'s; HTTP/1.1 (plain or chunked bodies) is
//! `httparse`'s.
//!
//! ```text
//! cargo run -p sse-proto --example blocking_client -- 127.0.0.1:5000 /events
//! ```
//!
//! Its test, below, runs it against a server on 127.0.0.1 that drops the
//! connection once and checks the client came back with `Last-Event-ID`
//! after the `retry:` time it was sent.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use sse_proto::{
    Action, Client, ClientConfig, CloseReason, Decoder, Event, Frame, Instant, ResponseHead,
    Verdict,
};

/// Time as the `Client` takes it: milliseconds on this program's clock.
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Instant {
        let ms = self.0.elapsed().as_millis();
        Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// Where to connect: `host:port` and the request path, which a redirect
/// can change.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// The path and query.
    pub path: String,
}

/// Runs an `EventSource` on `target` until `on_event` returns false (then
/// [`CloseReason::ByCaller`]) or the client gives up (its reason).
pub fn run(
    mut target: Target,
    config: ClientConfig,
    mut on_event: impl FnMut(&Event<'_>) -> bool,
) -> CloseReason {
    let clock = Clock(std::time::Instant::now());
    // The decoder's buffer: ids, type and data of one event (64 KiB).
    let decoder = Decoder::new(vec![0u8; 64 * 1024]);
    // The jitter's seed: anything that differs between clients.
    let seed = u64::from(std::process::id()) ^ u64::from(clock.0.elapsed().subsec_nanos());
    let mut client = Client::new(decoder, config, seed);
    loop {
        match client.poll(clock.now()) {
            // `Io` before a response: the client follows a redirect.
            Action::Connect | Action::Io { .. } => match connect(&target, &mut client, &clock) {
                Ok(Connected::Open(body)) => {
                    if let Some(reason) = read_body(&mut client, &clock, body, &mut on_event) {
                        return reason;
                    }
                }
                Ok(Connected::Redirect(location)) => target = follow(&target, &location),
                Ok(Connected::Other) => {}
                Err(_) => client.handle_error(clock.now()),
            },
            Action::Wait { until } => std::thread::sleep(until - clock.now()),
            Action::Closed(reason) => return reason,
        }
    }
}

/// What a request led to.
enum Connected {
    /// A `200 text/event-stream`: its body.
    Open(Body),
    /// A redirect to this `Location`.
    Redirect(String),
    /// A failure the client has judged (it will wait, or has closed).
    Other,
}

/// Sends the request with the client's headers and hands it the response.
fn connect<B: sse_proto::DecodeBuf>(
    target: &Target,
    client: &mut Client<B>,
    clock: &Clock,
) -> io::Result<Connected> {
    let stream = TcpStream::connect(&target.addr)?;
    // A request without a response for this long failed.
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        target.path, target.addr
    )
    .into_bytes();
    for (name, value) in client.request_headers() {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    (&stream).write_all(&request)?;

    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    response
        .parse(&head)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    let chunked = header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
    let verdict = client.handle_response(
        clock.now(),
        &ResponseHead {
            status: response.code.unwrap_or(0),
            content_type: header("Content-Type"),
            retry_after: header("Retry-After"),
            date: header("Date"),
            location: header("Location"),
        },
    );
    Ok(match verdict {
        Verdict::Open => Connected::Open(Body {
            reader,
            chunked,
            left: 0,
        }),
        Verdict::Redirect => Connected::Redirect(
            header("Location")
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .unwrap_or_default(),
        ),
        Verdict::Retry | Verdict::Closed => Connected::Other,
    })
}

/// The response head, up to and with its blank line.
fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if reader.read_until(b'\n', &mut head)? == 0 || head.len() > 16 * 1024 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(head)
}

/// Reads the open body into the client until the connection ends, the
/// client closes, or `on_event` asks to stop (then the reason).
fn read_body<B: sse_proto::DecodeBuf>(
    client: &mut Client<B>,
    clock: &Clock,
    mut body: Body,
    on_event: &mut impl FnMut(&Event<'_>) -> bool,
) -> Option<CloseReason> {
    let mut buf = [0u8; 8 * 1024];
    loop {
        let Action::Io { deadline } = client.poll(clock.now()) else {
            return None;
        };
        let timeout = deadline.map(|d| (d - clock.now()).max(Duration::from_millis(1)));
        let _ = body.reader.get_ref().set_read_timeout(timeout);
        let n = match body.read(&mut buf) {
            Ok(0) => {
                client.handle_end(clock.now());
                return None;
            }
            Ok(n) => n,
            Err(error)
                if error.kind() == io::ErrorKind::WouldBlock
                    || error.kind() == io::ErrorKind::TimedOut =>
            {
                client.handle_timeout(clock.now());
                continue;
            }
            Err(_) => {
                client.handle_error(clock.now());
                return None;
            }
        };
        let mut input = &buf[..n];
        while !input.is_empty() {
            match client.handle_body(clock.now(), &mut input) {
                Ok(true) => {
                    if let Some(Frame::Event(event)) = client.frame() {
                        if !on_event(&event) {
                            client.close();
                            return Some(CloseReason::ByCaller);
                        }
                    }
                }
                Ok(false) => break,
                // An event over the decoder's limits was dropped; go on.
                Err(_) => {}
            }
        }
    }
}

/// A response body: read as it comes until the connection closes, or in
/// HTTP/1.1 chunks.
struct Body {
    reader: BufReader<TcpStream>,
    chunked: bool,
    /// Bytes left in the current chunk.
    left: usize,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.chunked {
            return self.reader.read(buf);
        }
        if self.left == 0 {
            // The size line (after the CRLF that ended the last chunk).
            let mut line = Vec::new();
            while !line.ends_with(b"\n") || line.trim_ascii().is_empty() {
                if self.reader.read_until(b'\n', &mut line)? == 0 {
                    return Ok(0);
                }
            }
            let start = line
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(0);
            self.left = match httparse::parse_chunk_size(&line[start..]) {
                Ok(httparse::Status::Complete((_, size))) => {
                    usize::try_from(size).unwrap_or(usize::MAX)
                }
                _ => return Err(io::ErrorKind::InvalidData.into()),
            };
            if self.left == 0 {
                return Ok(0);
            }
        }
        let max = buf.len().min(self.left);
        let n = self.reader.read(&mut buf[..max])?;
        self.left -= n;
        Ok(n)
    }
}

/// The target a redirect to `location` points at: a path on the same
/// server, or `http://host:port/path`.
fn follow(target: &Target, location: &str) -> Target {
    match location.strip_prefix("http://") {
        Some(rest) => {
            let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            Target {
                addr: addr.to_string(),
                path: if path.is_empty() {
                    "/".to_string()
                } else {
                    path.to_string()
                },
            }
        }
        None => Target {
            addr: target.addr.clone(),
            path: location.to_string(),
        },
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:5000".to_string());
    let path = args.next().unwrap_or_else(|| "/events".to_string());
    let reason = run(Target { addr, path }, ClientConfig::new(), |event| {
        let id = event.id().map(|id| id.to_string()).unwrap_or_default();
        println!("{} [{id}] {}", event.event_type(), event.data());
        true
    });
    eprintln!("closed: {reason}");
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use sse_proto::{ClientConfig, CloseReason};

    use super::{Target, run};

    /// The header lines of the request on `stream`.
    fn request_head(stream: &TcpStream) -> Vec<String> {
        let mut reader = BufReader::new(stream);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_string();
            if line.is_empty() {
                return lines;
            }
            lines.push(line);
        }
    }

    /// A server on 127.0.0.1 drops the first connection after `retry: 50`
    /// and two events; the client must come back after 50 ms (not the
    /// minute it was configured with) with `Last-Event-ID: 2`, and read the
    /// third event from a chunked body.
    #[test]
    fn reconnects_with_the_last_event_id_after_the_servers_retry_time() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (heads, requests) = mpsc::channel();
        let server = std::thread::spawn(move || {
            let (mut first, _) = listener.accept().unwrap();
            heads.send(request_head(&first)).unwrap();
            first
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n\
                      retry: 50\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n",
                )
                .unwrap();
            drop(first);
            let dropped = Instant::now();

            let (mut second, _) = listener.accept().unwrap();
            let waited = dropped.elapsed();
            heads.send(request_head(&second)).unwrap();
            second
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\
                      Transfer-Encoding: chunked\r\n\r\n",
                )
                .unwrap();
            for chunk in [&b"id: 3\nda"[..], b"ta: three\n\n"] {
                write!(second, "{:x}\r\n", chunk.len()).unwrap();
                second.write_all(chunk).unwrap();
                second.write_all(b"\r\n").unwrap();
            }
            // Open until the client has what it wants and hangs up.
            let _ = second.read_to_end(&mut Vec::new());
            waited
        });

        // Far longer than the test may take: coming back sooner can only be
        // the server's `retry:`.
        let config = ClientConfig::new()
            .with_reconnection_time(Duration::from_secs(60))
            .with_jitter_permille(0);
        let target = Target {
            addr,
            path: "/events".to_string(),
        };
        let mut events = Vec::new();
        let reason = run(target, config, |event| {
            let id = event.id().map(|id| id.to_string());
            events.push((id.unwrap_or_default(), event.data().to_string()));
            events.len() < 3
        });

        assert_eq!(reason, CloseReason::ByCaller);
        let expected = [("1", "one"), ("2", "two"), ("3", "three")];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(id, data)| (id.to_string(), data.to_string()))
            .collect();
        assert_eq!(events, expected);
        let first = requests.recv().unwrap();
        assert!(
            first.iter().any(|h| h == "Accept: text/event-stream"),
            "{first:?}"
        );
        assert!(
            !first.iter().any(|h| h.starts_with("Last-Event-ID")),
            "{first:?}"
        );
        let second = requests.recv().unwrap();
        assert!(second.iter().any(|h| h == "Last-Event-ID: 2"), "{second:?}");
        let waited = server.join().unwrap();
        assert!(
            waited >= Duration::from_millis(50),
            "came back after {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(30),
            "came back after {waited:?}"
        );
    }
}
