//! [`Publisher`]: the channel table, the publish paths and the commands
//! that end streams.

use core::fmt;
use std::collections::HashMap;
use std::string::String;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use super::channels::ChannelSet;
use super::fanout::{Fanout, encode_checked, encode_farewell, finish_all};
use super::history::{Entry, History};
use super::ids::parse_decimal;
use super::subscribe::Subscribe;
use super::subscription::{Lag, Slot};
use super::{
    ChannelError, ChannelList, Channels, Chunk, ConfigError, Position, PublishError, Published,
    PublishedId, PublisherConfig, ResetReason, RestoreError, Stats, SubscribeError, Subscriber,
    Subscription,
};
use crate::{Event, EventBuf, Frame};

/// Locks, ignoring poisoning: a panic in a `publish_with` closure leaves
/// the state consistent (at worst that publish reached some subscribers
/// and is not in the history).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A publisher's state behind its lock.
pub(crate) struct State<P> {
    pub(crate) closed: bool,
    /// The newest position issued.
    pub(crate) last: u64,
    pub(crate) next_subscriber: u64,
    pub(crate) subscribers: usize,
    /// Channels with at least one subscriber, and their subscribers.
    pub(crate) channels: HashMap<Arc<str>, HashMap<u64, Arc<Slot<P>>>>,
    pub(crate) history: History,
    pub(crate) stats: Stats,
    pub(crate) reset_history: Chunk,
    /// Told each position as it is published.
    pub(crate) observer: Option<PublishObserver>,
}

/// What [`Publisher::set_publish_observer`] calls with each position as it
/// is published.
pub type PublishObserver = Arc<dyn Fn(Position) + Send + Sync>;

impl<P> State<P> {
    /// The name as the channel table holds it, to share one allocation.
    fn intern(&self, name: &str) -> Arc<str> {
        match self.channels.get_key_value(name) {
            Some((key, _)) => Arc::clone(key),
            None => Arc::from(name),
        }
    }

    /// The interned set of a checked list of channels.
    pub(crate) fn channel_set(&self, channels: &ChannelList<'_>) -> ChannelSet {
        match channels.as_slice() {
            [one] => ChannelSet::One(self.intern(one)),
            many => ChannelSet::Many(many.iter().map(|name| self.intern(name)).collect()),
        }
    }

    /// The position a `Last-Event-ID` stands for, if this publisher knows it.
    pub(crate) fn resolve(&self, config: &PublisherConfig, id: &str) -> Option<u64> {
        if let Some(position) = self.history.find_id(id.as_bytes()) {
            return Some(position);
        }
        if !config.generate_ids {
            return None;
        }
        let n = match config.id_prefix {
            Some(prefix) => prefix.position_of(id)?,
            None => parse_decimal(id)?,
        };
        (n >= config.first_id - 1 && n <= self.last).then_some(n)
    }

    /// Unregisters every slot of `ended` (streams the server ended);
    /// returns how many there were.
    fn unregister_all(&mut self, ended: &[Arc<Slot<P>>]) -> usize {
        for slot in ended {
            self.unregister(slot);
        }
        self.stats.ended += ended.len() as u64;
        ended.len()
    }

    /// Tells the observer, if any, that `position` is being published.
    fn observe(&self, position: u64) {
        if let Some(observer) = &self.observer {
            observer(Position(position));
        }
    }

