//! The fan-out publisher: channels, properties, initial events, ids, replay,
//! the reset event, slow consumers, limits.
#![cfg(feature = "std")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use sse_proto::publisher::{
    ChannelError, LagPolicy, MAX_CHANNEL_LEN, MAX_ID_LEN, PublishError, Publisher, PublisherConfig,
    SubscribeError, Subscription,
};
use sse_proto::{Event, EventBuf, EventId, EventType};

const RESET_HISTORY: &str = "event: sse-reset\ndata: history\n\n";
const RESET_LAGGED: &str = "event: sse-reset\ndata: lagged\n\n";

/// Everything the subscription has ready now, as text; `END` marks the end
/// of the stream.
fn drain<P>(sub: &mut Subscription<P>) -> Vec<String> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match sub.poll_next(&mut cx) {
            Poll::Ready(Some(chunk)) => out.push(String::from_utf8(chunk.to_vec()).unwrap()),
            Poll::Ready(None) => {
                out.push("END".to_string());
                return out;
            }
            Poll::Pending => return out,
        }
    }
}

fn msg(id: u64, data: &str) -> String {
    format!("id: {id}\ndata: {data}\n\n")
}

fn publisher<P>(config: PublisherConfig) -> Publisher<P> {
    Publisher::with_config(config).unwrap()
}

#[test]
fn fans_out_to_many_subscribers_on_several_channels() {
    let publisher: Publisher<usize> = publisher(PublisherConfig::new());
    let mut subs: Vec<_> = (0..300)
        .map(|i| {
            let channels: &[&str] = match i % 3 {
                0 => &["a"],
                1 => &["b"],
                _ => &["a", "b"],
            };
            publisher.subscribe(channels, i, []).unwrap()
        })
        .collect();
    assert_eq!(
        publisher
            .publish(Event::new("to a"), "a")
            .unwrap()
            .reached(),
        200
    );
    assert_eq!(
        publisher
            .publish(Event::new("to b"), "b")
            .unwrap()
            .reached(),
        200
    );
    // A subscriber of both gets an event published to both once.
    assert_eq!(
        publisher
            .publish(Event::new("to both"), ["a", "b"])
            .unwrap()
            .reached(),
        300
    );
    assert_eq!(
        publisher
            .publish(Event::new("to c"), "c")
            .unwrap()
            .reached(),
        0
    );

    for (i, sub) in subs.iter_mut().enumerate() {
        let expected = match i % 3 {
            0 => vec![msg(1, "to a"), msg(3, "to both")],
            1 => vec![msg(2, "to b"), msg(3, "to both")],
            _ => vec![msg(1, "to a"), msg(2, "to b"), msg(3, "to both")],
        };
        assert_eq!(drain(sub), expected, "subscriber {i}");
    }
    let stats = publisher.stats();
    assert_eq!(
        (stats.subscribers, stats.published, stats.delivered),
        (300, 4, 700)
    );
}

#[test]
fn an_event_is_encoded_once_and_shared() {
    let publisher: Publisher = Publisher::new();
    let mut one = publisher.subscribe("a", (), []).unwrap();
    let mut two = publisher.subscribe("a", (), []).unwrap();
    publisher.publish(Event::new("x"), "a").unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(Some(a)) = one.poll_next(&mut cx) else {
        panic!()
    };
    let Poll::Ready(Some(b)) = two.poll_next(&mut cx) else {
        panic!()
    };
    assert_eq!(a.as_ptr(), b.as_ptr());
}

#[test]
fn per_subscriber_events_come_from_properties() {
    let publisher: Publisher<&str> = Publisher::new();
    let mut ada = publisher.subscribe("room", "ada", []).unwrap();
    let mut bob = publisher.subscribe("room", "bob", []).unwrap();
    let mut eve = publisher.subscribe(["room", "other"], "eve", []).unwrap();
    let sent = publisher
        .publish_with(
            |name| (*name != "eve").then(|| EventBuf::new(format!("hello {name}"))),
            ["room", "other"],
        )
        .unwrap();
    assert_eq!(sent.reached(), 2);
    assert_eq!(sent.position().get(), 1);
    // An event's own id and type are kept.
    publisher
        .publish_with(
            |name| Some(EventBuf::new(*name).with_id(format!("own-{name}")).unwrap()),
            "room",
        )
        .unwrap();
    assert_eq!(
        drain(&mut ada),
        [msg(1, "hello ada"), "id: own-ada\ndata: ada\n\n".into()]
    );
    assert_eq!(
        drain(&mut bob),
        [msg(1, "hello bob"), "id: own-bob\ndata: bob\n\n".into()]
    );
    assert_eq!(drain(&mut eve), ["id: own-eve\ndata: eve\n\n"]);
}

