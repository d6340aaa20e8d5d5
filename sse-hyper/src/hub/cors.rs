//! CORS: tower-http's layer does the headers; the hub adds its own answer
//! to preflights (`204`, or `403` for an origin not on the list, so that a
//! misconfigured page gets a clear refusal rather than a silent one).

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::header::{
    ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, ORIGIN,
};
use http::{Method, StatusCode};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::server::Refusal;

/// How long browsers may keep a preflight's answer, in seconds.
const MAX_AGE_SECS: u64 = 600;

/// The allow-list.
#[derive(Clone, Debug)]
struct Origins {
    any: bool,
    listed: Vec<HeaderValue>,
}

impl Origins {
    fn new(origins: &[String]) -> Self {
        Self {
            any: origins.iter().any(|origin| origin == "*"),
            listed: origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok())
                .collect(),
        }
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.any || self.listed.contains(origin)
    }
}

/// `router` with CORS for `origins` (`*`: any).
pub(super) fn layer<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    origins: &[String],
) -> Router<S> {
    let origins = Origins::new(origins);
    let mut router = router;
    if !origins.listed.is_empty() {
        let allow = if origins.any {
            // The origin echoed back, as the hub always did for `*`.
            AllowOrigin::mirror_request()
        } else {
            AllowOrigin::list(origins.listed.clone())
        };
        router = router.layer(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
                .allow_headers([
                    AUTHORIZATION,
                    CONTENT_TYPE,
                    HeaderName::from_static("last-event-id"),
                ])
                .max_age(core::time::Duration::from_secs(MAX_AGE_SECS)),
        );
    }
    // Outermost: sees the request before tower-http answers a preflight.
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let origins = origins.clone();
        preflight(origins, request, next)
    }))
}

/// `403` for a cross-origin `OPTIONS` from an origin not on the list;
/// `204 No Content` instead of tower-http's `200` for the others'
/// preflights.
async fn preflight(origins: Origins, request: Request, next: Next) -> Response {
    if request.method() != Method::OPTIONS {
        return next.run(request).await;
    }
    let Some(origin) = request.headers().get(ORIGIN).cloned() else {
        return next.run(request).await;
    };
    if !origins.allows(&origin) {
        let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        return Refusal::forbidden(format!("origin {origin} is not allowed")).into_response();
    }
    let is_preflight = request
        .headers()
        .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = next.run(request).await;
    if is_preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}
