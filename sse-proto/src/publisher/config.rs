//! [`PublisherConfig`] and [`LagPolicy`].

use core::fmt;
use core::time::Duration;

use super::fanout::encode_checked;
use super::history::HISTORY_OVERHEAD;
use super::ids::GeneratedId;
use super::subscription::ENTRY_OVERHEAD;
use super::{IdPrefix, Position, PublishError};
use crate::Event;

/// What happens to a subscriber whose queue is full: one that reads more
/// slowly than events are published.
///
/// Either way the subscriber never slows the publisher or the others, its
/// memory stays within [`PublisherConfig::queue_bytes`], and the lag is
/// counted ([`Stats`](super::Stats), [`SubscriberStats`](super::SubscriberStats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LagPolicy {
    /// Drop the subscriber's queue, send it a `retry:` hint
    /// ([`PublisherConfig::lag_retry`]) and end its stream. Its client
    /// reconnects with `Last-Event-ID` and gets what it missed from the
    /// history, so nothing is lost while the history still holds it. The
    /// default.
    #[default]
    Disconnect,
    /// Drop the oldest queued events to make room and send the
    /// [reset event](super#the-reset-event) (`lagged`) in their place, so the
    /// client knows to reload its state.
    DropOldest,
}

/// The limits and behaviour of a [`Publisher`](super::Publisher).
///
/// ```
/// use core::time::Duration;
/// use sse_proto::publisher::{LagPolicy, Publisher, PublisherConfig};
///
/// let config = PublisherConfig::new()
///     .with_history(10_000, 8 << 20)
///     .with_queue_bytes(1 << 20)
///     .with_lag_policy(LagPolicy::DropOldest)
///     .with_lag_retry(Some(Duration::from_millis(250)))
///     .with_first_id(1_700_000_000_000);
/// let publisher: Publisher = Publisher::with_config(config)?;
/// assert_eq!(publisher.config().queue_bytes(), 1 << 20);
/// # Ok::<(), sse_proto::publisher::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublisherConfig {
    pub(crate) history_events: usize,
    pub(crate) history_bytes: usize,
    pub(crate) queue_bytes: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) lag_policy: LagPolicy,
    pub(crate) lag_retry: Option<Duration>,
    pub(crate) generate_ids: bool,
    pub(crate) id_prefix: Option<IdPrefix>,
    pub(crate) first_id: u64,
    pub(crate) max_subscribers: usize,
    pub(crate) max_channels: usize,
}

impl PublisherConfig {
    /// The defaults: a history of 1024 events and 1 MiB, queues of 256 KiB,
    /// events up to 64 KiB, [`LagPolicy::Disconnect`] with a 1 s retry hint,
    /// generated ids from 1 (plain decimal: no [`IdPrefix`]), up to 10,000
    /// subscribers and 16 channels per call.
    pub const fn new() -> Self {
        Self {
            history_events: 1024,
            history_bytes: 1 << 20,
            queue_bytes: 256 << 10,
            max_event_bytes: 64 << 10,
            lag_policy: LagPolicy::Disconnect,
            lag_retry: Some(Duration::from_secs(1)),
            generate_ids: true,
            id_prefix: None,
            first_id: 1,
            max_subscribers: 10_000,
            max_channels: 16,
        }
    }

    /// The history kept for resuming clients: at most `events` events and
    /// `bytes` bytes (encoded size plus 64 bytes of bookkeeping per event),
    /// oldest dropped first. `with_history(0, 0)` keeps none: every resume that
    /// missed an event gets the reset event.
    pub const fn with_history(mut self, events: usize, bytes: usize) -> Self {
        self.history_events = events;
        self.history_bytes = bytes;
        self
    }