#[test]
fn initial_events_come_before_anything_else() {
    let publisher: Publisher = Publisher::new();
    let mut sub = publisher
        .subscribe(
            (),
            (),
            [
                Event::new("first"),
                Event::new("second").with_type(EventType::new("hello").unwrap()),
            ],
        )
        .unwrap();
    publisher.publish(Event::new("live"), ()).unwrap();
    assert_eq!(
        drain(&mut sub),
        [
            "data: first\n\n",
            "event: hello\ndata: second\n\n",
            &msg(1, "live")
        ]
    );
}

#[test]
fn lists_live_subscribers_and_forgets_dropped_ones_at_once() {
    let publisher: Publisher<String> = Publisher::new();
    let ada = publisher.subscribe(["a", "b"], "ada".into(), []).unwrap();
    let bob = publisher.subscribe("b", "bob".into(), []).unwrap();
    let _eve = publisher.subscribe("c", "eve".into(), []).unwrap();
    let names = |channels: &[&str]| -> Vec<String> {
        publisher
            .subscribers(channels)
            .unwrap()
            .iter()
            .map(|s| s.properties().clone())
            .collect()
    };
    assert_eq!(names(&["a", "b"]), ["ada", "bob"]);
    assert_eq!(names(&["c"]), ["eve"]);
    assert_eq!(names(&["nobody"]), Vec::<String>::new());
    let listed = publisher.subscribers("b").unwrap();
    assert_eq!(listed[0].id(), ada.id());
    assert_eq!(listed[0].channels().collect::<Vec<_>>(), ["a", "b"]);

    drop(ada);
    assert_eq!(names(&["a", "b"]), ["bob"]);
    assert_eq!(
        publisher
            .publish(Event::new("x"), ["a", "b"])
            .unwrap()
            .reached(),
        1
    );
    drop(bob);
    assert_eq!(publisher.stats().subscribers, 1);
    assert_eq!(
        publisher.publish(Event::new("x"), "b").unwrap().reached(),
        0
    );
}

#[test]
fn resume_gets_exactly_the_missed_events_on_its_channels() {
    let publisher: Publisher = Publisher::new();
    let mut sub = publisher.subscribe(["a", "b"], (), []).unwrap();
    publisher.publish(Event::new("1 on a"), "a").unwrap();
    publisher.publish(Event::new("2 on b"), "b").unwrap();
    assert_eq!(drain(&mut sub), [msg(1, "1 on a"), msg(2, "2 on b")]);
    drop(sub);

    publisher.publish(Event::new("3 on a"), "a").unwrap();
    publisher.publish(Event::new("4 on c"), "c").unwrap();
    publisher
        .publish(Event::new("5 on a and b"), ["b", "a"])
        .unwrap();

    let mut back = publisher
        .subscriber(())
        .channels(["a", "b"])
        .initial_events([Event::new("welcome back")])
        .last_event_id(Some("2"))
        .subscribe()
        .unwrap();
    // Published while the replay is pending: after it, once.
    publisher.publish(Event::new("6 on b"), "b").unwrap();
    assert_eq!(
        drain(&mut back),
        [
            "data: welcome back\n\n".to_string(),
            msg(3, "3 on a"),
            msg(5, "5 on a and b"),
            msg(6, "6 on b"),
        ]
    );
    // Up to date: nothing to replay.
    let mut current = publisher
        .subscriber(())
        .channels("b")
        .last_event_id(Some("6"))
        .subscribe()
        .unwrap();
    assert_eq!(drain(&mut current), Vec::<String>::new());
    assert_eq!(publisher.stats().history_resets, 0);
}

