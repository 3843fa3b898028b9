//! `/api/v1/apps`: community developers register apps, see them, rotate their secrets and revoke
//! them; operators approve scopes that need approval.

use crate::RestState;
use crate::extract::{JsonBody, QueryParams, SignedIn};
use crate::problem::{ApiResult, Problem};
use crate::schema::Page;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use scaffold_domain::identity::{App, AppDraft};
use scaffold_domain::{AppId, DomainError};
use scaffold_service::identity::apps::AppWithSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct AppBody {
    pub id: Uuid,
    /// The OAuth client id, for `/oauth/token`.
    pub client_id: String,
    pub owner: Uuid,
    pub name: String,
    pub description: String,
    pub homepage: Option<String>,
    pub redirect_uris: Vec<String>,
    #[schema(schema_with = crate::schema::scopes_schema)]
    pub requested_scopes: Vec<String>,
    /// What the app's tokens may carry. `attestations:*` appear once an operator approves them.
    #[schema(schema_with = crate::schema::scopes_schema)]
    pub granted_scopes: Vec<String>,
    /// `active` or `revoked`.
    pub status: String,
    pub secret_created_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<App> for AppBody {
    fn from(a: App) -> Self {
        AppBody {
            id: a.id.0,
            client_id: a.client_id,
            owner: a.owner.0,
            name: a.name,
            description: a.description,
            homepage: a.homepage,
            redirect_uris: a.redirect_uris,
            requested_scopes: a.requested_scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            granted_scopes: a.granted_scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            status: a.status.as_str().to_owned(),
            secret_created_at: a.secret_created_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An app with its client secret, which is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppWithSecretBody {
    pub app: AppBody,
    /// Store it now: only its hash is kept.
    pub client_secret: String,
}

impl From<AppWithSecret> for AppWithSecretBody {
    fn from(a: AppWithSecret) -> Self {
        AppWithSecretBody { client_secret: a.client_secret.expose().to_owned(), app: a.app.into() }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    #[schema(max_length = 100, example = "Casserole matcher")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    #[schema(max_length = 500, example = "https://example.org")]
    pub homepage: Option<String>,
    /// `https` URLs, or `http` on localhost; at most 10.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Scopes the app asks for; `attestations:issue` and `attestations:verify` need an operator's approval.
    #[schema(schema_with = crate::schema::scopes_schema, example = json!(["groups:read", "groups:write"]))]
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Requested scopes to grant.
    #[schema(schema_with = crate::schema::scopes_schema, example = json!(["attestations:verify"]))]
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppListParams {
    /// Operators: every app, paged by `after`.
    #[serde(default)]
    pub all: bool,
    /// The last app id of the previous page (with `all`).
    pub after: Option<Uuid>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Register an app
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", request_body = NewApp,
    responses((status = 201, description = "Registered; the secret is shown once", body = AppWithSecretBody),
              (status = 403, description = "Apps cannot register apps", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn register(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value: b, .. }: JsonBody<NewApp>,
) -> ApiResult<(StatusCode, Json<AppWithSecretBody>)> {
    let draft = AppDraft {
        name: b.name,
        description: b.description,
        homepage: b.homepage,
        redirect_uris: b.redirect_uris,
        scopes: b.scopes,
    };
    let created = s.service.register_app(&actor, &draft).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Your apps (operators: every app with `all=true`)
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps", params(AppListParams),
    responses((status = 200, description = "Apps", body = Page<AppBody>),
              (status = 403, description = "`all` needs the admin scope", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn list(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    QueryParams(q): QueryParams<AppListParams>,
) -> ApiResult<Json<Page<AppBody>>> {
    let limit = scaffold_service::page_limit(q.limit)?;
    let page = s.service.apps(&actor, q.all, q.after.map(AppId), limit).await?;
    let next = page.next.map(|after| format!("/api/v1/apps?all=true&after={after}&limit={limit}"));
    Ok(Json(Page { items: page.items.into_iter().map(Into::into).collect(), next }))
}

fn app_id(raw: &str) -> Result<AppId, DomainError> {
    AppId::parse_or_not_found(raw)
}

/// One app
#[utoipa::path(get, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App id")),
    responses((status = 200, description = "The app", body = AppBody)),
    security(("bearer" = ["profile"])))]
pub async fn get(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(app): Path<String>,
) -> ApiResult<Json<AppBody>> {
    Ok(Json(s.service.app(&actor, app_id(&app)?).await?.into()))
}

/// Approve requested scopes (operators)
#[utoipa::path(post, path = "/api/v1/apps/{app}/approve", tag = "apps", request_body = Approval,
    params(("app" = String, Path, description = "App id")),
    responses((status = 200, description = "The app with its new grant", body = AppBody),
              (status = 403, description = "Needs the admin scope", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The app is revoked", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn approve(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(app): Path<String>,
    JsonBody { value: b, .. }: JsonBody<Approval>,
) -> ApiResult<Json<AppBody>> {
    Ok(Json(s.service.approve_app_scopes(&actor, app_id(&app)?, &b.scopes).await?.into()))
}

/// Replace the client secret
#[utoipa::path(post, path = "/api/v1/apps/{app}/secret", tag = "apps", params(("app" = String, Path, description = "App id")),
    responses((status = 200, description = "The new secret, shown once; the old one stops working", body = AppWithSecretBody),
              (status = 409, description = "The app is revoked", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn rotate_secret(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(app): Path<String>,
) -> ApiResult<Json<AppWithSecretBody>> {
    Ok(Json(s.service.rotate_app_secret(&actor, app_id(&app)?).await?.into()))
}

/// Revoke an app
#[utoipa::path(delete, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "App id")),
    responses((status = 200, description = "Revoked: its secret and tokens no longer work", body = AppBody)),
    security(("bearer" = ["profile"])))]
pub async fn revoke(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(app): Path<String>,
) -> ApiResult<Json<AppBody>> {
    Ok(Json(s.service.revoke_app(&actor, app_id(&app)?).await?.into()))
}

/// An app you let act for you.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantBody {
    pub id: Uuid,
    pub app_id: Uuid,
    pub app_name: String,
    pub app_homepage: Option<String>,
    /// What you let it do.
    #[schema(schema_with = crate::schema::scopes_schema)]
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Apps acting for you
///
/// The apps you have let act for you (through the consent page), with what each may do.
#[utoipa::path(get, path = "/api/v1/me/grants", tag = "apps",
    responses((status = 200, description = "Your grants", body = Page<GrantBody>)),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn grants(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<Page<GrantBody>>> {
    let items = s
        .service
        .grants(&actor)
        .await?
        .into_iter()
        .map(|(g, a)| GrantBody {
            id: g.id.0,
            app_id: a.id.0,
            app_name: a.name,
            app_homepage: a.homepage,
            scopes: g.scopes.iter().map(|x| x.as_str().to_owned()).collect(),
            created_at: g.created_at,
            updated_at: g.updated_at,
        })
        .collect();
    Ok(Json(Page { items, next: None }))
}

/// Stop an app acting for you
///
/// Its access and refresh tokens for you stop working at once.
#[utoipa::path(delete, path = "/api/v1/me/grants/{grant}", tag = "apps",
    params(("grant" = uuid::Uuid, Path, description = "The grant's id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 404, description = "GRANT_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn revoke_grant(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(grant): Path<String>,
) -> ApiResult<StatusCode> {
    let id = scaffold_domain::GrantId::parse(&grant).ok_or_else(scaffold_domain::GrantId::not_found)?;
    s.service.revoke_grant(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
