//! The connection model, driven with simulated time: what it requests, how
//! it classifies responses, when it reconnects and when it stops.

use core::time::Duration;

use sse_proto::{
    Action, Client, ClientConfig, CloseReason, Decoder, EventId, Frame, Instant, ReadyState,
    ResponseHead, RetryPolicy, Verdict, is_event_stream, redirect_method,
};

type TestClient = Client<Vec<u8>>;

fn ms(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn client(config: ClientConfig) -> TestClient {
    Client::new(Decoder::new(vec![0; 4096]), config, 42)
}

/// A config without jitter, so delays are exact.
fn exact() -> ClientConfig {
    ClientConfig::new().with_jitter_permille(0)
}

fn ok() -> ResponseHead<'static> {
    ResponseHead {
        status: 200,
        content_type: Some(b"text/event-stream"),
        ..ResponseHead::default()
    }
}

fn status(status: u16) -> ResponseHead<'static> {
    ResponseHead {
        status,
        content_type: Some(b"text/html"),
        ..ResponseHead::default()
    }
}

/// Connects at `now` and opens the stream.
fn open(client: &mut TestClient, now: Instant) {
    assert_eq!(client.poll(now), Action::Connect);
    assert_eq!(client.handle_response(now, &ok()), Verdict::Open);
    assert_eq!(client.ready_state(), ReadyState::Open);
}

/// Feeds a body chunk and returns what it yielded, as text.
fn body(client: &mut TestClient, now: Instant, mut input: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while client.handle_body(now, &mut input).expect("decodes") {
        out.push(match client.frame().expect("a frame is ready") {
            Frame::Event(event) => format!(
                "event {} {:?}",
                event.data(),
                event.id().map(|id| id.to_string())
            ),
            Frame::Retry(ms) => format!("retry {ms}"),
            Frame::Comment(text) => format!("comment {text}"),
        });
    }
    out
}

fn headers(client: &TestClient) -> Vec<(String, String)> {
    client
        .request_headers()
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value).into_owned(),
            )
        })
        .collect()
}

fn wait_until(client: &mut TestClient, now: Instant) -> Instant {
    match client.poll(now) {
        Action::Wait { until } => until,
        other => panic!("expected a wait, got {other:?}"),
    }
}

#[test]
fn first_request_carries_accept_and_no_cache_but_no_last_event_id() {
    let mut client = client(exact());
    assert_eq!(client.ready_state(), ReadyState::Connecting);
    assert_eq!(client.poll(ms(0)), Action::Connect);
    assert_eq!(
        headers(&client),
        [
            ("Accept".to_string(), "text/event-stream".to_string()),
            ("Cache-Control".to_string(), "no-cache".to_string()),
        ]
    );
}

#[test]
fn a_seeded_last_event_id_is_sent_on_the_first_request() {
    let mut decoder = Decoder::new(vec![0; 1024]);
    decoder
        .set_last_event_id(Some(EventId::new("resume-9").unwrap()))
        .unwrap();
    let client = Client::new(decoder, exact(), 1);
    assert!(headers(&client).contains(&("Last-Event-ID".to_string(), "resume-9".to_string())));
}

