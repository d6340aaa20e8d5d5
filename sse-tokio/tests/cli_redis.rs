//! Several `sse serve` nodes on one Redis, end to end over 127.0.0.1: the
//! real binaries, a real `redis-server` started by each test on a free
//! port. One publish reaches every node once with one id; a client resumes
//! on another node; a fresh node serves what was missed on several
//! channels from Redis; Redis stops and starts while streams stay open;
//! `/ready` proves that this node's reader delivers.
#![cfg(feature = "cli")]

#[path = "support/hub.rs"]
mod hub;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use hub::{Hub, finish, spawn_sse};
use redis_server::RedisServer;

const WAIT: Duration = Duration::from_secs(30);

/// A node on `redis`.
fn node(redis: &RedisServer, extra: &[&str]) -> Hub {
    let url = redis.url();
    let mut args = vec!["--redis", url.as_str()];
    args.extend_from_slice(extra);
    Hub::start(&args)
}

/// Publishes `data` to `channel` on `hub`; returns the id Redis gave it.
fn publish(hub: &Hub, channel: &str, data: &str) -> String {
    let response = hub.request(
        "POST",
        &format!("/publish?channel={channel}"),
        &[],
        data.as_bytes(),
    );
    assert_eq!(response.status, 200, "{response:?}");
    let id = response.json()["id"].as_str().expect("an id").to_owned();
    redis_id(&id);
    id
}

/// A Redis id as the numbers it orders by.
fn redis_id(id: &str) -> (u64, u64) {
    id.split_once('-')
        .and_then(|(millis, sequence)| Some((millis.parse().ok()?, sequence.parse().ok()?)))
        .unwrap_or_else(|| panic!("not a Redis id: {id:?}"))
}

/// `sse listen --json` for `count` events.
fn listen(hub: &Hub, path: &str, count: usize, last_event_id: Option<&str>) -> std::process::Child {
    let count = count.to_string();
    let url = hub.url(path);
    let mut args = vec!["listen", "--json", "--count", count.as_str()];
    if let Some(id) = last_event_id {
        args.extend(["--last-event-id", id]);
    }
    args.push(url.as_str());
    spawn_sse(&args)
}

