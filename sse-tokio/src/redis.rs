//! Several nodes, one stream: fan-out through Redis Streams (feature
//! `redis`).
//!
//! A [`RedisPublisher`] wraps a node's local [`Publisher`]. Publishing
//! appends the event to Redis, whose id becomes the event's SSE id on every
//! node; each node reads everything appended, in order, and feeds it into
//! its local publisher, which encodes each event once for all its local
//! subscribers. A client that reconnects to any node with its
//! `Last-Event-ID` gets exactly what it missed on its channels, in order,
//! once.
//!
//! ```text
//!  publish ─▶ Lua: XADD {sse}:all (id from Redis) + XADD {sse}:ch:<c> (same id)
//!                        │
//!      node A reader ◀───┴───▶ node B reader      (XREAD BLOCK, one connection per node)
//!            │                      │
//!      local Publisher        local Publisher     (history, queues, SseBody)
//! ```
//!
//! ```no_run
//! use sse_tokio::Publisher;
//! use sse_tokio::proto::Event;
//! use sse_tokio::publisher::PublisherConfig;
//! use sse_tokio::redis::{RedisConfig, RedisPublisher};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Ids come from Redis: the local publisher must not make its own.
//! let local: Publisher = Publisher::with_config(PublisherConfig::new().with_generate_ids(false))?;
//! let redis = RedisPublisher::connect(local, RedisConfig::new("redis://127.0.0.1:6379")).await?;
//!
//! let mut news = redis.subscriber(()).channels("news").subscribe().await?;
//! let id = redis.publish(Event::new("hello"), "news").await?; // on any node
//! let chunk = news.next().await.expect("the event");
//! assert_eq!(chunk.as_bytes(), format!("id: {id}\ndata: hello\n\n").as_bytes());
//!
//! // A client coming back (to any node) with the id of the last event it saw.
//! let again = redis.subscriber(()).channels(["news", "sport"]).last_event_id(Some("1700000000000-0")).subscribe().await?;
//! # drop(again);
//! # Ok(())
//! # }
//! ```
//!
//! # Keys
//!
//! All keys share the hash tag `{prefix}` ([`RedisConfig::prefix`], `sse` by
//! default), so they sit in one Redis Cluster slot:
//!
//! - `{prefix}:all`: every event, in order: the live feed the nodes read,
//!   bounded to about [`RedisConfig::feed_cap`] entries.
//! - `{prefix}:ch:<channel>`: each channel's events, with the same ids: the
//!   history resuming clients are served from, [`RedisConfig::retention`]
//!   events each.
//!
//! Each entry has the fields `t` (type, empty for `message`), `d` (data),
//! `c` (channels, separated by a space) and `p` (the id of the previous
//! entry of the same stream, so that trimmed entries are noticed). One Lua
//! script appends to all of a publish's streams atomically.
//!
//! # Ids
//!
//! The id is the one Redis gives the entry in the global stream
//! (`<milliseconds>-<sequence>`, a [`RedisId`]): the same on every node,
//! and totally ordered across channels, so one `Last-Event-ID` says where a
//! client is on all of its channels. Ids are time based, so they keep
//! growing even if Redis restarts without its data. An event that carries
//! its own id is refused ([`Error::OwnId`]).
//!
//! # Resuming
//!
//! A subscribe with a `Last-Event-ID` is served from the local history when
//! it knows the id, and from Redis otherwise (a client coming from another
//! node, or a node that just started): the missed events of the client's
//! channels, read from their streams up to what this node has fed into its
//! publisher, merged by id, each once, are sent as initial events, and the
//! subscription carries on from the local publisher right after them. When
//! a channel's stream no longer holds everything after the id (older than
//! [`RedisConfig::retention`]), or what was missed does not fit in the
//! subscriber's queue ([`PublisherConfig::queue_bytes`](sse_proto::publisher::PublisherConfig::queue_bytes)),
//! the client gets the [reset event](sse_proto::publisher#the-reset-event)
//! (`sse-reset`, data `history`) first, and then what there is (or only
//! live events, when too much was missed). An id that is not a Redis id and
//! unknown here gets the reset event, then live events.
//!
//! # Failures
//!
//! When Redis is unreachable, publishing fails ([`Error::Redis`]), never
//! silently; local subscribers stay connected. The reader reconnects by
//! itself (with backoff) and carries on from the last entry it fed, so
//! what was published meanwhile through other nodes arrives, in order,
//! without gaps or duplicates. [`RedisPublisher::health`] reports the link.
//! If a node falls so far behind that the global stream was trimmed past its
//! position, or Redis lost its data, it cannot deliver what it missed: it
//! logs it and ends its local streams with a `retry:` hint, and its clients
//! resume from the channels' streams.
//!
//! Publish only through the [`RedisPublisher`]: events published straight
//! into its local publisher reach local subscribers only and break the
//! local history's order.
//!
//! # Deployment
//!
//! One Redis (5.0 or later; tested with 7.0) that every node reaches: the
//! keys of a prefix share one Redis Cluster slot, but this layer speaks to
//! a single server, not through a cluster client. Turn on persistence
//! (`appendonly yes`) so that a restart keeps the history; a Redis that
//! comes back empty is noticed, and its nodes' clients get the reset event
//! rather than a silent gap. Each node holds two connections: one for its
//! blocking reads, one (multiplexed) for publishes and resumes.