#[test]
fn content_type_essence_is_matched_case_insensitively_ignoring_parameters() {
    for good in [
        &b"text/event-stream"[..],
        b"Text/Event-Stream",
        b"text/event-stream; charset=utf-8",
        b" text/event-stream\t",
        b"text/event-stream;",
    ] {
        assert!(is_event_stream(good), "{:?}", String::from_utf8_lossy(good));
    }
    for bad in [
        &b"text/plain"[..],
        b"text/event-streams",
        b"text/event-stream, text/plain",
        b"",
        b"text/ event-stream",
        b"event-stream",
    ] {
        assert!(!is_event_stream(bad), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn wrong_content_type_fails_the_connection() {
    let mut client = client(exact());
    client.poll(ms(0));
    let head = ResponseHead {
        content_type: Some(b"text/plain"),
        ..ok()
    };
    assert_eq!(client.handle_response(ms(0), &head), Verdict::Closed);
    assert_eq!(client.poll(ms(1)), Action::Closed(CloseReason::ContentType));
    let missing = ResponseHead {
        content_type: None,
        ..ok()
    };
    let mut client = self::client(exact());
    client.poll(ms(0));
    assert_eq!(client.handle_response(ms(0), &missing), Verdict::Closed);
}

#[test]
fn no_content_stops_for_good() {
    for policy in [
        RetryPolicy::Never,
        RetryPolicy::Transient,
        RetryPolicy::Always,
    ] {
        let mut client = client(exact().with_retry_policy(policy));
        client.poll(ms(0));
        assert_eq!(client.handle_response(ms(0), &status(204)), Verdict::Closed);
        assert_eq!(
            client.poll(ms(1_000_000)),
            Action::Closed(CloseReason::NoContent)
        );
        assert_eq!(client.ready_state(), ReadyState::Closed);
    }
}

#[test]
fn error_statuses_fail_in_spec_mode() {
    for code in [404, 500, 503, 429, 401] {
        let mut client = client(exact());
        client.poll(ms(0));
        assert_eq!(
            client.handle_response(ms(0), &status(code)),
            Verdict::Closed
        );
        assert_eq!(
            client.poll(ms(1)),
            Action::Closed(CloseReason::Status(code))
        );
    }
}

#[test]
fn transient_policy_retries_5xx_and_429_only() {
    for (code, verdict) in [
        (500, Verdict::Retry),
        (503, Verdict::Retry),
        (429, Verdict::Retry),
        (404, Verdict::Closed),
        (401, Verdict::Closed),
    ] {
        let mut client = client(exact().with_retry_policy(RetryPolicy::Transient));
        client.poll(ms(0));
        assert_eq!(
            client.handle_response(ms(0), &status(code)),
            verdict,
            "status {code}"
        );
    }
    let mut client = client(exact().with_retry_policy(RetryPolicy::Transient));
    client.poll(ms(0));
    let plain = ResponseHead {
        content_type: Some(b"text/plain"),
        ..ok()
    };
    assert_eq!(
        client.handle_response(ms(0), &plain),
        Verdict::Closed,
        "a wrong content type is not transient"
    );
}

#[test]
fn always_policy_retries_every_failure() {
    for head in [
        status(404),
        status(500),
        ResponseHead {
            content_type: Some(b"text/plain"),
            ..ok()
        },
    ] {
        let mut client = client(exact().with_retry_policy(RetryPolicy::Always));
        client.poll(ms(0));
        assert_eq!(client.handle_response(ms(0), &head), Verdict::Retry);
        assert_eq!(wait_until(&mut client, ms(0)), ms(3000));
        assert_eq!(client.poll(ms(3000)), Action::Connect);
    }
}

#[test]
fn retry_after_seconds_is_honoured_exactly() {
    let mut client = client(ClientConfig::new().with_retry_policy(RetryPolicy::Transient));
    client.poll(ms(100));
    let head = ResponseHead {
        retry_after: Some(b"7"),
        ..status(503)
    };
    assert_eq!(client.handle_response(ms(100), &head), Verdict::Retry);
    assert_eq!(
        wait_until(&mut client, ms(100)),
        ms(7100),
        "no jitter, no backoff on an explicit delay"
    );
    assert_eq!(client.poll(ms(7099)), Action::Wait { until: ms(7100) });
    assert_eq!(client.poll(ms(7100)), Action::Connect);
}

#[test]
fn retry_after_date_is_measured_against_the_date_header() {
    let mut client = client(exact().with_retry_policy(RetryPolicy::Transient));
    client.poll(ms(0));
    let head = ResponseHead {
        retry_after: Some(b"Sat, 21 Nov 2026 16:49:30 GMT"),
        date: Some(b"Sat, 21 Nov 2026 16:49:00 GMT"),
        ..status(429)
    };
    client.handle_response(ms(0), &head);
    assert_eq!(wait_until(&mut client, ms(0)), ms(30_000));
}

#[test]
fn unreadable_retry_after_falls_back_to_backoff() {
    let mut client = client(exact().with_retry_policy(RetryPolicy::Transient));
    client.poll(ms(0));
    client.handle_response(
        ms(0),
        &ResponseHead {
            retry_after: Some(b"soon"),
            ..status(500)
        },
    );
    assert_eq!(wait_until(&mut client, ms(0)), ms(3000));
}

#[test]
fn end_of_body_reconnects_after_the_reconnection_time() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    client.handle_end(ms(50));
    assert_eq!(client.ready_state(), ReadyState::Connecting);
    assert_eq!(wait_until(&mut client, ms(50)), ms(3050));
    assert_eq!(client.poll(ms(3050)), Action::Connect);
}

#[test]
fn server_retry_sets_the_delay_and_persists_across_reconnects() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    assert_eq!(
        body(&mut client, ms(0), b"retry: 250\ndata: a\n\n"),
        ["retry 250", "event a None"]
    );
    assert_eq!(client.reconnection_time(), Duration::from_millis(250));
    client.handle_end(ms(10));
    assert_eq!(wait_until(&mut client, ms(10)), ms(260));
    open(&mut client, ms(260));
    assert_eq!(body(&mut client, ms(261), b"data: b\n\n"), ["event b None"]);
    client.handle_end(ms(300));
    assert_eq!(
        wait_until(&mut client, ms(300)),
        ms(550),
        "retry: is kept across reconnects"
    );
}

/// The popular Rust clients drop a `retry:` block without data; the spec
/// applies it.
#[test]
fn standalone_retry_block_changes_the_delay() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    assert_eq!(body(&mut client, ms(0), b"retry: 1200\n\n"), ["retry 1200"]);
    client.handle_end(ms(0));
    assert_eq!(wait_until(&mut client, ms(0)), ms(1200));
}

