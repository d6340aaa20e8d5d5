//! The `EventSource` over a reqwest 0.12 `reqwest::Client` (feature
//! `reqwest-012`): the same names and behaviour as [`crate::reqwest`],
//! which is for reqwest 0.13, for applications (and reqwest-eventsource
//! 0.6 users, whose reqwest is 0.12) that have not moved to 0.13 yet. The
//! code is the same source, compiled against each reqwest; the types are
//! this module's own (a `reqwest_012::EventSource` is not a
//! `reqwest::EventSource`).
//!
//! ```no_run
//! # use reqwest_012 as reqwest; // in an application: its `reqwest = "0.12"`
//! use futures_lite::StreamExt;
//! use sse_tokio::reqwest_012::{Event, EventSource, RequestBuilderExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sse_tokio::Error> {
//! let client = reqwest::Client::new();
//! let mut es = client.get("http://127.0.0.1:8080/events").eventsource()?;
//! while let Some(event) = es.next().await {
//!     match event {
//!         Ok(Event::Open) => println!("open"),
//!         Ok(Event::Message(message)) => println!("{}", message.data()),
//!         Err(sse_tokio::Error::StreamEnded) => es.close(),
//!         Err(error) => eprintln!("{error}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

// The code is `reqwest`'s, compiled against reqwest 0.12.
use ::reqwest_012 as reqwest;

// `allow`, not `expect`: the lint fires only when `reqwest` is on too.
#[allow(
    clippy::duplicate_mod,
    reason = "the same source on purpose, compiled against another reqwest"
)]
#[path = "reqwest/transport.rs"]
mod transport;

pub use transport::*;
