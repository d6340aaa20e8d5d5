//! [`Client`]: the `EventSource` connection model, without I/O.

mod backoff;
mod config;
mod retry_after;

pub use backoff::Backoff;
pub use config::{ClientConfig, DEFAULT_MIN_RECONNECTION_DELAY, RetryPolicy};

use core::fmt;
use core::time::Duration;

use crate::{DecodeError, Decoder, EventId, Frame, Instant};

/// What the HTTP layer learned from a response, for
/// [`Client::handle_response`]. Header values are raw; `None` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<&'a [u8]>,
    /// The `Retry-After` header.
    pub retry_after: Option<&'a [u8]>,
    /// The `Date` header, which an HTTP-date `Retry-After` is measured against.
    pub date: Option<&'a [u8]>,
    /// The `Location` header: a redirect status without it (or with an empty
    /// one) closes the client with [`CloseReason::RedirectWithoutLocation`].
    pub location: Option<&'a [u8]>,
}

/// What to do with a response, from [`Client::handle_response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The stream is open: read the body and feed it to
    /// [`Client::handle_body`].
    Open,
    /// Follow the `Location` header with a new request (its method from
    /// [`redirect_method`]); the attempt goes on. A `Location` that cannot
    /// be followed makes the attempt fail: report it with
    /// [`Client::handle_error`], as `fetch` reports a network error.
    Redirect,
    /// The response failed but will be retried: [`Client::poll`] says when.
    Retry,
    /// The client is closed: `204 No Content`, or a failure the retry
    /// policy does not retry. [`Client::poll`] says why.
    Closed,
}

/// Why a [`Client`] stopped for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`Client::close`] was called.
    ByCaller,
    /// The server answered `204 No Content`: it asks the client to stop.
    NoContent,
    /// A status the retry policy does not retry.
    Status(u16),
    /// A `200` response that is not `text/event-stream`.
    ContentType,
    /// More redirects than the configuration allows.
    TooManyRedirects,
    /// A redirect status (`301`, `302`, `303`, `307`, `308`) without a
    /// `Location` to follow, or with an empty one. `fetch` would hand such a
    /// response over as final (and an empty `Location` would redirect to
    /// the same URL until the redirect limit); it is a server's mistake that
    /// retrying cannot mend, so no [`RetryPolicy`] retries it.
    RedirectWithoutLocation(u16),
    /// [`ClientConfig::max_attempts`] attempts in a row failed.
    MaxAttempts,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ByCaller => f.write_str("closed by the caller"),
            Self::NoContent => f.write_str("the server answered 204 No Content"),
            Self::Status(status) => write!(f, "the server answered status {status}"),
            Self::ContentType => f.write_str("the response is not text/event-stream"),
            Self::TooManyRedirects => f.write_str("too many redirects"),
            Self::RedirectWithoutLocation(status) => write!(
                f,
                "the server answered redirect status {status} without a Location header to follow"
            ),
            Self::MaxAttempts => f.write_str("too many failed attempts"),
        }
    }
}

/// What the driver of a [`Client`] should do next, from [`Client::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send a request now, with [`Client::request_headers`], then report how
    /// it went ([`Client::handle_response`] or [`Client::handle_error`]).
    Connect,
    /// A request or a body is in flight: keep doing I/O, and call
    /// [`Client::handle_timeout`] at `deadline` if it passes first.
    Io {
        /// When the idle timeout trips, if one is configured.
        deadline: Option<Instant>,
    },
    /// Wait until `until`, then poll again.
    Wait {
        /// The end of the reconnection delay.
        until: Instant,
    },
    /// Stopped for good.
    Closed(CloseReason),
}

/// The `readyState` of an `EventSource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// Connecting, or waiting to reconnect.
    Connecting,
    /// The stream is open.
    Open,
    /// Stopped for good.
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// An attempt should start now.
    Ready,
    Waiting {
        until: Instant,
        /// How long the wait was when it was decided.
        delay: Duration,
    },
    Connecting {
        since: Instant,
        redirects: u8,
    },
    Open {
        since: Instant,
        last_read: Instant,
        events: bool,
    },
    Closed(CloseReason),
}