/// The main Rust clients lose the last event id after a reconnect.
#[test]
fn last_event_id_is_kept_across_reconnects() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    body(
        &mut client,
        ms(0),
        b"id: 5\ndata: a\n\nid: 6\ndata: unfinished",
    );
    client.handle_error(ms(1));
    let until = wait_until(&mut client, ms(1));
    assert_eq!(client.poll(until), Action::Connect);
    assert!(
        headers(&client).contains(&("Last-Event-ID".to_string(), "5".to_string())),
        "the id of the last delivered event, not of the unfinished one"
    );
    assert_eq!(client.handle_response(until, &ok()), Verdict::Open);
    assert_eq!(
        body(&mut client, until, b"data: b\n\n"),
        ["event b Some(\"5\")"]
    );
    client.handle_end(until);
    let until = wait_until(&mut client, until);
    client.poll(until);
    assert!(headers(&client).contains(&("Last-Event-ID".to_string(), "5".to_string())));
}

/// An unfinished event is discarded at the end of the body, and the next
/// connection starts a fresh stream (a BOM is stripped again).
#[test]
fn each_connection_is_a_new_stream() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    body(&mut client, ms(0), b"data: half");
    client.handle_end(ms(0));
    open(&mut client, ms(3000));
    assert_eq!(
        body(&mut client, ms(3000), b"\xEF\xBB\xBFdata: new\n\n"),
        ["event new None"]
    );
}

#[test]
fn failures_back_off_exponentially_up_to_the_cap() {
    let mut client = client(
        exact()
            .with_reconnection_time(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(1000)),
    );
    let mut now = ms(0);
    let mut delays = Vec::new();
    for _ in 0..7 {
        assert_eq!(client.poll(now), Action::Connect);
        client.handle_error(now);
        let until = wait_until(&mut client, now);
        delays.push((until - now).as_millis());
        now = until;
    }
    assert_eq!(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
}

#[test]
fn a_server_retry_longer_than_the_cap_is_honoured() {
    let mut client = client(exact().with_max_backoff(Duration::from_millis(1000)));
    open(&mut client, ms(0));
    body(&mut client, ms(0), b"retry: 5000\n");
    client.handle_error(ms(0));
    assert_eq!(wait_until(&mut client, ms(0)), ms(5000));
}

#[test]
fn jitter_only_lengthens_and_stays_within_its_bound() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let mut client = Client::new(
            Decoder::new(vec![0; 256]),
            ClientConfig::new().with_jitter_permille(200),
            seed,
        );
        open(&mut client, ms(0));
        client.handle_end(ms(0));
        let delay = wait_until(&mut client, ms(0)).as_millis();
        assert!((3000..=3600).contains(&delay), "delay {delay}");
        seen.insert(delay);
    }
    assert!(
        seen.len() > 50,
        "jitter spreads reconnects: only {} distinct delays",
        seen.len()
    );
}

