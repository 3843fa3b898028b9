//! Public attestation documents that verifiers fetch: the issuer metadata with its keys
//! (`/.well-known/jwt-vc-issuer`) and each credential type's metadata (`/vct/{type}/{version}`).

use crate::RestState;
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

fn public(doc: serde_json::Value, max_age: &'static str) -> Response {
    let mut res = Json(doc).into_response();
    let h = res.headers_mut();
    let _ = h.insert(header::CACHE_CONTROL, HeaderValue::from_static(max_age));
    let _ = h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// Issuer metadata for attestations (SD-JWT VC)
///
/// This instance's issuer identifier and the public keys of its credentials and status lists
/// (the active key and retired keys whose credentials may still be valid). Verifiers put these
/// keys in their trust list.
#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer", tag = "attestations",
    responses((status = 200, description = "`{issuer, jwks: {keys}}`", body = Object)),
    security(()))]
pub async fn issuer_metadata(State(s): State<RestState>) -> ApiResult<Response> {
    Ok(public(s.service.issuer_metadata().await?, "public, max-age=300"))
}

/// A credential type's metadata
///
/// SD-JWT VC type metadata for `identity-verified`, `dbs-check`, `role-status` and
/// `qualification` (version `v1`): name, description and each selectively disclosable claim.
#[utoipa::path(get, path = "/vct/{type}/{version}", tag = "attestations",
    params(("type" = String, Path, description = "identity-verified, dbs-check, role-status or qualification"),
        ("version" = String, Path, description = "v1")),
    responses(
        (status = 200, description = "The type metadata", body = Object),
        (status = 404, description = "TYPE_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn type_metadata(
    State(s): State<RestState>,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(public(s.service.type_metadata(&name, &version)?, "public, max-age=3600"))
}
