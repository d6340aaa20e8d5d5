//! An event-stream server on blocking `std::net`, with no async runtime:
//! a thread per connection, each frame encoded into one fixed 512-byte
//! buffer on the stack (`Frame::encode`, which says how much room a frame
//! needs when it does not fit) and written. It sends numbered ticks and
//! resumes after the client's `Last-Event-ID`.
//!
//! ```text
//! cargo run -p sse-proto --example blocking_server -- 127.0.0.1:5000
//! curl -N http://127.0.0.1:5000/ -H 'Last-Event-ID: 3'
//! ```

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use sse_proto::{DEFAULT_RECONNECTION_TIME, Event, EventId, EventType, Frame};

/// The response head of an event stream.
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
    Cache-Control: no-cache\r\nConnection: close\r\n\r\n";

/// Serves every connection on `listener` in a thread of its own: ticks
/// 1 to `ticks`, one every `every`, then the stream ends.
pub fn serve(listener: TcpListener, ticks: u64, every: Duration) -> io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            // A client that goes away ends its stream; nothing to report.
            let _ = stream_ticks(stream, ticks, every);
        });
    }
    Ok(())
}

/// One connection: reads the request, then writes the ticks after its
/// `Last-Event-ID`.
pub fn stream_ticks(stream: TcpStream, ticks: u64, every: Duration) -> io::Result<()> {
    let last_seen = last_event_id(&stream)?;
    let mut out = &stream;
    out.write_all(HEAD)?;
    let mut buf = [0u8; 512];
    let n = Frame::retry(DEFAULT_RECONNECTION_TIME)
        .encode(&mut buf)
        .map_err(io::Error::other)?;
    out.write_all(&buf[..n])?;
    let tick = EventType::new("tick").map_err(io::Error::other)?;
    for number in last_seen.map_or(1, |n| n + 1)..=ticks {
        // The id and the data, formatted on the stack too.
        let mut id = [0u8; 20];
        let id = format_into(&mut id, format_args!("{number}"))?;
        let mut data = [0u8; 32];
        let data = format_into(&mut data, format_args!("tick {number}"))?;
        let event = Event::from_text(sse_proto::Text::from_bytes(data))
            .with_type(tick)
            .with_id(EventId::from_bytes(id).map_err(io::Error::other)?);
        let n = event.encode(&mut buf).map_err(io::Error::other)?;
        out.write_all(&buf[..n])?;
        std::thread::sleep(every);
    }
    Ok(())
}

/// Reads the request head and returns its `Last-Event-ID`, if it is a
/// number this server gave out.
fn last_event_id(stream: &TcpStream) -> io::Result<Option<u64>> {
    let mut reader = BufReader::new(stream);
    let mut last = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(last);
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("last-event-id") {
                last = value.trim().parse().ok();
            }
        }
    }
}

/// Formats `args` into `buf`, and returns what was written.
fn format_into<'b>(buf: &'b mut [u8], args: std::fmt::Arguments<'_>) -> io::Result<&'b [u8]> {
    let room = buf.len();
    let mut cursor = &mut buf[..];
    cursor.write_fmt(args)?;
    let written = room - cursor.len();
    Ok(&buf[..written])
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5000".to_string());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("serving ticks on http://{}", listener.local_addr()?);
    serve(listener, u64::MAX, Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use sse_proto::{Decoder, Frame};

    use super::serve;

    /// What a request with `last_event_id` gets: the frames of the body.
    fn get(addr: &str, last_event_id: Option<&str>) -> (String, Vec<String>) {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let header = last_event_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        write!(stream, "GET / HTTP/1.1\r\nHost: {addr}\r\n{header}\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&response[..split]).into_owned();
        let mut decoder = Decoder::new([0u8; 256]);
        let mut body = &response[split + 4..];
        let mut frames = Vec::new();
        while let Some(frame) = decoder.decode(&mut body) {
            frames.push(match frame.unwrap() {
                Frame::Event(event) => format!(
                    "{} {} {}",
                    event.event_type(),
                    event.id().unwrap(),
                    event.data()
                ),
                other => format!("{other:?}"),
            });
        }
        assert!(!decoder.finish(), "the stream ends between events");
        (head, frames)
    }

    #[test]
    fn streams_ticks_and_resumes_after_the_last_event_id() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || serve(listener, 4, Duration::from_millis(1)));

        let (head, frames) = get(&addr, None);
        assert!(head.contains("Content-Type: text/event-stream"), "{head}");
        assert_eq!(
            frames,
            [
                "Retry(3000)",
                "tick 1 tick 1",
                "tick 2 tick 2",
                "tick 3 tick 3",
                "tick 4 tick 4"
            ]
        );
        let (_, frames) = get(&addr, Some("2"));
        assert_eq!(frames, ["Retry(3000)", "tick 3 tick 3", "tick 4 tick 4"]);
        // An id this server never gave out starts from the beginning.
        let (_, frames) = get(&addr, Some("not a number"));
        assert_eq!(frames.len(), 5);
    }
}
