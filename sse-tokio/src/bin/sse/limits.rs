//! `sse serve` on the open internet: TLS and HTTP/2, and the limits,
//! turned into the hub's request rules and its server's connection rules.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sse_tokio::hub::{DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_STREAMS_PER_CLIENT, HubConfig};
use sse_tokio::server::{
    DEFAULT_HEAD_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_PENDING, DEFAULT_MAX_PENDING_PER_CLIENT, DEFAULT_SHUTDOWN_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT, ServeConfig, TlsServerConfig, tls_config,
};

/// A flag's number of seconds, whole or not (`0.5`): parsed from text, and
/// shown (in `--help`, for a default) as the same number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Seconds(pub(crate) Duration);

impl std::str::FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let value: f64 = text
            .parse()
            .map_err(|_| format!("not a number of seconds: {text}"))?;
        Duration::try_from_secs_f64(value)
            .map(Self)
            .map_err(|error| format!("{text}: {error}"))
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// Time limits and caps; each also comes from the environment.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "On the internet: TLS, HTTP/2 and limits")]
pub(crate) struct LimitArgs {
    /// Serve HTTPS with this PEM certificate chain (and --tls-key); HTTP/2
    /// for clients that choose it by ALPN, HTTP/1.1 for the others.
    #[arg(long, env = "SSE_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "SSE_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTP/1.1 only: no HTTP/2 by ALPN, and no cleartext HTTP/2
    /// (h2c with prior knowledge, as a proxy in front may send).
    #[arg(long, env = "SSE_NO_HTTP2")]
    no_http2: bool,
    /// Seconds a new connection has to send its first request head.
    #[arg(long, env = "SSE_HEAD_TIMEOUT", value_name = "SECONDS", default_value_t = Seconds(DEFAULT_HEAD_TIMEOUT))]
    head_timeout: Seconds,
    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, env = "SSE_IDLE_TIMEOUT", value_name = "SECONDS", default_value_t = Seconds(DEFAULT_IDLE_TIMEOUT))]
    idle_timeout: Seconds,
    /// Seconds a publish body has to arrive (else 408).
    #[arg(long, env = "SSE_BODY_TIMEOUT", value_name = "SECONDS", default_value_t = Seconds(DEFAULT_BODY_TIMEOUT))]
    body_timeout: Seconds,
    /// Seconds a client may take nothing of what is written before it is cut.
    #[arg(long, env = "SSE_WRITE_TIMEOUT", value_name = "SECONDS", default_value_t = Seconds(DEFAULT_WRITE_TIMEOUT))]
    write_timeout: Seconds,
    /// Seconds requests in flight have to finish at shutdown.
    #[arg(long, env = "SSE_SHUTDOWN_TIMEOUT", value_name = "SECONDS", default_value_t = Seconds(DEFAULT_SHUTDOWN_TIMEOUT))]
    shutdown_timeout: Seconds,
    /// The largest request head, in bytes (more: 431).
    #[arg(long, env = "SSE_MAX_HEAD_SIZE", value_name = "BYTES", default_value_t = DEFAULT_MAX_HEAD_BYTES)]
    max_head_size: usize,
    /// The most header fields in a request head (more: 431).
    #[arg(long, env = "SSE_MAX_HEADERS", value_name = "N", default_value_t = DEFAULT_MAX_HEADERS)]
    max_headers: usize,
    /// The most connections that are not streams yet, in all.
    #[arg(
        long,
        env = "SSE_MAX_PENDING",
        value_name = "N",
        default_value_t = DEFAULT_MAX_PENDING
    )]
    max_pending: usize,
    /// The most connections that are not streams yet, per client address.
    #[arg(
        long,
        env = "SSE_MAX_PENDING_PER_CLIENT",
        value_name = "N",
        default_value_t = DEFAULT_MAX_PENDING_PER_CLIENT
    )]
    max_pending_per_client: usize,
    /// The most streams one client address may hold (more: 429).
    #[arg(
        long,
        env = "SSE_MAX_STREAMS_PER_CLIENT",
        value_name = "N",
        default_value_t = DEFAULT_MAX_STREAMS_PER_CLIENT
    )]
    max_streams_per_client: usize,
    /// The most publishes per second per token (or per address without one; 0: no limit).
    #[arg(
        long,
        env = "SSE_PUBLISH_RATE",
        value_name = "PER_SECOND",
        default_value_t = 0
    )]
    publish_rate: u32,
    /// A proxy in front of the hub (address or CIDR), whose Forwarded or
    /// X-Forwarded-For header gives the client address; repeat or separate
    /// with commas.
    #[arg(
        long = "trusted-proxy",
        env = "SSE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    trusted_proxies: Vec<String>,
}

impl LimitArgs {
    /// The limits set on `config`, and the TLS configuration if HTTPS.
    pub(crate) fn apply(
        self,
        config: HubConfig,
    ) -> Result<(HubConfig, Option<Arc<TlsServerConfig>>), String> {
        let proxies = self
            .trusted_proxies
            .iter()
            .map(|proxy| {
                proxy
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| proxy.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("--trusted-proxy {proxy}: not an address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let serve = ServeConfig::new()
            .with_head_timeout(self.head_timeout.0)
            .with_idle_timeout(self.idle_timeout.0)
            .with_write_timeout(self.write_timeout.0)
            .with_shutdown_timeout(self.shutdown_timeout.0)
            .with_max_head_bytes(self.max_head_size)
            .with_max_headers(self.max_headers)
            .with_max_pending(self.max_pending)
            .with_max_pending_per_client(self.max_pending_per_client)
            .with_http2(!self.no_http2);
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let read = |path: &PathBuf| {
                    std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
                };
                let tls = tls_config(&read(cert)?, &read(key)?, &serve)
                    .map_err(|error| format!("--tls-cert/--tls-key: {error}"))?;
                Some(tls)
            }
            _ => None,
        };
        let config = config
            .with_body_timeout(self.body_timeout.0)
            .with_max_streams_per_client(self.max_streams_per_client)
            .with_publish_rate(Some(self.publish_rate))
            .with_trusted_proxies(proxies)
            .with_serve(serve);
        Ok((config, tls))
    }
}
