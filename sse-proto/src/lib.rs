//! The Server-Sent Events protocol, and nothing else: a decoder and an encoder
//! for `text/event-stream` that do no I/O, read no clock and never allocate.
//!
//! ```text
//!   bytes, in chunks of any size          frames
//!  ───────────────────────────▶ Decoder ───────────▶ Event { type, id, data }
//!   "data: he" "llo\n\n" ...     (your     Comment / Retry
//!                                buffer)
//!
//!   Event / Comment / Retry ──▶ encode ──▶ bytes, into your buffer
//! ```
//!
//! - [`Decoder`] implements the WHATWG HTML rules for parsing an event stream
//!   exactly, in bounded memory that the caller provides, in linear time
//!   whatever the chunking. It never panics and never allocates itself: a
//!   fixed buffer never grows, and a [`GrowableBuf`] (feature `alloc`) grows
//!   only while an event needs the room.
//! - [`Frame::encode`] writes a frame into a caller buffer after saying how
//!   long it is; [`Encoder`] streams a large frame through a small buffer.
//! - [`Event`] is one type for both directions. Its [`EventType`] and
//!   [`EventId`] are checked when they are built, so no value can inject a
//!   field into a stream.
//!
//! HTTP lives in `sse-hyper`, which drives this crate, and runtimes and
//! sockets in the adapter crates (`sse-tokio`, `sse-smol`).
//!
//! ```
//! use sse_proto::{Decoder, Event, EventId, Frame};
//!
//! // Encode an event into a stack buffer...
//! let event = Event::new("hello\nworld").with_id(EventId::new("1")?);
//! let mut wire = [0u8; 64];
//! let len = event.encode(&mut wire)?;
//!
//! // ...and decode it again, one byte at a time.
//! let mut decoder = Decoder::new([0u8; 512]);
//! let mut received = None;
//! for byte in wire[..len].chunks(1) {
//!     let mut input = byte;
//!     while let Some(frame) = decoder.decode(&mut input) {
//!         if let Frame::Event(event) = frame? {
//!             received = Some((event.data().to_string(), event.id().map(|id| id.to_string())));
//!         }
//!     }
//! }
//! assert_eq!(received, Some(("hello\nworld".to_string(), Some("1".to_string()))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `alloc`: heap conveniences (`EventBuf` and `FrameBuf`, an owned event
//!   and frame; [`Text::to_string_lossy`]; `Decoder::with_capacity`), and
//!   [`EncodeBuf`] for `Vec<u8>`.
//! - `std`: `alloc`, plus memchr's run-time detection of SIMD instructions,
//!   and the fan-out [`publisher`] (`Publisher`, `Subscription`), which both
//!   adapters re-export.
//! - `heapless`: `HeaplessEvent` and `HeaplessFrame`, an owned event and
//!   frame of fixed capacity for programs without a heap (no `alloc`
//!   needed), and [`EncodeBuf`] for `heapless::Vec`.
//! - `bytes`: [`EncodeBuf`] for `bytes::BytesMut` (with `std`).
//!
//! With no features the crate uses neither `std` nor `alloc`, so the compiler
//! itself proves that it cannot allocate.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod client;
mod decoder;
mod defaults;
mod encoder;
mod event;
#[cfg(feature = "alloc")]
mod event_buf;
#[cfg(feature = "heapless")]
mod heapless_event;
mod line_end;
#[cfg(feature = "std")]
pub mod publisher;
mod text;
mod time;

pub use client::{
    Action, Backoff, Client, ClientConfig, CloseReason, DEFAULT_MIN_RECONNECTION_DELAY, ReadyState,
    ResponseHead, RetryPolicy, Verdict, is_event_stream, redirect_method,
};
#[cfg(feature = "alloc")]
pub use decoder::GrowableBuf;
pub use decoder::{DecodeBuf, DecodeError, Decoder, Limits};
pub use defaults::{
    DEFAULT_KEEP_ALIVE, DEFAULT_MAX_EVENT_LEN, DEFAULT_MAX_EVENT_TYPE_LEN, DEFAULT_MAX_ID_LEN,
    DEFAULT_READ_BUF_LEN, DEFAULT_RECONNECTION_TIME, DEFAULT_START_EVENT_LEN,
    DEFAULT_WRITE_BUF_LEN,
};
pub use encoder::{BufferFull, EncodeBuf, EncodeError, Encoder};
pub use event::{Event, EventId, EventType, FieldError, Frame};
#[cfg(feature = "alloc")]
pub use event_buf::{EventBuf, FrameBuf};
#[cfg(feature = "heapless")]
pub use heapless_event::{CapacityError, HeaplessEvent, HeaplessFrame};
#[cfg(feature = "std")]
pub use publisher::{Publisher, Subscription};
pub use text::Text;
pub use time::Instant;

/// The workspace README's Rust examples, compiled and run as doctests so the
/// README cannot drift from the code. They use the publisher, so they need
/// the `std` feature (CI runs them with `--all-features`).
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// This crate's README (the publisher), compiled and run the same way.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
