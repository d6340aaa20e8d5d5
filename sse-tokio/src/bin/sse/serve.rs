//! `sse serve`: the hub (`sse_tokio::hub`, whose docs list the routes)
//! with its chat page. The options become the hub's configuration, nothing
//! more.

use std::path::PathBuf;
use std::time::Duration;

use sse_tokio::durable::DurablePublisher;
use sse_tokio::hub::{ClientInfo, DEFAULT_READY_TIMEOUT, Hub, HubConfig, JwtKey};
use sse_tokio::proto::publisher::{Publisher, PublisherConfig};
use sse_tokio::redis::{RedisConfig, RedisPublisher};
use sse_tokio::server::{
    DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECTION_TIME, TokioExecutor, fresh_id_prefix,
};

use crate::limits::{LimitArgs, Seconds};

/// Options of `sse serve`; each can also come from the environment.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "SSE_HOST", default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on (0 picks a free one).
    #[arg(long, env = "SSE_PORT", default_value_t = 5000)]
    port: u16,
    /// Seconds between keep-alive comments on idle streams (0: none).
    #[arg(
        long,
        env = "SSE_KEEPALIVE",
        value_name = "SECONDS",
        default_value_t = DEFAULT_KEEP_ALIVE.as_secs()
    )]
    keepalive: u64,
    /// Give every published event an id (`<prefix>-1`, `<prefix>-2`, ...;
    /// a new prefix at every start, so no id is reused), so that clients
    /// can resume with Last-Event-ID. (With --redis, events always get
    /// Redis's ids.)
    #[arg(long, env = "SSE_IDS")]
    ids: bool,
    /// Keep the history and the id sequence in an embedded database in this
    /// directory, across restarts and crashes: a client resuming with the
    /// last id it saw gets exactly what it missed. Every publish is answered
    /// after it is on disk. Implies --ids. One node only: not with --redis.
    #[arg(long, env = "SSE_DATA", value_name = "DIR", conflicts_with = "redis")]
    data: Option<PathBuf>,
    /// How many recent events to keep for clients that resume.
    #[arg(
        long,
        env = "SSE_HISTORY",
        value_name = "EVENTS",
        default_value_t = 1000
    )]
    history: usize,
    /// Accept only data that is valid JSON.
    #[arg(long, env = "SSE_JSON")]
    json: bool,
    /// Require `Authorization: Bearer TOKEN` to publish and close channels
    /// (never taken from the URL).
    #[arg(
        long,
        env = "SSE_PUBLISH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    publish_token: Option<String>,
    /// Require this bearer token (or `?token=`, for browsers) to subscribe.
    #[arg(
        long,
        env = "SSE_SUBSCRIBE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    subscribe_token: Option<String>,
    /// Also accept signed tokens (JWT, HS256) made with this secret, whose
    /// claims list the channels their bearer may use:
    /// {"exp", "sse": {"subscribe": [..], "publish": [..]}}.
    #[arg(
        long,
        env = "SSE_JWT_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        conflicts_with = "jwt_key"
    )]
    jwt_secret: Option<String>,
    /// Also accept signed tokens (JWT) checked with this PEM public key:
    /// RS256 for an RSA key, ES256 for a P-256 one.
    #[arg(long, env = "SSE_JWT_KEY", value_name = "FILE")]
    jwt_key: Option<PathBuf>,
    /// The most streams open at once; more get 503.
    #[arg(
        long,
        env = "SSE_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = PublisherConfig::new().max_subscribers()
    )]
    max_connections: usize,
    /// Origins that browsers may call the hub from (CORS); repeat or separate
    /// with commas; `*` allows any.
    #[arg(
        long = "cors-origin",
        env = "SSE_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    cors_origins: Vec<String>,
    /// The reconnection time clients are told, in milliseconds (also sent at
    /// shutdown).
    #[arg(long, env = "SSE_RETRY", value_name = "MS", default_value_t = DEFAULT_RECONNECTION_TIME.as_millis() as u64)]
    retry: u64,
    /// The largest event accepted, in bytes.
    #[arg(long, env = "SSE_MAX_EVENT_SIZE", value_name = "BYTES", default_value_t = PublisherConfig::new().max_event_bytes())]
    max_event_size: usize,
    /// How much a slow subscriber may have queued before it is disconnected
    /// (it resumes from the history), in bytes.
    #[arg(long, env = "SSE_QUEUE_SIZE", value_name = "BYTES", default_value_t = PublisherConfig::new().queue_bytes())]
    queue_size: usize,
    /// Share events with the other nodes on this Redis (several `sse serve`
    /// behind a load balancer): `redis://[[user]:password@]host[:port][/db]`,
    /// or `rediss://` for TLS. Ids then come from Redis, and clients resume
    /// on any node.
    #[arg(
        long,
        env = "SSE_REDIS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    redis: Option<String>,
    /// The prefix of the Redis keys: nodes with the same prefix share events.
    #[arg(long, env = "SSE_REDIS_PREFIX", default_value = "sse")]
    redis_prefix: String,
    /// How many recent events each channel keeps in Redis for clients that
    /// resume on any node.
    #[arg(
        long,
        env = "SSE_REDIS_RETENTION",
        value_name = "EVENTS",
        default_value_t = 1000
    )]
    redis_retention: usize,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    operate: OperateArgs,
}

