//! Attestations: issuer authorisations, offering, accepting, holding, withdrawing and revoking
//! credentials, and the public documents verifiers fetch: issuer metadata with its keys
//! (`/.well-known/jwt-vc-issuer`), credential type metadata (`/vct/{type}/{version}`) and status
//! lists (`/status-lists/{n}`).

use crate::RestState;
use crate::extract::{Caller, JsonBody, SignedIn};
use crate::groups::group_ref;
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, Evidence, IssueDraft};
use scaffold_domain::codes;
use scaffold_domain::{AttestationId, DomainError, PersonId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

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

/// A type an operator lets a group issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthoriseBody {
    /// `dbs-check`, `role-status` or `qualification`.
    #[serde(rename = "type")]
    #[schema(schema_with = attestation_type_schema)]
    pub attestation_type: AttestationType,
}

/// The types a group may issue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerTypes {
    #[schema(value_type = Vec<String>)]
    pub types: Vec<&'static str>,
}

fn attestation_type_schema() -> utoipa::openapi::schema::Object {
    crate::schema::enum_schema(AttestationType::ALL.iter().map(|t| t.as_str()), "An attestation type")
}

/// Let a group issue a type (operators)
///
/// The group must have a verified charity or company number.
#[utoipa::path(post, path = "/api/v1/groups/{group}/issuer-types", tag = "attestations", request_body = AuthoriseBody,
    params(("group" = String, Path, description = "The group's id or slug")),
    responses(
        (status = 200, description = "The types the group may now issue", body = IssuerTypes),
        (status = 403, description = "Operators only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "ISSUER_NOT_VERIFIED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"])))]
pub async fn authorise(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    JsonBody { value, .. }: JsonBody<AuthoriseBody>,
) -> ApiResult<Json<IssuerTypes>> {
    let types = s.service.authorise_issuer(&actor, &group_ref(&group), value.attestation_type).await?;
    Ok(Json(IssuerTypes { types: types.iter().map(|t| t.as_str()).collect() }))
}

/// The types a group may issue
#[utoipa::path(get, path = "/api/v1/groups/{group}/issuer-types", tag = "attestations",
    params(("group" = String, Path, description = "The group's id or slug")),
    responses((status = 200, description = "The types", body = IssuerTypes)),
    security((), ("bearer" = ["groups:read"])))]
pub async fn issuer_types(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(group): Path<String>,
) -> ApiResult<Json<IssuerTypes>> {
    let types = s.service.issuer_types(&actor, &group_ref(&group)).await?;
    Ok(Json(IssuerTypes { types: types.iter().map(|t| t.as_str()).collect() }))
}

/// How the issuer checked.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// What was checked, e.g. "original DBS certificate".
    #[schema(max_length = 200)]
    pub checked: String,
    /// How, e.g. "seen in person".
    #[schema(max_length = 200)]
    pub method: String,
    pub checked_on: NaiveDate,
}

/// An attestation to offer to a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    #[serde(rename = "type")]
    #[schema(schema_with = attestation_type_schema)]
    pub attestation_type: AttestationType,
    /// The person it is about (their id).
    pub subject: Uuid,
    /// The type's claims. `dbs-check`: `level`, `barred_lists`, `workforce`,
    /// `certificate_issued_on`, `update_service` (`no_new_information`), `original_seen_on`,
    /// `decision` (`suitable`) — never the certificate number or content. `role-status`: `role`,
    /// `since`. `qualification`: `title`, `awarding_body`, `awarded_on`.
    #[schema(value_type = Object)]
    pub claims: Value,
    pub evidence: EvidenceBody,
    /// Validity in days (default and maximum: the type's; DBS checks 90).
    pub valid_days: Option<i64>,
}

