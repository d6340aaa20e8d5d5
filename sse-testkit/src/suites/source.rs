//! `EventSource` behaviour, on every runtime.
//!
//! Servers are real sockets on 127.0.0.1 (port 0), scripted byte by byte
//! ([`scripted_server`](crate::scripted_server)). Reconnection delays are
//! tens of milliseconds; the only timing checked is that a delay was at
//! least as long as it must be.

use std::time::Duration;

use futures_lite::StreamExt;
use sse_hyper::rt::Runtime;
use sse_hyper::{Error, SourceEvent, Transport};
use sse_proto::{ClientConfig, CloseReason, Decoder, EventId, Limits, ReadyState, RetryPolicy};

use crate::rt::{TestRuntime, TestTransport};
use crate::scripted_server::{Request, Server, Step, response, stream_head, write};

#[cfg(feature = "rustls")]
mod tls;
#[cfg(feature = "rustls")]
pub use tls::{source_refuses_an_untrusted_certificate, source_streams_over_https};

/// The client on `R`, over `T`'s transport.
type EventSource<R, T> = sse_hyper::EventSource<
    <R as TestRuntime>::Rt,
    <T as TestTransport<<R as TestRuntime>::Rt>>::Transport,
>;

// --- Helpers -------------------------------------------------------------

fn show_error(error: &Error) -> String {
    match error {
        Error::Io(error) => format!("io error {:?}", error.kind()),
        // Another client's error: the I/O error in its chain, if any.
        Error::Transport(inner) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&**inner);
            while let Some(cause) = source {
                if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                    return format!("io error {:?}", io.kind());
                }
                source = cause.source();
            }
            format!("error {error}")
        }
        Error::StreamEnded => "ended".to_string(),
        Error::Response(response) => format!(
            "failed {} {}",
            response.status().as_u16(),
            String::from_utf8_lossy(response.body())
        ),
        Error::TimedOut => "timed out".to_string(),
        other => format!("error {other}"),
    }
}

fn show_item(item: Result<SourceEvent, Error>) -> String {
    match item {
        Ok(SourceEvent::Open) => "open".to_string(),
        Ok(SourceEvent::Message(event)) => format!(
            "event {} {:?} {:?}",
            event.event_type(),
            event.id(),
            event.data()
        ),
        Ok(SourceEvent::Comment(text)) => format!("comment {text}"),
        Ok(other) => format!("{other:?}"),
        Err(error) => show_error(&error),
    }
}

/// Everything `source` yields until it ends.
async fn drain<Rt: Runtime, T: Transport>(
    source: &mut sse_hyper::EventSource<Rt, T>,
) -> Vec<String> {
    let mut items = Vec::new();
    while let Some(item) = source.next().await {
        items.push(show_item(item));
    }
    items
}

/// Fast and exact: reconnect after 20 ms, no jitter.
fn fast() -> ClientConfig {
    ClientConfig::new()
        .with_reconnection_time(Duration::from_millis(20))
        .with_jitter_permille(0)
}

fn event_source<R: TestRuntime, T: TestTransport<R::Rt>>(
    server: &Server,
    path: &str,
    config: ClientConfig,
) -> EventSource<R, T> {
    T::builder(&server.url(path))
        .expect("valid URL")
        .config(config)
        .build()
        .expect("valid URL")
}

fn no_content() -> Vec<Step> {
    vec![response("204 No Content", &[], "")]
}

// --- EventSource: requests and streams ----------------------------------

pub async fn source_sends_the_spec_headers_and_yields_open_then_events<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![
            stream_head(),
            write("id: 1\ndata: one\n\nevent: note\ndata: two\n\n"),
        ],
        _ => no_content(),
    });
    let mut source = event_source::<R, T>(&server, "/events?x=1", fast());
    assert_eq!(source.ready_state(), ReadyState::Connecting);
    assert_eq!(source.next().await.map(show_item).as_deref(), Some("open"));
    assert_eq!(source.ready_state(), ReadyState::Open);
    assert_eq!(
        drain(&mut source).await,
        [
            r#"event message Some("1") "one""#,
            r#"event note Some("1") "two""#,
            "ended",
        ]
    );
    assert_eq!(source.ready_state(), ReadyState::Closed);
    assert_eq!(source.close_reason(), Some(CloseReason::NoContent));

    let first = &server.requests()[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("GET", "/events?x=1")
    );
    assert_eq!(first.header("accept"), Some("text/event-stream"));
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    assert_eq!(first.header("host"), Some(&*server.addr().to_string()));
    assert_eq!(first.header("last-event-id"), None);
}