#[test]
fn backoff_resets_after_a_healthy_period() {
    let mut client = client(
        exact()
            .with_reconnection_time(Duration::from_millis(100))
            .with_healthy_after(Duration::from_secs(10)),
    );
    for now in [0, 100] {
        assert_eq!(client.poll(ms(now)), Action::Connect);
        client.handle_error(ms(now));
    }
    assert_eq!(
        wait_until(&mut client, ms(100)),
        ms(300),
        "two failures: doubled"
    );
    open(&mut client, ms(300));
    client.handle_end(ms(300 + 9_999));
    assert_eq!(
        wait_until(&mut client, ms(10_299)) - ms(10_299),
        Duration::from_millis(400),
        "not healthy yet: still backing off"
    );
    open(&mut client, ms(10_699));
    client.handle_end(ms(20_699));
    assert_eq!(
        wait_until(&mut client, ms(20_699)) - ms(20_699),
        Duration::from_millis(100),
        "healthy for 10 s: back to the reconnection time"
    );
}

#[test]
fn an_event_makes_a_connection_healthy() {
    let mut client = client(exact().with_reconnection_time(Duration::from_millis(100)));
    for now in [0, 100, 300] {
        assert_eq!(client.poll(ms(now)), Action::Connect);
        client.handle_error(ms(now));
    }
    open(&mut client, ms(700));
    body(&mut client, ms(700), b"data: x\n\n");
    client.handle_end(ms(701));
    assert_eq!(wait_until(&mut client, ms(701)), ms(801));
}

/// With a limit of three attempts, exactly three requests are made.
#[test]
fn max_attempts_counts_attempts() {
    let mut client = client(exact().with_max_attempts(Some(3)));
    let mut now = ms(0);
    let mut connects = 0;
    loop {
        match client.poll(now) {
            Action::Connect => {
                connects += 1;
                client.handle_error(now);
            }
            Action::Wait { until } => now = until,
            Action::Closed(reason) => {
                assert_eq!(reason, CloseReason::MaxAttempts);
                break;
            }
            Action::Io { .. } => unreachable!(),
        }
    }
    assert_eq!(connects, 3);
}

#[test]
fn failed_responses_count_as_attempts_too() {
    let mut client = client(
        exact()
            .with_max_attempts(Some(2))
            .with_retry_policy(RetryPolicy::Transient),
    );
    client.poll(ms(0));
    assert_eq!(client.handle_response(ms(0), &status(503)), Verdict::Retry);
    client.poll(ms(3000));
    assert_eq!(
        client.handle_response(ms(3000), &status(503)),
        Verdict::Retry
    );
    assert_eq!(
        client.poll(ms(3000)),
        Action::Closed(CloseReason::MaxAttempts),
        "closes at once, without a pointless wait"
    );
}

#[test]
fn a_healthy_connection_resets_the_attempt_count() {
    let mut client = client(exact().with_max_attempts(Some(2)));
    client.poll(ms(0));
    client.handle_error(ms(0));
    open(&mut client, ms(3000));
    body(&mut client, ms(3000), b"data: ok\n\n");
    client.handle_end(ms(3000));
    assert_eq!(client.poll(ms(6000)), Action::Connect);
    client.handle_error(ms(6000));
    assert_eq!(
        client.poll(ms(12_000)),
        Action::Connect,
        "one failure since the healthy connection"
    );
}

#[test]
fn idle_timeout_treats_a_silent_connection_as_dead() {
    let mut client = client(exact().with_idle_timeout(Some(Duration::from_secs(5))));
    open(&mut client, ms(0));
    assert_eq!(
        client.poll(ms(0)),
        Action::Io {
            deadline: Some(ms(5000))
        }
    );
    body(&mut client, ms(4000), b": keep-alive\n");
    assert_eq!(
        client.poll(ms(4000)),
        Action::Io {
            deadline: Some(ms(9000))
        },
        "bytes push the deadline back"
    );
    assert!(!client.handle_timeout(ms(8999)));
    assert!(client.handle_timeout(ms(9000)));
    assert!(matches!(client.poll(ms(9000)), Action::Wait { .. }));
}

