//! One keep-alive clock for every stream the server writes itself, instead
//! of a timer each: a stream that has sent nothing for two ticks sends a
//! keep-alive comment, so an idle stream costs no timer of its own.

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::sync::atomic::{AtomicU64, Ordering};

use event_listener::{Event, EventListener};

/// The clock: a tick count, and the streams waiting for the next tick.
#[derive(Debug, Default)]
pub(super) struct Tick {
    count: AtomicU64,
    stopped: std::sync::atomic::AtomicBool,
    event: Event,
}

impl Tick {
    /// How often the clock ticks for a keep-alive `interval`: twice per
    /// interval, so that a stream is silent between one and one and a half
    /// intervals before its keep-alive.
    pub(super) fn period(interval: Duration) -> Duration {
        (interval / 2).max(Duration::from_millis(1))
    }

    /// Moves the clock on and wakes the waiting streams.
    pub(super) fn advance(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    /// Stops the clock's task at its next tick.
    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Whether the clock was stopped.
    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// The tick count now.
    pub(super) fn now(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }
}

/// A stream's view of the clock.
#[derive(Debug)]
pub(super) struct KeepAlive {
    /// The tick at which the stream last sent something.
    sent_at: u64,
    listener: Option<EventListener>,
}

impl KeepAlive {
    pub(super) fn new(tick: &Tick) -> Self {
        Self {
            sent_at: tick.now(),
            listener: None,
        }
    }

    /// The stream sent something.
    pub(super) fn sent(&mut self, tick: &Tick) {
        self.sent_at = tick.now();
    }

    /// Whether a keep-alive is due; when not, the waker is woken at the
    /// next tick.
    pub(super) fn poll_due(&mut self, tick: &Tick, cx: &mut Context<'_>) -> bool {
        loop {
            if tick.now() >= self.sent_at + 2 {
                self.listener = None;
                return true;
            }
            match &mut self.listener {
                None => self.listener = Some(tick.event.listen()),
                Some(listener) => match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => self.listener = None,
                    Poll::Pending => {
                        // Listening now: a tick that came before is seen
                        // by the check above on the next loop, else woken.
                        if tick.now() >= self.sent_at + 2 {
                            continue;
                        }
                        return false;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use core::task::{Context, Waker};

    use super::{KeepAlive, Tick};

    #[test]
    fn due_after_two_ticks_of_silence() {
        let tick = Tick::default();
        let mut keep_alive = KeepAlive::new(&tick);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(!keep_alive.poll_due(&tick, &mut cx));
        tick.advance();
        assert!(!keep_alive.poll_due(&tick, &mut cx));
        tick.advance();
        assert!(keep_alive.poll_due(&tick, &mut cx));
        keep_alive.sent(&tick);
        assert!(!keep_alive.poll_due(&tick, &mut cx));
        tick.advance();
        keep_alive.sent(&tick);
        tick.advance();
        assert!(!keep_alive.poll_due(&tick, &mut cx), "it sent one tick ago");
    }
}
