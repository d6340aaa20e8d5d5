//! The database: the stored events, the id prefix and the newest position,
//! and the history bound applied to them in every commit.

use std::collections::VecDeque;
use std::path::Path;

use redb::{Database, Durability, ReadableTable, TableDefinition};
use sse_proto::publisher::{IdPrefix, Position, Publisher, PublisherConfig};

use super::OpenError;
use super::record;

/// Events by position: [`record`]s.
const EVENTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("events");
/// The prefix of the ids (text), the newest position (decimal text) and
/// the layout's version.
const META: TableDefinition<'_, &str, &str> = TableDefinition::new("meta");
const META_FORMAT: &str = "format";
const META_PREFIX: &str = "id-prefix";
const META_LAST: &str = "last-position";
/// The layout written by this version.
const FORMAT: &str = "1";

/// Memory the database may use for its page cache: the whole history (up
/// to 256 MiB in `sse serve`) need not stay cached, only what commits touch.
const CACHE_BYTES: usize = 64 << 20;

/// An event about to be stored: its position, record and history cost.
pub(super) struct Staged {
    pub(super) position: u64,
    pub(super) record: Vec<u8>,
    pub(super) cost: usize,
}

/// The database and what its events table holds.
pub(super) struct Store {
    db: Database,
    durability: Durability,
    /// The stored events' positions and history costs, oldest first.
    window: VecDeque<(u64, usize)>,
    /// The sum of the costs in `window`.
    bytes: usize,
    /// The newest position taken (stored or since trimmed).
    last: u64,
    /// The history bounds the events table follows.
    bounds: PublisherConfig,
    /// The ids' prefix.
    prefix: IdPrefix,
}

fn storage(error: impl Into<redb::Error>) -> OpenError {
    OpenError::Storage(Box::new(error.into()))
}

impl Store {
    /// Opens (or creates) the database in `dir`, reads or stores its id
    /// prefix (`fresh` when it has none), and restores its events into a
    /// new publisher with `config` and that prefix.
    pub(super) fn open<P>(
        dir: &Path,
        config: PublisherConfig,
        fresh: IdPrefix,
        sync: bool,
    ) -> Result<(Self, Publisher<P>), OpenError> {
        std::fs::create_dir_all(dir).map_err(OpenError::Io)?;
        let db = Database::builder()
            // The file format redb 3 reads too, so an upgrade keeps the data.
            .create_with_file_format_v3(true)
            .set_cache_size(CACHE_BYTES)
            .create(dir.join(super::FILE_NAME))
            .map_err(storage)?;

        let (prefix, stored_last) = Self::meta(&db, fresh)?;
        let config = config.with_generate_ids(true).with_id_prefix(Some(prefix));
        let publisher = Publisher::with_config(config).map_err(OpenError::Config)?;

        let mut store = Self {
            db,
            durability: if sync {
                Durability::Immediate
            } else {
                Durability::Eventual
            },
            window: VecDeque::new(),
            bytes: 0,
            last: 0,
            bounds: config,
            prefix,
        };
        let newest = store.restore(&publisher)?;
        let last = stored_last.max(newest);
        if last > publisher.position().get() {
            publisher
                .restore_position(Position::new(last))
                .map_err(|error| OpenError::Format(format!("position {last}: {error}")))?;
        }
        store.last = publisher.position().get();
        // The bounds may be smaller than when the events were stored.
        store.commit(&[]).map_err(OpenError::Storage)?;
        Ok((store, publisher))
    }

    /// Reads the layout's version, the prefix and the newest position,
    /// storing `fresh` as the prefix of a new database.
    fn meta(db: &Database, fresh: IdPrefix) -> Result<(IdPrefix, u64), OpenError> {
        let txn = db.begin_write().map_err(storage)?;
        let found = {
            let mut meta = txn.open_table(META).map_err(storage)?;
            // Create the events table too, so readers always find it.
            txn.open_table(EVENTS).map_err(storage)?;
            let format = meta.get(META_FORMAT).map_err(storage)?;
            match format.as_ref().map(|value| value.value()) {
                None | Some(FORMAT) => {}
                Some(other) => {
                    return Err(OpenError::Format(format!(
                        "stored by another version (layout {other:?})"
                    )));
                }
            }
            drop(format);
            let prefix = match meta.get(META_PREFIX).map_err(storage)? {
                None => None,
                Some(text) => Some(IdPrefix::parse(text.value()).ok_or_else(|| {
                    OpenError::Format(format!("bad id prefix {:?}", text.value()))
                })?),
            };
            let last = match meta.get(META_LAST).map_err(storage)? {
                None => 0,
                Some(text) => text.value().parse().map_err(|_| {
                    OpenError::Format(format!("bad last position {:?}", text.value()))
                })?,
            };
            let prefix = match prefix {
                Some(prefix) => prefix,
                None => {
                    meta.insert(META_FORMAT, FORMAT).map_err(storage)?;
                    meta.insert(META_PREFIX, fresh.to_string().as_str())
                        .map_err(storage)?;
                    fresh
                }
            };
            (prefix, last)
        };
        txn.commit().map_err(storage)?;
        Ok(found)
    }

