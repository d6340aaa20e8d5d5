//! The fan-out [`Publisher`]: channels, subscriber properties, per-subscriber
//! events, generated ids, a replay history for `Last-Event-ID`, and bounded
//! per-subscriber queues with a policy for slow consumers.
//!
//! It uses `std::sync` and [`Waker`](core::task::Waker) only: no runtime, no
//! clock, no I/O. The adapters (`sse-tokio`, `sse-smol`) re-export this very
//! type and turn a [`Subscription`] into an HTTP response body with
//! keep-alive comments.
//!
//! ```text
//!  publish(event, channels) ──▶ encode once ──▶ Chunk ─┬─▶ history (replay)
//!                                                      ├─▶ queue of subscriber 1 ──▶ Subscription ──▶ HTTP body
//!                                                      └─▶ queue of subscriber 2 ──▶ ...
//! ```
//!
//! ```
//! use sse_proto::{Event, EventBuf};
//! use sse_proto::publisher::Publisher;
//!
//! // Properties are yours: here a user name.
//! let publisher: Publisher<String> = Publisher::new();
//! let mut ada = publisher.subscribe(["news", "sport"], "ada".to_string(), [Event::new("welcome")])?;
//! let mut bob = publisher.subscribe("news", "bob".to_string(), [])?;
//!
//! // One event, encoded once, to everyone on `news`; ids are generated.
//! let sent = publisher.publish(Event::new("hello"), "news")?;
//! assert_eq!(sent.reached(), 2);
//!
//! // Each subscriber's own event, computed from its properties.
//! publisher.publish_with(|name| Some(EventBuf::new(format!("hi {name}"))), "news")?;
//!
//! # futures_lite_block_on(async {
//! assert_eq!(ada.next().await.unwrap().as_bytes(), b"data: welcome\n\n");
//! assert_eq!(ada.next().await.unwrap().as_bytes(), b"id: 1\ndata: hello\n\n");
//! assert_eq!(ada.next().await.unwrap().as_bytes(), b"id: 2\ndata: hi ada\n\n");
//! assert_eq!(bob.next().await.unwrap().as_bytes(), b"id: 1\ndata: hello\n\n");
//! # });
//! let names: Vec<String> = publisher.subscribers("news")?.iter().map(|s| s.properties().clone()).collect();
//! assert_eq!(names, ["ada", "bob"]);
//! # fn futures_lite_block_on(f: impl core::future::Future<Output = ()>) {
//! #     let mut f = core::pin::pin!(f);
//! #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
//! #     assert!(f.as_mut().poll(&mut cx).is_ready());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Channels
//!
//! A subscriber listens to one or more channels; an event is published to one
//! or more. A subscriber on several channels of one publish gets the event
//! once. Names are checked ([`check_channel`]); `()` is the
//! [`DEFAULT_CHANNEL`] for users who never name one. See [`Channels`].
//!
//! # Ids and replay
//!
//! Every publish takes the next [`Position`] in one sequence per publisher.
//! An event published without an id gets that position as its id (decimal;
//! [`PublisherConfig::generate_ids`]), so one `Last-Event-ID` says where a
//! client is on all of its channels. An event may carry its own id instead
//! (an id from Redis, say): it is sent as is and indexed, so a client coming
//! back with it resumes right after that event. If several events carry the
//! same id, the newest counts. A caller's id that looks like a generated one
//! (a decimal number) shadows it: use ids of another shape, or turn
//! generation off.
//!
//! The history keeps recent events, bounded by count and bytes
//! ([`PublisherConfig::history`]). A subscriber that gives the id of the last
//! event it saw ([`Subscribe::last_event_id`]) gets, after its initial events,
//! exactly the events it missed on its channels, in order, once, and then
//! live events. Replay is read from the history lazily, as the subscriber
//! reads, so it costs no queue space.
//!
//! # The reset event
//!
//! When a subscriber cannot be given everything it missed, it is told in
//! band, never left with a silent gap, by this event (no id, so it does not
//! move the client's last event id):
//!
//! ```text
//! event: sse-reset
//! data: history
//! ```
//!
//! The data says why ([`ResetReason`]):
//!
//! - `history`: some of the events since its `Last-Event-ID` are not in the
//!   history: the id is older than the history, unknown to this publisher
//!   (from an earlier run of the server, say), or an event in between was a
//!   per-subscriber one ([`Publisher::publish_with`]), which is never kept.
//!   Sent before the events that follow the gap.
//! - `lagged`: the subscriber fell behind and, under
//!   [`LagPolicy::DropOldest`], older events were dropped from its queue.
//!   Sent in their place.
//!
//! A client listens for it (`source.addEventListener("sse-reset", ...)`) and
//! reloads its state. Its type is [`RESET_EVENT_TYPE`].
//!
//! # Slow consumers
//!
//! Each subscriber has a queue bounded in bytes
//! ([`PublisherConfig::queue_bytes`]): a chunk counts at its full encoded size
//! even though the bytes are shared, plus 16 bytes of bookkeeping. Publishing
//! never waits for a subscriber. When an event does not fit, the
//! [`LagPolicy`] applies: disconnect the subscriber with a `retry:` hint (it
//! comes back with `Last-Event-ID` and resumes from the history: nothing is
//! lost while the history holds what it missed), or drop its oldest events
//! and send the reset event. Either way it is counted: [`Published::lagged`],
//! [`Stats`], [`SubscriberStats`].
//!
//! # Limits
//!
//! All enforced, all in [`PublisherConfig`]: events up to 64 KiB encoded
//! ([`PublishError::EventTooLarge`]), ids up to [`MAX_ID_LEN`] bytes, channel
//! names up to [`MAX_CHANNEL_LEN`] bytes and 16 per call, 10,000 subscribers,
//! queues of 256 KiB, a history of 1024 events and 1 MiB. Initial events must
//! fit in the queue.
//!
//! # Locking
//!
//! A publish, a subscribe and a replay step take the publisher's lock; a
//! subscriber reading its queue takes only its queue's lock. The closure of
//! [`Publisher::publish_with`] runs under the publisher's lock: it must not
//! call the publisher.
//!
//! # Several nodes
//!
//! A layer that shares events between servers (through Redis, say) keeps this
//! API: it publishes every event into each node's publisher with the id the
//! shared log gave it ([`Publisher::publish`] with an event that carries its
//! id, and [`PublisherConfig::generate_ids`] off). When a client resumes
//! with an id this node's history does not know ([`Publisher::locate`] says
//! `None`), the layer notes [`Publisher::position`], fetches what the client
//! missed up to there from the shared log, and subscribes with those events as
//! initial events and [`Subscribe::resume_after`] that position, so nothing is
//! lost or repeated between the two.

