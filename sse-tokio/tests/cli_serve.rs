//! The `sse` hub end to end over 127.0.0.1: the real binaries for serve,
//! listen and publish; resume, tokens, subscriber listing, close, CORS,
//! limits, bad requests and shutdown.
#![cfg(feature = "cli")]

#[path = "support/hub.rs"]
mod hub;

use std::time::Duration;

use hub::{Hub, finish, spawn_sse, sse};

const WAIT: Duration = Duration::from_secs(30);

/// The lines a command printed, without `sse listen --json`'s open, error,
/// reconnect and end lines (those with a `"kind"`, always the first key).
fn stdout_lines(output: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with(r#"{"kind":"#))
        .map(str::to_string)
        .collect()
}

/// A generated id's prefix and number: `<20 lowercase hex digits>-<n>`,
/// as `sse serve --ids` gives them (a new prefix at every start).
fn split_id(id: &str) -> (String, u64) {
    let (prefix, n) = id
        .split_once('-')
        .unwrap_or_else(|| panic!("not a generated id: {id:?}"));
    assert!(
        prefix.len() == 20
            && prefix
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "not a generated id's prefix: {id:?}"
    );
    let n = n
        .parse()
        .unwrap_or_else(|_| panic!("not a generated id's number: {id:?}"));
    (prefix.to_string(), n)
}

#[test]
fn publish_reaches_a_listener_with_generated_ids() {
    let hub = Hub::start(&["--ids"]);
    let listener = spawn_sse(&[
        "listen",
        "--json",
        "--count",
        "2",
        &hub.url("/events?channel=news"),
    ]);
    hub.wait_for_subscribers("news", 1);

    let first = sse(
        &["publish", "--url", &hub.url(""), "-c", "news", "hello"],
        b"",
    );
    assert!(first.status.success(), "{first:?}");
    let first_id = stdout_lines(&first).concat();
    let (prefix, n) = split_id(&first_id);
    assert_eq!(n, 1);
    assert!(String::from_utf8_lossy(&first.stderr).contains("published to 1 subscriber"));
    // Data from stdin, with a type.
    let second = sse(
        &[
            "publish",
            "--url",
            &hub.url(""),
            "-c",
            "news",
            "--event",
            "note",
        ],
        b"line one\nline two",
    );
    assert_eq!(stdout_lines(&second), [format!("{prefix}-2")]);

    let output = finish(listener, WAIT);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout_lines(&output),
        [
            format!(r#"{{"type":"message","data":"hello","lastEventId":"{prefix}-1"}}"#),
            format!(r#"{{"type":"note","data":"line one\nline two","lastEventId":"{prefix}-2"}}"#),
        ]
    );
}

#[test]
fn publish_answers_with_the_id_and_the_number_reached() {
    let hub = Hub::start(&["--ids"]);
    let mut a = hub.open_stream("/events?channel=a", &[]);
    let mut both = hub.open_stream("/events?channel=a&channel=b", &[]);
    hub.wait_for_subscribers("a", 2);

    // JSON body: several channels; a subscriber of both gets it once.
    let json = hub.request(
        "POST",
        "/publish",
        &[("content-type", "application/json")],
        br#"{"channels":["a","b"],"event":"update","data":{"n":1}}"#,
    );
    assert_eq!(json.status, 200, "{json:?}");
    let reply = json.json();
    assert_eq!(reply["subscribers"], 2, "{reply}");
    let id = reply["id"].as_str().expect("an id").to_string();
    assert_eq!(split_id(&id).1, 1);
    // Plain body with the rest in the query; a caller's own id is kept.
    let plain = hub.request(
        "POST",
        "/publish?channel=b&id=custom-7",
        &[("content-type", "text/plain")],
        b"plain text",
    );
    assert_eq!(
        plain.json(),
        serde_json::json!({ "id": "custom-7", "subscribers": 1 })
    );

    assert!(
        a.read_until("data: {\"n\":1}")
            .contains(&format!("event: update\nid: {id}\n"))
    );
    let got = both.read_until("plain text");
    assert_eq!(got.matches("data: {\"n\":1}").count(), 1, "{got}");
    assert!(got.contains("id: custom-7\ndata: plain text\n\n"), "{got}");
}

#[test]
fn the_default_channel_serves_those_who_name_none() {
    let hub = Hub::start(&[]);
    let mut stream = hub.open_stream("/events", &[]);
    hub.wait_for_subscribers("default", 1);
    let published = hub.request("POST", "/publish", &[], b"to everyone");
    // Without --ids, events carry no id.
    assert_eq!(
        published.json(),
        serde_json::json!({ "id": null, "subscribers": 1 })
    );
    let got = stream.read_until("to everyone");
    assert!(!got.contains("id:"), "{got}");
}

#[test]
fn streams_have_the_event_stream_headers_and_a_retry_hint() {
    let hub = Hub::start(&["--retry", "1500"]);
    let mut stream = hub.open_stream("/events", &[]);
    let head = stream.read_until("retry: 1500\n");
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("x-accel-buffering: no"), "{head}");
}

#[test]
fn idle_streams_get_keep_alive_comments() {
    let hub = Hub::start(&["--keepalive", "1"]);
    let mut stream = hub.open_stream("/events", &[]);
    let got = stream.read_until("\n:");
    assert!(got.lines().any(|line| line.starts_with(':')), "{got}");
}

/// A client that comes back with the last id it saw gets exactly what it
/// missed, by header or (for browsers) by query parameter.
#[test]
fn clients_resume_from_last_event_id() {
    let hub = Hub::start(&["--ids"]);
    let ids: Vec<String> = ["one", "two", "three"]
        .iter()
        .map(|data| {
            let reply = hub.request("POST", "/publish?channel=log", &[], data.as_bytes());
            reply.json()["id"].as_str().expect("an id").to_string()
        })
        .collect();
    let listener = sse(
        &[
            "listen",
            "--json",
            "--count",
            "2",
            "--last-event-id",
            &ids[0],
            &hub.url("/events?channel=log"),
        ],
        b"",
    );
    assert_eq!(
        stdout_lines(&listener),
        [
            format!(
                r#"{{"type":"message","data":"two","lastEventId":"{}"}}"#,
                ids[1]
            ),
            format!(
                r#"{{"type":"message","data":"three","lastEventId":"{}"}}"#,
                ids[2]
            ),
        ]
    );
    let mut browser = hub.open_stream(&format!("/events?channel=log&lastEventId={}", ids[1]), &[]);
    let got = browser.read_until("three");
    assert!(!got.contains("data: two"), "{got}");

    // An id the hub never issued gets the documented reset event.
    let (prefix, _) = split_id(&ids[0]);
    for unknown in ["999".to_string(), format!("{prefix}-999")] {
        let mut stale = hub.open_stream("/events?channel=log", &[("last-event-id", &unknown)]);
        stale.read_until("event: sse-reset\ndata: history\n\n");
    }
}

/// Publishes `data` to `channel` and returns the id the hub gave it.
fn publish_id(hub: &Hub, channel: &str, data: &str) -> String {
    let reply = hub.request(
        "POST",
        &format!("/publish?channel={channel}"),
        &[],
        data.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()["id"].as_str().expect("an id").to_string()
}

/// Ids never repeat across restarts: three starts in quick succession
/// (well within a second on a quiet machine) have three prefixes, and a
/// client that comes back with an id of the run before gets the reset
/// event first, then live events: never this run's events that happen to
/// follow the same number.
#[test]
fn every_start_has_its_own_ids_and_an_earlier_runs_id_gets_the_reset_event() {
    let mut prefixes = Vec::new();
    let mut previous: Option<Vec<String>> = None;
    for run in 0..3 {
        let hub = Hub::start(&["--ids"]);
        let ids: Vec<String> = (1..=3)
            .map(|n| publish_id(&hub, "log", &format!("run {run} event {n}")))
            .collect();
        let (prefix, first) = split_id(&ids[0]);
        assert_eq!(first, 1);
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(*id, format!("{prefix}-{}", n + 1), "one prefix per run");
        }
        assert!(
            !prefixes.contains(&prefix),
            "run {run} reused a prefix: {prefix} in {prefixes:?}"
        );
        prefixes.push(prefix);

        if let Some(earlier) = &previous {
            // Came back with the earlier run's first id: the old hub would
            // have replayed this run's events 2 and 3.
            let mut back =
                hub.open_stream("/events?channel=log", &[("last-event-id", &earlier[0])]);
            hub.wait_for_subscribers("log", 1);
            publish_id(&hub, "log", "live");
            let got = back.read_until("data: live\n\n");
            let body = &got[got.find("\r\n\r\n").expect("a head")..];
            let reset = body
                .find("event: sse-reset\ndata: history\n\n")
                .unwrap_or_else(|| panic!("no reset event: {got:?}"));
            assert!(reset < body.find("data: live").unwrap_or(0), "{got:?}");
            assert!(
                !body.contains(&format!("run {run} event")),
                "a partial replay: {got:?}"
            );
        }
        previous = Some(ids);
        // Dropping the hub kills it (SIGKILL); the next start is a restart.
    }
}

/// The events of a raw stream, in order: (id, data), the id empty for an
/// event without one (the reset event).
fn stream_events(raw: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    let mut id = String::new();
    for line in raw.split('\n') {
        if let Some(value) = line.strip_prefix("id: ") {
            id = value.to_string();
        } else if let Some(value) = line.strip_prefix("data: ") {
            events.push((std::mem::take(&mut id), value.to_string()));
        }
    }
    events
}

/// With --data, history and ids survive kill -9: a client that resumes with
/// the last id it saw gets exactly the events it missed, with the ids they
/// had, and the sequence goes on without reusing an id.
#[test]
fn data_keeps_history_and_ids_across_kill_9() {
    let dir = tempfile::tempdir().expect("a data directory");
    let data = dir.path().to_str().expect("a UTF-8 path");
    let hub = Hub::start(&["--data", data]);
    let mut seen = hub.open_stream("/events?channel=log", &[]);
    hub.wait_for_subscribers("log", 1);
    let e1 = publish_id(&hub, "log", "e1");
    let e2 = publish_id(&hub, "log", "e2");
    let (prefix, n) = split_id(&e1);
    assert_eq!((n, e2.clone()), (1, format!("{prefix}-2")));
    let got = seen.read_until("data: e2\n\n");
    assert_eq!(
        stream_events(&got),
        [
            (e1.clone(), "e1".to_string()),
            (e2.clone(), "e2".to_string())
        ]
    );
    drop(seen); // the client goes away having seen e2

    let missed: Vec<(String, String)> = ["e3", "elsewhere", "e5", "e6"]
        .iter()
        .map(|&data| {
            let channel = if data == "elsewhere" { "other" } else { "log" };
            (publish_id(&hub, channel, data), data.to_string())
        })
        .filter(|(_, data)| data != "elsewhere")
        .collect();
    // Killed right after the last publish was answered.
    hub.kill();

    let hub = Hub::start(&["--data", data]);
    let mut back = hub.open_stream("/events?channel=log", &[("last-event-id", &e2)]);
    back.read_until("data: e6\n\n");
    hub.wait_for_subscribers("log", 1);
    let next = publish_id(&hub, "log", "after the restart");
    assert_eq!(
        next,
        format!("{prefix}-7"),
        "the sequence goes on, no id reused"
    );
    let got = back.read_until("data: after the restart\n\n");
    let mut expected = missed.clone();
    expected.push((next, "after the restart".to_string()));
    assert_eq!(
        stream_events(&got),
        expected,
        "exactly the missed events, then live: {got:?}"
    );
    assert_eq!(
        missed.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        [
            format!("{prefix}-3"),
            format!("{prefix}-5"),
            format!("{prefix}-6")
        ]
    );
    let health = hub.request("GET", "/health", &[], b"").json();
    assert_eq!(health["backend"], "durable", "{health}");
    assert_eq!(
        health["durable"]["cursor"],
        format!("{prefix}-7"),
        "{health}"
    );

    // Killed again, a third start still knows the whole sequence.
    hub.kill();
    let hub = Hub::start(&["--data", data]);
    let mut again = hub.open_stream("/events?channel=log", &[("last-event-id", &e1)]);
    let got = again.read_until("data: after the restart\n\n");
    let all: Vec<String> = stream_events(&got)
        .into_iter()
        .map(|(_, data)| data)
        .collect();
    assert_eq!(all, ["e2", "e3", "e5", "e6", "after the restart"]);
}

#[test]
fn tokens_guard_publishing_and_subscribing() {
    let hub = Hub::start(&[
        "--publish-token",
        "pub-secret",
        "--subscribe-token",
        "sub-secret",
    ]);

    let refused = sse(&["listen", &hub.url("/events")], b"");
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("401") && message.contains("subscribe token"),
        "{message}"
    );

    let wrong = hub.request("GET", "/events", &[("authorization", "Bearer nope")], b"");
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    assert!(
        wrong.body.contains("wrong subscribe token"),
        "{}",
        wrong.body
    );

    let listener = spawn_sse(&[
        "listen",
        "--count",
        "1",
        "--token",
        "sub-secret",
        &hub.url("/events?channel=c"),
    ]);
    let mut browser = hub.open_stream("/events?channel=c&token=sub-secret", &[]);
    browser.read_until("\r\n\r\n");
    hub.wait_for_subscribers_with_token("c", 2, "sub-secret");

    let unauthorized = sse(&["publish", "--url", &hub.url(""), "-c", "c", "x"], b"");
    assert_eq!(unauthorized.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unauthorized.stderr).contains("401"));
    let with_subscribe_token = hub.request(
        "POST",
        "/publish?channel=c",
        &[("authorization", "Bearer sub-secret")],
        b"x",
    );
    assert_eq!(
        with_subscribe_token.status, 401,
        "the subscribe token does not publish"
    );

    let published = sse(
        &[
            "publish",
            "--url",
            &hub.url(""),
            "-c",
            "c",
            "--token",
            "pub-secret",
            "secret news",
        ],
        b"",
    );
    assert!(published.status.success(), "{published:?}");
    let output = finish(listener, WAIT);
    assert_eq!(stdout_lines(&output), ["secret news"]);
    browser.read_until("secret news");
}

