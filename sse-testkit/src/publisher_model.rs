//! The `publisher` fuzz target's property: the fan-out [`Publisher`] against
//! a plain model of what every subscriber must receive. Like the properties
//! in `fuzz_props.rs`, it takes raw bytes (any byte string is a valid input)
//! and panics when the publisher and the model disagree.
//!
//! This file is the model (what each subscriber is owed, and how its queue
//! and the history behave); `run.rs` drives the publisher and the model
//! with the same operations and compares them.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use sse_proto::publisher::{Chunk, PublishError, Publisher, Subscription};

mod run;

pub use run::{publisher, seeds};

/// The channels the operations choose from, one bit each.
const CHANNELS: [&str; 3] = ["a", "b", "c"];

/// The history reset event.
const RESET: &[u8] = b"event: sse-reset\ndata: history\n\n";

/// The lag reset event (`LagPolicy::DropOldest`).
const RESET_LAGGED: &[u8] = b"event: sse-reset\ndata: lagged\n\n";

/// What a queued chunk costs beyond its bytes (`PublisherConfig::queue_bytes`):
/// its queue slot, the chunk and the position of its event.
const ENTRY: usize = size_of::<(Chunk, u64)>();

/// What a history entry costs beyond its bytes (`PublisherConfig::history`);
/// a per-subscriber event's entry has no bytes.
const HISTORY_ENTRY: usize = 64;

/// The channel mask (never empty) and the names as given: in bit order,
/// reversed when bit 3 is set, with the first repeated when bit 4 is set
/// (a repeated name counts once).
fn channels(byte: u8) -> (u8, Vec<&'static str>) {
    let mask = match byte & 7 {
        0 => 1,
        mask => mask,
    };
    let mut names: Vec<&str> = (0..3)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| CHANNELS[bit])
        .collect();
    if byte & 8 != 0 {
        names.reverse();
    }
    if byte & 16 != 0 {
        names.push(names[0]);
    }
    (mask, names)
}

fn mask_of(names: &[&str]) -> u8 {
    (0..3)
        .filter(|&bit| names.contains(&CHANNELS[bit]))
        .fold(0, |mask, bit| mask | 1 << bit)
}

/// What one publish was, by position.
enum Published {
    /// One event for everyone: its encoding and its own id.
    Shared {
        bytes: Vec<u8>,
        own_id: Option<String>,
    },
    /// `publish_with`: never replayable.
    PerSubscriber,
}

/// Where a resumed subscriber is in its replay, as the model sees it.
struct Replay {
    /// The newest position replayed (or the one resumed after).
    cursor: u64,
    /// The newest position published before it subscribed.
    until: u64,
    /// The id was unknown: the reset event comes first.
    reset_first: bool,
    /// The last thing replayed was the reset event.
    after_reset: bool,
}

/// One subscription and what it must still receive.
struct Sub {
    /// `None` once dropped.
    handle: Option<Subscription<u32>>,
    mask: u8,
    initial: VecDeque<Vec<u8>>,
    replay: Option<Replay>,
    /// A lag reset event queued and not read: it comes after the replay,
    /// before `live`, in place of the oldest live events dropped.
    lag_reset: bool,
    live: VecDeque<Vec<u8>>,
    /// Reached by publishes and listed by `subscribers` (until dropped or
    /// disconnected; a `close` leaves it listed).
    registered: bool,
    /// Its stream ends once `live` is read (disconnected or closed).
    ended: bool,
    /// The last `id:` it read, as a browser keeps it.
    last_id: Option<String>,
    /// Its counters (`SubscriberStats`).
    delivered: u64,
    dropped: u64,
    resets: u64,
    lag_disconnected: bool,
}

impl Sub {
    fn queued(&self) -> usize {
        self.initial.len() + self.live.len() + usize::from(self.lag_reset)
    }

    fn queued_bytes(&self) -> usize {
        let reset = if self.lag_reset {
            RESET_LAGGED.len() + ENTRY
        } else {
            0
        };
        self.initial
            .iter()
            .chain(&self.live)
            .map(|chunk| chunk.len() + ENTRY)
            .sum::<usize>()
            + reset
    }
}

/// The publisher's counters (`Stats`), as the model keeps them.
#[derive(Default)]
struct Counters {
    subscribed: u64,
    published: u64,
    delivered: u64,
    dropped: u64,
    lag_disconnects: u64,
    lag_resets: u64,
    history_resets: u64,
}

