//! The hub: the routes of `sse serve` as a library (feature `hub`).
//!
//! A [`Hub`] serves one [`Backend`] (a [`Publisher`] in memory, or a layer
//! over one such as `sse-tokio`'s Redis fan-out) over HTTP:
//!
//! | route | what it does |
//! |---|---|
//! | `GET /` | the chat page (plain HTML and JavaScript; [`HubConfig::with_chat_page`]) |
//! | `GET /events?channel=a&channel=b` | the event stream (the default channel when none is named), resuming from `Last-Event-ID` or `?lastEventId=` |
//! | `POST /publish` | one event, as JSON (`{"channel" \| "channels", "event", "id", "data"}`) or a plain body with `?channel=&event=&id=`; answers `{"id", "subscribers"}` |
//! | `GET /channels/{name}/subscribers` | who is listening on this node |
//! | `POST /channels/{name}/close` | ends that channel's streams with the [close event](sse_proto::publisher::close_event) |
//! | `GET /health` | counters and the back end's state (`503` while it cannot serve) |
//! | `GET /live` | `200` while the process serves (a liveness probe) |
//! | `GET /ready` | `200` when the hub can serve, else `503` with the reasons: the back end proves delivery ([`Backend::ready`]: through Redis, a probe read back by this node's reader) within [`HubConfig::with_ready_timeout`] |
//! | `GET /metrics` | every figure in the Prometheus text format ([`HubConfig::with_metrics_token`]) |
//! | `GET /status` | a page of live figures (plain HTML and JavaScript), fed by `GET /status/events`, an event stream of the hub's own |
//!
//! With tokens ([`HubConfig::with_publish_token`],
//! [`HubConfig::with_subscribe_token`]) and CORS origins (tower-http's
//! layer). Mount [`Hub::router`] in an axum application, under any prefix
//! (`Router::new().nest("/hub", hub.router())`), or serve it alone with
//! [`Hub::serve`], which also ends every stream with a `retry:` hint when
//! told to stop.
//!
//! # Operating it
//!
//! The figures are read at each scrape from where they are kept (the
//! server's connection counters, the publisher's [`Stats`](sse_proto::publisher::Stats),
//! the streams' writers, the hub's own counts of refusals and publishes,
//! the back end's health) and written by `prometheus-client`, the
//! Prometheus project's own client, which needs no global state (unlike
//! `metrics` and its exporter, which install a process-wide recorder: not
//! for a library mounted in someone else's application). Names start with
//! `sse_` and follow Prometheus' rules (`_total` counters, bytes, seconds);
//! labels come from small fixed sets, and a channel's name only for the
//! channels the operator lists ([`HubConfig::with_metrics_channels`]). The
//! list is in sse-tokio's README, "Operating the hub". An application with
//! its own registry adds them with [`Hub::register_metrics`]; one that
//! serves them apart uses [`HubConfig::with_separate_metrics`] and
//! [`Hub::metrics_router`] or [`Hub::serve_metrics`].
//!
//! Publish-to-write latency: the hub is its publisher's
//! [publish observer](Publisher::set_publish_observer) and notes the
//! instant of each position in a ring of recent publishes; each stream's
//! writer (the lean path's and the hyper body) looks up the position of the
//! event it takes ([`Subscription::last_position`](sse_proto::publisher::Subscription::last_position))
//! and adds the time since to a histogram of atomic buckets. Without
//! metrics ([`HubConfig::with_metrics`]) nothing is timed or counted per
//! event; with them an event costs a clock read, three atomic loads and two
//! atomic adds.
//!
//! Logs (`tracing`): streams opened and ended with the reason and duration
//! (debug), refused requests (info for tokens, origins and limits, warn
//! when the back end is unavailable, debug otherwise), dropped subscribers
//! (info), readiness failures (warn). No token or query string is logged.
//!
//! The hub is runtime-neutral: the runtime `R` times the streams'
//! keep-alive and, for [`Hub::serve`], accepts connections. The adapters
//! name it with their runtime filled in (`sse_tokio::hub::Hub`,
//! `sse_smol::hub::Hub`).
//!
//! ```no_run
//! use sse_hyper::hub::{ClientInfo, Hub, HubConfig};
//! use sse_proto::publisher::Publisher;
//! use sse_tokio::TokioRuntime;
//!
//! # async fn run() -> std::io::Result<()> {
//! let publisher: Publisher<ClientInfo> = Publisher::new();
//! let config = HubConfig::new().with_publish_token(Some("s3cret".into()));
//! // On tokio: what `sse_tokio::hub::Hub` names.
//! let hub: Hub<TokioRuntime> = Hub::new(publisher, config);
//! // Inside an axum application, under /hub:
//! let app: axum::Router = axum::Router::new().nest("/hub", hub.router());
//! # drop(app);
//! # Ok(())
//! # }
//! ```

