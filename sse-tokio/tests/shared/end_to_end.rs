//! The workspace's own client against its own endpoint, shared by the server
//! tests of both adapters (`tests/server.rs` in each crate, which define
//! `sse`, `within` and `until`, and say how to serve the endpoint).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::StreamExt as _;
use sse_proto::{Event, EventBuf, Frame};

use crate::sse::server::Events;
use crate::sse::{EventSource, Item, Publisher};
use crate::{until, within};

/// When the server ends the channel's streams with a retry hint, the client
/// waits that long, comes back with `Last-Event-ID` and gets what it missed
/// exactly once, then live events.
pub(crate) async fn the_event_source_resumes_after_the_server_ends_its_stream<F>(
    serve: impl FnOnce(Events<()>) -> F,
) where
    F: Future<Output = SocketAddr>,
{
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
    let addr = serve(events).await;
    let mut source = EventSource::new(format!("http://{addr}/events?channel=news")).unwrap();
    let mut next = async || {
        within("the next item", source.next())
            .await
            .unwrap()
            .unwrap()
    };
    let item = |data: &str, id: &str| Item::Event(EventBuf::new(data).with_id(id).unwrap());

    assert_eq!(next().await, Item::Open);
    until("subscribed", || publisher.stats().subscribers == 1).await;
    publisher.publish(Event::new("one"), "news").unwrap();
    publisher.publish(Event::new("two"), "news").unwrap();
    assert_eq!(next().await, item("one", "1"));
    assert_eq!(next().await, item("two", "2"));

    let farewell = Some(Frame::Retry(50));
    assert_eq!(publisher.disconnect("news", farewell).unwrap(), 1);
    publisher.publish(Event::new("three"), "news").unwrap();
    publisher.publish(Event::new("four"), "news").unwrap();
    assert_eq!(next().await, Item::Open);
    assert_eq!(next().await, item("three", "3"));
    assert_eq!(next().await, item("four", "4"));
    publisher.publish(Event::new("five"), "news").unwrap();
    assert_eq!(next().await, item("five", "5"));

    assert_eq!(source.reconnection_time(), Duration::from_millis(50));
    let asked: Vec<_> = asked.lock().unwrap().clone();
    assert_eq!(asked, [None, Some(http::HeaderValue::from_static("2"))]);
}
