//! `sse serve`: a Server-Sent Events hub with a chat page.
//!
//! Routes:
//!
//! - `GET /`: the chat page.
//! - `GET /events?channel=a&channel=b`: the event stream (the default channel
//!   when none is named), resuming from `Last-Event-ID` or `?lastEventId=`.
//! - `POST /publish`: one event, as JSON (`{"channel" | "channels", "event",
//!   "id", "data"}`) or as a plain body with `?channel=&event=&id=`; answers
//!   `{"id", "subscribers"}`.
//! - `GET /channels/{name}/subscribers`: who is listening.
//! - `POST /channels/{name}/close`: end that channel's streams.
//! - `GET /health`: counters, and with `--redis` the link to Redis (`503`
//!   while it is down).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sse_tokio::proto::publisher::{
    DEFAULT_CHANNEL, PublishError, Publisher, PublisherConfig, check_channel,
};
use sse_tokio::proto::{Event, EventId, EventType, Frame};
use sse_tokio::redis::{Error as RedisError, RedisConfig, RedisPublisher};
use sse_tokio::server::{Events, Refusal};

/// The chat page: plain HTML and JavaScript, no build step.
const CHAT_PAGE: &str = include_str!("chat.html");

/// The type of the event a subscriber gets when its channel is closed from
/// the server side; the chat page stops reconnecting when it sees it.
const CLOSE_EVENT_TYPE: &str = "sse-close";

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
        default_value_t = 15
    )]
    keepalive: u64,
    /// Give every published event an id (1, 2, 3, ...), so that clients can
    /// resume with Last-Event-ID. (With --redis, events always get Redis's
    /// ids.)
    #[arg(long, env = "SSE_IDS")]
    ids: bool,
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
    /// Require `Authorization: Bearer TOKEN` to publish and close channels.
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
    /// The most streams open at once; more get 503.
    #[arg(
        long,
        env = "SSE_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 10_000
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
    #[arg(long, env = "SSE_RETRY", value_name = "MS", default_value_t = 3000)]
    retry: u64,
    /// The largest event accepted, in bytes.
    #[arg(long, env = "SSE_MAX_EVENT_SIZE", value_name = "BYTES", default_value_t = 64 * 1024)]
    max_event_size: usize,
    /// How much a slow subscriber may have queued before it is disconnected
    /// (it resumes from the history), in bytes.
    #[arg(long, env = "SSE_QUEUE_SIZE", value_name = "BYTES", default_value_t = 256 * 1024)]
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
    /// Log level: off, error, warn, info, debug or trace.
    #[arg(long, env = "SSE_LOG", default_value = "info")]
    log_level: tracing::level_filters::LevelFilter,
}

/// What the hub keeps about each subscriber.
#[derive(Clone, Debug)]
struct Peer {
    remote: Option<SocketAddr>,
    /// Milliseconds since the Unix epoch.
    connected_at: u64,
    user_agent: Option<String>,
    channels: Vec<String>,
}

/// The hub's shared state.
struct Hub {
    publisher: Publisher<Peer>,
    /// With `--redis`: publishes go through Redis.
    redis: Option<RedisPublisher<Peer>>,
    publish_token: Option<String>,
    subscribe_token: Option<String>,
    json: bool,
    ids: bool,
    max_event_size: usize,
    cors: Cors,
}