mod auth;
mod client;
mod config;
mod cors;
mod jwt;
mod metrics;
mod ops;
mod publish;
mod rate;
mod ready;
mod routes;
mod status;

use core::fmt;
use core::marker::PhantomData;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use axum::Router;
use axum::routing::{get, post};
use http::StatusCode;
use http::header::USER_AGENT;
use http::request::Parts;
use hyper::rt::Executor;
use hyper_util::service::TowerToHyperService;
use sse_proto::Frame;
use sse_proto::publisher::Publisher;

use crate::rt::{Runtime, Serve};
use crate::server::{Backend, ConnectionTask, Events, Refusal, ServeStats, Server, StreamRoute};

pub use config::{
    DEFAULT_BODY_OVERHEAD, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_STREAMS_PER_CLIENT,
    DEFAULT_READY_TIMEOUT, DEFAULT_STATUS_INTERVAL, HubConfig,
};
pub use jwt::{JwtKey, JwtKeyError};

/// What the hub keeps about each subscriber: its properties in the
/// publisher, listed by `GET /channels/{name}/subscribers`.
#[derive(Clone, Debug)]
pub struct ClientInfo {
    remote: Option<SocketAddr>,
    client_ip: Option<IpAddr>,
    connected_at: SystemTime,
    user_agent: Option<String>,
    channels: Vec<String>,
    /// The client address's stream slot, given back with the last clone.
    slot: Option<Arc<client::StreamSlot>>,
}

impl ClientInfo {
    /// What a request head says about its client: the socket's address
    /// (from [`ClientAddr`](crate::server::ClientAddr), set by
    /// [`serve`](crate::server::serve), or with the `axum-connect-info`
    /// feature axum's `ConnectInfo<SocketAddr>`), the `User-Agent`, and the
    /// channels it subscribes to.
    pub fn from_parts(parts: &Parts, channels: Vec<String>) -> Self {
        let remote = client::socket_addr(parts);
        Self {
            remote,
            client_ip: remote.map(|address| address.ip()),
            connected_at: SystemTime::now(),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            channels,
            slot: None,
        }
    }

    /// The address of the socket the client came on, when the server said
    /// it (a proxy's, behind one).
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// The client's address: the socket's, or behind a trusted proxy the
    /// one it forwarded.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// When it subscribed.
    pub fn connected_at(&self) -> SystemTime {
        self.connected_at
    }

    /// Its `User-Agent`.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The channels it listens to.
    pub fn channels(&self) -> &[String] {
        &self.channels
    }
}

/// What the handlers share.
struct Shared {
    backend: Arc<dyn Backend<ClientInfo>>,
    config: HubConfig,
    access: auth::Access,
    streams: Arc<client::Streams>,
    rate: Option<rate::RateLimit>,
    /// What [`Hub::serve`] counts, once it serves.
    served: OnceLock<Arc<ServeStats>>,
    /// What the hub counts itself, and its streams' watch.
    ops: ops::Ops,
    /// The samples of the status page's chart.
    samples: status::Samples,
}

impl Shared {
    /// The client address of a request.
    fn client_ip(&self, parts: &Parts) -> Option<IpAddr> {
        client::client_ip(parts, self.config.trusted_proxies())
    }

    /// What the access hook does: checks the subscribe token, gives the
    /// client one of its address's stream slots, and says who it is.
    fn admit(&self, parts: &Parts, channels: &[String]) -> Result<ClientInfo, Refusal> {
        let names: Vec<&str> = channels.iter().map(String::as_str).collect();
        self.access
            .check(parts, auth::Action::Subscribe)?
            .allow(&names)?;
        let mut info = ClientInfo::from_parts(parts, channels.to_vec());
        info.client_ip = self.client_ip(parts);
        if let Some(ip) = info.client_ip {
            let slot = self.streams.take(ip).ok_or_else(|| {
                Refusal::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "this client address holds {} streams, the limit",
                        self.config.max_streams_per_client()
                    ),
                )
            })?;
            info.slot = Some(Arc::new(slot));
        }
        Ok(info)
    }

    fn publisher(&self) -> &Publisher<ClientInfo> {
        self.backend.publisher()
    }

    /// The largest publish body: the largest event and room for the JSON
    /// around it.
    fn body_limit(&self) -> usize {
        self.publisher()
            .config()
            .max_event_bytes()
            .saturating_add(DEFAULT_BODY_OVERHEAD)
    }
}