mod channels;
mod chunk;
mod config;
mod history;
mod subscription;

use core::fmt;
use core::ops::Range;
use std::collections::{HashMap, VecDeque};
use std::string::String;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

pub use channels::{ChannelError, Channels, DEFAULT_CHANNEL, MAX_CHANNEL_LEN, check_channel};
pub use chunk::Chunk;
pub use config::{ConfigError, LagPolicy, PublisherConfig};
pub use subscription::{Subscriber, SubscriberId, SubscriberStats, Subscription};

use crate::{Event, EventBuf, EventId, Frame};
use channels::{ChannelSet, check_channels};
use history::{Entry, History};
use subscription::{Lag, Pushed, Replay, Slot, cost};

/// The `event` type of the [reset event](self#the-reset-event).
pub const RESET_EVENT_TYPE: &str = "sse-reset";

/// The longest event id accepted, in bytes, whether published or received
/// as `Last-Event-ID` (the decoder's default id limit).
pub const MAX_ID_LEN: usize = 256;

/// The reset event for [`ResetReason::Lagged`], encoded (a unit test checks
/// it against the encoder); its size is reserved in every queue.
const RESET_LAGGED: &[u8] = b"event: sse-reset\ndata: lagged\n\n";

/// Why a subscriber got the [reset event](self#the-reset-event): its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResetReason {
    /// Events since its `Last-Event-ID` are missing from the history.
    History,
    /// It fell behind and older events were dropped from its queue.
    Lagged,
}

impl ResetReason {
    /// The event's data: `history` or `lagged`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::History => "history",
            Self::Lagged => "lagged",
        }
    }

    /// The reset event itself.
    pub fn event(self) -> Event<'static> {
        Event::new(self.as_str())
            .with_type(crate::EventType::from_line(RESET_EVENT_TYPE.as_bytes()))
    }
}

/// Where an event sits in its publisher's sequence: increasing by one per
/// publish, and the event's id when ids are generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(u64);

impl Position {
    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// What a publish did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Published {
    position: Position,
    reached: usize,
    lagged: usize,
}

impl Published {
    /// The event's position (its id, when ids are generated).
    pub const fn position(&self) -> Position {
        self.position
    }

    /// How many subscribers the event was queued for.
    pub const fn reached(&self) -> usize {
        self.reached
    }

    /// How many subscribers had fallen behind: the lag policy was applied to
    /// them (those that kept the event after dropping older ones are also
    /// counted in `reached`).
    pub const fn lagged(&self) -> usize {
        self.lagged
    }
}

/// Counters of a publisher since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Subscribers now.
    pub subscribers: usize,
    /// Subscriptions opened.
    pub subscribed: u64,
    /// Publish calls that succeeded.
    pub published: u64,
    /// Events queued for subscribers, one per subscriber reached.
    pub delivered: u64,
    /// Events dropped because subscribers fell behind.
    pub dropped: u64,
    /// Subscribers disconnected because they fell behind.
    pub lag_disconnects: u64,
    /// Reset events sent because subscribers fell behind.
    pub lag_resets: u64,
    /// Reset events sent because a resuming subscriber's missed events were
    /// not all in the history.
    pub history_resets: u64,
    /// Per-subscriber events refused (too large, or an id too long).
    pub refused: u64,
    /// Events in the history now.
    pub history_events: usize,
    /// Bytes in the history now.
    pub history_bytes: usize,
}

