//! The server side over real HTTP on 127.0.0.1, on every runtime: the
//! `Events` endpoint (channels, resume, the access hook, clients that go
//! away), a hand-written hyper service serving `SseBody`, and the
//! workspace's own client against the endpoint.
//!
//! The endpoint is served as the runtime's users would mount it
//! ([`TestRuntime::serve_events`]: the axum router on tokio, the hyper
//! service elsewhere); a plain hyper client
//! ([`http_client`](crate::http_client)) reads the bytes on the wire.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::StreamExt as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use sse_hyper::SourceEvent;
use sse_hyper::server::{Events, Refusal, SseBody};
use sse_proto::publisher::{Publisher, PublisherConfig};
use sse_proto::{Event, EventBuf, Frame};

use crate::http_client::{Got, event, get};
use crate::rt::{TestRuntime, until, within};

/// `GET /events?channel=..` streams the channels named (the default
/// channel when none is) with the event-stream headers, and a client that
/// comes back with `Last-Event-ID` (a header, or the `lastEventId` query
/// parameter for clients that cannot set headers) gets what it missed on
/// its channels, in any order of the names; an id older than the history,
/// or not ours, gets the reset event; closing the publisher ends the
/// streams.
pub async fn the_endpoint_streams_channels_and_resumes_from_last_event_id<R: TestRuntime>() {
    let publisher: Publisher = Publisher::new();
    let addr = R::serve_events(Events::new(publisher.clone()).retry(None)).await;

    let mut both = get::<R>(addr, "/events?channel=a&channel=b", &[]).await;
    assert_eq!(both.status, 200);
    assert_eq!(both.headers["content-type"], "text/event-stream");
    assert_eq!(both.headers["cache-control"], "no-cache");
    assert_eq!(both.headers["x-accel-buffering"], "no");
    let mut default = get::<R>(addr, "/events", &[]).await;
    until::<R::Rt>("subscribed", || publisher.stats().subscribers == 2).await;
    let listed: Vec<Vec<String>> = publisher
        .subscribers(["a", "b", "default"])
        .unwrap()
        .iter()
        .map(|s| s.channels().map(String::from).collect())
        .collect();
    assert_eq!(listed, [vec!["a", "b"], vec!["default"]]);

    publisher.publish(Event::new("on a"), "a").unwrap();
    publisher.publish(Event::new("on default"), ()).unwrap();
    publisher.publish(Event::new("on b"), "b").unwrap();
    assert_eq!(both.events(2).await, [event(1, "on a"), event(3, "on b")]);
    assert_eq!(default.events(1).await, [event(2, "on default")]);

    // The client goes away having seen id 3; events are published meanwhile.
    drop(both);
    until::<R::Rt>("unregistered", || publisher.stats().subscribers == 1).await;
    publisher.publish(Event::new("missed on a"), "a").unwrap();
    publisher.publish(Event::new("not for it"), "c").unwrap();
    publisher.publish(Event::new("missed on b"), "b").unwrap();

    // It comes back, naming its channels in either order.
    let mut back = get::<R>(
        addr,
        "/events?channel=b&channel=a",
        &[("last-event-id", "3")],
    )
    .await;
    assert_eq!(
        back.events(2).await,
        [event(4, "missed on a"), event(6, "missed on b")]
    );
    let mut back_in_order = get::<R>(
        addr,
        "/events?channel=a&channel=b",
        &[("last-event-id", "3")],
    )
    .await;
    assert_eq!(
        back_in_order.events(2).await,
        [event(4, "missed on a"), event(6, "missed on b")]
    );
    publisher.publish(Event::new("live"), ["a", "b"]).unwrap();
    assert_eq!(back.events(1).await, [event(7, "live")]);
    assert_eq!(back_in_order.events(1).await, [event(7, "live")]);

    // The query parameter works for clients that cannot set headers.
    let mut query = get::<R>(addr, "/events?channel=a&lastEventId=4", &[]).await;
    assert_eq!(query.events(1).await, [event(7, "live")]);

    // An id older than the history, or not ours: the reset event.
    for id in ["999", "99"] {
        let mut stale = get::<R>(addr, "/events?channel=a", &[("last-event-id", id)]).await;
        let Some(Got::Event(reset)) = stale.events(1).await.pop() else {
            panic!()
        };
        assert_eq!((reset.event_type(), reset.data()), ("sse-reset", "history"));
    }

    // Closing the publisher ends the streams.
    publisher.close();
    assert_eq!(back.next().await, None);
    assert_eq!(back_in_order.next().await, None);
}

