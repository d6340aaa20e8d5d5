//! `Retry-After` (RFC 9110, 10.2.3): delay-seconds or an HTTP-date, the
//! latter measured against the response's own `Date` header so that no wall
//! clock is needed.

use core::time::Duration;

/// The delay a `Retry-After` value asks for.
///
/// `date` is the response's `Date` header; an HTTP-date is only meaningful
/// relative to it. Returns `None` for values that cannot be read (the caller
/// then falls back to its own delay). A date in the past means no delay.
pub(crate) fn parse(value: &[u8], date: Option<&[u8]>) -> Option<Duration> {
    let value = trim(value);
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        return Some(Duration::from_secs(digits(value)?));
    }
    let at = http_date(value)?;
    let now = http_date(trim(date?))?;
    Some(Duration::from_secs(at.saturating_sub(now)))
}

fn trim(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// Decimal digits as a number, saturating.
fn digits(value: &[u8]) -> Option<u64> {
    value.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then(|| n.saturating_mul(10).saturating_add(u64::from(b - b'0')))
    })
}

/// An HTTP-date in any of the three forms recipients must accept, as seconds
/// since the Unix epoch:
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// - asctime: `Sun Nov  6 08:49:37 1994`
fn http_date(value: &[u8]) -> Option<u64> {
    let text = core::str::from_utf8(value).ok()?;
    let mut words = text.split([' ', ',']).filter(|w| !w.is_empty());
    let _weekday = words.next()?;
    let first = words.next()?;
    let (day, month, year, time) = if let Some((day, rest)) = first.split_once('-') {
        // RFC 850: 06-Nov-94; two-digit years are 19xx or 20xx, whichever
        // is not more than 50 years in the future (RFC 9110) — here: < 70
        // means 20xx, the usual reading.
        let (month, year) = rest.split_once('-')?;
        let year: u64 = year.parse().ok()?;
        let year = if year < 70 { 2000 + year } else { 1900 + year };
        (day.parse().ok()?, month, year, words.next()?)
    } else if first.bytes().all(|b| b.is_ascii_digit()) {
        // IMF-fixdate: 06 Nov 1994 08:49:37 GMT
        let month = words.next()?;
        let year = words.next()?.parse().ok()?;
        (first.parse().ok()?, month, year, words.next()?)
    } else {
        // asctime: Nov  6 08:49:37 1994
        let day = words.next()?.parse().ok()?;
        let time = words.next()?;
        let year = words.next()?.parse().ok()?;
        (day, first, year, time)
    };
    let month = month_number(month)?;
    let mut clock = time.split(':');
    let hours: u64 = clock.next()?.parse().ok()?;
    let minutes: u64 = clock.next()?.parse().ok()?;
    let seconds: u64 = clock.next()?.parse().ok()?;
    if clock.next().is_some()
        || !(1..=31).contains(&day)
        || hours > 23
        || minutes > 59
        || seconds > 60
    {
        return None;
    }
    let days = days_since_epoch(year, month, day)?;
    Some(days * 86_400 + hours * 3_600 + minutes * 60 + seconds)
}

fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    Some(index as u64 + 1)
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_since_epoch(year: u64, month: u64, day: u64) -> Option<u64> {
    if year < 1970 {
        return None;
    }
    // Shift the year to start in March so the leap day comes last.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era_days = y * 365 + y / 4 - y / 100 + y / 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    // 719_468 days from 0000-03-01 to 1970-01-01.
    (era_days + day_of_year).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::{http_date, parse};
    use core::time::Duration;

    #[test]
    fn delay_seconds() {
        assert_eq!(parse(b"120", None), Some(Duration::from_secs(120)));
        assert_eq!(parse(b" 0 ", None), Some(Duration::ZERO));
        assert_eq!(
            parse(b"99999999999999999999999", None),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse(b"-1", None), None);
        assert_eq!(parse(b"1.5", None), None);
        assert_eq!(parse(b"", None), None);
    }

    #[test]
    fn the_three_date_forms_agree() {
        let expected = Some(784_111_777);
        assert_eq!(http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), expected);
        assert_eq!(http_date(b"Sun Nov  6 08:49:37 1994"), expected);
    }

    #[test]
    fn dates_across_leap_years() {
        assert_eq!(http_date(b"Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date(b"Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            http_date(b"Sat, 21 Nov 2026 16:49:00 GMT"),
            Some(1_795_279_740)
        );
    }

    #[test]
    fn date_relative_to_the_response_date() {
        let date = b"Sat, 21 Nov 2026 16:49:00 GMT";
        assert_eq!(
            parse(b"Sat, 21 Nov 2026 16:49:30 GMT", Some(date)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse(b"Sat, 21 Nov 2026 16:48:00 GMT", Some(date)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse(b"Sat, 21 Nov 2026 16:49:30 GMT", None),
            None,
            "no Date header, no reference"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            &b"Sun, 06 Foo 1994 08:49:37 GMT"[..],
            b"Sun, 32 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 06 Nov 1994 08:49 GMT",
            b"tomorrow",
            b"\xFF",
        ] {
            assert_eq!(http_date(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }
}
