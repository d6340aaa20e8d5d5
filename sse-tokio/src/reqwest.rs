//! The `EventSource` over the application's own `reqwest::Client`
//! (feature `reqwest`), and the names reqwest-eventsource users reach for.
//!
//! Most programs already have a `reqwest::Client` with their TLS, proxy,
//! cookie and timeout settings. [`EventSource::new`] takes a
//! [`RequestBuilder`](reqwest::RequestBuilder) made with it (or
//! [`RequestBuilderExt::eventsource`] turns one into a source) and sends
//! every attempt through that client, adding only the event-stream headers
//! (`Accept`, `Cache-Control`, `Last-Event-ID`). Everything else is the
//! same client as [`crate::EventSource`]: the same `sse_proto::Client`
//! connection model decides what opens a stream, when to reconnect, how
//! long to back off, what `retry:` and `Last-Event-ID` do, when `204`
//! stops it, and the idle timeout; the same driver reads the body. Only
//! the bytes take another road, [`ReqwestTransport`].
//!
//! ```no_run
//! use futures_lite::StreamExt;
//! use sse_tokio::reqwest::{Event, EventSource, RequestBuilderExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sse_tokio::Error> {
//! let client = reqwest::Client::new();
//! let mut es = client
//!     .post("http://127.0.0.1:8080/v1/chat")
//!     .bearer_auth("secret")
//!     .body(r#"{"stream": true}"#)
//!     .eventsource()?;
//! while let Some(event) = es.next().await {
//!     match event {
//!         Ok(Event::Open) => println!("open"),
//!         Ok(Event::Message(message)) => println!("{}", message.data()),
//!         // The server finished the stream: stop, rather than reconnect.
//!         Err(sse_tokio::Error::StreamEnded) => es.close(),
//!         Err(error) => eprintln!("{error}"), // reported; it reconnects
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! To set the connection model ([`ClientConfig`](crate::proto::ClientConfig):
//! retry policy, backoff, idle timeout, attempts), the decoder's limits or
//! a `Last-Event-ID` to resume from, start from [`builder`] and finish with
//! [`EventSource::from`]:
//!
//! ```
//! use sse_tokio::proto::{ClientConfig, EventId, RetryPolicy};
//! use sse_tokio::reqwest::{EventSource, builder};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = reqwest::Client::new();
//! let source = builder(client.get("http://127.0.0.1:8080/events"))?
//!     .config(ClientConfig::new().with_retry_policy(RetryPolicy::Transient))
//!     .last_event_id(EventId::new("41")?)
//!     .build()?;
//! let es = EventSource::from(source);
//! assert_eq!(es.last_event_id().unwrap().as_text(), "41");
//! # Ok(())
//! # }
//! ```
//!
//! The crate README has a migration guide from reqwest-eventsource 0.6. For
//! reqwest 0.12, the same names are in [`crate::reqwest_012`] (feature
//! `reqwest-012`).
//!
//! reqwest is used without its default features: HTTPS, HTTP/2, proxies and
//! compression are whatever the application turns on for its own reqwest
//! (with `rustls-no-provider` it can share the ring provider of this
//! crate's `rustls` feature, so that no second crypto library is built).

// The code is shared with `reqwest_012`; this is the reqwest it uses.
use ::reqwest;

mod transport;

pub use transport::*;
