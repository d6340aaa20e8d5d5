//! [`EventsService`]: the ready endpoint as a hyper service.

use core::convert::Infallible;
use core::fmt;
use core::pin::Pin;

use hyper::service::Service;

use super::{EVENTS_PATH, Events, EventsBody, Refusal};
use crate::rt::Runtime;

impl<P: Send + Sync + 'static, R: Runtime> Events<P, R> {
    /// The endpoint as a hyper service (for `sse_smol::server::serve`, or
    /// hyper's own connection builders): `GET /events` streams, other paths
    /// get `404`.
    pub fn service(self) -> EventsService<P, R> {
        EventsService(self)
    }
}

/// [`Events`] as a hyper service: see [`Events::service`].
pub struct EventsService<P, R>(Events<P, R>);

impl<P, R> Clone for EventsService<P, R> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<P: 'static, R> fmt::Debug for EventsService<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EventsService").field(&self.0).finish()
    }
}

impl<P, R, B> Service<http::Request<B>> for EventsService<P, R>
where
    P: Send + Sync + 'static,
    R: Runtime,
    B: Send + 'static,
{
    type Response = http::Response<EventsBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: http::Request<B>) -> Self::Future {
        let events = self.0.clone();
        Box::pin(async move {
            if request.uri().path() == EVENTS_PATH {
                Ok(events.handle(request).await)
            } else {
                Ok(Refusal::new(http::StatusCode::NOT_FOUND, "not found").response())
            }
        })
    }
}