/// Why a publish was refused. Nothing was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublishError {
    /// The channels are invalid.
    Channel(ChannelError),
    /// The encoded event is larger than [`PublisherConfig::max_event_bytes`].
    EventTooLarge {
        /// The encoded size.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The event's id is longer than [`MAX_ID_LEN`].
    IdTooLong,
    /// The publisher is closed.
    Closed,
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Channel(e) => fmt::Display::fmt(e, f),
            Self::EventTooLarge { len, limit } => {
                write!(f, "event of {len} bytes is over the limit of {limit}")
            }
            Self::IdTooLong => write!(f, "event id longer than {MAX_ID_LEN} bytes"),
            Self::Closed => f.write_str("publisher closed"),
        }
    }
}

impl core::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Channel(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ChannelError> for PublishError {
    fn from(e: ChannelError) -> Self {
        Self::Channel(e)
    }
}

/// Why a subscription was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The channels are invalid.
    Channel(ChannelError),
    /// The `Last-Event-ID` is longer than [`MAX_ID_LEN`] or contains CR, LF
    /// or NUL: no event could have had it.
    LastEventId,
    /// An initial event is larger than [`PublisherConfig::max_event_bytes`].
    EventTooLarge {
        /// The encoded size.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The initial events do not fit in the queue.
    InitialEventsTooLarge {
        /// Their size as counted against the queue bound.
        len: usize,
        /// The queue bound.
        limit: usize,
    },
    /// The publisher has [`PublisherConfig::max_subscribers`] already.
    TooManySubscribers {
        /// The limit.
        limit: usize,
    },
    /// The publisher is closed.
    Closed,
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Channel(e) => fmt::Display::fmt(e, f),
            Self::LastEventId => write!(
                f,
                "invalid Last-Event-ID: longer than {MAX_ID_LEN} bytes, or contains CR, LF or NUL"
            ),
            Self::EventTooLarge { len, limit } => {
                write!(
                    f,
                    "initial event of {len} bytes is over the limit of {limit}"
                )
            }
            Self::InitialEventsTooLarge { len, limit } => write!(
                f,
                "initial events of {len} bytes do not fit in a queue of {limit}"
            ),
            Self::TooManySubscribers { limit } => {
                write!(f, "subscriber limit of {limit} reached")
            }
            Self::Closed => f.write_str("publisher closed"),
        }
    }
}

impl core::error::Error for SubscribeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Channel(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ChannelError> for SubscribeError {
    fn from(e: ChannelError) -> Self {
        Self::Channel(e)
    }
}

/// Locks, ignoring poisoning: a panic in a `publish_with` closure leaves
/// the state consistent (at worst that publish reached some subscribers
/// and is not in the history).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A publisher's state behind its lock.
pub(crate) struct State<P> {
    closed: bool,
    /// The newest position issued.
    last: u64,
    next_subscriber: u64,
    subscribers: usize,
    /// Channels with at least one subscriber, and their subscribers.
    channels: HashMap<Arc<str>, HashMap<u64, Arc<Slot<P>>>>,
    pub(crate) history: History,
    pub(crate) stats: Stats,
    pub(crate) reset_history: Chunk,
}

impl<P> State<P> {
    /// The name as the channel table holds it, to share one allocation.
    fn intern(&self, name: &str) -> Arc<str> {
        match self.channels.get_key_value(name) {
            Some((key, _)) => Arc::clone(key),
            None => Arc::from(name),
        }
    }

    /// The interned, de-duplicated set of checked channels.
    fn channel_set(&self, channels: &(impl Channels + ?Sized), count: usize) -> ChannelSet {
        if count == 1 {
            if let Some(name) = channels.names().next() {
                return ChannelSet::One(self.intern(name));
            }
        }
        let mut names: Vec<Arc<str>> = Vec::with_capacity(count);
        for name in channels.names() {
            if !names.iter().any(|n| &**n == name) {
                names.push(self.intern(name));
            }
        }
        ChannelSet::from_vec(names)
    }

    /// The position a `Last-Event-ID` stands for, if this publisher knows it.
    fn resolve(&self, config: &PublisherConfig, id: &str) -> Option<u64> {
        if let Some(position) = self.history.find_id(id.as_bytes()) {
            return Some(position);
        }
        if !config.generate_ids {
            return None;
        }
        let n = parse_decimal(id)?;
        (n >= config.first_id - 1 && n <= self.last).then_some(n)
    }

    /// Unregisters every slot of `ended`; returns how many there were.
    fn unregister_all(&mut self, ended: &[Arc<Slot<P>>]) -> usize {
        for slot in ended {
            self.unregister(slot);
        }
        ended.len()
    }

    fn unregister(&mut self, slot: &Slot<P>) {
        let mut removed = false;
        for name in slot.channels.as_slice() {
            if let Some(members) = self.channels.get_mut(&**name) {
                removed |= members.remove(&slot.id.0).is_some();
                if members.is_empty() {
                    self.channels.remove(&**name);
                }
            }
        }
        if removed {
            self.subscribers = self.subscribers.saturating_sub(1);
        }
    }
}

/// Finishes the streams of `members` after what is queued and `farewell`; a
/// subscriber met several times (one of several channels) is finished and
/// returned once.
fn finish_all<'s, P: 's>(
    members: impl Iterator<Item = &'s Arc<Slot<P>>>,
    farewell: Option<&Chunk>,
) -> Vec<Arc<Slot<P>>> {
    members
        .filter(|slot| slot.finish(farewell))
        .map(Arc::clone)
        .collect()
}

/// A decimal `u64` without sign, leading zeros or other characters.
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical = !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// What a publisher and its subscriptions share.
pub(crate) struct Shared<P> {
    config: PublisherConfig,
    lag: Lag,
    pub(crate) state: Mutex<State<P>>,
}

impl<P> Shared<P> {
    pub(crate) fn unregister(&self, slot: &Slot<P>) {
        lock(&self.state).unregister(slot);
    }

    fn close(&self, farewell: Option<&Chunk>) {
        let mut state = lock(&self.state);
        state.closed = true;
        for members in state.channels.values() {
            for slot in members.values() {
                slot.finish(farewell);
            }
        }
    }
}

/// Closes the publisher when the last handle goes.
struct Handle<P>(Arc<Shared<P>>);

impl<P> Drop for Handle<P> {
    fn drop(&mut self) {
        self.0.close(None);
    }
}

/// Fans events out to subscribers by channel. Cheap to clone: clones share
/// one publisher, which closes when the last clone is dropped.
///
/// `P` is what you keep about each subscriber (a user, an address): given
/// when subscribing, handed to [`publish_with`](Self::publish_with) and listed
/// by [`subscribers`](Self::subscribers). See the [module](self) for ids,
/// replay, the reset event and slow consumers.
pub struct Publisher<P = ()> {
    handle: Arc<Handle<P>>,
}

impl<P> Clone for Publisher<P> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
        }
    }
}

