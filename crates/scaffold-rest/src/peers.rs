//! `/api/v1/peers`: operators add other instances by their base URL (their public sessions are
//! mirrored, and their attestations of the chosen types trusted), list them, and remove them;
//! `/api/v1/trust-list`: the issuers and types this instance accepts, for offline verifiers.

use crate::RestState;
use crate::extract::{JsonBody, SignedIn};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::{DomainError, PeerId};
use scaffold_service::sources::{PeerDraft, PeerView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Another instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerBody {
    pub id: Uuid,
    pub base_url: String,
    /// Shown as the origin of its listings.
    pub name: String,
    /// Its credentials' issuer (`iss`), from its `/.well-known/jwt-vc-issuer`.
    pub issuer: String,
    /// The attestation types accepted from it.
    pub trusted_types: Vec<String>,
    /// The sources that mirror it (their health is at `/api/v1/sources/{id}`).
    pub sources: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
}

fn body(v: PeerView) -> PeerBody {
    PeerBody {
        id: v.peer.id.0,
        base_url: v.peer.base_url,
        name: v.peer.name,
        issuer: v.peer.issuer,
        trusted_types: v.peer.trusted_types.iter().map(|t| t.as_str().to_owned()).collect(),
        sources: v.sources.iter().map(|s| s.id.0).collect(),
        created_at: v.peer.created_at,
    }
}

/// A peer to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeer {
    /// The other instance's public URL.
    #[schema(max_length = 2000, example = "https://leigh.example")]
    pub base_url: String,
    /// Shown as the origin of its listings (default: the name its dataset gives).
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Attestation types to accept from it (none: its listings only).
    #[serde(default)]
    #[schema(example = json!(["dbs-check"]))]
    pub trust: Vec<String>,
}

/// The peers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerList {
    pub items: Vec<PeerBody>,
}

fn peer_id(raw: &str) -> Result<PeerId, DomainError> {
    PeerId::parse(raw).ok_or_else(scaffold_service::sources::peer_not_found)
}

/// Add a peer instance (operators)
///
/// Reads its `/.well-known/jwt-vc-issuer` (issuer and keys) and `/openactive` (its SessionSeries
/// feed), adds a source that mirrors its public sessions, and trusts it for `trust`.
#[utoipa::path(post, path = "/api/v1/peers", tag = "operators", operation_id = "create_peer", request_body = NewPeer,
    responses((status = 201, description = "Added", body = PeerBody),
              (status = 403, description = "Needs the admin scope", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "PEER_EXISTS", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "PEER_UNREACHABLE, or a field is invalid", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn create(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value: b, .. }: JsonBody<NewPeer>,
) -> ApiResult<impl IntoResponse> {
    let draft = PeerDraft { base_url: b.base_url, name: b.name, trust: b.trust };
    let peer = s.service.add_peer(&actor, &draft).await?;
    let location = format!("/api/v1/peers/{}", peer.peer.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body(peer))))
}

/// The peers (operators)
#[utoipa::path(get, path = "/api/v1/peers", tag = "operators", operation_id = "list_peers",
    responses((status = 200, description = "Every peer", body = PeerList),
              (status = 403, description = "Needs the admin scope", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn list(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<PeerList>> {
    Ok(Json(PeerList { items: s.service.peers(&actor).await?.into_iter().map(body).collect() }))
}

/// One peer (operators)
#[utoipa::path(get, path = "/api/v1/peers/{peer}", tag = "operators", operation_id = "get_peer",
    params(("peer" = String, Path, description = "Peer id")),
    responses((status = 200, description = "The peer", body = PeerBody),
              (status = 404, description = "PEER_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn get(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(peer): Path<String>,
) -> ApiResult<Json<PeerBody>> {
    let id = peer_id(&peer)?;
    Ok(Json(body(s.service.peer(&actor, id).await?)))
}

/// Remove a peer (operators): its trust ends at once and its mirrored listings go
#[utoipa::path(delete, path = "/api/v1/peers/{peer}", tag = "operators", operation_id = "delete_peer",
    params(("peer" = String, Path, description = "Peer id")),
    responses((status = 204, description = "Removed"),
              (status = 404, description = "PEER_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(peer): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_peer(&actor, peer_id(&peer)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The trust list for offline verifiers
///
/// The issuers this instance accepts, with their keys, and the credential types each may issue:
/// this instance (every type) and each peer the operator trusts (for the types chosen). Save it as
/// the `--trust` file of `scaffold verify` (docs/verifiers.md); refresh it after a key rotation
/// or a change of peers.
#[utoipa::path(get, path = "/api/v1/trust-list", tag = "attestations", operation_id = "trust_list",
    responses((status = 200, description = "`{issuers: [{iss, jwks}], types: [{vct}]}`", body = Object)),
    security(()))]
pub async fn trust_list(State(s): State<RestState>) -> ApiResult<impl IntoResponse> {
    let doc = s.service.trust_list().await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=300"), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(doc)))
}
