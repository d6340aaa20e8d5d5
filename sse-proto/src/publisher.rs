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
//! client is on all of its channels. With an [`IdPrefix`]
//! ([`PublisherConfig::with_id_prefix`]) the id is `<prefix>-<position>`:
//! a server that gives each start a fresh prefix never issues the same id
//! twice, and an id from another run (another prefix, or none) is unknown,
//! so that client gets the reset event rather than this run's events that
//! happen to follow the same number. An event may carry its own id instead
//! (an id from Redis, say): it is sent as is and indexed, so a client coming
//! back with it resumes right after that event. If several events carry the
//! same id, the newest counts. A caller's id that looks like a generated one
//! (a decimal number, or this run's prefix and a number) shadows it: use
//! ids of another shape, or turn generation off.
//!
//! A publisher whose events are kept elsewhere (on disk) starts again where
//! it stopped with [`Publisher::restore`]: the stored events go back into
//! the history with their positions and ids, and the sequence goes on.
//!
//! The history keeps recent events, bounded by count and bytes
//! ([`PublisherConfig::with_history`]). A subscriber that gives the id of the last
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
//! even though the bytes are shared, plus 24 bytes of bookkeeping (the
//! queue slot: the chunk and its position). Publishing
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
mod errors;
mod fanout;
mod history;
mod ids;
mod resume;
mod state;
mod subscribe;
mod subscription;

use core::fmt;

pub use channels::{
    ChannelError, ChannelList, Channels, DEFAULT_CHANNEL, MAX_CHANNEL_LEN, check_channel,
};
pub use chunk::Chunk;
pub use config::{ConfigError, LagPolicy, PublisherConfig};
pub use errors::{PublishError, RestoreError, SubscribeError};
pub use ids::{IdPrefix, LastEventIdError, parse_last_event_id};
pub use resume::{ResumePlan, Resumption};
pub use state::{PublishObserver, Publisher};
pub use subscribe::Subscribe;
pub use subscription::{Subscriber, SubscriberId, SubscriberStats, Subscription, queue_cost};

use core::ops::Range;

use crate::{DEFAULT_MAX_ID_LEN, Event, EventId, EventType};
use ids::GeneratedId;

/// The `event` type of the [reset event](self#the-reset-event).
pub const RESET_EVENT_TYPE: &str = "sse-reset";

/// The `event` type of the event a subscriber gets when the server ends its
/// channel for good ([`close_event`], sent by the hub's channel close): a
/// client stops reconnecting when it sees it (the chat page does).
pub const CLOSE_EVENT_TYPE: &str = "sse-close";

/// The longest event id accepted, in bytes, whether published or received
/// as `Last-Event-ID`: the decoder's default id limit, so that every id a
/// publisher sends can be read back by a default decoder.
pub const MAX_ID_LEN: usize = DEFAULT_MAX_ID_LEN;

/// The event that tells a subscriber its channel was closed by the server
/// (type [`CLOSE_EVENT_TYPE`], no id), with `data` saying why; a farewell
/// for [`Publisher::disconnect`].
pub const fn close_event(data: &str) -> Event<'_> {
    Event::new(data).with_type(EventType::from_line(CLOSE_EVENT_TYPE.as_bytes()))
}

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
        Event::new(self.as_str()).with_type(EventType::from_line(RESET_EVENT_TYPE.as_bytes()))
    }
}

/// Where an event sits in its publisher's sequence: increasing by one per
/// publish, and the event's id when ids are generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(u64);

impl Position {
    /// The position `n`: for [`Publisher::restore`] and
    /// [`PublisherConfig::check_event`], from a store that kept it.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Published {
    pub(crate) position: Position,
    pub(crate) reached: usize,
    pub(crate) lagged: usize,
    pub(crate) id: PublishedId,
}

/// Where a publish's id is kept, without a copy of its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PublishedId {
    /// The event went out without an id.
    None,
    /// Inside the encoded event.
    InChunk(Chunk, Range<usize>),
    /// A generated id of a per-subscriber publish.
    Generated(GeneratedId),
}

impl Published {
    /// The event's position (its id, when ids are generated).
    pub const fn position(&self) -> Position {
        self.position
    }

    /// The id the event went out with: its own, or the generated one; `None`
    /// when it has none (ids not generated), or for a per-subscriber publish
    /// whose events carry their own ids.
    ///
    /// ```
    /// use sse_proto::{Event, EventId};
    /// use sse_proto::publisher::Publisher;
    ///
    /// let publisher: Publisher = Publisher::new();
    /// assert_eq!(publisher.publish(Event::new("a"), "news")?.id(), Some(EventId::new("1")?));
    /// let own = Event::new("b").with_id(EventId::new("b-7")?);
    /// assert_eq!(publisher.publish(own, "news")?.id(), Some(EventId::new("b-7")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> Option<EventId<'_>> {
        match &self.id {
            PublishedId::None => None,
            PublishedId::InChunk(chunk, range) => {
                chunk.get(range.clone()).map(EventId::from_checked)
            }
            PublishedId::Generated(digits) => Some(digits.as_id()),
        }
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
    /// Subscriptions that resumed from a `Last-Event-ID` this publisher
    /// knows (or from a position, [`Subscribe::resume_after`]): what they
    /// missed is replayed from the history.
    pub replays_served: u64,
    /// Subscriptions that asked to resume from a `Last-Event-ID` this
    /// publisher does not know: they got the reset event first.
    pub replays_reset: u64,
    /// Events replayed from the history to resuming subscribers.
    pub replayed: u64,
    /// Streams ended by the server rather than by lag: their channel was
    /// closed ([`Publisher::disconnect`]), every stream was ended
    /// ([`Publisher::disconnect_all`]), or the publisher was closed.
    pub ended: u64,
    /// Events in the history now.
    pub history_events: usize,
    /// Bytes in the history now.
    pub history_bytes: usize,
    /// Bytes queued for subscribers now and not yet read, as counted
    /// against their queue bounds ([`queue_cost`]). Summed when asked: one
    /// short lock per subscriber.
    pub queued_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::{CLOSE_EVENT_TYPE, Chunk, RESET_LAGGED, ResetReason, close_event};

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
    fn the_close_event_has_its_type() {
        let event = close_event("bye");
        assert_eq!(event.event_type().as_text(), CLOSE_EVENT_TYPE);
        assert_eq!(
            Chunk::encode(event).as_bytes(),
            b"event: sse-close\ndata: bye\n\n"
        );
    }
}