#[test]
fn an_id_older_than_the_history_gets_the_reset_event() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_history(3, 1 << 20));
    for i in 1..=10 {
        publisher.publish(Event::new(&format!("e{i}")), ()).unwrap();
    }
    let mut sub = publisher
        .subscriber(())
        .last_event_id(Some("2"))
        .subscribe()
        .unwrap();
    // Told in band, then what the history still has.
    assert_eq!(
        drain(&mut sub),
        [
            RESET_HISTORY.to_string(),
            msg(8, "e8"),
            msg(9, "e9"),
            msg(10, "e10")
        ]
    );
    // Exactly at the edge of the history: nothing missing, no reset.
    let mut edge = publisher
        .subscriber(())
        .last_event_id(Some("7"))
        .subscribe()
        .unwrap();
    assert_eq!(
        drain(&mut edge),
        [msg(8, "e8"), msg(9, "e9"), msg(10, "e10")]
    );
    // Unknown ids (another run of the server, the future, not an id of ours).
    for unknown in ["11", "abc", "007"] {
        let mut sub = publisher
            .subscriber(())
            .last_event_id(Some(unknown))
            .subscribe()
            .unwrap();
        publisher.publish(Event::new("live"), ()).unwrap();
        let got = drain(&mut sub);
        assert_eq!(got.len(), 2, "{unknown}: {got:?}");
        assert_eq!(got[0], RESET_HISTORY, "{unknown}");
    }
    assert_eq!(publisher.stats().history_resets, 4);
}

#[test]
fn the_history_is_bounded_by_bytes_too() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_history(1000, 400));
    let data = "x".repeat(100);
    for _ in 0..10 {
        publisher.publish(Event::new(&data), ()).unwrap();
    }
    let stats = publisher.stats();
    assert!(stats.history_bytes <= 400, "{stats:?}");
    assert_eq!(stats.history_events, 2);
}

#[test]
fn a_busy_channel_evicting_the_history_does_not_reset_a_quiet_one() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_history(4, 1 << 20));
    publisher.publish(Event::new("quiet"), "quiet").unwrap();
    for _ in 0..20 {
        publisher.publish(Event::new("busy"), "busy").unwrap();
    }
    let mut sub = publisher
        .subscriber(())
        .channels("quiet")
        .last_event_id(Some("1"))
        .subscribe()
        .unwrap();
    publisher
        .publish(Event::new("quiet again"), "quiet")
        .unwrap();
    assert_eq!(drain(&mut sub), [msg(22, "quiet again")]);
    // Whereas a subscriber of the busy channel that missed evicted events is told.
    let mut busy = publisher
        .subscriber(())
        .channels("busy")
        .last_event_id(Some("1"))
        .subscribe()
        .unwrap();
    assert_eq!(
        drain(&mut busy).first().map(String::as_str),
        Some(RESET_HISTORY)
    );
}

#[test]
fn caller_ids_resume_too() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_generate_ids(false));
    for id in ["1700-0", "1700-1", "1701-0"] {
        publisher
            .publish(Event::new(id).with_id(EventId::new(id).unwrap()), ())
            .unwrap();
    }
    publisher.publish(Event::new("no id"), ()).unwrap();
    assert_eq!(publisher.locate("1700-1").map(|p| p.get()), Some(2));
    assert_eq!(publisher.locate("2"), None, "generated ids are off");
    let mut sub = publisher
        .subscriber(())
        .last_event_id(Some("1700-1"))
        .subscribe()
        .unwrap();
    assert_eq!(
        drain(&mut sub),
        ["id: 1701-0\ndata: 1701-0\n\n", "data: no id\n\n"]
    );
}