impl<P> Default for Publisher<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> fmt::Debug for Publisher<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("config", &self.shared().config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl<P> Publisher<P> {
    /// A publisher with the default [`PublisherConfig`].
    pub fn new() -> Self {
        Self::build(PublisherConfig::new())
    }

    /// A publisher with its own limits.
    pub fn with_config(config: PublisherConfig) -> Result<Self, ConfigError> {
        config.check()?;
        Ok(Self::build(config))
    }

    fn build(config: PublisherConfig) -> Self {
        let retry = config.lag_retry.map(|retry| {
            let ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
            Chunk::encode(Frame::Retry(ms))
        });
        let shared = Shared {
            lag: Lag {
                bound: config.queue_bytes,
                policy: config.lag_policy,
                reset: Chunk::encode(ResetReason::Lagged.event()),
                retry,
            },
            state: Mutex::new(State {
                closed: false,
                last: config.first_id - 1,
                next_subscriber: 1,
                subscribers: 0,
                channels: HashMap::new(),
                history: History::new(config.history_events, config.history_bytes),
                stats: Stats::default(),
                reset_history: Chunk::encode(ResetReason::History.event()),
            }),
            config,
        };
        Self {
            handle: Arc::new(Handle(Arc::new(shared))),
        }
    }

    fn shared(&self) -> &Arc<Shared<P>> {
        &self.handle.0
    }

    /// The configuration.
    pub fn config(&self) -> &PublisherConfig {
        &self.shared().config
    }

    /// Subscribes to `channels` with `properties`; `initial_events` are sent
    /// before anything else. To resume from a `Last-Event-ID`, use
    /// [`subscriber`](Self::subscriber).
    pub fn subscribe<'e>(
        &self,
        channels: impl Channels,
        properties: P,
        initial_events: impl IntoIterator<Item = Event<'e>>,
    ) -> Result<Subscription<P>, SubscribeError> {
        self.subscriber(properties)
            .channels(channels)
            .initial_events(initial_events)
            .subscribe()
    }

    /// Starts a subscription with more options: channels (the default
    /// channel unless given), initial events, and where to resume.
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto::publisher::Publisher;
    ///
    /// let publisher: Publisher = Publisher::new();
    /// let first = publisher.subscribe("news", (), [])?;
    /// publisher.publish(Event::new("one"), "news")?;
    /// publisher.publish(Event::new("two"), "news")?;
    /// drop(first); // it saw "one" (id 1), then went away
    ///
    /// let mut again = publisher.subscriber(()).channels("news").last_event_id(Some("1")).subscribe()?;
    /// # let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// # let core::task::Poll::Ready(Some(chunk)) = again.poll_next(&mut cx) else { panic!() };
    /// assert_eq!(chunk.as_bytes(), b"id: 2\ndata: two\n\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscriber(&self, properties: P) -> Subscribe<'_, P> {
        Subscribe {
            publisher: self,
            properties,
            channels: Ok(None),
            initial: Ok((VecDeque::new(), 0)),
            resume: Ok(Resume::Fresh),
        }
    }

    /// Publishes `event` to `channels` (encoded once, shared by every
    /// subscriber reached) and says how many subscribers it reached.
    ///
    /// Without an id the event gets its position as id, unless
    /// [`PublisherConfig::generate_ids`] is off.
    pub fn publish<'e>(
        &self,
        event: impl Into<Event<'e>>,
        channels: impl Channels,
    ) -> Result<Published, PublishError> {
        let event = event.into();
        let shared = self.shared();
        let config = &shared.config;
        let count = check_channels(&channels, config.max_channels)?;
        let generate = event.id().is_none() && config.generate_ids;
        // Encode before taking the lock unless the id is the position.
        let ready = if generate {
            None
        } else {
            Some(encode_checked(event, config)?)
        };

        let mut state = lock(&shared.state);
        if state.closed {
            return Err(PublishError::Closed);
        }
        // `last` starts at most at 2^63 - 1 (checked config) and grows by one
        // per publish: it cannot reach `u64::MAX` in practice.
        let position = state.last.saturating_add(1);
        let (chunk, id_range) = match ready {
            Some(ready) => ready,
            None => {
                let mut digits = Digits::default();
                let id = EventId::from_checked(digits.format(position));
                encode_checked(event.with_id(id), config)?
            }
        };
        state.last = position;
        let set = state.channel_set(&channels, count);

        let mut outcome = Fanout::new();
        for name in set.as_slice() {
            let Some(members) = state.channels.get(&**name) else {
                continue;
            };
            for slot in members.values() {
                if let Some(pushed) = slot.push(&chunk, position, &shared.lag) {
                    outcome.record(slot, pushed);
                }
            }
        }
        state
            .history
            .push(Entry::new(position, set, Some(chunk)), id_range);
        Ok(outcome.finish(&mut state, position))
    }

    /// Publishes to each subscriber of `channels` its own event, computed
    /// from its properties (`None` sends it nothing), and says how many it
    /// reached. Each event is encoded for its subscriber; an event without an
    /// id gets the publish's position, as with [`publish`](Self::publish).
    ///
    /// Per-subscriber events are not kept in the history: a subscriber that
    /// resumes from before one gets the reset event in its place. An event
    /// that is too large or has too long an id is not sent (counted in
    /// [`Stats::refused`]). The closure runs under the publisher's lock: it
    /// must not call the publisher.
    pub fn publish_with<F>(
        &self,
        mut event: F,
        channels: impl Channels,
    ) -> Result<Published, PublishError>
    where
        F: FnMut(&P) -> Option<EventBuf>,
    {
        let shared = self.shared();
        let config = &shared.config;
        let count = check_channels(&channels, config.max_channels)?;
        let mut state = lock(&shared.state);
        if state.closed {
            return Err(PublishError::Closed);
        }
        let position = state.last.saturating_add(1);
        state.last = position;
        let set = state.channel_set(&channels, count);
        // The marker goes in first, so that a resume across this position
        // gets the reset event even if the closure panics half-way.
        state
            .history
            .push(Entry::new(position, set.clone(), None), None);
        let mut digits = Digits::default();
        let generated = EventId::from_checked(digits.format(position));

        let mut outcome = Fanout::new();
        let mut refused = 0u64;
        for name in set.as_slice() {
            let Some(members) = state.channels.get(&**name) else {
                continue;
            };
            for slot in members.values() {
                if !slot.claim(position) {
                    continue;
                }
                let Some(own) = event(&slot.properties) else {
                    continue;
                };
                let mut own = own.as_event();
                if own.id().is_none() && config.generate_ids {
                    own = own.with_id(generated);
                }
                match encode_checked(own, config) {
                    Ok((chunk, _)) => outcome.record(slot, slot.enqueue(chunk, &shared.lag)),
                    Err(_) => refused += 1,
                }
            }
        }
        state.stats.refused += refused;
        Ok(outcome.finish(&mut state, position))
    }

    /// The live subscribers of `channels`, each once, in subscription order.
    pub fn subscribers(&self, channels: impl Channels) -> Result<Vec<Subscriber<P>>, ChannelError> {
        let shared = self.shared();
        check_channels(&channels, shared.config.max_channels)?;
        let state = lock(&shared.state);
        let mut list: Vec<Subscriber<P>> = Vec::new();
        for name in channels.names() {
            if let Some(members) = state.channels.get(name) {
                list.extend(members.values().map(|slot| Subscriber(Arc::clone(slot))));
            }
        }
        drop(state);
        list.sort_unstable_by_key(Subscriber::id);
        list.dedup_by_key(|s| s.id());
        Ok(list)
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let state = lock(&self.shared().state);
        Stats {
            subscribers: state.subscribers,
            history_events: state.history.len(),
            history_bytes: state.history.bytes(),
            ..state.stats
        }
    }

    /// The position of the newest event published (before the first, one
    /// less than [`PublisherConfig::first_id`]).
    pub fn position(&self) -> Position {
        Position(lock(&self.shared().state).last)
    }

    /// The position of the event a client last saw, from its
    /// `Last-Event-ID`, if this publisher knows the id: an id an event in the
    /// history carried, or a generated id this publisher issued. Knowing the
    /// id does not mean the history still holds everything after it.
    pub fn locate(&self, last_event_id: &str) -> Option<Position> {
        let shared = self.shared();
        lock(&shared.state)
            .resolve(&shared.config, last_event_id)
            .map(Position)
    }

    /// Ends the streams of every subscriber of `channels`, after what is
    /// queued for them and then `farewell`, if given (an event that asks the
    /// client to stop, say, or a `retry:` hint). The farewell is not numbered and not kept in the
    /// history, so a client that resumes never sees it again. Returns how
    /// many subscribers were disconnected. The publisher stays open: clients
    /// may subscribe again.
    ///
    /// ```
    /// use sse_proto::{Event, EventType};
    /// use sse_proto::publisher::Publisher;
    ///
    /// let publisher: Publisher = Publisher::new();
    /// let mut chat = publisher.subscribe("chat", (), [])?;
    /// let farewell = Event::new("closed").with_type(EventType::new("bye")?);
    /// assert_eq!(publisher.disconnect("chat", Some(farewell.into()))?, 1);
    /// # let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// # let core::task::Poll::Ready(Some(chunk)) = chat.poll_next(&mut cx) else { panic!() };
    /// assert_eq!(chunk.as_bytes(), b"event: bye\ndata: closed\n\n");
    /// # assert!(matches!(chat.poll_next(&mut cx), core::task::Poll::Ready(None)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn disconnect(
        &self,
        channels: impl Channels,
        farewell: Option<Frame<'_>>,
    ) -> Result<usize, PublishError> {
        let shared = self.shared();
        let config = &shared.config;
        check_channels(&channels, config.max_channels)?;
        let farewell = encode_farewell(farewell, config)?;
        let mut state = lock(&shared.state);
        let members = channels
            .names()
            .filter_map(|name| state.channels.get(name))
            .flat_map(HashMap::values);
        let ended = finish_all(members, farewell.as_ref());
        Ok(state.unregister_all(&ended))
    }

    /// Ends the streams of every subscriber, as [`disconnect`](Self::disconnect)
    /// does for one channel's: after what is queued for them and then
    /// `farewell`, if given. For a layer that learns its history has a gap
    /// (a node that fell too far behind a shared log, say): with a `retry:`
    /// hint, its clients come back with `Last-Event-ID` and resume from
    /// wherever the layer keeps older events. Returns how many subscribers
    /// were disconnected. The publisher stays open.
    ///
    /// ```
    /// use sse_proto::Frame;
    /// use sse_proto::publisher::Publisher;
    ///
    /// let publisher: Publisher = Publisher::new();
    /// let _news = publisher.subscribe("news", (), [])?;
    /// let _both = publisher.subscribe(["news", "sport"], (), [])?;
    /// assert_eq!(publisher.disconnect_all(Some(Frame::Retry(500)))?, 2);
    /// assert_eq!(publisher.stats().subscribers, 0);
    /// assert!(!publisher.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn disconnect_all(&self, farewell: Option<Frame<'_>>) -> Result<usize, PublishError> {
        let shared = self.shared();
        let farewell = encode_farewell(farewell, &shared.config)?;
        let mut state = lock(&shared.state);
        let members = state.channels.values().flat_map(HashMap::values);
        let ended = finish_all(members, farewell.as_ref());
        Ok(state.unregister_all(&ended))
    }

    /// Closes the publisher: subscriptions end after what is queued for them,
    /// and publishing or subscribing is refused. Dropping the last clone of
    /// the publisher does the same.
    pub fn close(&self) {
        self.shared().close(None);
    }

    /// Closes the publisher as [`close`](Self::close) does, and sends every
    /// subscriber `farewell` after what is queued for it: a `retry:` hint
    /// that says when a restarting server will be back, say.
    ///
    /// ```
    /// use sse_proto::Frame;
    /// use sse_proto::publisher::Publisher;
    ///
    /// let publisher: Publisher = Publisher::new();
    /// let mut sub = publisher.subscribe((), (), [])?;
    /// publisher.close_with(Some(Frame::Retry(5000)))?;
    /// # let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// # let core::task::Poll::Ready(Some(chunk)) = sub.poll_next(&mut cx) else { panic!() };
    /// assert_eq!(chunk.as_bytes(), b"retry: 5000\n");
    /// # assert!(matches!(sub.poll_next(&mut cx), core::task::Poll::Ready(None)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close_with(&self, farewell: Option<Frame<'_>>) -> Result<(), PublishError> {
        let shared = self.shared();
        let farewell = encode_farewell(farewell, &shared.config)?;
        shared.close(farewell.as_ref());
        Ok(())
    }

    /// Whether the publisher is closed.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared().state).closed
    }
}

