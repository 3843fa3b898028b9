//! The application router: REST, GraphQL, health, readiness and metrics, under one middleware
//! stack (request ids, tracing, security headers, CORS, timeouts, body limits, control
//! characters, metrics, rate limits).

use crate::metrics::{self, Metrics};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use scaffold_domain::codes;
use scaffold_service::Service;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// What the router needs besides the service.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub graphql: scaffold_graphql::Limits,
    /// Rate-limit by the last `X-Forwarded-For` entry instead of the peer address.
    pub trust_forwarded_for: bool,
    /// `Strict-Transport-Security` max-age for deployments served over TLS; 0 sends none.
    pub hsts_max_age_secs: u64,
    /// Where `/metrics` is served.
    pub metrics: MetricsAccess,
    /// When set (by `serve`, which runs the watcher), requests are refused at once while the
    /// store is down.
    pub store_health: Option<Arc<crate::health::StoreHealth>>,
    /// The public-read cache, when on (`serve` turns it on from `[cache]`).
    pub public_cache: Option<crate::cache::CacheSettings>,
}

/// Who may read `/metrics` on the main listener.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum MetricsAccess {
    /// Anyone who can reach the listener (the default, for a private network).
    #[default]
    Open,
    /// Only with `Authorization: Bearer <token>`.
    Token(String),
    /// Not on the main listener: served on its own address (`server.metrics_listen`).
    Elsewhere,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MetricsAccess::Open => "Open",
            MetricsAccess::Token(_) => "Token([redacted])",
            MetricsAccess::Elsewhere => "Elsewhere",
        })
    }
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            graphql: scaffold_graphql::Limits::default(),
            trust_forwarded_for: false,
            hsts_max_age_secs: 0,
            metrics: MetricsAccess::Open,
            store_health: None,
            public_cache: None,
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(service: Service, options: &AppOptions) -> Router {
    router_with_metrics(service, options, Metrics::new())
}

/// The router, recording into `metrics` (which `serve` may also expose on another address).
pub fn router_with_metrics(service: Service, options: &AppOptions, metrics: Arc<Metrics>) -> Router {
    let schema = scaffold_graphql::schema(service.clone(), options.graphql);
    let service_for_limits = service.clone();
    let service_for_pages = service.clone();
    let mut ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state((service.clone(), options.store_health.clone()));
    match &options.metrics {
        MetricsAccess::Open => ops = ops.merge(metrics::router(metrics.clone(), None)),
        MetricsAccess::Token(t) => ops = ops.merge(metrics::router(metrics.clone(), Some(t.clone()))),
        MetricsAccess::Elsewhere => {}
    }
    // CORS for the API and feeds only: health, readiness and metrics are for operators' tools,
    // never for scripts on other origins.
    let mut app: Router = Router::new()
        .merge(scaffold_rest::router(service.clone()))
        .merge(scaffold_graphql::router(schema, service, options.graphql))
        .layer(cors())
        .merge(scaffold_web::router(service_for_pages.clone()))
        .merge(ops)
        .layer(axum::middleware::from_fn_with_state(service_for_pages, openactive_site));
    if let Some(settings) = options.public_cache {
        let cache = crate::cache::PublicCache::new(service_for_limits.clone(), settings);
        app = app.layer(axum::middleware::from_fn_with_state(cache, crate::cache::serve));
    }
    app = app.layer(axum::middleware::from_fn_with_state(
        crate::ratelimit::Limiter { service: service_for_limits, trust_forwarded_for: options.trust_forwarded_for },
        crate::ratelimit::limit,
    ));
    if let Some(health) = &options.store_health {
        app = app.layer(axum::middleware::from_fn_with_state(health.clone(), crate::health::fail_fast));
    }
    app.layer(axum::middleware::from_fn_with_state(metrics, metrics::record))
        .layer(DefaultBodyLimit::max(options.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(options.body_limit_bytes, refuse_declared_oversize))
        .layer(axum::middleware::from_fn(refuse_control_characters))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, options.request_timeout))
        .layer(axum::middleware::from_fn(pages_for_browsers))
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .layer(axum::middleware::map_response_with_state(options.hsts_max_age_secs, security_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    // The path only (query strings may carry search text), without secrets.
                    let path = loggable_path(req.uri().path());
                    tracing::info_span!("request", method = %req.method(), path = %path, request_id = %id)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The path as logged: the secret in a sign-in link or a personal calendar feed's URL is left out.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/sign-in/", "/calendars/"] {
        if path.len() > prefix.len() && path.starts_with(prefix) {
            return format!("{prefix}[redacted]").into();
        }
    }
    path.into()
}

