//! The `publisher` fuzz target's property: the fan-out [`Publisher`] against
//! a plain model of what every subscriber must receive. Like the properties
//! in `fuzz_props.rs`, it takes raw bytes (any byte string is a valid input)
//! and panics when the publisher and the model disagree.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use sse_proto::publisher::{
    Chunk, LagPolicy, PublishError, Publisher, PublisherConfig, SubscribeError, Subscription,
};
use sse_proto::{Event, EventBuf, EventId, EventType, Frame};

use crate::fuzz_props::Input;

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

/// Operations per input, so that a roomy queue never fills.
const MAX_OPS: usize = 256;

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

/// An event as the publisher must encode it.
fn encoded(event_type: Option<&str>, id: Option<&str>, data: &str) -> Vec<u8> {
    let mut out = String::new();
    if let Some(event_type) = event_type {
        out += &format!("event: {event_type}\n");
    }
    if let Some(id) = id {
        out += &format!("id: {id}\n");
    }
    out += &format!("data: {data}\n\n");
    out.into_bytes()
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

/// A subscriber's `publish_with` event: `None` for some, as the salt says.
fn own_event(position: u64, subscriber: u32, salt: u8) -> Option<(String, Option<String>)> {
    if (subscriber + u32::from(salt)) % 3 == 0 {
        return None;
    }
    let data = format!("w{position}.{subscriber}");
    let id = (salt & 0x80 != 0).then(|| format!("y{subscriber}"));
    Some((data, id))
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

/// `publisher`: a model-based run of the fan-out `Publisher`. Every live
/// subscriber gets exactly what the model says, in order: its initial
/// events first; when resuming, exactly the events it missed on its
/// channels, or the `sse-reset` (`history`) event in place of those the
/// history no longer holds (an unknown id gets it first; a reset only when
/// something on its channels after its id is gone, never two in a row,
/// never a silent gap); then every event published to any of its channels
/// once, shared or its own (`publish_with`), with the lag policy applied
/// exactly when its queue is full; after a `disconnect`, `disconnect_all` or
/// `close` the farewell and the end of the stream. After `close`, publishing
/// and subscribing are refused (`Closed`). `publish` reports the right
/// position and counts, `subscribers` lists exactly the model's live
/// subscribers, and every counter of `stats` and of each subscription's
/// `stats` matches the model.
///
/// Input layout: a configuration byte (bits 0-3: history of 0 to 15 events;
/// bit 4: ids not generated; bit 5: first id 1,000,000 rather than 1; bit 6:
/// a tight queue; bit 7: no `retry:` hint on a lag disconnect), a queue byte
/// (a tight queue holds `200 + 4 * byte` bytes, else 256 KiB), a policy
/// byte (bit 0: `DropOldest` rather than `Disconnect`; bits 1-4: a history
/// of `48 * n` bytes, or 1 MiB for 0), then up to 256 operations, an opcode
/// byte (modulo 6) and its arguments each:
///
/// - 0 subscribe: channels (bits 0-2 a mask of `a`, `b`, `c`, bit 3
///   reversed, bit 4 one repeated), initial events (bits 0-1 how many, bit
///   2 the last with an id), resume (low 2 bits: none; the last id read by
///   subscription `byte >> 2`; one of `""`, `"0"`, `"x0"`, `"x1"`, `"junk"`,
///   `"007"`; or the decimal position `first - 1 + (byte >> 2)`);
/// - 1 publish: channels, then flags (bit 2 its own id `x0` to `x3` from
///   bits 6-7, bit 3 an event type, bits 0-1 padding of 0 to 60 bytes);
/// - 2 `publish_with`: channels, then a salt (who gets nothing; bit 7 own
///   ids);
/// - 3 drop a subscription (chosen by the next byte);
/// - 4 read a subscription: which, then how many chunks (0: all there are);
/// - 5 end streams, with farewell none, an event or `retry: 500` (bits
///   2-3): bits 4-7 from 0 to 11 `disconnect` a channel (bits 0-1), 12 and
///   13 `disconnect_all`, 14 `close_with`, 15 `close` (no farewell).
///
/// With a tight queue an unread subscriber lags; both lag policies are
/// modelled exactly (queue cost as documented), and so is the history's
/// eviction by count and by bytes.
pub fn publisher(bytes: &[u8]) {
    let mut input = Input(bytes);
    let config = input.byte();
    let queue = input.byte();
    let policy = input.byte();
    let tight = config & 0x40 != 0;
    let history_bytes = match usize::from(policy >> 1 & 15) {
        0 => 1 << 20,
        n => 48 * n,
    };
    let mut model = Model {
        first: if config & 0x20 != 0 { 1_000_000 } else { 1 },
        history: usize::from(config & 15),
        history_bytes,
        generate_ids: config & 0x10 == 0,
        // The smallest queue the configuration allows (the largest event
        // and the lag reset, each with its slot), a few bytes more, and up
        // to a kilobyte on top.
        queue_bytes: if tight {
            128 + RESET_LAGGED.len() + 2 * ENTRY + 9 + 4 * usize::from(queue)
        } else {
            256 << 10
        },
        drop_oldest: policy & 1 != 0,
        retry: (config & 0x80 == 0).then(|| b"retry: 1000\n".to_vec()),
        events: Vec::new(),
        kept: VecDeque::new(),
        subs: Vec::new(),
        closed: false,
        counters: Counters::default(),
    };
    let publisher: Publisher<u32> = Publisher::with_config(
        PublisherConfig::new()
            .with_history(model.history, model.history_bytes)
            .with_max_event_bytes(128)
            .with_queue_bytes(model.queue_bytes)
            .with_lag_policy(if model.drop_oldest {
                LagPolicy::DropOldest
            } else {
                LagPolicy::Disconnect
            })
            .with_generate_ids(model.generate_ids)
            .with_first_id(model.first)
            .with_lag_retry(
                model
                    .retry
                    .is_some()
                    .then(|| core::time::Duration::from_secs(1)),
            ),
    )
    .expect("a valid configuration");

    let mut ops = 0;
    while !input.is_empty() && ops < MAX_OPS {
        ops += 1;
        match input.byte() % 6 {
            0 => subscribe(&mut model, &publisher, &mut input),
            1 => publish(&mut model, &publisher, &mut input),
            2 => publish_with(&mut model, &publisher, &mut input),
            3 => {
                if let Some(i) = model.pick(input.byte()) {
                    model.subs[i].handle = None;
                    model.subs[i].registered = false;
                }
            }
            4 => {
                let which = input.byte();
                let n = match input.byte() {
                    0 => usize::MAX,
                    n => usize::from(n % 8),
                };
                if let Some(i) = model.pick(which) {
                    model.read(i, n);
                }
            }
            _ => end_streams(&mut model, &publisher, input.byte()),
        }
        model.check_listing(&publisher);
    }

    // Everything still owed arrives.
    for i in 0..model.subs.len() {
        if model.subs[i].handle.is_some() {
            model.read(i, usize::MAX);
        }
    }
    for sub in &mut model.subs {
        sub.handle = None;
        sub.registered = false;
    }
    model.check_listing(&publisher);
}

fn subscribe(model: &mut Model, publisher: &Publisher<u32>, input: &mut Input<'_>) {
    let (mask, names) = channels(input.byte());
    let init = input.byte();
    let resume = input.byte();
    let index = model.subs.len() as u32;
    let count = usize::from(init & 3);
    let initial: Vec<(String, Option<String>)> = (0..count)
        .map(|k| {
            let data = format!("i{index}.{k}");
            let id = (init & 4 != 0 && k + 1 == count).then(|| format!("i{index}"));
            (data, id)
        })
        .collect();
    let arg = usize::from(resume >> 2);
    let last_event_id: Option<String> = match resume & 3 {
        0 => None,
        1 if model.subs.is_empty() => None,
        1 => model.subs[arg % model.subs.len()].last_id.clone(),
        2 => Some(["", "0", "x0", "x1", "junk", "007"][arg % 6].to_string()),
        _ => Some((model.first - 1 + arg as u64).to_string()),
    };

    let events = initial.iter().map(|(data, id)| {
        Event::new(data).with_id_opt(id.as_deref().map(|id| EventId::new(id).expect("an id")))
    });
    let subscribed = publisher
        .subscriber(index)
        .channels(&names)
        .initial_events(events)
        .last_event_id(last_event_id.as_deref())
        .subscribe();
    if model.closed {
        assert_eq!(
            subscribed.err(),
            Some(SubscribeError::Closed),
            "subscribing once closed"
        );
        return;
    }
    let handle = subscribed.expect("a valid subscription");
    assert_eq!(*handle.properties(), index);
    model.counters.subscribed += 1;
    let until = model.last();
    let replay = match last_event_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(match model.resolve(id) {
            Some(cursor) => Replay {
                cursor,
                until,
                reset_first: false,
                after_reset: false,
            },
            None => Replay {
                cursor: until,
                until,
                reset_first: true,
                after_reset: false,
            },
        }),
    };
    model.subs.push(Sub {
        handle: Some(handle),
        mask,
        initial: initial
            .iter()
            .map(|(data, id)| encoded(None, id.as_deref(), data))
            .collect(),
        replay,
        lag_reset: false,
        live: VecDeque::new(),
        registered: true,
        ended: false,
        last_id: None,
        delivered: 0,
        dropped: 0,
        resets: 0,
        lag_disconnected: false,
    });
}

fn publish(model: &mut Model, publisher: &Publisher<u32>, input: &mut Input<'_>) {
    let (mask, names) = channels(input.byte());
    let flags = input.byte();
    let position = model.last() + 1;
    let own_id = (flags & 4 != 0).then(|| format!("x{}", flags >> 6));
    let event_type = (flags & 8 != 0).then_some("t");
    let data = format!("p{position}{}", "-".repeat(20 * usize::from(flags & 3)));
    let mut event =
        Event::new(&data).with_id_opt(own_id.as_deref().map(|id| EventId::new(id).expect("an id")));
    if let Some(event_type) = event_type {
        event = event.with_type(EventType::new(event_type).expect("a type"));
    }
    let sent = publisher.publish(event, &names);
    let Some(sent) = model.accepted(sent, position) else {
        return;
    };

    let generated = position.to_string();
    let id = own_id
        .as_deref()
        .or_else(|| model.generate_ids.then_some(generated.as_str()));
    let bytes = encoded(event_type, id, &data);
    let (mut reached, mut lagged) = (0, 0);
    for i in 0..model.subs.len() {
        if model.subs[i].registered && model.subs[i].mask & mask != 0 {
            let (queued, lag) = model.deliver(i, bytes.clone());
            reached += usize::from(queued);
            lagged += usize::from(lag);
        }
    }
    model.keep(mask, Published::Shared { bytes, own_id });
    assert_eq!(
        (sent.reached(), sent.lagged()),
        (reached, lagged),
        "publish counts"
    );
}

fn publish_with(model: &mut Model, publisher: &Publisher<u32>, input: &mut Input<'_>) {
    let (mask, names) = channels(input.byte());
    let salt = input.byte();
    let position = model.last() + 1;
    let sent = publisher.publish_with(
        |&subscriber| {
            let (data, id) = own_event(position, subscriber, salt)?;
            let event = EventBuf::new(data);
            Some(match id {
                Some(id) => event.with_id(id).expect("an id"),
                None => event,
            })
        },
        &names,
    );
    let Some(sent) = model.accepted(sent, position) else {
        return;
    };

    let (mut reached, mut lagged) = (0, 0);
    for i in 0..model.subs.len() {
        if !model.subs[i].registered || model.subs[i].mask & mask == 0 {
            continue;
        }
        let Some((data, own_id)) = own_event(position, i as u32, salt) else {
            continue;
        };
        let generated = position.to_string();
        let id = own_id
            .as_deref()
            .or_else(|| model.generate_ids.then_some(generated.as_str()));
        let (queued, lag) = model.deliver(i, encoded(None, id, &data));
        reached += usize::from(queued);
        lagged += usize::from(lag);
    }
    model.keep(mask, Published::PerSubscriber);
    assert_eq!(
        (sent.reached(), sent.lagged()),
        (reached, lagged),
        "publish_with counts"
    );
}

/// Ends streams: `disconnect` one channel's, `disconnect_all` or `close`.
/// Each subscriber still registered and not ended gets the farewell after
/// what is queued for it, once, and its stream ends; disconnected ones are
/// unregistered, closed ones stay listed until dropped.
fn end_streams(model: &mut Model, publisher: &Publisher<u32>, byte: u8) {
    let bit = usize::from(byte & 3) % 3;
    let action = byte >> 4;
    let (farewell, bytes): (Option<Frame<'_>>, Option<&[u8]>) = match (byte >> 2 & 3) % 3 {
        _ if action == 15 => (None, None),
        0 => (None, None),
        1 => (
            Some(
                Event::new("bye")
                    .with_type(EventType::new("bye").expect("a type"))
                    .into(),
            ),
            Some(b"event: bye\ndata: bye\n\n"),
        ),
        _ => (Some(Frame::Retry(500)), Some(b"retry: 500\n")),
    };
    let (mask, close) = match action {
        0..=11 => (1 << bit, false),
        12 | 13 => (7, false),
        _ => (7, true),
    };
    let ended = match action {
        0..=11 => publisher.disconnect(CHANNELS[bit], farewell),
        12 | 13 => publisher.disconnect_all(farewell),
        14 => publisher.close_with(farewell).map(|()| 0),
        _ => {
            publisher.close();
            Ok(0)
        }
    }
    .expect("a valid farewell");
    let mut expected = 0;
    for sub in &mut model.subs {
        if sub.registered && !sub.ended && sub.mask & mask != 0 {
            sub.live.extend(bytes.map(<[u8]>::to_vec));
            sub.registered = close;
            sub.ended = true;
            expected += 1;
        }
    }
    if close {
        model.closed = true;
    } else {
        assert_eq!(ended, expected, "disconnected count");
    }
}

/// Hand-built inputs, one per kind of operation, for the seed corpus
/// (`fuzz/corpus/publisher/`; see `fuzz/README.md`).
pub fn seeds() -> Vec<Vec<u8>> {
    // Opcodes.
    const SUB: u8 = 0;
    const PUB: u8 = 1;
    const WITH: u8 = 2;
    const DROP: u8 = 3;
    const READ: u8 = 4;
    const END: u8 = 5;
    let fan_out = [
        &[8, 0, 0][..], // history 8, roomy queues
        &[SUB, 1, 0, 0],
        &[SUB, 0x0e, 2, 0], // b and c, reversed; two initial events
        &[SUB, 0x17, 7, 0], // all three, one repeated; three initial, the last with an id
        &[PUB, 1, 0],
        &[PUB, 6, 8 | 1],    // typed, padded
        &[PUB, 7, 0x44 | 2], // own id x1
        &[READ, 0, 0, READ, 1, 1, READ, 1, 0, READ, 2, 0],
    ];
    let resume = [
        &[4, 0, 0][..], // history 4
        &[SUB, 1, 0, 0],
        &[PUB, 1, 0, PUB, 1, 0, PUB, 2, 0],
        &[READ, 0, 2, DROP, 0],
        &[PUB, 1, 0, PUB, 3, 0, PUB, 1, 0, PUB, 1, 0, PUB, 2, 0],
        &[SUB, 1, 0, 1], // resumes from subscription 0's last id
        &[PUB, 1, 0, READ, 0, 0],
        &[SUB, 3, 0, 1 | 4 << 2], // from the id of the first resumed
        &[READ, 1, 0],
    ];
    let per_subscriber = [
        &[0x1a, 0, 0][..], // history 10, no generated ids
        &[SUB, 3, 0, 0, SUB, 1, 0, 0, SUB, 2, 0, 0],
        &[PUB, 1, 0x04], // own id x0
        &[WITH, 3, 1],
        &[READ, 0, 0, DROP, 0],
        &[WITH, 1, 0x80], // own ids
        &[PUB, 1, 0x44],
        &[SUB, 3, 0, 1],          // resumes from x0: a gap
        &[SUB, 1, 0, 2 | 2 << 2], // "x0"
        &[SUB, 1, 0, 2 | 4 << 2], // "junk": unknown
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0, READ, 3, 0, READ, 4, 0],
    ];
    let lag = [
        &[0x4f, 0, 0][..], // history 15, queues of 200 bytes
        &[SUB, 1, 1, 0, SUB, 1, 0, 0],
        &[PUB, 1, 3, READ, 1, 0, PUB, 1, 3, READ, 1, 0, PUB, 1, 3],
        &[READ, 0, 0, READ, 1, 0],
        &[SUB, 1, 0, 1 | 1 << 2], // the fast one's id
        &[SUB, 1, 0, 1],          // the lagged one's
        &[READ, 2, 0, READ, 3, 0],
    ];
    let disconnect = [
        &[0x02, 0, 0][..],
        &[SUB, 1, 0, 0, SUB, 3, 0, 0, SUB, 2, 0, 0],
        &[PUB, 1, 0],
        &[END, 4], // a, farewell event
        &[PUB, 3, 0],
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0],
        &[SUB, 1, 0, 1],
        &[END, 8 | 1], // b, retry hint
        &[END, 0],     // a, no farewell
        &[READ, 3, 0],
    ];
    let ids = [
        &[0x23, 0, 0][..], // history 3, first id 1,000,000
        &[SUB, 7, 0, 0],
        &[PUB, 1, 0, PUB, 2, 0, PUB, 4, 0, PUB, 1, 0, PUB, 2, 0],
        &[SUB, 7, 0, 3],          // "999999": everything, mostly gone
        &[SUB, 7, 0, 3 | 3 << 2], // "1000002"
        &[SUB, 7, 0, 3 | 9 << 2], // past the last: unknown
        &[SUB, 7, 0, 2 | 1 << 2], // "0": unknown here
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0, READ, 3, 0, READ, 4, 0],
    ];
    let drop_oldest = [
        &[0x4f, 0, 1][..], // history 15, queues of 200 bytes, DropOldest
        // One initial event; none; three, the last with an id.
        &[SUB, 1, 1, 0, SUB, 1, 0, 0, SUB, 1, 7, 0],
        // Padded events: the second makes room for itself and a reset, the
        // third merges into it; the third subscriber's initial events leave
        // no room, so each event is the one dropped.
        &[PUB, 1, 3, READ, 1, 0, PUB, 1, 3, READ, 1, 0],
        &[PUB, 1, 3, READ, 1, 0],
        &[PUB, 1, 3, READ, 0, 2], // the initial event and the reset
        &[WITH, 1, 1, PUB, 1, 0, PUB, 1, 3, PUB, 1, 3],
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0],
        &[SUB, 1, 0, 1 | 1 << 2], // resumes from the fast one's id
        &[PUB, 1, 3, PUB, 1, 3, PUB, 1, 3, READ, 3, 0],
    ];
    let close = [
        &[0x05, 0, 0][..], // history 5
        &[SUB, 1, 1, 0, SUB, 6, 0, 0],
        &[PUB, 1, 0, PUB, 6, 0],
        &[END, 0xc0 | 8], // disconnect_all, retry hint
        &[READ, 0, 0, READ, 1, 0],
        &[SUB, 1, 0, 1, SUB, 7, 0, 0], // one resumes from the first's id
        &[PUB, 3, 0, WITH, 7, 1],
        &[END, 0xe0 | 4],                       // close_with, farewell event
        &[PUB, 1, 0, WITH, 1, 0, SUB, 1, 0, 0], // all refused
        &[END, 1],                              // disconnect b: none left
        &[READ, 2, 0, DROP, 2, END, 0xf0],      // close again: nothing more
        &[READ, 3, 1, END, 0xc4],
    ];
    let history_bytes = [
        &[0x0f, 0, 4 << 1][..], // history 15 events but 192 bytes
        &[SUB, 7, 0, 0],
        &[
            PUB, 1, 0, PUB, 2, 0, PUB, 4, 3, PUB, 1, 0, WITH, 2, 1, PUB, 1, 0,
        ],
        &[READ, 0, 3],
        &[SUB, 7, 0, 1],          // from the first's last id: a gap
        &[SUB, 1, 0, 3 | 4 << 2], // "4"
        &[SUB, 2, 0, 3 | 5 << 2], // "5"
        &[PUB, 1, 3 | 0x04],      // own id x0, padded: most evicted
        &[SUB, 1, 0, 2 | 2 << 2], // "x0"
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0, READ, 3, 0, READ, 4, 0],
    ];
    [
        &fan_out[..],
        &resume,
        &per_subscriber,
        &lag,
        &disconnect,
        &ids,
        &drop_oldest,
        &close,
        &history_bytes,
    ]
    .iter()
    .map(|parts| parts.concat())
    .collect()
}