    pub(crate) fn unregister(&mut self, slot: &Slot<P>) {
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

/// What a publisher and its subscriptions share.
pub(crate) struct Shared<P> {
    pub(crate) config: PublisherConfig,
    pub(crate) lag: Lag,
    pub(crate) state: Mutex<State<P>>,
}

impl<P> Shared<P> {
    pub(crate) fn unregister(&self, slot: &Slot<P>) {
        lock(&self.state).unregister(slot);
    }

    fn close(&self, farewell: Option<&Chunk>) {
        let mut state = lock(&self.state);
        state.closed = true;
        let mut ended = 0u64;
        for members in state.channels.values() {
            for slot in members.values() {
                ended += u64::from(slot.finish(farewell));
            }
        }
        state.stats.ended += ended;
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
/// by [`subscribers`](Self::subscribers). See the [module](super) for ids,
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
                history: History::new(config),
                stats: Stats::default(),
                reset_history: Chunk::encode(ResetReason::History.event()),
                observer: None,
            }),
            config,
        };
        Self {
            handle: Arc::new(Handle(Arc::new(shared))),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared<P>> {
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
        Subscribe::new(self, properties)
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
        let channels = ChannelList::parse(channels.names(), config.max_channels)?;
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
            None => encode_checked(event.with_id(config.generated_id(position).as_id()), config)?,
        };
        state.last = position;
        state.observe(position);
        let set = state.channel_set(&channels);

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
        let id = match &id_range {
            Some(range) => PublishedId::InChunk(chunk.clone(), range.clone()),
            None => PublishedId::None,
        };
        state
            .history
            .push(Entry::new(position, set, Some(chunk)), id_range);
        Ok(outcome.finish(&mut state, position, id))
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
        let channels = ChannelList::parse(channels.names(), config.max_channels)?;
        let mut state = lock(&shared.state);
        if state.closed {
            return Err(PublishError::Closed);
        }
        let position = state.last.saturating_add(1);
        state.last = position;
        state.observe(position);
        let set = state.channel_set(&channels);
        // The marker goes in first, so that a resume across this position
        // gets the reset event even if the closure panics half-way.
        state
            .history
            .push(Entry::new(position, set.clone(), None), None);
        let digits = config.generated_id(position);
        let generated = digits.as_id();

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
                    Ok((chunk, _)) => {
                        outcome.record(slot, slot.enqueue(chunk, position, &shared.lag))
                    }
                    Err(_) => refused += 1,
                }
            }
        }
        state.stats.refused += refused;
        let id = if config.generate_ids {
            PublishedId::Generated(digits)
        } else {
            PublishedId::None
        };
        Ok(outcome.finish(&mut state, position, id))
    }

    /// Puts `event`, published to `channels` by an earlier run, back in
    /// the history at `position`, without sending it to anyone: how a
    /// publisher whose events are kept on disk starts again where it
    /// stopped. Call it for each stored event, oldest first, before anyone
    /// subscribes; then [`restore_position`](Self::restore_position) with
    /// the newest position the earlier run issued. The event gets the id a
    /// publish at `position` would have given it, so a client that resumes
    /// with an id from the earlier run gets exactly what it missed.
    ///
    /// Positions only grow: the next publish gets the one after. Positions
    /// skipped since the previous one (trimmed, or never restored) count as
    /// gone from the history, and so do the events restored before them
    /// (the history only ever loses its oldest events): a client resuming
    /// from before a gap gets the [reset event](super#the-reset-event)
    /// first, then what follows the gap. Restored events are kept within
    /// the history's bounds like published ones, and are not counted as
    /// published in [`Stats`].
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto::publisher::{Position, Publisher};
    ///
    /// let publisher: Publisher = Publisher::new();
    /// publisher.restore(Position::new(7), Event::new("seven"), "news")?;
    /// publisher.restore(Position::new(8), Event::new("eight"), "news")?;
    /// publisher.restore_position(Position::new(8))?;
    ///
    /// let mut back = publisher.subscriber(()).channels("news").last_event_id(Some("7")).subscribe()?;
    /// # let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// # let core::task::Poll::Ready(Some(chunk)) = back.poll_next(&mut cx) else { panic!() };
    /// assert_eq!(chunk.as_bytes(), b"id: 8\ndata: eight\n\n");
    /// assert_eq!(publisher.publish(Event::new("nine"), "news")?.position(), Position::new(9));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore<'e>(
        &self,
        position: Position,
        event: impl Into<Event<'e>>,
        channels: impl Channels,
    ) -> Result<(), RestoreError> {
        let event = event.into();
        let shared = self.shared();
        let config = &shared.config;
        let channels = ChannelList::parse(channels.names(), config.max_channels)
            .map_err(|error| RestoreError::Publish(error.into()))?;
        let position = position.0;
        let event = match event.id() {
            None if config.generate_ids => {
                let id = config.generated_id(position);
                encode_checked(event.with_id(id.as_id()), config)
            }
            _ => encode_checked(event, config),
        };
        let (chunk, id_range) = event.map_err(RestoreError::Publish)?;
        let mut state = lock(&shared.state);
        Self::check_restore(&state, position)?;
        if position > state.last.saturating_add(1) {
            state.history.forget_up_to(position - 1);
        }
        state.last = position;
        let set = state.channel_set(&channels);
        state
            .history
            .push(Entry::new(position, set, Some(chunk)), id_range);
        Ok(())
    }

    /// Takes every position up to `position`, as an earlier run did: the
    /// next publish gets the one after. If that skips positions, they count
    /// as gone from the history, as with [`restore`](Self::restore) (and so
    /// does every event restored before them): a client resuming from
    /// before them gets the reset event. Before anyone subscribes, as
    /// `restore`.
    pub fn restore_position(&self, position: Position) -> Result<(), RestoreError> {
        let mut state = lock(&self.shared().state);
        if position.0 == state.last {
            return Ok(());
        }
        Self::check_restore(&state, position.0)?;
        state.history.forget_up_to(position.0);
        state.last = position.0;
        Ok(())
    }

    /// Why a restore at `position` cannot be done now, if it cannot.
    fn check_restore(state: &State<P>, position: u64) -> Result<(), RestoreError> {
        if state.closed {
            return Err(RestoreError::Publish(PublishError::Closed));
        }
        if state.subscribers > 0 {
            return Err(RestoreError::Subscribed);
        }
        if position <= state.last || position > 1 << 63 {
            return Err(RestoreError::NotAfter {
                last: Position(state.last),
            });
        }
        Ok(())
    }

    /// The live subscribers of `channels`, each once, in subscription order.
    pub fn subscribers(&self, channels: impl Channels) -> Result<Vec<Subscriber<P>>, ChannelError> {
        let shared = self.shared();
        let channels = ChannelList::parse(channels.names(), shared.config.max_channels)?;
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

    /// The counters. [`Stats::queued_bytes`] is summed now, under the
    /// publisher's lock: one short lock of each subscriber's queue.
    pub fn stats(&self) -> Stats {
        let state = lock(&self.shared().state);
        // Each subscriber once: under the first of its channels.
        let queued_bytes = state
            .channels
            .iter()
            .flat_map(|(name, members)| {
                members.values().filter(move |slot| {
                    slot.channels
                        .as_slice()
                        .first()
                        .is_some_and(|first| first == name)
                })
            })
            .map(|slot| slot.queued_bytes())
            .fold(0usize, usize::saturating_add);
        Stats {
            subscribers: state.subscribers,
            history_events: state.history.len(),
            history_bytes: state.history.bytes(),
            queued_bytes,
            ..state.stats
        }
    }

    /// Every channel that has subscribers, with how many, by name.
    pub fn channel_subscribers(&self) -> Vec<(String, usize)> {
        let state = lock(&self.shared().state);
        let mut channels: Vec<(String, usize)> = state
            .channels
            .iter()
            .map(|(name, members)| (String::from(&**name), members.len()))
            .collect();
        drop(state);
        channels.sort_unstable();
        channels
    }

    /// Calls `observer` with the position of each event as it is published
    /// ([`publish`](Self::publish), [`publish_with`](Self::publish_with)),
    /// before it is queued for anyone; `None` removes it. For a layer that
    /// times deliveries: it notes the instant of each position (this crate
    /// reads no clock), and its writers compare it with the instant they
    /// write the chunk whose [`Subscription::last_position`] it is. One
    /// observer per publisher: a second replaces the first. It runs under
    /// the publisher's lock, once per publish: keep it short, and do not
    /// call the publisher from it.
    pub fn set_publish_observer(&self, observer: Option<PublishObserver>) {
        lock(&self.shared().state).observer = observer;
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
        let channels = ChannelList::parse(channels.names(), config.max_channels)?;
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
