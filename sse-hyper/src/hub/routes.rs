//! The hub's handlers: each translates a request into one call on the back
//! end or its publisher, and the answer back into a response.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode, Uri};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use sse_proto::publisher::{ChannelList, close_event};

use super::auth::{self, Action};
use super::ops::Outcome;
use super::publish::Publication;
use super::{ClientInfo, Shared};
use crate::rt::Runtime;
use crate::server::{BackendHealth, Refusal, channel_refusal};

/// The chat page: plain HTML and JavaScript, no build step; its URLs are
/// relative, so the hub works under any prefix.
const CHAT_PAGE: &str = include_str!("chat.html");

/// What a closed channel's subscribers are told.
const CLOSED_BY_THE_HUB: &str = "closed by the hub";

pub(super) fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Milliseconds since the Unix epoch.
fn epoch_ms(time: std::time::SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    })
}

/// `400` and the connection closed for a request framed by both
/// `Content-Length` and `Transfer-Encoding` (RFC 9112, section 6.3), where
/// the server in front lets such a request through: its body cannot be
/// trusted, so nothing of it is ever published.
pub(super) async fn framing(request: Request, next: axum::middleware::Next) -> Response {
    let headers = request.headers();
    if headers.contains_key(http::header::CONTENT_LENGTH)
        && headers.contains_key(http::header::TRANSFER_ENCODING)
    {
        return Refusal::bad_request("Content-Length together with Transfer-Encoding")
            .header(http::header::CONNECTION, HeaderValue::from_static("close"))
            .into_response();
    }
    next.run(request).await
}

pub(super) async fn chat_page() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        CHAT_PAGE,
    )
        .into_response()
}

pub(super) async fn not_found(method: Method, uri: Uri) -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        format!("no such route: {method} {}", uri.path()),
    )
}

pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> Refusal {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// Reads a request body of at most `limit` bytes within `timeout`: `413`
/// over the limit, `408` too slow, `400` when the body cannot be read (a
/// malformed or truncated chunked body, say).
async fn read_body<R: Runtime>(
    body: Body,
    limit: usize,
    timeout: core::time::Duration,
) -> Result<bytes::Bytes, Refusal> {
    let mut collect = core::pin::pin!(Limited::new(body, limit).collect());
    let mut deadline = R::sleep_until(crate::server::after(R::now(), timeout));
    let collected = core::future::poll_fn(|cx| {
        if let core::task::Poll::Ready(collected) = collect.as_mut().poll(cx) {
            return core::task::Poll::Ready(Some(collected));
        }
        core::pin::Pin::new(&mut deadline).poll(cx).map(|_| None)
    })
    .await;
    let Some(collected) = collected else {
        return Err(Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the body did not arrive within {timeout:?}"),
        ));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {limit} bytes"),
        )),
        Err(error) => Err(Refusal::bad_request(format!(
            "the body could not be read: {error}"
        ))),
    }
}

pub(super) async fn publish<R: Runtime>(
    State(hub): State<Arc<Shared>>,
    request: Request,
) -> Response {
    match try_publish::<R>(&hub, request).await {
        Ok(response) => response,
        Err(refusal) => {
            let outcome = if refusal.status() == StatusCode::SERVICE_UNAVAILABLE {
                Outcome::Unavailable
            } else {
                Outcome::Refused
            };
            hub.ops.published(outcome, &[]);
            refusal.into_response()
        }
    }
}

/// `429` once a publisher has used its rate: by its token (a signed
/// token's subject), or its address where publishing takes none.
fn check_rate<R: Runtime>(
    hub: &Shared,
    parts: &http::request::Parts,
    grant: &auth::Grant,
) -> Result<(), Refusal> {
    let Some(rate) = &hub.rate else {
        return Ok(());
    };
    let key = match (&grant.key, auth::bearer(parts), hub.client_ip(parts)) {
        (Some(key), _, _) => key.as_bytes().to_vec(),
        (None, Some(token), _) => token.as_bytes().to_vec(),
        (None, None, Some(ip)) => ip.to_string().into_bytes(),
        (None, None, None) => Vec::new(),
    };
    rate.take(&key, R::now()).map_err(|wait| {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many publishes: slow down",
        )
        .header(RETRY_AFTER, HeaderValue::from(seconds.max(1)))
    })
}

