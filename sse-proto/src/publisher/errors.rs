//! Why a publish or a subscription was refused.

use core::fmt;

use super::{ChannelError, LastEventIdError, MAX_ID_LEN, Position};

/// Why a publish was refused. Nothing was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublishError {
    /// The channels are invalid.
    Channel(ChannelError),
    /// The encoded event is larger than [`PublisherConfig::max_event_bytes`](super::PublisherConfig::max_event_bytes).
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
    /// An initial event is larger than [`PublisherConfig::max_event_bytes`](super::PublisherConfig::max_event_bytes).
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
    /// The publisher has [`PublisherConfig::max_subscribers`](super::PublisherConfig::max_subscribers) already.
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

impl From<LastEventIdError> for SubscribeError {
    fn from(_: LastEventIdError) -> Self {
        Self::LastEventId
    }
}

/// Why [`Publisher::restore`](super::Publisher::restore) or
/// [`Publisher::restore_position`](super::Publisher::restore_position)
/// refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RestoreError {
    /// The event was refused as a publish would refuse it (too large, bad
    /// channels), or the publisher is closed.
    Publish(PublishError),
    /// The position is not after the newest one taken (or is above 2^63).
    NotAfter {
        /// The newest position taken.
        last: Position,
    },
    /// The publisher has subscribers: they would never get the restored
    /// events, so restoring is only for a publisher nobody listens to yet.
    Subscribed,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Publish(e) => fmt::Display::fmt(e, f),
            Self::NotAfter { last } => {
                write!(
                    f,
                    "cannot restore at or before position {last}, the newest taken"
                )
            }
            Self::Subscribed => f.write_str("cannot restore into a publisher with subscribers"),
        }
    }
}

impl core::error::Error for RestoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Publish(e) => Some(e),
            _ => None,
        }
    }
}
