//! Subscribing through Redis: where a resuming client's missed events come
//! from (the local history, or the channels' streams), planned with
//! [`ResumePlan`], the core's rule for logs kept outside the publisher.

use core::fmt;

use sse_proto::publisher::{
    ChannelList, Channels, Position, ResetReason, ResumePlan, Resumption, SubscribeError,
    Subscription, parse_last_event_id,
};
use sse_proto::{Event, EventBuf, EventId, EventType, Text};

use super::link::lock;
use super::scripts::{self, Entry};
use super::{Error, RedisId, RedisPublisher};

impl<P> RedisPublisher<P> {
    /// Starts a subscription: channels (the default channel unless given),
    /// initial events, and the client's `Last-Event-ID`. See
    /// [`RedisSubscribe::subscribe`].
    pub fn subscriber(&self, properties: P) -> RedisSubscribe<'_, P> {
        RedisSubscribe {
            redis: self,
            properties,
            channels: Vec::new(),
            initial: Vec::new(),
            last_event_id: None,
        }
    }

    /// What a client that saw `after` missed on `channels` up to `until`
    /// (inclusive), from the channels' streams, within `budget` bytes of
    /// queue.
    async fn missed(
        &self,
        channels: &ChannelList<'_>,
        after: RedisId,
        until: RedisId,
        budget: usize,
    ) -> Result<Missed, Error> {
        let Some(from) = after.next() else {
            return Ok(Missed::default());
        };
        let inner = &*self.inner;
        // The cheapest event with an id (the constant is a valid id).
        let smallest = EventId::new("0-1")
            .map_or(Event::new(""), |id| Event::new("").with_id(id))
            .encoded_len();
        let mut plan = ResumePlan::new(after, budget, smallest);
        let mut invocation = inner.scripts.history.prepare_invoke();
        invocation.key(&inner.keys.all);
        for name in channels.as_slice() {
            invocation.key(inner.keys.channel(name));
        }
        invocation
            .arg(from.to_string())
            .arg(until.to_string())
            .arg(plan.read_limit() + 1);
        let reply = inner.link.invoke(&invocation).await?;
        let (global, histories) = scripts::history_reply(reply)?;

        // The global stream's first entry (its `p` is `0-0`): the log began
        // there (Redis lost its data, or the id is from another deployment).
        if let Some(first) = global.filter(|oldest| oldest.prev == Some(RedisId::ZERO)) {
            plan.log_began_after(first.id);
        }
        let mut entries: Vec<Entry> = Vec::new();
        for history in histories {
            let oldest = history.oldest.map(|oldest| (oldest.id, oldest.prev));
            plan.channel(oldest, history.entries.len());
            entries.extend(history.entries);
        }
        entries.sort_by_key(|entry| entry.id);
        entries.dedup_by_key(|entry| entry.id);

        let max_event = inner.publisher.config().max_event_bytes();
        let lens = entries.iter().map(|entry| {
            let id = entry.id.to_string();
            replayed_event(entry, &id).map(|event| event.encoded_len())
        });
        let missed = match plan.decide(lens, max_event) {
            Resumption::Replay { reset_first } => Missed {
                reset_first,
                entries,
            },
            // What was missed cannot be sent: say so, then go on live.
            Resumption::ResetOnly => Missed {
                reset_first: true,
                entries: Vec::new(),
            },
        };
        Ok(missed)
    }
}

/// An entry read back from a channel's stream as the event it was: `None`
/// if its type cannot be sent (written by something else).
fn replayed_event<'a>(entry: &'a Entry, id: &'a str) -> Option<Event<'a>> {
    let event_type = EventType::from_bytes(&entry.event_type).ok()?;
    Some(
        Event::from_text(Text::from_bytes(&entry.data))
            .with_type(event_type)
            .with_id(EventId::new(id).ok()?),
    )
}

/// What a resuming client missed, read from Redis.
#[derive(Debug, Default)]
struct Missed {
    /// Send the reset event first: some of it is gone, or all of it does
    /// not fit.
    reset_first: bool,
    /// The events, by id, each once.
    entries: Vec<Entry>,
}

/// How a subscription starts.
enum Plan<'l> {
    /// No `Last-Event-ID`: initial events, then live.
    Fresh,
    /// Replay from the local history.
    Local(&'l str),
    /// The reset event, then live.
    Reset,
    /// Events read from Redis as initial events, then the local publisher
    /// after `after`.
    Replay { missed: Missed, after: Position },
}

/// A subscription being set up: see [`RedisPublisher::subscriber`].
#[must_use = "a subscription starts only when `subscribe` is awaited"]
pub struct RedisSubscribe<'r, P> {
    redis: &'r RedisPublisher<P>,
    properties: P,
    channels: Vec<String>,
    initial: Vec<EventBuf>,
    last_event_id: Option<String>,
}

impl<P> fmt::Debug for RedisSubscribe<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSubscribe")
            .field("channels", &self.channels)
            .field("last_event_id", &self.last_event_id)
            .finish_non_exhaustive()
    }
}