/// What one publish did to the subscribers it offered the event to.
struct Fanout<P> {
    reached: usize,
    lagged: usize,
    dropped: u64,
    resets: u64,
    /// Subscribers disconnected for lag, to unregister once the channel
    /// table is no longer borrowed.
    disconnected: Vec<Arc<Slot<P>>>,
}

impl<P> Fanout<P> {
    const fn new() -> Self {
        Self {
            reached: 0,
            lagged: 0,
            dropped: 0,
            resets: 0,
            disconnected: Vec::new(),
        }
    }

    fn record(&mut self, slot: &Arc<Slot<P>>, pushed: Pushed) {
        match pushed {
            Pushed::Queued => self.reached += 1,
            Pushed::DroppedOldest {
                queued,
                dropped,
                reset,
            } => {
                self.reached += usize::from(queued);
                self.lagged += 1;
                self.dropped += dropped;
                self.resets += u64::from(reset);
            }
            Pushed::Disconnected(dropped) => {
                self.lagged += 1;
                self.dropped += dropped;
                self.disconnected.push(Arc::clone(slot));
            }
        }
    }

    /// Adds the counts to the publisher's stats, unregisters the
    /// disconnected, and says what the publish did.
    fn finish(self, state: &mut State<P>, position: u64) -> Published {
        let stats = &mut state.stats;
        stats.published += 1;
        stats.delivered += self.reached as u64;
        stats.dropped += self.dropped;
        stats.lag_resets += self.resets;
        stats.lag_disconnects += self.disconnected.len() as u64;
        for slot in &self.disconnected {
            state.unregister(slot);
        }
        Published {
            position: Position(position),
            reached: self.reached,
            lagged: self.lagged,
        }
    }
}

