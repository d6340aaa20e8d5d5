//! The replay history: recent events by position, bounded by count and bytes.

use core::borrow::Borrow;
use core::hash::{Hash, Hasher};
use core::ops::Range;
use std::collections::{HashMap, VecDeque};

use super::channels::ChannelSet;
use super::{Chunk, PublisherConfig};

/// How many buckets remember the newest evicted position per channel hash.
pub(crate) const BUCKETS: usize = 64;

/// Bookkeeping counted per history entry on top of its encoded bytes.
pub(crate) const HISTORY_OVERHEAD: usize = 64;

/// One published event as the history keeps it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) position: u64,
    pub(crate) channels: ChannelSet,
    /// The shared encoding; `None` for per-subscriber events, which cannot
    /// be replayed: a replay that reaches one sends the reset event instead.
    pub(crate) chunk: Option<Chunk>,
    /// Where the event's own id sits in `chunk`, when it had one: the key
    /// under which `ids` indexes it.
    id: Option<Range<usize>>,
}

impl Entry {
    pub(crate) fn new(position: u64, channels: ChannelSet, chunk: Option<Chunk>) -> Self {
        Self {
            position,
            channels,
            chunk,
            id: None,
        }
    }

    fn cost(&self, bounds: &PublisherConfig) -> usize {
        bounds.history_cost(self.chunk.as_ref().map_or(0, |chunk| chunk.len()))
    }
}

/// An id inside a history chunk, hashed and compared as its bytes so that
/// the index can be searched with a plain `&[u8]` and costs no allocation.
#[derive(Debug)]
struct IdKey {
    chunk: Chunk,
    range: Range<usize>,
}

impl IdKey {
    fn bytes(&self) -> &[u8] {
        self.chunk.get(self.range.clone()).unwrap_or_default()
    }
}

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for IdKey {}

impl Borrow<[u8]> for IdKey {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

/// Recent events in position order, and what was dropped from it.
#[derive(Debug)]
pub(crate) struct History {
    entries: VecDeque<Entry>,
    bytes: usize,
    /// The bounds ([`PublisherConfig::history_holds`]).
    bounds: PublisherConfig,
    /// Positions of events that carried their own id, by that id (the
    /// newest event wins when ids repeat).
    ids: HashMap<IdKey, u64>,
    /// Per bucket of channel names, the newest position that left the
    /// history (evicted, or never replayable). A subscriber resuming after
    /// position `p` may have missed something on channel `c` only if
    /// `evicted[bucket(c)] > p`: a collision can cause a needless reset,
    /// never a silent gap.
    evicted: [u64; BUCKETS],
}

impl History {
    pub(crate) fn new(bounds: PublisherConfig) -> Self {
        Self {
            entries: VecDeque::new(),
            bytes: 0,
            bounds,
            ids: HashMap::new(),
            evicted: [0; BUCKETS],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends an entry (positions only grow) and evicts down to the bounds.
    /// `id` is where the event's own id sits in its chunk, if it had one.
    pub(crate) fn push(&mut self, mut entry: Entry, id: Option<Range<usize>>) {
        if let (Some(range), Some(chunk)) = (id, &entry.chunk) {
            if !range.is_empty() {
                let key = IdKey {
                    chunk: chunk.clone(),
                    range: range.clone(),
                };
                self.ids.insert(key, entry.position);
                entry.id = Some(range);
            }
        }
        self.bytes = self.bytes.saturating_add(entry.cost(&self.bounds));
        self.entries.push_back(entry);
        while !self.bounds.history_holds(self.entries.len(), self.bytes) {
            if !self.evict_oldest() {
                break;
            }
        }
    }

    /// Drops the oldest entry; `false` if there was none.
    fn evict_oldest(&mut self) -> bool {
        let Some(old) = self.entries.pop_front() else {
            return false;
        };
        self.bytes = self.bytes.saturating_sub(old.cost(&self.bounds));
        self.forget(&old);
        if let (Some(range), Some(chunk)) = (&old.id, &old.chunk) {
            let bytes = chunk.get(range.clone()).unwrap_or_default();
            if self.ids.get(bytes) == Some(&old.position) {
                self.ids.remove(bytes);
            }
        }
        true
    }

    /// Marks every position up to `position` as gone on every channel, as
    /// if those events had been evicted (so every entry up to it is dropped
    /// too: the history only ever loses its oldest): a resume from before
    /// it gets the reset event.
    pub(crate) fn forget_up_to(&mut self, position: u64) {
        while self
            .entries
            .front()
            .is_some_and(|entry| entry.position <= position)
        {
            self.evict_oldest();
        }
        for newest in &mut self.evicted {
            *newest = (*newest).max(position);
        }
    }

    fn forget(&mut self, entry: &Entry) {
        for name in entry.channels.as_slice() {
            if let Some(newest) = self.evicted.get_mut(bucket(name)) {
                *newest = (*newest).max(entry.position);
            }
        }
    }

    /// The position of the newest event whose own id is `id`.
    pub(crate) fn find_id(&self, id: &[u8]) -> Option<u64> {
        self.ids.get(id).copied()
    }

    /// The newest position on any of `buckets` that left the history.
    pub(crate) fn evicted(&self, buckets: &[usize]) -> u64 {
        buckets
            .iter()
            .filter_map(|&b| self.evicted.get(b))
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// The first entry after `after` and at most `until` on one of
    /// `channels`.
    pub(crate) fn next_after(
        &self,
        after: u64,
        until: u64,
        channels: &[std::sync::Arc<str>],
    ) -> Option<&Entry> {
        let start = self.entries.partition_point(|e| e.position <= after);
        self.entries
            .range(start..)
            .take_while(|e| e.position <= until)
            .find(|e| e.channels.intersects(channels))
    }
}

/// Which of the history's eviction buckets a channel falls in (FNV-1a).
pub(crate) fn bucket(name: &str) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as usize % BUCKETS
}
