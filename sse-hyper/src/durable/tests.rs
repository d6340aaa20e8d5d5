//! The store and the writer's group commit, driven directly: one batch is
//! one transaction, in order, and the stored events follow the history's
//! bounds exactly.

use std::task::{Context, Poll, Waker};

use futures_channel::oneshot;
use sse_proto::Event;
use sse_proto::publisher::{
    ChannelList, IdPrefix, PublishError, Publisher, PublisherConfig, Subscription,
};

use super::record;
use super::store::Store;
use super::writer::{Health, Job, commit_batch};
use crate::server::{BackendError, PublishReply};

const PREFIX: IdPrefix = IdPrefix::new(1_700_000_000_000, 0xabcd_ef01);

type Reply = oneshot::Receiver<Result<PublishReply, BackendError>>;

fn open(dir: &std::path::Path, config: PublisherConfig) -> (Store, Publisher) {
    Store::open(dir, config, PREFIX, true).expect("open the store")
}

/// A publish of `data` to `channels`, as the back end queues it.
fn job(data: &str, channels: &[&str]) -> (Job, Reply) {
    let channels = ChannelList::parse(channels.iter().copied(), 16).unwrap();
    let record = record::encode(Event::new(data), &channels).unwrap();
    let (reply, answer) = oneshot::channel();
    (Job { record, reply }, answer)
}

fn answered(mut answer: Reply) -> Result<PublishReply, BackendError> {
    answer
        .try_recv()
        .expect("answered")
        .expect("answered before the batch returned")
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
fn a_batch_is_one_transaction_committed_then_sent_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, publisher) = open(dir.path(), PublisherConfig::new());
    let health = Health::new(0);
    let mut sub = publisher.subscribe("news", (), []).unwrap();

    let (jobs, answers): (Vec<_>, Vec<_>) =
        (1..=50).map(|n| job(&format!("e{n}"), &["news"])).unzip();
    commit_batch(&mut store, &publisher, jobs, &health);

    assert_eq!(health.commits.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(health.events.load(std::sync::atomic::Ordering::Relaxed), 50);
    assert_eq!(store.positions(), (1..=50).collect::<Vec<u64>>());
    for (n, answer) in (1..=50).zip(answers) {
        let reply = answered(answer).unwrap();
        assert_eq!(reply.id, Some(format!("{PREFIX}-{n}")));
        assert_eq!(reply.subscribers, 1);
    }
    let sent = drain(&mut sub);
    let expected: Vec<String> = (1..=50)
        .map(|n| format!("id: {PREFIX}-{n}\ndata: e{n}\n\n"))
        .collect();
    assert_eq!(sent, expected);
}

#[test]
fn a_refused_publish_takes_no_position_and_the_rest_of_its_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = PublisherConfig::new().with_max_event_bytes(100);
    let (mut store, publisher) = open(dir.path(), config);
    let health = Health::new(0);
    let large = "x".repeat(200);
    let (jobs, answers): (Vec<_>, Vec<_>) =
        [job("a", &["c"]), job(&large, &["c"]), job("b", &["c"])]
            .into_iter()
            .unzip();
    commit_batch(&mut store, &publisher, jobs, &health);
    let mut answers = answers.into_iter().map(answered);
    assert_eq!(
        answers.next().unwrap().unwrap().id,
        Some(format!("{PREFIX}-1"))
    );
    assert!(matches!(
        answers.next().unwrap(),
        Err(BackendError::Publish(PublishError::EventTooLarge { .. }))
    ));
    assert_eq!(
        answers.next().unwrap().unwrap().id,
        Some(format!("{PREFIX}-2"))
    );
    assert_eq!(store.positions(), [1, 2]);
}

#[test]
fn the_store_holds_exactly_what_the_history_holds_and_reopens_to_it() {
    for (events, bytes) in [(5, 1 << 20), (1000, 700), (0, 0)] {
        let dir = tempfile::tempdir().unwrap();
        let config = PublisherConfig::new().with_history(events, bytes);
        let (mut store, publisher) = open(dir.path(), config);
        let health = Health::new(0);
        for round in 0..4 {
            let jobs = (0..4)
                .map(|n| job(&format!("round {round} event {n}"), &["a"]).0)
                .collect();
            commit_batch(&mut store, &publisher, jobs, &health);
            let stats = publisher.stats();
            assert_eq!(
                store.stored(),
                (stats.history_events, stats.history_bytes),
                "bounds {events}/{bytes}, round {round}"
            );
        }
        let kept = store.positions();
        assert_eq!(kept.len(), publisher.stats().history_events);
        assert!(kept.iter().all(|&p| p > 16 - kept.len() as u64), "{kept:?}");
        drop((store, publisher));

        let (store, publisher) = open(dir.path(), config);
        assert_eq!(store.positions(), kept, "bounds {events}/{bytes}");
        assert_eq!(store.last(), 16);
        assert_eq!(publisher.position().get(), 16);
        assert_eq!(publisher.stats().history_events, kept.len());
        assert_eq!(publisher.config().id_prefix(), Some(PREFIX));
    }
}

#[test]
fn smaller_bounds_at_the_next_open_trim_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, publisher) = open(dir.path(), PublisherConfig::new());
    let jobs = (1..=10).map(|n| job(&format!("e{n}"), &["a"]).0).collect();
    commit_batch(&mut store, &publisher, jobs, &Health::new(0));
    drop((store, publisher));

    let (store, publisher) = open(dir.path(), PublisherConfig::new().with_history(3, 1 << 20));
    assert_eq!(store.positions(), [8, 9, 10]);
    assert_eq!(publisher.stats().history_events, 3);
}

#[test]
fn the_prefix_of_a_new_database_is_kept_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path(), PublisherConfig::new());
    assert_eq!(store.prefix(), PREFIX);
    drop(store);
    let other = IdPrefix::new(1, 2);
    let (store, publisher) =
        Store::open::<()>(dir.path(), PublisherConfig::new(), other, true).unwrap();
    assert_eq!(store.prefix(), PREFIX, "the stored prefix wins");
    assert_eq!(publisher.config().id_prefix(), Some(PREFIX));
}
