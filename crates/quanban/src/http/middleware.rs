//! The layers every request goes through: request id, one tracing span per request keyed by the
//! matched route, metrics, compression, security headers, body size limit, panic catcher.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ApiError;
use crate::app::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOnly {
    pub route: String,
}

/// The process's Prometheus metrics.
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub duration: Family<RouteOnly, Histogram>,
    pub in_flight: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("quanban");
        let requests = Family::<RouteLabels, Counter>::default();
        let duration = Family::<RouteOnly, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
        });
        let in_flight = Gauge::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", duration.clone());
        registry.register("http_requests_in_flight", "HTTP requests being handled", in_flight.clone());
        Metrics { registry, requests, duration, in_flight }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[derive(Clone, Default)]
struct Sequential(std::sync::Arc<AtomicU64>);

impl MakeRequestId for Sequential {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:x}-{n:x}", std::process::id());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Records metrics and the per-request span.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let span =
        tracing::info_span!("request", http.method = %method, http.route = %route, request.id = %request_id);
    let metrics = state.metrics.clone();
    metrics.in_flight.inc();
    let response = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    metrics.in_flight.dec();
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    metrics.requests.get_or_create(&RouteLabels { method, route: route.clone(), status }).inc();
    metrics.duration.get_or_create(&RouteOnly { route }).observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::debug!(http.status = status, duration_ms = elapsed.as_secs_f64() * 1000.0, "answered");
    });
    response
}

/// Paths that take material files get room for a 10 MB file (Base64-inflated when inline in
/// JSON); everything else keeps the small general limit.
fn body_limit_for(path: &str, general: usize) -> usize {
    let uploads = path == "/api/v1/uploads"
        || path == "/api/v1/cases"
        || (path.starts_with("/api/v1/cases/") && path.ends_with("/actions/resubmit"))
        || (path.starts_with("/drafts/") && path.ends_with("/materials"))
        || (path.starts_with("/cases/") && path.ends_with("/actions"));
    // The complaint form (我要反映) carries up to six photos of up to 10 MB each.
    let complaint_photos = path == "/complaints";
    let file = crate::platform::uploads::MAX_UPLOAD_BYTES;
    if complaint_photos {
        general.max(6 * file + 1024 * 1024)
    } else if uploads {
        general.max(file * 14 / 10 + 256 * 1024)
    } else {
        general
    }
}

/// Caps the request body per path (see [`body_limit_for`]); a declared length over the cap is
/// refused before the body is read, a streamed one when it crosses the cap.
async fn limit_body(State(general): State<usize>, req: Request, next: Next) -> Response {
    let limit = body_limit_for(req.uri().path(), general);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return ApiError::PayloadTooLarge.into_response();
    }
    let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// Refuses control characters in query strings, JSON bodies and form bodies (see
/// [`super::text`]) with a 422 naming the fields, before any handler runs.
async fn refuse_control_characters(req: Request, next: Next) -> Response {
    use super::text;
    if let Some(query) = req.uri().query()
        && let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
    {
        let fields = text::pairs_with_control(&pairs);
        if !fields.is_empty() {
            return text::refusal(fields).into_response();
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_json = content_type == "application/json" || content_type.ends_with("+json");
    let is_form = content_type == "application/x-www-form-urlencoded";
    if !(is_json || is_form) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // The body is already capped by `limit_body` (outside this layer).
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let fields = if is_json {
        if text::json_may_hold_control(&bytes) {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map(|v| text::json_fields_with_control(&v))
                .unwrap_or_default()
        } else {
            Vec::new()
        }
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(|pairs| text::pairs_with_control(&pairs))
            .unwrap_or_default()
    };
    if !fields.is_empty() {
        return text::refusal(fields).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Responses to a signed-in caller (a session cookie or a bearer token) may carry personal data:
/// no cache, shared or private, keeps them unless the handler chose otherwise. With an `https`
/// public address, browsers are told to use nothing else (HSTS).
async fn privacy_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    let signed_in = req.headers().contains_key(header::AUTHORIZATION)
        || req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.contains(crate::identity::session::SESSION_COOKIE));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if signed_in && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Turns a body-limit rejection and the router's method refusal (which arrive as a bare 413 and
/// 405) into problem-details answers; the 405 keeps its `Allow` header.
async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let bare = response.headers().get(header::CONTENT_TYPE).is_none();
    if bare && response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge.into_response();
    }
    if bare && response.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        let mut problem = ApiError::MethodNotAllowed.into_response();
        if let Some(allow) = response.headers().get(header::ALLOW) {
            problem.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return problem;
    }
    response
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// Wraps `router` in the whole stack (the last layer added is the outermost).
pub fn apply(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
               form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    router
        // Our per-path cap (`limit_body`) is the one limit; axum's own 2 MB default for extractors
        // would otherwise cut material files short.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(refuse_control_characters))
        .layer(axum::middleware::from_fn_with_state(state.config.max_body_bytes, limit_body))
        .layer(axum::middleware::from_fn(problem_for_bare_errors))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.public_url.starts_with("https://"),
            privacy_headers,
        ))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, Sequential::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_complaint_form_takes_six_full_size_photos() {
        let general = 1024 * 1024;
        let six = 6 * crate::platform::uploads::MAX_UPLOAD_BYTES;
        assert!(body_limit_for("/complaints", general) > six);
        assert_eq!(body_limit_for("/complaints/desk/intake", general), general);
        assert_eq!(body_limit_for("/api/v1/me", general), general);
        assert!(body_limit_for("/api/v1/uploads", general) > crate::platform::uploads::MAX_UPLOAD_BYTES);
    }
}
