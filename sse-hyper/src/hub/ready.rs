//! `GET /live` and `GET /ready`: the two questions a load balancer or an
//! orchestrator asks. Live: the process answers. Ready: it can serve now,
//! proven by the back end ([`Backend::ready`](crate::server::Backend::ready):
//! through Redis, a probe event read back by this node's reader) within the
//! readiness deadline.

use std::sync::Arc;
use std::time::Instant;

use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use super::Shared;
use super::routes::json_response;
use crate::rt::Runtime;

/// `GET /live`: `200` while the process serves requests.
pub(super) async fn live() -> Response {
    json_response(StatusCode::OK, &json!({ "status": "live" }))
}

/// `GET /ready`: `200` when the hub can serve, else `503`; the body says
/// why not (`reasons`).
pub(super) async fn ready<R: Runtime>(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> Response {
    let started = Instant::now();
    let kind = shared.backend.health().kind;
    let mut reasons: Vec<String> = Vec::new();
    if shared.publisher().is_closed() {
        reasons.push("the hub is shutting down".to_owned());
    } else {
        let timeout = shared.config.ready_timeout();
        let mut probe = core::pin::pin!(shared.backend.ready());
        let mut deadline = R::sleep_until(crate::server::after(R::now(), timeout));
        let answer = core::future::poll_fn(|cx| {
            if let core::task::Poll::Ready(answer) = probe.as_mut().poll(cx) {
                return core::task::Poll::Ready(Some(answer));
            }
            core::pin::Pin::new(&mut deadline).poll(cx).map(|_| None)
        })
        .await;
        match answer {
            Some(Ok(())) => {}
            Some(Err(error)) => reasons.push(error.to_string()),
            None => reasons.push(format!(
                "the {kind} back end did not prove delivery within {timeout:?}"
            )),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if reasons.is_empty() {
        return json_response(
            StatusCode::OK,
            &json!({ "status": "ready", "backend": kind, "seconds": seconds }),
        );
    }
    tracing::warn!(backend = kind, reasons = ?reasons, "not ready");
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({ "status": "not ready", "backend": kind, "reasons": reasons, "seconds": seconds }),
    )
}