struct Model {
    first: u64,
    history: usize,
    history_bytes: usize,
    generate_ids: bool,
    queue_bytes: usize,
    drop_oldest: bool,
    retry: Option<Vec<u8>>,
    /// Every publish, from position `first`.
    events: Vec<(u8, Published)>,
    /// The positions the history holds, oldest first, with what each costs.
    kept: VecDeque<(u64, usize)>,
    subs: Vec<Sub>,
    closed: bool,
    counters: Counters,
}

impl Model {
    /// A publish's result, checked: refused once closed (`None`), else
    /// counted, at the next position.
    fn accepted(
        &mut self,
        sent: Result<sse_proto::publisher::Published, PublishError>,
        position: u64,
    ) -> Option<sse_proto::publisher::Published> {
        if self.closed {
            assert_eq!(sent, Err(PublishError::Closed), "publishing once closed");
            return None;
        }
        let sent = sent.expect("a valid publish");
        assert_eq!(sent.position().get(), position, "positions count publishes");
        self.counters.published += 1;
        Some(sent)
    }

    fn last(&self) -> u64 {
        self.first - 1 + self.events.len() as u64
    }

    fn event(&self, position: u64) -> &(u8, Published) {
        &self.events[(position - self.first) as usize]
    }

    fn on(&self, mask: u8, position: u64) -> bool {
        self.event(position).0 & mask != 0
    }

    /// Out of the history: older than the oldest event it holds.
    fn evicted(&self, position: u64) -> bool {
        self.kept
            .front()
            .is_none_or(|&(oldest, _)| position < oldest)
    }

    /// Records a publish (`bytes` for a shared event) and evicts the oldest
    /// events while the history holds more than its count or its bytes.
    fn keep(&mut self, mask: u8, published: Published) {
        let position = self.last() + 1;
        let cost = HISTORY_ENTRY
            + match &published {
                Published::Shared { bytes, .. } => bytes.len(),
                Published::PerSubscriber => 0,
            };
        self.events.push((mask, published));
        self.kept.push_back((position, cost));
        while self.kept.len() > self.history || self.kept_bytes() > self.history_bytes {
            self.kept.pop_front();
        }
    }

    fn kept_bytes(&self) -> usize {
        self.kept.iter().map(|&(_, cost)| cost).sum()
    }

    fn replayable(&self, position: u64) -> bool {
        !self.evicted(position) && matches!(self.event(position).1, Published::Shared { .. })
    }

    /// The position a `Last-Event-ID` stands for: an own id still in the
    /// history (the newest event that had it), or a generated id issued.
    fn resolve(&self, id: &str) -> Option<u64> {
        let own = (self.first..=self.last()).rev().find(|&p| {
            matches!(&self.event(p).1, Published::Shared { own_id: Some(own), .. } if own == id)
        });
        if let Some(p) = own.filter(|&p| !self.evicted(p)) {
            return Some(p);
        }
        if !self.generate_ids {
            return None;
        }
        let canonical = !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && (id == "0" || !id.starts_with('0'));
        let n: u64 = id.parse().ok().filter(|_| canonical)?;
        (n + 1 >= self.first && n <= self.last()).then_some(n)
    }

    /// The next event the replay of `sub` must give, if any, and whether
    /// events it missed were skipped on the way (which needs a reset event
    /// first).
    fn next_replayed(&self, sub: usize) -> (bool, Option<u64>) {
        let sub = &self.subs[sub];
        let replay = sub.replay.as_ref().expect("replaying");
        let mut gap = false;
        for p in replay.cursor + 1..=replay.until {
            if !self.on(sub.mask, p) {
                continue;
            }
            if self.replayable(p) {
                return (gap, Some(p));
            }
            gap = true;
        }
        (gap, None)
    }

    /// The replay of `sub` must be over: nothing replayable left, and any
    /// gap before the end told.
    fn end_replay(&mut self, i: usize) {
        if self.subs[i].replay.is_none() {
            return;
        }
        let (gap, next) = self.next_replayed(i);
        let replay = self.subs[i].replay.take().expect("replaying");
        assert!(
            !replay.reset_first,
            "sub {i}: no reset event for an unknown id"
        );
        assert_eq!(next, None, "sub {i}: the replay skipped an event it missed");
        assert!(
            !gap || replay.after_reset,
            "sub {i}: missed events gone with no reset event"
        );
    }

