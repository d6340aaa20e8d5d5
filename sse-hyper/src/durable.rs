//! Durable history on one node (feature `durable`): the events and their
//! ids kept in an embedded database, so that a restart, a crash included,
//! loses nothing a client was sent.
//!
//! A [`DurablePublisher`] is a [`Backend`] over a local [`Publisher`] and a
//! database in a directory of its own (`sse serve --data DIR`). Every
//! publish is committed to the database before anyone sees it: a client
//! that saw an event finds it again after a restart, and an id is never
//! given twice. At start, the stored events go back into the publisher's
//! history with their ids ([`Publisher::restore`]), so a client that
//! resumes with the last id it saw gets exactly what it missed.
//!
//! ```text
//!  publish ─▶ channel ─▶ writer thread: takes every publish waiting,
//!                          one transaction (insert, trim, newest position), fsync,
//!                          then Publisher::publish each, in order ─▶ subscribers
//!                          and answers each publish
//! ```
//!
//! ```no_run
//! use sse_hyper::durable::DurablePublisher;
//! use sse_hyper::hub::{ClientInfo, Hub, HubConfig};
//! use sse_proto::publisher::PublisherConfig;
//! use sse_tokio::TokioRuntime;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Blocks while it reads the stored events back: do it before serving.
//! let durable: DurablePublisher<ClientInfo> =
//!     DurablePublisher::open("/var/lib/sse", PublisherConfig::new().with_history(10_000, 8 << 20))?;
//! // `sse_tokio::hub::Hub` is this type.
//! let hub: Hub<TokioRuntime> = Hub::new(durable, HubConfig::new());
//! # drop(hub);
//! # Ok(())
//! # }
//! ```
//!
//! # Ids
//!
//! Always generated: `<prefix>-<position>` ([`IdPrefix`]), with the prefix
//! made at the database's first start and stored in it, so the sequence
//! goes on across restarts under the same prefix. A new database (another
//! directory, or this one emptied) gets a new prefix, and a client coming
//! back with an id from the old one gets the
//! [reset event](sse_proto::publisher#the-reset-event), then live events.
//! An event published with its own id keeps it (and is found by it when a
//! client resumes), as with the in-memory publisher.
//!
//! # History
//!
//! The database keeps what the publisher's history keeps: the same bounds
//! ([`PublisherConfig::with_history`]), applied by the publisher's own rule
//! ([`PublisherConfig::history_holds`]) in the same transaction as each
//! insert. A client resuming from before the oldest event kept gets the
//! reset event first, then what is kept.
//!
//! # Durability
//!
//! By default every commit is flushed to the disk (`fsync`) before any of
//! its publishes is answered or sent ([`DurableConfig::with_sync`]). What
//! can be lost:
//!
//! - **The process is killed** (`kill -9`, a panic, out of memory):
//!   nothing that was answered or sent. Publishes still waiting for the
//!   writer were never answered and never sent: their clients get an error
//!   (their connection drops) and may retry.
//! - **Power loss or a kernel crash**: the same, as long as the disk keeps
//!   what it acknowledged (some consumer disks and virtual disks with write
//!   caching do not). The database is checksummed and always reopens at its
//!   newest complete commit.
//! - **With `with_sync(false)`** the commit is written to the operating
//!   system but not flushed: a killed process still loses nothing, but a
//!   power loss can lose the last few seconds of answered events (Linux
//!   writes dirty pages back within about 30 s by default), and a client
//!   that saw one of those may then be given its id again for another
//!   event. Faster (see `benches/README.md`), for events you can afford to
//!   lose.
//!
//! The cost of a flush is shared: the writer takes every publish that
//! arrived while the previous commit was being flushed and commits them
//! together (up to [`DurableConfig::with_max_batch`]), so many concurrent
//! publishers pay about one flush per batch rather than one each.
//!
//! # Why redb
//!
//! [redb](https://www.redb.org) is a pure-Rust embedded database in one
//! file, with ACID transactions, checksummed pages and one `fsync` per
//! commit, no background threads and no dependencies of its own. Its
//! B-tree suits a bounded log: trimming the oldest events is a range
//! delete in the same transaction, where an LSM tree (fjall) writes
//! tombstones for a compaction to clear, and brings a journal and
//! background threads of its own. redb 2.6 is the newest line that builds
//! on this workspace's Rust 1.85; databases are created in its v3 file
//! format, which redb 3 also reads.
//!
//! # One node
//!
//! The directory belongs to one process (the database locks its file).
//! Several nodes behind a load balancer share events through Redis
//! instead (`sse-tokio`'s `redis` feature). Publish only through the
//! `DurablePublisher`: events published into its local publisher directly
//! are not stored, and shift the local ids away from the stored ones.

