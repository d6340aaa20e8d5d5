//! What the publisher tells an operator: replays served and reset, events
//! replayed, streams ended by the server, bytes queued, channels and their
//! subscribers, and the positions a layer times deliveries by.
#![cfg(feature = "std")]

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use sse_proto::Event;
use sse_proto::publisher::{Position, Publisher, PublisherConfig, Subscription, queue_cost};

/// Every chunk ready now, each with the position `last_position` gives
/// right after it.
fn drain<P>(sub: &mut Subscription<P>) -> Vec<(String, Option<u64>)> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    while let Poll::Ready(Some(chunk)) = sub.poll_next(&mut cx) {
        let text = String::from_utf8(chunk.to_vec()).unwrap();
        out.push((text, sub.last_position().map(Position::get)));
    }
    out
}

#[test]
fn resumes_are_counted_as_served_or_reset_and_replayed_events_counted() {
    let publisher: Publisher = Publisher::new();
    for data in ["one", "two", "three"] {
        publisher.publish(Event::new(data), "news").unwrap();
    }
    let mut known = publisher
        .subscriber(())
        .channels("news")
        .last_event_id(Some("1"))
        .subscribe()
        .unwrap();
    assert_eq!(drain(&mut known).len(), 2, "two and three are replayed");
    let mut unknown = publisher
        .subscriber(())
        .channels("news")
        .last_event_id(Some("not-an-id-here"))
        .subscribe()
        .unwrap();
    let replayed = drain(&mut unknown);
    assert_eq!(replayed.len(), 1, "only the reset event: {replayed:?}");
    let _fresh = publisher.subscribe("news", (), []).unwrap();
    let stats = publisher.stats();
    assert_eq!(
        (stats.replays_served, stats.replays_reset, stats.replayed),
        (1, 1, 2)
    );
    assert_eq!(stats.history_resets, 1);
}

#[test]
fn live_events_carry_their_position_and_nothing_else_does() {
    let publisher: Publisher = Publisher::new();
    publisher.publish(Event::new("old"), "a").unwrap();
    let mut sub = publisher
        .subscriber(())
        .channels("a")
        .initial_events([Event::new("hello")])
        .last_event_id(Some("0"))
        .subscribe()
        .unwrap();
    publisher.publish(Event::new("live"), ["a", "b"]).unwrap();
    publisher.publish(Event::new("elsewhere"), "b").unwrap();
    publisher.publish(Event::new("again"), "a").unwrap();
    publisher
        .disconnect("a", Some(Event::new("bye").into()))
        .unwrap();
    let seen = drain(&mut sub);
    let positions: Vec<(&str, Option<u64>)> = seen
        .iter()
        .map(|(text, position)| {
            let data = text.lines().find(|line| line.starts_with("data:"));
            (data.unwrap_or_default(), *position)
        })
        .collect();
    assert_eq!(
        positions,
        [
            ("data: hello", None),
            ("data: old", None),
            ("data: live", Some(2)),
            ("data: again", Some(4)),
            ("data: bye", None),
        ],
        "initial, replayed and farewell chunks have no position: {seen:?}"
    );
}

#[test]
fn the_observer_hears_each_position_published() {
    let publisher: Publisher = Publisher::new();
    let mut sub = publisher.subscribe("a", (), []).unwrap();
    let heard: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sink = Arc::clone(&heard);
    publisher.set_publish_observer(Some(Arc::new(move |position: Position| {
        sink.lock().unwrap().push(position.get());
    })));
    publisher.publish(Event::new("one"), "a").unwrap();
    publisher.publish_with(|_| None, "a").unwrap();
    publisher.publish(Event::new("three"), "nobody").unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        [1, 2, 3],
        "with or without subscribers"
    );
    assert_eq!(drain(&mut sub), [("id: 1\ndata: one\n\n".into(), Some(1))]);
    publisher.set_publish_observer(None);
    publisher.publish(Event::new("four"), "a").unwrap();
    assert_eq!(heard.lock().unwrap().len(), 3, "removed");
}

#[test]
fn streams_the_server_ends_are_counted_once() {
    let publisher: Publisher = Publisher::new();
    let _a = publisher.subscribe("a", (), []).unwrap();
    let _ab = publisher.subscribe(["a", "b"], (), []).unwrap();
    let _c = publisher.subscribe("c", (), []).unwrap();
    assert_eq!(publisher.disconnect(["a", "b"], None).unwrap(), 2);
    assert_eq!(publisher.stats().ended, 2);
    let _d = publisher.subscribe("d", (), []).unwrap();
    publisher.close();
    assert_eq!(publisher.stats().ended, 4, "c and d, at close");
}

#[test]
fn queued_bytes_count_each_subscriber_once_and_go_down_as_it_reads() {
    let publisher: Publisher = Publisher::with_config(PublisherConfig::new()).unwrap();
    let mut both = publisher.subscribe(["a", "b"], (), []).unwrap();
    let _idle = publisher.subscribe("b", (), []).unwrap();
    let published = publisher.publish(Event::new("x"), ["a", "b"]).unwrap();
    assert_eq!(published.reached(), 2);
    let one = queue_cost("id: 1\ndata: x\n\n".len());
    assert_eq!(publisher.stats().queued_bytes, 2 * one);
    assert_eq!(drain(&mut both).len(), 1);
    assert_eq!(publisher.stats().queued_bytes, one);
}

#[test]
fn channels_are_listed_with_their_subscribers() {
    let publisher: Publisher = Publisher::new();
    let _a = publisher.subscribe(["news", "sport"], (), []).unwrap();
    let _b = publisher.subscribe("news", (), []).unwrap();
    assert_eq!(
        publisher.channel_subscribers(),
        [("news".to_owned(), 2), ("sport".to_owned(), 1)]
    );
    drop(_a);
    assert_eq!(publisher.channel_subscribers(), [("news".to_owned(), 1)]);
}
