//! The server side on smol over real HTTP on 127.0.0.1: `serve`, the ready
//! endpoint and its access hook, resume, keep-alive, vanished clients.
#![cfg(feature = "server")]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_io::Timer;
use futures_lite::{StreamExt as _, future};
use hyper::body::Incoming;
use hyper::service::service_fn;
use smol::Executor;
use smol::net::{TcpListener, TcpStream};
use smol_hyper::rt::FuturesIo;
use sse_proto::{Event, EventBuf};
use sse_smol::Publisher;
use sse_smol::server::{Events, Refusal, SseBody, serve};

/// Every await in these tests is bounded, so a bug fails instead of hanging.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    future::or(future, async {
        Timer::after(Duration::from_secs(20)).await;
        panic!("timed out: {what}")
    })
    .await
}

/// Runs a test on a fresh executor (with two extra threads, as a server
/// would have).
fn run<F: Future<Output = ()>>(test: impl FnOnce(Arc<Executor<'static>>) -> F) {
    let executor = Arc::new(Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let executor = Arc::clone(&executor);
            let stopped = stopped.clone();
            scope.spawn(move || smol::block_on(executor.run(stopped.recv())));
        }
        smol::block_on(executor.run(test(Arc::clone(&executor))));
        drop(stop);
    });
}

/// Starts `serve` on 127.0.0.1 (port chosen by the system).
async fn start<S, B>(executor: &Arc<Executor<'static>>, service: S) -> SocketAddr
where
    S: hyper::service::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::clone(executor);
    executor
        .spawn(async move {
            let _ = serve(&server, listener, service, std::future::pending()).await;
        })
        .detach();
    addr
}

#[cfg(feature = "client")]
#[path = "../../sse-tokio/tests/shared/end_to_end.rs"]
mod end_to_end;
#[path = "../../sse-tokio/tests/shared/http_client.rs"]
mod http_client;

#[cfg(feature = "client")]
use sse_smol as sse;

use http_client::{Client, Got, event};