mod record;
mod store;
#[cfg(test)]
mod tests;
mod writer;

use core::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

use futures_channel::oneshot;
use sse_proto::Event;
use sse_proto::publisher::{
    ChannelList, Channels, ConfigError, IdPrefix, Position, Publisher, PublisherConfig,
};

use crate::server::{
    Backend, BackendError, BackendFuture, BackendHealth, LinkHealth, PublishReply, fresh_id_prefix,
};
use store::Store;
use writer::{Health, Job};

/// The database's file in the directory.
const FILE_NAME: &str = "events.redb";

/// How a [`DurablePublisher`] writes: flushed or not, and how many
/// publishes one commit may take.
///
/// ```
/// use sse_hyper::durable::DurableConfig;
///
/// let config = DurableConfig::new().with_max_batch(256);
/// assert!(config.sync());
/// assert_eq!(config.max_batch(), 256);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DurableConfig {
    sync: bool,
    max_batch: usize,
}

impl Default for DurableConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DurableConfig {
    /// Every commit flushed to the disk before its publishes are answered,
    /// and up to [`DEFAULT_MAX_BATCH`](Self::DEFAULT_MAX_BATCH) publishes
    /// per commit.
    pub const fn new() -> Self {
        Self {
            sync: true,
            max_batch: Self::DEFAULT_MAX_BATCH,
        }
    }

    /// The most publishes one commit takes by default.
    pub const DEFAULT_MAX_BATCH: usize = 1024;

    /// Whether each commit is flushed to the disk (`fsync`) before its
    /// publishes are answered: see the [module](self#durability) for what
    /// each choice can lose.
    pub const fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The most publishes one commit takes (at least 1): a bound on the
    /// memory and the latency of one round of the writer.
    pub const fn with_max_batch(mut self, publishes: usize) -> Self {
        self.max_batch = if publishes == 0 { 1 } else { publishes };
        self
    }

    /// Whether commits are flushed.
    pub const fn sync(&self) -> bool {
        self.sync
    }

    /// The most publishes per commit.
    pub const fn max_batch(&self) -> usize {
        self.max_batch
    }
}

/// Why a [`DurablePublisher`] could not open its directory.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The directory could not be created.
    Io(std::io::Error),
    /// The database could not be opened or read (locked by another
    /// process, damaged, or the disk failed).
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// The publisher configuration is invalid.
    Config(ConfigError),
    /// The database holds something this version cannot read.
    Format(String),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(f, "cannot create the data directory: {error}"),
            Self::Storage(error) => write!(f, "cannot open the database: {error}"),
            Self::Config(error) => write!(f, "configuration: {error}"),
            Self::Format(message) => write!(f, "cannot read the database: {message}"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(error) => Some(error),
            Self::Storage(error) => Some(&**error),
            Self::Config(error) => Some(error),
            Self::Format(_) => None,
        }
    }
}

/// What a [`DurablePublisher`] has committed since it opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DurableStats {
    /// Transactions committed.
    pub commits: u64,
    /// Events committed (several per commit under concurrent publishing).
    pub events: u64,
    /// The newest position committed (also those of earlier runs).
    pub last: Position,
}

/// The publisher and the writer thread, shut down with the last handle.
struct Inner<P> {
    publisher: Publisher<P>,
    jobs: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    health: Arc<Health>,
    prefix: IdPrefix,
    dir: PathBuf,
}

impl<P> Drop for Inner<P> {
    fn drop(&mut self) {
        // The writer commits what is queued, then ends; the database is
        // closed (and its directory free for the next open) once it has.
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            if writer.join().is_err() {
                tracing::error!("the durable writer panicked");
            }
        }
    }
}

/// A [`Publisher`] whose history and ids are kept in a database: see the
/// [module](self). Cheap to clone: clones share the publisher and the
/// database, closed when the last one is dropped (which waits for the
/// commit in progress).
pub struct DurablePublisher<P = ()> {
    inner: Arc<Inner<P>>,
}