/// An attestation, as its issuer or its holder sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttestationBody {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub attestation_type: &'static str,
    pub vct: String,
    pub subject: Uuid,
    /// The issuing group; absent for identity-verified credentials (the instance issues them).
    pub issuer_group_id: Option<Uuid>,
    /// offered, active, declined, revoked or withdrawn.
    pub state: &'static str,
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, Value>,
    pub evidence: EvidenceBody,
    pub valid_days: i64,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn body(s: &RestState, a: Attestation) -> AttestationBody {
    let public = s.service.identity().config().public_url.clone();
    AttestationBody {
        id: a.id.0,
        attestation_type: a.attestation_type.as_str(),
        vct: a.attestation_type.vct(&public),
        subject: a.subject.0,
        issuer_group_id: a.issuer_group.map(|g| g.0),
        state: a.state.as_str(),
        claims: a.claims,
        evidence: EvidenceBody {
            checked: a.evidence.checked,
            method: a.evidence.method,
            checked_on: a.evidence.checked_on,
        },
        valid_days: a.valid_days,
        issued_at: a.issued_at,
        expires_at: a.expires_at,
        reason: a.reason,
        created_at: a.created_at,
    }
}

fn attestation_id(s: &str) -> Result<AttestationId, DomainError> {
    AttestationId::parse_or_not_found(s)
}

/// Offer an attestation to a person (the issuing group's organisers)
///
/// The group must be authorised for the type. The person sees it in `GET /api/v1/me/attestations`
/// and it becomes a credential when they accept it. The evidence is recorded, never put in the
/// credential; the audit log records who offered what to whom, never the claims.
#[utoipa::path(post, path = "/api/v1/groups/{group}/attestations", tag = "attestations", request_body = IssueBody,
    params(("group" = String, Path, description = "The issuing group's id or slug")),
    responses(
        (status = 201, description = "Offered", body = AttestationBody),
        (status = 403, description = "GROUP_ROLE_REQUIRED, ISSUER_NOT_AUTHORISED", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PERSON_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SELF_ISSUE", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["attestations:issue"])))]
pub async fn issue(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    JsonBody { value, .. }: JsonBody<IssueBody>,
) -> ApiResult<(StatusCode, Json<AttestationBody>)> {
    let draft = IssueDraft {
        attestation_type: value.attestation_type,
        subject: PersonId(value.subject),
        claims: value.claims,
        evidence: Evidence {
            checked: value.evidence.checked,
            method: value.evidence.method,
            checked_on: value.evidence.checked_on,
        },
        valid_days: value.valid_days,
    };
    let a = s.service.issue_attestation(&actor, &group_ref(&group), &draft).await?;
    Ok((StatusCode::CREATED, Json(body(&s, a))))
}

/// Your attestations
#[derive(Debug, Serialize, ToSchema)]
pub struct AttestationList {
    pub items: Vec<AttestationBody>,
}

/// Your attestations, newest first
#[utoipa::path(get, path = "/api/v1/me/attestations", tag = "attestations",
    responses((status = 200, description = "Offered, active and ended attestations", body = AttestationList)),
    security(("bearer" = ["profile"])))]
pub async fn mine(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<AttestationList>> {
    let items = s.service.my_attestations(&actor).await?.into_iter().map(|a| body(&s, a)).collect();
    Ok(Json(AttestationList { items }))
}

/// One of your attestations
#[utoipa::path(get, path = "/api/v1/me/attestations/{id}", tag = "attestations",
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses((status = 200, description = "The attestation", body = AttestationBody)),
    security(("bearer" = ["profile"])))]
pub async fn one(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<AttestationBody>> {
    Ok(Json(body(&s, s.service.my_attestation(&actor, attestation_id(&id)?).await?)))
}

/// Accepting an offered attestation.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// Your wallet's public key (EC P-256 JWK), to bind the credential to it (key binding).
    #[schema(value_type = Option<Object>)]
    pub holder_jwk: Option<Value>,
}

