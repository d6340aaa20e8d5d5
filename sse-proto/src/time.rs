//! [`Instant`]: time as the caller's clock tells it.

use core::fmt;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time, in milliseconds on a monotonic clock the caller owns.
///
/// The core never reads a clock: adapters pass `now` into every call that
/// depends on time (for example milliseconds since their own start), so the
/// connection model behaves the same in tests as in production.
///
/// Arithmetic saturates instead of overflowing.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::Instant;
///
/// let start = Instant::from_millis(1_000);
/// let later = start + Duration::from_millis(250);
/// assert_eq!(later.as_millis(), 1_250);
/// assert_eq!(later - start, Duration::from_millis(250));
/// assert_eq!(start - later, Duration::ZERO);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `ms` milliseconds after the clock's origin.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the clock's origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        Self(self.0.saturating_add(millis(rhs)))
    }
}

impl Sub for Instant {
    type Output = Duration;

    fn sub(self, rhs: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}