impl<P> Clone for DurablePublisher<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P> fmt::Debug for DurablePublisher<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurablePublisher")
            .field("dir", &self.inner.dir)
            .field("prefix", &self.inner.prefix)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<P: Send + Sync + 'static> DurablePublisher<P> {
    /// Opens the database in `dir` (created if missing) with the default
    /// [`DurableConfig`], restores its events into a new publisher with
    /// `config`'s limits, and starts the writer. Ids are always generated,
    /// under the prefix stored in the database (for a new one,
    /// `config`'s [prefix](PublisherConfig::with_id_prefix) if it has
    /// one, else a [fresh one](fresh_id_prefix)).
    ///
    /// It blocks on the disk while it reads the stored events back: call
    /// it before serving, or on a thread that may block.
    pub fn open(dir: impl AsRef<Path>, config: PublisherConfig) -> Result<Self, OpenError> {
        Self::open_with(dir, config, DurableConfig::new())
    }

    /// [`open`](Self::open) with how to write.
    pub fn open_with(
        dir: impl AsRef<Path>,
        config: PublisherConfig,
        durable: DurableConfig,
    ) -> Result<Self, OpenError> {
        let dir = dir.as_ref().to_path_buf();
        let fresh = config.id_prefix().unwrap_or_else(fresh_id_prefix);
        let (store, publisher) = Store::open(&dir, config, fresh, durable.sync)?;
        let prefix = store.prefix();
        let health = Arc::new(Health::new(store.last()));
        let (jobs, receiver) = mpsc::channel();
        let writer = {
            let publisher = publisher.clone();
            let health = Arc::clone(&health);
            std::thread::Builder::new()
                .name("sse-durable-writer".to_owned())
                .spawn(move || writer::run(store, publisher, receiver, health, durable.max_batch))
                .map_err(OpenError::Io)?
        };
        tracing::info!(
            dir = %dir.display(),
            %prefix,
            last = publisher.position().get(),
            history = publisher.stats().history_events,
            "durable history opened"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                publisher,
                jobs: Some(jobs),
                writer: Some(writer),
                health,
                prefix,
                dir,
            }),
        })
    }

    /// Publishes `event` to `channels`: answered once it is committed and
    /// sent, with its id and how many subscribers it reached.
    pub fn publish(
        &self,
        event: Event<'_>,
        channels: impl Channels,
    ) -> BackendFuture<'static, PublishReply> {
        let max = self.inner.publisher.config().max_channels();
        let submitted = ChannelList::parse(channels.names(), max)
            .map_err(|error| BackendError::Publish(error.into()))
            .and_then(|channels| self.submit(event, &channels));
        Box::pin(answer(submitted))
    }

    /// Queues one publish for the writer at once (so concurrent publishes
    /// share commits in the order they were called), and returns where the
    /// answer will come.
    fn submit(&self, event: Event<'_>, channels: &ChannelList<'_>) -> Result<Answer, BackendError> {
        let record = record::encode(event, channels).ok_or_else(|| {
            BackendError::Refused("a channel list, type or id too long to store".to_owned())
        })?;
        let (reply, answer) = oneshot::channel();
        let sent = self
            .inner
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(Job { record, reply }).is_ok());
        if !sent {
            return Err(writer::unavailable(STOPPED));
        }
        Ok(answer)
    }
}

/// Where the writer answers one publish.
type Answer = oneshot::Receiver<Result<PublishReply, BackendError>>;

/// Why a publish cannot be stored any more.
const STOPPED: &str = "the durable writer has stopped";

/// Waits for the writer's answer.
async fn answer(submitted: Result<Answer, BackendError>) -> Result<PublishReply, BackendError> {
    submitted?
        .await
        .unwrap_or_else(|_| Err(writer::unavailable(STOPPED)))
}

impl<P> DurablePublisher<P> {
    /// The local publisher the streams are served from.
    pub fn publisher(&self) -> &Publisher<P> {
        &self.inner.publisher
    }

    /// The prefix of the ids, stored in the database.
    pub fn id_prefix(&self) -> IdPrefix {
        self.inner.prefix
    }

    /// The directory of the database.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What was committed since it opened.
    pub fn stats(&self) -> DurableStats {
        let health = &self.inner.health;
        DurableStats {
            commits: health.commits.load(Ordering::Relaxed),
            events: health.events.load(Ordering::Relaxed),
            last: Position::new(health.last.load(Ordering::Acquire)),
        }
    }
}

/// Publishes through the writer (committed, then sent), and serves
/// subscriptions from the local publisher, whose history holds every
/// committed event.
impl<P: Send + Sync + 'static> Backend<P> for DurablePublisher<P> {
    fn publisher(&self) -> &Publisher<P> {
        &self.inner.publisher
    }

    fn publish<'a>(
        &'a self,
        event: Event<'a>,
        channels: &'a ChannelList<'a>,
    ) -> BackendFuture<'a, PublishReply> {
        Box::pin(answer(self.submit(event, channels)))
    }

    /// `durable`, with the writer's state as its link: down after a
    /// storage error (until a commit succeeds again) or if the writer
    /// stopped; the cursor is the newest id committed.
    fn health(&self) -> BackendHealth {
        let health = &self.inner.health;
        let (since, last_error) = health.state();
        let last = health.last.load(Ordering::Acquire);
        let link = LinkHealth::new(
            health.up(),
            since,
            last_error,
            format!("{}-{last}", self.inner.prefix),
        );
        BackendHealth::with_link("durable", link)
    }
}
