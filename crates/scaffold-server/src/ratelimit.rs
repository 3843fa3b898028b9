//! Rate limits per client IP and per app, counted in the store (shared by every replica), with
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every limited response and
//! `Retry-After` plus a 429 problem document when a limit is exceeded. Health, readiness and
//! metrics are not limited.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use scaffold_service::Service;
use scaffold_service::identity::RateState;
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Limiter {
    pub service: Service,
    pub trust_forwarded_for: bool,
}

fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(last) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return last.to_owned();
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn set_headers(res: &mut Response, s: RateState) {
    let h = res.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", s.limit.to_string()),
        ("ratelimit-remaining", s.remaining.to_string()),
        ("ratelimit-reset", s.reset_secs.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

pub async fn limit(State(l): State<Limiter>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let limits = l.service.rate_limits();
    let mut buckets = vec![(format!("ip:{}", client_ip(&req, l.trust_forwarded_for)), limits.per_ip_per_minute)];
    if limits.per_app_per_minute > 0
        && let Some(token) = bearer(&req)
        && let Some(caller) = l.service.caller_of_jwt(&token).await
    {
        if let Some(app) = caller.app() {
            buckets.push((format!("app:{app}"), limits.per_app_per_minute));
        }
        // The transports reuse the verified caller rather than verify the token again.
        let _ = req.extensions_mut().insert(caller);
    }
    let state = match l.service.hit_rate_limits(&buckets).await {
        Ok(s) => s,
        Err(e) => {
            // Counting failed (store trouble): serve the request rather than refuse everyone.
            tracing::warn!(error = %e, "rate limit check failed");
            None
        }
    };
    match state {
        Some(s) if s.exceeded => {
            let mut res = scaffold_rest::problem_response(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                &format!("too many requests: the limit is {} a minute; try again in {} s", s.limit, s.reset_secs),
                &[],
            );
            set_headers(&mut res, s);
            if let Ok(v) = HeaderValue::from_str(&s.reset_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Some(s) => {
            let mut res = next.run(req).await;
            set_headers(&mut res, s);
            res
        }
        None => next.run(req).await,
    }
}