/// How the hub is watched: metrics, the status page, readiness, logs.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Operating the hub")]
pub(crate) struct OperateArgs {
    /// Serve no metrics (no /metrics, no status page) and time nothing.
    #[arg(long, env = "SSE_NO_METRICS")]
    no_metrics: bool,
    /// Require `Authorization: Bearer TOKEN` for /metrics and the status
    /// page's stream (never taken from the URL).
    #[arg(
        long,
        env = "SSE_METRICS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    metrics_token: Option<String>,
    /// Serve /metrics, the status page and the probes on this address of
    /// their own (`127.0.0.1:9100`); the hub's address then keeps only the
    /// probes (/health, /live, /ready).
    #[arg(long, env = "SSE_METRICS_ADDR", value_name = "HOST:PORT")]
    metrics_addr: Option<String>,
    /// A channel whose figures are labelled with its name in /metrics;
    /// repeat or separate with commas. No other figure names a channel.
    #[arg(
        long = "metrics-channel",
        env = "SSE_METRICS_CHANNELS",
        value_delimiter = ',',
        value_name = "CHANNEL"
    )]
    metrics_channels: Vec<String>,
    /// Seconds /ready waits for the back end to prove delivery (with
    /// Redis: a probe read back by this node) before it answers 503.
    #[arg(long, env = "SSE_READY_TIMEOUT", value_name = "SECONDS", default_value_t = Seconds(DEFAULT_READY_TIMEOUT))]
    ready_timeout: Seconds,
    /// Log level when RUST_LOG is not set: off, error, warn, info, debug or
    /// trace. (RUST_LOG, when set, wins: `RUST_LOG=sse_hyper=debug`.)
    #[arg(long, env = "SSE_LOG", default_value = "info")]
    log_level: tracing::level_filters::LevelFilter,
    /// Log lines as text, or as JSON objects (one a line) for log shippers.
    #[arg(long, env = "SSE_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Plain text.
    Text,
    /// One JSON object a line.
    Json,
}

impl OperateArgs {
    /// Starts the logs on stderr: `RUST_LOG` if set, else the level.
    fn start_logs(&self) {
        let filter = tracing_subscriber::EnvFilter::builder()
            .with_default_directive(self.log_level.into())
            .from_env_lossy();
        let logs = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        match self.log_format {
            LogFormat::Text => logs.init(),
            LogFormat::Json => logs.json().flatten_event(true).init(),
        }
    }

    /// The operator's settings on `config`.
    fn apply(&self, config: HubConfig) -> HubConfig {
        config
            .with_metrics(!self.no_metrics)
            .with_metrics_token(self.metrics_token.clone())
            .with_separate_metrics(self.metrics_addr.is_some())
            .with_metrics_channels(self.metrics_channels.iter().map(|name| name.trim()))
            .with_ready_timeout(self.ready_timeout.0)
    }
}