/// The API's cross-origin policy: any origin may read and call it with a bearer token (public
/// data, feeds, apps running in browsers), but never with the browser's credentials: the answer
/// is `Access-Control-Allow-Origin: *` without `Allow-Credentials`, so a browser never sends or
/// exposes cookies cross-origin (cookie-authenticated changes are also refused unless they come
/// from the public origin). Preflights are answered here.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{Method, header};
    use tower_http::cors::{Any, CorsLayer};
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::LINK,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("idempotent-replayed"),
            REQUEST_ID,
        ])
        .max_age(Duration::from_secs(600))
}

/// Headers on every response: no MIME sniffing, no framing, no referrer, a policy that lets a
/// response load and run nothing (pages that need more, like the GraphQL explorer and the public
/// pages, set their own), and HSTS when the instance is served over TLS.
async fn security_headers(State(hsts_max_age_secs): State<u64>, mut res: Response) -> Response {
    use axum::http::{HeaderValue, header};
    let h = res.headers_mut();
    // A response that allows framing in its own policy (the embeddable events list) is not
    // denied it by the older header; browsers that know CSP follow `frame-ancestors` anyway.
    let framable = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|csp| csp.contains("frame-ancestors") && !csp.contains("frame-ancestors 'none'"));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        let allowed_framing = framable && name == header::X_FRAME_OPTIONS;
        if !h.contains_key(&name) && !allowed_framing {
            let _ = h.insert(name, HeaderValue::from_static(value));
        }
    }
    if hsts_max_age_secs > 0
        && let Ok(v) = HeaderValue::from_str(&format!("max-age={hsts_max_age_secs}; includeSubDomains"))
    {
        let _ = h.insert(header::STRICT_TRANSPORT_SECURITY, v);
    }
    res
}

/// A body whose declared `Content-Length` is over the limit is refused at once with 413, before
/// anything reads it (otherwise the request would wait for bytes the client may never send).
async fn refuse_declared_oversize(
    State(limit): State<usize>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return scaffold_rest::problem_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            &format!("the request body is too large: at most {limit} bytes"),
            &[],
        );
    }
    next.run(req).await
}

/// No path or query parameter may hold a control character (NUL above all: PostgreSQL cannot
/// store it, and no slug, id, cursor or search word has one): 422 with the parameter named, on
/// every route and store alike, before anything else reads them.
async fn refuse_control_characters(req: Request<axum::body::Body>, next: axum::middleware::Next) -> Response {
    use scaffold_domain::text::{control_character, has_control};
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    let mut errors = Vec::new();
    if has_control(&path) || path.contains(['\t', '\n', '\r']) {
        errors.push(control_character(""));
    }
    for (name, value) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        if has_control(&name) || has_control(&value) || value.contains(['\t', '\n', '\r']) {
            let name = if has_control(&name) { String::new() } else { name.replace('~', "~0").replace('/', "~1") };
            errors.push(control_character(format!("/{name}")));
        }
    }
    if errors.is_empty() {
        return next.run(req).await;
    }
    scaffold_rest::ApiError(scaffold_domain::DomainError::invalid(errors)).into_response()
}

/// Error responses made below the handlers (method not allowed, timeouts, body limits outside the
/// REST extractors) come without a JSON body; give them a problem document like every other error.
/// Is the response's content already meant for its reader (problem+json, or a page)?
fn has_body_type(res: &Response) -> bool {
    res.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"))
}

/// A browser that asks for a page outside the API (an unknown address, a failure without a page
/// of its own) gets an HTML error page in place of the problem; API clients, and everyone under
/// the API's paths, keep problem+json.
async fn pages_for_browsers(req: Request<axum::body::Body>, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    let api =
        ["/api/", "/graphql", "/oauth/", "/auth/", "/.well-known/", "/openactive/", "/status-lists/", "/vct/", "/oruk"]
            .iter()
            .any(|p| path.starts_with(p));
    let wants_page = !api
        && req
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let res = next.run(req).await;
    let status = res.status();
    let is_page = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if wants_page && (status.is_client_error() || status.is_server_error()) && !is_page {
        return scaffold_web::error_page(status);
    }
    res
}

