//! The server side over real HTTP on 127.0.0.1, what only tokio's tests
//! check: axum handlers and the `LastEventId` extractor, slow clients (with
//! tokio's socket buffer sizes), keep-alive in tokio's paused time. The
//! endpoint tests every runtime runs are suites of `sse_testkit`, run in
//! `tests/behaviour.rs`.
#![cfg(all(feature = "server", feature = "axum"))]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::StreamExt as _;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use sse_proto::publisher::{LagPolicy, PublisherConfig};
use sse_proto::{Event, EventBuf, FrameBuf};
use sse_testkit::http_client::{Got, event};
use sse_tokio::server::{Events, LastEventId, Refusal, SseBody};
use sse_tokio::{Publisher, TokioRuntime};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// The plain hyper client of the server tests, on tokio's clock.
type Client = sse_testkit::http_client::Client<TokioRuntime>;

/// GETs `target` from `addr`.
async fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Client {
    get_on(TcpStream::connect(addr).await.unwrap(), target, headers).await
}

/// GETs `target` over `stream`.
async fn get_on(stream: TcpStream, target: &str, headers: &[(&str, &str)]) -> Client {
    let spawn = |connection| -> Box<dyn Send> {
        Box::new(AbortOnDrop(tokio::spawn(async move {
            let _ = connection.await;
        })))
    };
    Client::request(TokioIo::new(stream), spawn, target, headers).await
}

