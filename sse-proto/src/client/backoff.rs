//! [`Backoff`]: how long to wait before the next attempt.

use core::time::Duration;

use crate::time::millis;

/// Capped exponential backoff with jitter, for anything that reconnects: the
/// [`Client`](crate::Client) uses it between attempts, and so does a server
/// layer that keeps a link to a shared log.
///
/// The first failure in a row waits the base delay, each further one twice
/// as long, up to the cap (a base above the cap still wins: a server's
/// `retry:` is honoured). Then a random part of up to the jitter is added,
/// never taken away, so that peers dropped together do not all come back at
/// the same moment. A success starts the sequence over.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::Backoff;
///
/// let mut backoff = Backoff::new(Duration::from_secs(1)).with_jitter_permille(0);
/// let base = Duration::from_millis(100);
/// let delays: Vec<u128> = (0..6).map(|_| { backoff.failed(); backoff.delay(base).as_millis() }).collect();
/// assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
/// backoff.succeeded();
/// backoff.failed();
/// assert_eq!(backoff.delay(base), base);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Backoff {
    max: Duration,
    jitter_permille: u16,
    failures: u32,
    rng: u64,
}

impl Backoff {
    /// Backoff up to `max`, with up to 20% jitter.
    pub const fn new(max: Duration) -> Self {
        Self {
            max,
            jitter_permille: 200,
            failures: 0,
            rng: 0x853C_49E6_748F_EA9B,
        }
    }

    /// Up to this many thousandths of a delay are added at random (at most
    /// 1000).
    pub const fn with_jitter_permille(mut self, permille: u16) -> Self {
        self.jitter_permille = if permille > 1000 { 1000 } else { permille };
        self
    }

    /// Seeds the jitter; a different seed per peer spreads them best.
    pub const fn with_seed(mut self, seed: u64) -> Self {
        self.rng = seed;
        self
    }

    /// An attempt failed: the next delay doubles (up to the cap).
    pub fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// An attempt succeeded: the sequence starts over.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row so far.
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// How long to wait now, from `base`: doubled for each failure in a row
    /// after the first, capped, then lengthened by the jitter.
    pub fn delay(&mut self, base: Duration) -> Duration {
        let base = millis(base);
        let doublings = self.failures.saturating_sub(1).min(63);
        let grown = base.saturating_mul(1u64 << doublings);
        let cap = millis(self.max).max(base);
        self.jitter(grown.min(cap))
    }

    /// Lengthens `ms` by a random part of up to the configured jitter.
    fn jitter(&mut self, ms: u64) -> Duration {
        // SplitMix64: small, fast, and good enough to spread reconnects.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let permille = z % (u64::from(self.jitter_permille) + 1);
        let extra = u128::from(ms) * u128::from(permille) / 1000;
        Duration::from_millis(ms.saturating_add(u64::try_from(extra).unwrap_or(u64::MAX)))
    }
}
