//! `sse listen` as users run it, against scripted servers: the JSON lines
//! of `--json` (one test per kind of line), redirects without a `Location`,
//! the floor that holds a reconnect storm down, and `sse encode` reading
//! what `sse listen --json` prints.
#![cfg(feature = "cli")]

#[path = "support/hub.rs"]
mod hub;

use std::time::{Duration, Instant};

use hub::{finish, spawn_sse, sse};
use serde_json::Value;
use sse_testkit::scripted_server::{Server, Step, response, stream_head, write};

const WAIT: Duration = Duration::from_secs(30);

/// Every stdout line of `output`, parsed.
fn json_lines(output: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

/// The lines of `kind`.
fn of_kind<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|line| line["kind"] == kind).collect()
}

/// `sse listen --json` with `args` and `url`, to its end.
fn listen(args: &[&str], url: &str) -> std::process::Output {
    let mut all = vec!["listen", "--json"];
    all.extend(args);
    all.push(url);
    finish(spawn_sse(&all), WAIT)
}

/// A stream that ends, a failure retried, a failure not retried: each
/// leaves its lines, the events stay as they were, and the exit code is 1.
fn scripted() -> Server {
    Server::start(|conn, _| match conn {
        0 => vec![stream_head(), write("retry: 0\nid: 7\ndata: hello\n\n")],
        1 => vec![response(
            "503 Service Unavailable",
            &[("retry-after", "0")],
            "busy",
        )],
        _ => vec![response("404 Not Found", &[], "gone")],
    })
}

#[test]
fn open_lines_carry_the_status_version_url_and_headers() {
    let server = scripted();
    let output = listen(&["--retry-policy", "transient"], &server.url("/events"));
    let lines = json_lines(&output);
    let opens = of_kind(&lines, "open");
    assert_eq!(opens.len(), 1, "{lines:#?}");
    let open = opens[0];
    assert_eq!(open["status"], 200);
    assert_eq!(open["version"], "HTTP/1.1");
    assert_eq!(open["url"], server.url("/events"));
    assert_eq!(open["headers"]["content-type"], "text/event-stream");
    assert_eq!(open["headers"]["cache-control"], "no-cache");
    // The event line, unchanged, after the open.
    assert_eq!(
        lines[1],
        serde_json::json!({"type": "message", "data": "hello", "lastEventId": "7"})
    );
    // Events and comments never carry a kind; every other line has it first.
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        assert!(
            line.starts_with(r#"{"kind":"#) || line.starts_with(r#"{"type":"#),
            "{line}"
        );
    }
}

#[test]
fn error_lines_have_a_stable_code_a_message_and_the_status() {
    let server = scripted();
    let output = listen(&["--retry-policy", "transient"], &server.url("/events"));
    let lines = json_lines(&output);
    let errors = of_kind(&lines, "error");
    let codes: Vec<_> = errors.iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["stream_ended", "status", "status"], "{lines:#?}");
    assert_eq!(errors[0]["message"], "the server ended the stream");
    assert!(errors[0].get("status").is_none());
    assert_eq!(errors[1]["status"], 503);
    assert!(errors[1]["message"].as_str().unwrap().contains("busy"));
    assert_eq!(errors[2]["status"], 404);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn reconnect_lines_have_the_delay_and_the_last_event_id() {
    let server = scripted();
    let output = listen(&["--retry-policy", "transient"], &server.url("/events"));
    let lines = json_lines(&output);
    let kinds: Vec<_> = lines
        .iter()
        .map(|line| line["kind"].as_str().unwrap_or("event"))
        .collect();
    assert_eq!(
        kinds,
        [
            "open",
            "event",
            "error",
            "reconnect",
            "error",
            "reconnect",
            "error",
            "end"
        ]
    );
    let reconnects = of_kind(&lines, "reconnect");
    // `retry: 0` and `Retry-After: 0`: the floor, 100 ms, plus jitter (up
    // to 20%); the second after a failed attempt, backed off: doubled.
    let delays: Vec<_> = reconnects
        .iter()
        .map(|r| r["delay"].as_u64().unwrap())
        .collect();
    assert!((100..=120).contains(&delays[0]), "{delays:?}");
    assert!((100..=240).contains(&delays[1]), "{delays:?}");
    assert!(reconnects.iter().all(|r| r["lastEventId"] == "7"));
    // And the server got the id back.
    assert_eq!(server.requests()[1].header("last-event-id"), Some("7"));
}

