//! One publish's fan-out, and encoding events once, checked, into chunks.

use core::ops::Range;
use std::sync::Arc;
use std::vec::Vec;

use super::state::State;
use super::subscription::{Pushed, Slot};
use super::{Chunk, MAX_ID_LEN, Position, PublishError, Published, PublishedId, PublisherConfig};
use crate::{Event, Frame};

/// What one publish did to the subscribers it offered the event to.
pub(crate) struct Fanout<P> {
    reached: usize,
    lagged: usize,
    dropped: u64,
    resets: u64,
    /// Subscribers disconnected for lag, to unregister once the channel
    /// table is no longer borrowed.
    disconnected: Vec<Arc<Slot<P>>>,
}

impl<P> Fanout<P> {
    pub(crate) const fn new() -> Self {
        Self {
            reached: 0,
            lagged: 0,
            dropped: 0,
            resets: 0,
            disconnected: Vec::new(),
        }
    }

    pub(crate) fn record(&mut self, slot: &Arc<Slot<P>>, pushed: Pushed) {
        match pushed {
            Pushed::Queued => self.reached += 1,
            Pushed::DroppedOldest {
                queued,
                dropped,
                reset,
            } => {
                self.reached += usize::from(queued);
                self.lagged += 1;
                self.dropped += dropped;
                self.resets += u64::from(reset);
            }
            Pushed::Disconnected(dropped) => {
                self.lagged += 1;
                self.dropped += dropped;
                self.disconnected.push(Arc::clone(slot));
            }
        }
    }

    /// Adds the counts to the publisher's stats, unregisters the
    /// disconnected, and says what the publish did.
    pub(crate) fn finish(self, state: &mut State<P>, position: u64, id: PublishedId) -> Published {
        let stats = &mut state.stats;
        stats.published += 1;
        stats.delivered += self.reached as u64;
        stats.dropped += self.dropped;
        stats.lag_resets += self.resets;
        stats.lag_disconnects += self.disconnected.len() as u64;
        for slot in &self.disconnected {
            state.unregister(slot);
        }
        Published {
            position: Position(position),
            reached: self.reached,
            lagged: self.lagged,
            id,
        }
    }
}

/// Encodes an event after checking its id and size, and says where its own
/// id sits in the bytes.
pub(crate) fn encode_checked(
    event: Event<'_>,
    config: &PublisherConfig,
) -> Result<(Chunk, Option<Range<usize>>), PublishError> {
    let id_len = event.id().map_or(0, |id| id.as_text().len());
    if id_len > MAX_ID_LEN {
        return Err(PublishError::IdTooLong);
    }
    let chunk = Chunk::encode_within(event, config.max_event_bytes).map_err(|len| {
        PublishError::EventTooLarge {
            len,
            limit: config.max_event_bytes,
        }
    })?;
    let range = event.id().and_then(|id| {
        // The encoder writes `event: <type>\n` (unless `message`), then
        // `id: <id>\n`: check rather than trust the layout.
        let type_line = if event.event_type().is_message() {
            0
        } else {
            "event: ".len() + event.event_type().as_text().len() + 1
        };
        let start = type_line + "id: ".len();
        let range = start..start + id_len;
        (chunk.get(range.clone()) == Some(id.as_text().as_bytes())).then_some(range)
    });
    Ok((chunk, range))
}

/// Encodes a farewell frame, checked as a published event is.
pub(crate) fn encode_farewell(
    farewell: Option<Frame<'_>>,
    config: &PublisherConfig,
) -> Result<Option<Chunk>, PublishError> {
    let Some(frame) = farewell else {
        return Ok(None);
    };
    if let Frame::Event(event) = frame {
        return encode_checked(event, config).map(|(chunk, _)| Some(chunk));
    }
    Chunk::encode_within(frame, config.max_event_bytes)
        .map(Some)
        .map_err(|len| PublishError::EventTooLarge {
            len,
            limit: config.max_event_bytes,
        })
}

/// Finishes the streams of `members` after what is queued and `farewell`; a
/// subscriber met several times (one of several channels) is finished and
/// returned once.
pub(crate) fn finish_all<'s, P: 's>(
    members: impl Iterator<Item = &'s Arc<Slot<P>>>,
    farewell: Option<&Chunk>,
) -> Vec<Arc<Slot<P>>> {
    members
        .filter(|slot| slot.finish(farewell))
        .map(Arc::clone)
        .collect()
}