mod config;
mod error;
mod feed;
mod id;
mod link;
mod scripts;
#[cfg(feature = "server")]
mod source;

use core::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use sse_proto::publisher::{
    Channels, Chunk, DEFAULT_CHANNEL, MAX_ID_LEN, Position, PublishError, Publisher, ResetReason,
    SubscribeError, Subscription, check_channel,
};
use sse_proto::{Event, EventBuf, EventId, EventType, Text};

pub use config::RedisConfig;
pub use error::Error;
pub use id::{ParseIdError, RedisId};

use feed::{Feed, Reader};
use link::{Link, lock};
use scripts::{Entry, Keys, Scripts};

/// The longest id Redis can give, for sizing an event before it has one.
const LONGEST_ID: &str = "18446744073709551615-18446744073709551615";

/// What a queued event costs beyond its encoded bytes: the queue slot that
/// holds its chunk (the 16 bytes
/// [`PublisherConfig::queue_bytes`](sse_proto::publisher::PublisherConfig::queue_bytes)
/// documents).
const QUEUE_OVERHEAD: usize = size_of::<Chunk>();

/// The state of a node's link to Redis, as the reader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Whether the reader is connected and reading.
    pub up: bool,
    /// When the link last went up or down (or connected first).
    pub since: SystemTime,
    /// The last error talking to Redis, if any.
    pub last_error: Option<String>,
    /// The id of the last entry this node fed into its publisher.
    pub cursor: RedisId,
}

/// A node's [`Publisher`] joined to the others through Redis Streams: see
/// the [module](self). Cheap to clone; the reader task stops when the last
/// clone is dropped or the local publisher is closed.
pub struct RedisPublisher<P = ()> {
    inner: Arc<Inner<P>>,
}

struct Inner<P> {
    publisher: Publisher<P>,
    config: RedisConfig,
    keys: Keys,
    scripts: Scripts,
    link: Arc<Link>,
    feed: Arc<Feed>,
    reader: tokio::task::AbortHandle,
}

impl<P> Drop for Inner<P> {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl<P> Clone for RedisPublisher<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P> fmt::Debug for RedisPublisher<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPublisher")
            .field("config", &self.inner.config)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

impl<P: Send + Sync + 'static> RedisPublisher<P> {
    /// Connects `publisher` (this node's, with
    /// [`generate_ids(false)`](sse_proto::publisher::PublisherConfig::generate_ids))
    /// to Redis and starts this node's reader task, which feeds it from the
    /// newest entry on. Fails if the configuration is invalid or Redis
    /// cannot be reached now (a wrong URL or password shows at once); after
    /// that, outages are ridden out. Needs a tokio runtime.
    pub async fn connect(publisher: Publisher<P>, config: RedisConfig) -> Result<Self, Error> {
        config.check().map_err(Error::Config)?;
        if publisher.config().generate_ids() {
            return Err(Error::Config(
                "the local publisher generates ids; through Redis, ids come from Redis: \
                 use PublisherConfig::generate_ids(false)"
                    .into(),
            ));
        }
        let link = Arc::new(Link::new(&config)?);
        let keys = Keys::new(&config.prefix);
        let cursor = newest(&link, &keys).await?;
        let feed = Arc::new(Feed::new(cursor));
        let reader = Reader {
            publisher: publisher.clone(),
            link: Arc::clone(&link),
            feed: Arc::clone(&feed),
            keys: keys.clone(),
            config: config.clone(),
        };
        let reader = tokio::spawn(reader.run()).abort_handle();
        tracing::info!(url = %config.url_redacted(), prefix = %config.prefix, %cursor, "connected to Redis");
        Ok(Self {
            inner: Arc::new(Inner {
                publisher,
                config,
                keys,
                scripts: Scripts::new(),
                link,
                feed,
                reader,
            }),
        })
    }
}