    /// The most a subscriber may have queued and not yet read, in bytes:
    /// the encoded size of each event (counted in full even though the
    /// bytes are shared) plus 24 bytes of bookkeeping per event. Must leave
    /// room for the largest event and a reset event.
    pub const fn with_queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes;
        self
    }

    /// The largest encoded event accepted, in bytes; larger events are
    /// refused with [`PublishError::EventTooLarge`](super::PublishError).
    pub const fn with_max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// What to do with subscribers that fall behind.
    pub const fn with_lag_policy(mut self, policy: LagPolicy) -> Self {
        self.lag_policy = policy;
        self
    }

    /// The `retry:` hint sent to a subscriber disconnected by
    /// [`LagPolicy::Disconnect`] before its stream ends; `None` sends none.
    /// Whole milliseconds.
    pub const fn with_lag_retry(mut self, retry: Option<Duration>) -> Self {
        self.lag_retry = retry;
        self
    }

    /// Whether events published without an id get one: the decimal
    /// [`Position`](super::Position), increasing by one per publish (after
    /// the [prefix](Self::with_id_prefix), if set). On by default. Events
    /// that carry their own id keep it either way.
    pub const fn with_generate_ids(mut self, on: bool) -> Self {
        self.generate_ids = on;
        self
    }

    /// The prefix of generated ids: with one, ids are
    /// `<prefix>-<position>` and a `Last-Event-ID` with another prefix (or
    /// none) is unknown, so a client coming back from an earlier run gets
    /// the [reset event](super#the-reset-event) instead of a replay of
    /// this run's events that happen to have the same numbers. Give every
    /// start of a server a fresh one ([`IdPrefix::new`] from the clock and
    /// random bits). `None` (the default): plain decimal ids.
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto::publisher::{IdPrefix, Publisher, PublisherConfig};
    ///
    /// let prefix = IdPrefix::new(1_700_000_000_000, 0x0123_4567);
    /// let publisher: Publisher =
    ///     Publisher::with_config(PublisherConfig::new().with_id_prefix(Some(prefix)))?;
    /// let id = publisher.publish(Event::new("a"), "news")?.id().map(|id| id.to_string());
    /// assert_eq!(id.as_deref(), Some("018bcfe5680001234567-1"));
    /// assert!(publisher.locate("018bcfe5680001234567-1").is_some());
    /// assert!(publisher.locate("1").is_none()); // an id of a run without the prefix
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn with_id_prefix(mut self, prefix: Option<IdPrefix>) -> Self {
        self.id_prefix = prefix;
        self
    }

    /// The position (and generated id) of the first event published; at
    /// least 1 and at most 2^63. The publisher reads no clock: seed this
    /// from one (milliseconds since the Unix epoch, say) so that ids from an
    /// earlier run of the process are told apart from this run's and get
    /// the reset event instead of a wrong replay.
    pub const fn with_first_id(mut self, id: u64) -> Self {
        self.first_id = id;
        self
    }

    /// The most subscribers at once; more are refused with
    /// [`SubscribeError::TooManySubscribers`](super::SubscribeError).
    pub const fn with_max_subscribers(mut self, count: usize) -> Self {
        self.max_subscribers = count;
        self
    }

    /// The most channels one subscribe or publish call may name.
    pub const fn with_max_channels(mut self, count: usize) -> Self {
        self.max_channels = count;
        self
    }

    /// The most events kept in the history.
    pub const fn history_events(&self) -> usize {
        self.history_events
    }

    /// The most bytes kept in the history.
    pub const fn history_bytes(&self) -> usize {
        self.history_bytes
    }

    /// The bound of each subscriber's queue, in bytes.
    pub const fn queue_bytes(&self) -> usize {
        self.queue_bytes
    }

    /// The largest encoded event accepted.
    pub const fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The policy for subscribers that fall behind.
    pub const fn lag_policy(&self) -> LagPolicy {
        self.lag_policy
    }

    /// The `retry:` hint sent when disconnecting a lagging subscriber.
    pub const fn lag_retry(&self) -> Option<Duration> {
        self.lag_retry
    }

    /// Whether ids are generated.
    pub const fn generate_ids(&self) -> bool {
        self.generate_ids
    }

    /// The prefix of generated ids, if any.
    pub const fn id_prefix(&self) -> Option<IdPrefix> {
        self.id_prefix
    }

    /// The position of the first event.
    pub const fn first_id(&self) -> u64 {
        self.first_id
    }

    /// The most subscribers at once.
    pub const fn max_subscribers(&self) -> usize {
        self.max_subscribers
    }

    /// The most channels per call.
    pub const fn max_channels(&self) -> usize {
        self.max_channels
    }

    /// Checks `event` as a publish at `position` would, with the id it
    /// would be given, and returns its encoded length: for a layer that
    /// must know that the publisher will take an event before it commits
    /// it elsewhere (to disk, say), and what it will cost in the history
    /// ([`history_cost`](Self::history_cost)).
    ///
    /// ```
    /// use sse_proto::Event;
    /// use sse_proto::publisher::{Position, PublishError, PublisherConfig};
    ///
    /// let config = PublisherConfig::new().with_max_event_bytes(19);
    /// // `id: 9\ndata: hello\n\n`
    /// assert_eq!(config.check_event(Event::new("hello"), Position::new(9)), Ok(19));
    /// assert!(matches!(
    ///     config.check_event(Event::new("hello"), Position::new(10)),
    ///     Err(PublishError::EventTooLarge { len: 20, limit: 19 })
    /// ));
    /// ```
    pub fn check_event(&self, event: Event<'_>, position: Position) -> Result<usize, PublishError> {
        // Encoded to be checked by the publisher's own rule; the bytes are
        // dropped (a publish encodes the event again).
        let (chunk, _) = match event.id() {
            None if self.generate_ids => {
                let id = self.generated_id(position.get());
                encode_checked(event.with_id(id.as_id()), self)?
            }
            _ => encode_checked(event, self)?,
        };
        Ok(chunk.len())
    }

    /// The id generated for the event at `position`.
    pub(crate) fn generated_id(&self, position: u64) -> GeneratedId {
        GeneratedId::new(self.id_prefix, position)
    }

    /// What an event of `encoded_len` bytes costs in the history: its bytes
    /// plus 64 of bookkeeping, counted against the history's byte bound.
    pub const fn history_cost(&self, encoded_len: usize) -> usize {
        encoded_len.saturating_add(HISTORY_OVERHEAD)
    }

    /// Whether a history of `events` events costing `bytes` in all
    /// ([`history_cost`](Self::history_cost)) is within the bounds: the
    /// history drops its oldest events until it is. A store that keeps the
    /// history elsewhere (on disk, say) trims by the same rule, so that it
    /// holds what the publisher holds.
    pub const fn history_holds(&self, events: usize, bytes: usize) -> bool {
        events <= self.history_events && bytes <= self.history_bytes
    }

    /// The smallest queue that holds the largest event and a reset event.
    pub(crate) const fn min_queue_bytes(&self) -> usize {
        self.max_event_bytes
            .saturating_add(ENTRY_OVERHEAD)
            .saturating_add(super::RESET_LAGGED.len() + ENTRY_OVERHEAD)
    }

    pub(crate) const fn check(&self) -> Result<(), ConfigError> {
        let required = self.min_queue_bytes();
        if self.queue_bytes < required {
            return Err(ConfigError::QueueTooSmall { required });
        }
        if self.first_id == 0 || self.first_id > 1 << 63 {
            return Err(ConfigError::FirstId);
        }
        Ok(())
    }
}

impl Default for PublisherConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a [`PublisherConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigError {
    /// The queue bound cannot hold the largest event and a reset event.
    QueueTooSmall {
        /// The smallest queue bound for the configured event size.
        required: usize,
    },
    /// The first id is 0 or above 2^63.
    FirstId,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueTooSmall { required } => write!(
                f,
                "queue bound too small for the largest event: at least {required} bytes needed"
            ),
            Self::FirstId => f.write_str("the first id must be between 1 and 2^63"),
        }
    }
}

impl core::error::Error for ConfigError {}