/// Accept an offered attestation: it is signed and becomes active
#[utoipa::path(post, path = "/api/v1/me/attestations/{id}/accept", tag = "attestations", request_body = AcceptBody,
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses(
        (status = 200, description = "Active", body = AttestationBody),
        (status = 409, description = "ATTESTATION_STATE", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"])))]
pub async fn accept(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
    JsonBody { value, .. }: JsonBody<AcceptBody>,
) -> ApiResult<Json<AttestationBody>> {
    let a = s.service.accept_attestation(&actor, attestation_id(&id)?, value.holder_jwk.as_ref()).await?;
    Ok(Json(body(&s, a)))
}

/// Decline an offered attestation
#[utoipa::path(post, path = "/api/v1/me/attestations/{id}/decline", tag = "attestations",
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses((status = 200, description = "Declined", body = AttestationBody)),
    security(("bearer" = ["profile"])))]
pub async fn decline(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<AttestationBody>> {
    Ok(Json(body(&s, s.service.decline_attestation(&actor, attestation_id(&id)?).await?)))
}

/// A reason for ending an attestation.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[schema(max_length = 280)]
    pub reason: Option<String>,
}

/// Withdraw your active attestation: it stops verifying at once
#[utoipa::path(post, path = "/api/v1/me/attestations/{id}/withdraw", tag = "attestations", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses((status = 200, description = "Withdrawn", body = AttestationBody)),
    security(("bearer" = ["profile"])))]
pub async fn withdraw(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
    JsonBody { value, .. }: JsonBody<ReasonBody>,
) -> ApiResult<Json<AttestationBody>> {
    let a = s.service.withdraw_attestation(&actor, attestation_id(&id)?, value.reason.as_deref()).await?;
    Ok(Json(body(&s, a)))
}

/// Your credential, for a wallet (an SD-JWT VC with every disclosure)
#[utoipa::path(get, path = "/api/v1/me/attestations/{id}/credential", tag = "attestations",
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses(
        (status = 200, description = "The SD-JWT VC", body = String, content_type = "application/dc+sd-jwt"),
        (status = 409, description = "ATTESTATION_STATE: not active", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"])))]
pub async fn credential(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let a = s.service.my_attestation(&actor, attestation_id(&id)?).await?;
    match (a.state, a.credential) {
        (AttestationState::Active, Some(c)) => {
            Ok(([(header::CONTENT_TYPE, "application/dc+sd-jwt"), (header::CACHE_CONTROL, "no-store")], c)
                .into_response())
        }
        (state, _) => {
            Err(DomainError::conflict(codes::ATTESTATION_STATE, format!("the attestation is {state}, not active"))
                .into())
        }
    }
}

/// Revoke an attestation (the issuing group's organisers)
#[utoipa::path(post, path = "/api/v1/attestations/{id}/revoke", tag = "attestations", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses(
        (status = 200, description = "Revoked: its status list entry is set", body = AttestationBody),
        (status = 404, description = "ATTESTATION_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["attestations:issue"])))]
pub async fn revoke(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
    JsonBody { value, .. }: JsonBody<ReasonBody>,
) -> ApiResult<Json<AttestationBody>> {
    let reason = value.reason.unwrap_or_default();
    Ok(Json(body(&s, s.service.revoke_attestation(&actor, attestation_id(&id)?, &reason).await?)))
}

/// A status list (IETF Token Status List)
///
/// A signed `statuslist+jwt`: one bit per credential, set when revoked. Cache it for its `ttl`.
#[utoipa::path(get, path = "/status-lists/{n}", tag = "attestations",
    params(("n" = i64, Path, description = "The list's number")),
    responses(
        (status = 200, description = "The status list token", body = String, content_type = "application/statuslist+jwt"),
        (status = 404, description = "STATUS_LIST_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn status_list(State(s): State<RestState>, Path(n): Path<String>) -> ApiResult<Response> {
    let n = n
        .parse::<i64>()
        .map_err(|_| DomainError::not_found(codes::STATUS_LIST_NOT_FOUND, "there is no such status list"))?;
    let token = s.service.status_list_token(n).await?;
    let mut res = ([(header::CONTENT_TYPE, "application/statuslist+jwt")], token).into_response();
    let h = res.headers_mut();
    let _ = h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    let cache = format!("public, max-age={}", s.service.status_list_ttl());
    let _ =
        h.insert(header::CACHE_CONTROL, HeaderValue::from_str(&cache).unwrap_or(HeaderValue::from_static("no-cache")));
    Ok(res)
}

/// What to share.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// The claims to share (names from the attestation's `claims`).
    pub claims: Vec<String>,
    /// Only this verifier app may redeem it (its id); any verifier when absent.
    pub verifier_app: Option<Uuid>,
    /// 1–30 days (default 7).
    pub expires_in_days: Option<i64>,
    /// 1–100 redemptions (default 1).
    pub max_uses: Option<i64>,
}

/// One redemption of a share.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedemptionBody {
    pub verifier: Uuid,
    pub app: Option<Uuid>,
    /// `valid`, or why it failed (e.g. `ATTESTATION_REVOKED`, `SHARE_EXPIRED`).
    pub result: String,
    pub redeemed_at: DateTime<Utc>,
}

/// A share, with its redemptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareOut {
    pub id: Uuid,
    pub claims: Vec<String>,
    pub verifier_app: Option<Uuid>,
    pub max_uses: i64,
    pub uses: i64,
    pub expires_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub redemptions: Vec<RedemptionBody>,
}

/// A new share and its code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedShareBody {
    /// Give this to the verifier (shown once): `XXXX-XXXX-XX`, no look-alike characters.
    pub code: String,
    pub share: ShareOut,
}