#[test]
fn end_lines_say_why_and_the_exit_code_is_unchanged() {
    let server = scripted();
    let output = listen(&["--retry-policy", "transient"], &server.url("/events"));
    let lines = json_lines(&output);
    let end = lines.last().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(end["reason"], "status");
    assert_eq!(end["status"], 404);
    assert_eq!(output.status.code(), Some(1));

    let stop = Server::start(|_, _| vec![response("204 No Content", &[], "")]);
    let output = listen(&[], &stop.url("/"));
    assert_eq!(
        json_lines(&output),
        [serde_json::json!({
            "kind": "end",
            "reason": "no_content",
            "message": "the server answered 204 No Content"
        })]
    );
    assert_eq!(output.status.code(), Some(0));

    let events = Server::start(|_, _| vec![stream_head(), write("data: a\n\ndata: b\n\n")]);
    let output = listen(&["--count", "2"], &events.url("/"));
    assert_eq!(json_lines(&output).last().unwrap()["reason"], "count");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn text_mode_prints_only_the_events_as_before() {
    let server = scripted();
    let output = finish(
        spawn_sse(&["listen", "--retry-policy", "transient", &server.url("/")]),
        WAIT,
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hello\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("ended the stream"), "{stderr}");
    assert!(stderr.contains("404"), "{stderr}");
    assert_eq!(output.status.code(), Some(1));
}

/// A redirect without a usable Location is one error, and a JSON error line
/// and end line, not a retry.
#[test]
fn a_redirect_without_location_is_one_error_line_and_the_end() {
    for location in [None, Some("")] {
        let server = Server::start(move |_, _| {
            let headers: Vec<(&str, &str)> =
                location.map(|l| ("location", l)).into_iter().collect();
            vec![response("301 Moved Permanently", &headers, "")]
        });
        let output = listen(&["--retry-policy", "always"], &server.url("/"));
        let lines = json_lines(&output);
        assert_eq!(lines.len(), 2, "{location:?}: {lines:#?}");
        assert_eq!(lines[0]["kind"], "error");
        assert_eq!(lines[0]["code"], "redirect_without_location");
        assert_eq!(lines[0]["status"], 301);
        let message = lines[0]["message"].as_str().unwrap();
        assert!(message.contains("without a Location"), "{message}");
        assert_eq!(lines[1]["kind"], "end");
        assert_eq!(lines[1]["reason"], "redirect_without_location");
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(server.requests().len(), 1);
    }
}

/// `sse encode` turns `sse listen --json` output back into a stream: the
/// lines with a kind are skipped.
#[test]
fn encode_skips_the_lines_with_a_kind() {
    let server = scripted();
    let output = listen(&["--retry-policy", "transient"], &server.url("/events"));
    let encoded = sse(&["encode"], &output.stdout);
    assert!(encoded.status.success(), "{encoded:?}");
    assert_eq!(
        String::from_utf8_lossy(&encoded.stdout),
        "id: 7\ndata: hello\n\n"
    );
}

#[test]
fn the_help_documents_the_json_lines() {
    let help = sse(&["listen", "--help"], b"");
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "\"kind\": \"open\"",
        "\"kind\": \"error\"",
        "\"kind\": \"reconnect\"",
        "\"kind\": \"end\"",
        "redirect_without_location",
        "--cacert",
        "--min-reconnect-delay",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// A server that sends `retry: 0` and closes each stream after one event
/// made the client reconnect hundreds of times a second. With the floor
/// (100 ms by default), 3 s see at most 3 s / 100 ms + 3 connections.
#[test]
fn a_reconnect_storm_is_held_to_the_floor() {
    let connections = storm(&[]);
    println!("reconnect storm: {connections} connections in 3 s (bound 33)");
    assert!(connections <= 33, "{connections} connections in 3 s");
    // A floor of 300 ms, as asked: at most 3 s / 300 ms + 3.
    let connections = storm(&["--min-reconnect-delay", "300"]);
    println!("reconnect storm, 300 ms floor: {connections} connections in 3 s (bound 13)");
    assert!(connections <= 13, "{connections} connections in 3 s");
}

/// How many connections `sse listen ARGS` makes in 3 s to a server that
/// sends `retry: 0` and closes each stream after one event.
fn storm(args: &[&str]) -> usize {
    let server = Server::start(|_, _| vec![stream_head(), write("retry: 0\ndata: x\n\n")]);
    let mut all = vec!["listen"];
    all.extend(args);
    let url = server.url("/");
    all.push(&url);
    let mut listener = spawn_sse(&all);
    let started = Instant::now();
    while server.requests().is_empty() && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    let first = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let connections = server
        .requests()
        .iter()
        .filter(|request| request.at.duration_since(first) <= Duration::from_secs(3))
        .count();
    listener.kill().expect("stop sse listen");
    let _ = listener.wait();
    connections
}

/// `len` bytes of event data as one event, with an id.
fn big_event(id: usize, len: usize) -> Vec<u8> {
    let mut event = format!("id: {id}\ndata: ").into_bytes();
    event.resize(event.len() + len, b'a' + (id % 26) as u8);
    event.extend_from_slice(b"\n\n");
    event
}

#[test]
fn events_of_ten_mib_arrive_with_the_default_limit() {
    const MIB: usize = 1 << 20;
    let server = Server::start(|conn, _| {
        if conn > 0 {
            return vec![Step::Stall];
        }
        let ten = big_event(3, 10 * MIB);
        let (head, tail) = ten.split_at(ten.len() / 2);
        vec![
            stream_head(),
            write(big_event(1, 5 * MIB)),
            write(big_event(2, 10 * MIB)),
            // The same size again, in two writes with a pause between.
            write(head),
            Step::Pause(Duration::from_millis(100)),
            write(tail),
            write("id: 4\ndata: small\n\n"),
        ]
    });
    let output = listen(&["--count", "4"], &server.url("/"));
    let lines = json_lines(&output);
    let sizes: Vec<(String, usize)> = lines
        .iter()
        .filter(|line| line.get("kind").is_none())
        .map(|line| {
            let data = line["data"].as_str().expect("data");
            (
                line["lastEventId"].as_str().expect("id").to_string(),
                data.len(),
            )
        })
        .collect();
    let expected: Vec<(String, usize)> = [(1, 5 * MIB), (2, 10 * MIB), (3, 10 * MIB), (4, 5)]
        .into_iter()
        .map(|(id, len)| (id.to_string(), len))
        .collect();
    assert_eq!(
        sizes,
        expected,
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        of_kind(&lines, "error").is_empty(),
        "{:#?}",
        of_kind(&lines, "error")
    );
}

/// A field of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[test]
fn a_listener_stays_small_after_ten_thousand_events() {
    use std::io::BufRead;
    const EVENTS: usize = 10_000;
    let server = Server::start(|conn, _| {
        if conn > 0 {
            return vec![Step::Stall];
        }
        let events: String = (1..=EVENTS)
            .map(|n| {
                format!("id: {n}\nevent: tick\ndata: {{\"n\":{n},\"text\":\"a small event\"}}\n\n")
            })
            .collect();
        // In pieces, as a server writes them; then the stream stays open.
        let mut steps = vec![stream_head()];
        steps.extend(events.as_bytes().chunks(4096).map(write));
        steps.push(Step::Stall);
        steps
    });
    let mut listener = spawn_sse(&["listen", "--json", &server.url("/")]);
    let pid = listener.id();
    let stdout = listener.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let events = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter(|line| !line.contains("\"kind\""))
            .take(EVENTS)
            .count();
        let _ = tx.send(events);
    });
    let events = rx.recv_timeout(Duration::from_secs(60));
    let (rss, anon, file) = (
        status_kib(pid, "VmRSS"),
        status_kib(pid, "RssAnon"),
        status_kib(pid, "RssFile"),
    );
    listener.kill().expect("stop sse listen");
    let _ = listener.wait();
    assert_eq!(events, Ok(EVENTS));
    println!(
        "sse listen after {EVENTS} events: VmRSS {rss} KiB (its own memory {anon} KiB, \
         the mapped binary and libraries {file} KiB)"
    );
    // What the process itself holds (heap, stacks, buffers) under 16 MiB
    // in every build. The whole VmRSS too in an optimised build; a debug
    // build's binary alone maps 11 to 14 MiB of code (`RssFile`), which
    // says nothing about how the listener keeps events.
    assert!(anon < 16 * 1024, "RssAnon {anon} KiB after {EVENTS} events");
    if !cfg!(debug_assertions) {
        assert!(rss < 16 * 1024, "VmRSS {rss} KiB after {EVENTS} events");
    }
}
