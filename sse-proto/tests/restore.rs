//! Ids that never repeat across runs ([`IdPrefix`]), and a publisher
//! started again from stored events ([`Publisher::restore`]).
#![cfg(feature = "std")]

use std::task::{Context, Poll, Waker};

use sse_proto::Event;
use sse_proto::publisher::{
    IdPrefix, Position, PublishError, Publisher, PublisherConfig, RestoreError, Subscription,
};

const RESET_HISTORY: &str = "event: sse-reset\ndata: history\n\n";

/// Two runs of one server, started in the same millisecond.
const RUN_A: IdPrefix = IdPrefix::new(1_700_000_000_000, 0x1111_1111);
const RUN_B: IdPrefix = IdPrefix::new(1_700_000_000_000, 0x2222_2222);

/// Everything the subscription has ready now, as text.
fn drain<P>(sub: &mut Subscription<P>) -> Vec<String> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    while let Poll::Ready(Some(chunk)) = sub.poll_next(&mut cx) {
        out.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    out
}

fn with_prefix(prefix: IdPrefix) -> PublisherConfig {
    PublisherConfig::new().with_id_prefix(Some(prefix))
}

fn msg(prefix: IdPrefix, n: u64, data: &str) -> String {
    format!("id: {prefix}-{n}\ndata: {data}\n\n")
}

fn resume(publisher: &Publisher, channels: &[&str], id: &str) -> Subscription {
    publisher
        .subscriber(())
        .channels(channels)
        .last_event_id(Some(id))
        .subscribe()
        .unwrap()
}

#[test]
fn generated_ids_carry_the_runs_prefix() {
    let publisher: Publisher = Publisher::with_config(with_prefix(RUN_A)).unwrap();
    let mut sub = publisher.subscribe("news", (), []).unwrap();
    let first = publisher.publish(Event::new("one"), "news").unwrap();
    assert_eq!(
        first.id().map(|id| id.to_string()),
        Some(format!("{RUN_A}-1"))
    );
    assert_eq!(first.position(), Position::new(1));
    // Per-subscriber events get the prefixed id too.
    publisher
        .publish_with(|_| Some(sse_proto::EventBuf::new("two")), "news")
        .unwrap();
    assert_eq!(
        drain(&mut sub),
        [msg(RUN_A, 1, "one"), msg(RUN_A, 2, "two")]
    );
    assert_eq!(
        publisher.locate(&format!("{RUN_A}-1")),
        Some(Position::new(1))
    );
}

#[test]
fn an_id_of_another_run_gets_the_reset_event_then_live_events() {
    // Run A issued 1 to 5; run B (same millisecond, other random bits)
    // issued 1 to 3. A client of run A comes back to run B with A's id 2.
    let a: Publisher = Publisher::with_config(with_prefix(RUN_A)).unwrap();
    let b: Publisher = Publisher::with_config(with_prefix(RUN_B)).unwrap();
    for n in 1..=5 {
        a.publish(Event::new(&format!("a{n}")), "news").unwrap();
    }
    for n in 1..=3 {
        b.publish(Event::new(&format!("b{n}")), "news").unwrap();
    }
    for foreign in [format!("{RUN_A}-2"), "2".to_string(), format!("{RUN_B}-9")] {
        assert_eq!(b.locate(&foreign), None, "{foreign}");
        let mut back = resume(&b, &["news"], &foreign);
        b.publish(Event::new("live"), "news").unwrap();
        let got = drain(&mut back);
        assert_eq!(got.len(), 2, "{foreign}: {got:?}");
        assert_eq!(got[0], RESET_HISTORY, "{foreign}: never a partial replay");
        assert!(got[1].ends_with("data: live\n\n"), "{foreign}: {got:?}");
    }
    // Its own ids still resume exactly.
    let mut own = resume(&b, &["news"], &format!("{RUN_B}-2"));
    let got = drain(&mut own);
    assert_eq!(got[0], msg(RUN_B, 3, "b3"));
    assert!(!got.contains(&RESET_HISTORY.to_string()), "{got:?}");
}

#[test]
fn without_a_prefix_ids_stay_plain_decimal() {
    let publisher: Publisher = Publisher::new();
    let published = publisher.publish(Event::new("x"), ()).unwrap();
    assert_eq!(published.id().map(|id| id.to_string()), Some("1".into()));
    assert_eq!(publisher.locate(&format!("{RUN_A}-1")), None);
}