pub async fn source_gets_whole_events_however_the_server_splits_its_writes<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![
            stream_head(),
            // A BOM split across writes.
            write(b"\xEF"),
            Step::Pause(Duration::from_millis(20)),
            write(b"\xBB\xBFdata: bom\r"),
            // A CRLF split across writes.
            Step::Pause(Duration::from_millis(20)),
            write("\n\r\n"),
            // Everything else a byte at a time.
            Step::Trickle(b"id: 2\r\ndata: a\r\ndata: b\r\rdata: c\n\n".to_vec()),
        ],
        _ => no_content(),
    });
    let mut source = event_source::<R, T>(&server, "/", fast());
    assert_eq!(
        drain(&mut source).await,
        [
            "open",
            r#"event message None "bom""#,
            r#"event message Some("2") "a\nb""#,
            r#"event message Some("2") "c""#,
            "ended",
        ]
    );
}

pub async fn source_sends_its_method_headers_and_body_and_a_seeded_last_event_id<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|_, _| no_content());
    let mut source = T::builder(&server.url("/v1/chat"))
        .unwrap()
        .method("POST")
        .header("authorization", "Bearer secret")
        .header("content-type", "application/json")
        .header("accept", "text/html")
        .body(r#"{"stream":true}"#)
        .last_event_id(EventId::new("41").unwrap())
        .config(fast())
        .build()
        .unwrap();
    assert!(drain(&mut source).await.is_empty());
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.body, br#"{"stream":true}"#);
    assert_eq!(request.header("authorization"), Some("Bearer secret"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(request.header("last-event-id"), Some("41"));
}

pub async fn source_reports_comments_when_the_decoder_does<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![stream_head(), write(": ping\n\ndata: x\n\n")],
        _ => no_content(),
    });
    let mut source = T::builder(&server.url("/"))
        .unwrap()
        .config(fast())
        .decoder(Decoder::with_capacity(
            1024,
            Limits::new().with_max_comment_len(32),
        ))
        .build()
        .unwrap();
    assert_eq!(
        drain(&mut source).await,
        ["open", "comment ping", r#"event message None "x""#, "ended"]
    );
}

// --- EventSource: reconnecting ------------------------------------------

/// A server with a log of four events that replays those after the
/// request's `Last-Event-ID`. The first connection drops in the middle of
/// event 3; the second sends the rest; the third is told to stop.
fn replaying_server() -> Server {
    let log = [(1, "one"), (2, "two"), (3, "three"), (4, "four")];
    let after = move |request: &Request| -> String {
        let last: u32 = request
            .header("last-event-id")
            .map_or(0, |id| id.parse().unwrap());
        log.iter()
            .filter(|(id, _)| *id > last)
            .map(|(id, data)| format!("id: {id}\ndata: {data}\n\n"))
            .collect()
    };
    Server::start(move |conn, request| match conn {
        0 => {
            let events = after(request);
            let cut = events.find("data: three").unwrap() + 8;
            vec![stream_head(), write("retry: 50\n"), write(&events[..cut])]
        }
        1 => vec![stream_head(), write(after(request))],
        _ => no_content(),
    })
}

pub async fn source_reconnects_after_a_drop_and_resumes_without_loss_or_duplicates<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = replaying_server();
    let mut source = event_source::<R, T>(&server, "/", fast());
    assert_eq!(
        drain(&mut source).await,
        [
            "open",
            r#"event message Some("1") "one""#,
            r#"event message Some("2") "two""#,
            // The server closed the body mid-event: not a broken
            // connection, the end of that stream.
            "ended",
            "open",
            r#"event message Some("3") "three""#,
            r#"event message Some("4") "four""#,
            "ended",
        ]
    );
    assert_eq!(source.last_event_id().unwrap().to_string(), "4");
    assert_eq!(source.reconnection_time(), Duration::from_millis(50));

    let requests = server.requests();
    let ids: Vec<_> = requests.iter().map(|r| r.header("last-event-id")).collect();
    assert_eq!(ids, [None, Some("2"), Some("4")]);
    // The server's `retry: 50` set the delay (the configured one is 20).
    let dropped = server.closed_at(0).unwrap();
    assert!(requests[1].at.duration_since(dropped) >= Duration::from_millis(50));
}

