//! [`ResumePlan`]: what a client resuming from a log kept outside the
//! publisher gets, the rule a layer over several nodes follows.

use super::{ResetReason, queue_cost};

/// What a client that resumes from a log kept outside the publisher (the
/// Redis streams several nodes share, say) is sent: everything it missed, in
/// order, or the [reset event](super#the-reset-event) when some of it is
/// gone or it does not fit in its queue. The layer reads the log, tells the
/// plan what it found, and the plan decides; it never sends a silent gap and
/// never a partial replay.
///
/// `Id` is the log's id type, ordered as the log is.
///
/// 1. [`new`](Self::new) with the id the client last saw and the queue room
///    it has; [`read_limit`](Self::read_limit) says how many entries could
///    fit per channel (read one more).
/// 2. [`log_began_after`](Self::log_began_after) if the log's first entry
///    is newer than the client's id (the log was lost and started over);
///    [`channel`](Self::channel) for each channel, with its oldest kept entry
///    and how many entries were read after the client's id.
/// 3. [`decide`](Self::decide) with the encoded length of each missed event,
///    merged in log order.
///
/// ```
/// use sse_proto::publisher::{ResumePlan, Resumption};
///
/// // A client that saw entry 10, with 1 KiB of queue room; events of 40 bytes.
/// let mut plan = ResumePlan::new(10u64, 1024, 40);
/// plan.channel(Some((11, Some(10))), 2); // entries 11 and 12 kept, nothing trimmed
/// assert_eq!(plan.decide([Some(40), Some(40)], 4096), Resumption::Replay { reset_first: false });
///
/// let mut plan = ResumePlan::new(10u64, 1024, 40);
/// plan.channel(Some((15, Some(14))), 1); // 11 to 14 were trimmed away
/// assert_eq!(plan.decide([Some(40)], 4096), Resumption::Replay { reset_first: true });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumePlan<Id> {
    after: Id,
    budget: usize,
    read_limit: usize,
    reset_first: bool,
    too_many: bool,
}

/// What [`ResumePlan::decide`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resumption {
    /// Send the missed events (after the reset event when `reset_first`:
    /// some events before them are gone), then live events.
    Replay {
        /// Send the reset event first.
        reset_first: bool,
    },
    /// Send the reset event, then live events only: what was missed cannot
    /// be sent (too much, too large, or not an event this layer can send).
    ResetOnly,
}

impl<Id: Ord + Copy> ResumePlan<Id> {
    /// A plan for a client that last saw `after`, with `budget` bytes of
    /// queue room (counted as [`queue_cost`] counts); `smallest_event` is the
    /// encoded length of the cheapest event the log could send it.
    pub fn new(after: Id, budget: usize, smallest_event: usize) -> Self {
        let smallest = queue_cost(smallest_event).max(1);
        Self {
            after,
            budget,
            // More entries than could fit on one channel means too many.
            read_limit: budget / smallest + 1,
            reset_first: false,
            too_many: false,
        }
    }

    /// The budget left once `initial` bytes of initial events (encoded
    /// lengths) and the reset event are queued first.
    pub fn budget_after(queue_bytes: usize, initial: impl IntoIterator<Item = usize>) -> usize {
        let initial = initial
            .into_iter()
            .fold(0usize, |sum, len| sum.saturating_add(queue_cost(len)));
        queue_bytes
            .saturating_sub(initial)
            .saturating_sub(queue_cost(ResetReason::History.event().encoded_len()))
    }

    /// The most entries one channel could send within the budget: read one
    /// more, so that reading more than this tells that there are too many.
    pub const fn read_limit(&self) -> usize {
        self.read_limit
    }

    /// The log's first entry is `first` and nothing came before it: if it is
    /// newer than the client's id, whatever the client saw may be followed
    /// by events that are gone (the log was lost, or the id is from another
    /// log).
    pub fn log_began_after(&mut self, first: Id) {
        self.reset_first |= first > self.after;
    }

