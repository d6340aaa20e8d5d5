//! [`serve`]: a hyper service on a runtime's listener, until told to stop.

use core::time::Duration;
use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use http_body::Body;
use hyper::body::Incoming;
use hyper::rt::Executor;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::server::graceful::GracefulShutdown;

use crate::rt::Serve;

/// The address of the client a request came from, in the request's
/// extensions when [`serve`] accepted its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

/// A connection task, boxed for the executor.
pub type ConnectionTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `service` on `listener` (HTTP/1.1) until `shutdown` resolves, then
/// stops accepting, lets each connection finish the request it is on, and
/// returns once they are all closed. Each connection runs as a task of
/// `executor`; each request carries its [`ClientAddr`].
///
/// Streams end when their source ends: to stop a server of event streams,
/// close the publisher (with a `retry:` farewell) when `shutdown` fires.
pub async fn serve<R, S, B, E>(
    listener: R::Listener,
    service: S,
    executor: E,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    R: Serve,
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    E: Executor<ConnectionTask>,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = core::pin::pin!(shutdown);
    loop {
        let accepted = {
            let accept = core::pin::pin!(R::accept(&listener));
            match first_of(accept, shutdown.as_mut()).await {
                Some(accepted) => accepted,
                None => break,
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(_) => {
                // Out of descriptors, say: wait before trying again rather
                // than spin.
                R::sleep_until(R::now() + Duration::from_secs(1)).await;
                continue;
            }
        };
        let service = service.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ClientAddr(peer));
            service.call(request)
        });
        let connection = http1::Builder::new()
            .timer(R::timer())
            .serve_connection(stream, service);
        let connection = graceful.watch(connection);
        executor.execute(Box::pin(async move {
            let _ = connection.await;
        }));
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The first of `work` and `stop`: `Some` with `work`'s output, `None` when
/// `stop` finished first.
async fn first_of<T>(
    mut work: Pin<&mut impl Future<Output = T>>,
    mut stop: Pin<&mut impl Future<Output = ()>>,
) -> Option<T> {
    core::future::poll_fn(|cx| {
        if stop.as_mut().poll(cx).is_ready() {
            return core::task::Poll::Ready(None);
        }
        work.as_mut().poll(cx).map(Some)
    })
    .await
}

/// Errors of one connection that do not stop the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