pub async fn source_takes_the_delay_from_a_standalone_retry_block<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![stream_head(), write("retry: 300\n\n")],
        _ => no_content(),
    });
    let mut source = event_source::<R, T>(&server, "/", fast());
    assert_eq!(drain(&mut source).await, ["open", "ended"]);
    assert_eq!(source.reconnection_time(), Duration::from_millis(300));
    let reconnected = server.requests()[1].at;
    assert!(reconnected.duration_since(server.closed_at(0).unwrap()) >= Duration::from_millis(300));
}

pub async fn source_stops_for_good_on_no_content<R: TestRuntime, T: TestTransport<R::Rt>>() {
    let server = Server::start(|_, _| no_content());
    let mut source = event_source::<R, T>(&server, "/", fast());
    assert!(drain(&mut source).await.is_empty());
    assert_eq!(source.close_reason(), Some(CloseReason::NoContent));
    assert!(source.next().await.is_none());
    assert_eq!(server.requests().len(), 1);
}

pub async fn source_fails_on_error_statuses_and_wrong_content_types_in_spec_mode<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    for (status, content_type, reason) in [
        (
            "500 Internal Server Error",
            "text/plain",
            CloseReason::Status(500),
        ),
        ("404 Not Found", "text/plain", CloseReason::Status(404)),
        ("200 OK", "text/html", CloseReason::ContentType),
    ] {
        let server = Server::start(move |_, _| {
            let headers = [("content-type", content_type), ("x-request-id", "r1")];
            vec![response(status, &headers, "why\nmore")]
        });
        let mut source = event_source::<R, T>(&server, "/", fast());
        let Some(Err(Error::Response(failed))) = source.next().await else {
            panic!("expected a failed response");
        };
        assert_eq!(failed.status().to_string(), status);
        assert_eq!(failed.headers()["x-request-id"], "r1");
        assert_eq!(failed.body(), b"why\nmore");
        assert!(failed.to_string().contains(": why"), "{failed}");
        assert!(source.next().await.is_none());
        assert_eq!(source.close_reason(), Some(reason));
        assert_eq!(server.requests().len(), 1);
    }
}

pub async fn source_retries_transient_failures_under_the_transient_policy<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![response("500 Internal Server Error", &[], "boom")],
        1 => vec![response(
            "429 Too Many Requests",
            &[("retry-after", "1")],
            "slow down",
        )],
        2 => vec![response("503 Service Unavailable", &[], "")],
        3 => vec![stream_head(), write("data: at last\n\n")],
        _ => no_content(),
    });
    let config = fast().with_retry_policy(RetryPolicy::Transient);
    let mut source = event_source::<R, T>(&server, "/", config);
    assert_eq!(
        drain(&mut source).await,
        [
            "failed 500 boom",
            "failed 429 slow down",
            "failed 503 ",
            "open",
            r#"event message None "at last""#,
            "ended",
        ]
    );
    // The 429's `Retry-After: 1` set the delay (backing off alone would
    // have waited 40 ms).
    let requests = server.requests();
    assert!(requests[2].at.duration_since(requests[1].at) >= Duration::from_secs(1));

    // Not a transient failure: closed.
    let server = Server::start(|_, _| vec![response("404 Not Found", &[], "")]);
    let mut transient = event_source::<R, T>(
        &server,
        "/",
        fast().with_retry_policy(RetryPolicy::Transient),
    );
    assert_eq!(drain(&mut transient).await, ["failed 404 "]);
    assert_eq!(transient.close_reason(), Some(CloseReason::Status(404)));
}

pub async fn source_retries_a_wrong_content_type_under_the_always_policy<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![response("200 OK", &[("content-type", "text/plain")], "hi")],
        _ => no_content(),
    });
    let mut source =
        event_source::<R, T>(&server, "/", fast().with_retry_policy(RetryPolicy::Always));
    assert_eq!(drain(&mut source).await, ["failed 200 hi"]);
    assert_eq!(source.close_reason(), Some(CloseReason::NoContent));
}