    /// What one channel's history holds: its oldest kept entry with the id
    /// of the entry before it on that channel (`None` if that is not known),
    /// and how many entries after the client's id were read. If the oldest
    /// kept entry is newer than the client's id and so is the one before it,
    /// that one was trimmed away.
    pub fn channel(&mut self, oldest: Option<(Id, Option<Id>)>, read: usize) {
        if let Some((oldest, before)) = oldest {
            self.reset_first |=
                oldest > self.after && before.is_none_or(|before| before > self.after);
        }
        self.too_many |= read > self.read_limit;
    }

    /// Decides, given each missed event's encoded length in log order
    /// (`None` for an entry that cannot be sent as an event) and the largest
    /// event a subscriber may be sent.
    pub fn decide(
        self,
        lens: impl IntoIterator<Item = Option<usize>>,
        max_event: usize,
    ) -> Resumption {
        if self.too_many {
            return Resumption::ResetOnly;
        }
        let mut cost = 0usize;
        for len in lens {
            let Some(len) = len else {
                return Resumption::ResetOnly;
            };
            cost = cost.saturating_add(queue_cost(len));
            if len > max_event || cost > self.budget {
                return Resumption::ResetOnly;
            }
        }
        Resumption::Replay {
            reset_first: self.reset_first,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ResumePlan, Resumption};

    const EVENT: usize = 40;

    #[test]
    fn a_whole_history_is_replayed() {
        let mut plan = ResumePlan::new(10u64, 10_000, EVENT);
        plan.log_began_after(1);
        plan.channel(Some((3, None)), 2);
        plan.channel(None, 0);
        assert_eq!(
            plan.decide([Some(EVENT); 2], 1024),
            Resumption::Replay { reset_first: false }
        );
    }

    #[test]
    fn a_log_that_began_after_the_id_resets_first() {
        let mut plan = ResumePlan::new(10u64, 10_000, EVENT);
        plan.log_began_after(11);
        assert_eq!(
            plan.decide([Some(EVENT)], 1024),
            Resumption::Replay { reset_first: true }
        );
    }

    #[test]
    fn a_trimmed_channel_resets_first() {
        // The oldest kept is 12, and 11 (after the client's 10) came before.
        let mut plan = ResumePlan::new(10u64, 10_000, EVENT);
        plan.channel(Some((12, Some(11))), 1);
        assert_eq!(
            plan.decide([Some(EVENT)], 1024),
            Resumption::Replay { reset_first: true }
        );
        // Unknown predecessor of a newer oldest entry: assume the worst.
        let mut plan = ResumePlan::new(10u64, 10_000, EVENT);
        plan.channel(Some((12, None)), 1);
        assert_eq!(
            plan.decide([Some(EVENT)], 1024),
            Resumption::Replay { reset_first: true }
        );
        // The entry before the oldest is the client's own: nothing is gone.
        let mut plan = ResumePlan::new(10u64, 10_000, EVENT);
        plan.channel(Some((12, Some(10))), 1);
        assert_eq!(
            plan.decide([Some(EVENT)], 1024),
            Resumption::Replay { reset_first: false }
        );
    }

    #[test]
    fn too_much_too_large_or_unsendable_resets_only() {
        let plan = ResumePlan::new(10u64, 200, EVENT);
        let mut over = plan;
        over.channel(None, plan.read_limit() + 1);
        assert_eq!(over.decide([], 1024), Resumption::ResetOnly);
        assert_eq!(plan.decide([Some(EVENT); 10], 1024), Resumption::ResetOnly);
        assert_eq!(plan.decide([Some(2000)], 1024), Resumption::ResetOnly);
        assert_eq!(
            plan.decide([Some(EVENT), None], 1024),
            Resumption::ResetOnly
        );
        assert_eq!(
            plan.decide([Some(EVENT)], 1024),
            Resumption::Replay { reset_first: false }
        );
    }

    #[test]
    fn the_budget_leaves_room_for_initial_events_and_the_reset() {
        let budget = ResumePlan::<u64>::budget_after(1000, [100, 200]);
        assert!(budget < 1000 - 300);
        assert_eq!(ResumePlan::<u64>::budget_after(10, [100]), 0);
    }
}
