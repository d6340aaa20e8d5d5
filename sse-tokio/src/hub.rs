//! The hub of `sse serve` as a library, on tokio (feature `hub`): stream,
//! publish, subscribers, channel close, health, liveness and readiness,
//! Prometheus metrics, the status page and the chat page, with
//! tokens and CORS, over any [`Backend`](crate::server::Backend): a
//! [`Publisher<ClientInfo>`](crate::Publisher) in memory, with the
//! `durable` feature a `DurablePublisher` that keeps the history on disk,
//! or with the `redis` feature a [`RedisPublisher`](crate::redis::RedisPublisher)
//! shared by several nodes.
//!
//! These are sse-hyper's types ([`sse_hyper::hub`]) on [`TokioRuntime`]:
//! their documentation is there. Mount [`Hub::router`] in an axum
//! application under any prefix, or serve the hub alone:
//!
//! ```no_run
//! use sse_tokio::Publisher;
//! use sse_tokio::hub::{ClientInfo, Hub, HubConfig};
//! use sse_tokio::server::TokioExecutor;
//!
//! # async fn run() -> std::io::Result<()> {
//! let publisher: Publisher<ClientInfo> = Publisher::new();
//! let hub = Hub::new(publisher, HubConfig::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
//! // Until Ctrl-C; then every stream ends with a retry hint.
//! let ctrl_c = async { let _ = tokio::signal::ctrl_c().await; };
//! hub.serve(listener, TokioExecutor::new(), ctrl_c).await
//! # }
//! ```

pub use sse_hyper::hub::{
    ClientInfo, DEFAULT_BODY_OVERHEAD, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_STREAMS_PER_CLIENT,
    DEFAULT_READY_TIMEOUT, DEFAULT_STATUS_INTERVAL, HubConfig, HubService, JwtKey, JwtKeyError,
};

use crate::TokioRuntime;

/// The hub: [`sse_hyper::hub::Hub`] on [`TokioRuntime`].
pub type Hub = sse_hyper::hub::Hub<TokioRuntime>;