impl<P> RedisPublisher<P> {
    /// The local publisher: for its subscribers, stats and configuration.
    /// Publish through [`publish`](Self::publish), not into it.
    pub fn publisher(&self) -> &Publisher<P> {
        &self.inner.publisher
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// The link to Redis now.
    pub fn health(&self) -> Health {
        self.inner.link.health(self.inner.feed.cursor())
    }

    /// Appends `event` to Redis for `channels` and returns the id Redis gave
    /// it, which is its SSE id on every node. Every node's subscribers of
    /// those channels get it, this node's too, once its reader reads it
    /// back (a round trip later).
    ///
    /// The event must not carry an id ([`Error::OwnId`]). Channels and size
    /// are checked against the local publisher's limits before anything is
    /// sent ([`Error::Publish`]). When Redis is unreachable or does not
    /// answer in time, it fails with [`Error::Redis`].
    pub async fn publish<'e>(
        &self,
        event: impl Into<Event<'e>>,
        channels: impl Channels,
    ) -> Result<RedisId, Error> {
        let event = event.into();
        if event.id().is_some() {
            return Err(Error::OwnId);
        }
        let inner = &*self.inner;
        let limits = inner.publisher.config();
        let names =
            channel_names(&channels, limits.max_channels()).map_err(PublishError::Channel)?;
        drop(channels);
        // Sized with the longest id Redis could give, so that every node
        // (with the same limits) accepts it. (The constant is a valid id.)
        let len = EventId::new(LONGEST_ID)
            .map_or(event, |id| event.with_id(id))
            .encoded_len();
        if len > limits.max_event_bytes() {
            return Err(PublishError::EventTooLarge {
                len,
                limit: limits.max_event_bytes(),
            }
            .into());
        }
        let event_type: &[u8] = if event.event_type().is_message() {
            b""
        } else {
            event.event_type().as_text().as_bytes()
        };
        let mut invocation = inner.scripts.publish.prepare_invoke();
        invocation.key(&inner.keys.all);
        for name in &names {
            invocation.key(inner.keys.channel(name));
        }
        invocation
            .arg(inner.config.feed_cap)
            .arg(inner.config.retention)
            .arg(event_type)
            .arg(event.data().as_bytes())
            .arg(names.join(" "));
        let reply = inner.link.invoke(&invocation).await?;
        Ok(scripts::id(reply)?)
    }

    /// Starts a subscription: channels (the default channel unless given),
    /// initial events, and the client's `Last-Event-ID`. See
    /// [`RedisSubscribe::subscribe`].
    pub fn subscriber(&self, properties: P) -> RedisSubscribe<'_, P> {
        RedisSubscribe {
            redis: self,
            properties,
            channels: Vec::new(),
            initial: Vec::new(),
            last_event_id: None,
        }
    }

    /// The id of the newest entry of the global stream (`0-0` if none).
    async fn newest(&self) -> Result<RedisId, Error> {
        newest(&self.inner.link, &self.inner.keys).await
    }

    /// What a client that saw `after` missed on `channels` up to `until`
    /// (inclusive), from the channels' streams, within `budget` bytes of
    /// queue.
    async fn missed(
        &self,
        channels: &[String],
        after: RedisId,
        until: RedisId,
        budget: usize,
    ) -> Result<Missed, Error> {
        let Some(from) = after.next() else {
            return Ok(Missed::default());
        };
        let inner = &*self.inner;
        // The cheapest event with an id (the constant is a valid id).
        let smallest = EventId::new("0-1")
            .map_or(Event::new(""), |id| Event::new("").with_id(id))
            .encoded_len()
            + QUEUE_OVERHEAD;
        // More entries than could fit on one channel means too many.
        let limit = budget / smallest + 1;
        let mut invocation = inner.scripts.history.prepare_invoke();
        invocation.key(&inner.keys.all);
        for name in channels {
            invocation.key(inner.keys.channel(name));
        }
        invocation
            .arg(from.to_string())
            .arg(until.to_string())
            .arg(limit + 1);
        let reply = inner.link.invoke(&invocation).await?;
        let (global, histories) = scripts::history_reply(reply)?;

        // The log itself began after the client's id (Redis lost its data,
        // or the id is from another deployment): whatever it saw before
        // may be followed by events that are gone.
        let mut missed = Missed {
            reset_first: global
                .is_some_and(|oldest| oldest.prev == Some(RedisId::ZERO) && oldest.id > after),
            entries: Vec::new(),
        };
        let mut too_many = false;
        let mut entries: Vec<Entry> = Vec::new();
        for history in histories {
            // The oldest entry kept was preceded, on this channel, by one
            // newer than the client's id: that one was trimmed away.
            let trimmed = history.oldest.is_some_and(|oldest| {
                oldest.id > after && oldest.prev.is_none_or(|prev| prev > after)
            });
            missed.reset_first |= trimmed;
            too_many |= history.entries.len() > limit;
            entries.extend(history.entries);
        }
        entries.sort_by_key(|entry| entry.id);
        entries.dedup_by_key(|entry| entry.id);

        let max_event = inner.publisher.config().max_event_bytes();
        let mut cost = 0usize;
        let mut deliverable = !too_many;
        for entry in &entries {
            let id = entry.id.to_string();
            let Some(event) = replayed_event(entry, &id) else {
                deliverable = false;
                break;
            };
            let len = event.encoded_len();
            cost = cost.saturating_add(len + QUEUE_OVERHEAD);
            if len > max_event || cost > budget {
                deliverable = false;
                break;
            }
        }
        if deliverable {
            missed.entries = entries;
        } else {
            // What was missed cannot be sent: say so, then go on live.
            missed.reset_first = true;
        }
        Ok(missed)
    }
}

