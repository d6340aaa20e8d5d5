//! `sse serve` probed as an attacker and an operator would, over raw TCP on
//! 127.0.0.1, with short limits set by flags: half heads and silent
//! connections, idle keep-alives, slow bodies, conflicting framing, bad and
//! truncated chunks, names that are not UTF-8, tokens in URLs, stalled
//! subscribers, per-client caps, trusted proxies, and shutdown with a
//! half-sent request. Every limit is waited for generously: the tests assert
//! what happens, never how fast.
#![cfg(feature = "cli")]

#[path = "support/hub.rs"]
mod hub;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hub::Hub;

/// Longer than any limit set here, by far.
const WAIT: Duration = Duration::from_secs(20);

fn connect(hub: &Hub) -> TcpStream {
    let socket = TcpStream::connect(&hub.address).expect("connect");
    socket.set_read_timeout(Some(WAIT)).expect("timeout");
    socket
}

/// Reads until the hub closes the connection; everything received.
/// Panics if it is still open after [`WAIT`].
fn read_until_closed(socket: &mut TcpStream) -> String {
    let deadline = Instant::now() + WAIT;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "still open after {WAIT:?}");
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("the hub neither answered nor closed: {error}"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// The status of the response at the start of `text`.
fn status(text: &str) -> u16 {
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

fn health(hub: &Hub) -> serde_json::Value {
    hub.request("GET", "/health", &[], b"").json()
}

#[test]
fn half_heads_and_silent_connections_are_cut_and_counted() {
    let hub = Hub::start(&["--head-timeout", "1"]);
    let mut sockets: Vec<TcpStream> = (0..20).map(|_| connect(&hub)).collect();
    for socket in &mut sockets[..10] {
        socket
            .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\n")
            .expect("half a head");
    }
    // Meanwhile the hub serves everyone else.
    assert_eq!(health(&hub)["status"], "ok");
    for socket in &mut sockets {
        assert_eq!(read_until_closed(socket), "", "closed without an answer");
    }
    let connections = hub
        .wait_for("/health", "the timeouts counted", |response| {
            response.json()["connections"]["headTimeouts"].as_u64() >= Some(20)
        })
        .json();
    assert_eq!(connections["status"], "ok");
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let hub = Hub::start(&["--idle-timeout", "1"]);
    let mut socket = connect(&hub);
    socket
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("a request");
    let got = read_until_closed(&mut socket);
    assert_eq!(status(&got), 200, "{got}");
    assert!(got.contains("\"status\":\"ok\""), "{got}");
}

#[test]
fn a_slow_body_is_cut_with_408_and_nothing_is_published() {
    let hub = Hub::start(&["--body-timeout", "1"]);
    let mut socket = connect(&hub);
    socket
        .write_all(b"POST /publish HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nab")
        .expect("the head and 2 bytes");
    let got = read_until_closed(&mut socket);
    assert_eq!(status(&got), 408, "{got}");
    assert_eq!(health(&hub)["published"], 0);
}

#[test]
fn conflicting_or_broken_framing_is_refused_and_never_published() {
    let hub = Hub::start(&[]);
    // Content-Length with Transfer-Encoding: 400, closed.
    let mut socket = connect(&hub);
    socket
        .write_all(
            b"POST /publish HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        )
        .expect("a smuggling attempt");
    let got = read_until_closed(&mut socket);
    assert_eq!(status(&got), 400, "{got}");
    assert!(got.contains("Transfer-Encoding"), "{got}");

    // A chunk size that is not hexadecimal: 400, not 413.
    let mut socket = connect(&hub);
    socket
        .write_all(b"POST /publish HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        .expect("a bad chunk");
    let got = read_until_closed(&mut socket);
    assert_eq!(status(&got), 400, "{got}");

    // A chunked body cut short: 400.
    let mut socket = connect(&hub);
    socket
        .write_all(b"POST /publish HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n10\r\nonly a part")
        .expect("a truncated body");
    socket
        .shutdown(std::net::Shutdown::Write)
        .expect("end of the body");
    let got = read_until_closed(&mut socket);
    if !got.is_empty() {
        assert_eq!(status(&got), 400, "{got}");
    }

    // A body over the limit is the one that gets 413.
    let big = hub.request("POST", "/publish", &[], &vec![b'x'; 200 * 1024]);
    assert_eq!(big.status, 413, "{big:?}");

    assert_eq!(health(&hub)["published"], 0, "none of these was published");
    assert_eq!(hub.request("POST", "/publish", &[], b"fine").status, 200);
}

#[test]
fn oversized_heads_are_refused_with_431() {
    let hub = Hub::start(&["--max-head-size", "2048", "--max-headers", "8"]);
    let mut socket = connect(&hub);
    let long = format!(
        "GET /health HTTP/1.1\r\nhost: x\r\nx-long: {}\r\n\r\n",
        "a".repeat(4096)
    );
    socket.write_all(long.as_bytes()).expect("a long head");
    assert_eq!(status(&read_until_closed(&mut socket)), 431);
    let mut socket = connect(&hub);
    let mut many = String::from("GET /health HTTP/1.1\r\nhost: x\r\n");
    for i in 0..20 {
        many.push_str(&format!("x-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    socket.write_all(many.as_bytes()).expect("many headers");
    assert_eq!(status(&read_until_closed(&mut socket)), 431);
    assert!(health(&hub)["connections"]["badHeads"].as_u64() >= Some(2));
}

#[test]
fn names_that_are_not_utf8_are_refused_naming_the_field() {
    let hub = Hub::start(&[]);
    for (method, path, field) in [
        ("GET", "/events?channel=%FF", "channel"),
        ("POST", "/publish?channel=%FE", "channel"),
        ("POST", "/publish?event=%FF%FE", "event"),
        ("POST", "/publish?id=%C3", "id"),
    ] {
        let response = hub.request(method, path, &[], b"x");
        assert_eq!(response.status, 400, "{path}: {response:?}");
        assert!(response.body.contains(field), "{path}: {}", response.body);
    }
    let mut fine = hub.open_stream("/events", &[("last-event-id", "\u{FFFD}")]);
    assert!(
        fine.read_until("retry:").starts_with("HTTP/1.1 200"),
        "a valid UTF-8 id is fine"
    );
    // A Last-Event-ID that is not UTF-8, as raw bytes.
    let mut socket = connect(&hub);
    socket
        .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\nlast-event-id: \xFF\xFE\r\nconnection: close\r\n\r\n")
        .expect("a raw head");
    let got = read_until_closed(&mut socket);
    assert_eq!(status(&got), 400, "{got}");
    assert_eq!(health(&hub)["published"], 0);
}

#[test]
fn publish_tokens_come_only_from_the_header_whatever_the_case_of_its_scheme() {
    let hub = Hub::start(&["--publish-token", "p"]);
    let in_url = hub.request("POST", "/publish?token=p", &[], b"x");
    assert_eq!(in_url.status, 401, "{in_url:?}");
    assert!(
        in_url.body.contains("Authorization header"),
        "{}",
        in_url.body
    );
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = hub.request(
            "POST",
            "/publish",
            &[("authorization", &format!("{scheme} p"))],
            b"x",
        );
        assert_eq!(response.status, 200, "{scheme}: {response:?}");
    }
}

#[test]
fn a_stalled_subscriber_is_cut_and_the_others_get_everything() {
    let hub = Hub::start(&[
        "--write-timeout",
        "1",
        "--max-event-size",
        "65536",
        "--queue-size",
        "16777216",
    ]);
    let mut stalled = hub.open_stream("/events?channel=x", &[]);
    stalled.read_until("retry:");
    let mut live = connect(&hub);
    live.write_all(b"GET /events?channel=x HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("subscribe");
    hub.wait_for_subscribers("x", 2);
    let reader = std::thread::spawn(move || (count_frames_until_last(&mut live), live));
    // Far more than the loopback buffers hold: the stalled one stops
    // taking it, the live one reads everything.
    let data = "y".repeat(60_000);
    for _ in 0..200 {
        assert_eq!(
            hub.request("POST", "/publish?channel=x", &[], data.as_bytes())
                .status,
            200
        );
    }
    assert_eq!(
        hub.request("POST", "/publish?channel=x", &[], b"last")
            .status,
        200
    );
    let (events, live) = reader.join().expect("the live reader");
    assert_eq!(events, 201, "every event and the last");
    hub.wait_for("/health", "the stalled subscriber cut", |response| {
        let health = response.json();
        health["connections"]["writeTimeouts"].as_u64() >= Some(1)
            && health["subscribers"].as_u64() == Some(1)
    });
    drop((stalled, live));
}

#[test]
fn one_client_address_cannot_take_every_slot() {
    let hub = Hub::start(&[
        "--max-streams-per-client",
        "2",
        "--max-pending-per-client",
        "3",
        "--publish-rate",
        "2",
    ]);
    let _one = hub.open_stream("/events", &[]);
    let _two = hub.open_stream("/events", &[]);
    hub.wait_for_subscribers("default", 2);
    let third = hub.request("GET", "/events", &[], b"");
    assert_eq!(third.status, 429, "{third:?}");

    // Three silent connections fill this address's pending slots (the hub
    // accepts in order); the next one is closed at once, unanswered.
    let silent: Vec<TcpStream> = (0..3).map(|_| connect(&hub)).collect();
    let mut refused = connect(&hub);
    assert_eq!(read_until_closed(&mut refused), "");
    let counted = health_after_slots_free(&hub, silent);
    assert!(counted["connections"]["refusedClient"].as_u64() >= Some(1));

    // Two publishes a second, in bursts of two.
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..3 {
        let response = hub.request("POST", "/publish", &[], b"x");
        statuses.push(response.status);
        retry_after = retry_after.or(response.header("retry-after").map(str::to_owned));
    }
    assert_eq!(statuses, [200, 200, 429]);
    assert!(retry_after.is_some());
}

/// Reads a stream until an event `data: last`, counting the events
/// (blank lines) without keeping what was read.
fn count_frames_until_last(socket: &mut TcpStream) -> usize {
    const LAST: &[u8] = b"data: last\n\n";
    let deadline = Instant::now() + WAIT;
    let mut frames = 0;
    let mut previous = 0u8;
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        assert!(Instant::now() < deadline, "never received the last event");
        let n = socket.read(&mut buf).expect("read the live stream");
        assert!(n > 0, "the live stream ended");
        for &byte in &buf[..n] {
            frames += usize::from(previous == b'\n' && byte == b'\n');
            previous = byte;
        }
        tail.extend_from_slice(&buf[..n]);
        if tail.windows(LAST.len()).any(|window| window == LAST) {
            return frames;
        }
        tail.drain(..tail.len().saturating_sub(LAST.len()));
    }
}

/// Closes `sockets`, then reads the health once their slots are back.
fn health_after_slots_free(hub: &Hub, sockets: Vec<TcpStream>) -> serde_json::Value {
    drop(sockets);
    hub.wait_for("/health", "the slots back", |response| {
        response.json()["connections"]["pending"].as_u64() <= Some(1)
    })
    .json()
}

#[test]
fn forwarded_addresses_count_only_from_trusted_proxies() {
    for (flags, expected) in [
        (&["--trusted-proxy", "127.0.0.0/8"][..], "203.0.113.7"),
        (&[][..], "127.0.0.1"),
    ] {
        let hub = Hub::start(flags);
        let _stream = hub.open_stream(
            "/events?channel=p",
            &[("x-forwarded-for", "198.51.100.1, 203.0.113.7")],
        );
        hub.wait_for_subscribers("p", 1);
        let listed = hub
            .request("GET", "/channels/p/subscribers", &[], b"")
            .json();
        assert_eq!(listed["subscribers"][0]["client"], expected, "{flags:?}");
    }
}

#[test]
fn sigterm_with_a_half_sent_request_exits_cleanly_and_soon() {
    let hub = Hub::start(&["--shutdown-timeout", "1"]);
    let mut half = connect(&hub);
    half.write_all(b"POST /publish HTTP/1.1\r\nhost: x\r\ncontent-")
        .expect("half a head");
    let mut stream = hub.open_stream("/events", &[]);
    stream.read_until("retry:");
    hub.wait_for_subscribers("default", 1);
    let started = Instant::now();
    let status = hub.signal("-TERM");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "exited after {:?}",
        started.elapsed()
    );
    // The stream got its farewell hint and ended.
    assert_eq!(stream.read_to_end().matches("retry:").count(), 2);
}
