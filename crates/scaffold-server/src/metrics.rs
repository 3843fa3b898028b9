//! Prometheus metrics at `/metrics`: request counts and latencies by method, route template and
//! status. Every label value comes from a closed set (standard methods or `other`, route
//! templates or `unmatched`, status codes), so no client can grow the number of series.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use scaffold_domain::codes;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
        });
        registry.register("scaffold_http_requests", "HTTP requests answered", requests.clone());
        registry.register("scaffold_http_request_duration_seconds", "HTTP request latency", latency.clone());
        Arc::new(Self { registry, requests, latency })
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The method as a label: one of the standard methods, or `other`. Clients choose the method
/// string freely, so it must never become a label as sent (each new label set is a new series
/// kept for the life of the process).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware that records every request. Every label comes from a closed set: the method
/// (see [`method_label`]), the matched route template (or `unmatched`) and the status code.
pub async fn record(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method()).to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    m.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
    m.latency.get_or_create(&RouteLabels { method, route }).observe(start.elapsed().as_secs_f64());
    res
}

async fn endpoint(State((m, token)): State<(Arc<Metrics>, Option<String>)>, headers: HeaderMap) -> Response {
    if let Some(expected) = token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        if !scaffold_service::identity::constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
            let mut res = scaffold_rest::problem_response(
                axum::http::StatusCode::UNAUTHORIZED,
                codes::UNAUTHENTICATED,
                "the metrics need the configured bearer token",
                &[],
            );
            let _ = res
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static(r#"Bearer realm="metrics""#));
            return res;
        }
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], m.render()).into_response()
}

/// `GET /metrics`, open or behind a bearer token.
pub fn router(metrics: Arc<Metrics>, token: Option<String>) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(endpoint)).with_state((metrics, token))
}