impl Client {
    async fn get(
        executor: &Executor<'static>,
        addr: SocketAddr,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Self {
        let stream = within("connect", TcpStream::connect(addr)).await.unwrap();
        let spawn = |connection| -> Box<dyn Send> {
            Box::new(executor.spawn(async move {
                let _ = connection.await;
            }))
        };
        Self::request(FuturesIo::new(stream), spawn, target, headers).await
    }
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    within(what, async {
        while !check() {
            Timer::after(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[test]
fn serves_channels_and_resumes_from_last_event_id() {
    run(|ex| async move {
        let publisher: Publisher = Publisher::new();
        let addr = start(&ex, Events::new(publisher.clone()).retry(None).service()).await;

        let mut both = Client::get(&ex, addr, "/events?channel=a&channel=b", &[]).await;
        assert_eq!(both.status, 200);
        assert_eq!(both.headers["content-type"], "text/event-stream");
        assert_eq!(both.headers["cache-control"], "no-cache");
        assert_eq!(both.headers["x-accel-buffering"], "no");
        let mut default = Client::get(&ex, addr, "/events", &[]).await;
        until("subscribed", || publisher.stats().subscribers == 2).await;

        publisher.publish(Event::new("on a"), "a").unwrap();
        publisher.publish(Event::new("on default"), ()).unwrap();
        publisher.publish(Event::new("on b"), "b").unwrap();
        assert_eq!(both.events(2).await, [event(1, "on a"), event(3, "on b")]);
        assert_eq!(default.events(1).await, [event(2, "on default")]);

        drop(both);
        until("unregistered", || publisher.stats().subscribers == 1).await;
        publisher.publish(Event::new("missed on a"), "a").unwrap();
        publisher.publish(Event::new("not for it"), "c").unwrap();
        publisher.publish(Event::new("missed on b"), "b").unwrap();
        let mut back = Client::get(
            &ex,
            addr,
            "/events?channel=a&channel=b",
            &[("last-event-id", "3")],
        )
        .await;
        assert_eq!(
            back.events(2).await,
            [event(4, "missed on a"), event(6, "missed on b")]
        );
        publisher.publish(Event::new("live"), "b").unwrap();
        assert_eq!(back.events(1).await, [event(7, "live")]);

        let mut stale =
            Client::get(&ex, addr, "/events?channel=a", &[("last-event-id", "99")]).await;
        let Some(Got::Event(reset)) = stale.events(1).await.pop() else {
            panic!()
        };
        assert_eq!((reset.event_type(), reset.data()), ("sse-reset", "history"));

        publisher.close();
        assert_eq!(back.next().await, None);
    });
}

#[test]
fn the_access_hook_refuses_before_the_stream_starts() {
    run(|ex| async move {
        let publisher: Publisher<String> = Publisher::new();
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
        let addr = start(&ex, events.service()).await;
        let cases = [
            ("/events", None, 401, "who are you?"),
            ("/events?channel=admin", Some("ada"), 403, "admins only"),
            ("/events?channel=a%0Ab", Some("ada"), 400, "channel"),
            ("/elsewhere", Some("ada"), 404, "not found"),
        ];
        for (target, user, status, message) in cases {
            let headers: Vec<(&str, &str)> = user.map(|u| ("x-user", u)).into_iter().collect();
            let client = Client::get(&ex, addr, target, &headers).await;
            assert_eq!(client.status, status, "{target}");
            let text = client.text().await;
            assert!(text.contains(message), "{target}: {text}");
        }
        assert_eq!(publisher.stats().subscribed, 0);

        let mut root = Client::get(&ex, addr, "/events?channel=admin", &[("x-user", "root")]).await;
        assert_eq!(root.next().await, Some(Got::Retry(3000)));
        let names: Vec<String> = publisher
            .subscribers("admin")
            .unwrap()
            .iter()
            .map(|s| s.properties().clone())
            .collect();
        assert_eq!(names, ["root"]);
    });
}

#[test]
fn keep_alive_comments_fill_silence() {
    run(|ex| async move {
        let publisher: Publisher = Publisher::new();
        let events = Events::new(publisher.clone()).keep_alive(Some(Duration::from_millis(50)));
        let addr = start(&ex, events.service()).await;
        let mut client = Client::get(&ex, addr, "/events", &[]).await;
        assert_eq!(client.next().await, Some(Got::Retry(3000)));
        assert_eq!(client.next().await, Some(Got::Comment("keep-alive".into())));
        assert_eq!(client.next().await, Some(Got::Comment("keep-alive".into())));
    });
}

#[test]
fn a_client_that_goes_away_is_unregistered_promptly() {
    run(|ex| async move {
        let publisher: Publisher = Publisher::new();
        let addr = start(&ex, Events::new(publisher.clone()).service()).await;
        let mut client = Client::get(&ex, addr, "/events", &[]).await;
        assert_eq!(client.next().await, Some(Got::Retry(3000)));
        until("subscribed", || publisher.stats().subscribers == 1).await;
        drop(client);
        until("unregistered", || {
            let _ = publisher.publish(Event::new("anyone?"), ());
            publisher.stats().subscribers == 0
        })
        .await;
    });
}

#[test]
fn a_hand_written_service_serves_a_subscription_or_any_stream() {
    run(|ex| async move {
        let publisher: Publisher = Publisher::new();
        let server_publisher = publisher.clone();
        let service = service_fn(move |request: http::Request<Incoming>| {
            let body = if request.uri().path() == "/numbers" {
                let numbers = futures_lite::stream::iter(1..=3).map(|i| {
                    EventBuf::new(format!("n{i}"))
                        .with_id(i.to_string())
                        .unwrap()
                });
                SseBody::from_stream(numbers)
            } else {
                SseBody::new(server_publisher.subscribe("news", (), []).unwrap())
            };
            async move { Ok::<_, Infallible>(body.retry(None).response()) }
        });
        let addr = start(&ex, service).await;

        let mut numbers = Client::get(&ex, addr, "/numbers", &[]).await;
        assert_eq!(
            numbers.events(3).await,
            [event(1, "n1"), event(2, "n2"), event(3, "n3")]
        );
        assert_eq!(numbers.next().await, None);

        let mut news = Client::get(&ex, addr, "/", &[]).await;
        until("subscribed", || publisher.stats().subscribers == 1).await;
        publisher.publish(Event::new("hello"), "news").unwrap();
        assert_eq!(news.events(1).await, [event(1, "hello")]);
    });
}

#[test]
fn serve_tells_the_access_hook_who_is_calling() {
    run(|ex| async move {
        let publisher: Publisher<Option<SocketAddr>> = Publisher::new();
        let events = Events::with_access(publisher.clone(), |parts, _| {
            Ok(parts.extensions.get::<SocketAddr>().copied())
        });
        let addr = start(&ex, events.service()).await;
        let mut client = Client::get(&ex, addr, "/events", &[]).await;
        assert_eq!(client.next().await, Some(Got::Retry(3000)));
        let peers: Vec<_> = publisher
            .subscribers(())
            .unwrap()
            .iter()
            .map(|s| *s.properties())
            .collect();
        assert_eq!(peers.len(), 1);
        let peer = peers[0].expect("the peer address");
        assert!(
            peer.ip().is_loopback() && peer.port() != addr.port(),
            "{peer}"
        );
    });
}

/// The workspace's own client against the endpoint (shared with sse-tokio).
#[cfg(feature = "client")]
#[test]
fn the_event_source_resumes_after_the_server_ends_its_stream() {
    run(|ex| async move {
        let serve = async |events: Events<()>| start(&ex, events.service()).await;
        end_to_end::the_event_source_resumes_after_the_server_ends_its_stream(serve).await;
    });
}