/// Runs the hub until Ctrl-C or SIGTERM.
pub(crate) async fn serve(args: ServeArgs) -> Result<std::process::ExitCode, String> {
    tracing_subscriber::fmt()
        .with_max_level(args.log_level)
        .with_writer(std::io::stderr)
        .init();
    // Through Redis, ids come from Redis.
    let config = PublisherConfig::new()
        .with_generate_ids(args.ids && args.redis.is_none())
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
    let publisher: Publisher<Peer> =
        Publisher::with_config(config).map_err(|error| format!("configuration: {error}"))?;
    let redis = match args.redis.filter(|url| !url.is_empty()) {
        None => None,
        Some(url) => {
            let config = RedisConfig::new(url)
                .prefix(args.redis_prefix)
                .retention(args.redis_retention);
            let url = config.url_redacted();
            let redis = RedisPublisher::connect(publisher.clone(), config)
                .await
                .map_err(|error| format!("cannot use Redis at {url}: {error}"))?;
            Some(redis)
        }
    };
    let hub = Arc::new(Hub {
        publisher: publisher.clone(),
        redis,
        publish_token: args.publish_token.filter(|t| !t.is_empty()),
        subscribe_token: args.subscribe_token.filter(|t| !t.is_empty()),
        json: args.json,
        ids: args.ids,
        max_event_size: args.max_event_size,
        cors: Cors::new(args.cors_origins),
    });
    let app = router(Arc::clone(&hub), args.keepalive, args.retry);

    let address = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    let local = listener
        .local_addr()
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    // The line scripts and tests wait for.
    println!("sse: listening on http://{local}");
    tracing::info!(
        %local,
        ids = args.ids || hub.redis.is_some(),
        redis = hub.redis.as_ref().map(|redis| redis.config().url_redacted()),
        json = args.json,
        "hub started; the chat page is at /"
    );

    let retry = args.retry;
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: telling subscribers to come back in {retry} ms");
        // A closed publisher ends every stream after this farewell, so the
        // connections finish and the server can stop.
        let _ = publisher.close_with(Some(Frame::Retry(retry)));
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);
    server
        .await
        .map_err(|error| format!("server error: {error}"))?;
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

fn router(hub: Arc<Hub>, keepalive: u64, retry: u64) -> Router {
    let access_hub = Arc::clone(&hub);
    let mut events = Events::with_access(hub.publisher.clone(), move |parts, channels| {
        access_hub.check_subscribe(parts)?;
        Ok(Peer {
            remote: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
            connected_at: now_ms(),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            channels: channels.to_vec(),
        })
    })
    .keep_alive((keepalive > 0).then(|| Duration::from_secs(keepalive)))
    .retry(Some(Duration::from_millis(retry)));
    if let Some(redis) = &hub.redis {
        events = events.with_source(redis.clone());
    }

    Router::new()
        .route("/", get(chat_page))
        .route("/publish", post(publish))
        .route("/channels/{name}/subscribers", get(subscribers))
        .route("/channels/{name}/close", post(close_channel))
        .route("/health", get(health))
        .merge(events.router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&hub), cors))
        .with_state(hub)
}

async fn chat_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        CHAT_PAGE,
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no such route: {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// A short plain-text error.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json_response(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The values of a query parameter.
fn query(parts: &Parts, key: &str) -> Vec<String> {
    let query = parts.uri.query().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// The token a request presents: `Authorization: Bearer TOKEN`, or a `token`
/// query parameter (browsers' `EventSource` cannot set headers).
fn presented_token(parts: &Parts) -> Option<String> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(|token| token.trim().to_owned());
    header.or_else(|| query(parts, "token").into_iter().next())
}

/// Compares without stopping at the first difference, so that response
/// times say nothing about how much of a guess was right.
fn same_token(presented: &str, expected: &str) -> bool {
    let (a, b) = (presented.as_bytes(), expected.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    diff == 0
}

/// `401` with the challenge browsers and tools expect.
fn unauthorized(message: &str) -> Refusal {
    Refusal::unauthorized(message)
        .header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

impl Hub {
    fn check(required: Option<&str>, parts: &Parts, what: &str) -> Result<(), Refusal> {
        let Some(expected) = required else {
            return Ok(());
        };
        match presented_token(parts) {
            Some(token) if same_token(&token, expected) => Ok(()),
            Some(_) => Err(unauthorized(&format!("wrong {what} token"))),
            None => Err(unauthorized(&format!(
                "a {what} token is required (Authorization: Bearer TOKEN)"
            ))),
        }
    }

    fn check_subscribe(&self, parts: &Parts) -> Result<(), Refusal> {
        Self::check(self.subscribe_token.as_deref(), parts, "subscribe")
    }

    fn check_publish(&self, parts: &Parts) -> Result<(), Refusal> {
        Self::check(self.publish_token.as_deref(), parts, "publish")
    }

    /// Either token will do: listing subscribers is for both sides.
    fn check_any(&self, parts: &Parts) -> Result<(), Refusal> {
        if self.check_subscribe(parts).is_ok() {
            return Ok(());
        }
        self.check_publish(parts)
    }
}

/// One event to publish, from a JSON body or a plain one.
#[derive(Debug, Default)]
struct Publication {
    channels: Vec<String>,
    event: Option<String>,
    id: Option<String>,
    data: String,
}

impl Publication {
    /// Reads the request: a JSON object when the content type says JSON,
    /// else the body is the data and the query gives the rest.
    fn read(parts: &Parts, body: &[u8]) -> Result<Self, String> {
        let mut publication = Self {
            channels: query(parts, "channel"),
            event: query(parts, "event").into_iter().next(),
            id: query(parts, "id").into_iter().next(),
            data: String::new(),
        };
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            publication.data = String::from_utf8(body.to_vec())
                .map_err(|_| "the data is not UTF-8 text".to_string())?;
            return Ok(publication);
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|error| format!("the body is not JSON: {error}"))?;
        let Value::Object(mut object) = value else {
            return Err("the body must be a JSON object".into());
        };
        if let Some(key) = object.keys().find(|key| {
            !["channel", "channels", "event", "type", "id", "data"].contains(&key.as_str())
        }) {
            return Err(format!("unexpected key {key:?}"));
        }
        let text = |value: Value, name: &str| -> Result<Option<String>, String> {
            match value {
                Value::Null => Ok(None),
                Value::String(text) => Ok(Some(text)),
                _ => Err(format!("{name:?} must be a string")),
            }
        };
        if let Some(channel) = object.remove("channel") {
            publication.channels.extend(text(channel, "channel")?);
        }
        match object.remove("channels") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for channel in list {
                    publication.channels.extend(text(channel, "channels")?);
                }
            }
            Some(_) => return Err("\"channels\" must be a list of strings".into()),
        }
        for name in ["event", "type"] {
            if let Some(event) = object.remove(name) {
                publication.event = text(event, name)?.or(publication.event);
            }
        }
        if let Some(id) = object.remove("id") {
            publication.id = text(id, "id")?.or(publication.id);
        }
        publication.data = match object.remove("data") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text,
            Some(other) => other.to_string(),
        };
        Ok(publication)
    }
}