async fn try_publish<R: Runtime>(hub: &Shared, request: Request) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    let grant = hub.access.check(&parts, Action::Publish)?;
    check_rate::<R>(hub, &parts, &grant)?;
    let body = read_body::<R>(body, hub.body_limit(), hub.config.body_timeout()).await?;
    let publication = Publication::read(&parts, &body)?;
    if hub.config.json_data() {
        publication.check_json()?;
    }
    let channels = publication.channels(hub.publisher().config().max_channels())?;
    grant.allow(channels.as_slice())?;
    let event = publication.event()?;
    let reply = hub.backend.publish(event, &channels).await?;
    hub.ops.published(Outcome::Ok, channels.as_slice());
    tracing::debug!(channels = ?channels.as_slice(), id = ?reply.id, reached = reply.subscribers, "published");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "id": reply.id, "subscribers": reply.subscribers }),
    ))
}

/// One channel named in the path, checked by the core's rule.
fn path_channel(name: &str) -> Result<ChannelList<'_>, Refusal> {
    ChannelList::parse([name], 1).map_err(|error| channel_refusal(&[name], error))
}

pub(super) async fn subscribers(
    State(hub): State<Arc<Shared>>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, Refusal> {
    let (parts, _) = request.into_parts();
    let channel = path_channel(&name)?;
    // Either side may list: those who may subscribe to the channel, and
    // those who may publish to it.
    let subscriber = hub
        .access
        .check(&parts, Action::Subscribe)
        .and_then(|grant| grant.allow(channel.as_slice()));
    if subscriber.is_err() {
        hub.access
            .check(&parts, Action::Publish)?
            .allow(channel.as_slice())?;
    }
    let list = hub
        .publisher()
        .subscribers(&channel)
        .map_err(|error| channel_refusal(&[&name], error))?;
    let subscribers: Vec<Value> = list
        .iter()
        .map(|subscriber| {
            let info: &ClientInfo = subscriber.properties();
            json!({
                "id": subscriber.id().get(),
                "remote": info.remote().map(|address| address.to_string()),
                "client": info.client_ip().map(|ip| ip.to_string()),
                "connectedAt": epoch_ms(info.connected_at()),
                "userAgent": info.user_agent(),
                "channels": info.channels(),
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "channel": name, "subscribers": subscribers }),
    ))
}

pub(super) async fn close_channel(
    State(hub): State<Arc<Shared>>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, Refusal> {
    let (parts, _) = request.into_parts();
    let grant = hub.access.check(&parts, Action::Publish)?;
    let channel = path_channel(&name)?;
    grant.allow(channel.as_slice())?;
    let closed = hub
        .backend
        .close(&channel, close_event(CLOSED_BY_THE_HUB))
        .await?;
    tracing::info!(channel = %name, closed, "channel closed");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "channel": name, "closed": closed }),
    ))
}

pub(super) async fn health(State(hub): State<Arc<Shared>>) -> Response {
    let stats = hub.publisher().stats();
    let BackendHealth { kind, up, link, .. } = hub.backend.health();
    let mut body = json!({
        "status": if up { "ok".to_owned() } else { format!("{kind} down") },
        "backend": kind,
        "subscribers": stats.subscribers,
        "published": stats.published,
        "delivered": stats.delivered,
        "dropped": stats.dropped,
        "lagDisconnects": stats.lag_disconnects,
        "historyEvents": stats.history_events,
    });
    if let Some(served) = hub.served.get() {
        let counts = served.counts();
        body["connections"] = json!({
            "open": counts.open,
            "pending": counts.pending,
            "accepted": counts.accepted,
            "refusedPending": counts.refused_pending,
            "refusedClient": counts.refused_client,
            "headTimeouts": counts.head_timeouts,
            "badHeads": counts.bad_heads,
            "writeTimeouts": counts.write_timeouts,
        });
    }
    if let Some(link) = link {
        body[kind] = json!({
            "link": if link.up { "up" } else { "down" },
            "since": epoch_ms(link.since),
            "lastError": link.last_error,
            "cursor": link.cursor,
        });
    }
    // Load balancers and probes take this node out while it cannot serve.
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &body)
}
