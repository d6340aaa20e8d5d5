//! A publish rate per publisher (per token, or per client address without
//! one): a token bucket each, refilled with time passed in.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many keys are kept before idle ones are forgotten.
const SWEEP_AT: usize = 4096;

/// Token buckets: `rate` publishes per second, bursts of up to `burst`.
#[derive(Debug)]
pub(super) struct RateLimit {
    rate: f64,
    burst: f64,
    /// Keys are hashed, so that no token is kept in memory as it is.
    hasher: RandomState,
    buckets: Mutex<HashMap<u64, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// `per_second` publishes a second, with bursts of as many.
    pub(super) fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            rate,
            burst: rate,
            hasher: RandomState::new(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one publish for `key` at `now`: `Ok`, or how long until one
    /// is allowed.
    pub(super) fn take(&self, key: &[u8], now: Instant) -> Result<(), Duration> {
        let key = self.hasher.hash_one(key);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= SWEEP_AT {
            let (rate, burst) = (self.rate, self.burst);
            // A bucket that has refilled is the same as no bucket.
            buckets.retain(|_, bucket| {
                bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * rate
                    < burst
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::RateLimit;

    #[test]
    fn a_burst_then_the_rate() {
        let limit = RateLimit::new(2);
        let start = Instant::now();
        assert!(limit.take(b"a", start).is_ok());
        assert!(limit.take(b"a", start).is_ok());
        let wait = limit.take(b"a", start).expect_err("the burst is spent");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert!(
            limit.take(b"b", start).is_ok(),
            "each key has its own bucket"
        );
        assert!(limit.take(b"a", start + Duration::from_millis(500)).is_ok());
        assert!(
            limit
                .take(b"a", start + Duration::from_millis(500))
                .is_err()
        );
    }
}