async fn publish(State(hub): State<Arc<Hub>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refusal) = hub.check_publish(&parts) {
        return refusal.into_response();
    }
    // A little room over the event size for the JSON around the data.
    let limit = hub.max_event_size.saturating_add(4096);
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {limit} bytes"),
        );
    };
    match publish_body(&hub, &parts, &body).await {
        Ok(response) => response,
        Err((status, message)) => {
            tracing::debug!(%status, %message, "publish refused");
            error(status, message)
        }
    }
}

async fn publish_body(
    hub: &Hub,
    parts: &Parts,
    body: &Bytes,
) -> Result<Response, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let publication = Publication::read(parts, body).map_err(bad)?;
    if hub.json {
        serde_json::from_str::<serde::de::IgnoredAny>(&publication.data).map_err(|error| {
            bad(format!(
                "the data is not valid JSON (this hub runs with --json): {error}"
            ))
        })?;
    }
    let mut channels = publication.channels;
    if channels.is_empty() {
        channels.push(DEFAULT_CHANNEL.to_string());
    }
    for channel in &channels {
        check_channel(channel).map_err(|error| bad(format!("channel {channel:?}: {error}")))?;
    }
    let event_type = EventType::new(publication.event.as_deref().unwrap_or_default())
        .map_err(|error| bad(format!("event: {error}")))?;
    let id = publication
        .id
        .as_deref()
        .map(EventId::new)
        .transpose()
        .map_err(|error| bad(format!("id: {error}")))?;
    let event = Event::new(&publication.data)
        .with_type(event_type)
        .with_id_opt(id);
    if let Some(redis) = &hub.redis {
        return publish_redis(hub, redis, event, &channels).await;
    }
    let published = hub
        .publisher
        .publish(event, channels.as_slice())
        .map_err(|error| {
            let status = match error {
                PublishError::EventTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                PublishError::Closed => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, error.to_string())
        })?;
    let id = match publication.id {
        Some(id) => Some(id),
        None if hub.ids => Some(published.position().get().to_string()),
        None => None,
    };
    tracing::debug!(?channels, ?id, reached = published.reached(), "published");
    Ok(json_response(&json!({
        "id": id,
        "subscribers": published.reached(),
    })))
}