    /// Restores every stored event into `publisher`, oldest first, and
    /// returns the newest position stored. An event that cannot be read
    /// back or restored (stored under larger limits, say) is skipped: a
    /// client resuming from before it gets the reset event.
    fn restore<P>(&mut self, publisher: &Publisher<P>) -> Result<u64, OpenError> {
        let txn = self.db.begin_read().map_err(storage)?;
        let events = txn.open_table(EVENTS).map_err(storage)?;
        let mut newest = 0;
        for entry in events.range::<u64>(..).map_err(storage)? {
            let (position, value) = entry.map_err(storage)?;
            let position = position.value();
            newest = position;
            let restored = record::decode(value.value())
                .map_err(|error| error.to_string())
                .and_then(|stored| {
                    let len = self
                        .bounds
                        .check_event(stored.event, Position::new(position))
                        .map_err(|error| error.to_string())?;
                    publisher
                        .restore(
                            Position::new(position),
                            stored.event,
                            stored.channels.as_slice(),
                        )
                        .map_err(|error| error.to_string())?;
                    Ok(len)
                });
            match restored {
                Ok(len) => {
                    let cost = self.bounds.history_cost(len);
                    self.window.push_back((position, cost));
                    self.bytes = self.bytes.saturating_add(cost);
                }
                Err(error) => {
                    tracing::warn!(position, %error, "skipping a stored event");
                }
            }
        }
        Ok(newest)
    }

    /// The ids' prefix.
    pub(super) fn prefix(&self) -> IdPrefix {
        self.prefix
    }

    /// The newest position taken.
    pub(super) fn last(&self) -> u64 {
        self.last
    }

    /// The history bounds (and limits) events are checked against.
    pub(super) fn config(&self) -> &PublisherConfig {
        &self.bounds
    }

    /// Stores `staged` (positions following [`last`](Self::last), in
    /// order) in one transaction that also drops the oldest events beyond
    /// the history bounds and records the newest position. Nothing changes
    /// if it fails.
    pub(super) fn commit(
        &mut self,
        staged: &[Staged],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let trim = self.trim_point(staged);
        if staged.is_empty() && trim.is_none() {
            return Ok(());
        }
        let last = staged.last().map_or(self.last, |newest| newest.position);
        let mut txn = self.db.begin_write().map_err(redb::Error::from)?;
        txn.set_durability(self.durability);
        {
            let mut events = txn.open_table(EVENTS).map_err(redb::Error::from)?;
            for event in staged {
                events
                    .insert(event.position, event.record.as_slice())
                    .map_err(redb::Error::from)?;
            }
            if let Some(trim) = trim {
                events
                    .retain_in(..=trim, |_, _| false)
                    .map_err(redb::Error::from)?;
            }
            let mut meta = txn.open_table(META).map_err(redb::Error::from)?;
            meta.insert(META_LAST, last.to_string().as_str())
                .map_err(redb::Error::from)?;
        }
        txn.commit().map_err(redb::Error::from)?;

        self.last = last;
        for event in staged {
            self.window.push_back((event.position, event.cost));
            self.bytes = self.bytes.saturating_add(event.cost);
        }
        while self
            .window
            .front()
            .is_some_and(|&(position, _)| Some(position) <= trim)
        {
            if let Some((_, cost)) = self.window.pop_front() {
                self.bytes = self.bytes.saturating_sub(cost);
            }
        }
        Ok(())
    }

    /// The newest position to drop so that the stored events and `staged`
    /// fit the history bounds, by the publisher's own rule (oldest first);
    /// `None` if they fit.
    fn trim_point(&self, staged: &[Staged]) -> Option<u64> {
        let mut events = self.window.len() + staged.len();
        let mut bytes = staged
            .iter()
            .fold(self.bytes, |sum, event| sum.saturating_add(event.cost));
        let mut trim = None;
        let all = self
            .window
            .iter()
            .copied()
            .chain(staged.iter().map(|event| (event.position, event.cost)));
        for (position, cost) in all {
            if self.bounds.history_holds(events, bytes) {
                break;
            }
            events -= 1;
            bytes = bytes.saturating_sub(cost);
            trim = Some(position);
        }
        trim
    }

    /// How many events are stored, and their history cost.
    #[cfg(test)]
    pub(super) fn stored(&self) -> (usize, usize) {
        (self.window.len(), self.bytes)
    }

    /// The positions stored, read from the database.
    #[cfg(test)]
    pub(super) fn positions(&self) -> Vec<u64> {
        let txn = self.db.begin_read().unwrap();
        let events = txn.open_table(EVENTS).unwrap();
        events
            .range::<u64>(..)
            .unwrap()
            .map(|entry| entry.unwrap().0.value())
            .collect()
    }
}