/// Encodes an event after checking its id and size, and says where its own
/// id sits in the bytes.
fn encode_checked(
    event: Event<'_>,
    config: &PublisherConfig,
) -> Result<(Chunk, Option<Range<usize>>), PublishError> {
    let id_len = event.id().map_or(0, |id| id.as_text().len());
    if id_len > MAX_ID_LEN {
        return Err(PublishError::IdTooLong);
    }
    let len = event.encoded_len();
    if len > config.max_event_bytes {
        return Err(PublishError::EventTooLarge {
            len,
            limit: config.max_event_bytes,
        });
    }
    let chunk = Chunk::encode(event);
    let range = event.id().and_then(|id| {
        // The encoder writes `event: <type>\n` (unless `message`), then
        // `id: <id>\n`: check rather than trust the layout.
        let type_line = if event.event_type().is_message() {
            0
        } else {
            "event: ".len() + event.event_type().as_text().len() + 1
        };
        let start = type_line + "id: ".len();
        let range = start..start + id_len;
        (chunk.get(range.clone()) == Some(id.as_text().as_bytes())).then_some(range)
    });
    Ok((chunk, range))
}

/// Encodes a farewell frame, checked as a published event is.
fn encode_farewell(
    farewell: Option<Frame<'_>>,
    config: &PublisherConfig,
) -> Result<Option<Chunk>, PublishError> {
    let Some(frame) = farewell else {
        return Ok(None);
    };
    if let Frame::Event(event) = frame {
        return encode_checked(event, config).map(|(chunk, _)| Some(chunk));
    }
    let len = frame.encoded_len();
    if len > config.max_event_bytes {
        return Err(PublishError::EventTooLarge {
            len,
            limit: config.max_event_bytes,
        });
    }
    Ok(Some(Chunk::encode(frame)))
}

