//! `/api/v1/me` (the caller and their API keys) and `/api/v1/people` (operators onboard people
//! until they can sign in with OpenID Connect).

use crate::RestState;
use crate::extract::{Caller, JsonBody};
use crate::problem::{ApiResult, Problem};
use crate::schema::Page;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use scaffold_domain::{ApiKeyId, DomainError};
use scaffold_service::auth::IssuedKey;
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
pub async fn me(State(s): State<RestState>, Caller(actor): Caller) -> ApiResult<Json<MeBody>> {
    let (p, scopes) = s.service.person(&actor).await?;
    Ok(Json(MeBody {
        id: p.id.0,
        display_name: p.display_name,
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_at: p.created_at,
    }))
}

/// Your API keys
#[utoipa::path(get, path = "/api/v1/me/api-keys", tag = "people",
    responses((status = 200, description = "Your keys (never their tokens)", body = Page<ApiKeyBody>)),
    security(("bearer" = [])))]
pub async fn list_keys(State(s): State<RestState>, Caller(actor): Caller) -> ApiResult<Json<Page<ApiKeyBody>>> {
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
    security(("bearer" = [])))]
pub async fn create_key(
    State(s): State<RestState>,
    Caller(actor): Caller,
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
    security(("bearer" = [])))]
pub async fn revoke_key(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    let id = ApiKeyId::parse(&key)
        .ok_or_else(|| DomainError::not_found("API_KEY_NOT_FOUND", "you have no live key with that id"))?;
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
    Caller(actor): Caller,
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
