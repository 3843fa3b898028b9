//! `/oauth/authorize`: the consent page where a signed-in person lets an app act for them (the
//! authorization code grant with PKCE), and `/me/grants/{id}/revoke` where they stop it. The
//! request is checked by the service on the page and again when the form comes back; the code
//! goes to the app's registered redirect URI only.

use crate::forms::{form_token, session, signed_post};
use crate::{CSS_PATH, pages};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use scaffold_service::Service;
use scaffold_service::identity::grants::{AuthorizeError, AuthorizeParams, AuthorizeRequest};

/// The request's fields, carried through the consent form unchanged.
const FIELDS: [&str; 7] =
    ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"];

fn params_from(pairs: &[(String, String)]) -> AuthorizeParams {
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    AuthorizeParams {
        response_type: get("response_type").unwrap_or_default(),
        client_id: get("client_id").unwrap_or_default(),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
    }
}

/// The redirect URI with the answer's parameters (RFC 6749 §4.1.2, RFC 9207 `iss`).
fn answer_url(service: &Service, redirect_uri: &str, answer: &[(&str, &str)], state: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in answer {
        query.append_pair(k, v);
    }
    if let Some(s) = state {
        query.append_pair("state", s);
    }
    query.append_pair("iss", &crate::base(service));
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", query.finish())
}

/// Sends the person back to the app with its answer, after they chose.
fn back_to(service: &Service, redirect_uri: &str, answer: &[(&str, &str)], state: Option<&str>) -> Response {
    crate::account::see_other(&answer_url(service, redirect_uri, answer, state))
}

fn refused(service: &Service, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Page(e) => crate::message_page(
            StatusCode::BAD_REQUEST,
            "This app's request cannot be used",
            &format!("{} Go back to the app and try again, or tell the people who made it.", e.message),
        ),
        // Not sent on by itself (RFC 9700 §4.11.2: any signed-in person can register an app, so
        // an automatic redirect would make this an open redirector); the person may follow it.
        AuthorizeError::Redirect { redirect_uri, error, description, state, app } => {
            let back = answer_url(
                service,
                &redirect_uri,
                &[("error", error), ("error_description", &description)],
                state.as_deref(),
            );
            crate::message_page_onward(
                StatusCode::BAD_REQUEST,
                "This app's request cannot be used",
                &format!("{description} ({error}). Tell the people who made {app}."),
                Some((format!("Go back to {app}"), back)),
            )
        }
    }
}

/// The consent page may send its form on to the app's redirect URI (browsers apply
/// `form-action` to the redirect that follows a form).
fn consent_policy(redirect_uri: &str) -> Option<HeaderValue> {
    if redirect_uri.chars().any(|c| c.is_whitespace() || c == ';' || c == ',' || c == '\'') {
        return None;
    }
    let target = redirect_uri.split(['?', '#']).next().unwrap_or(redirect_uri);
    let policy = crate::PAGE_POLICY.replace("form-action 'self'", &format!("form-action 'self' {target}"));
    HeaderValue::from_str(&policy).ok()
}

pub async fn authorize_page(
    State(service): State<Service>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let req = match service.check_authorize(&params_from(&pairs)).await {
        Ok(r) => r,
        Err(e) => return refused(&service, e),
    };
    let Some((_, cookie)) = session(&service, &headers).await else {
        let back: String = form_urlencoded::byte_serialize(format!("/oauth/authorize?{query}").as_bytes()).collect();
        return crate::account::see_other(&format!("/sign-in?return_to={back}"));
    };
    let hidden: Vec<(&'static str, String)> =
        FIELDS.iter().filter_map(|f| pairs.iter().find(|(k, _)| k == f).map(|(_, v)| (*f, v.clone()))).collect();
    let page = pages::ConsentPage::new(&CSS_PATH, &req, hidden, form_token(&cookie));
    let mut res = crate::account::private_page(pages::render(&page));
    match consent_policy(&req.redirect_uri) {
        Some(p) => {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, p);
        }
        None => return refused(&service, bad_redirect(&req)),
    }
    res
}

fn bad_redirect(req: &AuthorizeRequest) -> AuthorizeError {
    AuthorizeError::Page(scaffold_domain::DomainError::new(
        scaffold_domain::ErrorKind::Invalid,
        scaffold_domain::codes::INVALID_REQUEST,
        format!("{} has a redirect address this page cannot send you to.", req.app.name),
    ))
}

/// The person's answer: allow (a code goes to the app) or deny (`access_denied`).
pub async fn authorize(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> Response {
    let (actor, _, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let pairs: Vec<(String, String)> =
        FIELDS.iter().filter_map(|f| posted.raw(f).map(|v| ((*f).to_owned(), v))).collect();
    let req = match service.check_authorize(&params_from(&pairs)).await {
        Ok(r) => r,
        Err(e) => return refused(&service, e),
    };
    if posted.one("decision") != "allow" {
        let answer = [("error", "access_denied"), ("error_description", "the person did not agree")];
        return back_to(&service, &req.redirect_uri, &answer, req.state.as_deref());
    }
    match service.approve_authorize(&actor, &req).await {
        Ok(code) => back_to(&service, &req.redirect_uri, &[("code", &code)], req.state.as_deref()),
        Err(e) => crate::failed(&e),
    }
}

/// Stops an app acting for the signed-in person, from their account page.
pub async fn revoke(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (actor, _, _) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let Some(id) = scaffold_domain::GrantId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    match service.revoke_grant(&actor, id).await {
        Ok(()) => crate::account::see_other("/me"),
        Err(e) => crate::failed(&e),
    }
}
