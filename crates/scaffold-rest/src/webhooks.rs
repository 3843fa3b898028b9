//! `/api/v1/apps/{app}/webhooks`: an app's subscriptions to changes (Standard Webhooks), their
//! secrets (shown once, rotated with an overlap), their delivery log and replay. The app's owner
//! (in person) or the app itself (its client credentials token) manages them.

use crate::RestState;
use crate::extract::{JsonBody, QueryParams, SignedIn};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::webhook::{Delivery, Webhook};
use scaffold_domain::{AppId, ChangeId, DomainError, WebhookId};
use scaffold_service::webhooks::{WebhookDraft, WebhookWithSecret};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: Uuid,
    pub app_id: Uuid,
    pub url: String,
    /// The change types it receives (`docs/webhooks.md`).
    #[schema(example = json!(["attestation.revoked"]))]
    pub types: Vec<String>,
    /// Only changes of this group.
    pub group_id: Option<Uuid>,
    /// Only changes of groups in these outward codes.
    pub outcodes: Vec<String>,
    /// Only attestation changes of these types.
    pub attestation_types: Vec<String>,
    /// `active`, or `disabled` (nothing is sent or queued).
    #[schema(example = "active")]
    pub status: String,
    /// Why it was disabled, for its owner.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u32,
    /// Until when the secret before the last rotation also signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookBody {
    fn from(w: Webhook) -> Self {
        let f = w.filter;
        Self {
            id: w.id.0,
            app_id: w.app_id.0,
            url: w.url,
            types: f.types.iter().map(|t| t.as_str().to_owned()).collect(),
            group_id: f.group_id.map(|g| g.0),
            outcodes: f.outcodes,
            attestation_types: f.attestation_types.iter().map(|t| t.as_str().to_owned()).collect(),
            status: w.status.as_str().to_owned(),
            disabled_reason: w.disabled_reason,
            consecutive_failures: w.consecutive_failures,
            previous_secret_until: w.previous_secret.map(|(_, until)| until),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A subscription with its signing secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecretBody {
    #[serde(flatten)]
    pub webhook: WebhookBody,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it (any Standard Webhooks library).
    pub secret: String,
}

impl std::fmt::Debug for WebhookWithSecretBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWithSecretBody").field("webhook", &self.webhook).field("secret", &"[redacted]").finish()
    }
}

impl From<WebhookWithSecret> for WebhookWithSecretBody {
    fn from(w: WebhookWithSecret) -> Self {
        Self { webhook: w.webhook.into(), secret: w.secret.0 }
    }
}

/// A subscription to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An https URL on a public address.
    #[schema(max_length = 2000, example = "https://matchmaker.example/hooks/scaffold")]
    pub url: String,
    /// Change types; each needs a scope the app is granted (`attestation.*`: `attestations:verify`;
    /// `event.*`, `occurrence.*`: `events:read`; the rest: `groups:read`).
    #[schema(min_items = 1, example = json!(["attestation.revoked"]))]
    pub types: Vec<String>,
    pub group_id: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["WN1"]))]
    pub outcodes: Vec<String>,
    #[serde(default)]
    #[schema(example = json!(["dbs-check"]))]
    pub attestation_types: Vec<String>,
}

