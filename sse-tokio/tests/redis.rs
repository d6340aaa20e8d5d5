//! The Redis fan-out with a real `redis-server` (started by each test on a
//! free port) and several nodes in one process: one publish reaches every
//! node once with one id; clients resume on any node with exactly what they
//! missed; Redis restarts and network cuts lose and repeat nothing.
#![cfg(feature = "redis")]

#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use proxy::Proxy;
use redis_server::RedisServer;
use sse_tokio::proto::{Event, EventId, EventType};
use sse_tokio::publisher::{Publisher, PublisherConfig, SubscribeError, Subscription};
use sse_tokio::redis::{Error, RedisConfig, RedisId, RedisPublisher};

/// The longest any single wait in these tests may take.
const WAIT: Duration = Duration::from_secs(20);

const RESET: &str = "event: sse-reset\ndata: history\n\n";

async fn node(url: &str) -> RedisPublisher {
    node_with(url, PublisherConfig::new(), |config| config).await
}

async fn node_with(
    url: &str,
    publisher: PublisherConfig,
    config: impl FnOnce(RedisConfig) -> RedisConfig,
) -> RedisPublisher {
    let publisher = Publisher::with_config(publisher.with_generate_ids(false)).expect("config");
    RedisPublisher::connect(publisher, config(RedisConfig::new(url)))
        .await
        .expect("connect to Redis")
}

/// The next chunk as text, or `END` when the stream ended.
async fn next(subscription: &mut Subscription) -> String {
    match tokio::time::timeout(WAIT, subscription.next()).await {
        Ok(Some(chunk)) => String::from_utf8(chunk.to_vec()).expect("UTF-8"),
        Ok(None) => "END".to_owned(),
        Err(_) => panic!("nothing arrived within {WAIT:?}"),
    }
}

/// The next `n` chunks.
async fn take(subscription: &mut Subscription, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(next(subscription).await);
    }
    out
}

fn event(id: RedisId, data: &str) -> String {
    format!("id: {id}\ndata: {data}\n\n")
}

async fn publish(node: &RedisPublisher, data: &str, channels: &[&str]) -> RedisId {
    node.publish(Event::new(data), channels)
        .await
        .expect("publish")
}

/// Publishes a marker and checks that it is the very next thing `subs`
/// get: nothing repeated or left over before it.
async fn marker(node: &RedisPublisher, channel: &str, subs: &mut [&mut Subscription]) -> RedisId {
    let id = publish(node, "marker", &[channel]).await;
    for sub in subs {
        assert_eq!(next(sub).await, event(id, "marker"));
    }
    id
}

/// Waits until `condition` holds, polling.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Subscribes to `channels` on `node` as a client coming back with
/// `Last-Event-ID: last`.
async fn resume(
    node: &RedisPublisher,
    channels: impl sse_tokio::publisher::Channels,
    last: impl ToString,
) -> Subscription {
    node.subscriber(())
        .channels(channels)
        .last_event_id(Some(&last.to_string()))
        .subscribe()
        .await
        .unwrap()
}
#[tokio::test]
async fn one_publish_reaches_every_node_once_with_one_id() {
    let redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let b = node(&redis.url()).await;
    let mut on_a = a.subscriber(()).channels("news").subscribe().await.unwrap();
    let mut on_b = b.subscriber(()).channels("news").subscribe().await.unwrap();
    // On both channels of the publish: still once.
    let mut both_b = b
        .subscriber(())
        .channels(["news", "sport"])
        .subscribe()
        .await
        .unwrap();
    let mut sport_a = a
        .subscriber(())
        .channels("sport")
        .subscribe()
        .await
        .unwrap();

    let typed = Event::new("line one\nline two").with_type(EventType::new("update").unwrap());
    let id = a.publish(typed, ["news", "sport"]).await.unwrap();
    let expected = format!("event: update\nid: {id}\ndata: line one\ndata: line two\n\n");
    for sub in [&mut on_a, &mut on_b, &mut both_b, &mut sport_a] {
        assert_eq!(next(sub).await, expected);
    }
    // Ids come from Redis and grow; published on B, the same for everyone.
    let second = publish(&b, "two", &["news"]).await;
    assert!(second > id);
    for sub in [&mut on_a, &mut on_b, &mut both_b] {
        assert_eq!(next(sub).await, event(second, "two"));
    }
    marker(&a, "news", &mut [&mut on_a, &mut on_b, &mut both_b]).await;
    marker(&b, "sport", &mut [&mut sport_a, &mut both_b]).await;
    assert!(a.health().up && b.health().up);
}