/// Runs the hub until Ctrl-C or SIGTERM.
pub(crate) async fn serve(args: ServeArgs) -> Result<std::process::ExitCode, String> {
    args.operate.start_logs();
    let redis_url = args.redis.clone().filter(|url| !url.is_empty());
    // Through Redis, ids come from Redis.
    let config = PublisherConfig::new()
        .with_generate_ids(args.ids && redis_url.is_none())
        .with_id_prefix(Some(fresh_id_prefix()))
        .with_history(
            args.history,
            args.history
                .saturating_mul(args.max_event_size)
                .min(256 << 20),
        )
        .with_max_event_bytes(args.max_event_size)
        .with_queue_bytes(args.queue_size.max(args.max_event_size * 2))
        .with_max_subscribers(args.max_connections)
        .with_lag_retry(Some(Duration::from_millis(args.retry)));
    let publisher: Publisher<ClientInfo> =
        Publisher::with_config(config).map_err(|error| format!("configuration: {error}"))?;
    let jwt = match (args.jwt_secret, &args.jwt_key) {
        (Some(secret), _) => Some(JwtKey::hs256(secret.as_bytes())),
        (None, Some(path)) => {
            let pem = std::fs::read(path)
                .map_err(|error| format!("--jwt-key {}: {error}", path.display()))?;
            Some(
                JwtKey::from_public_pem(&pem)
                    .map_err(|error| format!("--jwt-key {}: {error}", path.display()))?,
            )
        }
        (None, None) => None,
    };
    let hub_config = HubConfig::new()
        .with_jwt(jwt)
        .with_publish_token(args.publish_token)
        .with_subscribe_token(args.subscribe_token)
        .with_json_data(args.json)
        .with_cors_origins(args.cors_origins)
        .with_keep_alive((args.keepalive > 0).then(|| Duration::from_secs(args.keepalive)))
        .with_retry(Duration::from_millis(args.retry));
    let (hub_config, tls) = args.limits.apply(hub_config)?;
    let hub_config = args.operate.apply(hub_config);
    let hub = match (redis_url, args.data) {
        (None, None) => Hub::new(publisher, hub_config),
        // Reads the stored events back before serving (blocking, once).
        (None, Some(dir)) => {
            let durable = DurablePublisher::open(&dir, config)
                .map_err(|error| format!("--data {}: {error}", dir.display()))?;
            Hub::new(durable, hub_config)
        }
        (Some(url), _) => {
            let config = RedisConfig::new(url)
                .with_prefix(args.redis_prefix)
                .with_retention(args.redis_retention);
            let url = config.url_redacted();
            let redis = RedisPublisher::connect(publisher, config)
                .await
                .map_err(|error| format!("cannot use Redis at {url}: {error}"))?;
            Hub::new(redis, hub_config)
        }
    };

    let address = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    let local = listener
        .local_addr()
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    let operator = match &args.operate.metrics_addr {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|error| format!("cannot listen on {address} (--metrics-addr): {error}"))?;
            let local = listener
                .local_addr()
                .map_err(|error| format!("cannot listen on {address}: {error}"))?;
            Some((listener, local))
        }
        None => None,
    };
    // The line scripts and tests wait for.
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("sse: listening on {scheme}://{local}");
    tracing::info!(
        %local,
        backend = hub.backend().health().kind,
        ids = hub.publisher().config().generate_ids(),
        json = args.json,
        metrics = !args.operate.no_metrics,
        "hub started; the chat page is at /"
    );
    // One signal stops both servers.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stopped| *stopped).await;
    };
    let stopping = until_stopped(stopped.clone());
    let serving = async {
        match tls {
            None => hub.serve(listener, TokioExecutor::new(), stopping).await,
            Some(tls) => {
                hub.serve_tls(listener, tls, TokioExecutor::new(), stopping)
                    .await
            }
        }
    };
    let served = match operator {
        None => serving.await,
        Some((listener, address)) => {
            // Logged, not printed: whoever waits for the first line of
            // stdout may have closed it since.
            tracing::info!(%address, "metrics, the status page and the probes are on their own address");
            let operating =
                hub.serve_metrics(listener, TokioExecutor::new(), until_stopped(stopped));
            let (served, operated) = tokio::join!(serving, operating);
            served.and(operated)
        }
    };
    served.map_err(|error| format!("server error: {error}"))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
