//! The hub of `sse serve` as a library, on smol (feature `hub`): stream,
//! publish, subscribers, channel close, health and the chat page, with
//! tokens and CORS, over a [`Publisher<ClientInfo>`](crate::Publisher) in
//! memory (or any other [`Backend`](crate::server::Backend)).
//!
//! These are sse-hyper's types ([`sse_hyper::hub`]) on [`SmolRuntime`]:
//! their documentation is there. Serve the hub alone, or mount
//! [`Hub::router`] in an axum application under any prefix:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use async_executor::Executor;
//! use async_net::TcpListener;
//! use sse_smol::Publisher;
//! use sse_smol::hub::{ClientInfo, Hub, HubConfig};
//! use sse_smol::server::SmolExecutor;
//!
//! let executor = Arc::new(Executor::new());
//! let publisher: Publisher<ClientInfo> = Publisher::new();
//! let hub = Hub::new(publisher, HubConfig::new());
//! smol::block_on(executor.run(async {
//!     let listener = TcpListener::bind("127.0.0.1:5000").await?;
//!     hub.serve(listener, SmolExecutor(Arc::clone(&executor)), std::future::pending()).await
//! }))?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub use sse_hyper::hub::{
    ClientInfo, DEFAULT_BODY_OVERHEAD, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_STREAMS_PER_CLIENT,
    DEFAULT_READY_TIMEOUT, DEFAULT_STATUS_INTERVAL, HubConfig, HubService, JwtKey, JwtKeyError,
};

use crate::SmolRuntime;

/// The hub: [`sse_hyper::hub::Hub`] on [`SmolRuntime`].
pub type Hub = sse_hyper::hub::Hub<SmolRuntime>;
