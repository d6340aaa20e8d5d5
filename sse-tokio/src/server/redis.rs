//! [`Events::redis`]: the ready endpoint over a node joined to others
//! through Redis.

use std::sync::Arc;

use http::StatusCode;
use sse_proto::publisher::Subscription;

use super::events::{Source, SourceFuture};
use super::{Events, Refusal};
use crate::redis::{Error, RedisPublisher};

impl<P: Send + Sync + 'static> Source<P> for RedisPublisher<P> {
    fn subscribe<'a>(
        &'a self,
        properties: P,
        channels: &'a [String],
        last_event_id: Option<&'a str>,
    ) -> SourceFuture<'a, P> {
        Box::pin(async move {
            let subscribed: Result<Subscription<P>, Error> = self
                .subscriber(properties)
                .channels(channels)
                .last_event_id(last_event_id)
                .subscribe()
                .await;
            match subscribed {
                Ok(subscription) => Ok(Some(subscription)),
                Err(Error::Subscribe(error)) => Err(error.into()),
                Err(error @ (Error::Behind | Error::Redis(_))) => {
                    tracing::debug!(%error, "asking a resuming client to come back later");
                    Ok(None)
                }
                Err(error) => Err(Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error.to_string(),
                )),
            }
        })
    }
}

impl<P: Send + Sync + 'static> Events<P> {
    /// Serves the streams of a node joined to others through Redis (feature
    /// `redis`): subscriptions go through
    /// [`RedisPublisher::subscriber`], so a client resumes on this node from
    /// an id another node gave it. Its local publisher replaces the one
    /// given before. Clients see the same endpoint; one whose
    /// `Last-Event-ID` this node cannot serve yet (it has not read that far,
    /// or Redis is unreachable) gets a stream with only the `retry:` hint,
    /// which ends, so that it comes back a little later rather than miss or
    /// repeat events (browsers reconnect on their own; a `503` would make
    /// them give up).
    ///
    /// ```no_run
    /// use sse_tokio::Publisher;
    /// use sse_tokio::publisher::PublisherConfig;
    /// use sse_tokio::redis::{RedisConfig, RedisPublisher};
    /// use sse_tokio::server::Events;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let local: Publisher = Publisher::with_config(PublisherConfig::new().generate_ids(false))?;
    /// let redis = RedisPublisher::connect(local, RedisConfig::new("redis://127.0.0.1:6379")).await?;
    /// let events = Events::new(redis.publisher().clone()).redis(redis.clone());
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    pub fn redis(mut self, redis: RedisPublisher<P>) -> Self {
        self.publisher = redis.publisher().clone();
        self.source = Some(Arc::new(redis));
        self
    }
}
