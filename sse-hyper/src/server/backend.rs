//! [`Backend`]: where an endpoint's events come from and go to.
//!
//! The [`Events`](super::Events) endpoint and the hub never touch a
//! publisher's neighbours themselves: they publish, subscribe (with resume),
//! close channels and ask for health through this trait. A [`Publisher`] is
//! the in-memory back end (this file); `sse-tokio` adds the Redis one, which
//! shares events between nodes, and a durable one keeps history on disk.

use core::fmt;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;
use std::time::SystemTime;

use sse_proto::Event;
use sse_proto::publisher::{ChannelList, PublishError, Publisher, SubscribeError, Subscription};

/// What a [`Backend`] call answers, later.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// Why a back end refused or failed a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum BackendError {
    /// The publisher refused the event (too large, bad channels, closed).
    Publish(PublishError),
    /// The publisher refused the subscription.
    Subscribe(SubscribeError),
    /// The request is valid but this back end does not take it (an event
    /// with its own id where the back end gives ids, say); the message says
    /// what to do instead.
    Refused(String),
    /// The back end cannot serve now (its link to a shared log is down, or
    /// it has not caught up); try again later.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Publish(error) => fmt::Display::fmt(error, f),
            Self::Subscribe(error) => fmt::Display::fmt(error, f),
            Self::Refused(message) => f.write_str(message),
            Self::Unavailable(error) => write!(f, "unavailable: {error}"),
        }
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Publish(error) => Some(error),
            Self::Subscribe(error) => Some(error),
            Self::Unavailable(error) => Some(&**error),
            Self::Refused(_) => None,
        }
    }
}

impl From<PublishError> for BackendError {
    fn from(error: PublishError) -> Self {
        Self::Publish(error)
    }
}

impl From<SubscribeError> for BackendError {
    fn from(error: SubscribeError) -> Self {
        Self::Subscribe(error)
    }
}

/// What a publish did, as the hub answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishReply {
    /// The id the event went out with, if any.
    pub id: Option<String>,
    /// How many subscribers it reached (on this node, for a back end shared
    /// between nodes).
    pub subscribers: usize,
}

impl PublishReply {
    /// A reply.
    pub fn new(id: Option<String>, subscribers: usize) -> Self {
        Self { id, subscribers }
    }
}

/// A back end's state, for health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendHealth {
    /// What the back end is (`memory`, `redis`, ...).
    pub kind: &'static str,
    /// Whether it can serve: publishing and resuming work.
    pub up: bool,
    /// For a back end with a link (to Redis, say), its state.
    pub link: Option<LinkHealth>,
}

/// The state of a back end's link to what it shares events through.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkHealth {
    /// Whether the link is up.
    pub up: bool,
    /// When it last went up or down.
    pub since: SystemTime,
    /// The last error on it.
    pub last_error: Option<String>,
    /// How far this node has read the shared log.
    pub cursor: String,
    /// How many times the link was lost and made again.
    pub reconnects: u64,
    /// How late this node read the last entry it fed: from when the shared
    /// log took it to when this node fed it (by the two machines' clocks),
    /// if it has fed any.
    pub lag: Option<Duration>,
}

impl LinkHealth {
    /// A link's state.
    pub fn new(up: bool, since: SystemTime, last_error: Option<String>, cursor: String) -> Self {
        Self {
            up,
            since,
            last_error,
            cursor,
            reconnects: 0,
            lag: None,
        }
    }

    /// With how many times the link was made again.
    pub fn with_reconnects(mut self, reconnects: u64) -> Self {
        self.reconnects = reconnects;
        self
    }

    /// With how late the last entry was fed.
    pub fn with_lag(mut self, lag: Option<Duration>) -> Self {
        self.lag = lag;
        self
    }
}

impl BackendHealth {
    /// A back end without a link, always up.
    pub fn up(kind: &'static str) -> Self {
        Self {
            kind,
            up: true,
            link: None,
        }
    }

    /// A back end whose health is its link's.
    pub fn with_link(kind: &'static str, link: LinkHealth) -> Self {
        Self {
            kind,
            up: link.up,
            link: Some(link),
        }
    }
}