/// The scenario: a client on B goes away, events are published on
/// A, the client comes back to A with its Last-Event-ID.
#[tokio::test]
async fn a_client_resumes_on_another_node_with_exactly_what_it_missed() {
    let redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let b = node(&redis.url()).await;
    let mut client = b.subscriber(()).channels("log").subscribe().await.unwrap();
    let seen = publish(&a, "one", &["log"]).await;
    assert_eq!(next(&mut client).await, event(seen, "one"));
    drop(client);

    let two = publish(&a, "two", &["log"]).await;
    publish(&a, "elsewhere", &["other"]).await;
    let three = publish(&b, "three", &["log", "other"]).await;
    let mut back = resume(&a, "log", seen).await;
    assert_eq!(
        take(&mut back, 2).await,
        [event(two, "two"), event(three, "three")]
    );
    marker(&a, "log", &mut [&mut back]).await;
}

/// A node that started after the events has nothing in its local history:
/// the missed events of several channels come from Redis, merged in id
/// order, an event on two of them once.
#[tokio::test]
async fn several_channels_resume_on_a_fresh_node_from_redis() {
    let redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let seen = publish(&a, "seen", &["a"]).await;
    let one = publish(&a, "a1", &["a"]).await;
    let two = publish(&a, "b1", &["b"]).await;
    let c1 = publish(&a, "c1", &["c"]).await;
    let three = publish(&a, "ab", &["a", "b"]).await;
    let four = publish(&a, "b2", &["b", "c"]).await;

    let fresh = node(&redis.url()).await;
    assert_eq!(fresh.publisher().stats().history_events, 0);
    assert_eq!(fresh.publisher().locate(&seen.to_string()), None);
    let mut back = resume(&fresh, ["a", "b"], seen).await;
    assert_eq!(
        take(&mut back, 4).await,
        [
            event(one, "a1"),
            event(two, "b1"),
            event(three, "ab"),
            event(four, "b2"),
        ]
    );
    // Then live, from the fresh node's own feed, nothing repeated.
    marker(&a, "b", &mut [&mut back]).await;
    // From an id in the middle, on other channels (a client that saw `two`).
    let mut later = resume(&fresh, ["a", "c"], two).await;
    assert_eq!(
        take(&mut later, 3).await,
        [event(c1, "c1"), event(three, "ab"), event(four, "b2")]
    );
}

#[tokio::test]
async fn an_id_older_than_the_retention_gets_the_reset_event_first() {
    let redis = RedisServer::start();
    let a = node_with(&redis.url(), PublisherConfig::new(), |c| {
        c.with_retention(3)
    })
    .await;
    let mut ids = Vec::new();
    for n in 1..=6 {
        ids.push(publish(&a, &format!("e{n}"), &["x"]).await);
    }
    let fresh = node_with(&redis.url(), PublisherConfig::new(), |c| {
        c.with_retention(3)
    })
    .await;
    let mut back = resume(&fresh, "x", ids[0]).await;
    // e2 and e3 are gone: told, then what is kept.
    assert_eq!(
        take(&mut back, 4).await,
        [
            RESET.to_owned(),
            event(ids[3], "e4"),
            event(ids[4], "e5"),
            event(ids[5], "e6"),
        ]
    );
    marker(&a, "x", &mut [&mut back]).await;

    // Just inside the retention: no reset.
    let mut inside = resume(&fresh, "x", ids[3]).await;
    assert_eq!(
        take(&mut inside, 2).await,
        [event(ids[4], "e5"), event(ids[5], "e6")]
    );

    // Ids that are not Redis's, or that Redis never gave: reset, then live.
    for unknown in ["42", "99999999999999-0"] {
        let mut lost = resume(&fresh, "x", unknown).await;
        assert_eq!(next(&mut lost).await, RESET, "{unknown}");
        marker(&a, "x", &mut [&mut lost]).await;
    }
}

