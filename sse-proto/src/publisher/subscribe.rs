//! [`Subscribe`]: a subscription being set up.

use core::fmt;
use std::collections::VecDeque;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use super::state::lock;
use super::subscription::{Replay, Slot, cost};
use super::{
    ChannelError, ChannelList, Channels, Chunk, Position, Publisher, SubscribeError, SubscriberId,
    Subscription, parse_last_event_id,
};
use crate::Event;

/// Where a new subscription starts.
#[derive(Clone, Debug)]
pub(crate) enum Resume {
    Fresh,
    LastEventId(String),
    After(u64),
}

/// A subscription being set up: see [`Publisher::subscriber`].
///
/// Errors in any step are reported by [`subscribe`](Self::subscribe).
#[must_use = "a subscription starts only when `subscribe` is called"]
pub struct Subscribe<'p, P> {
    publisher: &'p Publisher<P>,
    properties: P,
    channels: Result<Option<Vec<String>>, ChannelError>,
    initial: Result<(VecDeque<Chunk>, usize), SubscribeError>,
    resume: Result<Resume, SubscribeError>,
}

impl<'p, P> Subscribe<'p, P> {
    pub(crate) fn new(publisher: &'p Publisher<P>, properties: P) -> Self {
        Self {
            publisher,
            properties,
            channels: Ok(None),
            initial: Ok((VecDeque::new(), 0)),
            resume: Ok(Resume::Fresh),
        }
    }
}

impl<P> fmt::Debug for Subscribe<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscribe")
            .field("channels", &self.channels)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

impl<P> Subscribe<'_, P> {
    /// The channels to listen to; the default channel if never called.
    pub fn channels(mut self, channels: impl Channels) -> Self {
        let config = &self.publisher.shared().config;
        self.channels = ChannelList::parse(channels.names(), config.max_channels)
            .map(|list| Some(list.to_vec()));
        self
    }

    /// Events sent before anything else (encoded now; added to any given
    /// before). They are not numbered, so they do not move the client's last
    /// event id unless they carry an id.
    pub fn initial_events<'e>(mut self, events: impl IntoIterator<Item = Event<'e>>) -> Self {
        let config = &self.publisher.shared().config;
        if let Ok((queue, bytes)) = &mut self.initial {
            for event in events {
                let chunk = match Chunk::encode_within(event, config.max_event_bytes) {
                    Ok(chunk) => chunk,
                    Err(len) => {
                        self.initial = Err(SubscribeError::EventTooLarge {
                            len,
                            limit: config.max_event_bytes,
                        });
                        return self;
                    }
                };
                *bytes = bytes.saturating_add(cost(&chunk));
                if *bytes > config.queue_bytes {
                    self.initial = Err(SubscribeError::InitialEventsTooLarge {
                        len: *bytes,
                        limit: config.queue_bytes,
                    });
                    return self;
                }
                queue.push_back(chunk);
            }
        }
        self
    }

    /// Resumes after the event whose id the client sent as `Last-Event-ID`:
    /// the subscription replays what was missed on its channels, or starts
    /// with the [reset event](super#the-reset-event) if it cannot. `None` or
    /// an empty id starts fresh.
    pub fn last_event_id(mut self, id: Option<&str>) -> Self {
        self.resume = match parse_last_event_id(id.unwrap_or_default().as_bytes()) {
            Ok(None) => Ok(Resume::Fresh),
            Ok(Some(id)) => Ok(Resume::LastEventId(String::from(id))),
            Err(_) => Err(SubscribeError::LastEventId),
        };
        self
    }

    /// Resumes after `position` (from [`Publisher::position`] or
    /// [`Publisher::locate`]): for layers that supply older events
    /// themselves, as initial events.
    pub fn resume_after(mut self, position: Position) -> Self {
        self.resume = Ok(Resume::After(position.0));
        self
    }

    /// Opens the subscription.
    pub fn subscribe(self) -> Result<Subscription<P>, SubscribeError> {
        let names = self.channels?;
        let (initial, initial_bytes) = self.initial?;
        let resume = self.resume?;
        let shared = self.publisher.shared();
        let config = &shared.config;

        let mut state = lock(&shared.state);
        if state.closed {
            return Err(SubscribeError::Closed);
        }
        if state.subscribers >= config.max_subscribers {
            return Err(SubscribeError::TooManySubscribers {
                limit: config.max_subscribers,
            });
        }
        // Checked when given; parsed again only to share the names.
        let names = names.as_deref().unwrap_or_default();
        let list = ChannelList::parse_or_default(names.iter().map(String::as_str), usize::MAX)?;
        let set = state.channel_set(&list);
        let last = state.last;
        let replay = match resume {
            Resume::Fresh => None,
            Resume::LastEventId(id) => Some(match state.resolve(config, &id) {
                Some(position) => {
                    state.stats.replays_served += 1;
                    Replay::new(position, last, false)
                }
                None => {
                    state.stats.replays_reset += 1;
                    Replay::new(last, last, true)
                }
            }),
            Resume::After(position) => {
                state.stats.replays_served += 1;
                Some(Replay::new(position.min(last), last, false))
            }
        };
        let id = SubscriberId(state.next_subscriber);
        state.next_subscriber += 1;
        let slot = Arc::new(Slot::new(
            id,
            self.properties,
            set,
            initial,
            initial_bytes,
            last,
        ));
        for name in slot.channels.as_slice() {
            state
                .channels
                .entry(Arc::clone(name))
                .or_default()
                .insert(id.0, Arc::clone(&slot));
        }
        state.subscribers += 1;
        state.stats.subscribed += 1;
        drop(state);
        Ok(Subscription {
            shared: Arc::clone(shared),
            slot,
            replay,
            last: 0,
        })
    }
}
