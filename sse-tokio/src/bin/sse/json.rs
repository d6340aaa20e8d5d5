//! The JSON shapes the `sse` tool prints, shared by its subcommands.

use std::io::{self, Write};
use std::time::Duration;

use serde_json::{Map, Value, json};
use sse_tokio::Error;
use sse_tokio::http::{Response, StatusCode};
use sse_tokio::proto::{CloseReason, EventBuf};

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

/// The response headers an open line shows: whether the stream is one, and
/// whether something on the way may buffer or transform it.
const OPEN_HEADERS: [&str; 5] = [
    "content-type",
    "cache-control",
    "content-encoding",
    "x-accel-buffering",
    "x-request-id",
];

/// Writes a line of `sse listen --json` that is not an event: `kind` first,
/// then `fields`.
fn write_kind(out: &mut dyn Write, kind: &str, fields: Value) -> io::Result<()> {
    /// `kind` first, whatever order the fields' map keeps.
    #[derive(serde::Serialize)]
    struct Line<'a> {
        kind: &'a str,
        #[serde(flatten)]
        fields: Value,
    }
    serde_json::to_writer(&mut *out, &Line { kind, fields })?;
    out.write_all(b"\n")
}

/// `{"kind": "open", "status", "version", "url", "headers"}`.
pub(crate) fn write_open(
    out: &mut dyn Write,
    url: &str,
    response: &Response<()>,
) -> io::Result<()> {
    let headers: Map<String, Value> = OPEN_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(*name)?;
            Some((
                (*name).to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into(),
            ))
        })
        .collect();
    let fields = json!({
        "status": response.status().as_u16(),
        "version": format!("{:?}", response.version()),
        "url": url,
        "headers": headers,
    });
    write_kind(out, "open", fields)
}

/// `{"kind": "error", "code", "message"}`, with `status` for a failed
/// response.
pub(crate) fn write_error(out: &mut dyn Write, error: &Error) -> io::Result<()> {
    let mut fields = json!({ "code": error_code(error), "message": error.to_string() });
    if let Error::Response(failed) = error {
        fields["status"] = failed.status().as_u16().into();
    }
    write_kind(out, "error", fields)
}

/// `{"kind": "reconnect", "delay", "lastEventId"}`, the delay in
/// milliseconds.
pub(crate) fn write_reconnect(
    out: &mut dyn Write,
    delay: Duration,
    last_event_id: &str,
) -> io::Result<()> {
    let delay = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    write_kind(
        out,
        "reconnect",
        json!({ "delay": delay, "lastEventId": last_event_id }),
    )
}

/// `{"kind": "end", "reason", "message"}`, with `status` when a status
/// ended it.
pub(crate) fn write_end(
    out: &mut dyn Write,
    reason: &str,
    message: &str,
    status: Option<u16>,
) -> io::Result<()> {
    let mut fields = json!({ "reason": reason, "message": message });
    if let Some(status) = status {
        fields["status"] = status.into();
    }
    write_kind(out, "end", fields)
}

/// The stable code of an error line.
fn error_code(error: &Error) -> &'static str {
    match error {
        Error::StreamEnded => "stream_ended",
        Error::TimedOut => "timed_out",
        Error::Response(failed) => {
            let status = failed.status();
            let location = failed.headers().get("location");
            if status == StatusCode::OK {
                "content_type"
            } else if status.is_redirection()
                && location.is_none_or(|value| value.as_bytes().trim_ascii().is_empty())
            {
                "redirect_without_location"
            } else if status.is_redirection() {
                "redirect"
            } else {
                "status"
            }
        }
        Error::Decode(_) => "decode",
        Error::Io(_) => "io",
        Error::Http(_) | Error::Transport(_) => "http",
        Error::Tls(_) => "tls",
        Error::Request(_) | Error::UnsupportedUrl(_) => "request",
        _ => "other",
    }
}

/// The stable name of why a stream ended, for the end line.
pub(crate) fn close_reason_name(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::ByCaller => "closed",
        CloseReason::NoContent => "no_content",
        CloseReason::Status(_) => "status",
        CloseReason::ContentType => "content_type",
        CloseReason::TooManyRedirects => "too_many_redirects",
        CloseReason::RedirectWithoutLocation(_) => "redirect_without_location",
        CloseReason::MaxAttempts => "max_attempts",
        _ => "other",
    }
}