#[test]
fn a_per_subscriber_event_in_the_gap_gets_the_reset_event_in_its_place() {
    let publisher: Publisher<u8> = Publisher::new();
    let sub = publisher.subscribe("a", 0, []).unwrap();
    publisher.publish(Event::new("one"), "a").unwrap();
    drop(sub);
    publisher.publish(Event::new("two"), "a").unwrap();
    publisher
        .publish_with(|_| Some(EventBuf::new("yours")), "a")
        .unwrap();
    publisher.publish(Event::new("four"), "a").unwrap();
    let mut back = publisher
        .subscriber(0)
        .channels("a")
        .last_event_id(Some("1"))
        .subscribe()
        .unwrap();
    assert_eq!(
        drain(&mut back),
        [msg(2, "two"), RESET_HISTORY.to_string(), msg(4, "four")]
    );
}

#[test]
fn resume_after_a_position_for_outer_layers() {
    let publisher: Publisher = Publisher::new();
    publisher.publish(Event::new("old"), ()).unwrap();
    let position = publisher.position();
    publisher.publish(Event::new("new"), ()).unwrap();
    let mut sub = publisher
        .subscriber(())
        .initial_events([Event::new("from the shared log").with_id(EventId::new("x-1").unwrap())])
        .resume_after(position)
        .subscribe()
        .unwrap();
    assert_eq!(
        drain(&mut sub),
        [
            "id: x-1\ndata: from the shared log\n\n".to_string(),
            msg(2, "new")
        ]
    );
}

/// A subscriber that never reads, next to ones that do.
fn slow_and_fast(policy: LagPolicy) -> (Publisher, Subscription, Vec<Subscription>, usize) {
    let bound = 4096;
    let config = PublisherConfig::new()
        .with_queue_bytes(bound)
        .with_max_event_bytes(1024)
        .with_lag_policy(policy);
    let publisher: Publisher = publisher(config);
    let slow = publisher.subscribe("a", (), []).unwrap();
    let fast = (0..3)
        .map(|_| publisher.subscribe("a", (), []).unwrap())
        .collect();
    (publisher, slow, fast, bound)
}

#[test]
fn a_slow_subscriber_is_disconnected_with_a_retry_hint_and_resumes_from_the_history() {
    let (publisher, mut slow, mut fast, bound) = slow_and_fast(LagPolicy::Disconnect);
    let data = "y".repeat(100);
    let mut lagged = 0;
    for i in 1..=200u64 {
        let sent = publisher.publish(Event::new(&data), "a").unwrap();
        lagged += sent.lagged();
        assert!(slow.stats().queued_bytes <= bound);
        for sub in &mut fast {
            assert_eq!(drain(sub), [msg(i, &data)]);
        }
    }
    assert_eq!(lagged, 1);
    let stats = slow.stats();
    assert!(stats.disconnected);
    assert!(stats.dropped > 0);
    // What was queued is gone; the hint comes, then the end.
    assert_eq!(drain(&mut slow), ["retry: 1000\n", "END"]);
    let pstats = publisher.stats();
    assert_eq!(pstats.lag_disconnects, 1);
    assert_eq!(pstats.subscribers, 3, "unregistered at once");
    drop(slow);

    // It comes back having read nothing: the history replays everything.
    let mut back = publisher
        .subscriber(())
        .channels("a")
        .last_event_id(Some("0"))
        .subscribe()
        .unwrap();
    let replayed = drain(&mut back);
    assert_eq!(replayed.len(), 200);
    assert_eq!(replayed[199], msg(200, &data));
}

#[test]
fn a_slow_subscriber_drops_oldest_and_gets_the_reset_event() {
    let (publisher, mut slow, mut fast, bound) = slow_and_fast(LagPolicy::DropOldest);
    let data = "z".repeat(100);
    for i in 1..=200u64 {
        publisher.publish(Event::new(&data), "a").unwrap();
        assert!(slow.stats().queued_bytes <= bound);
        for sub in &mut fast {
            assert_eq!(drain(sub), [msg(i, &data)]);
        }
    }
    let stats = slow.stats();
    assert!(!stats.disconnected);
    assert_eq!(stats.resets, 1);
    let got = drain(&mut slow);
    assert_eq!(got[0], RESET_LAGGED);
    // Then the newest events, in order, up to the last.
    let kept = got.len() as u64 - 1;
    assert_eq!(stats.dropped + kept, 200);
    for (offset, chunk) in got[1..].iter().enumerate() {
        assert_eq!(*chunk, msg(200 - kept + 1 + offset as u64, &data));
    }
    let pstats = publisher.stats();
    assert_eq!((pstats.lag_resets, pstats.dropped), (1, stats.dropped));
    // Caught up, it keeps receiving without another reset.
    publisher.publish(Event::new("after"), "a").unwrap();
    assert_eq!(drain(&mut slow), [msg(201, "after")]);
}

