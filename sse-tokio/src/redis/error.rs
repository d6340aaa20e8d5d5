//! [`Error`]: what the Redis fan-out reports.

use core::fmt;

use sse_proto::publisher::{PublishError, SubscribeError};

use super::scripts::Unexpected;

/// What can go wrong publishing, subscribing or connecting through Redis.
///
/// Its own type rather than more variants of [`crate::Error`], which is about
/// reading and writing one event stream: these are the outcomes of a shared
/// log (unreachable, behind, refused), and the HTTP side maps each to a
/// status. Each wraps its source, which [`source`](std::error::Error::source)
/// returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Talking to Redis failed: unreachable, timed out, or an error reply.
    /// A publish that fails this way was not delivered by this call; after a
    /// timeout it may still have been appended (and then is delivered with
    /// its id), but it is never silently dropped.
    Redis(::redis::RedisError),
    /// Redis answered something this layer did not expect: its keys were
    /// written by something else.
    Reply(&'static str),
    /// The event or its channels were refused; nothing was sent.
    Publish(PublishError),
    /// The local publisher refused the subscription.
    Subscribe(SubscribeError),
    /// The event carries its own id: through Redis, ids are the ones Redis
    /// assigns, the same on every node.
    OwnId,
    /// The client's `Last-Event-ID` is newer than what this node has read
    /// from Redis, and the node did not catch up in time
    /// ([`RedisConfig::catch_up`](super::RedisConfig::catch_up)): serving it
    /// now would repeat events. The client should come back a little later
    /// (the HTTP glue sends it a `retry:` hint and ends the stream).
    Behind,
    /// A readiness probe appended to the global stream was not read back
    /// by this node's reader within the catch-up time
    /// ([`RedisPublisher::probe`](super::RedisPublisher::probe)): the
    /// reader is stuck or far behind, so this node's subscribers would not
    /// get what is published now.
    Stuck,
    /// The configuration is invalid.
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis(error) => write!(f, "Redis: {error}"),
            Self::Reply(expected) => write!(f, "unexpected reply from Redis: expected {expected}"),
            Self::Publish(error) => fmt::Display::fmt(error, f),
            Self::Subscribe(error) => fmt::Display::fmt(error, f),
            Self::OwnId => f.write_str(
                "events published through Redis get their id from Redis; leave the id out",
            ),
            Self::Behind => {
                f.write_str("this node has not yet read up to the Last-Event-ID; come back later")
            }
            Self::Stuck => f.write_str(
                "this node's reader did not read back a probe from the Redis stream in time",
            ),
            Self::Config(message) => write!(f, "invalid Redis configuration: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Redis(error) => Some(error),
            Self::Publish(error) => Some(error),
            Self::Subscribe(error) => Some(error),
            Self::Reply(_) | Self::OwnId | Self::Behind | Self::Stuck | Self::Config(_) => None,
        }
    }
}

impl From<::redis::RedisError> for Error {
    fn from(error: ::redis::RedisError) -> Self {
        Self::Redis(error)
    }
}

impl From<PublishError> for Error {
    fn from(error: PublishError) -> Self {
        Self::Publish(error)
    }
}

impl From<SubscribeError> for Error {
    fn from(error: SubscribeError) -> Self {
        Self::Subscribe(error)
    }
}

impl From<Unexpected> for Error {
    fn from(error: Unexpected) -> Self {
        Self::Reply(error.0)
    }
}