/// `/openactive` is the OpenActive dataset site: the dataset description as JSON-LD (the API),
/// or, for a browser (and the OpenActive validator), a page that carries the same JSON-LD.
async fn openactive_site(
    State(service): State<Service>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let wants_page = req.method() == axum::http::Method::GET
        && req.uri().path() == "/openactive"
        && req
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    if wants_page {
        return scaffold_web::dataset_site(req.headers(), &scaffold_rest::dataset_document(&service));
    }
    next.run(req).await
}

async fn problem_for_bare_errors(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || has_body_type(&res) {
        return res;
    }
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (codes::METHOD_NOT_ALLOWED, "this route does not accept that method"),
        StatusCode::PAYLOAD_TOO_LARGE => (codes::PAYLOAD_TOO_LARGE, "the request body is too large"),
        StatusCode::SERVICE_UNAVAILABLE => {
            (codes::UNAVAILABLE, "the request took too long or the service is busy; try again")
        }
        StatusCode::NOT_FOUND => (codes::ROUTE_NOT_FOUND, "there is no such route"),
        StatusCode::BAD_REQUEST => (codes::BAD_REQUEST, "the request could not be understood"),
        _ => (codes::HTTP_ERROR, "the request failed"),
    };
    let mut out = scaffold_rest::problem_response(status, code, detail, &[]);
    if let Some(allow) = res.headers().get(axum::http::header::ALLOW) {
        out.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    out
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the store answers: as the health watcher last saw it when one runs (so that a
/// probe never waits during an outage), else by a bounded ping.
async fn readyz(State((service, health)): State<(Service, Option<Arc<crate::health::StoreHealth>>)>) -> Response {
    let ready = match health {
        Some(h) if h.is_up() => Ok(()),
        Some(_) => Err(scaffold_domain::DomainError::unavailable("the store is down (health watcher)")),
        None => service.ready().await,
    };
    match ready {
        Ok(()) => Json(serde_json::json!({ "status": "ready", "store": service.store_kind() })).into_response(),
        Err(e) => {
            tracing::warn!(error = ?e.source.as_ref().map(ToString::to_string), "readiness check failed");
            scaffold_rest::problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::NOT_READY,
                "the store is not reachable",
                &[],
            )
        }
    }
}

/// The store and clock for a database URL: SQLite (created and migrated on first use) or
/// PostgreSQL (migrated only when `migrate` is set).
pub async fn open_store(
    url: &str,
    max_connections: u32,
    migrate: bool,
) -> Result<Arc<dyn scaffold_store::Store>, String> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let store =
            scaffold_store_sql::sqlite::SqliteStore::connect(url, max_connections).await.map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| format!("migrating SQLite: {e}"))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store =
            scaffold_store_sql::postgres::PgStore::connect(url, max_connections).await.map_err(|e| e.to_string())?;
        if migrate {
            store.migrate().await.map_err(|e| format!("migrating PostgreSQL: {e}"))?;
        }
        Ok(Arc::new(store))
    } else {
        Err("database.url must start with sqlite:// or postgres://".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn secrets_in_paths_are_not_logged() {
        assert_eq!(loggable_path("/sign-in/abc123"), "/sign-in/[redacted]");
        assert_eq!(loggable_path("/calendars/scal_abc.ics"), "/calendars/[redacted]");
        assert_eq!(loggable_path("/sign-in"), "/sign-in");
        assert_eq!(loggable_path("/groups/tea"), "/groups/tea");
    }

    #[tokio::test]
    async fn bare_error_responses_become_problems() {
        // What the timeout layer sends: a status and nothing else.
        let bare = Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body(Body::empty()).unwrap();
        let res = problem_for_bare_errors(bare).await;
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        // Successes and JSON errors pass through untouched.
        let ok = Response::builder().status(StatusCode::NO_CONTENT).body(Body::empty()).unwrap();
        assert!(problem_for_bare_errors(ok).await.headers().get("content-type").is_none());
        let json = scaffold_rest::problem_response(StatusCode::CONFLICT, "X", "y", &[]);
        let res = problem_for_bare_errors(json).await;
        assert_eq!(res.status(), 409);
    }
}