#[test]
fn initial_events_are_never_dropped_for_lag() {
    let config = PublisherConfig::new()
        .with_queue_bytes(2048)
        .with_max_event_bytes(1024)
        .with_lag_policy(LagPolicy::DropOldest);
    let publisher: Publisher = publisher(config);
    let big = "i".repeat(900);
    let mut sub = publisher
        .subscribe((), (), [Event::new(&big), Event::new(&big)])
        .unwrap();
    let sent = publisher.publish(Event::new(&"l".repeat(900)), ()).unwrap();
    assert_eq!((sent.reached(), sent.lagged()), (0, 1));
    let got = drain(&mut sub);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], RESET_LAGGED);
}

#[test]
fn wakes_a_waiting_subscriber() {
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&count));
    let mut cx = Context::from_waker(&waker);
    let publisher: Publisher = Publisher::new();
    let mut sub = publisher.subscribe((), (), []).unwrap();
    assert!(sub.poll_next(&mut cx).is_pending());
    publisher.publish(Event::new("x"), ()).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(sub.poll_next(&mut cx), Poll::Ready(Some(_))));
    assert!(sub.poll_next(&mut cx).is_pending());
    publisher.close();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert!(matches!(sub.poll_next(&mut cx), Poll::Ready(None)));
}

#[test]
fn closing_ends_streams_after_what_is_queued() {
    let publisher: Publisher = Publisher::new();
    let mut sub = publisher.subscribe((), (), []).unwrap();
    publisher.publish(Event::new("last"), ()).unwrap();
    let clone = publisher.clone();
    drop(publisher);
    assert!(!clone.is_closed(), "a clone keeps it open");
    drop(clone);
    assert_eq!(drain(&mut sub), [msg(1, "last"), "END".into()]);
}

/// The limit on channels counts distinct names: a name given again is
/// dropped before the limit applies, for publishing, subscribing and
/// listing alike (`ChannelList::parse`, the one place every layer parses
/// channels).
#[test]
fn repeated_channel_names_do_not_count_toward_the_limit() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_max_channels(2));
    let repeated = ["a", "b", "a", "b", "a", "a", "b"];
    let mut sub = publisher.subscribe(repeated, (), []).expect("two channels");
    assert_eq!(sub.channels().collect::<Vec<_>>(), ["a", "b"]);
    let sent = publisher
        .publish(Event::new("x"), repeated)
        .expect("two channels");
    assert_eq!(sent.reached(), 1, "queued once for a subscriber of both");
    assert_eq!(
        publisher.subscribers(repeated).expect("two channels").len(),
        1
    );
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(sub.poll_next(&mut cx), Poll::Ready(Some(_))));
    assert!(sub.poll_next(&mut cx).is_pending(), "one copy only");
    // A third distinct name is one too many, wherever it comes.
    for three in [
        &["a", "a", "b", "c"][..],
        &["c", "a", "b"],
        &["a", "b", "b", "c", "a"],
    ] {
        let error = ChannelError::TooMany { limit: 2 };
        assert_eq!(
            publisher.publish(Event::new("x"), three),
            Err(PublishError::Channel(error))
        );
        assert_eq!(
            publisher.subscribe(three, (), []).err(),
            Some(SubscribeError::Channel(error))
        );
    }
}