/// The `EventSource` connection model as a state machine: what to request,
/// how to read the response, when to reconnect. It does no I/O and reads no
/// clock; a driver (the adapters' `EventSource`) does the I/O and passes the
/// time in.
///
/// It keeps what the spec keeps across reconnects, the last event id and
/// the reconnection time (a server's `retry:` sets it, also from a block
/// without data), and adds what production needs: capped exponential
/// backoff with jitter, reset once a connection is healthy; an optional
/// limit on attempts; an optional idle timeout; an opt-in retry of failed
/// responses.
///
/// # Methods by role
///
/// - Output: [`poll`](Self::poll) says what to do now;
///   [`request_headers`](Self::request_headers) what to send.
/// - Input: [`handle_response`](Self::handle_response),
///   [`handle_body`](Self::handle_body), [`handle_end`](Self::handle_end),
///   [`handle_error`](Self::handle_error),
///   [`handle_timeout`](Self::handle_timeout).
/// - Commands: [`close`](Self::close).
/// - Getters: [`ready_state`](Self::ready_state),
///   [`close_reason`](Self::close_reason),
///   [`last_event_id`](Self::last_event_id),
///   [`reconnection_time`](Self::reconnection_time).
///
/// # Call order
///
/// Call `poll(now)` and act on its [`Action`]: on `Connect` send a request
/// and feed its outcome back; on `Io` keep reading, feeding every body chunk
/// to `handle_body` until it returns `Ok(false)` (taking each frame it
/// readies with [`frame`](Self::frame)), then `handle_end` at the end of
/// the body or `handle_error` if the connection breaks; on `Wait` sleep;
/// after any input, poll again.
///
/// `now` is in whole milliseconds: round the clock up (not down) when
/// converting, so that no delay or timeout ends early.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::{Action, Client, ClientConfig, Decoder, Frame, Instant, ResponseHead, Verdict};
///
/// let mut client = Client::new(Decoder::new([0u8; 1024]), ClientConfig::new(), 7);
/// let t0 = Instant::from_millis(0);
/// assert_eq!(client.poll(t0), Action::Connect);
/// let head = ResponseHead { status: 200, content_type: Some(b"text/event-stream"), ..Default::default() };
/// assert_eq!(client.handle_response(t0, &head), Verdict::Open);
///
/// let mut body: &[u8] = b"retry: 500\nid: 1\ndata: hi\n\n";
/// while client.handle_body(t0, &mut body)? {
///     if let Some(Frame::Event(event)) = client.frame() {
///         assert_eq!(event.data(), "hi");
///     }
/// }
/// client.handle_end(t0);
///
/// // The server asked for 500 ms; the first reconnect waits that long (plus
/// // up to 20% jitter), and sends the last event id.
/// let Action::Wait { until } = client.poll(t0) else { panic!() };
/// assert!((500..=600).contains(&until.as_millis()));
/// assert_eq!(client.poll(until), Action::Connect);
/// assert!(client.request_headers().any(|(name, value)| name == "Last-Event-ID" && value == b"1"));
/// # Ok::<(), sse_proto::DecodeError>(())
/// ```
pub struct Client<B> {
    decoder: Decoder<B>,
    config: ClientConfig,
    state: State,
    reconnection_time: Duration,
    /// Counts attempts in a row that did not lead to a healthy connection.
    backoff: Backoff,
    /// A delay the server asked for with `Retry-After`, for the next wait.
    retry_after: Option<Duration>,
}

impl<B: crate::DecodeBuf> Client<B> {
    /// A client that decodes with `decoder` (seed its last event id first
    /// to resume a stream) and reconnects as `config` says. `seed` feeds the
    /// jitter; any value works, a different one per client spreads
    /// reconnects best.
    pub fn new(decoder: Decoder<B>, config: ClientConfig, seed: u64) -> Self {
        Self {
            decoder,
            reconnection_time: config.reconnection_time,
            config,
            state: State::Ready,
            backoff: Backoff::new(config.max_backoff)
                .with_jitter_permille(config.jitter_permille)
                .with_seed(seed),
            retry_after: None,
        }
    }

    /// The state as the spec's `readyState` names it.
    pub fn ready_state(&self) -> ReadyState {
        match self.state {
            State::Open { .. } => ReadyState::Open,
            State::Closed(_) => ReadyState::Closed,
            _ => ReadyState::Connecting,
        }
    }