/// One change's delivery to the subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    /// The change's id: the `webhook-id` header of every attempt.
    pub change_id: Uuid,
    #[schema(example = "attestation.revoked")]
    pub change_type: String,
    /// `pending`, `delivered` or `failed` (every attempt failed: replay sends it again).
    #[schema(example = "delivered")]
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The endpoint's HTTP status at the last attempt.
    pub last_status: Option<u16>,
    pub last_latency_ms: Option<u32>,
    /// What went wrong last.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryBody {
    fn from(d: Delivery) -> Self {
        Self {
            change_id: d.change_id.0,
            change_type: d.change_type.as_str().to_owned(),
            state: d.state.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.filter(|_| d.state == scaffold_domain::webhook::DeliveryState::Pending),
            last_attempt_at: d.last_attempt_at,
            last_status: d.last_status,
            last_latency_ms: d.last_latency_ms,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Deliveries queued before this time (the `created_at` of the last one of a page).
    pub before: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn ids(app: &str, webhook: Option<&str>) -> Result<(AppId, Option<WebhookId>), DomainError> {
    Ok((AppId::parse_or_not_found(app)?, webhook.map(WebhookId::parse_or_not_found).transpose()?))
}

fn both(app: &str, webhook: &str) -> Result<(AppId, WebhookId), DomainError> {
    let (a, w) = ids(app, Some(webhook))?;
    Ok((a, w.ok_or_else(WebhookId::not_found)?))
}

/// Subscribe an endpoint to changes
#[utoipa::path(post, path = "/api/v1/apps/{app}/webhooks", operation_id = "create_webhook", tag = "webhooks",
    request_body = NewWebhook, params(("app" = String, Path, description = "App id")),
    responses((status = 201, description = "Subscribed; the secret is shown once", body = WebhookWithSecretBody),
              (status = 404, description = "APP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "APP_REVOKED", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "UNKNOWN_CHANGE_TYPE, SCOPE_NOT_GRANTED, PRIVATE_ADDRESS, …", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn create(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(app): Path<String>,
    JsonBody { value: b, .. }: JsonBody<NewWebhook>,
) -> ApiResult<impl IntoResponse> {
    let (app, _) = ids(&app, None)?;
    let draft = WebhookDraft {
        url: b.url,
        types: b.types,
        group_id: b.group_id,
        outcodes: b.outcodes,
        attestation_types: b.attestation_types,
    };
    let created = s.service.create_webhook(&actor, app, &draft).await?;
    let location = format!("/api/v1/apps/{app}/webhooks/{}", created.webhook.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(WebhookWithSecretBody::from(created))))
}

/// An app's webhooks
#[utoipa::path(get, path = "/api/v1/apps/{app}/webhooks", operation_id = "list_webhooks", tag = "webhooks",
    params(("app" = String, Path, description = "App id")),
    responses((status = 200, description = "The subscriptions", body = WebhookList),
              (status = 404, description = "APP_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn list(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(app): Path<String>,
) -> ApiResult<Json<WebhookList>> {
    let (app, _) = ids(&app, None)?;
    let items = s.service.webhooks(&actor, app).await?.into_iter().map(Into::into).collect();
    Ok(Json(WebhookList { items }))
}

/// One webhook
#[utoipa::path(get, path = "/api/v1/apps/{app}/webhooks/{webhook}", operation_id = "get_webhook", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The subscription", body = WebhookBody),
              (status = 404, description = "WEBHOOK_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn get(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook)): Path<(String, String)>,
) -> ApiResult<Json<WebhookBody>> {
    let (app, id) = both(&app, &webhook)?;
    Ok(Json(s.service.webhook(&actor, app, id).await?.into()))
}

/// Delete a webhook (its waiting deliveries are dropped)
#[utoipa::path(delete, path = "/api/v1/apps/{app}/webhooks/{webhook}", operation_id = "delete_webhook", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "WEBHOOK_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn delete(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (app, id) = both(&app, &webhook)?;
    s.service.delete_webhook(&actor, app, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate a webhook's secret (the old one also signs for 24 hours)
#[utoipa::path(post, path = "/api/v1/apps/{app}/webhooks/{webhook}/secret", operation_id = "rotate_webhook_secret", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The new secret, shown once", body = WebhookWithSecretBody),
              (status = 404, description = "WEBHOOK_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn rotate(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook)): Path<(String, String)>,
) -> ApiResult<Json<WebhookWithSecretBody>> {
    let (app, id) = both(&app, &webhook)?;
    Ok(Json(s.service.rotate_webhook_secret(&actor, app, id).await?.into()))
}

/// Enable a webhook (waiting deliveries are sent again)
#[utoipa::path(post, path = "/api/v1/apps/{app}/webhooks/{webhook}/enable", operation_id = "enable_webhook", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The subscription", body = WebhookBody),
              (status = 404, description = "WEBHOOK_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn enable(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook)): Path<(String, String)>,
) -> ApiResult<Json<WebhookBody>> {
    let (app, id) = both(&app, &webhook)?;
    Ok(Json(s.service.set_webhook_enabled(&actor, app, id, true).await?.into()))
}

/// Disable a webhook (nothing is queued for it meanwhile)
#[utoipa::path(post, path = "/api/v1/apps/{app}/webhooks/{webhook}/disable", operation_id = "disable_webhook", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The subscription", body = WebhookBody),
              (status = 404, description = "WEBHOOK_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn disable(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook)): Path<(String, String)>,
) -> ApiResult<Json<WebhookBody>> {
    let (app, id) = both(&app, &webhook)?;
    Ok(Json(s.service.set_webhook_enabled(&actor, app, id, false).await?.into()))
}

/// A webhook's delivery log, newest first
#[utoipa::path(get, path = "/api/v1/apps/{app}/webhooks/{webhook}/deliveries", operation_id = "list_webhook_deliveries", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id"), DeliveryParams),
    responses((status = 200, description = "Deliveries", body = DeliveryList),
              (status = 404, description = "WEBHOOK_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn deliveries(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook)): Path<(String, String)>,
    QueryParams(q): QueryParams<DeliveryParams>,
) -> ApiResult<Json<DeliveryList>> {
    let (app, id) = both(&app, &webhook)?;
    let limit = scaffold_service::page_limit(q.limit)?;
    let items = s.service.webhook_deliveries(&actor, app, id, q.before, limit).await?;
    Ok(Json(DeliveryList { items: items.into_iter().map(Into::into).collect() }))
}

/// Send a change again, with the same `webhook-id`
#[utoipa::path(post, path = "/api/v1/apps/{app}/webhooks/{webhook}/deliveries/{change}/replay", operation_id = "replay_webhook_delivery", tag = "webhooks",
    params(("app" = String, Path, description = "App id"), ("webhook" = String, Path, description = "Webhook id"),
           ("change" = String, Path, description = "Change id (the delivery's `webhook-id`)")),
    responses((status = 202, description = "Queued: sent within seconds"),
              (status = 404, description = "WEBHOOK_NOT_FOUND, DELIVERY_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "WEBHOOK_DISABLED", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["profile"])))]
pub async fn replay(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((app, webhook, change)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (app, id) = both(&app, &webhook)?;
    let change = ChangeId::parse(&change).ok_or_else(|| {
        DomainError::not_found(scaffold_domain::codes::DELIVERY_NOT_FOUND, "the webhook has no delivery of that change")
    })?;
    s.service.replay_delivery(&actor, app, id, change).await?;
    Ok(StatusCode::ACCEPTED)
}