/// Where an endpoint's events come from and go to: publish, subscribe with
/// resume, close, health. See the [module](crate::server).
///
/// Subscriptions always come from the back end's local
/// [`publisher`](Self::publisher), which encodes each event once for all the
/// subscribers of this process.
pub trait Backend<P>: Send + Sync + 'static {
    /// The local publisher the streams are served from.
    fn publisher(&self) -> &Publisher<P>;

    /// Publishes `event` to `channels`.
    fn publish<'a>(
        &'a self,
        event: Event<'a>,
        channels: &'a ChannelList<'a>,
    ) -> BackendFuture<'a, PublishReply>;

    /// Subscribes one client, resuming after `last_event_id` when given.
    /// `None` means "not now": the client should come back a little later
    /// (the endpoint answers with a stream holding only a `retry:` hint, so
    /// that browsers reconnect on their own).
    ///
    /// By default, from the local publisher, which resumes from its own
    /// history.
    fn subscribe<'a>(
        &'a self,
        properties: P,
        channels: &'a ChannelList<'a>,
        last_event_id: Option<&'a str>,
    ) -> BackendFuture<'a, Option<Subscription<P>>>
    where
        P: Send + Sync + 'static,
    {
        let subscribed = self
            .publisher()
            .subscriber(properties)
            .channels(channels)
            .last_event_id(last_event_id)
            .subscribe();
        Box::pin(core::future::ready(
            subscribed.map(Some).map_err(BackendError::from),
        ))
    }

    /// Ends the streams of `channels`' subscribers with `farewell`; how many
    /// were ended.
    ///
    /// By default, the local publisher's subscribers (a back end shared by
    /// several nodes ends its own node's: each node ends its own).
    fn close<'a>(
        &'a self,
        channels: &'a ChannelList<'a>,
        farewell: Event<'a>,
    ) -> BackendFuture<'a, usize>
    where
        P: Send + Sync + 'static,
    {
        let closed = self.publisher().disconnect(channels, Some(farewell.into()));
        Box::pin(core::future::ready(closed.map_err(BackendError::from)))
    }

    /// The back end's state now.
    fn health(&self) -> BackendHealth;

    /// Proves, as far as the back end can, that an event published now
    /// would reach this node's subscribers: `Ok`, or
    /// [`BackendError::Unavailable`] saying why not. The caller bounds the
    /// wait (the hub's `/ready` answers `503` past its deadline). By
    /// default, what [`health`](Self::health) says; a back end that shares
    /// events through a log (Redis) sends a probe through it and waits for
    /// its own reader to read it back.
    fn ready(&self) -> BackendFuture<'_, ()> {
        let health = self.health();
        let ready = if health.up {
            Ok(())
        } else {
            Err(BackendError::Unavailable(
                format!("the {} back end is down", health.kind).into(),
            ))
        };
        Box::pin(core::future::ready(ready))
    }
}

/// The in-memory back end: the publisher itself.
impl<P: Send + Sync + 'static> Backend<P> for Publisher<P> {
    fn publisher(&self) -> &Self {
        self
    }

    fn publish<'a>(
        &'a self,
        event: Event<'a>,
        channels: &'a ChannelList<'a>,
    ) -> BackendFuture<'a, PublishReply> {
        let published = Self::publish(self, event, channels).map(|published| {
            let id = published.id().map(|id| id.to_string());
            PublishReply::new(id, published.reached())
        });
        Box::pin(core::future::ready(published.map_err(BackendError::from)))
    }

    fn health(&self) -> BackendHealth {
        BackendHealth::up("memory")
    }
}

/// A shared back end is a back end: several endpoints (or a hub and the
/// application around it) can serve one.
impl<P, B: Backend<P> + ?Sized> Backend<P> for Arc<B> {
    fn publisher(&self) -> &Publisher<P> {
        (**self).publisher()
    }

    fn publish<'a>(
        &'a self,
        event: Event<'a>,
        channels: &'a ChannelList<'a>,
    ) -> BackendFuture<'a, PublishReply> {
        (**self).publish(event, channels)
    }

    fn subscribe<'a>(
        &'a self,
        properties: P,
        channels: &'a ChannelList<'a>,
        last_event_id: Option<&'a str>,
    ) -> BackendFuture<'a, Option<Subscription<P>>>
    where
        P: Send + Sync + 'static,
    {
        (**self).subscribe(properties, channels, last_event_id)
    }

    fn close<'a>(
        &'a self,
        channels: &'a ChannelList<'a>,
        farewell: Event<'a>,
    ) -> BackendFuture<'a, usize>
    where
        P: Send + Sync + 'static,
    {
        (**self).close(channels, farewell)
    }

    fn health(&self) -> BackendHealth {
        (**self).health()
    }

    fn ready(&self) -> BackendFuture<'_, ()> {
        (**self).ready()
    }
}