    /// Why the client stopped, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        match self.state {
            State::Closed(reason) => Some(reason),
            _ => None,
        }
    }

    /// The last event id, sent as `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> Option<EventId<'_>> {
        self.decoder.last_event_id()
    }

    /// The reconnection time: the configured one until the server sends
    /// `retry:`.
    pub fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// While waiting to reconnect: the delay decided when the last attempt
    /// ended (the server's `retry:` or `Retry-After`, backed off, with
    /// jitter, never under the floor). `None` in any other state.
    pub fn reconnect_delay(&self) -> Option<Duration> {
        match self.state {
            State::Waiting { delay, .. } => Some(delay),
            _ => None,
        }
    }

    /// The decoder, for its limits and last event id.
    pub fn decoder(&self) -> &Decoder<B> {
        &self.decoder
    }

    /// The headers a request must carry: `Accept: text/event-stream`,
    /// `Cache-Control: no-cache`, and `Last-Event-ID` when the last event id
    /// is not empty.
    pub fn request_headers(&self) -> impl Iterator<Item = (&'static str, &[u8])> {
        let last_event_id = self
            .decoder
            .last_event_id()
            .map(|id| ("Last-Event-ID", id.as_text().as_bytes()));
        [
            ("Accept", &b"text/event-stream"[..]),
            ("Cache-Control", b"no-cache"),
        ]
        .into_iter()
        .chain(last_event_id)
    }

    /// What to do now.
    pub fn poll(&mut self, now: Instant) -> Action {
        if let State::Waiting { until, .. } = self.state {
            if now < until {
                return Action::Wait { until };
            }
            self.state = State::Ready;
        }
        match self.state {
            State::Ready => {
                if self
                    .config
                    .max_attempts
                    .is_some_and(|max| self.backoff.failures() >= max)
                {
                    self.state = State::Closed(CloseReason::MaxAttempts);
                    return Action::Closed(CloseReason::MaxAttempts);
                }
                self.state = State::Connecting {
                    since: now,
                    redirects: 0,
                };
                Action::Connect
            }
            State::Connecting { .. } | State::Open { .. } => Action::Io {
                deadline: self.io_deadline(),
            },
            State::Waiting { until, .. } => Action::Wait { until },
            State::Closed(why) => Action::Closed(why),
        }
    }

    /// Classifies the response to the request made on [`Action::Connect`]
    /// (or to a redirect).
    pub fn handle_response(&mut self, now: Instant, head: &ResponseHead<'_>) -> Verdict {
        let State::Connecting { redirects, .. } = self.state else {
            return Verdict::Closed;
        };
        let failure = match head.status {
            200 if head.content_type.is_some_and(is_event_stream) => {
                self.state = State::Open {
                    since: now,
                    last_read: now,
                    events: false,
                };
                return Verdict::Open;
            }
            204 => {
                self.state = State::Closed(CloseReason::NoContent);
                return Verdict::Closed;
            }
            301 | 302 | 303 | 307 | 308 => {
                if head
                    .location
                    .is_none_or(|location| trim(location).is_empty())
                {
                    let reason = CloseReason::RedirectWithoutLocation(head.status);
                    self.state = State::Closed(reason);
                    return Verdict::Closed;
                }
                if redirects >= self.config.max_redirects {
                    self.state = State::Closed(CloseReason::TooManyRedirects);
                    return Verdict::Closed;
                }
                self.state = State::Connecting {
                    since: now,
                    redirects: redirects + 1,
                };
                return Verdict::Redirect;
            }
            200 => CloseReason::ContentType,
            status => CloseReason::Status(status),
        };
        let retry = match (self.config.retry_policy, failure) {
            (RetryPolicy::Always, _) => true,
            (RetryPolicy::Transient, CloseReason::Status(status)) => {
                status == 429 || (500..=599).contains(&status)
            }
            _ => false,
        };
        if !retry {
            self.state = State::Closed(failure);
            return Verdict::Closed;
        }
        self.retry_after = head
            .retry_after
            .and_then(|value| retry_after::parse(value, head.date));
        self.reconnect(now, false);
        Verdict::Retry
    }

    /// Feeds response body bytes, as [`Decoder::feed`] does: `Ok(true)`
    /// when a frame is ready, to borrow with [`frame`](Self::frame);
    /// `Ok(false)` once `input` is used up (or when no stream is open). A
    /// `retry:` frame sets the reconnection time (and is still readied).
    pub fn handle_body(&mut self, now: Instant, input: &mut &[u8]) -> Result<bool, DecodeError> {
        let State::Open { events, since, .. } = self.state else {
            return Ok(false);
        };
        if input.is_empty() {
            return Ok(false);
        }
        let ready = self.decoder.feed(input);
        let frame = if matches!(ready, Ok(true)) {
            self.decoder.frame()
        } else {
            None
        };
        let dispatched = matches!(frame, Some(Frame::Event(_)));
        if let Some(Frame::Retry(ms)) = frame {
            self.reconnection_time = Duration::from_millis(ms);
        }
        self.state = State::Open {
            since,
            last_read: now,
            events: events || dispatched,
        };
        ready
    }

    /// The frame the last call to [`handle_body`](Self::handle_body)
    /// readied, borrowed from the decoder.
    pub fn frame(&self) -> Option<Frame<'_>> {
        self.decoder.frame()
    }

    /// The response body ended: reconnect after the reconnection time. The
    /// unfinished event, if any, is discarded.
    pub fn handle_end(&mut self, now: Instant) {
        self.connection_lost(now);
    }

    /// The request failed or the connection broke: reconnect later.
    pub fn handle_error(&mut self, now: Instant) {
        self.connection_lost(now);
    }

    /// Checks the idle timeout. Returns `true` if it tripped: the request or
    /// connection in flight must be dropped, and the client will reconnect.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        if self.io_deadline().is_some_and(|deadline| now >= deadline) {
            self.connection_lost(now);
            return true;
        }
        false
    }

    /// Stops for good; [`poll`](Self::poll) returns
    /// [`Action::Closed`] from now on.
    pub fn close(&mut self) {
        self.state = State::Closed(CloseReason::ByCaller);
    }

    /// When the request or connection in flight times out, if it can.
    fn io_deadline(&self) -> Option<Instant> {
        let idle = self.config.idle_timeout?;
        match self.state {
            State::Connecting { since, .. } => Some(since + idle),
            State::Open { last_read, .. } => Some(last_read + idle),
            _ => None,
        }
    }

    fn connection_lost(&mut self, now: Instant) {
        let healthy = match self.state {
            State::Open { since, events, .. } => events || now - since >= self.config.healthy_after,
            State::Connecting { .. } => false,
            // Nothing was in flight.
            State::Ready | State::Waiting { .. } | State::Closed(_) => return,
        };
        self.decoder.finish();
        self.reconnect(now, healthy);
    }

    /// Schedules the next attempt.
    fn reconnect(&mut self, now: Instant, healthy: bool) {
        if healthy {
            self.backoff.succeeded();
        } else {
            self.backoff.failed();
        }
        if self
            .config
            .max_attempts
            .is_some_and(|max| self.backoff.failures() >= max)
        {
            self.state = State::Closed(CloseReason::MaxAttempts);
            return;
        }
        // The floor holds under the server's `retry:` and `Retry-After`
        // alike; backing off doubles from it, so that a server that closes
        // streams before they deliver anything is asked less and less often.
        let floor = self.config.min_reconnection_delay;
        let delay = match self.retry_after.take() {
            Some(asked) => asked.max(floor),
            None => self.backoff.delay(self.reconnection_time.max(floor)),
        };
        self.state = State::Waiting {
            until: now + delay,
            delay,
        };
    }
}

