//! [`RedisConfig`]: where Redis is, the keys, and how much is kept.

use core::fmt;
use core::time::Duration;

/// Where Redis is and how the fan-out uses it.
///
/// ```
/// use std::time::Duration;
/// use sse_tokio::redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://:secret@10.0.0.5:6379/2")
///     .with_prefix("chat")
///     .with_retention(10_000)
///     .with_block(Duration::from_secs(1));
/// assert_eq!(config.prefix(), "chat");
/// // The password never shows in logs.
/// assert_eq!(config.url_redacted(), "redis://***@10.0.0.5:6379/2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedisConfig {
    pub(super) url: String,
    pub(super) prefix: String,
    pub(super) retention: usize,
    pub(super) feed_cap: usize,
    pub(super) block: Duration,
    pub(super) batch: usize,
    pub(super) timeout: Duration,
    pub(super) catch_up: Duration,
}

impl RedisConfig {
    /// The defaults for Redis at `url`: `redis://[[user]:password@]host[:port][/db]`,
    /// `rediss://` for TLS (with the `rustls` feature), or
    /// `redis+unix:///path/to/socket`. Key prefix `sse`, 1000 events of
    /// history per channel, a global stream of about 100,000 entries, blocking
    /// reads of 2 s in batches of up to 512 entries, a 2 s timeout for
    /// connecting and for commands, and up to 5 s for this node to catch up
    /// with a client that was ahead of it.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: String::from("sse"),
            retention: 1000,
            feed_cap: 100_000,
            block: Duration::from_secs(2),
            batch: 512,
            timeout: Duration::from_secs(2),
            catch_up: Duration::from_secs(5),
        }
    }

    /// The key prefix: the keys are `{prefix}:all` and
    /// `{prefix}:ch:<channel>` (the braces make a Redis Cluster hash tag, so
    /// all of them live in one slot). 1 to 64 bytes without braces, white
    /// space or control characters. Nodes that share a prefix share events;
    /// several deployments may share one Redis with different prefixes.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How many recent events each channel's stream keeps for resuming
    /// clients, exactly (`XADD MAXLEN`, without `~`). A client whose
    /// `Last-Event-ID` is older than what its channels keep gets the reset
    /// event.
    pub fn with_retention(mut self, events: usize) -> Self {
        self.retention = events;
        self
    }

    /// About how many entries the global stream keeps (`XADD MAXLEN ~`):
    /// how far a node may fall behind (a network cut, a pause) and still
    /// carry on without a gap. A node that falls further behind sends its
    /// clients back to resume from the channels' streams.
    pub fn with_feed_cap(mut self, entries: usize) -> Self {
        self.feed_cap = entries;
        self
    }

    /// How long one blocking read waits for new entries before it asks
    /// again (`XREAD BLOCK`); whole milliseconds, at least 1. Also how soon a
    /// silent, dead link is noticed (after this plus the
    /// [`timeout`](Self::timeout)).
    pub fn with_block(mut self, wait: Duration) -> Self {
        self.block = wait;
        self
    }

    /// The most entries one read takes (`XREAD COUNT`).
    pub fn with_batch(mut self, entries: usize) -> Self {
        self.batch = entries;
        self
    }

    /// How long connecting, and each command, may take before it fails.
    /// A publish that times out may still have been appended: it fails
    /// either way, it is never silently dropped.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a subscribe waits for this node to read up to a
    /// `Last-Event-ID` it has not read yet (a client coming from a node that
    /// was ahead). After that it fails with
    /// [`Error::Behind`](super::Error::Behind).
    pub fn with_catch_up(mut self, wait: Duration) -> Self {
        self.catch_up = wait;
        self
    }

    /// The URL with any password replaced by `***`, for logs.
    pub fn url_redacted(&self) -> String {
        redact(&self.url)
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The events kept per channel.
    pub fn retention(&self) -> usize {
        self.retention
    }

    /// The approximate bound of the global stream.
    pub fn feed_cap(&self) -> usize {
        self.feed_cap
    }

    /// The blocking read's wait.
    pub fn block(&self) -> Duration {
        self.block
    }

    /// The connect and command timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many entries one read takes at most.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// How long a subscribe waits for this node to catch up with a client.
    pub fn catch_up(&self) -> Duration {
        self.catch_up
    }

    /// Checks the values that have rules; the URL is checked by connecting.
    pub(super) fn check(&self) -> Result<(), String> {
        let prefix_ok = (1..=64).contains(&self.prefix.len())
            && !self
                .prefix
                .chars()
                .any(|c| c == '{' || c == '}' || c.is_whitespace() || c.is_control());
        if !prefix_ok {
            return Err(format!(
                "key prefix {:?}: 1 to 64 bytes without braces, white space or control characters",
                self.prefix
            ));
        }
        if self.retention == 0 || self.feed_cap == 0 || self.batch == 0 {
            return Err("retention, feed cap and batch must be at least 1".into());
        }
        if self.block.as_millis() == 0 {
            // `XREAD BLOCK 0` waits forever.
            return Err("the blocking read must wait at least 1 ms".into());
        }
        if self.timeout.is_zero() {
            return Err("the timeout must not be zero".into());
        }
        Ok(())
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url_redacted())
            .field("prefix", &self.prefix)
            .field("retention", &self.retention)
            .field("feed_cap", &self.feed_cap)
            .field("block", &self.block)
            .field("batch", &self.batch)
            .field("timeout", &self.timeout)
            .field("catch_up", &self.catch_up)
            .finish()
    }
}

/// `scheme://user:password@host...` with the credentials hidden.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{RedisConfig, redact};

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact("redis://:pw@h:1/0"), "redis://***@h:1/0");
        assert_eq!(redact("rediss://user:p@ss@h/3"), "rediss://***@h/3");
        assert_eq!(
            redact("redis+unix:///tmp/r.sock"),
            "redis+unix:///tmp/r.sock"
        );
        assert!(!format!("{:?}", RedisConfig::new("redis://:secret@h")).contains("secret"));
    }

    #[test]
    fn prefixes_and_bounds_are_checked() {
        assert!(RedisConfig::new("redis://h").check().is_ok());
        for bad in ["", "a{b", "a}", "a b", "a\nb"] {
            assert!(
                RedisConfig::new("redis://h")
                    .with_prefix(bad)
                    .check()
                    .is_err(),
                "{bad:?}"
            );
        }
        assert!(
            RedisConfig::new("redis://h")
                .with_retention(0)
                .check()
                .is_err()
        );
        assert!(
            RedisConfig::new("redis://h")
                .with_block(std::time::Duration::from_micros(10))
                .check()
                .is_err()
        );
    }
}