/// The id of the newest entry of the global stream (`0-0` if none).
async fn newest(link: &Link, keys: &Keys) -> Result<RedisId, Error> {
    let reply = link
        .query(
            ::redis::cmd("XREVRANGE")
                .arg(&keys.all)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1),
        )
        .await?;
    Ok(scripts::entries(reply)?
        .first()
        .map_or(RedisId::ZERO, |entry| entry.id))
}

/// Checked, de-duplicated channel names.
fn channel_names(
    channels: &(impl Channels + ?Sized),
    limit: usize,
) -> Result<Vec<String>, sse_proto::publisher::ChannelError> {
    let mut names: Vec<String> = Vec::new();
    let mut given = 0usize;
    for name in channels.names() {
        check_channel(name)?;
        given += 1;
        if given > limit {
            return Err(sse_proto::publisher::ChannelError::TooMany { limit });
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Err(sse_proto::publisher::ChannelError::NoChannel);
    }
    Ok(names)
}

/// An entry read back from a channel's stream as the event it was: `None`
/// if its type cannot be sent (written by something else).
fn replayed_event<'a>(entry: &'a Entry, id: &'a str) -> Option<Event<'a>> {
    let event_type = EventType::from_bytes(&entry.event_type).ok()?;
    Some(
        Event::from_text(Text::from_bytes(&entry.data))
            .with_type(event_type)
            .with_id(EventId::new(id).ok()?),
    )
}

/// What a resuming client missed, read from Redis.
#[derive(Debug, Default)]
struct Missed {
    /// Send the reset event first: some of it is gone, or all of it does
    /// not fit.
    reset_first: bool,
    /// The events, by id, each once.
    entries: Vec<Entry>,
}

/// How a subscription starts.
enum Plan<'l> {
    /// No `Last-Event-ID`: initial events, then live.
    Fresh,
    /// Replay from the local history.
    Local(&'l str),
    /// The reset event, then live.
    Reset,
    /// Events read from Redis as initial events, then the local publisher
    /// after `after`.
    Replay { missed: Missed, after: Position },
}

/// A subscription being set up: see [`RedisPublisher::subscriber`].
#[must_use = "a subscription starts only when `subscribe` is awaited"]
pub struct RedisSubscribe<'r, P> {
    redis: &'r RedisPublisher<P>,
    properties: P,
    channels: Vec<String>,
    initial: Vec<EventBuf>,
    last_event_id: Option<String>,
}

impl<P> fmt::Debug for RedisSubscribe<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSubscribe")
            .field("channels", &self.channels)
            .field("last_event_id", &self.last_event_id)
            .finish_non_exhaustive()
    }
}