/// An attestation's shares.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareList {
    pub items: Vec<ShareOut>,
}

fn share_out(
    s: scaffold_domain::attestation::Share,
    redemptions: Vec<scaffold_domain::attestation::Redemption>,
) -> ShareOut {
    ShareOut {
        id: s.id.0,
        claims: s.claims,
        verifier_app: s.verifier_app.map(|a| a.0),
        max_uses: s.max_uses,
        uses: s.uses,
        expires_at: s.expires_at,
        withdrawn_at: s.withdrawn_at,
        created_at: s.created_at,
        redemptions: redemptions
            .into_iter()
            .map(|r| RedemptionBody {
                verifier: r.verifier.0,
                app: r.app.map(|a| a.0),
                result: r.result,
                redeemed_at: r.redeemed_at,
            })
            .collect(),
    }
}

/// Share some claims of your attestation with a verifier
///
/// You get a short code for the verifier, shown once. The verifier app redeems it with
/// `POST /api/v1/shares/redeem` and sees only the claims you chose.
#[utoipa::path(post, path = "/api/v1/me/attestations/{id}/shares", tag = "attestations", request_body = ShareBody,
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses(
        (status = 201, description = "The share and its code", body = CreatedShareBody),
        (status = 409, description = "ATTESTATION_STATE: not active", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"])))]
pub async fn create_share(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
    JsonBody { value, .. }: JsonBody<ShareBody>,
) -> ApiResult<(StatusCode, Json<CreatedShareBody>)> {
    let draft = scaffold_service::attestations::ShareDraft {
        claims: value.claims,
        verifier_app: value.verifier_app.map(scaffold_domain::AppId),
        expires_in_days: value.expires_in_days,
        max_uses: value.max_uses,
    };
    let created = s.service.create_share(&actor, attestation_id(&id)?, &draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedShareBody { code: created.code, share: share_out(created.share, Vec::new()) }),
    ))
}

/// Your attestation's shares and who redeemed them
#[utoipa::path(get, path = "/api/v1/me/attestations/{id}/shares", tag = "attestations",
    params(("id" = Uuid, Path, description = "The attestation's id")),
    responses((status = 200, description = "Shares, newest first, each with its redemptions", body = ShareList)),
    security(("bearer" = ["profile"])))]