impl<P> RedisSubscribe<'_, P> {
    /// The channels to listen to; the default channel if never called.
    pub fn channels(mut self, channels: impl Channels) -> Self {
        self.channels = channels.names().map(str::to_owned).collect();
        self
    }

    /// Events sent before anything else (added to any given before).
    pub fn initial_events<'e>(mut self, events: impl IntoIterator<Item = Event<'e>>) -> Self {
        self.initial.extend(events.into_iter().map(EventBuf::from));
        self
    }

    /// The id of the last event the client saw; `None` or empty starts
    /// fresh. An id no event could have had is refused by
    /// [`subscribe`](Self::subscribe).
    pub fn last_event_id(mut self, id: Option<&str>) -> Self {
        self.last_event_id = id.map(str::to_owned);
        self
    }

    /// Opens the subscription: initial events, then what the client missed
    /// since its `Last-Event-ID` (from the local history if it has
    /// everything since, else from Redis, up to what this node has fed),
    /// then live events. See the [module](crate::redis#resuming).
    ///
    /// A client whose id is newer than what this node has read waits for
    /// the node to catch up, at most [`RedisConfig::catch_up`](super::RedisConfig::catch_up), else
    /// [`Error::Behind`]. Reading from Redis can fail with
    /// [`Error::Redis`]; a fresh subscription, or one the local history can
    /// serve, never needs Redis.
    pub async fn subscribe(self) -> Result<Subscription<P>, Error> {
        let Self {
            redis,
            properties,
            channels,
            initial,
            last_event_id,
        } = self;
        let inner = &*redis.inner;
        let limits = inner.publisher.config();
        let names = channels.iter().map(String::as_str);
        let channels = ChannelList::parse_or_default(names, limits.max_channels())
            .map_err(SubscribeError::Channel)?;
        let last_event_id = last_event_id.unwrap_or_default();
        let last = parse_last_event_id(last_event_id.as_bytes()).map_err(SubscribeError::from)?;
        let Some(last) = last else {
            return Ok(open(redis, properties, &channels, &initial, Plan::Fresh)?);
        };
        let initial_lens = initial.iter().map(|event| event.as_event().encoded_len());
        let budget = ResumePlan::<RedisId>::budget_after(limits.queue_bytes(), initial_lens);
        let mut waited = false;
        loop {
            // The local history, when it has everything since the id.
            {
                let state = lock(&inner.feed.state);
                if let Some(position) = inner.publisher.locate(last) {
                    if state.gap_at.is_none_or(|gap| position > gap) {
                        return Ok(open(
                            redis,
                            properties,
                            &channels,
                            &initial,
                            Plan::Local(last),
                        )?);
                    }
                }
            }
            let Some(id) = RedisId::parse(last) else {
                // Not one of ours, and unknown here.
                return Ok(open(redis, properties, &channels, &initial, Plan::Reset)?);
            };
            let (after, fed, gaps) = {
                let state = lock(&inner.feed.state);
                (inner.publisher.position(), state.cursor, state.gaps)
            };
            if id <= fed {
                let missed = redis.missed(&channels, id, fed, budget).await?;
                let state = lock(&inner.feed.state);
                if state.gaps != gaps {
                    // The local history after `after` is no longer whole.
                    continue;
                }
                let plan = Plan::Replay { missed, after };
                let subscription = open(redis, properties, &channels, &initial, plan)?;
                drop(state);
                return Ok(subscription);
            }
            // The client saw events this node has not read yet.
            if waited {
                return Err(Error::Behind);
            }
            if id > redis.newest().await? {
                // Redis never gave this id (or lost its data since).
                return Ok(open(redis, properties, &channels, &initial, Plan::Reset)?);
            }
            let mut fed = inner.feed.fed.subscribe();
            let caught_up =
                tokio::time::timeout(inner.config.catch_up, fed.wait_for(|cursor| *cursor >= id))
                    .await;
            if !matches!(caught_up, Ok(Ok(_))) {
                return Err(Error::Behind);
            }
            waited = true;
        }
    }
}

/// Subscribes to the local publisher as `plan` says.
fn open<P>(
    redis: &RedisPublisher<P>,
    properties: P,
    channels: &ChannelList<'_>,
    initial: &[EventBuf],
    plan: Plan<'_>,
) -> Result<Subscription<P>, SubscribeError> {
    let subscribe = redis
        .inner
        .publisher
        .subscriber(properties)
        .channels(channels)
        .initial_events(initial.iter().map(EventBuf::as_event));
    match plan {
        Plan::Fresh => subscribe.subscribe(),
        Plan::Local(last) => subscribe.last_event_id(Some(last)).subscribe(),
        Plan::Reset => subscribe
            .initial_events([ResetReason::History.event()])
            .subscribe(),
        Plan::Replay { missed, after } => {
            let reset = missed.reset_first.then(|| ResetReason::History.event());
            let ids: Vec<String> = missed.entries.iter().map(|e| e.id.to_string()).collect();
            let events = missed
                .entries
                .iter()
                .zip(&ids)
                .filter_map(|(entry, id)| replayed_event(entry, id));
            subscribe
                .initial_events(reset)
                .initial_events(events)
                .resume_after(after)
                .subscribe()
        }
    }
}
