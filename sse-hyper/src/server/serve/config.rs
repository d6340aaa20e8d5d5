//! [`ServeConfig`]: the connection rules of a [`Server`](super::Server).

use core::time::Duration;

use ipnet::IpNet;

/// How long the first request head may take to arrive, from the accept.
pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a keep-alive connection may wait for its next request.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take nothing of what is written to it.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request head, in bytes.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header fields in a request head.
pub const DEFAULT_MAX_HEADERS: usize = 64;
/// The most connections that are not streams, in all.
pub const DEFAULT_MAX_PENDING: usize = 1024;
/// The most connections that are not streams, per client address.
pub const DEFAULT_MAX_PENDING_PER_CLIENT: usize = 64;
/// How long requests in flight may take to finish at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The most concurrent streams (requests) on one HTTP/2 connection.
pub const DEFAULT_MAX_STREAMS_PER_CONNECTION: u32 = 100;
/// How often an HTTP/2 connection is pinged, and how long the answer may
/// take before the connection is closed (a vanished peer).
pub const DEFAULT_HTTP2_PING: Duration = Duration::from_secs(20);

/// The connection rules of a [`Server`](super::Server).
///
/// What a connection may do, and what happens when it does not:
///
/// | rule | default | when broken |
/// |---|---|---|
/// | the first request head arrives within the head timeout of the accept | 10 s | closed |
/// | a request head is at most so many bytes and header fields | 16 KiB, 64 | `431`, closed |
/// | no `Content-Length` together with `Transfer-Encoding` | | `400`, closed |
/// | a keep-alive connection sends its next head within the idle timeout | 60 s | closed |
/// | the client takes what is written within the write timeout | 30 s | closed (a stalled subscriber) |
/// | connections that are not streams yet ("pending") are capped in all, and per client address | 1024, 64 | closed at once |
/// | at shutdown, requests in flight finish within the shutdown timeout | 5 s | cut |
/// | an HTTP/2 connection answers pings; carries so many streams at once | 20 s, 100 | closed; refused streams |
///
/// HTTP/2 is served over TLS when the client chooses it by ALPN, and in
/// cleartext to a client that starts with its preface (h2c with prior
/// knowledge, as proxies send); HTTP/1.1 otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    pub(super) head_timeout: Duration,
    pub(super) idle_timeout: Duration,
    pub(super) write_timeout: Duration,
    pub(super) max_head_bytes: usize,
    pub(super) max_headers: usize,
    pub(super) max_pending: usize,
    pub(super) max_pending_per_client: usize,
    pub(super) shutdown_timeout: Duration,
    pub(super) trusted_proxies: Vec<IpNet>,
    pub(super) http2: bool,
    pub(super) max_streams_per_connection: u32,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ServeConfig {
    /// The defaults (`DEFAULT_*`).
    pub fn new() -> Self {
        Self {
            head_timeout: DEFAULT_HEAD_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_pending: DEFAULT_MAX_PENDING,
            max_pending_per_client: DEFAULT_MAX_PENDING_PER_CLIENT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            trusted_proxies: Vec::new(),
            http2: true,
            max_streams_per_connection: DEFAULT_MAX_STREAMS_PER_CONNECTION,
        }
    }

    /// How long the first request head may take, from the accept.
    pub fn with_head_timeout(mut self, timeout: Duration) -> Self {
        self.head_timeout = timeout;
        self
    }

    /// How long a keep-alive connection may wait for its next request.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a client may take nothing of what is written to it.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The largest request head, in bytes (at least 1 KiB).
    pub fn with_max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes.max(1024);
        self
    }

    /// The most header fields in a request head (at least 1).
    pub fn with_max_headers(mut self, fields: usize) -> Self {
        self.max_headers = fields.max(1);
        self
    }

    /// The most connections that are not streams, in all.
    pub fn with_max_pending(mut self, connections: usize) -> Self {
        self.max_pending = connections;
        self
    }

    /// The most connections that are not streams, per client address
    /// (trusted proxies excepted).
    pub fn with_max_pending_per_client(mut self, connections: usize) -> Self {
        self.max_pending_per_client = connections;
        self
    }

    /// How long requests in flight may take to finish at shutdown.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Addresses of proxies in front of the server: their connections are
    /// not capped per client address (they carry many clients).
    pub fn with_trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Whether HTTP/2 is served: through ALPN over TLS, and in cleartext
    /// to clients that start with its preface (h2c with prior knowledge,
    /// as a proxy in front sends). On by default.
    pub fn with_http2(mut self, http2: bool) -> Self {
        self.http2 = http2;
        self
    }

    /// The most concurrent streams on one HTTP/2 connection (at least 1).
    pub fn with_max_streams_per_connection(mut self, streams: u32) -> Self {
        self.max_streams_per_connection = streams.max(1);
        self
    }

    /// Whether HTTP/2 is served.
    pub fn http2(&self) -> bool {
        self.http2
    }

    /// The most concurrent streams on one HTTP/2 connection.
    pub fn max_streams_per_connection(&self) -> u32 {
        self.max_streams_per_connection
    }

    /// The head timeout.
    pub fn head_timeout(&self) -> Duration {
        self.head_timeout
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// The largest request head.
    pub fn max_head_bytes(&self) -> usize {
        self.max_head_bytes
    }

    /// The most header fields.
    pub fn max_headers(&self) -> usize {
        self.max_headers
    }

    /// The pending cap.
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// The pending cap per client.
    pub fn max_pending_per_client(&self) -> usize {
        self.max_pending_per_client
    }

    /// The shutdown timeout.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// The trusted proxies.
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }
}