/// What was missed must fit in the subscriber's queue; when it does not,
/// the client is told and goes on live.
#[tokio::test]
async fn too_much_missed_for_the_queue_gets_the_reset_event_then_live() {
    let redis = RedisServer::start();
    let small = PublisherConfig::new()
        .with_max_event_bytes(1024)
        .with_queue_bytes(4096);
    let a = node_with(&redis.url(), small, |c| c).await;
    let seen = publish(&a, "seen", &["x"]).await;
    let data = "x".repeat(100);
    for _ in 0..100 {
        publish(&a, &data, &["x"]).await;
    }
    let fresh = node_with(&redis.url(), small, |c| c).await;
    let mut back = resume(&fresh, "x", seen).await;
    assert_eq!(next(&mut back).await, RESET);
    marker(&a, "x", &mut [&mut back]).await;
}

#[tokio::test]
async fn ids_come_from_redis_only() {
    let redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let own = Event::new("mine").with_id(EventId::new("7").unwrap());
    assert!(matches!(a.publish(own, "x").await, Err(Error::OwnId)));
    // A local publisher that makes its own ids cannot be joined to Redis.
    let generating: Publisher = Publisher::new();
    let refused = RedisPublisher::connect(generating, RedisConfig::new(redis.url())).await;
    assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");
    // Bad channels and Last-Event-IDs are refused before anything is sent.
    assert!(matches!(
        a.publish(Event::new("x"), "a b").await,
        Err(Error::Publish(_))
    ));
    assert!(matches!(
        a.subscriber(())
            .last_event_id(Some("a\nb"))
            .subscribe()
            .await,
        Err(Error::Subscribe(SubscribeError::LastEventId))
    ));
    // An unreachable Redis at start fails at once.
    drop(redis);
    let gone = RedisPublisher::connect(
        Publisher::<()>::with_config(PublisherConfig::new().with_generate_ids(false)).unwrap(),
        RedisConfig::new(a.config().url_redacted()),
    )
    .await;
    assert!(matches!(gone, Err(Error::Redis(_))), "{gone:?}");
}

/// Redis stops and starts again (keeping its data) while subscribers stay
/// connected: publishing fails loudly meanwhile, the nodes reconnect by
/// themselves, and nothing is lost or repeated.
#[tokio::test]
async fn redis_restarts_while_subscribers_stay_connected() {
    let mut redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let b = node(&redis.url()).await;
    let mut on_a = a.subscriber(()).channels("x").subscribe().await.unwrap();
    let mut on_b = b.subscriber(()).channels("x").subscribe().await.unwrap();
    let before = publish(&a, "before", &["x"]).await;
    for sub in [&mut on_a, &mut on_b] {
        assert_eq!(next(sub).await, event(before, "before"));
    }

    redis.stop();
    until("the nodes see the link down", || {
        !a.health().up && !b.health().up
    })
    .await;
    for node in [&a, &b] {
        let failed = node.publish(Event::new("during"), "x").await;
        assert!(matches!(failed, Err(Error::Redis(_))), "{failed:?}");
        assert!(node.health().last_error.is_some());
    }
    assert_eq!(a.publisher().stats().subscribers, 1);
    assert_eq!(b.publisher().stats().subscribers, 1);

    redis.restart();
    until("the nodes reconnect", || a.health().up && b.health().up).await;
    let after = publish(&b, "after", &["x"]).await;
    assert!(after > before);
    for sub in [&mut on_a, &mut on_b] {
        assert_eq!(next(sub).await, event(after, "after"));
    }
    marker(&a, "x", &mut [&mut on_a, &mut on_b]).await;
    assert_eq!(a.health().cursor, b.health().cursor);
}

