//! A subscriber's bounded queue ([`Slot`]), the [`Subscription`] that reads
//! it, and the [`Subscriber`] view the publisher lists.

use core::fmt;
use core::future::poll_fn;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::channels::ChannelSet;
use super::history::bucket;
use super::state::{Shared, State, lock};
use super::{Chunk, LagPolicy, Position};

/// Bookkeeping counted per queued chunk on top of its bytes: the size of
/// the queue slot that holds it (the chunk and its position).
pub(crate) const ENTRY_OVERHEAD: usize = size_of::<(Chunk, u64)>();

/// The position of a queued chunk that is no published event (an initial
/// event, a reset event, a farewell): positions start at 1.
const NO_POSITION: u64 = 0;

/// What an event of `encoded_len` bytes counts against a subscriber's queue
/// bound ([`PublisherConfig::queue_bytes`](super::PublisherConfig::queue_bytes)):
/// its bytes, counted in full even though they are shared, plus the queue
/// slot that holds them. A layer that sizes what it queues (the Redis
/// fan-out, sizing a replay) counts with this.
pub const fn queue_cost(encoded_len: usize) -> usize {
    encoded_len.saturating_add(ENTRY_OVERHEAD)
}

/// What a queued chunk counts against the queue bound.
pub(crate) fn cost(chunk: &Chunk) -> usize {
    queue_cost(chunk.len())
}

/// A subscriber's number, unique within its publisher and increasing in
/// subscription order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(pub(crate) u64);

impl SubscriberId {
    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Counters of one subscriber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SubscriberStats {
    /// Bytes queued and not yet read, as counted against the queue bound.
    pub queued_bytes: usize,
    /// Chunks queued and not yet read.
    pub queued: usize,
    /// Live events queued for it so far (replayed events not included).
    pub delivered: u64,
    /// Events dropped because it fell behind.
    pub dropped: u64,
    /// Reset events queued because it fell behind ([`LagPolicy::DropOldest`]).
    pub resets: u64,
    /// Whether it was disconnected because it fell behind
    /// ([`LagPolicy::Disconnect`]).
    pub disconnected: bool,
}

/// Why a subscriber's stream ends (after what is queued has been read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// Disconnected by [`LagPolicy::Disconnect`].
    Lagged,
    /// The publisher was closed.
    Closed,
    /// The subscription was dropped.
    Removed,
}

/// What the queue does when full; shared by all subscribers of a publisher.
#[derive(Debug)]
pub(crate) struct Lag {
    pub(crate) bound: usize,
    pub(crate) policy: LagPolicy,
    /// The reset event sent in place of dropped events.
    pub(crate) reset: Chunk,
    /// The `retry:` hint sent before a lag disconnect.
    pub(crate) retry: Option<Chunk>,
}

/// How an event reached a subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued without trouble.
    Queued,
    /// The queue was full ([`LagPolicy::DropOldest`]): `dropped` events were
    /// dropped (this one too when not `queued`, which happens when only
    /// initial events are left), and `reset` says whether a reset event was
    /// newly queued.
    DroppedOldest {
        queued: bool,
        dropped: u64,
        reset: bool,
    },
    /// The subscriber was disconnected ([`LagPolicy::Disconnect`]); `dropped`
    /// events were discarded, this one included.
    Disconnected(u64),
}

#[derive(Debug, Default)]
struct Queue {
    /// Initial events, read first and never dropped for lag.
    initial: VecDeque<Chunk>,
    /// A reset event, read before `live`.
    reset: Option<Chunk>,
    /// Live chunks and the positions of their events ([`NO_POSITION`] for
    /// a farewell or a `retry:` hint).
    live: VecDeque<(Chunk, u64)>,
    /// The cost of everything above, bounded by `Lag::bound`.
    bytes: usize,
    /// The newest position offered, so that an event published to two of
    /// its channels is queued once.
    last: u64,
    end: Option<End>,
    waker: Option<Waker>,
    delivered: u64,
    dropped: u64,
    resets: u64,
}