trait WithToken {
    fn wait_for_subscribers_with_token(&self, channel: &str, count: usize, token: &str);
}

impl WithToken for Hub {
    fn wait_for_subscribers_with_token(&self, channel: &str, count: usize, token: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let response = self.request(
                "GET",
                &format!("/channels/{channel}/subscribers"),
                &[("authorization", &format!("Bearer {token}"))],
                b"",
            );
            if response.status == 200
                && response.json()["subscribers"].as_array().map(Vec::len) == Some(count)
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{channel}: {}",
                response.body
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn subscribers_are_listed_with_their_properties() {
    let hub = Hub::start(&[]);
    let _one = hub.open_stream("/events?channel=chat", &[("user-agent", "test-agent/1")]);
    // Listed in subscription order: the first must be in before the second.
    hub.wait_for_subscribers("chat", 1);
    let _two = hub.open_stream("/events?channel=chat&channel=news", &[]);
    let _three = hub.open_stream("/events?channel=news", &[]);
    hub.wait_for_subscribers("chat", 2);
    let listed = hub
        .request("GET", "/channels/chat/subscribers", &[], b"")
        .json();
    assert_eq!(listed["channel"], "chat");
    let subscribers = listed["subscribers"].as_array().expect("a list");
    assert_eq!(subscribers.len(), 2);
    for subscriber in subscribers {
        assert!(subscriber["id"].as_u64().is_some());
        assert!(
            subscriber["remote"]
                .as_str()
                .expect("remote")
                .starts_with("127.0.0.1:")
        );
        assert!(subscriber["connectedAt"].as_u64().expect("connectedAt") > 1_700_000_000_000);
    }
    assert_eq!(subscribers[0]["userAgent"], "test-agent/1");
    assert_eq!(
        subscribers[1]["channels"],
        serde_json::json!(["chat", "news"])
    );
    let empty = hub
        .request("GET", "/channels/empty/subscribers", &[], b"")
        .json();
    assert_eq!(empty["subscribers"], serde_json::json!([]));
}

/// What our predecessors' close action did: end one channel's streams.
#[test]
fn a_channel_can_be_closed_from_the_server_side() {
    let hub = Hub::start(&["--publish-token", "p"]);
    let mut chat = hub.open_stream("/events?channel=chat", &[]);
    let mut news = hub.open_stream("/events?channel=news", &[]);
    hub.wait_for_subscribers("chat", 1);
    hub.wait_for_subscribers("news", 1);

    assert_eq!(
        hub.request("POST", "/channels/chat/close", &[], b"").status,
        401
    );
    let closed = hub.request(
        "POST",
        "/channels/chat/close",
        &[("authorization", "Bearer p")],
        b"",
    );
    assert_eq!(
        closed.json(),
        serde_json::json!({ "channel": "chat", "closed": 1 })
    );
    let got = chat.read_to_end();
    assert!(
        got.contains("event: sse-close\ndata: closed by the hub\n\n"),
        "{got}"
    );
    hub.wait_for_subscribers("chat", 0);

    // The other channel goes on.
    hub.request(
        "POST",
        "/publish?channel=news",
        &[("authorization", "Bearer p")],
        b"still here",
    );
    news.read_until("still here");
}

#[test]
fn bad_requests_get_clear_errors_and_the_hub_goes_on() {
    let hub = Hub::start(&["--max-event-size", "1024"]);
    let json = [("content-type", "application/json")];
    /// Method, path, headers, body; expected status and part of the message.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            "/publish",
            &json,
            b"{not json".to_vec(),
            400,
            "not JSON",
        ),
        (
            "POST",
            "/publish",
            &json,
            b"[1]".to_vec(),
            400,
            "JSON object",
        ),
        (
            "POST",
            "/publish",
            &json,
            br#"{"evnt":"x"}"#.to_vec(),
            400,
            "unexpected key",
        ),
        (
            "POST",
            "/publish",
            &json,
            br#"{"event":"a\nid: 9","data":"x"}"#.to_vec(),
            400,
            "line break",
        ),
        (
            "POST",
            "/publish",
            &json,
            br#"{"id":"1\u0000","data":"x"}"#.to_vec(),
            400,
            "NUL",
        ),
        (
            "POST",
            "/publish",
            &json,
            br#"{"channels":"a"}"#.to_vec(),
            400,
            "list of strings",
        ),
        (
            "POST",
            "/publish?channel=bad%0Aname",
            &[],
            b"x".to_vec(),
            400,
            "channel",
        ),
        ("POST", "/publish", &[], b"\xFF\xFE".to_vec(), 400, "UTF-8"),
        ("POST", "/publish", &[], vec![b'x'; 8192], 413, "larger"),
        (
            "POST",
            "/publish",
            &[],
            vec![b'x'; 2000],
            413,
            "over the limit",
        ),
        ("GET", "/publish", &[], Vec::new(), 405, "not allowed"),
        ("GET", "/nowhere", &[], Vec::new(), 404, "no such route"),
        ("GET", "/events?channel=", &[], Vec::new(), 400, "channel"),
        (
            "GET",
            "/channels/bad%0Aname/subscribers",
            &[],
            Vec::new(),
            400,
            "channel",
        ),
    ];
    for (method, path, headers, body, status, text) in cases {
        let response = hub.request(method, path, headers, &body);
        assert_eq!(response.status, status, "{method} {path}: {response:?}");
        assert!(
            response.body.contains(text),
            "{method} {path}: {:?} lacks {text:?}",
            response.body
        );
    }
    // Still working.
    let ok = hub.request("POST", "/publish", &json, br#"{"data":"fine"}"#);
    assert_eq!(ok.status, 200, "{ok:?}");
}

#[test]
fn json_mode_refuses_data_that_is_not_json() {
    let hub = Hub::start(&["--json"]);
    let refused = hub.request("POST", "/publish", &[], b"plain words");
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("not valid JSON"), "{}", refused.body);
    assert_eq!(
        hub.request("POST", "/publish", &[], br#"{"ok":true}"#)
            .status,
        200
    );
    assert_eq!(
        hub.request(
            "POST",
            "/publish",
            &[("content-type", "application/json")],
            br#"{"data":"\"a JSON string\""}"#
        )
        .status,
        200
    );
    assert_eq!(
        hub.request(
            "POST",
            "/publish",
            &[("content-type", "application/json")],
            br#"{"data":"not json"}"#
        )
        .status,
        400
    );
}

#[test]
fn max_connections_is_enforced() {
    let hub = Hub::start(&["--max-connections", "1"]);
    let _first = hub.open_stream("/events", &[]);
    hub.wait_for_subscribers("default", 1);
    let second = hub.request("GET", "/events", &[], b"");
    assert_eq!(second.status, 503, "{second:?}");
    assert!(second.body.contains("limit"), "{}", second.body);
}

#[test]
fn cors_allows_only_the_listed_origins() {
    let hub = Hub::start(&["--cors-origin", "http://app.test,http://other.test"]);
    let preflight = hub.request(
        "OPTIONS",
        "/publish",
        &[
            ("origin", "http://app.test"),
            ("access-control-request-method", "POST"),
        ],
        b"",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .contains("authorization")
    );
    let denied = hub.request(
        "OPTIONS",
        "/publish",
        &[("origin", "http://evil.test")],
        b"",
    );
    assert_eq!(denied.status, 403);
    let get = hub.request("POST", "/publish", &[("origin", "http://other.test")], b"x");
    assert_eq!(
        get.header("access-control-allow-origin"),
        Some("http://other.test")
    );
    let foreign = hub.request("POST", "/publish", &[("origin", "http://evil.test")], b"x");
    assert_eq!(foreign.header("access-control-allow-origin"), None);
}

#[test]
fn the_chat_page_is_served_at_the_root() {
    let hub = Hub::start(&[]);
    let page = hub.request("GET", "/", &[], b"");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(
        page.body.contains("new EventSource(url)"),
        "the page subscribes"
    );
}

#[test]
fn health_reports_counters() {
    let hub = Hub::start(&[]);
    hub.request("POST", "/publish", &[], b"x");
    let health = hub.request("GET", "/health", &[], b"").json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["published"], 1);
}