pub async fn shares(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<ShareList>> {
    let items =
        s.service.shares(&actor, attestation_id(&id)?).await?.into_iter().map(|(s, r)| share_out(s, r)).collect();
    Ok(Json(ShareList { items }))
}

/// Withdraw a share: its code stops working
#[utoipa::path(post, path = "/api/v1/me/attestations/{id}/shares/{share}/withdraw", tag = "attestations",
    params(("id" = Uuid, Path, description = "The attestation's id"), ("share" = Uuid, Path, description = "The share's id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 409, description = "SHARE_WITHDRAWN", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"])))]
pub async fn withdraw_share(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((id, share)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let share = scaffold_domain::ShareId::parse_or_not_found(&share)?;
    s.service.withdraw_share(&actor, attestation_id(&id)?, share).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A share code to redeem.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// As the holder gave it (any case; dashes and spaces ignored).
    #[schema(example = "KX7M-4PQR-2T")]
    pub code: String,
}

/// What the holder shared, verified now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemedBody {
    /// Always `valid` (failures are problems with a code).
    pub result: &'static str,
    #[serde(rename = "type")]
    pub attestation_type: &'static str,
    pub vct: String,
    pub issuer: String,
    /// The group that attested; absent for identity-verified credentials, and for role and
    /// status credentials when the holder did not share the organisation.
    pub issuer_group_id: Option<Uuid>,
    /// Only the claims the holder chose.
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, Value>,
    pub expires_at: Option<DateTime<Utc>>,
    pub verified_at: DateTime<Utc>,
    /// The same result as a JWT (`typ: verification-result+jwt`) signed with the issuer's
    /// attestation key (`/.well-known/jwt-vc-issuer`), `aud` = `app:<your app id>`, `jti` = this
    /// redemption, valid 5 minutes.
    pub signed_result: String,
}

/// Redeem a share code (verifier apps)
///
/// Verifies the credential now (signature, validity, status list) and returns only the shared
/// claims. Failures: `SHARE_NOT_FOUND` (also when the holder shared it with another app),
/// `SHARE_WITHDRAWN`, `SHARE_EXPIRED`,
/// `SHARE_USED_UP`, `ATTESTATION_REVOKED`, `ATTESTATION_EXPIRED`, `ATTESTATION_INVALID`; 30
/// attempts a minute per verifier. Every attempt on a share is shown to its holder.
#[utoipa::path(post, path = "/api/v1/shares/redeem", tag = "attestations", request_body = RedeemBody,
    responses(
        (status = 200, description = "Verified", body = RedeemedBody),
        (status = 404, description = "SHARE_NOT_FOUND (no such code, or shared with another app)", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The share or the attestation no longer stands (see its code)", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["attestations:verify"])))]
pub async fn redeem(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value, .. }: JsonBody<RedeemBody>,
) -> ApiResult<Json<RedeemedBody>> {
    let r = s.service.redeem_share(&actor, &value.code).await?;
    Ok(Json(RedeemedBody {
        result: "valid",
        attestation_type: r.attestation_type.as_str(),
        vct: r.vct,
        issuer: r.issuer,
        issuer_group_id: r.issuer_group.map(|g| g.0),
        claims: r.claims,
        expires_at: r.expires_at,
        verified_at: r.verified_at,
        signed_result: r.result,
    }))
}

/// Get an identity-verified credential from your sign-in assurance
///
/// The instance issues it at once (your request is your acceptance) from the level of assurance
/// your identity provider asserted at sign-in (e.g. GOV.UK One Login `vot=P2` → `medium`):
/// `assurance_level`, `assurance_source`, `verified_at`. Valid 90 days.
#[utoipa::path(post, path = "/api/v1/me/attestations/identity-verified", tag = "attestations", request_body = AcceptBody,
    responses(
        (status = 201, description = "Active", body = AttestationBody),
        (status = 409, description = "NO_VERIFIED_IDENTITY", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"])))]
pub async fn attest_identity(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value, .. }: JsonBody<AcceptBody>,
) -> ApiResult<(StatusCode, Json<AttestationBody>)> {
    let a = s.service.attest_identity(&actor, value.holder_jwk.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(body(&s, a))))
}

/// A wallet's presentation, for online verification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresentationBody {
    /// The SD-JWT VC presentation: `<jwt>~<disclosures>~<key-binding JWT>`.
    #[schema(max_length = 65536)]
    pub presentation: String,
    /// The audience the key-binding JWT must name (what this verifier told the wallet).
    #[schema(max_length = 200, example = "https://matcher.example")]
    pub audience: String,
    /// The nonce this verifier gave the wallet.
    #[schema(max_length = 200)]
    pub nonce: String,
}