impl<P> RedisSubscribe<'_, P> {
    /// The channels to listen to; the default channel if never called.
    pub fn channels(mut self, channels: impl Channels) -> Self {
        self.channels.clear();
        for name in channels.names() {
            if !self.channels.iter().any(|n| n == name) {
                self.channels.push(name.to_owned());
            }
        }
        self
    }

    /// Events sent before anything else (added to any given before).
    pub fn initial_events<'e>(mut self, events: impl IntoIterator<Item = Event<'e>>) -> Self {
        self.initial.extend(events.into_iter().map(EventBuf::from));
        self
    }

    /// The id of the last event the client saw; `None` or empty starts
    /// fresh.
    pub fn last_event_id(mut self, id: Option<&str>) -> Self {
        self.last_event_id = id.filter(|id| !id.is_empty()).map(str::to_owned);
        self
    }

    /// Opens the subscription: initial events, then what the client missed
    /// since its `Last-Event-ID` (from the local history if it has
    /// everything since, else from Redis, up to what this node has fed),
    /// then live events. See the [module](self#resuming).
    ///
    /// A client whose id is newer than what this node has read waits for
    /// the node to catch up, at most [`RedisConfig::catch_up`], else
    /// [`Error::Behind`]. Reading from Redis can fail with
    /// [`Error::Redis`]; a fresh subscription, or one the local history can
    /// serve, never needs Redis.
    pub async fn subscribe(self) -> Result<Subscription<P>, Error> {
        let Self {
            redis,
            properties,
            mut channels,
            initial,
            last_event_id,
        } = self;
        let inner = &*redis.inner;
        if channels.is_empty() {
            channels.push(DEFAULT_CHANNEL.to_owned());
        }
        for name in &channels {
            check_channel(name).map_err(SubscribeError::Channel)?;
        }
        let last = match last_event_id.as_deref() {
            None => return Ok(open(redis, properties, &channels, &initial, Plan::Fresh)?),
            Some(id) if id.len() > MAX_ID_LEN || EventId::new(id).is_err() => {
                return Err(SubscribeError::LastEventId.into());
            }
            Some(id) => id,
        };
        let budget = inner
            .publisher
            .config()
            .queue_bytes()
            .saturating_sub(initial.iter().fold(0usize, |sum, event| {
                sum.saturating_add(event.as_event().encoded_len() + QUEUE_OVERHEAD)
            }))
            .saturating_sub(reset_cost());
        let mut waited = false;
        loop {
            // The local history, when it has everything since the id.
            {
                let state = lock(&inner.feed.state);
                if let Some(position) = inner.publisher.locate(last) {
                    if state.gap_at.is_none_or(|gap| position > gap) {
                        return Ok(open(
                            redis,
                            properties,
                            &channels,
                            &initial,
                            Plan::Local(last),
                        )?);
                    }
                }
            }
            let Some(id) = RedisId::parse(last) else {
                // Not one of ours, and unknown here.
                return Ok(open(redis, properties, &channels, &initial, Plan::Reset)?);
            };
            let (after, fed, gaps) = {
                let state = lock(&inner.feed.state);
                (inner.publisher.position(), state.cursor, state.gaps)
            };
            if id <= fed {
                let missed = redis.missed(&channels, id, fed, budget).await?;
                let state = lock(&inner.feed.state);
                if state.gaps != gaps {
                    // The local history after `after` is no longer whole.
                    continue;
                }
                let plan = Plan::Replay { missed, after };
                let subscription = open(redis, properties, &channels, &initial, plan)?;
                drop(state);
                return Ok(subscription);
            }
            // The client saw events this node has not read yet.
            if waited {
                return Err(Error::Behind);
            }
            if id > redis.newest().await? {
                // Redis never gave this id (or lost its data since).
                return Ok(open(redis, properties, &channels, &initial, Plan::Reset)?);
            }
            let mut fed = inner.feed.fed.subscribe();
            let caught_up =
                tokio::time::timeout(inner.config.catch_up, fed.wait_for(|cursor| *cursor >= id))
                    .await;
            if !matches!(caught_up, Ok(Ok(_))) {
                return Err(Error::Behind);
            }
            waited = true;
        }
    }
}

/// What the reset event costs in a queue.
fn reset_cost() -> usize {
    ResetReason::History.event().encoded_len() + QUEUE_OVERHEAD
}

/// Subscribes to the local publisher as `plan` says.
fn open<P>(
    redis: &RedisPublisher<P>,
    properties: P,
    channels: &[String],
    initial: &[EventBuf],
    plan: Plan<'_>,
) -> Result<Subscription<P>, SubscribeError> {
    let subscribe = redis
        .inner
        .publisher
        .subscriber(properties)
        .channels(channels)
        .initial_events(initial.iter().map(EventBuf::as_event));
    match plan {
        Plan::Fresh => subscribe.subscribe(),
        Plan::Local(last) => subscribe.last_event_id(Some(last)).subscribe(),
        Plan::Reset => subscribe
            .initial_events([ResetReason::History.event()])
            .subscribe(),
        Plan::Replay { missed, after } => {
            let reset = missed.reset_first.then(|| ResetReason::History.event());
            let ids: Vec<String> = missed.entries.iter().map(|e| e.id.to_string()).collect();
            let events = missed
                .entries
                .iter()
                .zip(&ids)
                .filter_map(|(entry, id)| replayed_event(entry, id));
            subscribe
                .initial_events(reset)
                .initial_events(events)
                .resume_after(after)
                .subscribe()
        }
    }
}
