//! The JSON shapes the `sse` tool prints, shared by its subcommands.

use std::io::{self, Write};

use sse_tokio::proto::EventBuf;

/// A dispatched event with the names of the browser's `MessageEvent`, in
/// that order: `{"type", "data", "lastEventId"}`.
#[derive(serde::Serialize)]
struct MessageEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    data: &'a str,
    #[serde(rename = "lastEventId")]
    last_event_id: &'a str,
}

/// Writes `event` as one JSON line.
pub(crate) fn write_event(out: &mut impl Write, event: &EventBuf) -> io::Result<()> {
    let message = MessageEvent {
        event_type: event.event_type(),
        data: event.data(),
        last_event_id: event.id().unwrap_or_default(),
    };
    serde_json::to_writer(&mut *out, &message)?;
    out.write_all(b"\n")
}

/// Writes a comment as `{"comment": ..}` on one line.
pub(crate) fn write_comment(out: &mut impl Write, text: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &serde_json::json!({ "comment": text }))?;
    out.write_all(b"\n")
}
