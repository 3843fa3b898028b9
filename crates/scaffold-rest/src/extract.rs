//! Request extractors that fail with problem details: the JSON body (content type, syntax, types,
//! unknown and missing fields, with JSON pointers), query strings, the caller, and `If-Match`.

use crate::RestState;
use crate::problem::{ApiError, problem_response};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::HeaderName;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use scaffold_domain::codes;
use scaffold_domain::{Actor, DomainError, ErrorKind, FieldError};
use scaffold_service::identity::login::{Presented, SESSION_COOKIE, cookie_value};
use serde::de::DeserializeOwned;

/// A JSON body, with the raw bytes kept for idempotency fingerprints.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(problem_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json",
                &[],
            ));
        }
        let raw = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                problem_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::PAYLOAD_TOO_LARGE,
                    "the request body is too large",
                    &[],
                )
            } else {
                problem_response(
                    StatusCode::BAD_REQUEST,
                    codes::UNREADABLE_BODY,
                    "the request body could not be read",
                    &[],
                )
            }
        })?;
        refuse_control_characters(&raw)?;
        let value = parse_json(&raw)?;
        Ok(Self { value, raw })
    }
}

/// Refuses a body with a control character (other than tab and line breaks) in any string or
/// key, naming each place: no text the service stores may hold one. JSON carries them only as
/// `\u` escapes or as raw DEL and C1 characters, so bodies without those skip the walk.
#[allow(clippy::result_large_err)] // an axum rejection is a Response by design
fn refuse_control_characters(raw: &[u8]) -> Result<(), Response> {
    let maybe =
        raw.windows(2).any(|w| w == b"\\u" || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))) || raw.contains(&0x7F);
    if !maybe {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw) else { return Ok(()) };
    let mut errors = Vec::new();
    control_characters_in(&value, &mut String::new(), &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(ApiError(DomainError::invalid(errors)).into_response()) }
}

fn control_characters_in(v: &serde_json::Value, pointer: &mut String, out: &mut Vec<FieldError>) {
    use scaffold_domain::text::{control_character, has_control};
    if out.len() >= 20 {
        return;
    }
    match v {
        serde_json::Value::String(s) if has_control(s) => out.push(control_character(pointer.clone())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                control_characters_in(item, pointer, out);
                pointer.truncate(len);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let len = pointer.len();
                if has_control(k) {
                    out.push(control_character(pointer.clone()));
                    continue;
                }
                pointer.push('/');
                pointer.push_str(&escape(k));
                control_characters_in(item, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Parses JSON, classifying failures: syntax → 400 `MALFORMED_JSON`; shape → 422 with a pointer.
#[allow(clippy::result_large_err)] // an axum rejection is a Response by design
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Response> {
    let de = &mut serde_json::Deserializer::from_slice(raw);
    match serde_path_to_error::deserialize(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let inner = err.inner();
            if matches!(
                inner.classify(),
                serde_json::error::Category::Syntax
                    | serde_json::error::Category::Eof
                    | serde_json::error::Category::Io
            ) {
                return Err(problem_response(
                    StatusCode::BAD_REQUEST,
                    codes::MALFORMED_JSON,
                    &format!(
                        "the body is not valid JSON: {}",
                        scaffold_domain::text::without_values(&inner.to_string())
                    ),
                    &[],
                ));
            }
            // JSON has one number type: `1.0` is the integer 1 (as JSON Schema's `integer` says).
            // serde refuses it for integer fields, so such a body is read again with whole
            // numbers written as integers.
            if let Ok(mut whole) = serde_json::from_slice::<serde_json::Value>(raw)
                && integralise(&mut whole)
                && let Ok(v) = serde_path_to_error::deserialize::<_, T>(whole)
            {
                return Ok(v);
            }
            let field = field_error(err.path(), &strip_position(&inner.to_string()));
            Err(ApiError(DomainError::invalid(vec![field])).into_response())
        }
    }
}

/// Writes numbers with no fractional part (`1.0`, `2e3`) as integers; true when one changed.
fn integralise(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
            let whole = f.fract() == 0.0 && f.abs() < 9.0e15;
            if whole {
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *v = Value::from(i);
            }
            whole
        }
        Value::Array(items) => {
            let mut changed = false;
            for x in items {
                changed |= integralise(x);
            }
            changed
        }
        Value::Object(map) => {
            let mut changed = false;
            for x in map.values_mut() {
                changed |= integralise(x);
            }
            changed
        }
        _ => false,
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

/// Turns a serde path and message into a field error whose pointer names the offending field
/// (including unknown and missing fields, which serde reports at their parent).
fn field_error(path: &serde_path_to_error::Path, msg: &str) -> FieldError {
    let mut pointer = String::new();
    for seg in path.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    let quoted = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('`'))
            .and_then(|rest| rest.split('`').next().map(str::to_owned))
    };
    // serde reports a missing field at its parent; an unknown one sometimes at itself.
    let child = |name: &str| {
        let seg = format!("/{}", escape(name));
        if pointer.ends_with(&seg) { pointer.clone() } else { format!("{pointer}{seg}") }
    };
    if let Some(name) = quoted("unknown field ") {
        return FieldError::new(child(&name), codes::UNKNOWN_FIELD, "is not a field of this request");
    }
    if let Some(name) = quoted("missing field ") {
        return FieldError::new(child(&name), codes::REQUIRED, "is required");
    }
    let code = if msg.starts_with("invalid type") {
        codes::INVALID_TYPE
    } else if msg.starts_with("unknown variant") {
        codes::INVALID_VALUE
    } else {
        codes::INVALID
    };
    // Never the value given (it may be a DBS certificate number in the wrong field).
    FieldError::new(pointer, code, scaffold_domain::text::without_values(msg))
}

/// Query parameters; a value of the wrong type is a 422 naming the parameter.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state).await.map(|q| Self(q.0)).map_err(|rejection| {
            let text = rejection.body_text();
            let detail = scaffold_domain::text::without_values(
                text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text),
            );
            let name = detail.split(':').next().unwrap_or("").trim().to_owned();
            let pointer = if name.contains(' ') || name.is_empty() { String::new() } else { format!("/{name}") };
            ApiError(DomainError::invalid(vec![FieldError::new(pointer, codes::INVALID_PARAMETER, detail)]))
                .into_response()
        })
    }
}

