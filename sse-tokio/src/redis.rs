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

#[cfg(feature = "server")]
mod backend;
mod config;
mod error;
mod feed;
mod id;
mod link;
mod scripts;
mod subscribe;

use core::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use sse_proto::publisher::{ChannelList, Channels, PublishError, Publisher};
use sse_proto::{Event, EventId};

pub use config::RedisConfig;
pub use error::Error;
pub use id::{ParseIdError, RedisId};
pub use subscribe::RedisSubscribe;

use feed::{Feed, Reader};
use link::Link;
use scripts::{Keys, Scripts};

/// The longest id Redis can give, for sizing an event before it has one.
const LONGEST_ID: &str = "18446744073709551615-18446744073709551615";

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
    /// How many times the link was lost and made again.
    pub reconnects: u64,
    /// How late this node fed the last entry: from Redis adding it (by
    /// Redis's clock, in its id) to this node feeding it (by this node's
    /// clock), so clock skew between the machines shows in it.
    pub lag: Option<core::time::Duration>,
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
        let feed = &self.inner.feed;
        self.inner.link.health(feed.cursor(), feed.lag())
    }

    /// Proves that this node delivers what is published now: appends a
    /// probe to the global stream (an entry every node's reader reads and
    /// delivers to no one) and waits until this node's reader has read it,
    /// at most the catch-up time ([`RedisConfig::catch_up`]). Returns how
    /// long the round trip took. Fails with [`Error::Redis`] when Redis
    /// cannot take the probe, and with [`Error::Stuck`] when the reader did
    /// not read it back in time (its link is up but it reads nothing, or it
    /// is far behind): such a node is not ready.
    ///
    /// Every node must know probes (this version or later): an older one
    /// would take the entry for an event it cannot deliver.
    pub async fn probe(&self) -> Result<core::time::Duration, Error> {
        let inner = &*self.inner;
        let started = std::time::Instant::now();
        let mut invocation = inner.scripts.probe.prepare_invoke();
        invocation
            .key(&inner.keys.all)
            .arg(inner.config.feed_cap)
            .arg(format!("node-{}", std::process::id()));
        let id = scripts::id(inner.link.invoke(&invocation).await?)?;
        let mut fed = inner.feed.fed.subscribe();
        let read =
            tokio::time::timeout(inner.config.catch_up, fed.wait_for(|cursor| *cursor >= id)).await;
        match read {
            Ok(Ok(_)) => Ok(started.elapsed()),
            // The reader is gone (the publisher closed) or too slow.
            Ok(Err(_)) | Err(_) => Err(Error::Stuck),
        }
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
        let names = ChannelList::parse(channels.names(), limits.max_channels())
            .map_err(PublishError::Channel)?;
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
        for name in names.as_slice() {
            invocation.key(inner.keys.channel(name));
        }
        invocation
            .arg(inner.config.feed_cap)
            .arg(inner.config.retention)
            .arg(event_type)
            .arg(event.data().as_bytes())
            .arg(names.as_slice().join(" "));
        let reply = inner.link.invoke(&invocation).await?;
        Ok(scripts::id(reply)?)
    }

    /// The id of the newest entry of the global stream (`0-0` if none).
    pub(super) async fn newest(&self) -> Result<RedisId, Error> {
        newest(&self.inner.link, &self.inner.keys).await
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