/// The access hook sees the request and the channels and can refuse it
/// with its own status and message before the stream starts; invalid
/// channels and `Last-Event-ID` values get `400`, other paths `404` (from
/// the hyper service), a full publisher `503`; an accepted subscriber
/// carries the properties the hook gave.
pub async fn the_access_hook_refuses_before_the_stream_starts<R: TestRuntime>() {
    let publisher: Publisher<String> =
        Publisher::with_config(PublisherConfig::new().with_max_subscribers(1)).unwrap();
    let events = Events::with_access(publisher.clone(), |parts, channels| {
        let user = parts.headers.get("x-user").and_then(|v| v.to_str().ok());
        match user {
            None => Err(Refusal::unauthorized("who are you?")),
            Some(user) if channels.iter().any(|c| c == "admin") && user != "root" => {
                Err(Refusal::forbidden("admins only"))
            }
            Some(user) => Ok(user.to_owned()),
        }
    });
    let addr = R::serve_events(events.clone()).await;
    let service_addr = R::serve(events.service()).await;

    const LONG_ID: &str = concat!(
        "0123456789012345678901234567890123456789012345678901234567890123",
        "0123456789012345678901234567890123456789012345678901234567890123",
        "0123456789012345678901234567890123456789012345678901234567890123",
        "0123456789012345678901234567890123456789012345678901234567890123",
        "x"
    );
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case<'_>; 7] = [
        ("/events", &[], 401, "who are you?"),
        (
            "/events?channel=admin",
            &[("x-user", "ada")],
            403,
            "admins only",
        ),
        (
            "/events?channel=a%20b",
            &[("x-user", "ada")],
            400,
            "channel \"a b\"",
        ),
        (
            "/events?channel=a%0Ab",
            &[("x-user", "ada")],
            400,
            "channel",
        ),
        (
            "/events?channel=",
            &[("x-user", "ada")],
            400,
            "empty channel name",
        ),
        (
            "/events",
            &[("x-user", "ada"), ("last-event-id", LONG_ID)],
            400,
            "Last-Event-ID",
        ),
        (
            "/events?lastEventId=a%0Ab",
            &[("x-user", "ada")],
            400,
            "Last-Event-ID",
        ),
    ];
    for (target, headers, status, message) in cases {
        let client = get::<R>(addr, target, headers).await;
        assert_eq!(client.status, status, "{target}");
        let text = client.text().await;
        assert!(text.contains(message), "{target}: {text}");
    }
    // The hyper service answers other paths itself.
    let elsewhere = get::<R>(service_addr, "/elsewhere", &[("x-user", "ada")]).await;
    assert_eq!(elsewhere.status, 404, "/elsewhere");
    let text = elsewhere.text().await;
    assert!(text.contains("not found"), "/elsewhere: {text}");
    assert_eq!(publisher.stats().subscribed, 0, "no stream started");

    let mut root = get::<R>(addr, "/events?channel=admin", &[("x-user", "root")]).await;
    assert_eq!(root.status, 200);
    assert_eq!(root.next().await, Some(Got::Retry(3000)));
    let names: Vec<String> = publisher
        .subscribers("admin")
        .unwrap()
        .iter()
        .map(|s| s.properties().clone())
        .collect();
    assert_eq!(names, ["root"]);
    // The subscriber limit: 503 before the stream starts.
    let full = get::<R>(addr, "/events", &[("x-user", "ada")]).await;
    assert_eq!(full.status, 503);
}

/// A client that disconnects is unregistered as soon as the server writes
/// to it.
pub async fn a_client_that_goes_away_is_unregistered_promptly<R: TestRuntime>() {
    let publisher: Publisher = Publisher::new();
    let addr = R::serve_events(Events::new(publisher.clone())).await;
    let mut client = get::<R>(addr, "/events", &[]).await;
    assert_eq!(client.next().await, Some(Got::Retry(3000)));
    until::<R::Rt>("subscribed", || publisher.stats().subscribers == 1).await;
    drop(client);
    // The server notices when it writes next (a keep-alive at the latest);
    // publishing makes it write now.
    let mut n = 0;
    until::<R::Rt>("unregistered", || {
        n += 1;
        let _ = publisher.publish(Event::new("anyone?"), ());
        publisher.stats().subscribers == 0
    })
    .await;
    assert!(n < 1000, "took {n} publishes");
}

