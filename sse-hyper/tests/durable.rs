//! The durable back end through its public API: history and ids across a
//! reopen, the history bound, concurrent publishes sharing commits, and
//! one process per directory. (The real binary killed with SIGKILL is in
//! sse-tokio's `cli_serve` tests.)
#![cfg(feature = "durable")]

use std::collections::HashSet;
use std::task::{Context, Poll, Waker};

use futures_lite::future::block_on;
use sse_hyper::durable::{DurableConfig, DurablePublisher, OpenError};
use sse_hyper::server::Backend;
use sse_proto::Event;
use sse_proto::publisher::{Position, PublisherConfig, Subscription};

const RESET_HISTORY: &str = "event: sse-reset\ndata: history\n\n";

fn open(dir: &std::path::Path, config: PublisherConfig) -> DurablePublisher {
    DurablePublisher::open(dir, config).expect("open the data directory")
}

/// Publishes and waits for the answer; returns the id.
fn publish(durable: &DurablePublisher, data: &str, channels: &[&str]) -> String {
    let reply = block_on(durable.publish(Event::new(data), channels)).expect("published");
    reply.id.expect("an id")
}

fn resume(durable: &DurablePublisher, channels: &[&str], id: &str) -> Subscription {
    durable
        .publisher()
        .subscriber(())
        .channels(channels)
        .last_event_id(Some(id))
        .subscribe()
        .expect("subscribed")
}

fn drain(sub: &mut Subscription) -> Vec<String> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    while let Poll::Ready(Some(chunk)) = sub.poll_next(&mut cx) {
        out.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    out
}

#[test]
fn a_reopened_store_resumes_clients_exactly_and_goes_on_with_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let durable = open(dir.path(), PublisherConfig::new());
    let prefix = durable.id_prefix();
    let mut ids = Vec::new();
    for n in 1..=10 {
        let channels: &[&str] = if n % 3 == 0 { &["b"] } else { &["a", "b"] };
        ids.push(publish(&durable, &format!("e{n}"), channels));
    }
    assert_eq!(ids[0], format!("{prefix}-1"));
    assert_eq!(ids[9], format!("{prefix}-10"));
    let before = drain(&mut resume(&durable, &["a"], &ids[3]));
    drop(durable);

    let again = open(dir.path(), PublisherConfig::new());
    assert_eq!(again.id_prefix(), prefix);
    assert_eq!(again.stats().last, Position::new(10));
    let after = drain(&mut resume(&again, &["a"], &ids[3]));
    assert_eq!(after, before, "the same replay after a restart");
    let expected: Vec<String> = [5, 7, 8, 10]
        .iter()
        .map(|n| format!("id: {prefix}-{n}\ndata: e{n}\n\n"))
        .collect();
    assert_eq!(after, expected, "exactly the missed events on channel a");
    // The sequence goes on; no id is given twice.
    assert_eq!(publish(&again, "e11", &["a"]), format!("{prefix}-11"));
    let health = Backend::health(&again);
    assert_eq!(health.kind, "durable");
    assert!(health.up);
    assert_eq!(
        health.link.map(|link| link.cursor),
        Some(format!("{prefix}-11"))
    );
}

#[test]
fn a_client_older_than_the_kept_history_gets_the_reset_event_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = PublisherConfig::new().with_history(5, 1 << 20);
    let durable = open(dir.path(), config);
    let ids: Vec<String> = (1..=12)
        .map(|n| publish(&durable, &format!("e{n}"), &["a"]))
        .collect();
    drop(durable);

    let again = open(dir.path(), config);
    assert_eq!(again.publisher().stats().history_events, 5);
    let got = drain(&mut resume(&again, &["a"], &ids[2]));
    let prefix = again.id_prefix();
    let mut expected = vec![RESET_HISTORY.to_string()];
    expected.extend((8..=12).map(|n| format!("id: {prefix}-{n}\ndata: e{n}\n\n")));
    assert_eq!(got, expected);
    // An id from another database (another prefix) is unknown.
    let other = tempfile::tempdir().unwrap();
    let stranger = open(other.path(), PublisherConfig::new());
    let foreign = publish(&stranger, "x", &["a"]);
    assert_ne!(stranger.id_prefix(), prefix);
    assert_eq!(
        drain(&mut resume(&again, &["a"], &foreign)),
        [RESET_HISTORY]
    );
}