/// Stops a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve_axum(app: axum::Router, listener: TcpListener) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn listen() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// Waits until `check` holds, polling, for at most 20 s on tokio's clock.
async fn until(what: &str, check: impl FnMut() -> bool) {
    sse_testkit::rt::until::<TokioRuntime>(what, check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_access_hook_and_the_extractor() {
    let publisher: Publisher<u32> = Publisher::new();
    let events = Events::with_access_async(publisher.clone(), |parts, channels| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        match parts.headers.get("x-token") {
            Some(token) if token == "secret" => Ok(channels.len() as u32),
            _ => Err(Refusal::unauthorized("bad token")),
        }
    });
    let app = events.router().route(
        "/id",
        axum::routing::get(|LastEventId(id): LastEventId| async move { format!("{id:?}") }),
    );
    let addr = serve_axum(app, listen().await).await;
    assert_eq!(get(addr, "/events", &[]).await.status, 401);
    let ok = get(
        addr,
        "/events?channel=x&channel=y",
        &[("x-token", "secret")],
    )
    .await;
    assert_eq!(ok.status, 200);
    until("subscribed", || publisher.stats().subscribers == 1).await;
    assert_eq!(*publisher.subscribers(["x"]).unwrap()[0].properties(), 2);

    let id = |headers| async move { get(addr, "/id", headers).await.text().await };
    assert_eq!(id(&[]).await, "None");
    assert_eq!(id(&[("last-event-id", "")]).await, "None");
    assert_eq!(id(&[("last-event-id", "42")]).await, "Some(\"42\")");
    assert_eq!(
        get(addr, "/id?lastEventId=7", &[]).await.text().await,
        "Some(\"7\")"
    );
    let long = "x".repeat(300);
    let refused = get(addr, "/id", &[("last-event-id", &long)]).await;
    assert_eq!(refused.status, 400);
}

const BOUND: usize = 64 << 10;

/// A server whose accepted sockets have small send buffers (inherited from
/// the listener), a client that stalls with a small receive buffer, so its
/// backlog reaches its queue quickly, and three clients that read, each
/// counting the events it has received.
async fn stalled_and_readers(
    policy: LagPolicy,
) -> (
    Publisher,
    SocketAddr,
    Client,
    Vec<(Arc<AtomicU64>, JoinHandle<()>)>,
) {
    let config = PublisherConfig::new()
        .with_queue_bytes(BOUND)
        .with_max_event_bytes(8 << 10)
        .with_lag_policy(policy)
        .with_history(100_000, 64 << 20);
    let publisher: Publisher = Publisher::with_config(config).unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(16 << 10).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(64).unwrap();
    let app = Events::new(publisher.clone()).retry(None).router();
    let addr = serve_axum(app, listener).await;

    let stalled_socket = TcpSocket::new_v4().unwrap();
    stalled_socket.set_recv_buffer_size(4 << 10).unwrap();
    let stalled_stream = stalled_socket.connect(addr).await.unwrap();
    let stalled = get_on(stalled_stream, "/events", &[]).await;
    assert_eq!(stalled.status, 200);

    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut client = get(addr, "/events", &[]).await;
        let received = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&received);
        readers.push((
            received,
            tokio::spawn(async move {
                while let Some(got) = client.next().await {
                    if let Got::Event(_) = got {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }),
        ));
    }
    until("subscribed", || publisher.stats().subscribers == 4).await;
    (publisher, addr, stalled, readers)
}

/// Publishes batches of 2 KB events (well within a reader's queue bound)
/// until `done`, checking that every batch reaches the readers promptly and
/// that no queue ever exceeds its bound. `sent` counts the events published.
async fn publish_while_stalled(
    publisher: &Publisher,
    readers: &[(Arc<AtomicU64>, JoinHandle<()>)],
    data: &str,
    sent: &mut u64,
    mut done: impl FnMut(u64) -> bool,
) {
    while !done(*sent) {
        assert!(*sent < 50_000, "the stalled client never lagged");
        for _ in 0..10 {
            publisher.publish(Event::new(data), ()).unwrap();
            *sent += 1;
        }
        for subscriber in publisher.subscribers(()).unwrap() {
            let queued = subscriber.stats().queued_bytes;
            assert!(queued <= BOUND, "{queued} > {BOUND}");
        }
        until("the readers got the batch", || {
            readers
                .iter()
                .all(|(received, _)| received.load(Ordering::SeqCst) == *sent)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_does_not_delay_the_others_and_is_disconnected() {
    let (publisher, addr, mut stalled, readers) = stalled_and_readers(LagPolicy::Disconnect).await;
    let data = "d".repeat(2000);
    let mut sent = 0;
    publish_while_stalled(&publisher, &readers, &data, &mut sent, |_| {
        publisher.stats().lag_disconnects > 0
    })
    .await;
    let stats = publisher.stats();
    assert_eq!((stats.lag_disconnects, stats.subscribers), (1, 3));
    assert!(stats.dropped > 0);
    // The others go on.
    publish_while_stalled(&publisher, &readers, &data, &mut sent, |n| n >= 500).await;

    // The stalled client, reading at last, finds its stream ended after what
    // was in flight and a retry hint; it resumes from the history.
    let mut last_id = None;
    let mut retry = None;
    while let Some(got) = stalled.next().await {
        match got {
            Got::Event(event) => last_id = event.id().map(String::from),
            Got::Retry(ms) => retry = Some(ms),
            Got::Comment(_) => {}
        }
    }
    assert_eq!(retry, Some(1000));
    let last_id = last_id.unwrap_or_else(|| "0".into());
    let mut back = get(addr, "/events", &[("last-event-id", &last_id)]).await;
    let missed = sent - last_id.parse::<u64>().unwrap();
    let replayed = back.events(missed as usize).await;
    assert_eq!(replayed.len() as u64, missed);
    assert_eq!(replayed.last(), Some(&event(sent, &data)));
    for (_, task) in readers {
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_does_not_delay_the_others_and_drops_oldest() {
    let (publisher, _addr, mut stalled, readers) = stalled_and_readers(LagPolicy::DropOldest).await;
    let data = "o".repeat(2000);
    // Far more than its socket buffers and queue hold.
    let mut sent = 0;
    publish_while_stalled(&publisher, &readers, &data, &mut sent, |n| n >= 2000).await;
    let stats = publisher.stats();
    assert_eq!((stats.subscribers, stats.lag_disconnects), (4, 0));
    assert_eq!(stats.lag_resets, 1);
    assert!(stats.dropped > 1000, "{stats:?}");

    // Reading at last: what was in flight, the reset event in place of what
    // was dropped, then the newest events up to the last.
    let mut seen_reset = false;
    let mut last = 0u64;
    while last < sent {
        match stalled.next().await.unwrap() {
            Got::Event(event) if event.event_type() == "sse-reset" => {
                assert_eq!(event.data(), "lagged");
                seen_reset = true;
            }
            Got::Event(event) => {
                let id: u64 = event.id().unwrap().parse().unwrap();
                assert!(id > last);
                last = id;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(seen_reset);
    for (_, task) in readers {
        task.abort();
    }
}

#[tokio::test(start_paused = true)]
async fn keep_alive_comments_fill_silence_and_events_push_them_back() {
    let publisher: Publisher = Publisher::new();
    let subscription = publisher.subscribe((), (), []).unwrap();
    let mut body = SseBody::new(subscription).keep_alive(Some(Duration::from_secs(10)));
    let start = tokio::time::Instant::now();
    let mut next = async || {
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        (
            String::from_utf8(frame.to_vec()).unwrap(),
            start.elapsed().as_secs(),
        )
    };
    assert_eq!(next().await, ("retry: 3000\n".into(), 0));
    assert_eq!(next().await, (": keep-alive\n".into(), 10));
    assert_eq!(next().await, (": keep-alive\n".into(), 20));
    // Events at 25 and 33 push the next keep-alive to 43.
    let later = publisher.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        later.publish(Event::new("a"), ()).unwrap();
        tokio::time::sleep(Duration::from_secs(8)).await;
        later.publish(Event::new("b"), ()).unwrap();
    });
    assert_eq!(next().await, ("id: 1\ndata: a\n\n".into(), 25));
    assert_eq!(next().await, ("id: 2\ndata: b\n\n".into(), 33));
    assert_eq!(next().await, (": keep-alive\n".into(), 43));
}

/// A keep-alive interval too long for the clock means never, not a panic.
#[tokio::test(start_paused = true)]
async fn an_endless_keep_alive_interval_never_fires() {
    let publisher: Publisher = Publisher::new();
    let subscription = publisher.subscribe((), (), []).unwrap();
    let mut body = SseBody::new(subscription).keep_alive(Some(Duration::MAX));
    let retry = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&retry[..], b"retry: 3000\n");
    let silent = tokio::time::timeout(Duration::from_secs(3600), body.frame()).await;
    assert!(silent.is_err(), "nothing is sent in an hour");
    publisher.publish(Event::new("still live"), ()).unwrap();
    let event = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&event[..], b"id: 1\ndata: still live\n\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_stream_of_events_can_be_served() {
    let listener = listen().await;
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            let events = futures_lite::stream::iter(1..=3).map(|i| {
                EventBuf::new(format!("n{i}"))
                    .with_id(i.to_string())
                    .unwrap()
            });
            SseBody::from_stream(events).retry(None)
        }),
    );
    // Comments and retry hints too.
    let app = app.route(
        "/frames",
        axum::routing::get(|| async {
            let frames = [
                FrameBuf::Comment("hello".into()),
                FrameBuf::Retry(10),
                FrameBuf::Event(EventBuf::new("x")),
            ];
            SseBody::from_stream(futures_lite::stream::iter(frames)).retry(None)
        }),
    );
    serve_axum(app, listener).await;
    let mut client = get(addr, "/", &[]).await;
    assert_eq!(client.headers["content-type"], "text/event-stream");
    assert_eq!(
        client.events(3).await,
        [event(1, "n1"), event(2, "n2"), event(3, "n3")]
    );
    assert_eq!(client.next().await, None);
    let mut frames = get(addr, "/frames", &[]).await;
    assert_eq!(frames.next().await, Some(Got::Comment("hello".into())));
    assert_eq!(frames.next().await, Some(Got::Retry(10)));
    assert_eq!(frames.next().await, Some(Got::Event(EventBuf::new("x"))));
    assert_eq!(frames.next().await, None);
}