impl Queue {
    /// The next chunk and the position of its event.
    fn pop(&mut self, initial_only: bool) -> Option<(Chunk, u64)> {
        let (chunk, position) = match self.initial.pop_front() {
            Some(chunk) => (chunk, NO_POSITION),
            None if initial_only => return None,
            None => match self.reset.take() {
                Some(reset) => (reset, NO_POSITION),
                None => self.live.pop_front()?,
            },
        };
        self.bytes = self.bytes.saturating_sub(cost(&chunk));
        Some((chunk, position))
    }

    fn clear(&mut self) {
        self.initial.clear();
        self.live.clear();
        self.reset = None;
        self.bytes = 0;
    }

    fn take_waker(&mut self) -> Option<Waker> {
        self.waker.take()
    }
}

/// One subscriber as the publisher holds it.
#[derive(Debug)]
pub(crate) struct Slot<P> {
    pub(crate) id: SubscriberId,
    pub(crate) properties: P,
    pub(crate) channels: ChannelSet,
    queue: Mutex<Queue>,
}

impl<P> Slot<P> {
    pub(crate) fn new(
        id: SubscriberId,
        properties: P,
        channels: ChannelSet,
        initial: VecDeque<Chunk>,
        initial_bytes: usize,
        last: u64,
    ) -> Self {
        Self {
            id,
            properties,
            channels,
            queue: Mutex::new(Queue {
                initial,
                bytes: initial_bytes,
                last,
                ..Queue::default()
            }),
        }
    }

    /// Claims `position` for this subscriber: false if it already had it or
    /// its stream has ended.
    pub(crate) fn claim(&self, position: u64) -> bool {
        let mut q = lock(&self.queue);
        if q.end.is_some() || q.last >= position {
            return false;
        }
        q.last = position;
        true
    }

    /// Queues `chunk` unless this subscriber already had `position` (or its
    /// stream has ended); `None` when it was skipped. One lock.
    pub(crate) fn push(&self, chunk: &Chunk, position: u64, lag: &Lag) -> Option<Pushed> {
        let mut q = lock(&self.queue);
        if q.end.is_some() || q.last >= position {
            return None;
        }
        q.last = position;
        Some(Self::enqueue_locked(q, chunk.clone(), position, lag))
    }

    /// Queues a claimed chunk of the event at `position`, applying the lag
    /// policy when it does not fit.
    pub(crate) fn enqueue(&self, chunk: Chunk, position: u64, lag: &Lag) -> Pushed {
        Self::enqueue_locked(lock(&self.queue), chunk, position, lag)
    }

    fn enqueue_locked(
        mut q: MutexGuard<'_, Queue>,
        chunk: Chunk,
        position: u64,
        lag: &Lag,
    ) -> Pushed {
        let size = cost(&chunk);
        let mut outcome = Pushed::Queued;
        if q.bytes.saturating_add(size) > lag.bound {
            match lag.policy {
                LagPolicy::Disconnect => {
                    let dropped = (q.initial.len() + q.live.len()) as u64 + 1;
                    q.clear();
                    if let Some(retry) = &lag.retry {
                        q.bytes = cost(retry);
                        q.live.push_back((retry.clone(), NO_POSITION));
                    }
                    q.dropped += dropped;
                    q.end = Some(End::Lagged);
                    let waker = q.take_waker();
                    drop(q);
                    wake(waker);
                    return Pushed::Disconnected(dropped);
                }
                LagPolicy::DropOldest => {
                    let reserve = if q.reset.is_none() {
                        cost(&lag.reset)
                    } else {
                        0
                    };
                    let mut dropped = 0u64;
                    while q.bytes.saturating_add(size).saturating_add(reserve) > lag.bound {
                        let Some((old, _)) = q.live.pop_front() else {
                            break;
                        };
                        q.bytes = q.bytes.saturating_sub(cost(&old));
                        dropped += 1;
                    }
                    let reset = q.reset.is_none();
                    if reset {
                        q.reset = Some(lag.reset.clone());
                        q.bytes = q.bytes.saturating_add(reserve);
                        q.resets += 1;
                    }
                    if q.bytes.saturating_add(size) > lag.bound {
                        // Only initial events are left and they fill the
                        // queue: this event is the one dropped.
                        q.dropped += dropped + 1;
                        let waker = q.take_waker();
                        drop(q);
                        wake(waker);
                        return Pushed::DroppedOldest {
                            queued: false,
                            dropped: dropped + 1,
                            reset,
                        };
                    }
                    q.dropped += dropped;
                    outcome = Pushed::DroppedOldest {
                        queued: true,
                        dropped,
                        reset,
                    };
                }
            }
        }
        q.bytes = q.bytes.saturating_add(size);
        q.live.push_back((chunk, position));
        q.delivered += 1;
        let waker = q.take_waker();
        drop(q);
        wake(waker);
        outcome
    }