    /// Checks a chunk `sub` read against what it must receive.
    fn receive(&mut self, i: usize, chunk: &[u8]) {
        let text = String::from_utf8_lossy(chunk);
        if let Some(id) = text.lines().find_map(|line| line.strip_prefix("id: ")) {
            self.subs[i].last_id = Some(id.to_string());
        }
        if let Some(first) = self.subs[i].initial.pop_front() {
            assert_eq!(chunk, first, "sub {i}: initial events first, in order");
            return;
        }
        if self.subs[i].replay.is_some() {
            let (gap, next) = self.next_replayed(i);
            let last = self.last();
            let mask = self.subs[i].mask;
            let may_reset = {
                let replay = self.subs[i].replay.as_ref().expect("replaying");
                // A gap ahead on its channels: missed and not replayable, or
                // (checked conservatively by the publisher) evicted since.
                replay.cursor < replay.until
                    && (replay.cursor + 1..=last).any(|p| {
                        self.on(mask, p)
                            && (self.evicted(p) || (p <= replay.until && !self.replayable(p)))
                    })
            };
            let replay = self.subs[i].replay.as_mut().expect("replaying");
            if replay.reset_first {
                assert_eq!(
                    chunk, RESET,
                    "sub {i}: an unknown id gets the reset event first"
                );
                replay.reset_first = false;
                replay.after_reset = true;
                self.counters.history_resets += 1;
                return;
            }
            if chunk == RESET {
                assert!(!replay.after_reset, "sub {i}: two reset events in a row");
                assert!(may_reset, "sub {i}: a reset event with nothing missing");
                replay.after_reset = true;
                self.counters.history_resets += 1;
                return;
            }
            if let Some(p) = next {
                assert!(
                    !gap || replay.after_reset,
                    "sub {i}: missed events before {p} gone with no reset event"
                );
                replay.cursor = p;
                replay.after_reset = false;
                let Published::Shared { bytes, .. } = &self.event(p).1 else {
                    unreachable!("replayable")
                };
                assert_eq!(
                    chunk,
                    &bytes[..],
                    "sub {i}: replay of position {p} (missed events in order, once)"
                );
                return;
            }
            self.end_replay(i);
        }
        if self.subs[i].lag_reset {
            assert_eq!(
                chunk, RESET_LAGGED,
                "sub {i}: the lag reset event in place of the events dropped"
            );
            self.subs[i].lag_reset = false;
            return;
        }
        let expected = self.subs[i].live.pop_front();
        assert_eq!(
            Some(chunk),
            expected.as_deref(),
            "sub {i}: live events in order, once"
        );
    }

    /// Checks that `sub` has nothing more now (`Pending`), or that its
    /// stream is over (`Ready(None)`).
    fn nothing_more(&mut self, i: usize, end: bool) {
        self.end_replay(i);
        let sub = &self.subs[i];
        assert!(sub.initial.is_empty(), "sub {i}: initial events lost");
        assert!(!sub.lag_reset, "sub {i}: lag reset event lost");
        assert!(
            sub.live.is_empty(),
            "sub {i}: {} live chunks lost",
            sub.live.len()
        );
        assert_eq!(sub.ended, end, "sub {i}: the stream ends when disconnected");
    }

    /// Queues `chunk` for `sub` as the publisher must, under the lag policy
    /// when it does not fit; says whether it was queued and whether the
    /// policy applied (counted in `lagged`).
    ///
    /// `Disconnect`: everything queued is dropped (initial events too), the
    /// `retry:` hint queued, the stream ends. `DropOldest`: the oldest live
    /// events are dropped until the chunk and a lag reset event fit (no room
    /// is kept for the reset if one is queued already: they merge); the
    /// reset is queued if none was; initial events stay, so if the chunk
    /// still does not fit it is the one dropped.
    fn deliver(&mut self, i: usize, chunk: Vec<u8>) -> (bool, bool) {
        let bound = self.queue_bytes;
        let size = chunk.len() + ENTRY;
        let sub = &mut self.subs[i];
        if sub.queued_bytes() + size <= bound {
            sub.live.push_back(chunk);
            sub.delivered += 1;
            self.counters.delivered += 1;
            return (true, false);
        }
        if !self.drop_oldest {
            let dropped = (sub.initial.len() + sub.live.len()) as u64 + 1;
            sub.initial.clear();
            sub.live.clear();
            sub.live.extend(self.retry.clone());
            sub.replay = None;
            sub.registered = false;
            sub.ended = true;
            sub.lag_disconnected = true;
            sub.dropped += dropped;
            self.counters.dropped += dropped;
            self.counters.lag_disconnects += 1;
            return (false, true);
        }
        let reserve = if sub.lag_reset {
            0
        } else {
            RESET_LAGGED.len() + ENTRY
        };
        let mut dropped = 0;
        while sub.queued_bytes() + size + reserve > bound && sub.live.pop_front().is_some() {
            dropped += 1;
        }
        if !sub.lag_reset {
            sub.lag_reset = true;
            sub.resets += 1;
            self.counters.lag_resets += 1;
        }
        let queued = sub.queued_bytes() + size <= bound;
        if queued {
            sub.live.push_back(chunk);
            sub.delivered += 1;
            self.counters.delivered += 1;
        } else {
            dropped += 1;
        }
        sub.dropped += dropped;
        self.counters.dropped += dropped;
        (queued, true)
    }

