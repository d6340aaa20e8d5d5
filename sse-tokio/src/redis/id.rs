//! [`RedisId`]: a Redis stream entry id, which is also the SSE event id.

use core::fmt;
use core::str::FromStr;

/// The id Redis gave an event when it was appended to the global stream:
/// `<milliseconds>-<sequence>`, ordered by time and then sequence. It is the
/// event's SSE id on every node, so a client's `Last-Event-ID` says where it
/// is on all of its channels at once.
///
/// ```
/// use sse_tokio::redis::RedisId;
///
/// let id: RedisId = "1700000000000-3".parse()?;
/// assert_eq!((id.millis(), id.sequence()), (1_700_000_000_000, 3));
/// assert!(id < "1700000000001-0".parse()?);
/// assert_eq!(id.to_string(), "1700000000000-3");
/// assert!("42".parse::<RedisId>().is_err());
/// # Ok::<(), sse_tokio::redis::ParseIdError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RedisId {
    millis: u64,
    sequence: u64,
}

impl RedisId {
    /// `0-0`: before every entry.
    pub const ZERO: Self = Self::new(0, 0);

    /// The id `<millis>-<sequence>`.
    pub const fn new(millis: u64, sequence: u64) -> Self {
        Self { millis, sequence }
    }

    /// The milliseconds part (Redis's clock when the entry was added).
    pub const fn millis(self) -> u64 {
        self.millis
    }

    /// The sequence part (entries added in the same millisecond).
    pub const fn sequence(self) -> u64 {
        self.sequence
    }

    /// The smallest id after this one, for inclusive ranges (`XRANGE` takes
    /// no exclusive bound before Redis 6.2). `None` after the largest id.
    pub(crate) const fn next(self) -> Option<Self> {
        match self.sequence.checked_add(1) {
            Some(sequence) => Some(Self::new(self.millis, sequence)),
            None => match self.millis.checked_add(1) {
                Some(millis) => Some(Self::new(millis, 0)),
                None => None,
            },
        }
    }

    /// Parses `<millis>-<sequence>`, both canonical decimal numbers (no sign,
    /// no leading zeros), as Redis writes them.
    pub fn parse(text: &str) -> Option<Self> {
        let (millis, sequence) = text.split_once('-')?;
        Some(Self::new(decimal(millis)?, decimal(sequence)?))
    }
}

/// A canonical decimal `u64`.
fn decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

impl fmt::Display for RedisId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.sequence)
    }
}

/// A text that is not a Redis stream id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseIdError;

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a Redis stream id (<milliseconds>-<sequence>)")
    }
}

impl std::error::Error for ParseIdError {}

impl FromStr for RedisId {
    type Err = ParseIdError;

    fn from_str(text: &str) -> Result<Self, ParseIdError> {
        Self::parse(text).ok_or(ParseIdError)
    }
}

#[cfg(test)]
mod tests {
    use super::RedisId;

    #[test]
    fn ids_parse_print_and_order_as_redis_does() {
        for text in [
            "0-0",
            "1-0",
            "1700000000000-12",
            "18446744073709551615-18446744073709551615",
        ] {
            assert_eq!(RedisId::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "1",
            "1-",
            "-1",
            "01-0",
            "1-01",
            "+1-0",
            "1-0-0",
            "a-b",
            "18446744073709551616-0",
        ] {
            assert_eq!(RedisId::parse(bad), None, "{bad:?}");
        }
        assert!(RedisId::new(1, 9) < RedisId::new(2, 0));
        assert!(RedisId::new(2, 0) < RedisId::new(2, 1));
        assert_eq!(RedisId::new(5, 7).next(), Some(RedisId::new(5, 8)));
        assert_eq!(RedisId::new(5, u64::MAX).next(), Some(RedisId::new(6, 0)));
        assert_eq!(RedisId::new(u64::MAX, u64::MAX).next(), None);
    }
}
