//! Sign-in and tokens, outside `/api/v1`: `/auth/providers`, `/auth/login/{provider}`,
//! `/auth/link/{provider}`, `/auth/callback/{provider}`, `/auth/logout`, the OAuth token endpoint
//! `/oauth/token` (client credentials) and the published keys at `/.well-known/jwks.json`.
//! Cookies are `__Host-` prefixed (Secure, Path=/, no Domain), HttpOnly and `SameSite=Lax`.

use crate::RestState;
use crate::extract::{Caller, SignedIn, cookie};
use crate::problem::Problem;
use crate::problem::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use scaffold_domain::DomainError;
use scaffold_domain::codes;
use scaffold_service::identity::apps::oauth_error_name;
use scaffold_service::identity::login::{CallbackParams, FLOW_COOKIE, SESSION_COOKIE, cookie_header};
use serde::{Deserialize, Serialize};

fn set_cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&cookie_header(name, value, max_age)).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn redirect(to: &str, cookies: &[HeaderValue]) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The configured providers.
pub async fn providers(State(s): State<RestState>) -> Json<serde_json::Value> {
    let items: Vec<_> = s
        .service
        .identity()
        .providers()
        .map(|p| {
            serde_json::json!({
                "name": p.name, "display_name": p.display_name, "issuer": p.issuer,
                "login_url": format!("/auth/login/{}", p.name),
            })
        })
        .collect();
    Json(serde_json::json!({ "items": items }))
}

#[derive(Debug, Deserialize)]
pub struct LoginParams {
    return_to: Option<String>,
}

/// Starts a sign-in: sets the flow cookie and redirects to the provider.
pub async fn login(
    State(s): State<RestState>,
    Path(provider): Path<String>,
    Query(q): Query<LoginParams>,
) -> ApiResult<Response> {
    let r = s.service.begin_login(&provider, q.return_to.as_deref(), None).await?;
    Ok(redirect(&r.url, &[set_cookie(FLOW_COOKIE, &r.flow_cookie, r.max_age_secs)]))
}

/// Starts linking another identity to the signed-in person.
pub async fn link(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(provider): Path<String>,
    Query(q): Query<LoginParams>,
) -> ApiResult<Response> {
    let person = actor.require_person()?;
    let r = s.service.begin_login(&provider, q.return_to.as_deref(), Some(person)).await?;
    Ok(redirect(&r.url, &[set_cookie(FLOW_COOKIE, &r.flow_cookie, r.max_age_secs)]))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's redirect back: finishes the sign-in, sets the session cookie.
pub async fn callback(
    State(s): State<RestState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let flow = cookie(&headers, FLOW_COOKIE);
    let params = CallbackParams {
        code: q.code,
        state: q.state,
        iss: q.iss,
        error: q.error,
        error_description: q.error_description,
    };
    let clear_flow = set_cookie(FLOW_COOKIE, "", 0);
    match s.service.finish_login(&provider, flow.as_deref(), &params).await {
        Ok(done) => redirect(
            &done.return_to,
            &[clear_flow, set_cookie(SESSION_COOKIE, &done.session_cookie, done.max_age_secs)],
        ),
        Err(e) => {
            let mut res = ApiError(e).into_response();
            res.headers_mut().append(header::SET_COOKIE, clear_flow);
            res
        }
    }
}

/// Ends the session here and, when the provider supports it, sends the browser to sign out there.
pub async fn logout(State(s): State<RestState>, headers: HeaderMap) -> ApiResult<Response> {
    let session = cookie(&headers, SESSION_COOKIE);
    let to = s.service.logout(session.as_deref()).await?;
    Ok(redirect(&to, &[set_cookie(SESSION_COOKIE, "", 0)]))
}

/// The public keys of the service's access tokens (a JWK Set)
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "apps",
    responses((status = 200, description = "The JWK Set: the active key and retired keys still published", body = Object)),
    security(()))]
pub async fn jwks(State(s): State<RestState>) -> ApiResult<Response> {
    let doc = s.service.jwks().await?;
    let mut res = Json(doc).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(res)
}

/// A token request (RFC 6749 §4.1.3, §4.4, §6).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// `client_credentials` (the app for its owner), `authorization_code` (for a person who
    /// agreed) or `refresh_token`.
    #[schema(example = "client_credentials")]
    grant_type: Option<String>,
    /// Space-separated; a subset of the app's granted scopes (all of them when absent); with
    /// `refresh_token`, a subset of the refresh token's.
    #[schema(example = "groups:read")]
    scope: Option<String>,
    /// `authorization_code`: the code from the redirect.
    code: Option<String>,
    /// `authorization_code`: the redirect URI the authorization request named (if it named one).
    redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier whose S256 hash was the `code_challenge`.
    code_verifier: Option<String>,
    /// `refresh_token`: the latest refresh token (each use returns the next one).
    refresh_token: Option<String>,
    /// With `client_secret`, instead of HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// An access token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// A JWT (`typ: at+jwt`, ES256), verifiable with `/.well-known/jwks.json`.
    access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    token_type: String,
    /// Seconds until it expires (at most 900).
    expires_in: i64,
    /// The scopes it carries, space-separated.
    scope: String,
    /// With `authorization_code` and `refresh_token`: the next refresh token (the one used stops
    /// working; using it again withdraws the person's grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// An RFC 6749 error that is also a problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthError {
    /// `invalid_client`, `invalid_scope`, `unsupported_grant_type` or `invalid_request`.
    error: String,
    error_description: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    code: String,
}