/// The hub: see the [module](self). Cheap to clone.
pub struct Hub<R> {
    shared: Arc<Shared>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Clone for Hub<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            runtime: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Hub<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("backend", &self.shared.backend.health().kind)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The hub as a hyper service: [`Hub::service`].
pub type HubService = TowerToHyperService<Router>;

impl<R: Runtime> Hub<R> {
    /// A hub over `backend` (a [`Publisher<ClientInfo>`], or a layer over
    /// one), as `config` allows.
    ///
    /// With metrics on ([`HubConfig::with_metrics`]), the hub becomes its
    /// publisher's [publish observer](Publisher::set_publish_observer), to
    /// time each event from its publish to its write.
    pub fn new(backend: impl Backend<ClientInfo>, config: HubConfig) -> Self {
        let ops = ops::Ops::new(config.metrics_channels(), config.metrics());
        if let Some(latency) = ops
            .watch
            .latency()
            .is_some()
            .then(|| Arc::clone(&ops.watch))
        {
            backend
                .publisher()
                .set_publish_observer(Some(Arc::new(move |position| {
                    if let Some(latency) = latency.latency() {
                        latency.stamp(position);
                    }
                })));
        }
        Self {
            shared: Arc::new(Shared {
                backend: Arc::new(backend),
                access: auth::Access::new(&config),
                streams: client::Streams::new(config.max_streams_per_client()),
                rate: config.publish_rate().map(rate::RateLimit::new),
                config,
                served: OnceLock::new(),
                ops,
                samples: status::Samples::default(),
            }),
            runtime: PhantomData,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.shared.config
    }

    /// The back end.
    pub fn backend(&self) -> &Arc<dyn Backend<ClientInfo>> {
        &self.shared.backend
    }

    /// The back end's local publisher: its subscribers and statistics.
    pub fn publisher(&self) -> &Publisher<ClientInfo> {
        self.shared.publisher()
    }

    /// The routes, to serve or to mount in an axum application (under any
    /// prefix: the chat page's URLs are relative): the stream, publish,
    /// channels, the chat page, `/health`, `/live`, `/ready`, and unless
    /// metrics are off or [apart](HubConfig::with_separate_metrics)
    /// `/metrics`, `/status` and `/status/events`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let shared = &self.shared;
        let config = &shared.config;
        let events = self.events();
        let mut router = Router::new();
        if config.chat_page() {
            router = router.route("/", get(routes::chat_page));
        }
        let router = router
            .route("/publish", post(routes::publish::<R>))
            .route("/channels/{name}/subscribers", get(routes::subscribers))
            .route("/channels/{name}/close", post(routes::close_channel))
            .with_state(Arc::clone(shared))
            .merge(events.router())
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(axum::middleware::from_fn(routes::framing));
        let mut operate = self.probes();
        if config.metrics() && !config.separate_metrics() {
            operate = operate.merge(self.metrics_routes());
        }
        // Outermost, so that it also sees the CORS layer's refusals.
        cors::layer(router.merge(operate), config.cors_origins()).layer(
            axum::middleware::from_fn_with_state(Arc::clone(shared), ops::count_refusals),
        )
    }

    /// `/health`, `/live` and `/ready`.
    fn probes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/health", get(routes::health))
            .route("/live", get(ready::live))
            .route("/ready", get(ready::ready::<R>))
            .with_state(Arc::clone(&self.shared))
    }

