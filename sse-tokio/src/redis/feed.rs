//! The reader: one task per node that reads the global stream in order and
//! feeds every entry into the node's local publisher.

use core::time::Duration;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use ::redis::aio::MultiplexedConnection;
use ::redis::{RedisError, Value};
use sse_proto::publisher::{Position, PublishError, Publisher};
use sse_proto::{Backoff, Event, EventId, EventType, Frame, Text};
use tokio::sync::watch;

use super::link::{Link, lock};
use super::scripts::{self, Entry, Keys};
use super::{RedisConfig, RedisId};

/// The first wait before reconnecting; it doubles (with jitter, as the
/// client's [`Backoff`] does) up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The `retry:` hint sent to clients disconnected because of a gap, when
/// the publisher has no lag retry of its own.
const GAP_RETRY: Duration = Duration::from_secs(1);

/// Where the node is in the global stream, changed only under its lock
/// together with the local publisher, so that a subscribe can see a
/// consistent pair of (local position, last id fed).
#[derive(Debug)]
pub(super) struct FeedState {
    /// The id of the last entry fed (or, before any, of the newest entry when
    /// the node connected).
    pub(super) cursor: RedisId,
    /// How many gaps so far: a subscribe planned before a gap starts over.
    pub(super) gaps: u64,
    /// The local position before the latest gap: the local history does not
    /// hold everything after an event at or before it.
    pub(super) gap_at: Option<Position>,
    /// How late the last entry was fed: from its id's time (Redis's clock)
    /// to the feed (this node's).
    pub(super) lag: Option<Duration>,
}

/// The feed's state and a way to wait for it to move.
#[derive(Debug)]
pub(super) struct Feed {
    pub(super) state: Mutex<FeedState>,
    /// The cursor after each batch, for subscribes waiting to catch up.
    pub(super) fed: watch::Sender<RedisId>,
}

impl Feed {
    pub(super) fn new(cursor: RedisId) -> Self {
        Self {
            state: Mutex::new(FeedState {
                cursor,
                gaps: 0,
                gap_at: None,
                lag: None,
            }),
            fed: watch::Sender::new(cursor),
        }
    }

    pub(super) fn cursor(&self) -> RedisId {
        lock(&self.state).cursor
    }

    /// How late the last entry was fed.
    pub(super) fn lag(&self) -> Option<Duration> {
        lock(&self.state).lag
    }
}

/// How long ago (by this node's clock) Redis added the entry `id`.
fn age(id: RedisId) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    now.saturating_sub(Duration::from_millis(id.millis()))
}

/// The reader task's parts.
pub(super) struct Reader<P> {
    pub(super) publisher: Publisher<P>,
    pub(super) link: Arc<Link>,
    pub(super) feed: Arc<Feed>,
    pub(super) keys: Keys,
    pub(super) config: RedisConfig,
}

/// The local publisher was closed: the node is shutting down.
struct Closed;

/// Why an entry was not fed.
enum Undelivered {
    Closed,
    /// The local publisher refused it (too large for this node's limits, or
    /// fields something else wrote).
    Refused(String),
}

impl<P> Reader<P> {
    /// Reads and feeds until the publisher is closed (or the task is
    /// aborted). Errors never end it: it reconnects with backoff and carries
    /// on from its cursor, so nothing is skipped or fed twice.
    pub(super) async fn run(self) {
        let mut backoff = Backoff::new(MAX_BACKOFF);
        let mut connection: Option<MultiplexedConnection> = None;
        loop {
            if self.publisher.is_closed() {
                return;
            }
            let mut open = match connection.take() {
                Some(open) => open,
                None => match self.reconnect().await {
                    Ok(open) => open,
                    Err(error) => {
                        self.lost(&error);
                        backoff.failed();
                        tokio::time::sleep(backoff.delay(MIN_BACKOFF)).await;
                        continue;
                    }
                },
            };
            match self.read(&mut open).await {
                Ok(entries) => {
                    backoff.succeeded();
                    if self.feed_entries(entries).is_err() {
                        return;
                    }
                    connection = Some(open);
                }
                Err(error) => {
                    self.lost(&error);
                    backoff.failed();
                    tokio::time::sleep(backoff.delay(MIN_BACKOFF)).await;
                }
            }
        }
    }