pub async fn source_counts_attempts_and_gives_up_after_max_attempts<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    // A port held but not listened on: connecting is refused, and no other
    // test can take the port while this one runs (as it could after a
    // listener bound and dropped).
    let held = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    held.bind(&any.into()).unwrap();
    let addr = held.local_addr().unwrap().as_socket().unwrap();
    let mut source = T::builder(&format!("http://{addr}/"))
        .unwrap()
        .config(fast().with_max_attempts(Some(3)))
        .build()
        .unwrap();
    assert_eq!(drain(&mut source).await, ["io error ConnectionRefused"; 3]);
    assert_eq!(source.close_reason(), Some(CloseReason::MaxAttempts));
}

pub async fn source_follows_redirects_and_reconnects_to_the_original_url<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, request| match (conn, request.path.as_str()) {
        (0, "/start") => vec![response("302 Found", &[("location", "moved?x=1")], "")],
        (_, "/moved?x=1") => vec![stream_head(), write("data: here\n\n")],
        _ => no_content(),
    });
    let mut source = event_source::<R, T>(&server, "/start", fast());
    assert_eq!(
        drain(&mut source).await,
        ["open", r#"event message None "here""#, "ended"]
    );
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/start", "/moved?x=1", "/start"]);
}

pub async fn source_redirects_change_the_method_as_fetch_does<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    for (status, method, body) in [
        ("303 See Other", "GET", ""),
        ("307 Temporary Redirect", "POST", "{}"),
    ] {
        let server = Server::start(move |conn, _| match conn {
            0 => vec![response(status, &[("location", "/next")], "")],
            1 => vec![stream_head()],
            _ => no_content(),
        });
        let mut source = T::builder(&server.url("/first"))
            .unwrap()
            .method("POST")
            .header("content-type", "application/json")
            .body("{}")
            .config(fast())
            .build()
            .unwrap();
        assert_eq!(drain(&mut source).await, ["open", "ended"]);
        let requests = server.requests();
        let followed = &requests[1];
        assert_eq!(followed.method, method, "{status}");
        assert_eq!(followed.body, body.as_bytes(), "{status}");
        assert_eq!(followed.header("content-type").is_some(), method == "POST");
        // A reconnect starts over with the original request.
        assert_eq!(requests[2].method, "POST");
    }
}

pub async fn source_trips_the_idle_timeout_on_a_stalled_stream_and_reconnects<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![stream_head(), write("data: one\n\n"), Step::Stall],
        // No response at all.
        1 => vec![Step::Stall],
        _ => no_content(),
    });
    let config = fast().with_idle_timeout(Some(Duration::from_millis(200)));
    let mut source = event_source::<R, T>(&server, "/", config);
    assert_eq!(
        drain(&mut source).await,
        [
            "open",
            r#"event message None "one""#,
            "timed out",
            "timed out"
        ]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[2].at.duration_since(requests[1].at) >= Duration::from_millis(200));
}

pub async fn source_keep_alive_comments_hold_off_the_idle_timeout<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => {
            let mut steps = vec![stream_head()];
            // 480 ms of keep-alives, none more than 60 ms apart.
            for _ in 0..8 {
                steps.push(Step::Pause(Duration::from_millis(60)));
                steps.push(write(":\n"));
            }
            steps.push(write("data: still here\n\n"));
            steps
        }
        _ => no_content(),
    });
    let config = fast().with_idle_timeout(Some(Duration::from_millis(300)));
    let mut source = event_source::<R, T>(&server, "/", config);
    assert_eq!(
        drain(&mut source).await,
        ["open", r#"event message None "still here""#, "ended"]
    );
}

pub async fn source_close_ends_the_stream<R: TestRuntime, T: TestTransport<R::Rt>>() {
    let server = Server::start(|_, _| vec![stream_head(), write("data: one\n\n"), Step::Stall]);
    let mut source = event_source::<R, T>(&server, "/", fast());
    assert_eq!(source.next().await.map(show_item).as_deref(), Some("open"));
    assert!(source.next().await.is_some());
    source.close();
    assert!(source.next().await.is_none());
    assert_eq!(source.ready_state(), ReadyState::Closed);
    assert_eq!(source.close_reason(), Some(CloseReason::ByCaller));
    assert_eq!(server.requests().len(), 1);
}