/// Ctrl-C: subscribers get a retry hint, their connections close, the hub
/// exits cleanly.
#[test]
fn ctrl_c_sends_a_retry_hint_and_closes_streams() {
    let hub = Hub::start(&["--retry", "4321"]);
    let mut stream = hub.open_stream("/events", &[]);
    stream.read_until("retry: 4321\n");
    hub.wait_for_subscribers("default", 1);
    let status = hub.interrupt();
    assert!(status.success(), "{status:?}");
    let got = stream.read_to_end();
    assert_eq!(
        got.matches("retry: 4321\n").count(),
        2,
        "a hint at the start and one at the end: {got}"
    );
}

/// listen exits non-zero with a clear message when the server refuses.
#[test]
fn listen_reports_refusals_clearly() {
    let hub = Hub::start(&[]);
    let missing = sse(&["listen", &hub.url("/nowhere")], b"");
    assert_eq!(missing.status.code(), Some(1));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(
        message.contains("404") && message.contains("giving up"),
        "{message}"
    );
    let not_a_stream = sse(&["listen", &hub.url("/health")], b"");
    assert_eq!(not_a_stream.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_a_stream.stderr).contains("not text/event-stream"));
}

/// A stream asked for from another origin takes the router with its CORS
/// layer (plain same-origin streams are written by the server itself).
#[test]
fn a_cross_origin_stream_gets_its_cors_headers() {
    let hub = Hub::start(&["--cors-origin", "http://app.test"]);
    let mut allowed = hub.open_stream("/events", &[("origin", "http://app.test")]);
    let got = allowed.read_until("retry:").to_ascii_lowercase();
    assert!(
        got.contains("access-control-allow-origin: http://app.test"),
        "{got}"
    );
    let mut plain = hub.open_stream("/events", &[]);
    let got = plain.read_until("retry:").to_ascii_lowercase();
    assert!(got.starts_with("http/1.1 200"), "{got}");
    assert!(!got.contains("access-control-allow-origin"), "{got}");
}