impl<B: crate::DecodeBuf> fmt::Debug for Client<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state)
            .field("reconnection_time", &self.reconnection_time)
            .field("backoff", &self.backoff)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// `value` without leading and trailing HTTP whitespace.
fn trim(value: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t');
    let start = value
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    value.get(start..end).unwrap_or_default()
}

/// Whether a `Content-Type` value has the essence `text/event-stream`
/// (ASCII case-insensitive; parameters and surrounding whitespace ignored).
pub fn is_event_stream(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default();
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = essence
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(essence.len());
    let end = essence
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    essence
        .get(start..end)
        .is_some_and(|e| e.eq_ignore_ascii_case(b"text/event-stream"))
}

/// The method of the request that follows a redirect, as `fetch` does it:
/// `303 See Other` turns anything but `GET` and `HEAD` into `GET`, and `301`
/// and `302` turn `POST` into `GET`; otherwise the method (and body) stay.
///
/// ```
/// use sse_proto::redirect_method;
///
/// assert_eq!(redirect_method(303, "POST"), "GET");
/// assert_eq!(redirect_method(302, "POST"), "GET");
/// assert_eq!(redirect_method(307, "POST"), "POST");
/// assert_eq!(redirect_method(301, "GET"), "GET");
/// ```
pub fn redirect_method(status: u16, method: &str) -> &str {
    let to_get = match status {
        303 => !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD"),
        301 | 302 => method.eq_ignore_ascii_case("POST"),
        _ => false,
    };
    if to_get { "GET" } else { method }
}