/// What a presentation showed, verified now.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedPresentation {
    /// Always `valid` (failures are problems with a code).
    pub result: &'static str,
    #[serde(rename = "type")]
    pub attestation_type: &'static str,
    pub vct: String,
    /// The instance that issued it: this one, or a trusted peer's base URL.
    pub issuer: String,
    /// The claims the holder disclosed (and the ones always shown).
    pub claims: serde_json::Map<String, Value>,
    pub credential_expires_at: Option<DateTime<Utc>>,
    /// The credential's status list was read (within its `ttl`) and it is not revoked.
    pub status_checked: bool,
    /// The same result as a JWT (`typ: verification-result+jwt`) signed with this instance's
    /// attestation key, `aud` = `app:<your app id>` (or `person:<id>`), valid 5 minutes.
    pub signed_result: String,
}

/// Verify a wallet's presentation (verifier apps)
///
/// Checks a holder-bound SD-JWT VC presentation online: the issuer (this instance, or a peer the
/// operator trusts for that type), signature, validity, disclosures, the key-binding JWT (for
/// your `audience` and `nonce`, at most 5 minutes old) and the status list (a peer's is fetched
/// and kept within its `ttl`). A presentation that does not verify is `422
/// PRESENTATION_INVALID`, with the verifier's code in the detail (e.g. `REVOKED`,
/// `UNTRUSTED_ISSUER`, `KB_WRONG_NONCE`; see docs/verifiers.md).
#[utoipa::path(post, path = "/api/v1/presentations/verify", tag = "attestations", request_body = PresentationBody,
    responses(
        (status = 200, description = "Verified", body = VerifiedPresentation),
        (status = 422, description = "PRESENTATION_INVALID or VALIDATION_FAILED", body = Problem,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = ["attestations:verify"])))]
pub async fn verify_presentation(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value, .. }: JsonBody<PresentationBody>,
) -> ApiResult<Json<VerifiedPresentation>> {
    use scaffold_service::attestations::PresentationCheck;
    match s.service.verify_presentation(&actor, &value.presentation, &value.audience, &value.nonce).await? {
        PresentationCheck::Valid { verified, attestation_type, issuer, result_token } => {
            let claims = verified.claims.into_iter().filter(|(k, _)| verified.disclosed.contains(k)).collect();
            Ok(Json(VerifiedPresentation {
                result: "valid",
                attestation_type: attestation_type.as_str(),
                vct: verified.vct,
                issuer,
                claims,
                credential_expires_at: DateTime::from_timestamp(verified.exp, 0),
                status_checked: verified.status_checked,
                signed_result: result_token,
            }))
        }
        PresentationCheck::Invalid { code, reason } => Err(DomainError::new(
            scaffold_domain::ErrorKind::Invalid,
            codes::PRESENTATION_INVALID,
            format!("the presentation does not verify ({code}): {reason}"),
        )
        .into()),
    }
}