    /// Reads up to `n` chunks of `sub` (until `Pending` or the end).
    fn read(&mut self, i: usize, n: usize) {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..n {
            let handle = self.subs[i].handle.as_mut().expect("a live subscription");
            match handle.poll_next(&mut cx) {
                Poll::Ready(Some(chunk)) => self.receive(i, chunk.as_bytes()),
                Poll::Ready(None) => return self.nothing_more(i, true),
                Poll::Pending => return self.nothing_more(i, false),
            }
        }
    }

    /// `subscribers` lists exactly the registered subscribers, each once,
    /// in subscription order, with their properties and channels.
    fn check_listing(&self, publisher: &Publisher<u32>) {
        for mask in [1u8, 2, 4, 7] {
            let (_, names) = channels(mask);
            let listed: Vec<(u32, u8)> = publisher
                .subscribers(&names)
                .expect("valid channels")
                .iter()
                .map(|s| {
                    let names: Vec<&str> = s.channels().collect();
                    (*s.properties(), mask_of(&names))
                })
                .collect();
            let expected: Vec<(u32, u8)> = (0u32..)
                .zip(&self.subs)
                .filter(|(_, sub)| sub.registered && sub.mask & mask != 0)
                .map(|(i, sub)| (i, sub.mask))
                .collect();
            assert_eq!(listed, expected, "subscribers of {names:?}");
        }
        let stats = publisher.stats();
        let registered = self.subs.iter().filter(|s| s.registered).count();
        assert_eq!(stats.subscribers, registered, "subscriber count");
        assert_eq!(stats.history_events, self.kept.len(), "history length");
        assert_eq!(stats.history_bytes, self.kept_bytes(), "history bytes");
        let c = &self.counters;
        assert_eq!(
            [
                stats.subscribed,
                stats.published,
                stats.delivered,
                stats.dropped,
                stats.lag_disconnects,
                stats.lag_resets,
                stats.history_resets,
                stats.refused,
            ],
            [
                c.subscribed,
                c.published,
                c.delivered,
                c.dropped,
                c.lag_disconnects,
                c.lag_resets,
                c.history_resets,
                0,
            ],
            "stats: subscribed, published, delivered, dropped, lag disconnects, \
             lag resets, history resets, refused"
        );
        assert_eq!(publisher.is_closed(), self.closed, "closed");
        for (i, sub) in self.subs.iter().enumerate() {
            let Some(handle) = &sub.handle else { continue };
            let stats = handle.stats();
            assert_eq!(
                (
                    stats.queued_bytes,
                    stats.queued,
                    stats.delivered,
                    stats.dropped,
                    stats.resets,
                    stats.disconnected,
                ),
                (
                    sub.queued_bytes(),
                    sub.queued(),
                    sub.delivered,
                    sub.dropped,
                    sub.resets,
                    sub.lag_disconnected,
                ),
                "sub {i} stats: queued bytes, queued, delivered, dropped, resets, disconnected"
            );
        }
    }

    /// One of the subscriptions not dropped, chosen by `byte`.
    fn pick(&self, byte: u8) -> Option<usize> {
        let open: Vec<usize> = (0..self.subs.len())
            .filter(|&i| self.subs[i].handle.is_some())
            .collect();
        (!open.is_empty()).then(|| open[usize::from(byte) % open.len()])
    }
}
