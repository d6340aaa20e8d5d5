//! Ids: the generated ones (decimal positions) and the `Last-Event-ID` a
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

/// A `u64` in decimal, formatted on the stack: a generated id.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Digits {
    buf: [u8; 20],
    start: u8,
}

impl Digits {
    pub(crate) fn new(mut n: u64) -> Self {
        let mut digits = Self::default();
        let mut start = digits.buf.len();
        loop {
            start -= 1;
            // `n % 10 < 10`; `start` stays in bounds because `u64::MAX` has
            // 20 digits.
            if let Some(digit) = digits.buf.get_mut(start) {
                *digit = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        digits.start = start as u8;
        digits
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(usize::from(self.start)..).unwrap_or_default()
    }

    /// The digits as an id (they are ASCII digits: always a valid one).
    pub(crate) fn as_id(&self) -> EventId<'_> {
        EventId::from_checked(self.as_bytes())
    }
}

impl fmt::Debug for Digits {
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
    use super::{Digits, parse_decimal};

    #[test]
    fn digits_and_parsing_round_trip() {
        for n in [0, 1, 9, 10, 1_700_000_000_000, u64::MAX] {
            let digits = Digits::new(n);
            let text = core::str::from_utf8(digits.as_bytes()).unwrap();
            assert_eq!(parse_decimal(text), Some(n));
        }
        for bad in ["", "01", "+1", "1a", " 1", "18446744073709551616", "-0"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
