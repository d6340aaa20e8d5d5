//! [`HubConfig`]: what a [`Hub`](super::Hub) allows, beyond what its back
//! end's publisher limits.

use core::fmt;
use core::time::Duration;

use ipnet::IpNet;
use sse_proto::{DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME};

use super::JwtKey;
use crate::server::ServeConfig;

/// How much larger than the largest event a publish body may be: room for
/// the JSON around the data.
pub const DEFAULT_BODY_OVERHEAD: usize = 4096;

/// How long a publish body may take to arrive, from its head.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The most streams one client address may hold at once.
pub const DEFAULT_MAX_STREAMS_PER_CLIENT: usize = 1000;

/// How long `/ready` waits for the back end to prove delivery.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the status stream sends the figures.
pub const DEFAULT_STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// What a [`Hub`](super::Hub) allows: tokens, CORS origins, the data it
/// accepts, the streams' keep-alive and `retry:` hint, and the request
/// rules of the open internet (a body deadline, streams per client
/// address, a publish rate, trusted proxies). Sizes, queues, history and
/// the number of subscribers are the back end's publisher's
/// ([`PublisherConfig`](sse_proto::publisher::PublisherConfig)); the
/// connection rules of [`Hub::serve`](super::Hub::serve) are a
/// [`ServeConfig`].
///
/// ```
/// use std::time::Duration;
/// use sse_hyper::hub::HubConfig;
///
/// let config = HubConfig::new()
///     .with_publish_token(Some("s3cret".into()))
///     .with_cors_origins(["https://app.example"])
///     .with_keep_alive(Some(Duration::from_secs(30)));
/// assert_eq!(config.cors_origins(), ["https://app.example"]);
/// // Tokens never show in debug output.
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct HubConfig {
    publish_token: Option<String>,
    subscribe_token: Option<String>,
    json_data: bool,
    cors_origins: Vec<String>,
    keep_alive: Option<Duration>,
    retry: Duration,
    chat_page: bool,
    body_timeout: Duration,
    max_streams_per_client: usize,
    publish_rate: Option<u32>,
    trusted_proxies: Vec<IpNet>,
    jwt: Option<JwtKey>,
    serve: ServeConfig,
    metrics: bool,
    metrics_token: Option<String>,
    separate_metrics: bool,
    metrics_channels: Vec<String>,
    ready_timeout: Duration,
    status_interval: Duration,
}