    /// `/metrics`, `/status` and `/status/events`.
    fn metrics_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/metrics", get(metrics::handler))
            .route("/status", get(status::page))
            .route("/status/events", get(status::events::<R>))
            .with_state(Arc::clone(&self.shared))
    }

    /// What an operator reads, to serve apart from the hub's other routes
    /// ([`HubConfig::with_separate_metrics`]): `/metrics`, `/status`,
    /// `/status/events`, and the probes `/health`, `/live` and `/ready`.
    /// Without metrics ([`HubConfig::with_metrics`]), only the probes.
    pub fn metrics_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let probes = self.probes();
        if self.shared.config.metrics() {
            probes.merge(self.metrics_routes())
        } else {
            probes
        }
    }

    /// Every figure `/metrics` serves, as Prometheus text: OpenMetrics when
    /// `openmetrics`, else the classic format (0.0.4). Empty without
    /// metrics.
    pub fn metrics_text(&self, openmetrics: bool) -> String {
        if !self.shared.config.metrics() {
            return String::new();
        }
        metrics::text(&self.shared, openmetrics)
    }

    /// Adds the hub's figures to an application's own `prometheus-client`
    /// registry (read at each scrape), for an application that serves its
    /// own `/metrics`. The names all start with `sse_`.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register_collector(Box::new(metrics::Live(Arc::clone(&self.shared))));
    }

    /// The stream endpoint, with the hub's access rules.
    fn events(&self) -> Events<ClientInfo, R> {
        let access = Arc::clone(&self.shared);
        Events::<ClientInfo, R>::with_access(
            Arc::clone(&self.shared.backend),
            move |parts: &Parts, channels: &[String]| access.admit(parts, channels),
        )
        .keep_alive(self.shared.config.keep_alive())
        .retry(Some(self.shared.config.retry()))
        .with_watch(Arc::clone(&self.shared.ops.watch))
    }

    /// The hub as a hyper service (for [`serve`](crate::server::serve) or
    /// hyper's own connection builders).
    pub fn service(&self) -> HubService {
        TowerToHyperService::new(self.router())
    }

    /// Ends every stream with a `retry:` hint of the configured
    /// reconnection time, and refuses new ones: how a hub stops. Clients
    /// come back to another node, or to this one once it has restarted.
    pub fn close(&self) {
        let retry = Frame::retry(self.shared.config.retry());
        // Only fails if the publisher was closed already: nothing to end.
        let _ = self.publisher().close_with(Some(retry));
    }
}

impl<R: Serve> Hub<R> {
    /// Serves the hub alone on `listener` until `shutdown` resolves, each
    /// connection a task of `executor`, under the connection rules of
    /// [`HubConfig::serve`] (head and idle timeouts, head caps, the pending
    /// caps, the write timeout; see [`server::serve`](crate::server)), with
    /// plain same-origin `GET /events` streams on the server's lean path;
    /// then it [closes](Self::close) every stream, lets requests in flight
    /// finish within the shutdown timeout, and returns.
    pub async fn serve<E>(
        &self,
        listener: R::Listener,
        executor: E,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()>
    where
        E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
    {
        let server = self.server();
        let streams = self.streams();
        server
            .serve_with_streams::<R, _, _, _>(
                listener,
                self.service(),
                Some(streams),
                executor,
                self.closing(shutdown),
            )
            .await
    }

    /// The server of [`serve`](Self::serve), whose figures `/health`
    /// reports.
    fn server(&self) -> Server {
        let mut rules = self.shared.config.serve().clone();
        if rules.trusted_proxies().is_empty() {
            rules =
                rules.with_trusted_proxies(self.shared.config.trusted_proxies().iter().copied());
        }
        let server = Server::new(rules);
        // The first serve's figures are the ones /health reports.
        let _ = self.shared.served.set(Arc::clone(server.stats()));
        server
    }

    /// Serves [`metrics_router`](Self::metrics_router) alone on `listener`
    /// (an address only operators reach) until `shutdown` resolves, under
    /// the same connection rules as [`serve`](Self::serve). Its status
    /// streams end when the hub closes.
    pub async fn serve_metrics<E>(
        &self,
        listener: R::Listener,
        executor: E,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()>
    where
        E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
    {
        let service = TowerToHyperService::new(self.metrics_router::<()>());
        Server::new(self.shared.config.serve().clone())
            .serve::<R, _, _, _>(listener, service, executor, shutdown)
            .await
    }

    /// The stream route of the server's lean path, counted as the hub's
    /// own streams are.
    fn streams(&self) -> Arc<dyn StreamRoute<R>> {
        Arc::new(ops::Streams {
            events: self.events(),
            shared: Arc::clone(&self.shared),
        })
    }

    /// `shutdown`, then every stream closed with a retry hint.
    fn closing(&self, shutdown: impl Future<Output = ()>) -> impl Future<Output = ()> {
        let hub = self.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: ending every stream with a retry hint");
            hub.close();
        }
    }
}

#[cfg(feature = "rustls")]
impl<R: crate::rt::ServeTls> Hub<R> {
    /// [`serve`](Self::serve) over TLS (feature `rustls`): HTTPS, with
    /// HTTP/2 for clients that choose it by ALPN (a browser holds at most
    /// six HTTP/1.1 connections per origin; over HTTP/2 its tabs share
    /// one). Build `tls` with
    /// [`server::tls_config`](crate::server::tls_config).
    pub async fn serve_tls<E>(
        &self,
        listener: R::Listener,
        tls: Arc<rustls::ServerConfig>,
        executor: E,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()>
    where
        E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
    {
        let server = self.server();
        let streams = self.streams();
        server
            .serve_tls_with_streams::<R, _, _, _>(
                listener,
                tls,
                self.service(),
                Some(streams),
                executor,
                self.closing(shutdown),
            )
            .await
    }
}
