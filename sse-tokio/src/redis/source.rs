//! [`RedisPublisher`] as a [`SubscriptionSource`]: the ready endpoint over a node joined
//! to others through Redis.

use sse_hyper::http::StatusCode;
use sse_hyper::server::{Refusal, SubscriptionFuture, SubscriptionSource};
use sse_proto::publisher::{Publisher, Subscription};

use super::{Error, RedisPublisher};

/// Serves the streams of a node joined to others through Redis: with
/// [`Events::with_source`](sse_hyper::server::Events::with_source),
/// subscriptions go through [`RedisPublisher::subscriber`], so a client
/// resumes on this node from an id another node gave it. Clients see the
/// same endpoint; one whose `Last-Event-ID` this node cannot serve yet (it
/// has not read that far, or Redis is unreachable) gets a stream with only
/// the `retry:` hint, which ends, so that it comes back a little later
/// rather than miss or repeat events.
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
/// let events = Events::new(redis.publisher().clone()).with_source(redis.clone());
/// # let _ = events;
/// # Ok(())
/// # }
/// ```
impl<P: Send + Sync + 'static> SubscriptionSource<P> for RedisPublisher<P> {
    fn publisher(&self) -> &Publisher<P> {
        Self::publisher(self)
    }

    fn subscribe<'a>(
        &'a self,
        properties: P,
        channels: &'a [String],
        last_event_id: Option<&'a str>,
    ) -> SubscriptionFuture<'a, P> {
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