/// Publishes through Redis: the id is Redis's, and `subscribers` counts this
/// node's subscribers of the channels (other nodes' are not known here).
async fn publish_redis(
    hub: &Hub,
    redis: &RedisPublisher<Peer>,
    event: Event<'_>,
    channels: &[String],
) -> Result<Response, (StatusCode, String)> {
    let id = redis.publish(event, channels).await.map_err(|error| {
        let status = match &error {
            RedisError::Publish(PublishError::EventTooLarge { .. }) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            RedisError::Publish(_) | RedisError::OwnId => StatusCode::BAD_REQUEST,
            RedisError::Redis(_) => {
                tracing::warn!(%error, "publish failed");
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match error {
            RedisError::OwnId => {
                "this hub shares events through Redis, which gives them their ids: leave the id out"
                    .to_string()
            }
            error => error.to_string(),
        };
        (status, message)
    })?;
    let here = hub
        .publisher
        .subscribers(channels)
        .map_or(0, |subscribers| subscribers.len());
    tracing::debug!(?channels, %id, "published through Redis");
    Ok(json_response(&json!({
        "id": id.to_string(),
        "subscribers": here,
    })))
}

async fn subscribers(
    State(hub): State<Arc<Hub>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = hub.check_any(&parts) {
        return refusal.into_response();
    }
    let list = match hub.publisher.subscribers(name.as_str()) {
        Ok(list) => list,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("channel {name:?}: {e}")),
    };
    let subscribers: Vec<Value> = list
        .iter()
        .map(|subscriber| {
            let peer = subscriber.properties();
            json!({
                "id": subscriber.id().get(),
                "remote": peer.remote.map(|address| address.to_string()),
                "connectedAt": peer.connected_at,
                "userAgent": peer.user_agent,
                "channels": peer.channels,
            })
        })
        .collect();
    json_response(&json!({ "channel": name, "subscribers": subscribers }))
}

async fn close_channel(
    State(hub): State<Arc<Hub>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(refusal) = hub.check_publish(&parts) {
        return refusal.into_response();
    }
    let close_type = EventType::new(CLOSE_EVENT_TYPE).unwrap_or(EventType::MESSAGE);
    let farewell = Event::new("closed by the hub").with_type(close_type);
    match hub
        .publisher
        .disconnect(name.as_str(), Some(farewell.into()))
    {
        Ok(closed) => {
            tracing::info!(channel = %name, closed, "channel closed");
            json_response(&json!({ "channel": name, "closed": closed }))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, format!("channel {name:?}: {e}")),
    }
}

async fn health(State(hub): State<Arc<Hub>>) -> Response {
    let stats = hub.publisher.stats();
    let mut body = json!({
        "status": "ok",
        "subscribers": stats.subscribers,
        "published": stats.published,
        "delivered": stats.delivered,
        "dropped": stats.dropped,
        "lagDisconnects": stats.lag_disconnects,
        "historyEvents": stats.history_events,
    });
    let Some(redis) = &hub.redis else {
        return json_response(&body);
    };
    let link = redis.health();
    let since = link.since.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    });
    body["status"] = json!(if link.up { "ok" } else { "redis down" });
    body["redis"] = json!({
        "link": if link.up { "up" } else { "down" },
        "since": since,
        "lastError": link.last_error,
        "cursor": link.cursor.to_string(),
    });
    let mut response = json_response(&body);
    if !link.up {
        // Load balancers and probes take this node out while it cannot publish.
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    response
}

/// The CORS allow-list.
#[derive(Debug)]
struct Cors {
    any: bool,
    origins: Vec<String>,
}

impl Cors {
    fn new(origins: Vec<String>) -> Self {
        let origins: Vec<String> = origins
            .into_iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_string())
            .filter(|origin| !origin.is_empty())
            .collect();
        Self {
            any: origins.iter().any(|origin| origin == "*"),
            origins,
        }
    }

    fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|allowed| allowed == origin)
    }
}

/// Answers preflights and adds `Access-Control-Allow-Origin` for allowed
/// origins; without an allow-list, browsers keep their same-origin rule.
async fn cors(State(hub): State<Arc<Hub>>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    if !hub.cors.allows(&origin) {
        if request.method() == Method::OPTIONS {
            return error(
                StatusCode::FORBIDDEN,
                format!("origin {origin} is not allowed"),
            );
        }
        // No CORS headers: the browser keeps the response from the page.
        return next.run(request).await;
    }
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, last-event-id"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}
