//! Slots for connections that are not streams yet ("pending": reading a
//! head, or between requests), in all and per client address, so that
//! half-open connections cannot crowd out real subscribers; and the
//! counters the server keeps.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What the server counts, for health checks and metrics. Every figure is
/// a running total since the server started, except the two gauges.
#[derive(Debug, Default)]
pub struct ServeStats {
    pub(super) accepted: AtomicU64,
    pub(super) refused_pending: AtomicU64,
    pub(super) refused_client: AtomicU64,
    pub(super) head_timeouts: AtomicU64,
    pub(super) bad_heads: AtomicU64,
    pub(super) write_timeouts: AtomicU64,
    pub(super) open: AtomicU64,
    pub(super) pending: AtomicU64,
}

/// A snapshot of [`ServeStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeCounts {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections closed at once because too many were pending.
    pub refused_pending: u64,
    /// Connections closed at once because their client had too many
    /// pending.
    pub refused_client: u64,
    /// Connections closed because no request head arrived in time.
    pub head_timeouts: u64,
    /// Request heads refused as malformed, too large or with conflicting
    /// framing.
    pub bad_heads: u64,
    /// Connections closed because the client did not take what was
    /// written for the write timeout (a stalled subscriber).
    pub write_timeouts: u64,
    /// Connections open now.
    pub open: u64,
    /// Connections open now that are not streams.
    pub pending: u64,
}

impl ServeStats {
    /// The figures now.
    pub fn counts(&self) -> ServeCounts {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ServeCounts {
            accepted: get(&self.accepted),
            refused_pending: get(&self.refused_pending),
            refused_client: get(&self.refused_client),
            head_timeouts: get(&self.head_timeouts),
            bad_heads: get(&self.bad_heads),
            write_timeouts: get(&self.write_timeouts),
            open: get(&self.open),
            pending: get(&self.pending),
        }
    }

    pub(super) fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The pending connections, in all and per client address.
#[derive(Debug)]
pub(super) struct Slots {
    stats: Arc<ServeStats>,
    max: usize,
    per_client: usize,
    by_client: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection got no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NoSlot {
    /// Too many pending in all.
    Full,
    /// Too many pending from this client.
    Client,
}

impl Slots {
    pub(super) fn new(stats: Arc<ServeStats>, max: usize, per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            stats,
            max,
            per_client,
            by_client: Mutex::new(HashMap::new()),
        })
    }

    fn clients(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        // The map stays consistent whatever panicked while it was held.
        self.by_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection from `client` (`None`: a trusted proxy,
    /// which is not capped per address).
    pub(super) fn take(self: &Arc<Self>, client: Option<IpAddr>) -> Result<Slot, NoSlot> {
        let mut clients = self.clients();
        let pending = self.stats.pending.load(Ordering::Relaxed);
        if usize::try_from(pending).unwrap_or(usize::MAX) >= self.max {
            return Err(NoSlot::Full);
        }
        if let Some(ip) = client {
            let count = clients.entry(ip).or_insert(0);
            if *count >= self.per_client {
                return Err(NoSlot::Client);
            }
            *count += 1;
        }
        self.stats.pending.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            slots: Arc::clone(self),
            client,
        })
    }
}

/// A pending connection's slot, given back when it is dropped.
#[derive(Debug)]
pub(super) struct Slot {
    slots: Arc<Slots>,
    client: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut clients = self.slots.clients();
        if let Some(ip) = self.client {
            if let Some(count) = clients.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    clients.remove(&ip);
                }
            }
        }
        self.slots.stats.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection as the requests on it see it (in their extensions): the
/// endpoint that turns it into a stream gives back its pending slot.
#[derive(Clone, Debug)]
pub struct ConnectionHandle(Arc<Mutex<Option<Slot>>>);

impl ConnectionHandle {
    pub(super) fn new(slot: Slot) -> Self {
        Self(Arc::new(Mutex::new(Some(slot))))
    }

    /// The connection now carries an event stream: it no longer counts as
    /// pending.
    pub fn became_stream(&self) {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(slot);
    }

    /// Whether it still counts as pending.
    pub fn is_pending(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::Arc;

    use super::{ConnectionHandle, NoSlot, ServeStats, Slots};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn caps_apply_in_all_and_per_client_and_slots_come_back() {
        let stats = Arc::new(ServeStats::default());
        let slots = Slots::new(Arc::clone(&stats), 3, 2);
        let a1 = slots.take(Some(A)).unwrap();
        let _a2 = slots.take(Some(A)).unwrap();
        assert_eq!(slots.take(Some(A)).unwrap_err(), NoSlot::Client);
        let _b1 = slots.take(Some(B)).unwrap();
        assert_eq!(slots.take(None).unwrap_err(), NoSlot::Full);
        assert_eq!(stats.counts().pending, 3);
        drop(a1);
        assert_eq!(stats.counts().pending, 2);
        let _a3 = slots.take(Some(A)).expect("a slot came back");
    }

    #[test]
    fn a_stream_gives_its_slot_back_once() {
        let stats = Arc::new(ServeStats::default());
        let slots = Slots::new(Arc::clone(&stats), 1, 1);
        let handle = ConnectionHandle::new(slots.take(Some(A)).unwrap());
        assert!(handle.is_pending());
        handle.became_stream();
        handle.became_stream();
        assert!(!handle.is_pending());
        assert_eq!(stats.counts().pending, 0);
        let _next = slots.take(Some(A)).expect("the slot is free again");
    }
}
