//! `sse decode` and `sse encode`: filters between raw `text/event-stream`
//! bytes and JSON lines.
//!
//! Plain blocking standard I/O: a filter has one input and one output, and
//! `read` returns as soon as bytes arrive, so `curl -N URL | sse decode`
//! prints each event as it comes.

use std::io::{self, BufRead, Read, Write};
use std::process::ExitCode;

use crate::json;
use serde_json::{Map, Value, json};
use sse_tokio::proto::{Decoder, Event, EventBuf, EventId, EventType, Frame, Limits, Text};

/// Options of `sse decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct DecodeArgs {
    /// Also print comments (`{"comment": ..}`) and reconnection times
    /// (`{"retry": ..}`), so that the output can be encoded back as it was.
    #[arg(long)]
    all: bool,
    /// The largest event data accepted, in bytes; larger events are reported
    /// on stderr and skipped.
    #[arg(long, default_value_t = sse_tokio::proto::DEFAULT_MAX_EVENT_LEN, value_name = "BYTES")]
    max_event_size: usize,
}

/// `sse decode`: raw bytes on stdin, one JSON object per dispatched event on
/// stdout, with the browser's names: `{"type", "data", "lastEventId"}`.
pub(crate) fn decode(args: &DecodeArgs) -> io::Result<ExitCode> {
    let limits = Limits::new()
        .with_max_id_len(4096)
        .with_max_event_type_len(4096)
        .with_max_comment_len(if args.all { 64 * 1024 } else { 0 });
    let mut decoder = Decoder::with_capacity(args.max_event_size, limits);
    let mut stdin = io::stdin().lock();
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let mut chunk = vec![0u8; 64 * 1024];
    let mut discarded = 0u64;
    loop {
        let n = match stdin.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let mut input = chunk.get(..n).unwrap_or_default();
        while let Some(frame) = decoder.decode(&mut input) {
            match frame {
                Ok(Frame::Event(event)) => json::write_event(&mut stdout, &EventBuf::from(event))?,
                Ok(Frame::Comment(text)) => {
                    json::write_comment(&mut stdout, &text.to_string_lossy())?;
                }
                Ok(Frame::Retry(ms)) if args.all => {
                    serde_json::to_writer(&mut stdout, &json!({ "retry": ms }))?;
                    stdout.write_all(b"\n")?;
                }
                Ok(Frame::Retry(_)) => {}
                Err(error) => {
                    discarded += 1;
                    eprintln!("sse decode: {error}");
                }
            }
        }
        // Each chunk's events go out before the next read blocks.
        stdout.flush()?;
    }
    if decoder.finish() {
        eprintln!("sse decode: the input ended in the middle of an event, which was discarded");
    }
    stdout.flush()?;
    Ok(if discarded == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `sse encode`: JSON lines on stdin, raw `text/event-stream` on stdout.
///
/// Each line is one object: an event (`data`, and optionally `type` and
/// `lastEventId`, the names `sse decode` prints; `event` and `id` are
/// accepted too), `{"comment": ..}` or `{"retry": ..}`. A line with a
/// `kind` (what `sse listen --json` prints besides events) is skipped. Data that is not a
/// string is written as its JSON text. A bad line is reported on stderr with
/// its number and skipped; the exit code is then non-zero.
pub(crate) fn encode() -> io::Result<ExitCode> {
    let stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut failed = false;
    let mut wire = Vec::new();
    for (number, line) in stdin.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        wire.clear();
        match encode_line(&line, &mut wire) {
            Ok(()) => {
                stdout.write_all(&wire)?;
                stdout.flush()?;
            }
            Err(message) => {
                failed = true;
                eprintln!("sse encode: line {}: {message}", number + 1);
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Encodes one JSON line onto `wire`, or says what is wrong with it.
fn encode_line(line: &str, wire: &mut Vec<u8>) -> Result<(), String> {
    let value: Value = serde_json::from_str(line).map_err(|error| format!("not JSON: {error}"))?;
    let Value::Object(object) = value else {
        return Err("expected a JSON object".into());
    };
    // `sse listen --json`'s open, error, reconnect and end lines: no frame.
    if object.contains_key("kind") {
        return Ok(());
    }
    if let Some(comment) = object.get("comment") {
        only(&object, &["comment"])?;
        let text = comment.as_str().ok_or("\"comment\" must be a string")?;
        return push(Frame::Comment(Text::new(text)), wire);
    }
    if let Some(retry) = object.get("retry") {
        only(&object, &["retry"])?;
        let ms = retry
            .as_u64()
            .ok_or("\"retry\" must be a whole number of milliseconds")?;
        return push(Frame::Retry(ms), wire);
    }
    only(&object, &["data", "type", "event", "lastEventId", "id"])?;
    let data = match object.get("data") {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    let event_type = text_field(&object, &["type", "event"])?.unwrap_or_default();
    let id = text_field(&object, &["lastEventId", "id"])?;
    let event_type = EventType::new(event_type).map_err(|error| format!("type: {error}"))?;
    let id = id
        .map(EventId::new)
        .transpose()
        .map_err(|error| format!("id: {error}"))?;
    push(
        Frame::Event(Event::new(&data).with_type(event_type).with_id_opt(id)),
        wire,
    )
}

/// Refuses keys other than `allowed`, so that a typo is not silently dropped.
fn only(object: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!("unexpected key {key:?}")),
        None => Ok(()),
    }
}

/// The first of `names` present, which must be a string.
fn text_field<'a>(
    object: &'a Map<String, Value>,
    names: &[&str],
) -> Result<Option<&'a str>, String> {
    let mut present = names
        .iter()
        .filter_map(|name| object.get(*name).map(|value| (name, value)));
    let Some((name, value)) = present.next() else {
        return Ok(None);
    };
    if present.next().is_some() {
        return Err(format!("give only one of {names:?}"));
    }
    value
        .as_str()
        .map(Some)
        .ok_or_else(|| format!("{name:?} must be a string"))
}

fn push(frame: Frame<'_>, wire: &mut Vec<u8>) -> Result<(), String> {
    frame
        .encode_into(wire)
        .map(|_| ())
        .map_err(|error| error.to_string())
}
