//! The server side on smol over real HTTP on 127.0.0.1: `serve`, the ready
//! endpoint and its access hook, resume, keep-alive, vanished clients.
#![cfg(feature = "server")]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_io::Timer;
use bytes::Bytes;
use futures_lite::{StreamExt as _, future};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::service::service_fn;
use smol::net::{TcpListener, TcpStream};
use smol::{Executor, Task};
use smol_hyper::rt::FuturesIo;
use sse_proto::{Decoder, Event, EventBuf, Frame, Limits};
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
            let _ = serve(&server, listener, service).await;
        })
        .detach();
    addr
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Got {
    Event(EventBuf),
    Retry(u64),
    Comment(String),
}

fn event(id: u64, data: &str) -> Got {
    Got::Event(EventBuf::new(data).with_id(id.to_string()).unwrap())
}

/// A streaming response read with a plain hyper client.
struct Client {
    status: http::StatusCode,
    headers: http::HeaderMap,
    body: Incoming,
    decoder: Decoder<Box<[u8]>>,
    frames: VecDeque<Got>,
    _connection: Task<()>,
}

impl Client {
    async fn get(
        executor: &Executor<'static>,
        addr: SocketAddr,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Self {
        let stream = within("connect", TcpStream::connect(addr)).await.unwrap();
        let (mut sender, connection) = within(
            "handshake",
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(FuturesIo::new(stream)),
        )
        .await
        .unwrap();
        let connection = executor.spawn(async move {
            let _ = connection.await;
        });
        let mut request = http::Request::get(target).header("host", "127.0.0.1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = within(
            "response head",
            sender.send_request(request.body(Empty::new()).unwrap()),
        )
        .await
        .unwrap();
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
            decoder: Decoder::with_capacity(1 << 16, Limits::new().comments(64)),
            frames: VecDeque::new(),
            _connection: connection,
        }
    }

    async fn next(&mut self) -> Option<Got> {
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Some(frame);
            }
            let frame = within("body frame", self.body.frame()).await?.ok()?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let mut input = &data[..];
            while let Some(frame) = self.decoder.decode(&mut input) {
                self.frames.push_back(match frame.unwrap() {
                    Frame::Event(event) => Got::Event(EventBuf::from(event)),
                    Frame::Retry(ms) => Got::Retry(ms),
                    Frame::Comment(text) => Got::Comment(text.to_string_lossy().into_owned()),
                });
            }
        }
    }

    async fn events(&mut self, n: usize) -> Vec<Got> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.next().await {
                Some(Got::Comment(_)) => {}
                Some(got) => out.push(got),
                None => break,
            }
        }
        out
    }

    async fn text(mut self) -> String {
        let body = within("body", (&mut self.body).collect()).await.unwrap();
        String::from_utf8(body.to_bytes().to_vec()).unwrap()
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

/// The ready endpoint has no runtime-specific code: the same file serves
/// both adapters, so they cannot drift apart.
#[test]
fn the_endpoint_is_the_same_in_both_adapters() {
    let read = |krate: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(krate)
            .join("src/server/events.rs");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    assert!(
        read("sse-tokio") == read("sse-smol"),
        "sse-tokio/src/server/events.rs and sse-smol/src/server/events.rs differ"
    );
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