impl fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |token: &Option<String>| token.as_ref().map(|_| "***");
        f.debug_struct("HubConfig")
            .field("publish_token", &set(&self.publish_token))
            .field("subscribe_token", &set(&self.subscribe_token))
            .field("json_data", &self.json_data)
            .field("cors_origins", &self.cors_origins)
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .field("chat_page", &self.chat_page)
            .field("body_timeout", &self.body_timeout)
            .field("max_streams_per_client", &self.max_streams_per_client)
            .field("publish_rate", &self.publish_rate)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("jwt", &self.jwt)
            .field("serve", &self.serve)
            .field("metrics", &self.metrics)
            .field("metrics_token", &set(&self.metrics_token))
            .field("separate_metrics", &self.separate_metrics)
            .field("metrics_channels", &self.metrics_channels)
            .field("ready_timeout", &self.ready_timeout)
            .field("status_interval", &self.status_interval)
            .finish()
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl HubConfig {
    /// Open to all (no tokens), no CORS origins, any text as data,
    /// keep-alive comments every [`DEFAULT_KEEP_ALIVE`], a `retry:` hint of
    /// [`DEFAULT_RECONNECTION_TIME`], the chat page at `/`, bodies within
    /// [`DEFAULT_BODY_TIMEOUT`], [`DEFAULT_MAX_STREAMS_PER_CLIENT`] streams
    /// per client address, no publish rate, no trusted proxy, the default
    /// [`ServeConfig`], and metrics on at `/metrics` and `/status`, open to
    /// all (no metrics token), with no channel labelled, a `/ready`
    /// deadline of [`DEFAULT_READY_TIMEOUT`] and a status sample every
    /// [`DEFAULT_STATUS_INTERVAL`].
    pub fn new() -> Self {
        Self {
            publish_token: None,
            subscribe_token: None,
            json_data: false,
            cors_origins: Vec::new(),
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            retry: DEFAULT_RECONNECTION_TIME,
            chat_page: true,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_streams_per_client: DEFAULT_MAX_STREAMS_PER_CLIENT,
            publish_rate: None,
            trusted_proxies: Vec::new(),
            jwt: None,
            serve: ServeConfig::new(),
            metrics: true,
            metrics_token: None,
            separate_metrics: false,
            metrics_channels: Vec::new(),
            ready_timeout: DEFAULT_READY_TIMEOUT,
            status_interval: DEFAULT_STATUS_INTERVAL,
        }
    }

    /// Keep and serve metrics (on by default): `/metrics`, the status page
    /// and its stream, and the publish-to-write histogram. Off, the routes
    /// are gone and the streams' writers time nothing (no cost per event);
    /// `/health`, `/live` and `/ready` stay, and so do the logs.
    pub fn with_metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// The bearer token that `/metrics` and the status stream require
    /// (`Authorization: Bearer TOKEN`, never in the URL; the status page
    /// asks for it); `None` or empty: none. Give them an address of their
    /// own instead with [`with_separate_metrics`](Self::with_separate_metrics).
    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.filter(|token| !token.is_empty());
        self
    }

    /// Leave `/metrics` and the status page out of
    /// [`Hub::router`](super::Hub::router), to serve
    /// [`Hub::metrics_router`](super::Hub::metrics_router) apart (on an
    /// address only the operator reaches, say, with
    /// [`Hub::serve_metrics`](super::Hub::serve_metrics)).
    pub fn with_separate_metrics(mut self, separate: bool) -> Self {
        self.separate_metrics = separate;
        self
    }

    /// Channels whose figures are labelled with their name
    /// (`sse_channel_subscribers`, `sse_channel_events_published_total`).
    /// No other figure names a channel, so that the number of series stays
    /// bounded whatever the clients ask for.
    pub fn with_metrics_channels<I, S>(mut self, channels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metrics_channels = channels.into_iter().map(Into::into).collect();
        self.metrics_channels.sort_unstable();
        self.metrics_channels.dedup();
        self
    }

    /// How long `/ready` waits for the back end to prove delivery before
    /// it answers `503`.
    pub fn with_ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// How often the status stream sends the figures (at least every 100
    /// ms).
    pub fn with_status_interval(mut self, interval: Duration) -> Self {
        self.status_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// Whether metrics are kept and served.
    pub fn metrics(&self) -> bool {
        self.metrics
    }

    /// The metrics token, if any.
    pub fn metrics_token(&self) -> Option<&str> {
        self.metrics_token.as_deref()
    }

    /// Whether `/metrics` and the status page are served apart.
    pub fn separate_metrics(&self) -> bool {
        self.separate_metrics
    }

    /// The channels labelled in the metrics.
    pub fn metrics_channels(&self) -> &[String] {
        &self.metrics_channels
    }

    /// The `/ready` deadline.
    pub fn ready_timeout(&self) -> Duration {
        self.ready_timeout
    }

    /// The status interval.
    pub fn status_interval(&self) -> Duration {
        self.status_interval
    }

    /// The bearer token that publishing and closing channels require
    /// (`Authorization: Bearer TOKEN`, never in the URL); `None` or empty:
    /// none.
    pub fn with_publish_token(mut self, token: Option<String>) -> Self {
        self.publish_token = token.filter(|token| !token.is_empty());
        self
    }

    /// The bearer token that subscribing requires: in `Authorization:
    /// Bearer TOKEN`, or in `?token=` (a browser's `EventSource` cannot set
    /// headers); `None` or empty: none.
    pub fn with_subscribe_token(mut self, token: Option<String>) -> Self {
        self.subscribe_token = token.filter(|token| !token.is_empty());
        self
    }

    /// Accept only data that is valid JSON.
    pub fn with_json_data(mut self, json_only: bool) -> Self {
        self.json_data = json_only;
        self
    }

    /// The origins browsers may call the hub from (CORS), such as
    /// `https://app.example`; `*` allows any. Empty: none (browsers keep
    /// their same-origin rule).
    pub fn with_cors_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cors_origins = origins
            .into_iter()
            .map(|origin| origin.into().trim().trim_end_matches('/').to_owned())
            .filter(|origin| !origin.is_empty())
            .collect();
        self
    }

    /// The keep-alive interval of idle streams; `None`: none.
    pub fn with_keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval;
        self
    }

    /// The reconnection time streams announce first (`retry:`), and the
    /// one sent as a farewell at shutdown.
    pub fn with_retry(mut self, reconnection_time: Duration) -> Self {
        self.retry = reconnection_time;
        self
    }

    /// Serve the chat page at `/` (on by default).
    pub fn with_chat_page(mut self, serve: bool) -> Self {
        self.chat_page = serve;
        self
    }

    /// How long a publish body may take to arrive (else `408`).
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The most streams one client address may hold at once (more get
    /// `429`).
    pub fn with_max_streams_per_client(mut self, streams: usize) -> Self {
        self.max_streams_per_client = streams;
        self
    }

    /// The most publishes per second per publisher: per token, or per
    /// client address where publishing needs none (more get `429` with
    /// `Retry-After`); `None`: no limit.
    pub fn with_publish_rate(mut self, per_second: Option<u32>) -> Self {
        self.publish_rate = per_second.filter(|&rate| rate > 0);
        self
    }

    /// Proxies in front of the hub (addresses or CIDR ranges): for their
    /// requests the client address is the one they forward (`Forwarded`,
    /// else `X-Forwarded-For`), which those headers are ignored from
    /// anyone else. Also exempts them from the per-client connection cap
    /// of [`Hub::serve`](super::Hub::serve).
    pub fn with_trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Accept signed tokens (JWT) checked with `key`, whose claims list the
    /// channels their bearer may subscribe to and publish to (see
    /// [`JwtKey`]); beside the static tokens, if any.
    pub fn with_jwt(mut self, key: Option<JwtKey>) -> Self {
        self.jwt = key;
        self
    }

    /// The key signed tokens are checked with, if any.
    pub fn jwt(&self) -> Option<&JwtKey> {
        self.jwt.as_ref()
    }

    /// The connection rules of [`Hub::serve`](super::Hub::serve).
    pub fn with_serve(mut self, serve: ServeConfig) -> Self {
        self.serve = serve;
        self
    }

    /// The body deadline.
    pub fn body_timeout(&self) -> Duration {
        self.body_timeout
    }

    /// The streams per client address.
    pub fn max_streams_per_client(&self) -> usize {
        self.max_streams_per_client
    }

    /// The publish rate, if any.
    pub fn publish_rate(&self) -> Option<u32> {
        self.publish_rate
    }

    /// The trusted proxies.
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }

    /// The connection rules of [`Hub::serve`](super::Hub::serve).
    pub fn serve(&self) -> &ServeConfig {
        &self.serve
    }

    /// The publish token, if any.
    pub fn publish_token(&self) -> Option<&str> {
        self.publish_token.as_deref()
    }

    /// The subscribe token, if any.
    pub fn subscribe_token(&self) -> Option<&str> {
        self.subscribe_token.as_deref()
    }

    /// Whether only JSON data is accepted.
    pub fn json_data(&self) -> bool {
        self.json_data
    }

    /// The CORS origins.
    pub fn cors_origins(&self) -> &[String] {
        &self.cors_origins
    }

    /// The keep-alive interval.
    pub fn keep_alive(&self) -> Option<Duration> {
        self.keep_alive
    }

    /// The `retry:` hint.
    pub fn retry(&self) -> Duration {
        self.retry
    }

    /// Whether the chat page is served.
    pub fn chat_page(&self) -> bool {
        self.chat_page
    }
}
