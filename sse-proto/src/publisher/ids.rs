//! Ids: the generated ones (decimal positions, after the run's
//! [`IdPrefix`] when it has one) and the `Last-Event-ID` a
//! client sends back.

use core::fmt;

use super::MAX_ID_LEN;
use crate::{EventId, FieldError};

/// Why a `Last-Event-ID` was refused: no event could have had it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LastEventIdError {
    /// The value is not UTF-8.
    NotUtf8,
    /// The value is longer than [`MAX_ID_LEN`] bytes.
    TooLong,
    /// The value contains CR, LF or NUL.
    Invalid(FieldError),
}

impl fmt::Display for LastEventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("invalid Last-Event-ID: not UTF-8"),
            Self::TooLong => write!(f, "invalid Last-Event-ID: longer than {MAX_ID_LEN} bytes"),
            Self::Invalid(error) => write!(f, "invalid Last-Event-ID: {error}"),
        }
    }
}

impl core::error::Error for LastEventIdError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Invalid(error) => Some(error),
            _ => None,
        }
    }
}

/// Checks a `Last-Event-ID` as a server receives it (a header's bytes, or a
/// percent-decoded query value): `None` when empty (the client starts
/// fresh), else the id, if an event could have had it: UTF-8, at most
/// [`MAX_ID_LEN`] bytes, and no CR, LF or NUL.
///
/// Every server layer checks the header with this function, so that the
/// endpoint, the publisher and the Redis fan-out refuse the same values.
///
/// ```
/// use sse_proto::publisher::{LastEventIdError, parse_last_event_id};
///
/// assert_eq!(parse_last_event_id(b"42"), Ok(Some("42")));
/// assert_eq!(parse_last_event_id(b""), Ok(None));
/// assert_eq!(parse_last_event_id(b"\xFF"), Err(LastEventIdError::NotUtf8));
/// assert!(parse_last_event_id(b"4\n2").is_err());
/// ```
pub fn parse_last_event_id(value: &[u8]) -> Result<Option<&str>, LastEventIdError> {
    if value.len() > MAX_ID_LEN {
        return Err(LastEventIdError::TooLong);
    }
    let id = core::str::from_utf8(value).map_err(|_| LastEventIdError::NotUtf8)?;
    if id.is_empty() {
        return Ok(None);
    }
    EventId::new(id).map_err(LastEventIdError::Invalid)?;
    Ok(Some(id))
}

/// What sets a run's generated ids apart from every other run's: hex
/// digits made from the time the run started and 32 random bits, put
/// before each generated id as `<prefix>-<position>`.
///
/// The publisher reads no clock and has no randomness, so the caller makes
/// the prefix (milliseconds since the Unix epoch and 32 random bits: two
/// starts in the same millisecond still differ, unless they draw the same
/// 32 bits) and passes it in ([`PublisherConfig::with_id_prefix`](super::PublisherConfig::with_id_prefix)). A
/// `Last-Event-ID` with another prefix, or none, was not issued by this
/// run: the client gets the [reset event](super#the-reset-event) rather
/// than a replay that would skip what this run numbered the same.
///
/// The format: 12 lowercase hex digits of the milliseconds (their low 48
/// bits, enough until the year 10889) then 8 of the random bits, 20 in all;
/// ids are `<prefix>-<position>`, the position in decimal.
///
/// ```
/// use sse_proto::publisher::IdPrefix;
///
/// let prefix = IdPrefix::new(1_700_000_000_000, 0xdead_beef);
/// assert_eq!(prefix.to_string(), "018bcfe56800deadbeef");
/// assert_eq!(IdPrefix::parse("018bcfe56800deadbeef"), Some(prefix));
/// assert_eq!(prefix.position_of("018bcfe56800deadbeef-42"), Some(42));
/// assert_eq!(prefix.position_of("018bcfe56800deadbee0-42"), None);
/// assert_eq!(prefix.position_of("42"), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdPrefix {
    epoch_ms: u64,
    random: u32,
}

/// Hex digits of the milliseconds in a prefix.
const MS_DIGITS: usize = 12;
/// Hex digits in a prefix.
const PREFIX_LEN: usize = MS_DIGITS + 8;
/// The longest generated id: a prefix, `-`, and 20 decimal digits.
const GENERATED_MAX: usize = PREFIX_LEN + 1 + 20;

impl IdPrefix {
    /// A prefix from the milliseconds since the Unix epoch at which the run
    /// started (only their low 48 bits count) and 32 random bits.
    pub const fn new(epoch_ms: u64, random: u32) -> Self {
        Self {
            epoch_ms: epoch_ms & ((1 << (4 * MS_DIGITS)) - 1),
            random,
        }
    }