    /// Ends the stream after what is queued and then `farewell`, which is
    /// queued even over the bound: it is the last chunk this subscriber gets.
    /// False if the stream had already ended.
    pub(crate) fn finish(&self, farewell: Option<&Chunk>) -> bool {
        let mut q = lock(&self.queue);
        if q.end.is_some() {
            return false;
        }
        if let Some(chunk) = farewell {
            q.bytes = q.bytes.saturating_add(cost(chunk));
            q.live.push_back((chunk.clone(), NO_POSITION));
        }
        q.end = Some(End::Closed);
        let waker = q.take_waker();
        drop(q);
        wake(waker);
        true
    }

    /// Ends the stream and frees the queue (subscription dropped).
    fn remove(&self) {
        let mut q = lock(&self.queue);
        q.clear();
        q.end = Some(End::Removed);
        q.waker = None;
    }

    /// The bytes queued now, as counted against the bound.
    pub(crate) fn queued_bytes(&self) -> usize {
        lock(&self.queue).bytes
    }

    fn stats(&self) -> SubscriberStats {
        let q = lock(&self.queue);
        SubscriberStats {
            queued_bytes: q.bytes,
            queued: q.initial.len() + q.live.len() + usize::from(q.reset.is_some()),
            delivered: q.delivered,
            dropped: q.dropped,
            resets: q.resets,
            disconnected: q.end == Some(End::Lagged),
        }
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Where a resuming subscription is in the history.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Replay {
    /// The newest position replayed (or skipped) so far.
    pub(crate) cursor: u64,
    /// The newest position published before the subscription started:
    /// everything after it arrives live.
    pub(crate) until: u64,
    /// Send the reset event before anything else replayed.
    pub(crate) reset_first: bool,
    /// The last thing replayed was the reset event (so a second is not
    /// needed).
    after_reset: bool,
}

impl Replay {
    pub(crate) fn new(cursor: u64, until: u64, reset_first: bool) -> Self {
        Self {
            cursor,
            until,
            reset_first,
            after_reset: false,
        }
    }

    /// The next chunk to replay, or `None` when the replay is done.
    fn step<P>(&mut self, state: &mut State<P>, channels: &ChannelSet) -> Option<Chunk> {
        loop {
            if self.reset_first {
                self.reset_first = false;
                self.after_reset = true;
                state.stats.history_resets += 1;
                return Some(state.reset_history.clone());
            }
            if self.cursor >= self.until {
                return None;
            }
            let names = channels.as_slice();
            let evicted = names
                .iter()
                .map(|name| state.history.evicted(&[bucket(name)]))
                .max()
                .unwrap_or(0);
            if evicted > self.cursor {
                // Something on these channels after the cursor is gone.
                self.cursor = evicted.min(self.until);
                self.reset_first = !self.after_reset;
                continue;
            }
            let Some(entry) = state.history.next_after(self.cursor, self.until, names) else {
                self.cursor = self.until;
                return None;
            };
            self.cursor = entry.position;
            match &entry.chunk {
                Some(chunk) => {
                    self.after_reset = false;
                    state.stats.replayed += 1;
                    return Some(chunk.clone());
                }
                // A per-subscriber event: it cannot be replayed.
                None => self.reset_first = !self.after_reset,
            }
        }
    }
}

/// A subscriber's stream of encoded events: initial events, then what it
/// missed (when resuming), then live events, each a [`Chunk`] ready to write.
///
/// Read it with [`poll_next`](Self::poll_next) or [`next`](Self::next); the
/// adapters turn it into an HTTP body. It ends (`None`) when the publisher is
/// closed or, under [`LagPolicy::Disconnect`], after the `retry:` hint that
/// follows a lag. Dropping it unregisters the subscriber at once and frees
/// its queue.
pub struct Subscription<P = ()> {
    pub(crate) shared: Arc<Shared<P>>,
    pub(crate) slot: Arc<Slot<P>>,
    pub(crate) replay: Option<Replay>,
    /// The position of the live event last returned, or [`NO_POSITION`].
    pub(crate) last: u64,
}

impl<P> Subscription<P> {
    /// The subscriber's id.
    pub fn id(&self) -> SubscriberId {
        self.slot.id
    }

    /// The properties given when subscribing.
    pub fn properties(&self) -> &P {
        &self.slot.properties
    }

    /// The channels subscribed to.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.slot.channels.as_slice().iter().map(|name| &**name)
    }

    /// The subscriber's counters.
    pub fn stats(&self) -> SubscriberStats {
        self.slot.stats()
    }

    /// The position of the event whose chunk [`poll_next`](Self::poll_next)
    /// returned last, if it was a live event: one published after the
    /// subscription started. `None` for initial events, replayed ones, the
    /// reset event, farewells and `retry:` hints. For a layer that times
    /// deliveries against the instant each position was published
    /// ([`Publisher::set_publish_observer`](super::Publisher::set_publish_observer)).
    pub fn last_position(&self) -> Option<Position> {
        (self.last != NO_POSITION).then_some(Position(self.last))
    }

    /// The next chunk: `Ready(Some(chunk))`, `Pending` (the waker in `cx` is
    /// woken when there is more), or `Ready(None)` at the end of the stream.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        loop {
            {
                let mut q = lock(&self.slot.queue);
                if let Some((chunk, _)) = q.pop(true) {
                    self.last = NO_POSITION;
                    return Poll::Ready(Some(chunk));
                }
                if matches!(q.end, Some(End::Lagged | End::Removed)) {
                    self.replay = None;
                }
                if self.replay.is_none() {
                    if let Some((chunk, position)) = q.pop(false) {
                        self.last = position;
                        return Poll::Ready(Some(chunk));
                    }
                    if q.end.is_some() {
                        return Poll::Ready(None);
                    }
                    if !q.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        q.waker = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
            // Replay from the history, outside the queue's lock (the
            // publisher takes its own lock first, then the queue's).
            let next = match &mut self.replay {
                Some(replay) => replay.step(&mut lock(&self.shared.state), &self.slot.channels),
                None => None,
            };
            match next {
                Some(chunk) => {
                    self.last = NO_POSITION;
                    return Poll::Ready(Some(chunk));
                }
                None => self.replay = None,
            }
        }
    }

    /// The next chunk, or `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<Chunk> {
        poll_fn(|cx| self.poll_next(cx)).await
    }
}

