//! [`HubConfig`]: what a [`Hub`](super::Hub) allows, beyond what its back
//! end's publisher limits.

use core::fmt;
use core::time::Duration;

use sse_proto::{DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME};

/// How much larger than the largest event a publish body may be: room for
/// the JSON around the data.
pub const DEFAULT_BODY_OVERHEAD: usize = 4096;

/// What a [`Hub`](super::Hub) allows: tokens, CORS origins, the data it
/// accepts, and the streams' keep-alive and `retry:` hint. Sizes, queues,
/// history and the number of subscribers are the back end's publisher's
/// ([`PublisherConfig`](sse_proto::publisher::PublisherConfig)).
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
    /// [`DEFAULT_RECONNECTION_TIME`], and the chat page at `/`.
    pub fn new() -> Self {
        Self {
            publish_token: None,
            subscribe_token: None,
            json_data: false,
            cors_origins: Vec::new(),
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            retry: DEFAULT_RECONNECTION_TIME,
            chat_page: true,
        }
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