/// The event lines a listener printed, once it has its events (not the
/// open, reconnect and end lines, which have a `"kind"`).
fn lines(listener: std::process::Child) -> Vec<String> {
    let output = finish(listener, WAIT);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with(r#"{"kind":"#))
        .map(str::to_owned)
        .collect()
}

fn json_event(data: &str, id: &str) -> String {
    format!(r#"{{"type":"message","data":"{data}","lastEventId":"{id}"}}"#)
}

#[test]
fn one_publish_reaches_both_nodes_once_with_the_same_id() {
    let redis = RedisServer::start();
    let a = node(&redis, &[]);
    let b = node(&redis, &[]);
    let on_a = listen(&a, "/events?channel=news", 2, None);
    let on_b = listen(&b, "/events?channel=news", 2, None);
    a.wait_for_subscribers("news", 1);
    b.wait_for_subscribers("news", 1);

    let hello = a.request("POST", "/publish?channel=news", &[], b"hello");
    // `subscribers` counts this node's: other nodes' are not known here.
    assert_eq!(hello.json()["subscribers"], 1, "{hello:?}");
    let hello = hello.json()["id"].as_str().expect("an id").to_owned();
    // The next event on both is the marker: nothing repeated in between.
    let marker = publish(&b, "news", "marker");
    assert!(
        redis_id(&marker) > redis_id(&hello),
        "ids grow: {hello}, {marker}"
    );
    let expected = [json_event("hello", &hello), json_event("marker", &marker)];
    assert_eq!(lines(on_a), expected);
    assert_eq!(lines(on_b), expected);

    // Ids come from Redis: a caller's own is refused.
    let own = a.request("POST", "/publish?channel=news&id=mine", &[], b"x");
    assert_eq!(own.status, 400);
    assert!(own.body.contains("leave the id out"), "{}", own.body);
    let health = a.request("GET", "/health", &[], b"").json();
    assert_eq!(health["redis"]["link"], "up");
    assert_eq!(health["redis"]["cursor"], marker);
}

/// The issue's scenario: a client on B goes away, events are published on
/// A, the client reconnects to A with its Last-Event-ID.
#[test]
fn a_client_resumes_on_the_other_node_with_exactly_what_it_missed() {
    let redis = RedisServer::start();
    let a = node(&redis, &[]);
    let b = node(&redis, &[]);
    let first = listen(&b, "/events?channel=log", 1, None);
    b.wait_for_subscribers("log", 1);
    let one = publish(&a, "log", "one");
    assert_eq!(lines(first), [json_event("one", &one)]);

    let two = publish(&a, "log", "two");
    publish(&a, "other", "elsewhere");
    let three = publish(&b, "log", "three");
    let back = listen(&a, "/events?channel=log", 3, Some(&one));
    a.wait_for_subscribers("log", 1);
    let marker = publish(&b, "log", "marker");
    assert_eq!(
        lines(back),
        [
            json_event("two", &two),
            json_event("three", &three),
            json_event("marker", &marker),
        ]
    );
}

/// A node started after the events has none of them locally: it serves the
/// missed events of several channels from Redis, merged by id, an event on
/// two of them once; an id older than the retention gets the reset event.
#[test]
fn a_fresh_node_serves_several_channels_and_the_reset_event_from_redis() {
    let redis = RedisServer::start();
    let a = node(&redis, &["--redis-retention", "3"]);
    let seen = publish(&a, "a", "seen");
    let x1 = publish(&a, "a", "x1");
    let y1 = publish(&a, "b", "y1");
    publish(&a, "c", "z1");
    let both = a.request(
        "POST",
        "/publish",
        &[("content-type", "application/json")],
        br#"{"channels":["a","b"],"data":"xy"}"#,
    );
    let xy = both.json()["id"].as_str().expect("an id").to_owned();
    let mut r = Vec::new();
    for n in 1..=5 {
        r.push(publish(&a, "r", &format!("r{n}")));
    }

    let fresh = node(&redis, &[]);
    let back = listen(&fresh, "/events?channel=a&channel=b", 4, Some(&seen));
    fresh.wait_for_subscribers("a", 1);
    let marker = publish(&a, "b", "marker");
    assert_eq!(
        lines(back),
        [
            json_event("x1", &x1),
            json_event("y1", &y1),
            json_event("xy", &xy),
            json_event("marker", &marker),
        ]
    );

    // r2 is gone (3 kept): told first, then r3 to r5.
    let stale = listen(&fresh, "/events?channel=r", 4, Some(&r[0]));
    let got = lines(stale);
    assert_eq!(
        got[0],
        format!(
            r#"{{"type":"sse-reset","data":"history","lastEventId":"{}"}}"#,
            r[0]
        )
    );
    assert_eq!(
        got[1..],
        [
            json_event("r3", &r[2]),
            json_event("r4", &r[3]),
            json_event("r5", &r[4]),
        ]
    );
}

/// Redis stops and comes back (with its data) while streams stay open:
/// publishing fails loudly meanwhile, /health says so, and afterwards
/// events flow again, none lost or repeated.
#[test]
fn redis_stops_and_restarts_while_streams_stay_open() {
    let mut redis = RedisServer::start();
    let a = node(&redis, &[]);
    let b = node(&redis, &[]);
    let on_a = listen(&a, "/events?channel=x", 3, None);
    let on_b = listen(&b, "/events?channel=x", 3, None);
    a.wait_for_subscribers("x", 1);
    b.wait_for_subscribers("x", 1);
    let before = publish(&a, "x", "before");

    redis.stop();
    for hub in [&a, &b] {
        let health = hub.wait_for("/health", "the link reported down", |r| r.status == 503);
        let health = health.json();
        assert_eq!(health["redis"]["link"], "down");
        assert!(health["redis"]["lastError"].is_string(), "{health}");
        let failed = hub.request("POST", "/publish?channel=x", &[], b"during");
        assert_eq!(failed.status, 503, "{failed:?}");
        assert!(failed.body.contains("Redis"), "{}", failed.body);
        // The streams stay open.
        hub.wait_for_subscribers("x", 1);
    }

    redis.restart();
    for hub in [&a, &b] {
        let health = hub.wait_for("/health", "the link back up", |r| r.status == 200);
        assert_eq!(health.json()["redis"]["link"], "up");
    }
    let after = publish(&b, "x", "after");
    let marker = publish(&a, "x", "marker");
    let expected = [
        json_event("before", &before),
        json_event("after", &after),
        json_event("marker", &marker),
    ];
    assert_eq!(lines(on_a), expected);
    assert_eq!(lines(on_b), expected);
}

/// `rediss://`: a node talks to Redis over TLS (rustls), trusting the
/// certificate it is given; without it, it refuses to start, saying why.
#[test]
fn nodes_reach_redis_over_tls() {
    let redis = RedisServer::start_tls();
    let url = redis.url();
    assert!(url.starts_with("rediss://"));
    let ca = redis.ca_file();
    let trust = [("SSL_CERT_FILE", ca.as_os_str())];
    let a = Hub::start_with_env(&["--redis", &url], &trust);
    let b = Hub::start_with_env(&["--redis", &url], &trust);
    let on_b = listen(&b, "/events?channel=secure", 1, None);
    b.wait_for_subscribers("secure", 1);
    let id = publish(&a, "secure", "over TLS");
    assert_eq!(lines(on_b), [json_event("over TLS", &id)]);

    let untrusted = spawn_sse(&["serve", "--port", "0", "--redis", &url]);
    let output = finish(untrusted, WAIT);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("cannot use Redis at rediss://127.0.0.1"),
        "{message}"
    );
}

/// `/ready` answers 200 only while a probe through Redis comes back
/// through this node's own reader: with the reader's connection held up
/// (its link still up, commands flowing), it answers 503 saying why, and
/// 200 again once the reader reads; `/metrics` shows the link meanwhile.
#[test]
fn readiness_goes_away_while_the_reader_is_stuck_and_comes_back() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the proxy");
    let proxy = runtime.block_on(proxy::Proxy::start(format!("127.0.0.1:{}", redis.port())));
    let url = proxy.url();
    let a = Hub::start(&["--redis", url.as_str(), "--ready-timeout", "1"]);
    let ready = a.wait_for("/ready", "ready at first", |r| r.status == 200);
    assert_eq!(ready.json()["backend"], "redis");

    proxy.stall_readers();
    // The link is up: what /health reports does not see a stuck reader.
    assert_eq!(a.request("GET", "/health", &[], b"").status, 200);
    let stuck = a.wait_for("/ready", "not ready while the reader is stuck", |r| {
        r.status == 503
    });
    let reasons = stuck.json()["reasons"].to_string();
    assert!(reasons.contains("redis"), "{reasons}");

    proxy.resume_readers();
    let back = a.wait_for("/ready", "ready again", |r| r.status == 200);
    assert_eq!(back.json()["status"], "ready");
    // Events flow again, and the link's figures are scraped.
    let listener = listen(&a, "/events?channel=news", 1, None);
    a.wait_for_subscribers("news", 1);
    let id = publish(&a, "news", "after");
    assert_eq!(lines(listener), [json_event("after", &id)]);
    let metrics = a.request("GET", "/metrics", &[], b"").body;
    let sample = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    assert_eq!(sample("sse_link_up{backend=\"redis\"}"), 1.0);
    assert!(sample("sse_link_lag_seconds{backend=\"redis\"}") >= 0.0);
}