impl<P> fmt::Debug for Subscription<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.slot.id)
            .field("channels", &self.slot.channels.as_slice())
            .field("replaying", &self.replay.is_some())
            .finish_non_exhaustive()
    }
}

impl<P> Drop for Subscription<P> {
    fn drop(&mut self) {
        self.shared.unregister(&self.slot);
        self.slot.remove();
    }
}

/// A live subscriber as [`Publisher::subscribers`](super::Publisher::subscribers)
/// lists it: its id, properties, channels and counters.
///
/// Holding one does not keep the subscription open.
pub struct Subscriber<P = ()>(pub(crate) Arc<Slot<P>>);

impl<P> Subscriber<P> {
    /// The subscriber's id.
    pub fn id(&self) -> SubscriberId {
        self.0.id
    }

    /// The properties given when subscribing.
    pub fn properties(&self) -> &P {
        &self.0.properties
    }

    /// The channels subscribed to.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.0.channels.as_slice().iter().map(|name| &**name)
    }

    /// The subscriber's counters, now.
    pub fn stats(&self) -> SubscriberStats {
        self.0.stats()
    }
}

impl<P> Clone for Subscriber<P> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<P: fmt::Debug> fmt::Debug for Subscriber<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("id", &self.0.id)
            .field("properties", &self.0.properties)
            .field("channels", &self.0.channels.as_slice())
            .finish()
    }
}
