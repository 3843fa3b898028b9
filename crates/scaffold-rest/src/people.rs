//! `/api/v1/me` (the caller and their API keys) and `/api/v1/people` (operators onboard people
//! until they can sign in with OpenID Connect).

use crate::RestState;
use crate::extract::{JsonBody, SignedIn};
use crate::problem::{ApiResult, Problem};
use crate::schema::Page;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use scaffold_domain::{ApiKeyId, PersonId};
use scaffold_service::auth::IssuedKey;
use scaffold_service::identity::links::Invitee;
use scaffold_store::ApiKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    pub id: Uuid,
    pub display_name: String,
    /// Scopes of the credential used for this request.
    pub scopes: Vec<String>,
    /// `api_key`, `app`, `session`, `provider_token` or `local`.
    pub credential: String,
    pub created_at: DateTime<Utc>,
    /// Identities at OpenID Providers linked to this account (empty without the `profile` scope).
    pub identities: Vec<IdentityBody>,
    /// The assurance level a provider last asserted.
    pub assurance: Option<AssuranceBody>,
    /// Your first 50 memberships; `memberships_next` pages through the rest.
    pub memberships: Vec<MyMembershipBody>,
    /// `/api/v1/me/memberships?after=…` when you have more memberships.
    pub memberships_next: Option<String>,
    pub apps: Vec<crate::apps::AppBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityBody {
    pub id: Uuid,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssuranceBody {
    /// `none`, `low`, `medium` or `high`.
    pub level: String,
    pub provider: String,
    /// What it was derived from, e.g. `vot=P2`.
    pub source: String,
    pub asserted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyMembershipBody {
    pub group_id: Uuid,
    pub role: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        ApiKeyBody {
            id: k.id.0,
            name: k.name,
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key with its token, which is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKeyBody {
    pub key: ApiKeyBody,
    /// The bearer token. Store it now: only its hash is kept.
    pub token: String,
}

impl From<IssuedKey> for IssuedKeyBody {
    fn from(i: IssuedKey) -> Self {
        IssuedKeyBody { token: i.token.expose().to_owned(), key: i.key.into() }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[schema(example = "meal-matching server", min_length = 1, max_length = 100)]
    pub name: String,
    /// At most the scopes of the key making the request.
    #[schema(schema_with = crate::schema::scopes_schema, example = json!(["groups:read"]))]
    pub scopes: Vec<String>,
}

/// The caller
#[utoipa::path(get, path = "/api/v1/me", tag = "people",
    responses(
        (status = 200, description = "Who you are", body = MeBody),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn me(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<MeBody>> {
    let me = s.service.me(&actor).await?;
    Ok(Json(MeBody {
        id: me.person.id.0,
        display_name: me.person.display_name,
        scopes: me.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        credential: me.credential.name().to_owned(),
        created_at: me.person.created_at,
        identities: me
            .identities
            .into_iter()
            .map(|i| IdentityBody {
                id: i.id.0,
                provider: i.provider,
                issuer: i.issuer,
                subject: i.subject,
                created_at: i.created_at,
                last_login_at: i.last_login_at,
            })
            .collect(),
        assurance: me.assurance.map(|a| AssuranceBody {
            level: a.level.as_str().to_owned(),
            provider: a.provider,
            source: a.source,
            asserted_at: a.asserted_at,
        }),
        memberships: me.memberships.into_iter().map(my_membership).collect(),
        memberships_next: me.memberships_next.map(|after| format!("/api/v1/me/memberships?after={after}")),
        apps: me.apps.into_iter().map(Into::into).collect(),
    }))
}

fn my_membership(m: scaffold_domain::membership::Membership) -> MyMembershipBody {
    MyMembershipBody {
        group_id: m.group_id.0,
        role: m.role.as_str().to_owned(),
        status: m.status.as_str().to_owned(),
        created_at: m.created_at,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipPageParams {
    /// The `next` cursor of the page before.
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Your memberships
#[utoipa::path(get, path = "/api/v1/me/memberships", tag = "people", params(MembershipPageParams),
    responses((status = 200, description = "Your memberships in group id order", body = Page<MyMembershipBody>)),
    security(("bearer" = ["profile"])))]
pub async fn my_memberships(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    crate::extract::QueryParams(q): crate::extract::QueryParams<MembershipPageParams>,
) -> ApiResult<Json<Page<MyMembershipBody>>> {
    let limit = scaffold_service::page_limit(q.limit)?;
    let page = s.service.my_memberships(&actor, q.after.as_deref(), limit).await?;
    let next = page.next.map(|after| format!("/api/v1/me/memberships?after={after}&limit={limit}"));
    Ok(Json(Page { items: page.items.into_iter().map(my_membership).collect(), next }))
}

/// Delete your account
///
/// Removes your profile, identities, sessions, keys, apps and memberships. The audit log keeps a
/// pseudonymous id in place of yours. Refused while you are the only owner of an active group.
#[utoipa::path(delete, path = "/api/v1/me", tag = "people",
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Apps cannot delete accounts", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You are the only owner of a group", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"])))]
pub async fn delete_me(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<StatusCode> {
    s.service.delete_account(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your API keys
#[utoipa::path(get, path = "/api/v1/me/api-keys", tag = "people",
    responses((status = 200, description = "Your keys (never their tokens)", body = Page<ApiKeyBody>)),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn list_keys(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<Page<ApiKeyBody>>> {
    let page = s.service.own_keys(&actor).await?;
    Ok(Json(Page { items: page.items.into_iter().map(Into::into).collect(), next: None }))
}

/// Create an API key
#[utoipa::path(post, path = "/api/v1/me/api-keys", tag = "people", request_body = NewKey,
    responses(
        (status = 201, description = "The key and its token (shown once)", body = IssuedKeyBody),
        (status = 403, description = "SCOPE_NOT_HELD", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "UNKNOWN_SCOPE and other invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn create_key(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    body: JsonBody<NewKey>,
) -> ApiResult<(StatusCode, Json<IssuedKeyBody>)> {
    let issued = s.service.create_own_key(&actor, &body.value.name, &body.value.scopes).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Revoke one of your API keys
#[utoipa::path(delete, path = "/api/v1/me/api-keys/{key}", tag = "people",
    params(("key" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "API_KEY_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn revoke_key(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    let id = ApiKeyId::parse_or_not_found(&key)?;
    s.service.revoke_own_key(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPersonBody {
    #[schema(example = "Ada", min_length = 1, max_length = 100)]
    pub display_name: String,
    #[schema(schema_with = crate::schema::scopes_schema, example = json!(["groups:read", "groups:write"]))]
    pub scopes: Vec<String>,
    #[serde(default = "default_key_name")]
    #[schema(min_length = 1, max_length = 100)]
    pub key_name: String,
}

fn default_key_name() -> String {
    "first key".to_owned()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedPersonBody {
    pub id: Uuid,
    pub display_name: String,
    pub api_key: IssuedKeyBody,
}

/// Create a person with an API key
///
/// Operators only (`admin`). Lets an instance onboard organisers before OpenID Connect sign-in.
#[utoipa::path(post, path = "/api/v1/people", tag = "operators", request_body = NewPersonBody,
    responses(
        (status = 201, description = "The person and their first key (token shown once)", body = CreatedPersonBody),
        (status = 403, description = "INSUFFICIENT_SCOPE", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"])))]
pub async fn create_person(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    body: JsonBody<NewPersonBody>,
) -> ApiResult<(StatusCode, Json<CreatedPersonBody>)> {
    let b = body.value;
    let created = s.service.create_person(&actor, &b.display_name, &b.key_name, &b.scopes).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedPersonBody {
            id: created.person.id.0,
            display_name: created.person.display_name,
            api_key: created.issued.into(),
        }),
    ))
}

/// A sign-in link for an existing person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteExisting {
    pub person_id: Uuid,
    /// How long the link works (default 60, at most 10,080: a week).
    #[schema(minimum = 1, maximum = 10080, example = 60)]
    pub expires_in_minutes: Option<i64>,
}

/// A sign-in link for a new person, made with this name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteNew {
    #[schema(example = "Ada", min_length = 1, max_length = 100)]
    pub display_name: String,
    /// How long the link works (default 60, at most 10,080: a week).
    #[schema(minimum = 1, maximum = 10080, example = 60)]
    pub expires_in_minutes: Option<i64>,
}

/// Who a sign-in link is for: an existing person (`person_id`) or a new one (`display_name`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NewSignInLinkBody {
    Existing(InviteExisting),
    New(InviteNew),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInLinkBody {
    /// The link to send the person: opened in a browser, it signs them in once. Shown once.
    pub url: String,
    pub person_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Create a one-time sign-in link
///
/// Operators only (`admin`). For an instance without an OpenID Provider, or a person without an
/// account there: the link starts one browser session, once, before it expires. Only its hash is
/// stored.
#[utoipa::path(post, path = "/api/v1/sign-in-links", tag = "operators", request_body = NewSignInLinkBody,
    responses(
        (status = 201, description = "The link (shown once)", body = SignInLinkBody),
        (status = 403, description = "INSUFFICIENT_SCOPE", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "PERSON_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"])))]
pub async fn create_sign_in_link(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    body: JsonBody<NewSignInLinkBody>,
) -> ApiResult<(StatusCode, Json<SignInLinkBody>)> {
    let (who, minutes) = match body.value {
        NewSignInLinkBody::Existing(e) => (Invitee::Person(PersonId(e.person_id)), e.expires_in_minutes),
        NewSignInLinkBody::New(n) => (Invitee::New(n.display_name), n.expires_in_minutes),
    };
    let link = s.service.invite_sign_in(Some(&actor), &who, minutes).await?;
    Ok((
        StatusCode::CREATED,
        Json(SignInLinkBody { url: link.url, person_id: link.person_id.0, expires_at: link.expires_at }),
    ))
}