/// One node loses its link while another keeps publishing: when the link
/// comes back, the node delivers everything published in between, in
/// order, once. A client that comes to it meanwhile with a newer id is
/// asked to come back later rather than served twice.
#[tokio::test]
async fn a_node_cut_off_from_redis_catches_up_without_gaps_or_duplicates() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(format!("127.0.0.1:{}", redis.port())).await;
    let a = node(&redis.url()).await;
    let b = node_with(&proxy.url(), PublisherConfig::new(), |c| {
        c.with_catch_up(Duration::from_millis(200))
            .with_timeout(Duration::from_millis(500))
    })
    .await;
    let mut on_b = b.subscriber(()).channels("x").subscribe().await.unwrap();
    let first = publish(&a, "first", &["x"]).await;
    assert_eq!(next(&mut on_b).await, event(first, "first"));

    proxy.cut();
    until("B sees its link down", || !b.health().up).await;
    let mut missed = Vec::new();
    for n in 0..5 {
        missed.push(publish(&a, &format!("m{n}"), &["x"]).await);
    }
    // A client that saw the newest event, coming to B, which has not.
    let ahead = b
        .subscriber(())
        .channels("x")
        .last_event_id(Some(&missed[4].to_string()))
        .subscribe()
        .await;
    // (Behind when only the reader is cut off; here the node cannot reach
    // Redis at all to check the id.) The HTTP glue asks the client to come
    // back later either way.
    assert!(
        matches!(ahead, Err(Error::Behind | Error::Redis(_))),
        "{ahead:?}"
    );

    proxy.restore();
    let got = take(&mut on_b, 5).await;
    let expected: Vec<String> = missed
        .iter()
        .enumerate()
        .map(|(n, id)| event(*id, &format!("m{n}")))
        .collect();
    assert_eq!(got, expected);
    let caught_up = marker(&a, "x", &mut [&mut on_b]).await;
    // Now B can serve that client: what came after its id, nothing before.
    let mut ahead = resume(&b, "x", missed[4]).await;
    assert_eq!(next(&mut ahead).await, event(caught_up, "marker"));
    marker(&a, "x", &mut [&mut ahead, &mut on_b]).await;
}

/// A client coming from a node that is ahead, to one that has not read its
/// id yet: the node waits until it has, then serves what came after, so
/// nothing is sent twice.
#[tokio::test]
async fn a_client_ahead_of_this_node_waits_for_it_to_catch_up() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(format!("127.0.0.1:{}", redis.port())).await;
    let a = node(&redis.url()).await;
    let b = node(&proxy.url()).await;
    let mut on_a = a.subscriber(()).channels("x").subscribe().await.unwrap();
    // Everything Redis tells B now arrives 300 ms late.
    proxy.delay(Duration::from_millis(300));
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(publish(&a, &format!("e{n}"), &["x"]).await);
    }
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(next(&mut on_a).await, event(*id, &format!("e{n}")));
    }
    // The client saw e1 on A; B has (most likely) not read it yet.
    let mut moved = resume(&b, "x", ids[1]).await;
    assert_eq!(next(&mut moved).await, event(ids[2], "e2"));
    proxy.delay(Duration::ZERO);
    marker(&a, "x", &mut [&mut moved, &mut on_a]).await;
}

/// A node that falls further behind than the global stream keeps cannot
/// deliver what it missed from its feed: it ends its streams with a retry
/// hint, and its clients resume from the channels' streams, exactly.
#[tokio::test]
async fn a_node_past_the_feed_cap_sends_its_clients_to_the_channel_history() {
    let redis = RedisServer::start();
    // Small stream nodes, so that `MAXLEN ~` trims soon.
    assert!(
        redis
            .command(&["CONFIG", "SET", "stream-node-max-entries", "2"])
            .starts_with("+OK")
    );
    let proxy = Proxy::start(format!("127.0.0.1:{}", redis.port())).await;
    let config = |c: RedisConfig| c.with_feed_cap(4).with_timeout(Duration::from_millis(500));
    let a = node_with(&redis.url(), PublisherConfig::new(), config).await;
    let b = node_with(&proxy.url(), PublisherConfig::new(), config).await;
    let mut on_b = b.subscriber(()).channels("x").subscribe().await.unwrap();
    let seen = publish(&a, "seen", &["x"]).await;
    assert_eq!(next(&mut on_b).await, event(seen, "seen"));

    proxy.cut();
    until("B sees its link down", || !b.health().up).await;
    let mut missed = Vec::new();
    for n in 0..20 {
        missed.push(publish(&a, &format!("m{n}"), &["x", "y"]).await);
    }
    proxy.restore();
    // B's stream ends with a retry hint (the publisher's lag retry, 1 s).
    assert_eq!(take(&mut on_b, 2).await, ["retry: 1000\n", "END"]);

    let mut back = resume(&b, "x", seen).await;
    let expected: Vec<String> = missed
        .iter()
        .enumerate()
        .map(|(n, id)| event(*id, &format!("m{n}")))
        .collect();
    assert_eq!(take(&mut back, 20).await, expected);
    marker(&a, "x", &mut [&mut back]).await;
}

