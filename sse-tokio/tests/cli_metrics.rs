//! Operating `sse serve`: `/metrics` scraped and parsed (the text format,
//! every sample) while streams open, events flow, a subscriber lags and
//! tokens are refused; the metrics token and a metrics address of their
//! own; `/live` and `/ready`; logs as JSON that never show a token.
#![cfg(feature = "cli")]

#[path = "support/hub.rs"]
mod hub;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use hub::{Hub, Server};

/// One sample's labels.
type Labels = BTreeMap<String, String>;

/// A scrape, parsed: every sample by name and labels, and each family's
/// type.
#[derive(Debug, Default)]
struct Scrape {
    samples: HashMap<String, Vec<(Labels, f64)>>,
    types: HashMap<String, String>,
}

/// Parses the Prometheus text format (0.0.4): `# TYPE` lines, samples
/// `name{label="value",...} value`, with escapes in label values.
fn parse(text: &str) -> Scrape {
    let mut scrape = Scrape::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            scrape.types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (name, labels, rest) = match line.find('{') {
            Some(open) => {
                let (labels, end) = parse_labels(&line[open + 1..]);
                (&line[..open], labels, &line[open + 1 + end..])
            }
            None => {
                let (name, rest) = line.split_once(' ').expect("name value");
                (name, Labels::new(), rest)
            }
        };
        let value = rest.split_whitespace().next().expect("a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            value => value.parse().unwrap_or_else(|_| panic!("a number: {line}")),
        };
        scrape
            .samples
            .entry(name.to_owned())
            .or_default()
            .push((labels, value));
    }
    scrape
}

/// The labels after `{`, and how many bytes they took with the `}`.
fn parse_labels(text: &str) -> (Labels, usize) {
    let mut labels = Labels::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        if bytes[at] == b'}' {
            return (labels, at + 1);
        }
        let eq = at + text[at..].find('=').expect("name=");
        let name = text[at..eq].trim_start_matches(',').to_owned();
        assert_eq!(bytes[eq + 1], b'"', "a quoted value: {text}");
        let mut value = String::new();
        let mut i = eq + 2;
        loop {
            match bytes[i] {
                b'\\' => {
                    value.push(match bytes[i + 1] {
                        b'n' => '\n',
                        other => char::from(other),
                    });
                    i += 2;
                }
                b'"' => break,
                _ => {
                    let c = text[i..].chars().next().expect("a char");
                    value.push(c);
                    i += c.len_utf8();
                }
            }
        }
        labels.insert(name, value);
        at = i + 1;
        if bytes[at] == b',' {
            at += 1;
        }
    }
}

impl Scrape {
    /// The value of `name` with exactly `labels`; panics when absent.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .get(name)?
            .iter()
            .find(|(labels, _)| *labels == wanted)
            .map(|(_, value)| *value)
    }
}

fn scrape(hub: &Server, headers: &[(&str, &str)]) -> Scrape {
    let response = hub.request("GET", "/metrics", headers, b"");
    assert_eq!(response.status, 200, "{response:?}");
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{response:?}"
    );
    parse(&response.body)
}