pub fn source_and_its_futures_are_send<R: TestRuntime, T: TestTransport<R::Rt>>() {
    fn send<T: Send>(_: &T) {}
    let mut source = T::builder("http://127.0.0.1:1/").unwrap().build().unwrap();
    send(&source.next());
    send(&source);
}

/// A redirect status without a Location is one error with a clear message,
/// and the end: no retry.
pub async fn source_fails_on_a_redirect_without_location<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![response("307 Temporary Redirect", &[], "no location")],
        _ => no_content(),
    });
    let config = fast().with_retry_policy(RetryPolicy::Always);
    let mut source = event_source::<R, T>(&server, "/", config);
    let Some(Err(Error::Response(failed))) = source.next().await else {
        panic!("expected a failed response");
    };
    assert_eq!(failed.status().as_u16(), 307);
    let message = failed.to_string();
    assert!(message.contains("without a Location"), "{message}");
    assert!(message.contains("no location"), "{message}");
    assert!(source.next().await.is_none());
    assert_eq!(
        source.close_reason(),
        Some(CloseReason::RedirectWithoutLocation(307))
    );
    assert_eq!(server.requests().len(), 1);
}

/// An empty Location is the same mistake (fetch would follow it to the same
/// URL until the redirect limit).
pub async fn source_fails_on_a_redirect_with_an_empty_location<
    R: TestRuntime,
    T: TestTransport<R::Rt>,
>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![response("301 Moved Permanently", &[("location", "")], "")],
        _ => no_content(),
    });
    let mut source = event_source::<R, T>(&server, "/", fast());
    assert_eq!(drain(&mut source).await, ["failed 301 "]);
    assert_eq!(
        source.close_reason(),
        Some(CloseReason::RedirectWithoutLocation(301))
    );
    assert_eq!(server.requests().len(), 1);
}

/// A server that answers `retry: 0` and closes each stream after one event
/// cannot make the client reconnect faster than the floor (100 ms by
/// default): over 600 ms, at most 600 / 100 + 1 connections (the first is
/// at once), and the reconnect delay reported is the floor.
pub async fn source_holds_retry_zero_to_the_floor<R: TestRuntime, T: TestTransport<R::Rt>>() {
    let server = Server::start(|_, _| vec![stream_head(), write("retry: 0\ndata: x\n\n")]);
    let config = ClientConfig::new().with_jitter_permille(0);
    let mut source = event_source::<R, T>(&server, "/", config);
    let started = std::time::Instant::now();
    let mut delays = Vec::new();
    while started.elapsed() < Duration::from_millis(600) {
        if let Some(Err(Error::StreamEnded)) = source.next().await {
            delays.push(source.reconnect_delay());
        }
    }
    source.close();
    let connections = server.requests().len();
    assert!(connections <= 7, "{connections} connections in 600 ms");
    assert!(!delays.is_empty());
    assert!(
        delays
            .iter()
            .all(|delay| *delay == Some(Duration::from_millis(100))),
        "{delays:?}"
    );
    assert_eq!(source.reconnection_time(), Duration::ZERO);
}

/// A Location that cannot be followed is a network error to fetch, which
/// the spec answers by reconnecting.
pub async fn source_retries_a_redirect_it_cannot_follow<R: TestRuntime, T: TestTransport<R::Rt>>() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![response(
            "302 Found",
            &[("location", "ftp://example.invalid/")],
            "",
        )],
        _ => no_content(),
    });
    let mut source = event_source::<R, T>(&server, "/", fast());
    let Some(Err(Error::Response(failed))) = source.next().await else {
        panic!("expected a failed response");
    };
    assert_eq!(failed.status().as_u16(), 302);
    assert!(source.next().await.is_none());
    assert_eq!(source.close_reason(), Some(CloseReason::NoContent));
    assert_eq!(server.requests().len(), 2);
}

pub fn source_rejects_urls_it_cannot_fetch<R: TestRuntime, T: TestTransport<R::Rt>>() {
    for url in ["ftp://example.com/", "/relative", "http://"] {
        let source = T::builder(url).and_then(sse_hyper::Builder::build);
        assert!(source.is_err(), "{url}");
    }
    assert!(matches!(
        T::builder("http://example.com/")
            .unwrap()
            .header("bad header", "x")
            .build(),
        Err(Error::Request(_))
    ));
}
