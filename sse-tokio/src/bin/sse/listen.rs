//! `sse listen URL`: print a stream's events as they come, reconnecting and
//! resuming as the connection model decides.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use futures_lite::StreamExt;

use sse_tokio::proto::{
    ClientConfig, CloseReason, Decoder, EventBuf, EventId, Limits, RetryPolicy,
};
use sse_tokio::{EventSource, SourceEvent};

use crate::json;

/// Options of `sse listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListenArgs {
    /// The URL of the event stream.
    url: String,
    /// Print one JSON object per event ({"type", "data", "lastEventId"}).
    #[arg(long)]
    json: bool,
    /// An extra request header, as `Name: value`; repeat for more.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// A bearer token, sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "SSE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Resume the stream after this event id (sent as `Last-Event-ID`).
    #[arg(long, value_name = "ID")]
    last_event_id: Option<String>,
    /// The reconnection time in milliseconds, until the server sends `retry:`.
    #[arg(long, value_name = "MS")]
    retry: Option<u64>,
    /// Which failed responses to retry: `never` (as browsers do), `transient`
    /// (5xx and 429, honouring Retry-After) or `always`.
    #[arg(long, value_enum, default_value_t = Policy::Never)]
    retry_policy: Policy,
    /// Give up after this many failed attempts in a row.
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// Treat a connection that stays silent this long (seconds) as dead.
    #[arg(long, value_name = "SECONDS")]
    idle_timeout: Option<u64>,
    /// Also print comments (such as keep-alives).
    #[arg(long)]
    comments: bool,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// The largest event accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_event_size: usize,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Policy {
    Never,
    Transient,
    Always,
}

/// Runs `sse listen`. The exit code is 0 when the stream ended as the
/// server asked (204), on `--count` or on Ctrl-C, and 1 when the server
/// refused it for good.
pub(crate) async fn listen(args: ListenArgs) -> Result<ExitCode, String> {
    let mut source = build(&args)?;
    let mut stdout = io::stdout().lock();
    let mut seen = 0u64;
    loop {
        let item = tokio::select! {
            item = source.next() => item,
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        };
        let Some(item) = item else { break };
        match item {
            Ok(SourceEvent::Message(event)) => {
                print_event(&mut stdout, &event, args.json).map_err(|e| e.to_string())?;
                seen += 1;
                if args.count.is_some_and(|count| seen >= count) {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Ok(SourceEvent::Comment(text)) if args.comments => {
                print_comment(&mut stdout, &text, args.json).map_err(|e| e.to_string())?;
            }
            Ok(_) => {}
            // Reported; the source reconnects unless the model says stop.
            Err(error) => eprintln!("sse listen: {error}"),
        }
    }
    match source.close_reason() {
        Some(CloseReason::NoContent | CloseReason::ByCaller) | None => Ok(ExitCode::SUCCESS),
        Some(reason) => Err(format!("giving up: {reason}")),
    }
}

fn build(args: &ListenArgs) -> Result<EventSource, String> {
    let mut config = ClientConfig::new().with_retry_policy(match args.retry_policy {
        Policy::Never => RetryPolicy::Never,
        Policy::Transient => RetryPolicy::Transient,
        Policy::Always => RetryPolicy::Always,
    });
    if let Some(ms) = args.retry {
        config = config.with_reconnection_time(Duration::from_millis(ms));
    }
    config = config
        .with_max_attempts(args.max_attempts)
        .with_idle_timeout(args.idle_timeout.map(Duration::from_secs));
    let limits = Limits::new()
        .with_max_id_len(4096)
        .with_max_comment_len(if args.comments { 4096 } else { 0 });
    let mut builder = EventSource::builder(args.url.as_str())
        .config(config)
        .decoder(Decoder::with_capacity(args.max_event_size, limits));
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("header {header:?} is not `Name: value`"))?;
        builder = builder.header(name.trim(), value.trim());
    }
    if let Some(token) = &args.token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if let Some(id) = &args.last_event_id {
        let id = EventId::new(id).map_err(|error| format!("--last-event-id: {error}"))?;
        builder = builder.last_event_id(id);
    }
    builder.build().map_err(|error| error.to_string())
}

fn print_event(out: &mut impl Write, event: &EventBuf, as_json: bool) -> io::Result<()> {
    if as_json {
        json::write_event(out, event)?;
    } else if event.event_type() == "message" {
        writeln!(out, "{}", event.data())?;
    } else {
        writeln!(out, "{}: {}", event.event_type(), event.data())?;
    }
    out.flush()
}

fn print_comment(out: &mut impl Write, text: &str, as_json: bool) -> io::Result<()> {
    if as_json {
        json::write_comment(out, text)?;
    } else {
        writeln!(out, ": {text}")?;
    }
    out.flush()
}