    /// Opens the reader's connection and checks that Redis still has what
    /// the node read: if its newest entry is older than the cursor, Redis
    /// lost data (a restart without persistence, a flush) and the node
    /// starts over from what is there, sending its clients back to resume.
    async fn reconnect(&self) -> Result<MultiplexedConnection, RedisError> {
        let mut open = self.link.reader_connection().await?;
        let newest: Value = ::redis::cmd("XREVRANGE")
            .arg(&self.keys.all)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut open)
            .await?;
        let newest = scripts::entries(newest)
            .ok()
            .and_then(|entries| entries.first().map(|entry| entry.id))
            .unwrap_or(RedisId::ZERO);
        {
            let mut state = lock(&self.feed.state);
            if newest < state.cursor {
                tracing::warn!(
                    cursor = %state.cursor,
                    %newest,
                    "Redis no longer has the entries this node read (restarted without its data?); \
                     starting over from its newest entry and sending clients back to resume"
                );
                self.gap(&mut state);
                state.cursor = newest;
            }
        }
        self.link.up();
        tracing::info!(cursor = %self.feed.cursor(), "reading the global stream");
        Ok(open)
    }

    /// The link is down: says so once, and drops the command connection too
    /// (it shares the fate of this one, and a fresh one is better than a
    /// failure on a dead socket after Redis comes back).
    fn lost(&self, error: &RedisError) {
        if self.link.down(error) {
            tracing::warn!(%error, "lost the link to Redis; reconnecting");
        }
        self.link.forget_connection();
    }

    /// One blocking read of the global stream after the cursor.
    async fn read(&self, open: &mut MultiplexedConnection) -> Result<Vec<Entry>, RedisError> {
        let cursor = self.feed.cursor();
        let reply: Value = ::redis::cmd("XREAD")
            .arg("COUNT")
            .arg(self.config.batch)
            .arg("BLOCK")
            .arg(u64::try_from(self.config.block.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(&self.keys.all)
            .arg(cursor.to_string())
            .query_async(open)
            .await?;
        // Not a stream this layer wrote: nothing can be fed. Failing makes
        // the reader back off and try again rather than spin.
        scripts::read_reply(reply).map_err(|unexpected| {
            RedisError::from((
                ::redis::ErrorKind::UnexpectedReturnType,
                "unexpected XREAD reply",
                format!("expected {} in {}", unexpected.0, self.keys.all),
            ))
        })
    }

    /// Feeds entries into the local publisher, in order, under the feed
    /// lock, and moves the cursor past each.
    fn feed_entries(&self, entries: Vec<Entry>) -> Result<(), Closed> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut state = lock(&self.feed.state);
        for entry in entries {
            if entry.id <= state.cursor {
                continue;
            }
            if entry.prev.is_some_and(|prev| prev != state.cursor) {
                tracing::warn!(
                    cursor = %state.cursor,
                    next = %entry.id,
                    "entries after this node's cursor were trimmed from the global stream before it read them \
                     (it fell further behind than the feed cap); sending clients back to resume from the channels' history"
                );
                self.gap(&mut state);
            }
            if entry.probe {
                // A readiness probe: read, delivered to no one.
                state.cursor = entry.id;
                continue;
            }
            match self.deliver(&entry) {
                Ok(()) => {}
                Err(Undelivered::Closed) => return Err(Closed),
                Err(Undelivered::Refused(error)) => {
                    // Not in the local history: whoever needs it resumes
                    // through Redis.
                    tracing::warn!(id = %entry.id, %error, "cannot deliver an entry of the global stream");
                    self.gap(&mut state);
                }
            }
            state.cursor = entry.id;
        }
        let cursor = state.cursor;
        state.lag = Some(age(cursor));
        drop(state);
        self.feed.fed.send_replace(cursor);
        Ok(())
    }

    /// Publishes one entry locally, with its Redis id.
    fn deliver(&self, entry: &Entry) -> Result<(), Undelivered> {
        let refused = |error: &dyn core::fmt::Display| Undelivered::Refused(error.to_string());
        let event_type = EventType::from_bytes(&entry.event_type).map_err(|e| refused(&e))?;
        let id = entry.id.to_string();
        let event = Event::from_text(Text::from_bytes(&entry.data))
            .with_type(event_type)
            .with_id(EventId::new(&id).map_err(|e| refused(&e))?);
        let channels: Vec<&str> = entry.channel_names().collect();
        match self.publisher.publish(event, channels.as_slice()) {
            Ok(_) => Ok(()),
            Err(PublishError::Closed) => Err(Undelivered::Closed),
            Err(error) => Err(refused(&error)),
        }
    }

    /// Records a gap at the current local position and ends every local
    /// stream with a retry hint: those clients come back with their
    /// `Last-Event-ID`, which is then served from the channels' streams.
    fn gap(&self, state: &mut FeedState) {
        state.gaps += 1;
        state.gap_at = Some(self.publisher.position());
        let retry = self.publisher.config().lag_retry().unwrap_or(GAP_RETRY);
        let _ = self.publisher.disconnect_all(Some(Frame::retry(retry)));
    }
}
