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
/// `&[S]`, `Vec<S>` where `S: AsRef<str>`), a [`ChannelList`], and `()`, the
/// [`DEFAULT_CHANNEL`]. A name given twice counts once, also against the
/// limit on channels per call ([`ChannelList::parse`]).
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

/// A checked list of channel names: each valid ([`check_channel`]), each
/// once, in the order first given, and at most a limit of them.
///
/// Every layer that takes channels parses them with
/// [`parse`](Self::parse) (the publisher, the HTTP endpoints, the Redis
/// fan-out), so a list means the same everywhere. Repeated names are dropped
/// before the limit is applied: the limit counts distinct channels, so
/// `["a", "a"]` is one channel, as it is when subscribing. A single name
/// costs no allocation.
///
/// ```
/// use sse_proto::publisher::{ChannelError, ChannelList, DEFAULT_CHANNEL};
///
/// let list = ChannelList::parse(["news", "sport", "news"], 2)?;
/// assert_eq!(list.as_slice(), ["news", "sport"]);
/// assert_eq!(ChannelList::parse(["a", "b", "c"], 2), Err(ChannelError::TooMany { limit: 2 }));
/// assert_eq!(ChannelList::parse([], 2), Err(ChannelError::NoChannel));
/// // A request that names no channel means the default one.
/// assert_eq!(ChannelList::parse_or_default([], 2)?.as_slice(), [DEFAULT_CHANNEL]);
/// # Ok::<(), ChannelError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelList<'a>(Names<'a>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Names<'a> {
    One([&'a str; 1]),
    Many(Vec<&'a str>),
}

impl<'a> ChannelList<'a> {
    /// Checks `names`, drops repeats and enforces `limit` on the distinct
    /// names; an empty list is refused ([`ChannelError::NoChannel`]).
    pub fn parse<I>(names: I, limit: usize) -> Result<Self, ChannelError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        Self::parse_inner(names.into_iter(), limit)?.ok_or(ChannelError::NoChannel)
    }

    /// As [`parse`](Self::parse), but an empty list means the
    /// [`DEFAULT_CHANNEL`]: what a request that names no channel asks for.
    pub fn parse_or_default<I>(names: I, limit: usize) -> Result<Self, ChannelError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        Ok(Self::parse_inner(names.into_iter(), limit)?
            .unwrap_or(Self(Names::One([DEFAULT_CHANNEL]))))
    }

    fn parse_inner(
        names: impl Iterator<Item = &'a str>,
        limit: usize,
    ) -> Result<Option<Self>, ChannelError> {
        let mut list: Option<Names<'a>> = None;
        for name in names {
            check_channel(name)?;
            list = Some(match list {
                None => Names::One([name]),
                Some(Names::One([first])) if first == name => Names::One([first]),
                Some(Names::One([first])) => Names::Many(Vec::from([first, name])),
                Some(Names::Many(mut many)) => {
                    if !many.contains(&name) {
                        many.push(name);
                    }
                    Names::Many(many)
                }
            });
            let len = list.as_ref().map_or(0, |names| Self::slice(names).len());
            if len > limit {
                return Err(ChannelError::TooMany { limit });
            }
        }
        Ok(list.map(Self))
    }

    fn slice<'l>(names: &'l Names<'a>) -> &'l [&'a str] {
        match names {
            Names::One(one) => one,
            Names::Many(many) => many,
        }
    }

    /// The names, in order, each once.
    pub fn as_slice(&self) -> &[&'a str] {
        Self::slice(&self.0)
    }

    /// How many channels.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Always false: a list names at least one channel.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The names as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.as_slice()
            .iter()
            .map(|&name| String::from(name))
            .collect()
    }
}

impl Channels for ChannelList<'_> {
    fn names(&self) -> impl Iterator<Item = &str> {
        self.as_slice().iter().copied()
    }
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

    /// Whether the two sets share a channel.
    pub(crate) fn intersects(&self, other: &[Arc<str>]) -> bool {
        self.as_slice()
            .iter()
            .any(|a| other.iter().any(|b| Arc::ptr_eq(a, b) || a == b))
    }
}
