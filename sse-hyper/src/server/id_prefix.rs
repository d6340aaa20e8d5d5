//! [`fresh_id_prefix`]: a new [`IdPrefix`] for each start of a server.

use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

use sse_proto::publisher::IdPrefix;

/// A prefix for this start's generated ids
/// ([`PublisherConfig::with_id_prefix`](sse_proto::publisher::PublisherConfig::with_id_prefix)):
/// the milliseconds since the Unix epoch now, and 32 random bits, so two
/// starts within the same millisecond still differ.
///
/// The random bits come from hashing the time in nanoseconds, the process
/// id and the thread id with a fresh
/// [`RandomState`](std::hash::RandomState): the standard library seeds its
/// hash keys from the operating system's random source once per process
/// (and changes them for every `RandomState` after that), which is all a
/// prefix needs: it must differ between starts, it is no secret, and
/// nothing gains by guessing it. So no dependency (such as `getrandom`) is
/// added for 32 bits.
///
/// ```
/// use sse_hyper::server::fresh_id_prefix;
///
/// let (a, b) = (fresh_id_prefix(), fresh_id_prefix());
/// assert_ne!(a, b);
/// assert_eq!(a.to_string().len(), 20);
/// ```
pub fn fresh_id_prefix() -> IdPrefix {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ms = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
    let hash = RandomState::new().hash_one((
        since_epoch.as_nanos(),
        std::process::id(),
        std::thread::current().id(),
    ));
    // The high half of the hash; any 32 of its bits would do.
    IdPrefix::new(ms, (hash >> 32) as u32)
}
