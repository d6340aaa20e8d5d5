//! `sse listen URL`: print a stream's events as they come, reconnecting and
//! resuming as the connection model decides.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use futures_lite::StreamExt;
use tokio_rustls::rustls::pki_types::CertificateDer;

use sse_tokio::proto::{
    ClientConfig, CloseReason, Decoder, EventBuf, EventId, Limits, RetryPolicy,
};
use sse_tokio::{Error, EventSource, SourceEvent};

use crate::json;

/// What `sse listen --help` says about `--json`, after the options.
pub(crate) const JSON_LINES: &str = "\
With --json, stdout has one JSON object per line:

  an event    {\"type\", \"data\", \"lastEventId\"}, the browser's MessageEvent names
  a comment   {\"comment\"} (with --comments)
  an open     {\"kind\": \"open\", \"status\", \"version\", \"url\", \"headers\": {..}}
              (content-type, cache-control, content-encoding,
              x-accel-buffering, x-request-id, when present)
  an error    {\"kind\": \"error\", \"code\", \"message\"} and \"status\" for a
              failed response; code is one of stream_ended, timed_out,
              status, content_type, redirect_without_location, redirect,
              decode, io, http, tls, request, other
  a reconnect {\"kind\": \"reconnect\", \"delay\" (milliseconds), \"lastEventId\"}
  the end     {\"kind\": \"end\", \"reason\", \"message\"} and \"status\" when a
              status ended it; reason is one of no_content, status,
              content_type, redirect_without_location, too_many_redirects,
              max_attempts, count, interrupted

Event and comment lines never have \"kind\", which is always the first key of
the others; `sse encode` skips lines that have it. The exit code does not
change: 0 when the server said stop (204), on --count or Ctrl-C; 1 when it
refused the stream for good.";

/// Options of `sse listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListenArgs {
    /// The URL of the event stream.
    url: String,
    /// Print JSON lines: each event ({"type", "data", "lastEventId"}), and
    /// each open, error, reconnect and the end (with a "kind"; below).
    #[arg(long)]
    json: bool,
    /// Trust the certificates in this PEM file (a private CA, or a server's
    /// self-signed certificate) besides the system's, for https.
    #[arg(long, value_name = "FILE")]
    cacert: Option<std::path::PathBuf>,
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
    /// The shortest wait between two connection attempts, in milliseconds,
    /// whatever the server's `retry:` asks (100 by default; 0 turns it off).
    #[arg(long, value_name = "MS")]
    min_reconnect_delay: Option<u64>,
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
    /// The largest event accepted, in bytes (16 MiB by default). Memory
    /// grows only while an event that large is being read.
    #[arg(long, default_value_t = sse_tokio::proto::DEFAULT_MAX_EVENT_LEN, value_name = "BYTES")]
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
    let mut out = Output {
        stdout: io::stdout().lock(),
        json: args.json,
    };
    let mut seen = 0u64;
    loop {
        let item = tokio::select! {
            item = source.next() => item,
            _ = tokio::signal::ctrl_c() => {
                out.end("interrupted", "interrupted", None)?;
                return Ok(ExitCode::SUCCESS);
            }
        };
        let Some(item) = item else { break };
        match item {
            Ok(SourceEvent::Message(event)) => {
                out.event(&event)?;
                seen += 1;
                if args.count.is_some_and(|count| seen >= count) {
                    out.end("count", &format!("{seen} events, as --count asked"), None)?;
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Ok(SourceEvent::Comment(text)) if args.comments => out.comment(&text)?,
            Ok(SourceEvent::Open) => out.open(&source)?,
            Ok(_) => {}
            // Reported; the source reconnects unless the model says stop.
            Err(error) => {
                // A stream that ends is no failure: on stderr only in JSON.
                if !matches!(error, Error::StreamEnded) {
                    eprintln!("sse listen: {error}");
                }
                out.error(&error)?;
                if let Some(delay) = source.reconnect_delay() {
                    let id = source.last_event_id().map(|id| id.to_string());
                    out.reconnect(delay, id.as_deref().unwrap_or_default())?;
                }
            }
        }
    }
    let reason = source.close_reason();
    if let Some(reason) = reason {
        let status = match reason {
            CloseReason::Status(status) | CloseReason::RedirectWithoutLocation(status) => {
                Some(status)
            }
            _ => None,
        };
        out.end(json::close_reason_name(reason), &reason.to_string(), status)?;
    }
    match reason {
        Some(CloseReason::NoContent | CloseReason::ByCaller) | None => Ok(ExitCode::SUCCESS),
        Some(reason) => Err(format!("giving up: {reason}")),
    }
}

/// Where `sse listen` prints: events as text or JSON lines, and in JSON
/// also the open, error, reconnect and end lines.
struct Output {
    stdout: io::StdoutLock<'static>,
    json: bool,
}

impl Output {
    fn event(&mut self, event: &EventBuf) -> Result<(), String> {
        print_event(&mut self.stdout, event, self.json).map_err(|e| e.to_string())
    }

    fn comment(&mut self, text: &str) -> Result<(), String> {
        print_comment(&mut self.stdout, text, self.json).map_err(|e| e.to_string())
    }

    fn open(&mut self, source: &EventSource) -> Result<(), String> {
        let (Some(response), Some(url)) = (source.response(), source.response_url()) else {
            return Ok(());
        };
        self.line(|out| json::write_open(out, &url.to_string(), response))
    }

    fn error(&mut self, error: &Error) -> Result<(), String> {
        self.line(|out| json::write_error(out, error))
    }

    fn reconnect(&mut self, delay: Duration, last_event_id: &str) -> Result<(), String> {
        self.line(|out| json::write_reconnect(out, delay, last_event_id))
    }

    fn end(&mut self, reason: &str, message: &str, status: Option<u16>) -> Result<(), String> {
        self.line(|out| json::write_end(out, reason, message, status))
    }

    /// A line of JSON mode, flushed at once; nothing in text mode.
    fn line(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), String> {
        if !self.json {
            return Ok(());
        }
        write(&mut self.stdout)
            .and_then(|()| self.stdout.flush())
            .map_err(|error| error.to_string())
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
    if let Some(ms) = args.min_reconnect_delay {
        config = config.with_min_reconnection_delay(Duration::from_millis(ms));
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
    if let Some(path) = &args.cacert {
        for certificate in read_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
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

/// The certificates of a PEM file, for `--cacert`.
fn read_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;

    let why = |error: &dyn std::fmt::Display| format!("--cacert {}: {error}", path.display());
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| why(&error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| why(&error))?;
    if certificates.is_empty() {
        return Err(why(&"no certificate in the file"));
    }
    Ok(certificates)
}