#[test]
fn refuses_bad_input_with_clear_errors() {
    let publisher: Publisher = publisher(
        PublisherConfig::new()
            .with_max_subscribers(2)
            .with_max_channels(3),
    );
    let e = Event::new("x");
    let long = "c".repeat(MAX_CHANNEL_LEN + 1);
    let cases: [(&[&str], ChannelError); 5] = [
        (&[], ChannelError::NoChannel),
        (&[""], ChannelError::Empty),
        (&[long.as_str()], ChannelError::TooLong),
        (&["a b"], ChannelError::InvalidChar(' ')),
        (&["a", "b", "c", "d"], ChannelError::TooMany { limit: 3 }),
    ];
    for (channels, error) in cases {
        assert_eq!(
            publisher.publish(e, channels),
            Err(PublishError::Channel(error))
        );
        assert_eq!(
            publisher.subscribe(channels, (), []).err(),
            Some(SubscribeError::Channel(error))
        );
        assert_eq!(publisher.subscribers(channels).err(), Some(error));
    }
    assert_eq!(publisher.stats().published, 0, "nothing published");

    let huge = "h".repeat(70_000);
    assert!(matches!(
        publisher.publish(Event::new(&huge), ()),
        Err(PublishError::EventTooLarge { limit: 65536, .. })
    ));
    let long_id = "i".repeat(MAX_ID_LEN + 1);
    assert_eq!(
        publisher.publish(e.with_id(EventId::new(&long_id).unwrap()), ()),
        Err(PublishError::IdTooLong)
    );
    for bad in [long_id.as_str(), "a\nb", "a\0b"] {
        assert_eq!(
            publisher
                .subscriber(())
                .last_event_id(Some(bad))
                .subscribe()
                .err(),
            Some(SubscribeError::LastEventId)
        );
    }
    assert!(matches!(
        publisher.subscribe((), (), [Event::new(&huge)]).err(),
        Some(SubscribeError::EventTooLarge { .. })
    ));
    let big = "b".repeat(60_000);
    assert!(matches!(
        publisher.subscribe((), (), [Event::new(&big); 5]).err(),
        Some(SubscribeError::InitialEventsTooLarge { .. })
    ));

    let _one = publisher.subscribe((), (), []).unwrap();
    let _two = publisher.subscribe((), (), []).unwrap();
    assert_eq!(
        publisher.subscribe((), (), []).err(),
        Some(SubscribeError::TooManySubscribers { limit: 2 })
    );
    publisher.close();
    assert_eq!(publisher.publish(e, ()), Err(PublishError::Closed));
    assert_eq!(publisher.stats().subscribers, 2);

    assert!(Publisher::<()>::with_config(PublisherConfig::new().with_queue_bytes(1000)).is_err());
    assert!(Publisher::<()>::with_config(PublisherConfig::new().with_first_id(0)).is_err());
}

#[test]
fn first_id_seeds_the_sequence() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_first_id(1_700_000_000_000));
    let mut sub = publisher.subscribe((), (), []).unwrap();
    publisher.publish(Event::new("x"), ()).unwrap();
    assert_eq!(drain(&mut sub), [msg(1_700_000_000_000, "x")]);
    // An id from before this run is unknown, not a wrong replay.
    assert_eq!(publisher.locate("5"), None);
    assert_eq!(
        publisher.locate("1699999999999").map(|p| p.get()),
        Some(1_699_999_999_999)
    );
}

#[test]
fn concurrent_publishers_give_every_subscriber_the_same_order() {
    let publisher: Publisher = publisher(PublisherConfig::new().with_queue_bytes(1 << 20));
    let mut subs: Vec<_> = (0..8)
        .map(|i| {
            publisher
                .subscribe(if i % 2 == 0 { "a" } else { "b" }, (), [])
                .unwrap()
        })
        .collect();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let publisher = publisher.clone();
            scope.spawn(move || {
                for i in 0..500 {
                    publisher
                        .publish(Event::new(&format!("{t}-{i}")), ["a", "b"])
                        .unwrap();
                }
            });
        }
    });
    let first = drain(&mut subs[0]);
    assert_eq!(first.len(), 2000);
    for (i, chunk) in first.iter().enumerate() {
        assert!(chunk.starts_with(&format!("id: {}\n", i + 1)), "{chunk}");
    }
    for sub in &mut subs[1..] {
        assert_eq!(drain(sub), first);
    }
}

