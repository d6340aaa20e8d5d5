//! The defaults every layer shares, named once: the decoder's limits, the
//! buffer sizes of the readers and writers, and the timing of streams.
//!
//! Layers above take these rather than writing their own numbers, so that a
//! reader, the client and the hub agree on what "the default" is.

use core::time::Duration;

/// The longest `id` value the default [`Limits`](crate::Limits) accept, in
/// bytes; also the longest id the publisher accepts.
pub const DEFAULT_MAX_ID_LEN: usize = 256;

/// The longest `event` value the default [`Limits`](crate::Limits) accept, in
/// bytes.
pub const DEFAULT_MAX_EVENT_TYPE_LEN: usize = 128;

/// The most data one event may carry in the readers' and the client's
/// default decoder, in bytes: 16 MiB. Their buffer grows to it only while
/// an event that large is in progress (see
/// [`GrowableBuf`](crate::GrowableBuf)).
pub const DEFAULT_MAX_EVENT_LEN: usize = 16 << 20;

/// The room for event data a growable decoder buffer starts with, in bytes.
pub const DEFAULT_START_EVENT_LEN: usize = 4 * 1024;

/// How much a reader asks its input for at a time, in bytes.
pub const DEFAULT_READ_BUF_LEN: usize = 8 * 1024;

/// How much a writer gathers before writing to its output, in bytes.
pub const DEFAULT_WRITE_BUF_LEN: usize = 4 * 1024;

/// How long a server stream may stay quiet before a keep-alive comment.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The reconnection time: what a client waits before reconnecting until the
/// server sends `retry:`, and the `retry:` hint a server stream opens with.
/// The spec leaves it to the user agent; browsers use a few seconds.
pub const DEFAULT_RECONNECTION_TIME: Duration = Duration::from_secs(3);