/// The authenticated (or anonymous) caller.
#[derive(Debug)]
pub struct Caller(pub Actor);

impl FromRequestParts<RestState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &RestState) -> Result<Self, Self::Rejection> {
        if let Some(done) = parts.extensions.get::<scaffold_service::identity::Authenticated>() {
            return Ok(Caller(done.0.clone()));
        }
        let text = |name| parts.headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
        let presented_token = parts.headers.contains_key(header::AUTHORIZATION);
        // A credential that was presented and refused: RFC 6750 says `error="invalid_token"`.
        let refused = |e: DomainError| {
            let unauthenticated = e.kind == ErrorKind::Unauthenticated;
            let mut res = ApiError(e).into_response();
            if presented_token && unauthenticated {
                let _ = res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(r#"Bearer realm="community-scaffold", error="invalid_token""#),
                );
            }
            res
        };
        if presented_token && text(header::AUTHORIZATION).is_none() {
            return Err(refused(DomainError::unauthenticated("the Authorization header is not text")));
        }
        let session = cookie(&parts.headers, SESSION_COOKIE);
        let presented = Presented {
            authorization: text(header::AUTHORIZATION),
            session_cookie: session.as_deref(),
            unsafe_method: !parts.method.is_safe(),
            origin: text(header::ORIGIN),
            fetch_site: text(HeaderName::from_static("sec-fetch-site")),
        };
        state.service.actor_from_request(&presented).await.map(Caller).map_err(refused)
    }
}

/// The caller of an operation that needs one: an anonymous request is refused with 401 before
/// anything else about it is looked at (parameters, preconditions, the body), so that a client
/// without credentials always learns that first.
#[derive(Debug)]
pub struct SignedIn(pub Actor);

impl FromRequestParts<RestState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &RestState) -> Result<Self, Self::Rejection> {
        let Caller(actor) = Caller::from_request_parts(parts, state).await?;
        if actor.person_id().is_none() {
            return Err(ApiError(DomainError::unauthenticated("this operation needs a bearer token")).into_response());
        }
        Ok(Self(actor))
    }
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    cookie_value(headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()), name)
}

/// The version an `If-Match` header names: `"N"`, or `*` (any current version: `None`).
/// Missing or empty → 428; anything else → 412.
#[derive(Debug)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::IF_MATCH).map(|v| v.to_str().map(str::trim).unwrap_or("\u{0}"));
        match value {
            None | Some("") => Err(ApiError(DomainError::new(
                ErrorKind::PreconditionRequired,
                codes::PRECONDITION_REQUIRED,
                "send If-Match with the ETag you read, so that you do not overwrite someone else's change",
            ))),
            Some("*") => Ok(IfMatch(None)),
            Some(v) => v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .map(|n| IfMatch(Some(n)))
                .ok_or_else(|| {
                    ApiError(DomainError::new(
                        ErrorKind::PreconditionFailed,
                        codes::VERSION_MISMATCH,
                        "If-Match does not name a current version of this resource",
                    ))
                }),
        }
    }
}

/// A query value, with empty strings (as HTML forms send them) treated as absent.
pub fn given(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

pub fn etag(version: i64) -> header::HeaderValue {
    header::HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(header::HeaderValue::from_static("\"0\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn pointer_of(json: &str) -> (String, String) {
        let de = &mut serde_json::Deserializer::from_str(json);
        let err = serde_path_to_error::deserialize::<_, Outer>(de).unwrap_err();
        let f = field_error(err.path(), &strip_position(&err.inner().to_string()));
        (f.pointer, f.code.to_owned())
    }

    #[test]
    fn pointers_name_the_offending_field() {
        assert_eq!(
            pointer_of(r#"{"name":"a","items":[{"n":1},{"n":"x"}]}"#),
            ("/items/1/n".into(), "INVALID_TYPE".into())
        );
        assert_eq!(pointer_of(r#"{"name":"a","items":[],"extra":1}"#), ("/extra".into(), "UNKNOWN_FIELD".into()));
        assert_eq!(pointer_of(r#"{"items":[]}"#), ("/name".into(), "REQUIRED".into()));
        assert_eq!(
            pointer_of(r#"{"name":"a","items":[{"n":1,"m/x":2}]}"#),
            ("/items/0/m~1x".into(), "UNKNOWN_FIELD".into())
        );
    }
}