    /// The milliseconds it was made from (their low 48 bits).
    pub const fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }

    /// The random bits it was made from.
    pub const fn random(&self) -> u32 {
        self.random
    }

    /// Reads a prefix back from its text (as [`Display`](fmt::Display)
    /// writes it: 20 lowercase hex digits).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != PREFIX_LEN
            || !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let (ms, random) = text.split_at(MS_DIGITS);
        Some(Self {
            epoch_ms: u64::from_str_radix(ms, 16).ok()?,
            random: u32::from_str_radix(random, 16).ok()?,
        })
    }

    /// The position of an id generated with this prefix
    /// (`<prefix>-<position>`), or `None` for any other id: another
    /// prefix, no prefix, or a position not in canonical decimal.
    pub fn position_of(&self, id: &str) -> Option<u64> {
        let digits = self.digits();
        let rest = id.as_bytes().strip_prefix(digits.as_slice())?;
        let rest = rest.strip_prefix(b"-")?;
        parse_decimal(core::str::from_utf8(rest).ok()?)
    }

    /// The prefix's text, on the stack.
    fn digits(&self) -> [u8; PREFIX_LEN] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; PREFIX_LEN];
        let value = (u128::from(self.epoch_ms) << 32) | u128::from(self.random);
        for (i, digit) in out.iter_mut().enumerate() {
            let shift = 4 * (PREFIX_LEN - 1 - i);
            // `& 0xf` keeps the index below 16.
            *digit = HEX[((value >> shift) & 0xf) as usize];
        }
        out
    }
}

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        // Hex digits are ASCII.
        f.write_str(core::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdPrefix({self})")
    }
}

/// A generated id, formatted on the stack: the position in decimal, after
/// the run's prefix and `-` when there is one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct GeneratedId {
    buf: [u8; GENERATED_MAX],
    len: u8,
}

impl GeneratedId {
    pub(crate) fn new(prefix: Option<IdPrefix>, mut n: u64) -> Self {
        let mut id = Self {
            buf: [0; GENERATED_MAX],
            len: 0,
        };
        let mut at = 0;
        if let Some(prefix) = prefix {
            let digits = prefix.digits();
            if let Some(head) = id.buf.get_mut(..PREFIX_LEN + 1) {
                head[..PREFIX_LEN].copy_from_slice(&digits);
                head[PREFIX_LEN] = b'-';
            }
            at = PREFIX_LEN + 1;
        }
        // The decimal digits, written backwards into the tail and moved up.
        let mut tail = [0u8; 20];
        let mut start = tail.len();
        loop {
            start -= 1;
            // `n % 10 < 10`; `start` stays in bounds because `u64::MAX` has
            // 20 digits.
            if let Some(digit) = tail.get_mut(start) {
                *digit = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let decimal = tail.get(start..).unwrap_or_default();
        if let Some(out) = id.buf.get_mut(at..at + decimal.len()) {
            out.copy_from_slice(decimal);
        }
        // At most 41 bytes.
        id.len = (at + decimal.len()) as u8;
        id
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The bytes as an id (hex digits, `-` and decimal digits: always a
    /// valid one).
    pub(crate) fn as_id(&self) -> EventId<'_> {
        EventId::from_checked(self.as_bytes())
    }
}

impl fmt::Debug for GeneratedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&crate::Text::from_bytes(self.as_bytes()), f)
    }
}

/// A decimal `u64` without sign, leading zeros or other characters.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let canonical = !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use std::format;
    use std::string::ToString;

    use super::{GeneratedId, IdPrefix, parse_decimal};

    #[test]
    fn digits_and_parsing_round_trip() {
        for n in [0, 1, 9, 10, 1_700_000_000_000, u64::MAX] {
            let digits = GeneratedId::new(None, n);
            let text = core::str::from_utf8(digits.as_bytes()).unwrap();
            assert_eq!(parse_decimal(text), Some(n));
        }
        for bad in ["", "01", "+1", "1a", " 1", "18446744073709551616", "-0"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn prefixed_ids_round_trip_and_other_prefixes_are_unknown() {
        let prefix = IdPrefix::new(0xffff_ffff_ffff, u32::MAX);
        assert_eq!(prefix.to_string(), "ffffffffffffffffffff");
        assert_eq!(IdPrefix::parse(&prefix.to_string()), Some(prefix));
        let zero = IdPrefix::new(0, 0);
        assert_eq!(zero.to_string(), "00000000000000000000");
        // Only the low 48 bits of the milliseconds count.
        assert_eq!(IdPrefix::new(1 << 48, 7), IdPrefix::new(0, 7));
        for n in [0, 1, 42, u64::MAX] {
            let id = GeneratedId::new(Some(prefix), n);
            let text = core::str::from_utf8(id.as_bytes()).unwrap();
            assert_eq!(text, format!("{prefix}-{n}"));
            assert_eq!(prefix.position_of(text), Some(n));
            assert_eq!(zero.position_of(text), None);
        }
        for bad in [
            "",
            "ffffffffffffffffffff",
            "ffffffffffffffffffff-",
            "ffffffffffffffffffff-01",
            "ffffffffffffffffffff-1a",
            "ffffffffffffffffffff+1",
            "FFFFFFFFFFFFFFFFFFFF-1",
            "1",
        ] {
            assert_eq!(prefix.position_of(bad), None, "{bad:?}");
        }
        for bad in [
            "",
            "0",
            "ffffffffffffffffffff0",
            "FFFFFFFFFFFFFFFFFFFF",
            "gfffffffffffffffffff",
            "+fffffffffffffffffff",
        ] {
            assert_eq!(IdPrefix::parse(bad), None, "{bad:?}");
        }
    }
}