#[test]
fn concurrent_publishes_share_commits_and_each_gets_its_own_id_in_order() {
    const THREADS: usize = 8;
    const EACH: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let durable = open(dir.path(), PublisherConfig::new().with_queue_bytes(4 << 20));
    let prefix = durable.id_prefix();
    let mut live = durable.publisher().subscribe("all", (), []).unwrap();

    let replies: Vec<(String, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let durable = durable.clone();
                scope.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let data = format!("t{t} i{i}");
                            let id = publish(&durable, &data, &["all"]);
                            (id, data)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });

    let total = THREADS * EACH;
    let ids: HashSet<&str> = replies.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), total, "every publish got its own id");
    let expected_ids: HashSet<String> = (1..=total).map(|n| format!("{prefix}-{n}")).collect();
    assert_eq!(
        ids,
        expected_ids.iter().map(String::as_str).collect(),
        "positions 1 to {total}, none skipped"
    );
    // Each reply's id is the one its event went out with, in position order.
    let sent = drain(&mut live);
    assert_eq!(sent.len(), total);
    for (n, chunk) in (1..=total).zip(&sent) {
        assert!(chunk.starts_with(&format!("id: {prefix}-{n}\n")), "{chunk}");
    }
    for (id, data) in &replies {
        assert!(
            sent.contains(&format!("id: {id}\ndata: {data}\n\n")),
            "{id} {data}"
        );
    }
    // Per thread, answers come in the order the thread published.
    for t in 0..THREADS {
        let positions: Vec<u64> = replies
            .iter()
            .filter(|(_, data)| data.starts_with(&format!("t{t} ")))
            .map(|(id, _)| prefix.position_of(id).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }
    let stats = durable.stats();
    assert_eq!(stats.events, total as u64);
    assert!(
        stats.commits >= 1 && stats.commits <= stats.events,
        "{stats:?}"
    );
    drop(live);
    drop(durable);

    // What was sent is what is stored: a fresh client after a restart gets
    // the same bytes.
    let again = open(dir.path(), PublisherConfig::new().with_queue_bytes(4 << 20));
    let replayed = drain(&mut resume(&again, &["all"], &format!("{prefix}-0")));
    assert_eq!(replayed, sent);
}

#[test]
fn unsynced_commits_keep_everything_across_a_clean_reopen_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = PublisherConfig::new();
    let durable = DurablePublisher::<()>::open_with(
        dir.path(),
        config,
        DurableConfig::new().with_sync(false),
    )
    .unwrap();
    let mut last = String::new();
    for n in 1..=20 {
        last = publish(&durable, &format!("e{n}"), &["a"]);
    }
    drop(durable);
    let again = open(dir.path(), config);
    assert_eq!(again.id_prefix().position_of(&last), Some(20));
    assert_eq!(again.publisher().stats().history_events, 20);
}

#[test]
fn one_directory_serves_one_publisher_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), PublisherConfig::new());
    let second = DurablePublisher::<()>::open(dir.path(), PublisherConfig::new());
    assert!(matches!(second, Err(OpenError::Storage(_))), "{second:?}");
    drop(first);
    assert!(DurablePublisher::<()>::open(dir.path(), PublisherConfig::new()).is_ok());
}

#[test]
fn bad_channels_are_refused_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let durable = open(dir.path(), PublisherConfig::new());
    let refused = block_on(durable.publish(Event::new("x"), ["bad name"]));
    assert!(refused.is_err());
    assert_eq!(durable.stats().events, 0);
    assert_eq!(
        publish(&durable, "ok", &["a"]),
        format!("{}-1", durable.id_prefix())
    );
}