/// A `u64` in decimal, formatted on the stack.
#[derive(Default)]
struct Digits([u8; 20]);

impl Digits {
    fn format(&mut self, mut n: u64) -> &[u8] {
        let mut start = self.0.len();
        loop {
            start -= 1;
            // `n % 10 < 10`; `start` stays in bounds because `u64::MAX` has
            // 20 digits.
            if let Some(digit) = self.0.get_mut(start) {
                *digit = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.0.get(start..).unwrap_or_default()
    }
}

/// Where a new subscription starts.
#[derive(Clone, Debug)]
enum Resume {
    Fresh,
    LastEventId(String),
    After(u64),
}

/// A subscription being set up: see [`Publisher::subscriber`].
///
/// Errors in any step are reported by [`subscribe`](Self::subscribe).
#[must_use = "a subscription starts only when `subscribe` is called"]
pub struct Subscribe<'p, P> {
    publisher: &'p Publisher<P>,
    properties: P,
    channels: Result<Option<Vec<String>>, ChannelError>,
    initial: Result<(VecDeque<Chunk>, usize), SubscribeError>,
    resume: Result<Resume, SubscribeError>,
}

impl<P> fmt::Debug for Subscribe<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscribe")
            .field("channels", &self.channels)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

impl<P> Subscribe<'_, P> {
    /// The channels to listen to; the default channel if never called.
    pub fn channels(mut self, channels: impl Channels) -> Self {
        let config = &self.publisher.shared().config;
        self.channels = check_channels(&channels, config.max_channels).map(|_| {
            let mut names: Vec<String> = Vec::new();
            for name in channels.names() {
                if !names.iter().any(|n| n == name) {
                    names.push(String::from(name));
                }
            }
            Some(names)
        });
        self
    }