fn token_body(t: scaffold_service::identity::apps::IssuedToken, refresh_token: Option<String>) -> Response {
    let mut res = Json(TokenResponse {
        access_token: t.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: t.expires_in,
        scope: t.scope,
        refresh_token,
    })
    .into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An RFC 6749 error, which is also a problem document (both sets of members), so that OAuth
/// libraries and our own clients read it alike.
fn oauth_error(e: &DomainError) -> Response {
    let status = match e.code {
        codes::INVALID_CLIENT => StatusCode::UNAUTHORIZED,
        codes::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
        codes::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthError {
        error: oauth_error_name(e.code).to_owned(),
        error_description: e.message.clone(),
        kind: format!("urn:community-scaffold:problem:{}", e.code.to_lowercase().replace('_', "-")),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: e.message.clone(),
        code: e.code.to_owned(),
    };
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="community-scaffold""#));
    }
    res
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded.
    Some((url_decode(id)?, url_decode(secret)?))
}

fn url_decode(s: &str) -> Option<String> {
    let form = format!("v={s}");
    let parsed: Vec<(String, String)> = serde_urlencoded::from_str(&form).ok()?;
    parsed.into_iter().next().map(|(_, v)| v)
}

/// Get an access token for an app
///
/// The client credentials grant. Authenticate with HTTP Basic (`client_id:client_secret`) or the
/// `client_id` and `client_secret` form fields, not both. The token acts for the app's owner with
/// the app's granted scopes (narrowed by `scope`). Errors are RFC 6749 JSON that also carries the
/// problem-document members.
#[utoipa::path(post, path = "/oauth/token", tag = "apps",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = TokenResponse),
        (status = 400, description = "Bad request, grant type or scope", body = OAuthError),
        (status = 401, description = "Unknown client, wrong secret or revoked app", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic`"))),
        (status = 500, description = "Internal error", body = OAuthError),
        (status = 503, description = "Unavailable", body = OAuthError),
    ),
    security((), ("client_basic" = [])))]
pub async fn token(State(s): State<RestState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let invalid = |code: &'static str, msg: &str| {
        oauth_error(&DomainError::new(scaffold_domain::ErrorKind::Invalid, code, msg.to_owned()))
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return invalid(codes::INVALID_REQUEST, "send an application/x-www-form-urlencoded body");
    }
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return invalid(codes::INVALID_REQUEST, "the form could not be read");
    };
    let grant = form.grant_type.as_deref().unwrap_or_default();
    if !matches!(grant, "client_credentials" | "authorization_code" | "refresh_token") {
        return invalid(
            codes::UNSUPPORTED_GRANT_TYPE,
            "grant_type is client_credentials, authorization_code or refresh_token",
        );
    }
    let creds = match (basic_credentials(&headers), form.client_id, form.client_secret) {
        (Some(c), None, None) => c,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => {
            return oauth_error(&DomainError::new(
                scaffold_domain::ErrorKind::Unauthenticated,
                codes::INVALID_CLIENT,
                "authenticate with HTTP Basic or client_id and client_secret (one way only)",
            ));
        }
    };
    let (id, secret) = (&creds.0, &creds.1);
    let result = match (grant, form.code, form.code_verifier, form.refresh_token) {
        ("client_credentials", ..) => {
            s.service.client_credentials(id, secret, form.scope.as_deref()).await.map(|t| token_body(t, None))
        }
        ("authorization_code", Some(code), Some(verifier), _) => s
            .service
            .exchange_code(id, secret, &code, form.redirect_uri.as_deref(), &verifier)
            .await
            .map(|t| token_body(t.access, Some(t.refresh_token))),
        ("authorization_code", ..) => {
            return invalid(codes::INVALID_REQUEST, "authorization_code needs code and code_verifier");
        }
        (_, _, _, Some(refresh)) => s
            .service
            .refresh_grant(id, secret, &refresh, form.scope.as_deref())
            .await
            .map(|t| token_body(t.access, Some(t.refresh_token))),
        _ => return invalid(codes::INVALID_REQUEST, "refresh_token needs refresh_token"),
    };
    result.unwrap_or_else(|e| oauth_error(&e))
}

/// The authorization server's metadata (RFC 8414), for OAuth client libraries.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "apps",
    responses((status = 200, description = "RFC 8414 metadata", body = Object)),
    security(()))]
pub async fn metadata(State(s): State<RestState>) -> Response {
    let base = s.service.identity().config().public_url.trim_end_matches('/').to_owned();
    let scopes: Vec<&str> = scaffold_service::identity::person_scopes().iter().map(|x| x.as_str()).collect();
    let doc = serde_json::json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": scopes,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{base}/api/v1/openapi.json"),
    });
    let mut res = Json(doc).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// Get an access token for yourself
///
/// From a browser session (the `__Host-scaffold-session` cookie), a short-lived access token
/// with your session's scopes, for your own scripts or pages that call the API with
/// `Authorization`.
#[utoipa::path(post, path = "/auth/token", tag = "people",
    responses(
        (status = 200, description = "An access token", body = TokenResponse),
        (status = 403, description = "Not a browser session", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = [])))]
pub async fn person_token(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Response> {
    Ok(token_body(s.service.person_access_token(&actor).await?, None))
}
