//! RFC 9457 problem details: the one mapping from `DomainError` to HTTP. Internal causes go to the
//! log (inside the request's span, which carries the request id), never into the response.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scaffold_domain::codes;
use scaffold_domain::{DomainError, ErrorKind, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem detail (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:community-scaffold:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `GROUP_SLUG_TAKEN`.
    pub code: String,
    /// Field-level failures (validation), each with a JSON pointer into the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// JSON pointer (RFC 6901) into the request body, or `/<name>` for a query parameter.
    pub pointer: String,
    pub code: String,
    pub detail: String,
}

impl From<&FieldError> for ProblemField {
    fn from(f: &FieldError) -> Self {
        Self { pointer: f.pointer.clone(), code: f.code.to_owned(), detail: f.message.clone() }
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ErrorKind::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Builds a problem response from its parts.
pub fn problem_response(status: StatusCode, code: &str, detail: &str, fields: &[FieldError]) -> Response {
    let body = Problem {
        type_: format!("urn:community-scaffold:problem:{}", code.to_ascii_lowercase().replace('_', "-")),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: code.to_owned(),
        errors: fields.iter().map(ProblemField::from).collect(),
    };
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    res
}

/// A `DomainError` on its way out of a handler.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(e.kind);
        if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) {
            tracing::error!(code = e.code, error = ?e.source.as_ref().map(ToString::to_string), "request failed");
        }
        let mut res = problem_response(status, e.code, &e.message, &e.fields);
        if let Some(l) = e.rate_limit {
            for (name, value) in [
                ("ratelimit-limit", l.limit.to_string()),
                ("ratelimit-remaining", l.remaining.to_string()),
                ("ratelimit-reset", l.reset_secs.to_string()),
                ("retry-after", l.reset_secs.max(1).to_string()),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    let _ = res.headers_mut().insert(name, v);
                }
            }
        }
        match (e.kind, e.code) {
            (ErrorKind::Unauthenticated, _) => {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="community-scaffold""#));
            }
            (ErrorKind::Forbidden, codes::INSUFFICIENT_SCOPE) => {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="community-scaffold", error="insufficient_scope""#),
                );
            }
            _ => {}
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub async fn not_found_route() -> Response {
    problem_response(StatusCode::NOT_FOUND, codes::ROUTE_NOT_FOUND, "there is no such API route", &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status() {
        let cases = [
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::Invalid, 422),
            (ErrorKind::PreconditionFailed, 412),
            (ErrorKind::PreconditionRequired, 428),
            (ErrorKind::Unauthenticated, 401),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::RateLimited, 429),
            (ErrorKind::Unavailable, 503),
            (ErrorKind::Internal, 500),
        ];
        for (kind, status) in cases {
            assert_eq!(status_of(kind).as_u16(), status, "{kind:?}");
        }
    }

    /// What a client receives: the body itself (a `Response`'s `Debug` never shows it).
    #[tokio::test]
    async fn internal_and_unavailable_errors_hide_their_cause_in_the_body() {
        use http_body_util::BodyExt;
        for e in [
            DomainError::internal("password=hunter2 in connection string"),
            DomainError::unavailable("connect to postgres://app:hunter2@db failed"),
        ] {
            let res = ApiError(e).into_response();
            assert!(res.status().is_server_error());
            let body = res.into_body().collect().await.unwrap().to_bytes();
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("\"code\"") && !text.contains("hunter2") && !text.contains("postgres"), "{text}");
        }
    }
}
