//! Signing in from the pages, and the signed-in person's own page: a one-time sign-in link from
//! an operator (`/sign-in/{token}`: shown, then used by a POST so that link previews cannot spend
//! it), the configured OpenID Providers (`/sign-in`), and `/me` (who you are, your groups, sign
//! out).

use crate::{CSS_PATH, pages};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scaffold_domain::Actor;
use scaffold_service::Service;
use scaffold_service::identity::login::{SESSION_COOKIE, cookie_header, cookie_value};

/// A personal page: never stored by caches.
pub(crate) fn private_page(body: String) -> Response {
    private_status(StatusCode::OK, body)
}

pub(crate) fn private_status(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    crate::page_policy(h);
    res
}

pub(crate) fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The person signed in by this browser's session cookie, if any.
async fn signed_in(service: &Service, headers: &HeaderMap) -> Option<Actor> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let session = cookie_value(cookies, SESSION_COOKIE)?;
    service.actor_from_session(&session).await.ok()
}

/// Did this form come from one of our own pages? Browsers send `Origin` with every POST, and
/// `Sec-Fetch-Site` when they know it; a form on another site must not sign anyone in here.
pub(crate) fn same_origin(service: &Service, headers: &HeaderMap) -> bool {
    let own = service.identity().config().public_url.trim_end_matches('/').to_owned();
    let value = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let origin_ok = value(header::ORIGIN).is_none_or(|o| o == own);
    let site_ok =
        value(header::HeaderName::from_static("sec-fetch-site")).is_none_or(|s| matches!(s, "same-origin" | "none"));
    origin_ok && site_ok
}

pub async fn link_page(Path(token): Path<String>) -> Response {
    private_page(pages::render(&pages::SignInLinkPage::new(&CSS_PATH, &token)))
}

pub async fn use_link(State(service): State<Service>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    if !same_origin(&service, &headers) {
        return crate::message_page(
            StatusCode::FORBIDDEN,
            "This sign-in did not come from this site",
            "Open the sign-in link you were sent and choose Sign in there.",
        );
    }
    match service.sign_in_with_link(&token).await {
        Ok(done) => {
            let mut res = see_other(&done.return_to);
            if let Ok(v) =
                HeaderValue::from_str(&cookie_header(SESSION_COOKIE, &done.session_cookie, done.max_age_secs))
            {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(_) => crate::message_page(
            StatusCode::GONE,
            "This sign-in link cannot be used",
            "It has been used already or it has expired. Ask the person who sent it for a new one.",
        ),
    }
}

/// Where to go after signing in: a path on this site (the page that asked), `/me` otherwise.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReturnTo {
    return_to: Option<String>,
}

pub async fn sign_in(
    State(service): State<Service>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<ReturnTo>,
) -> Response {
    let back =
        scaffold_service::identity::login::safe_return_to(q.return_to.as_deref()).unwrap_or_else(|| "/me".into());
    if signed_in(&service, &headers).await.is_some() {
        return see_other(&back);
    }
    let encoded: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let providers: Vec<(String, String)> = service
        .identity()
        .providers()
        .map(|p| (p.display_name.clone(), format!("/auth/login/{}?return_to={encoded}", p.name)))
        .collect();
    private_page(pages::render(&pages::SignInPage::new(&CSS_PATH, providers)))
}
