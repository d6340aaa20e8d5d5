//! The hub's handlers: each translates a request into one call on the back
//! end or its publisher, and the answer back into a response.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode, Uri};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use sse_proto::publisher::{ChannelList, close_event};

use super::auth::{self, Action};
use super::publish::Publication;
use super::{ClientInfo, Shared};
use crate::server::{BackendHealth, Refusal, channel_refusal};

/// The chat page: plain HTML and JavaScript, no build step; its URLs are
/// relative, so the hub works under any prefix.
const CHAT_PAGE: &str = include_str!("chat.html");

/// What a closed channel's subscribers are told.
const CLOSED_BY_THE_HUB: &str = "closed by the hub";

fn json_response(status: StatusCode, value: &Value) -> Response {
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

/// Reads a request body of at most `limit` bytes: `413` over it, `400`
/// when the body cannot be read (a malformed chunked body, say).
async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, Refusal> {
    match Limited::new(body, limit).collect().await {
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

pub(super) async fn publish(State(hub): State<Arc<Shared>>, request: Request) -> Response {
    match try_publish(&hub, request).await {
        Ok(response) => response,
        Err(refusal) => {
            tracing::debug!(status = %refusal.status(), message = refusal.message(), "publish refused");
            refusal.into_response()
        }
    }
}

async fn try_publish(hub: &Shared, request: Request) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    auth::check(hub.config.publish_token(), &parts, Action::Publish)?;
    let body = read_body(body, hub.body_limit()).await?;
    let publication = Publication::read(&parts, &body)?;
    if hub.config.json_data() {
        publication.check_json()?;
    }
    let channels = publication.channels(hub.publisher().config().max_channels())?;
    let event = publication.event()?;
    let reply = hub.backend.publish(event, &channels).await?;
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
    // Either token will do: listing subscribers is for both sides.
    if auth::check(hub.config.subscribe_token(), &parts, Action::Subscribe).is_err() {
        auth::check(hub.config.publish_token(), &parts, Action::Publish)?;
    }
    let channel = path_channel(&name)?;
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
    auth::check(hub.config.publish_token(), &parts, Action::Publish)?;
    let channel = path_channel(&name)?;
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