    /// Events sent before anything else (encoded now; added to any given
    /// before). They are not numbered, so they do not move the client's last
    /// event id unless they carry an id.
    pub fn initial_events<'e>(mut self, events: impl IntoIterator<Item = Event<'e>>) -> Self {
        let config = &self.publisher.shared().config;
        if let Ok((queue, bytes)) = &mut self.initial {
            for event in events {
                let len = event.encoded_len();
                if len > config.max_event_bytes {
                    self.initial = Err(SubscribeError::EventTooLarge {
                        len,
                        limit: config.max_event_bytes,
                    });
                    return self;
                }
                let chunk = Chunk::encode(event);
                *bytes = bytes.saturating_add(cost(&chunk));
                if *bytes > config.queue_bytes {
                    self.initial = Err(SubscribeError::InitialEventsTooLarge {
                        len: *bytes,
                        limit: config.queue_bytes,
                    });
                    return self;
                }
                queue.push_back(chunk);
            }
        }
        self
    }

    /// Resumes after the event whose id the client sent as `Last-Event-ID`:
    /// the subscription replays what was missed on its channels, or starts
    /// with the [reset event](self#the-reset-event) if it cannot. `None` or
    /// an empty id starts fresh.
    pub fn last_event_id(mut self, id: Option<&str>) -> Self {
        self.resume = match id {
            None | Some("") => Ok(Resume::Fresh),
            Some(id) if id.len() > MAX_ID_LEN || EventId::new(id).is_err() => {
                Err(SubscribeError::LastEventId)
            }
            Some(id) => Ok(Resume::LastEventId(String::from(id))),
        };
        self
    }

    /// Resumes after `position` (from [`Publisher::position`] or
    /// [`Publisher::locate`]): for layers that supply older events
    /// themselves, as initial events.
    pub fn resume_after(mut self, position: Position) -> Self {
        self.resume = Ok(Resume::After(position.0));
        self
    }

    /// Opens the subscription.
    pub fn subscribe(self) -> Result<Subscription<P>, SubscribeError> {
        let names = self.channels?;
        let (initial, initial_bytes) = self.initial?;
        let resume = self.resume?;
        let shared = self.publisher.shared();
        let config = &shared.config;

        let mut state = lock(&shared.state);
        if state.closed {
            return Err(SubscribeError::Closed);
        }
        if state.subscribers >= config.max_subscribers {
            return Err(SubscribeError::TooManySubscribers {
                limit: config.max_subscribers,
            });
        }
        let set = match &names {
            Some(names) => state.channel_set(names, names.len()),
            None => state.channel_set(&(), 1),
        };
        let last = state.last;
        let replay = match resume {
            Resume::Fresh => None,
            Resume::LastEventId(id) => Some(match state.resolve(config, &id) {
                Some(position) => Replay::new(position, last, false),
                None => Replay::new(last, last, true),
            }),
            Resume::After(position) => Some(Replay::new(position.min(last), last, false)),
        };
        let id = SubscriberId(state.next_subscriber);
        state.next_subscriber += 1;
        let slot = Arc::new(Slot::new(
            id,
            self.properties,
            set,
            initial,
            initial_bytes,
            last,
        ));
        for name in slot.channels.as_slice() {
            state
                .channels
                .entry(Arc::clone(name))
                .or_default()
                .insert(id.0, Arc::clone(&slot));
        }
        state.subscribers += 1;
        state.stats.subscribed += 1;
        drop(state);
        Ok(Subscription {
            shared: Arc::clone(shared),
            slot,
            replay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Chunk, Digits, RESET_LAGGED, ResetReason, parse_decimal};

    #[test]
    fn reset_events_are_as_documented() {
        assert_eq!(
            Chunk::encode(ResetReason::Lagged.event()).as_bytes(),
            RESET_LAGGED
        );
        assert_eq!(
            Chunk::encode(ResetReason::History.event()).as_bytes(),
            b"event: sse-reset\ndata: history\n\n"
        );
    }

    #[test]
    fn digits_and_parsing_round_trip() {
        for n in [0, 1, 9, 10, 1_700_000_000_000, u64::MAX] {
            let mut digits = Digits::default();
            let text = core::str::from_utf8(digits.format(n)).unwrap();
            assert_eq!(parse_decimal(text), Some(n));
        }
        for bad in ["", "01", "+1", "1a", " 1", "18446744073709551616", "-0"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