#[test]
fn idle_timeout_also_bounds_the_wait_for_a_response() {
    let mut client = client(exact().with_idle_timeout(Some(Duration::from_secs(2))));
    assert_eq!(client.poll(ms(0)), Action::Connect);
    assert_eq!(
        client.poll(ms(1)),
        Action::Io {
            deadline: Some(ms(2000))
        }
    );
    assert!(client.handle_timeout(ms(2000)));
    assert_eq!(wait_until(&mut client, ms(2000)), ms(5000));
}

#[test]
fn without_idle_timeout_nothing_times_out() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    assert_eq!(client.poll(ms(0)), Action::Io { deadline: None });
    assert!(!client.handle_timeout(ms(u64::MAX)));
}

/// Checking for a timeout must not start an attempt behind the driver's back.
#[test]
fn handle_timeout_does_not_swallow_a_connect() {
    let mut client = client(exact().with_idle_timeout(Some(Duration::from_secs(1))));
    open(&mut client, ms(0));
    client.handle_end(ms(0));
    assert!(!client.handle_timeout(ms(3000)));
    assert_eq!(client.poll(ms(3000)), Action::Connect);
}

#[test]
fn close_stops_everything() {
    let mut client = client(exact());
    open(&mut client, ms(0));
    client.close();
    assert_eq!(client.poll(ms(1)), Action::Closed(CloseReason::ByCaller));
    let mut input: &[u8] = b"data: x\n\n";
    assert_eq!(client.handle_body(ms(1), &mut input), Ok(false));
    assert_eq!(client.frame(), None);
    client.handle_end(ms(1));
    client.handle_error(ms(1));
    assert_eq!(
        client.poll(ms(100_000)),
        Action::Closed(CloseReason::ByCaller)
    );
}

fn redirect(status: u16) -> ResponseHead<'static> {
    ResponseHead {
        location: Some(b"/elsewhere"),
        ..self::status(status)
    }
}

/// A redirect status without a `Location`, or with an empty one, is one
/// failure with its own reason, under every retry policy: retrying cannot
/// mend it, and following an empty `Location` would loop on the same URL.
#[test]
fn redirect_without_location_closes_under_every_policy() {
    for policy in [
        RetryPolicy::Never,
        RetryPolicy::Transient,
        RetryPolicy::Always,
    ] {
        for (code, location) in [
            (302, None),
            (301, Some(&b""[..])),
            (307, Some(&b" \t "[..])),
            (308, None),
        ] {
            let mut client = client(exact().with_retry_policy(policy));
            client.poll(ms(0));
            let head = ResponseHead {
                location,
                ..status(code)
            };
            assert_eq!(client.handle_response(ms(0), &head), Verdict::Closed);
            assert_eq!(
                client.poll(ms(0)),
                Action::Closed(CloseReason::RedirectWithoutLocation(code)),
                "{policy:?} {code} {location:?}"
            );
        }
    }
    // Another 3xx is a status like any other.
    let mut client = client(exact().with_retry_policy(RetryPolicy::Always));
    client.poll(ms(0));
    assert_eq!(client.handle_response(ms(0), &status(300)), Verdict::Retry);
}

#[test]
fn close_reason_is_known_once_closed() {
    let mut client = client(exact());
    assert_eq!(client.close_reason(), None);
    open(&mut client, ms(0));
    assert_eq!(client.close_reason(), None);
    client.close();
    assert_eq!(client.close_reason(), Some(CloseReason::ByCaller));
}

#[test]
fn redirects_are_followed_up_to_the_limit() {
    for code in [301, 302, 303, 307, 308] {
        let mut client = client(exact().with_max_redirects(2));
        client.poll(ms(0));
        assert_eq!(
            client.handle_response(ms(0), &redirect(code)),
            Verdict::Redirect
        );
        assert_eq!(
            client.handle_response(ms(0), &redirect(code)),
            Verdict::Redirect
        );
        assert_eq!(
            client.handle_response(ms(0), &redirect(code)),
            Verdict::Closed
        );
        assert_eq!(
            client.poll(ms(0)),
            Action::Closed(CloseReason::TooManyRedirects)
        );
    }
    let mut client = client(exact());
    client.poll(ms(0));
    assert_eq!(
        client.handle_response(ms(0), &redirect(307)),
        Verdict::Redirect
    );
    assert_eq!(
        client.handle_response(ms(0), &ok()),
        Verdict::Open,
        "the redirect target opens the stream"
    );
}