/// Events as a store keeps them: position, data, channels.
type Stored = Vec<(u64, String, Vec<&'static str>)>;

/// Run A, and what it published as a store would keep it.
fn run_a(events: u64) -> (Publisher, Stored) {
    let a: Publisher = Publisher::with_config(with_prefix(RUN_A)).unwrap();
    let mut stored = Vec::new();
    for n in 1..=events {
        let channels = if n % 2 == 0 {
            vec!["a"]
        } else {
            vec!["a", "b"]
        };
        let data = format!("e{n}");
        let published = a.publish(Event::new(&data), channels.as_slice()).unwrap();
        stored.push((published.position().get(), data, channels));
    }
    (a, stored)
}

#[test]
fn a_restored_publisher_replays_what_the_earlier_run_sent_and_goes_on() {
    let (a, stored) = run_a(6);
    // What a client of run A that saw event 2 would get from run A.
    let from_a = drain(&mut resume(&a, &["b"], &format!("{RUN_A}-2")));
    drop(a);

    let again: Publisher = Publisher::with_config(with_prefix(RUN_A)).unwrap();
    for (position, data, channels) in &stored {
        again
            .restore(
                Position::new(*position),
                Event::new(data),
                channels.as_slice(),
            )
            .unwrap();
    }
    again.restore_position(Position::new(6)).unwrap();
    assert_eq!(again.stats().history_events, 6);
    assert_eq!(again.stats().published, 0, "restored is not published");

    let from_again = drain(&mut resume(&again, &["b"], &format!("{RUN_A}-2")));
    assert_eq!(from_again, from_a);
    assert_eq!(
        from_again,
        [msg(RUN_A, 3, "e3"), msg(RUN_A, 5, "e5")],
        "exactly the missed events of its channel, with their ids"
    );
    // The sequence goes on: no id is issued twice.
    let next = again.publish(Event::new("e7"), "a").unwrap();
    assert_eq!(
        next.id().map(|id| id.to_string()),
        Some(format!("{RUN_A}-7"))
    );
}

#[test]
fn positions_missing_from_the_store_reset_a_resume_across_them() {
    let (_, stored) = run_a(6);
    let again: Publisher = Publisher::with_config(with_prefix(RUN_A)).unwrap();
    // 1 to 3 were trimmed from the store; 4 to 6 are kept.
    for (position, data, channels) in &stored[3..] {
        again
            .restore(
                Position::new(*position),
                Event::new(data),
                channels.as_slice(),
            )
            .unwrap();
    }
    again.restore_position(Position::new(6)).unwrap();
    let after_4_to_6 = [
        msg(RUN_A, 4, "e4"),
        msg(RUN_A, 5, "e5"),
        msg(RUN_A, 6, "e6"),
    ];
    // Saw 2, missed 3: told so, then what is left.
    let mut before = resume(&again, &["a"], &format!("{RUN_A}-2"));
    let mut expected = vec![RESET_HISTORY.to_string()];
    expected.extend(after_4_to_6.clone());
    assert_eq!(drain(&mut before), expected);
    // Saw 3: nothing is missing.
    let mut edge = resume(&again, &["a"], &format!("{RUN_A}-3"));
    assert_eq!(drain(&mut edge), after_4_to_6);
}

#[test]
fn positions_taken_after_the_restored_events_drop_them_as_the_history_would() {
    let (_, stored) = run_a(8);
    let again: Publisher = Publisher::with_config(with_prefix(RUN_A)).unwrap();
    for (position, data, channels) in &stored[3..6] {
        again
            .restore(
                Position::new(*position),
                Event::new(data),
                channels.as_slice(),
            )
            .unwrap();
    }
    // 7 and 8 were taken but are not stored: the history only loses its
    // oldest events, so 4 to 6 go too.
    again.restore_position(Position::new(8)).unwrap();
    assert_eq!(again.position(), Position::new(8));
    assert_eq!(again.stats().history_events, 0);
    for seen in ["3", "6", "7"] {
        let mut back = resume(&again, &["a"], &format!("{RUN_A}-{seen}"));
        assert_eq!(drain(&mut back), [RESET_HISTORY], "saw {seen}");
    }
    let mut current = resume(&again, &["a"], &format!("{RUN_A}-8"));
    assert_eq!(drain(&mut current), Vec::<String>::new());
    assert_eq!(
        again.publish(Event::new("e9"), "a").unwrap().position(),
        Position::new(9)
    );
}

#[test]
fn restored_events_are_kept_within_the_history_bounds() {
    let config = with_prefix(RUN_A).with_history(3, 1 << 20);
    let again: Publisher = Publisher::with_config(config).unwrap();
    for n in 1..=10u64 {
        again
            .restore(Position::new(n), Event::new(&format!("e{n}")), "a")
            .unwrap();
    }
    assert_eq!(again.stats().history_events, 3);
    let mut old = resume(&again, &["a"], &format!("{RUN_A}-5"));
    assert_eq!(
        drain(&mut old),
        [
            RESET_HISTORY.to_string(),
            msg(RUN_A, 8, "e8"),
            msg(RUN_A, 9, "e9"),
            msg(RUN_A, 10, "e10"),
        ]
    );
}

#[test]
fn restore_refuses_what_it_cannot_do_and_changes_nothing() {
    let config = with_prefix(RUN_A).with_max_event_bytes(100);
    let publisher: Publisher = Publisher::with_config(config).unwrap();
    publisher
        .restore(Position::new(5), Event::new("five"), "a")
        .unwrap();
    for stale in [3, 5] {
        assert_eq!(
            publisher.restore(Position::new(stale), Event::new("x"), "a"),
            Err(RestoreError::NotAfter {
                last: Position::new(5)
            })
        );
    }
    assert_eq!(
        publisher.restore_position(Position::new(4)),
        Err(RestoreError::NotAfter {
            last: Position::new(5)
        })
    );
    assert_eq!(
        publisher.restore(Position::new((1 << 63) + 1), Event::new("x"), "a"),
        Err(RestoreError::NotAfter {
            last: Position::new(5)
        })
    );
    let large = "x".repeat(200);
    assert!(matches!(
        publisher.restore(Position::new(6), Event::new(&large), "a"),
        Err(RestoreError::Publish(PublishError::EventTooLarge { .. }))
    ));
    assert!(matches!(
        publisher.restore(Position::new(6), Event::new("x"), "bad name"),
        Err(RestoreError::Publish(PublishError::Channel(_)))
    ));
    assert_eq!(publisher.position(), Position::new(5));
    assert_eq!(publisher.stats().history_events, 1);

    let _listener = publisher.subscribe("a", (), []).unwrap();
    assert_eq!(
        publisher.restore(Position::new(6), Event::new("x"), "a"),
        Err(RestoreError::Subscribed)
    );
    assert_eq!(
        publisher.restore_position(Position::new(9)),
        Err(RestoreError::Subscribed)
    );
    publisher.close();
    assert_eq!(
        publisher.restore(Position::new(6), Event::new("x"), "a"),
        Err(RestoreError::Publish(PublishError::Closed))
    );
}

#[test]
fn check_event_says_what_a_publish_at_that_position_would_send() {
    let config = with_prefix(RUN_A).with_max_event_bytes(200);
    let publisher: Publisher = Publisher::with_config(config).unwrap();
    let mut sub = publisher.subscribe("a", (), []).unwrap();
    let own = Event::new("own").with_id(sse_proto::EventId::new("mine-1").unwrap());
    let long = "y".repeat(120);
    let events = [Event::new("short"), Event::new(&long), own];
    let mut expected_bytes = 0;
    for (n, event) in events.into_iter().enumerate() {
        let position = Position::new(n as u64 + 1);
        let len = config.check_event(event, position).unwrap();
        publisher.publish(event, "a").unwrap();
        let sent = drain(&mut sub);
        assert_eq!(sent.len(), 1);
        assert_eq!(len, sent[0].len(), "{sent:?}");
        expected_bytes += config.history_cost(len);
    }
    // The history counts each event at the cost the config states.
    assert_eq!(publisher.stats().history_bytes, expected_bytes);
    assert!(config.history_holds(3, expected_bytes));
    assert!(!config.history_holds(config.history_events() + 1, 0));
    // Refused as the publish would be: the generated id makes it too long.
    let edge = "z".repeat(200 - "data: \n\n".len() - format!("id: {RUN_A}-4\n").len());
    assert!(
        config
            .check_event(Event::new(&edge), Position::new(4))
            .is_ok()
    );
    assert!(matches!(
        config.check_event(Event::new(&edge), Position::new(10)),
        Err(PublishError::EventTooLarge { .. })
    ));
}