/// `SseBody` in a hand-written hyper service: a subscription with the
/// event-stream headers, a retry hint and its events, ending when the
/// publisher closes; or any stream of events, ending when it does.
pub async fn a_hand_written_service_serves_a_subscription_or_any_stream<R: TestRuntime>() {
    let publisher: Publisher = Publisher::new();
    let server_publisher = publisher.clone();
    let service = service_fn(move |request: http::Request<Incoming>| {
        let body: SseBody<R::Rt> = if request.uri().path() == "/numbers" {
            let numbers = futures_lite::stream::iter(1..=3).map(|i| {
                EventBuf::new(format!("n{i}"))
                    .with_id(i.to_string())
                    .unwrap()
            });
            SseBody::from_stream(numbers).retry(None)
        } else {
            let subscription = server_publisher.subscribe("news", (), []).unwrap();
            SseBody::new(subscription).retry(Some(Duration::from_millis(2500)))
        };
        async move { Ok::<_, Infallible>(body.response()) }
    });
    let addr = R::serve(service).await;

    let mut numbers = get::<R>(addr, "/numbers", &[]).await;
    assert_eq!(numbers.headers["content-type"], "text/event-stream");
    assert_eq!(
        numbers.events(3).await,
        [event(1, "n1"), event(2, "n2"), event(3, "n3")]
    );
    assert_eq!(numbers.next().await, None);

    let mut news = get::<R>(addr, "/", &[]).await;
    assert_eq!(news.status, 200);
    assert_eq!(news.headers["content-type"], "text/event-stream");
    assert_eq!(news.headers["cache-control"], "no-cache");
    assert_eq!(news.headers["x-accel-buffering"], "no");
    assert_eq!(news.next().await, Some(Got::Retry(2500)));
    until::<R::Rt>("subscribed", || publisher.stats().subscribers == 1).await;
    publisher.publish(Event::new("one"), "news").unwrap();
    publisher.publish(Event::new("two\nlines"), "news").unwrap();
    assert_eq!(
        news.events(2).await,
        [event(1, "one"), event(2, "two\nlines")]
    );
    // Closing the publisher ends the body.
    publisher.close();
    assert_eq!(news.next().await, None);
}

/// When the server ends the channel's streams with a retry hint, the
/// workspace's own client waits that long, comes back with `Last-Event-ID`
/// and gets what it missed exactly once, then live events.
pub async fn the_event_source_resumes_after_the_server_ends_its_stream<R: TestRuntime>() {
    let publisher: Publisher = Publisher::new();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&asked);
    let events = Events::with_access(publisher.clone(), move |parts, _| {
        let id = parts.headers.get("last-event-id").cloned();
        record.lock().unwrap().push(id);
        Ok(())
    })
    // No hint on connect, so the farewell's stays the reconnection time.
    .retry(None);
    let addr = R::serve_events(events).await;
    let url = format!("http://{addr}/events?channel=news");
    let mut source = sse_hyper::EventSource::<R::Rt>::new(url).unwrap();
    let mut next = async || {
        within::<R::Rt, _>("the next item", source.next())
            .await
            .unwrap()
    };
    let item =
        |data: &str, id: &str| SourceEvent::Message(EventBuf::new(data).with_id(id).unwrap());

    assert_eq!(next().await.unwrap(), SourceEvent::Open);
    until::<R::Rt>("subscribed", || publisher.stats().subscribers == 1).await;
    publisher.publish(Event::new("one"), "news").unwrap();
    publisher.publish(Event::new("two"), "news").unwrap();
    assert_eq!(next().await.unwrap(), item("one", "1"));
    assert_eq!(next().await.unwrap(), item("two", "2"));

    let farewell = Some(Frame::Retry(50));
    assert_eq!(publisher.disconnect("news", farewell).unwrap(), 1);
    publisher.publish(Event::new("three"), "news").unwrap();
    publisher.publish(Event::new("four"), "news").unwrap();
    assert!(matches!(next().await, Err(sse_hyper::Error::StreamEnded)));
    assert_eq!(next().await.unwrap(), SourceEvent::Open);
    assert_eq!(next().await.unwrap(), item("three", "3"));
    assert_eq!(next().await.unwrap(), item("four", "4"));
    publisher.publish(Event::new("five"), "news").unwrap();
    assert_eq!(next().await.unwrap(), item("five", "5"));

    assert_eq!(source.reconnection_time(), Duration::from_millis(50));
    let asked: Vec<_> = asked.lock().unwrap().clone();
    assert_eq!(asked, [None, Some(http::HeaderValue::from_static("2"))]);
}
