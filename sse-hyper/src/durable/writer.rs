//! The writer thread: takes every publish waiting, commits them in one
//! transaction (group commit), then fans them out and answers each.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use futures_channel::oneshot;
use sse_proto::publisher::{Position, Publisher};

use super::record;
use super::store::{Staged, Store};
use crate::server::{BackendError, PublishReply};

/// One publish waiting for the writer: the event as it will be stored,
/// and where to answer.
pub(super) struct Job {
    pub(super) record: Vec<u8>,
    pub(super) reply: oneshot::Sender<Result<PublishReply, BackendError>>,
}

/// What the writer reports, read by the back end's health and stats.
#[derive(Debug)]
pub(super) struct Health {
    up: AtomicBool,
    /// The newest position committed.
    pub(super) last: AtomicU64,
    /// Transactions committed since the start.
    pub(super) commits: AtomicU64,
    /// Events committed since the start.
    pub(super) events: AtomicU64,
    /// When `up` last changed, and the last storage error.
    state: Mutex<(SystemTime, Option<String>)>,
}

impl Health {
    pub(super) fn new(last: u64) -> Self {
        Self {
            up: AtomicBool::new(true),
            last: AtomicU64::new(last),
            commits: AtomicU64::new(0),
            events: AtomicU64::new(0),
            state: Mutex::new((SystemTime::now(), None)),
        }
    }

    pub(super) fn up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// When the state last changed, and the last error.
    pub(super) fn state(&self) -> (SystemTime, Option<String>) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, up: bool, error: Option<String>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if self.up.swap(up, Ordering::AcqRel) != up {
            state.0 = SystemTime::now();
        }
        if error.is_some() {
            state.1 = error;
        }
    }

    /// Marks the writer gone (its thread ended).
    pub(super) fn stopped(&self) {
        self.set(false, Some("the writer stopped".to_owned()));
    }
}

/// The reply to a publish the writer could not commit.
pub(super) fn unavailable(message: &str) -> BackendError {
    BackendError::Unavailable(Box::new(std::io::Error::other(message.to_owned())))
}

/// Runs until every sender is gone: each round takes everything queued
/// (up to `max_batch`), so publishes that arrive while a commit waits for
/// the disk share the next one.
pub(super) fn run<P>(
    mut store: Store,
    publisher: Publisher<P>,
    jobs: Receiver<Job>,
    health: Arc<Health>,
    max_batch: usize,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut store, &publisher, batch, &health);
    }
    health.stopped();
}

/// Checks, commits, fans out and answers one batch, in order.
pub(super) fn commit_batch<P>(
    store: &mut Store,
    publisher: &Publisher<P>,
    batch: Vec<Job>,
    health: &Health,
) {
    let mut staged = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    let mut next = store.last();
    for job in batch {
        let checked = match record::decode(&job.record) {
            Ok(stored) => store
                .config()
                .check_event(stored.event, Position::new(next + 1))
                .map_err(BackendError::Publish),
            // Encoded by this process a moment ago: cannot happen.
            Err(error) => Err(unavailable(&error.to_string())),
        };
        match checked {
            Ok(len) => {
                next += 1;
                staged.push(Staged {
                    position: next,
                    record: job.record,
                    cost: store.config().history_cost(len),
                });
                replies.push(job.reply);
            }
            // Refused before taking a position: the next event takes it.
            Err(error) => {
                let _ = job.reply.send(Err(error));
            }
        }
    }
    if staged.is_empty() {
        return;
    }
    if let Err(error) = store.commit(&staged) {
        let message = format!("storing events failed: {error}");
        tracing::error!(%message, "publishes refused");
        health.set(false, Some(message.clone()));
        for reply in replies {
            let _ = reply.send(Err(unavailable(&message)));
        }
        return;
    }
    health.set(true, None);
    health.commits.fetch_add(1, Ordering::Relaxed);
    health
        .events
        .fetch_add(staged.len() as u64, Ordering::Relaxed);
    health.last.store(store.last(), Ordering::Release);

    // Committed: now, and only now, the subscribers see them.
    for (event, reply) in staged.iter().zip(replies) {
        let answer = match record::decode(&event.record) {
            Ok(stored) => publisher
                .publish(stored.event, stored.channels.as_slice())
                .map_err(BackendError::Publish)
                .map(|published| {
                    if published.position().get() != event.position {
                        // Someone published into the local publisher
                        // directly: its ids no longer match the stored ones.
                        tracing::error!(
                            stored = event.position,
                            published = published.position().get(),
                            "the local publisher's sequence left the database's: publish only through the durable back end"
                        );
                    }
                    let id = published.id().map(|id| id.to_string());
                    PublishReply::new(id, published.reached())
                }),
            Err(error) => Err(unavailable(&error.to_string())),
        };
        let _ = reply.send(answer);
    }
}