/// Over HTTP (`server::Events`), a client this node cannot serve yet (it
/// cannot reach Redis to read what the client missed) gets a stream with
/// only the `retry:` hint, which ends: it comes back later, rather than
/// missing or repeating events, and browsers reconnect on their own.
#[cfg(feature = "server")]
#[tokio::test]
async fn the_endpoint_asks_a_client_it_cannot_serve_yet_to_come_back() {
    use http_body_util::BodyExt as _;
    use sse_tokio::server::Events;

    let redis = RedisServer::start();
    let proxy = Proxy::start(format!("127.0.0.1:{}", redis.port())).await;
    let a = node(&redis.url()).await;
    let b = node_with(&proxy.url(), PublisherConfig::new(), |c| {
        c.with_timeout(Duration::from_millis(500))
    })
    .await;
    let events = Events::new(b.clone()).retry(Some(Duration::from_millis(1500)));
    proxy.cut();
    until("B sees its link down", || !b.health().up).await;
    let newer = publish(&a, "newer", &["x"]).await;
    let request = http::Request::get("/events?channel=x")
        .header("last-event-id", newer.to_string())
        .body(())
        .unwrap();
    let response = events.handle(request).await;
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(WAIT, response.into_body().collect())
        .await
        .expect("the body ends")
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], b"retry: 1500\n");

    // A client without an id, or one the local history knows, is served
    // as usual, Redis or not.
    let fresh = http::Request::get("/events?channel=x").body(()).unwrap();
    assert_eq!(events.handle(fresh).await.status(), 200);
    assert_eq!(b.publisher().stats().subscribers, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_comes_back_through_the_reader_and_reaches_no_subscriber() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(format!("127.0.0.1:{}", redis.port())).await;
    let a = node(&proxy.url()).await;
    let b = node(&redis.url()).await;
    let mut on_b = b
        .subscriber(())
        .channels("news")
        .subscribe()
        .await
        .expect("subscribe");
    let took = a.probe().await.expect("a probe read back");
    assert!(took < WAIT, "{took:?}");
    assert!(
        a.health().cursor > RedisId::ZERO,
        "the reader moved past the probe"
    );
    // A probe from every node reaches no one, here or elsewhere, and
    // leaves no gap: the next event is the next thing a subscriber gets.
    b.probe().await.expect("b's probe");
    let mut on_a = a
        .subscriber(())
        .channels("news")
        .subscribe()
        .await
        .expect("subscribe");
    marker(&b, "news", &mut [&mut on_a, &mut on_b]).await;
    assert_eq!(a.publisher().stats().published, 1, "only the marker");

    // A reader that reads nothing while its link is up: the probe is
    // appended, never read back.
    proxy.stall_readers();
    let stuck = a.probe().await.expect_err("the reader is stuck");
    assert!(matches!(stuck, Error::Stuck), "{stuck}");
    proxy.resume_readers();
    until_ok(|| a.probe()).await;
    let health = a.health();
    assert!(health.lag.is_some(), "the feed's lag is known: {health:?}");
}

/// Retries `probe` until it succeeds, within [`WAIT`].
async fn until_ok<F, Fut>(mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Duration, Error>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match probe().await {
            Ok(_) => return,
            Err(error) => assert!(Instant::now() < deadline, "never ready: {error}"),
        }
    }
}
