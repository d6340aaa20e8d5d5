//! Channel names: the [`Channels`] trait and their validation.

use core::fmt;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

/// The channel of users who never name one: what `()` means wherever
/// [`Channels`] are expected, and what the adapters' routers subscribe to when
/// a request names no channel.
pub const DEFAULT_CHANNEL: &str = "default";

/// The longest channel name accepted, in bytes.
pub const MAX_CHANNEL_LEN: usize = 128;

/// One channel name or several, wherever the publisher takes channels.
///
/// Implemented for a single name (`&str`, `String`), lists of names (`[S; N]`,
/// `&[S]`, `Vec<S>` where `S: AsRef<str>`), and `()`, the
/// [`DEFAULT_CHANNEL`]. A name given twice counts once.
///
/// A valid name is 1 to [`MAX_CHANNEL_LEN`] bytes of UTF-8 without control
/// characters or white space, so it fits in a URL query, a log line or a
/// Redis key unchanged. An empty list is refused rather than read as the
/// default channel, so that filtering a list down to nothing never
/// subscribes anyone to the default channel by accident.
///
/// ```
/// use sse_proto::publisher::{Channels, DEFAULT_CHANNEL};
///
/// fn names(channels: impl Channels) -> Vec<String> {
///     channels.names().map(String::from).collect()
/// }
/// assert_eq!(names("news"), ["news"]);
/// assert_eq!(names(["news", "sport"]), ["news", "sport"]);
/// assert_eq!(names(vec![String::from("a")]), ["a"]);
/// assert_eq!(names(()), [DEFAULT_CHANNEL]);
/// ```
pub trait Channels {
    /// The names, in order.
    fn names(&self) -> impl Iterator<Item = &str>;
}

impl Channels for str {
    fn names(&self) -> impl Iterator<Item = &Self> {
        core::iter::once(self)
    }
}

impl Channels for String {
    fn names(&self) -> impl Iterator<Item = &str> {
        core::iter::once(self.as_str())
    }
}

impl Channels for () {
    fn names(&self) -> impl Iterator<Item = &str> {
        core::iter::once(DEFAULT_CHANNEL)
    }
}

impl<S: AsRef<str>> Channels for [S] {
    fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}

impl<S: AsRef<str>, const N: usize> Channels for [S; N] {
    fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}

impl<S: AsRef<str>> Channels for Vec<S> {
    fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(AsRef::as_ref)
    }
}

impl<T: Channels + ?Sized> Channels for &T {
    fn names(&self) -> impl Iterator<Item = &str> {
        (**self).names()
    }
}

/// Why a list of channels was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelError {
    /// The list names no channel.
    NoChannel,
    /// The list names more channels than the publisher's limit.
    TooMany {
        /// The most channels one call may name.
        limit: usize,
    },
    /// A name is empty.
    Empty,
    /// A name is longer than [`MAX_CHANNEL_LEN`] bytes.
    TooLong,
    /// A name contains a control character or white space.
    InvalidChar(char),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoChannel => f.write_str("no channel named"),
            Self::TooMany { limit } => write!(f, "more than {limit} channels named"),
            Self::Empty => f.write_str("empty channel name"),
            Self::TooLong => write!(f, "channel name longer than {MAX_CHANNEL_LEN} bytes"),
            Self::InvalidChar(c) => write!(f, "channel name contains {c:?}"),
        }
    }
}

impl core::error::Error for ChannelError {}

/// Checks one channel name.
///
/// ```
/// use sse_proto::publisher::{ChannelError, check_channel};
///
/// assert_eq!(check_channel("room:42"), Ok(()));
/// assert_eq!(check_channel(""), Err(ChannelError::Empty));
/// assert_eq!(check_channel("a b"), Err(ChannelError::InvalidChar(' ')));
/// ```
pub fn check_channel(name: &str) -> Result<(), ChannelError> {
    if name.is_empty() {
        return Err(ChannelError::Empty);
    }
    if name.len() > MAX_CHANNEL_LEN {
        return Err(ChannelError::TooLong);
    }
    match name.chars().find(|c| c.is_control() || c.is_whitespace()) {
        Some(c) => Err(ChannelError::InvalidChar(c)),
        None => Ok(()),
    }
}

/// Checks every name and the count, without allocating; returns the count
/// of names given (duplicates included).
pub(crate) fn check_channels(
    channels: &(impl Channels + ?Sized),
    limit: usize,
) -> Result<usize, ChannelError> {
    let mut count = 0usize;
    for name in channels.names() {
        check_channel(name)?;
        count += 1;
        if count > limit {
            return Err(ChannelError::TooMany { limit });
        }
    }
    if count == 0 {
        return Err(ChannelError::NoChannel);
    }
    Ok(count)
}

/// The channels of a history entry or a subscriber: names shared with the
/// publisher's channel table where possible.
#[derive(Clone, Debug)]
pub(crate) enum ChannelSet {
    One(Arc<str>),
    Many(Arc<[Arc<str>]>),
}

impl ChannelSet {
    pub(crate) fn as_slice(&self) -> &[Arc<str>] {
        match self {
            Self::One(name) => core::slice::from_ref(name),
            Self::Many(names) => names,
        }
    }

    pub(crate) fn from_vec(mut names: Vec<Arc<str>>) -> Self {
        match names.len() {
            1 => match names.pop() {
                Some(name) => Self::One(name),
                None => Self::Many(Arc::from(names)),
            },
            _ => Self::Many(Arc::from(names)),
        }
    }

    /// Whether the two sets share a channel.
    pub(crate) fn intersects(&self, other: &[Arc<str>]) -> bool {
        self.as_slice()
            .iter()
            .any(|a| other.iter().any(|b| Arc::ptr_eq(a, b) || a == b))
    }
}

/// Which of the history's eviction buckets a channel falls in (FNV-1a).
pub(crate) fn bucket(name: &str) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as usize % super::history::BUCKETS
}
