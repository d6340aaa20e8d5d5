//! [`ClientConfig`] and [`RetryPolicy`]: what a [`Client`](super::Client)
//! is told before it connects.

use core::time::Duration;

#[cfg(doc)]
use crate::Client;
use crate::DEFAULT_RECONNECTION_TIME;

/// The shortest wait between one connection attempt ending and the next
/// starting, by default: 100 ms. A server's `retry: 0` (or a `Retry-After:
/// 0`) cannot make a client reconnect faster than this; see
/// [`ClientConfig::with_min_reconnection_delay`].
pub const DEFAULT_MIN_RECONNECTION_DELAY: Duration = Duration::from_millis(100);

/// When a failed response is worth another attempt.
///
/// The spec fails the connection for good on any response other than a
/// `200 OK` event stream; that is [`RetryPolicy::Never`], the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryPolicy {
    /// As in browsers: any other status or content type closes the client.
    #[default]
    Never,
    /// Retry `5xx` and `429` responses, honouring `Retry-After`. Other
    /// failures close the client.
    Transient,
    /// Retry every failed response (any status, any content type),
    /// honouring `Retry-After`. `204 No Content` still closes the client.
    Always,
}

/// How a [`Client`] reconnects.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::{ClientConfig, RetryPolicy};
///
/// let config = ClientConfig::new()
///     .with_reconnection_time(Duration::from_secs(1))
///     .with_idle_timeout(Some(Duration::from_secs(45)))
///     .with_max_attempts(Some(5))
///     .with_retry_policy(RetryPolicy::Transient);
/// assert_eq!(config.reconnection_time(), Duration::from_secs(1));
/// assert_eq!(config.max_attempts(), Some(5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    pub(super) reconnection_time: Duration,
    pub(super) min_reconnection_delay: Duration,
    pub(super) max_backoff: Duration,
    pub(super) jitter_permille: u16,
    pub(super) healthy_after: Duration,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) max_attempts: Option<u32>,
    pub(super) max_redirects: u8,
    pub(super) retry_policy: RetryPolicy,
}

impl ClientConfig {
    /// The defaults: reconnect after [`DEFAULT_RECONNECTION_TIME`] (until the
    /// server says otherwise) but never sooner than
    /// [`DEFAULT_MIN_RECONNECTION_DELAY`], back off up to 30 s, add up to 20% jitter,
    /// call a connection healthy after 10 s or its first event, no idle
    /// timeout, unlimited attempts, up to 20 redirects (as `fetch`), and
    /// [`RetryPolicy::Never`].
    pub const fn new() -> Self {
        Self {
            reconnection_time: DEFAULT_RECONNECTION_TIME,
            min_reconnection_delay: DEFAULT_MIN_RECONNECTION_DELAY,
            max_backoff: Duration::from_secs(30),
            jitter_permille: 200,
            healthy_after: Duration::from_secs(10),
            idle_timeout: None,
            max_attempts: None,
            max_redirects: 20,
            retry_policy: RetryPolicy::Never,
        }
    }

    /// The reconnection time until the server sends `retry:`.
    pub const fn with_reconnection_time(mut self, time: Duration) -> Self {
        self.reconnection_time = time;
        self
    }

    /// The floor under every reconnection delay: no attempt starts sooner
    /// than this after the previous one ended, whatever the server's
    /// `retry:` or `Retry-After` asks, so that a server that answers
    /// `retry: 0` and closes each stream cannot make clients reconnect in a
    /// tight loop. Backing off after attempts that delivered nothing
    /// doubles from here. `Duration::ZERO` turns the floor off (the spec's
    /// `retry: 0` then means at once); the default is
    /// [`DEFAULT_MIN_RECONNECTION_DELAY`].
    pub const fn with_min_reconnection_delay(mut self, delay: Duration) -> Self {
        self.min_reconnection_delay = delay;
        self
    }

    /// The longest delay that backing off can reach (before jitter). A
    /// server's own `retry:` or `Retry-After` above it is still honoured.
    pub const fn with_max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// How much longer than computed a delay may randomly be, in
    /// thousandths (200 = up to 20% longer), so that clients dropped
    /// together do not all come back at the same moment. Jitter only ever
    /// lengthens: a server's `retry:` is a floor. At most 1000.
    pub const fn with_jitter_permille(mut self, permille: u16) -> Self {
        self.jitter_permille = if permille > 1000 { 1000 } else { permille };
        self
    }

    /// How long a connection must stay open (unless it delivers an event
    /// sooner) before backing off and counting attempts start over.
    pub const fn with_healthy_after(mut self, time: Duration) -> Self {
        self.healthy_after = time;
        self
    }

    /// Treat a connection that receives no byte for this long (keep-alive
    /// comments count) as dead, and a request without a response for this
    /// long as failed. `None`, the default, waits forever, as browsers do.
    pub const fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Give up after this many attempts in a row that did not lead to a
    /// healthy connection; the first connection counts. `None`, the
    /// default, never gives up.
    pub const fn with_max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Follow at most this many redirects per attempt.
    pub const fn with_max_redirects(mut self, redirects: u8) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// Which failed responses are retried.
    pub const fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The reconnection time until the server sends `retry:`.
    pub const fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// The floor under every reconnection delay.
    pub const fn min_reconnection_delay(&self) -> Duration {
        self.min_reconnection_delay
    }

    /// The longest delay that backing off can reach.
    pub const fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The jitter, in thousandths of a delay.
    pub const fn jitter_permille(&self) -> u16 {
        self.jitter_permille
    }

    /// How long a connection must stay open to count as healthy.
    pub const fn healthy_after(&self) -> Duration {
        self.healthy_after
    }

    /// The idle timeout, if any.
    pub const fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The most attempts in a row, if limited.
    pub const fn max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The most redirects per attempt.
    pub const fn max_redirects(&self) -> u8 {
        self.max_redirects
    }

    /// Which failed responses are retried.
    pub const fn retry_policy(&self) -> RetryPolicy {
        self.retry_policy
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new()
    }
}