#[test]
fn a_panicking_per_subscriber_closure_leaves_the_publisher_working() {
    let publisher: Publisher<u8> = Publisher::new();
    let _a = publisher.subscribe("x", 1, []).unwrap();
    let _b = publisher.subscribe("x", 2, []).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        publisher.publish_with(|_| panic!("user code"), "x")
    }));
    assert!(caught.is_err());
    assert_eq!(
        publisher
            .publish(Event::new("after"), "x")
            .unwrap()
            .reached(),
        2
    );
    // A resume across the interrupted publish is told, not silently short.
    let mut back = publisher
        .subscriber(9)
        .channels("x")
        .last_event_id(Some("0"))
        .subscribe()
        .unwrap();
    assert_eq!(
        drain(&mut back),
        [RESET_HISTORY.to_string(), msg(2, "after")]
    );
}

mod resume_model {
    //! Resume against a model: whatever the history size and the traffic,
    //! a resumed subscriber gets exactly what it missed on its channels and
    //! then live events, or the reset event first when some of what it
    //! missed is gone (and only when something after its id is gone).

    use proptest::prelude::*;

    use super::*;

    fn channels() -> impl Strategy<Value = Vec<&'static str>> {
        proptest::sample::subsequence(vec!["a", "b", "c"], 1..=2)
    }

    /// The positions of the chunks (`0` for the reset event).
    fn positions(sub: &mut Subscription) -> Vec<u64> {
        drain(sub)
            .iter()
            .map(|chunk| {
                if chunk == RESET_HISTORY {
                    0
                } else {
                    chunk["id: ".len()..chunk.find('\n').unwrap()]
                        .parse()
                        .unwrap()
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn resume_is_exact_or_says_so(
            history in 0usize..12,
            before in proptest::collection::vec(channels(), 0..20),
            read in 0usize..20,
            during in proptest::collection::vec(channels(), 0..20),
            after in proptest::collection::vec(channels(), 0..5),
            mine in channels(),
        ) {
            let publisher: Publisher = Publisher::with_config(PublisherConfig::new().with_history(history, 1 << 20)).unwrap();
            let mut all: Vec<Vec<&str>> = Vec::new();
            let publish = |channels: &Vec<&'static str>, all: &mut Vec<Vec<&str>>| {
                let n = all.len() + 1;
                publisher.publish(Event::new(&n.to_string()), channels).unwrap();
                all.push(channels.clone());
            };

            let mut first = publisher.subscribe(&mine, (), []).unwrap();
            for channels in &before {
                publish(channels, &mut all);
            }
            let seen = positions(&mut first);
            let k = seen.get(read.min(seen.len()).wrapping_sub(1)).copied().unwrap_or(0);
            drop(first);
            for channels in &during {
                publish(channels, &mut all);
            }
            let until = all.len() as u64;
            let mut back = publisher.subscriber(()).channels(&mine).last_event_id(Some(&k.to_string())).subscribe().unwrap();
            for channels in &after {
                publish(channels, &mut all);
            }
            let got = positions(&mut back);

            let total = all.len() as u64;
            let evicted = |p: u64| p + (history as u64) <= total;
            let on_mine = |p: u64| all[p as usize - 1].iter().any(|c| mine.contains(c));
            let missed: Vec<u64> = (k + 1..=until).filter(|&p| on_mine(p)).collect();
            let live: Vec<u64> = (until + 1..=total).filter(|&p| on_mine(p)).collect();
            let must_reset = missed.iter().any(|&p| evicted(p));
            let may_reset = k < until && (k + 1..=total).any(evicted);

            if got.first() == Some(&0) {
                prop_assert!(may_reset, "needless reset: {got:?}");
                let kept: Vec<u64> = missed.iter().copied().filter(|&p| !evicted(p)).chain(live).collect();
                prop_assert_eq!(&got[1..], &kept[..]);
            } else {
                prop_assert!(!must_reset, "missing reset: {got:?}, missed {missed:?}");
                let expected: Vec<u64> = missed.into_iter().chain(live).collect();
                prop_assert_eq!(got, expected);
            }
        }
    }
}

/// The predecessors' `close` action: the server ends the streams of one
/// channel's subscribers, after what is queued for them and a farewell that
/// is neither numbered nor replayed; others are untouched and the channel
/// can be joined again.
#[test]
fn disconnect_ends_one_channels_streams_with_a_farewell() {
    let publisher: Publisher = publisher(PublisherConfig::new());
    let mut chat = publisher.subscribe("chat", (), []).unwrap();
    let mut both = publisher.subscribe(["chat", "news"], (), []).unwrap();
    let mut news = publisher.subscribe("news", (), []).unwrap();
    publisher.publish(Event::new("before"), "chat").unwrap();
    let farewell = Event::new("bye").with_type(EventType::new("sse-close").unwrap());
    assert_eq!(
        publisher.disconnect("chat", Some(farewell.into())).unwrap(),
        2
    );
    let expected = [
        msg(1, "before"),
        "event: sse-close\ndata: bye\n\n".to_string(),
        "END".to_string(),
    ];
    assert_eq!(drain(&mut chat), expected);
    assert_eq!(drain(&mut both), expected);
    assert_eq!(publisher.subscribers("chat").unwrap().len(), 0);
    assert_eq!(publisher.subscribers("news").unwrap().len(), 1);
    assert_eq!(publisher.stats().subscribers, 1);

    publisher
        .publish(Event::new("after"), ["chat", "news"])
        .unwrap();
    assert_eq!(drain(&mut news), [msg(2, "after")]);
    // Coming back from the last id it saw: the missed event, no farewell.
    let mut again = publisher
        .subscriber(())
        .channels("chat")
        .last_event_id(Some("1"))
        .subscribe()
        .unwrap();
    assert_eq!(drain(&mut again), [msg(2, "after")]);
    assert_eq!(publisher.disconnect("chat", None).unwrap(), 1);
    assert_eq!(drain(&mut again), ["END"]);
    assert_eq!(publisher.disconnect("nobody", None).unwrap(), 0);
    assert!(matches!(
        publisher.disconnect("bad\nname", None),
        Err(PublishError::Channel(_))
    ));
}

/// A layer whose history has a gap ends every stream with a retry hint;
/// the publisher stays open and the clients come back.
#[test]
fn disconnect_all_ends_every_stream_once_and_keeps_the_publisher_open() {
    let publisher: Publisher = publisher(PublisherConfig::new());
    let mut a = publisher.subscribe("a", (), []).unwrap();
    let mut both = publisher.subscribe(["a", "b"], (), []).unwrap();
    publisher.publish(Event::new("queued"), "a").unwrap();
    assert_eq!(
        publisher
            .disconnect_all(Some(sse_proto::Frame::Retry(100)))
            .unwrap(),
        2
    );
    let expected = [
        msg(1, "queued"),
        "retry: 100\n".to_string(),
        "END".to_string(),
    ];
    assert_eq!(drain(&mut a), expected);
    // On two channels, it gets the farewell once.
    assert_eq!(drain(&mut both), expected);
    assert_eq!(publisher.stats().subscribers, 0);
    assert!(!publisher.is_closed());
    assert_eq!(publisher.disconnect_all(None).unwrap(), 0);

    let mut again = publisher
        .subscriber(())
        .channels("b")
        .last_event_id(Some("1"))
        .subscribe()
        .unwrap();
    publisher.publish(Event::new("after"), "b").unwrap();
    assert_eq!(drain(&mut again), [msg(2, "after")]);
}

/// A server shutting down tells each subscriber when to come back.
#[test]
fn close_with_a_retry_hint() {
    let publisher: Publisher = publisher(PublisherConfig::new());
    let mut a = publisher.subscribe("a", (), []).unwrap();
    let mut b = publisher.subscribe("b", (), []).unwrap();
    publisher.publish(Event::new("last"), "a").unwrap();
    publisher
        .close_with(Some(sse_proto::Frame::Retry(2500)))
        .unwrap();
    assert_eq!(
        drain(&mut a),
        [
            msg(1, "last"),
            "retry: 2500\n".to_string(),
            "END".to_string()
        ]
    );
    assert_eq!(drain(&mut b), ["retry: 2500\n", "END"]);
    assert!(publisher.is_closed());
    assert!(matches!(
        publisher.publish(Event::new("x"), "a"),
        Err(PublishError::Closed)
    ));
}