/// Scrapes until `ready` accepts, within 20 s.
fn scrape_until(hub: &Server, what: &str, ready: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let scraped = scrape(hub, &[]);
        if ready(&scraped) {
            return scraped;
        }
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const PUBLISH: (&str, &str) = ("authorization", "Bearer pub-s3cret-token");
const SUBSCRIBE: (&str, &str) = ("authorization", "Bearer sub-s3cret-token");

#[test]
fn scraped_figures_move_with_streams_events_lag_and_refusals() {
    let hub = Hub::start(&[
        "--ids",
        "--publish-token",
        "pub-s3cret-token",
        "--subscribe-token",
        "sub-s3cret-token",
        "--max-event-size",
        "65536",
        "--queue-size",
        "131072",
        "--metrics-channel",
        "news",
        "--write-timeout",
        "2",
    ]);
    let before = scrape(&hub, &[]);
    for (family, kind) in [
        ("sse_streams_open", "gauge"),
        ("sse_deliveries_total", "counter"),
        ("sse_publish_to_write_seconds", "histogram"),
    ] {
        assert_eq!(
            before.types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
    assert_eq!(before.get("sse_streams_open", &[("path", "lean")]), 0.0);
    assert_eq!(before.get("sse_backend_up", &[("backend", "memory")]), 1.0);

    // Two streams on the server's own writer, one through hyper (a
    // request with an Origin takes the router).
    let mut lean_a = hub.open_stream("/events?channel=news", &[SUBSCRIBE]);
    let mut lean_b = hub.open_stream("/events?channel=news&token=sub-s3cret-token", &[]);
    let mut hyper = hub.open_stream(
        "/events?channel=news",
        &[SUBSCRIBE, ("origin", "http://page.test")],
    );
    for stream in [&mut lean_a, &mut lean_b, &mut hyper] {
        stream.read_until("retry:");
    }
    let open = scrape_until(&hub, "three streams", |s| {
        s.get("sse_subscribers", &[]) == 3.0
    });
    assert_eq!(open.get("sse_streams_open", &[("path", "lean")]), 2.0);
    assert_eq!(open.get("sse_streams_open", &[("path", "hyper")]), 1.0);
    assert_eq!(
        open.get("sse_channel_subscribers", &[("channel", "news")]),
        3.0
    );

    // Events flow.
    for n in 0..5 {
        let body = format!("event {n}");
        let published = hub.request("POST", "/publish?channel=news", &[PUBLISH], body.as_bytes());
        assert_eq!(published.status, 200, "{published:?}");
    }
    let mut first_id = String::new();
    for stream in [&mut lean_a, &mut lean_b, &mut hyper] {
        let text = stream.read_until("data: event 4");
        first_id = text
            .lines()
            .find_map(|line| line.strip_prefix("id: "))
            .expect("an id")
            .to_owned();
    }

    // Tokens refused: a publish, a subscribe on each path.
    let wrong = ("authorization", "Bearer wrong");
    assert_eq!(
        hub.request("POST", "/publish?channel=news", &[wrong], b"x")
            .status,
        401
    );
    assert_eq!(
        hub.request("GET", "/events?channel=news", &[wrong], b"")
            .status,
        401
    );
    let refused = hub.request(
        "GET",
        "/events?channel=news",
        &[("origin", "http://page.test")],
        b"",
    );
    assert_eq!(refused.status, 401);

    // Resumes: one the history serves, one it cannot.
    let mut resumed = hub.open_stream(
        "/events?channel=news",
        &[SUBSCRIBE, ("last-event-id", &first_id)],
    );
    resumed.read_until("data: event 4");
    let mut reset = hub.open_stream(
        "/events?channel=news",
        &[SUBSCRIBE, ("last-event-id", "nope-1")],
    );
    reset.read_until("event: sse-reset");

    // A subscriber that reads nothing falls behind and is dropped.
    let mut stalled = hub.open_stream("/events?channel=bulk", &[SUBSCRIBE]);
    stalled.read_until("retry:");
    let data = "y".repeat(60_000);
    let mut bulk = 0;
    let lagged = loop {
        let published = hub.request("POST", "/publish?channel=bulk", &[PUBLISH], data.as_bytes());
        assert_eq!(published.status, 200);
        bulk += 1;
        let scraped = scrape(&hub, &[]);
        if scraped.get("sse_subscribers_dropped_total", &[("reason", "lag")]) >= 1.0 {
            break scraped;
        }
        assert!(bulk < 1000, "the stalled subscriber never lagged");
    };
    assert!(lagged.get("sse_events_dropped_total", &[]) >= 1.0);

    // Its writer, stuck on a full socket, is cut by the write timeout.
    let after = scrape_until(&hub, "the stalled stream cut", |s| {
        s.get("sse_streams_ended_total", &[("reason", "write_timeout")]) >= 1.0
    });
    assert!(
        after.get(
            "sse_subscribers_dropped_total",
            &[("reason", "write_timeout")]
        ) >= 1.0
    );
    let delta =
        |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    assert_eq!(
        delta("sse_events_published_total", &[("result", "ok")]),
        5.0 + f64::from(bulk)
    );
    assert_eq!(
        delta("sse_events_published_total", &[("result", "refused")]),
        1.0
    );
    assert_eq!(
        after.get("sse_channel_events_published_total", &[("channel", "news")]),
        5.0
    );
    assert_eq!(
        delta(
            "sse_requests_refused_total",
            &[("route", "publish"), ("reason", "token")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "sse_requests_refused_total",
            &[("route", "events"), ("reason", "token")]
        ),
        2.0
    );
    assert!(
        delta("sse_deliveries_total", &[]) >= 15.0,
        "five events to three subscribers"
    );
    assert_eq!(
        delta("sse_replay_requests_total", &[("result", "served")]),
        1.0
    );
    assert_eq!(
        delta("sse_replay_requests_total", &[("result", "reset")]),
        1.0
    );
    assert!(
        delta("sse_replayed_events_total", &[]) >= 4.0,
        "events 1 to 4 again"
    );
    assert!(
        delta("sse_stream_written_bytes_total", &[]) >= 15.0 * "data: event 0\n\n".len() as f64,
        "at least what the three streams read"
    );

    // The histogram: consistent buckets, one observation per live event
    // taken by a writer (the stalled one took some of the bulk too).
    let count = after.get("sse_publish_to_write_seconds_count", &[]);
    assert!(count >= 15.0, "{count}");
    assert!(after.get("sse_publish_to_write_seconds_sum", &[]) > 0.0);
    let mut buckets: Vec<(f64, f64)> = after.samples["sse_publish_to_write_seconds_bucket"]
        .iter()
        .map(|(labels, value)| {
            let le = &labels["le"];
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le")
            };
            (bound, *value)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative: {buckets:?}"
    );
    assert_eq!(
        buckets.last().map(|b| b.1),
        Some(count),
        "+Inf holds them all"
    );

    // Clients leave: their streams end, counted by why.
    drop((lean_a, lean_b, hyper, resumed, reset, stalled));
    let gone = scrape_until(&hub, "every stream closed", |s| {
        s.get("sse_streams_open", &[("path", "lean")]) == 0.0
            && s.get("sse_streams_open", &[("path", "hyper")]) == 0.0
    });
    assert!(
        gone.get("sse_streams_ended_total", &[("reason", "client")])
            - before.get("sse_streams_ended_total", &[("reason", "client")])
            >= 5.0
    );
}

#[test]
fn the_metrics_token_guards_the_figures_and_not_the_probes() {
    let hub = Hub::start(&["--metrics-token", "m-s3cret"]);
    let refused = hub.request("GET", "/metrics", &[], b"");
    assert_eq!(refused.status, 401);
    assert_eq!(
        hub.request("GET", "/metrics?token=m-s3cret", &[], b"")
            .status,
        401,
        "never from the URL"
    );
    assert_eq!(hub.request("GET", "/status/events", &[], b"").status, 401);
    let token = ("authorization", "Bearer m-s3cret");
    let scraped = scrape(&hub, &[token]);
    assert_eq!(
        scraped.get(
            "sse_requests_refused_total",
            &[("route", "metrics"), ("reason", "token")]
        ),
        3.0
    );
    let openmetrics = hub.request(
        "GET",
        "/metrics",
        &[
            token,
            ("accept", "application/openmetrics-text; version=1.0.0"),
        ],
        b"",
    );
    assert!(
        openmetrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text"))
    );
    assert!(
        openmetrics.body.trim_end().ends_with("# EOF"),
        "{}",
        openmetrics.body
    );
    // The page itself holds no figure; the probes need no token.
    assert_eq!(hub.request("GET", "/status", &[], b"").status, 200);
    assert_eq!(hub.request("GET", "/live", &[], b"").status, 200);
    let ready = hub.request("GET", "/ready", &[], b"");
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.json()["status"], "ready");
}

/// A free port of 127.0.0.1 (free when this returns).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `GET path` on `address`, whole.
fn get(address: &str, path: &str) -> (u16, String) {
    let mut socket = TcpStream::connect(address).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = String::new();
    socket.read_to_string(&mut raw).expect("read");
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, raw)
}

#[test]
fn a_metrics_address_of_their_own() {
    let port = free_port().to_string();
    let address = format!("127.0.0.1:{port}");
    let hub = Hub::start(&["--metrics-addr", &address]);
    assert_eq!(
        hub.request("GET", "/metrics", &[], b"").status,
        404,
        "not on the hub's address"
    );
    assert_eq!(hub.request("GET", "/status", &[], b"").status, 404);
    assert_eq!(
        hub.request("GET", "/ready", &[], b"").status,
        200,
        "probes stay"
    );
    let (status, body) = get(&address, "/metrics");
    assert_eq!(status, 200);
    let scraped = parse(body.split_once("\r\n\r\n").expect("a body").1);
    assert_eq!(scraped.get("sse_backend_up", &[("backend", "memory")]), 1.0);
    assert_eq!(get(&address, "/ready").0, 200);
    assert_eq!(get(&address, "/publish").0, 404, "only what operators read");
}

#[test]
fn without_metrics_the_routes_are_gone_and_the_probes_stay() {
    let hub = Hub::start(&["--no-metrics"]);
    assert_eq!(hub.request("GET", "/metrics", &[], b"").status, 404);
    assert_eq!(hub.request("GET", "/status/events", &[], b"").status, 404);
    assert_eq!(hub.request("GET", "/live", &[], b"").status, 200);
    assert_eq!(hub.request("GET", "/health", &[], b"").status, 200);
}

#[test]
fn logs_are_json_lines_and_never_show_a_token() {
    let dir = tempfile::tempdir().expect("a directory");
    let log = dir.path().join("stderr.log");
    let tokens = ["pub-TOKEN-4f1d", "sub-TOKEN-9c2e", "met-TOKEN-77aa"];
    // stderr to a file: `sh` execs the hub (same pid) with it redirected.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("log=\"$1\"; shift; exec \"$@\" 2>\"$log\"")
        .arg("sh")
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_sse"))
        .args(["serve", "--port", "0", "--log-format", "json"])
        .args(["--publish-token", tokens[0], "--subscribe-token", tokens[1]])
        .args(["--metrics-token", tokens[2]])
        // RUST_LOG wins over --log-level: everything, from every crate.
        .env("RUST_LOG", "trace");
    let hub = Server::start(command, "sse: listening on http://");

    let header = |token: &str| format!("Bearer {token}");
    for token in [tokens[0], "wrong-one"] {
        hub.request(
            "POST",
            "/publish?channel=a",
            &[("authorization", &header(token))],
            b"hello",
        );
        hub.request(
            "POST",
            "/channels/a/close",
            &[("authorization", &header(token))],
            b"",
        );
    }
    for token in [tokens[1], "wrong-two"] {
        let mut stream = hub.open_stream(&format!("/events?channel=a&token={token}"), &[]);
        let text = stream.read_until("\r\n\r\n");
        assert!(text.starts_with("HTTP/1.1"), "{text}");
        let mut hyper = hub.open_stream(
            "/events?channel=a",
            &[
                ("authorization", &header(token)),
                ("origin", "http://x.test"),
            ],
        );
        hyper.read_until("\r\n\r\n");
    }
    for token in [tokens[2], "wrong-three"] {
        hub.request("GET", "/metrics", &[("authorization", &header(token))], b"");
        hub.request("GET", "/metrics?token=".to_owned().as_str(), &[], b"");
    }
    // Publish and subscribe tokens in a URL, where they must not be.
    hub.request("POST", &format!("/publish?token={}", tokens[0]), &[], b"x");
    hub.request("GET", &format!("/metrics?token={}", tokens[2]), &[], b"");
    hub.wait_for("/health", "the streams gone", |r| {
        r.json()["subscribers"] == 0
    });
    let status = hub.interrupt();
    assert!(status.success(), "{status:?}");

    let logged = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<serde_json::Value> = logged
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for token in tokens {
        assert!(!logged.contains(token), "{token} was logged:\n{logged}");
    }
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for expected in [
        "hub started; the chat page is at /",
        "request refused",
        "stream opened",
        "stream ended",
    ] {
        assert!(
            messages.contains(&expected),
            "no {expected:?} in {messages:?}"
        );
    }
    let refusals = lines
        .iter()
        .filter(|l| l["message"] == "request refused" && l["reason"] == "token")
        .count();
    assert!(refusals >= 4, "each wrong token is logged: {refusals}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}

#[test]
fn a_preflight_from_an_origin_not_allowed_is_counted_as_forbidden() {
    let hub = Hub::start(&["--cors-origin", "https://ok.test"]);
    let preflight = |origin: &str| {
        hub.request(
            "OPTIONS",
            "/publish",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
            b"",
        )
        .status
    };
    assert_eq!(preflight("https://evil.test"), 403);
    assert_eq!(preflight("https://ok.test"), 204);
    let scraped = scrape(&hub, &[]);
    assert_eq!(
        scraped.get(
            "sse_requests_refused_total",
            &[("route", "publish"), ("reason", "forbidden")]
        ),
        1.0
    );
    // The probes' answers are never refusals.
    assert_eq!(hub.request("GET", "/ready", &[], b"").status, 200);
    let total: f64 = scrape(&hub, &[]).samples["sse_requests_refused_total"]
        .iter()
        .map(|(_, value)| value)
        .sum();
    assert_eq!(total, 1.0);
}
