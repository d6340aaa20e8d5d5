//! [`RedisPublisher`] as a [`Backend`]: the endpoint and the hub over a node
//! joined to others through Redis.

use sse_hyper::server::{
    Backend, BackendError, BackendFuture, BackendHealth, LinkHealth, PublishReply,
};
use sse_proto::Event;
use sse_proto::publisher::{ChannelList, Publisher, Subscription};

use super::{Error, RedisPublisher};

/// Publishes through Redis (ids are Redis's) and serves subscriptions
/// through [`RedisPublisher::subscriber`], so a client resumes on this node
/// from an id another node gave it. A client whose `Last-Event-ID` this
/// node cannot serve yet (it has not read that far, or Redis is
/// unreachable) gets `None`: the endpoint answers with only the `retry:`
/// hint, so that it comes back a little later rather than miss or repeat
/// events.
///
/// ```no_run
/// use sse_tokio::Publisher;
/// use sse_tokio::publisher::PublisherConfig;
/// use sse_tokio::redis::{RedisConfig, RedisPublisher};
/// use sse_tokio::server::Events;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let local: Publisher = Publisher::with_config(PublisherConfig::new().with_generate_ids(false))?;
/// let redis = RedisPublisher::connect(local, RedisConfig::new("redis://127.0.0.1:6379")).await?;
/// let events = Events::new(redis);
/// # let _ = events;
/// # Ok(())
/// # }
/// ```
impl<P: Send + Sync + 'static> Backend<P> for RedisPublisher<P> {
    fn publisher(&self) -> &Publisher<P> {
        Self::publisher(self)
    }

    fn publish<'a>(
        &'a self,
        event: Event<'a>,
        channels: &'a ChannelList<'a>,
    ) -> BackendFuture<'a, PublishReply> {
        Box::pin(async move {
            let id = Self::publish(self, event, channels)
                .await
                .map_err(backend_error)?;
            // Only this node's subscribers are known here.
            let here = self
                .publisher()
                .subscribers(channels)
                .map_or(0, |subscribers| subscribers.len());
            tracing::debug!(channels = ?channels.as_slice(), %id, "published through Redis");
            Ok(PublishReply::new(Some(id.to_string()), here))
        })
    }

    fn subscribe<'a>(
        &'a self,
        properties: P,
        channels: &'a ChannelList<'a>,
        last_event_id: Option<&'a str>,
    ) -> BackendFuture<'a, Option<Subscription<P>>>
    where
        P: Send + Sync + 'static,
    {
        Box::pin(async move {
            let subscribed = self
                .subscriber(properties)
                .channels(channels)
                .last_event_id(last_event_id)
                .subscribe()
                .await;
            match subscribed {
                Ok(subscription) => Ok(Some(subscription)),
                Err(error @ (Error::Behind | Error::Redis(_))) => {
                    tracing::debug!(%error, "asking a resuming client to come back later");
                    Ok(None)
                }
                Err(error) => Err(backend_error(error)),
            }
        })
    }

    fn health(&self) -> BackendHealth {
        let health = Self::health(self);
        let link = LinkHealth::new(
            health.up,
            health.since,
            health.last_error,
            health.cursor.to_string(),
        )
        .with_reconnects(health.reconnects)
        .with_lag(health.lag);
        BackendHealth::with_link("redis", link)
    }

    /// A probe through Redis, read back by this node's reader
    /// ([`RedisPublisher::probe`]).
    fn ready(&self) -> BackendFuture<'_, ()> {
        Box::pin(async move {
            let took = self
                .probe()
                .await
                .map_err(|error| BackendError::Unavailable(format!("redis: {error}").into()))?;
            tracing::trace!(?took, "readiness probe read back");
            Ok(())
        })
    }
}

/// The Redis layer's errors as the endpoint reports them.
fn backend_error(error: Error) -> BackendError {
    match error {
        Error::Publish(error) => BackendError::Publish(error),
        Error::Subscribe(error) => BackendError::Subscribe(error),
        Error::OwnId => BackendError::Refused(
            "this hub shares events through Redis, which gives them their ids: leave the id out"
                .to_owned(),
        ),
        error => {
            tracing::warn!(%error, "Redis call failed");
            BackendError::Unavailable(Box::new(error))
        }
    }
}
