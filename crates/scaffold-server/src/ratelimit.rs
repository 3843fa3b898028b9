//! Rate limits per client IP and per app, counted in the store (shared by every replica), with
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every limited response and
//! `Retry-After` plus a 429 problem document when a limit is exceeded. Health, readiness and
//! metrics are not limited.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use scaffold_domain::codes;
use scaffold_service::Service;
use scaffold_service::identity::RateState;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone)]
pub struct Limiter {
    pub service: Service,
    pub trust_forwarded_for: bool,
}

/// The client's bucket name: its IPv4 address, or its IPv6 /64 (one household or host is given a
/// whole /64, so counting single IPv6 addresses would let one client take 2^64 buckets).
fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    let ip = forwarded.or_else(|| req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_owned(),
    }
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn set_headers(res: &mut Response, s: RateState) {
    let h = res.headers_mut();
    // A use case that refused on a limit of its own (e.g. share redemption) describes that one.
    if h.contains_key("ratelimit-limit") {
        return;
    }
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
                codes::RATE_LIMITED,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn req(peer: &str, forwarded: Option<&str>) -> Request {
        let mut b = axum::http::Request::builder().uri("/");
        if let Some(f) = forwarded {
            b = b.header("x-forwarded-for", f);
        }
        let mut r = b.body(axum::body::Body::empty()).unwrap();
        let _ = r.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    }

    #[test]
    fn clients_are_counted_by_ipv4_address_or_ipv6_slash_64() {
        assert_eq!(client_ip(&req("192.0.2.1:5000", None), false), "192.0.2.1");
        assert_eq!(client_ip(&req("[2001:db8:1:2:3:4:5:6]:5000", None), false), "2001:db8:1:2::/64");
        assert_eq!(client_ip(&req("[2001:db8:1:2:ffff::9]:5000", None), false), "2001:db8:1:2::/64");
        assert_eq!(client_ip(&req("[::ffff:192.0.2.9]:5000", None), false), "192.0.2.9", "mapped IPv4");
        // The last X-Forwarded-For entry, only when trusted and only when it is an address.
        assert_eq!(client_ip(&req("10.0.0.1:1", Some("1.1.1.1, 198.51.100.4")), true), "198.51.100.4");
        assert_eq!(client_ip(&req("10.0.0.1:1", Some("198.51.100.4")), false), "10.0.0.1");
        assert_eq!(client_ip(&req("10.0.0.1:1", Some("nonsense")), true), "10.0.0.1");
    }
}
