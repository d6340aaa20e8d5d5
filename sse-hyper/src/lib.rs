//! Server-Sent Events over hyper, on any runtime: the part of the adapters
//! that does not depend on the runtime.
//!
//! Most users depend on an adapter, `sse-tokio` or `sse-smol`, which
//! re-exports everything here under the same names. This crate is for code
//! that must work with both, and for adding another runtime.

mod error;
#[cfg(feature = "client")]
mod event_source;
#[cfg(feature = "client")]
mod failed;
mod reader;
pub mod rt;
#[cfg(feature = "server")]
pub mod server;
mod stream;
mod writer;

use sse_proto::{Decoder, Limits};

/// The `http` crate, whose types the client's and the server's APIs use
/// (`StatusCode`, `HeaderMap`, `Uri`, `Method`, `request::Parts`).
#[cfg(any(feature = "client", feature = "server"))]
pub use http;
pub use sse_proto as proto;

pub use error::Error;
#[cfg(feature = "client")]
pub use event_source::{Builder, EventSource, Item};
#[cfg(feature = "client")]
pub use failed::FailedResponse;
pub use reader::EventReader;
pub use stream::EventStream;
pub use writer::EventWriter;

/// The largest event the default decoder accepts: 1 MiB of data.
const DEFAULT_MAX_EVENT_LEN: usize = 1 << 20;

/// The decoder the readers, [`EventStream`] and the client use unless given
/// another: default [`Limits`] (ids up to 256 bytes, event types up to 128,
/// comments not reported) and events of up to 1 MiB of data. Its buffer is
/// allocated zeroed, so memory that events never reach is never touched.
pub fn default_decoder() -> Decoder<Box<[u8]>> {
    Decoder::with_capacity(DEFAULT_MAX_EVENT_LEN, Limits::new())
}