#[test]
fn redirect_methods_follow_fetch() {
    for (code, method, expected) in [
        (301, "POST", "GET"),
        (302, "POST", "GET"),
        (303, "POST", "GET"),
        (303, "PUT", "GET"),
        (303, "HEAD", "HEAD"),
        (301, "PUT", "PUT"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
        (302, "GET", "GET"),
    ] {
        assert_eq!(redirect_method(code, method), expected, "{code} {method}");
    }
}

#[test]
fn close_reasons_explain_themselves() {
    assert!(CloseReason::Status(404).to_string().contains("404"));
    assert!(CloseReason::NoContent.to_string().contains("204"));
    assert!(
        CloseReason::ContentType
            .to_string()
            .contains("text/event-stream")
    );
    let missing = CloseReason::RedirectWithoutLocation(301).to_string();
    assert!(
        missing.contains("301") && missing.contains("Location"),
        "{missing}"
    );
}

// --- The floor between attempts -------------------------------------------

/// A server that sends `retry: 0` and closes every stream after one event:
/// the spec would reconnect at once, every time. The floor holds it to one
/// attempt per 100 ms (the default), in simulated time.
#[test]
fn retry_zero_cannot_go_under_the_floor() {
    let mut client = client(exact());
    assert_eq!(
        ClientConfig::new().min_reconnection_delay(),
        sse_proto::DEFAULT_MIN_RECONNECTION_DELAY
    );
    let mut now = ms(0);
    let mut attempts = 0;
    while now < ms(3000) {
        open(&mut client, now);
        attempts += 1;
        body(&mut client, now, b"retry: 0\ndata: x\n\n");
        client.handle_end(now);
        assert_eq!(client.reconnect_delay(), Some(Duration::from_millis(100)));
        now = wait_until(&mut client, now);
    }
    assert_eq!(client.reconnection_time(), Duration::ZERO);
    assert_eq!(attempts, 30);
}

/// Connections that deliver nothing back off from the floor, even when the
/// server asks for `retry: 0`; one that delivers an event starts over.
#[test]
fn empty_connections_back_off_from_the_floor() {
    let mut client = client(exact().with_max_backoff(Duration::from_secs(1)));
    open(&mut client, ms(0));
    body(&mut client, ms(0), b"retry: 0\n\n");
    let mut now = ms(0);
    let mut delays = Vec::new();
    for _ in 0..6 {
        client.handle_end(now);
        delays.push(client.reconnect_delay().unwrap().as_millis());
        now = wait_until(&mut client, now);
        open(&mut client, now);
    }
    assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    body(&mut client, now, b"data: at last\n\n");
    client.handle_end(now);
    assert_eq!(client.reconnect_delay(), Some(Duration::from_millis(100)));
}

/// The floor also holds under `Retry-After: 0`, and can be turned off.
#[test]
fn the_floor_applies_to_retry_after_and_can_be_zero() {
    let head = ResponseHead {
        retry_after: Some(b"0"),
        ..status(503)
    };
    let mut client = client(exact().with_retry_policy(RetryPolicy::Transient));
    client.poll(ms(0));
    assert_eq!(client.handle_response(ms(0), &head), Verdict::Retry);
    assert_eq!(wait_until(&mut client, ms(0)), ms(100));

    let config = exact().with_min_reconnection_delay(Duration::ZERO);
    assert_eq!(config.min_reconnection_delay(), Duration::ZERO);
    let mut client = self::client(config);
    open(&mut client, ms(0));
    body(&mut client, ms(0), b"retry: 0\ndata: x\n\n");
    client.handle_end(ms(5));
    assert_eq!(client.poll(ms(5)), Action::Connect, "no floor: at once");
    assert_eq!(client.reconnect_delay(), None);
}
