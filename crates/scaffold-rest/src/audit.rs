//! `/api/v1/audit`: the append-only audit log, for operators.

use crate::RestState;
use crate::extract::{QueryParams, SignedIn, given};
use crate::problem::{ApiResult, Problem};
use crate::schema::{Page, next_link};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditBody {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The acting person; absent for the system (first run, command line).
    pub actor: Option<Uuid>,
    #[schema(example = "group.create")]
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The audit log, newest first
#[utoipa::path(get, path = "/api/v1/audit", tag = "operators", params(AuditParams),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditBody>),
        (status = 403, description = "INSUFFICIENT_SCOPE", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"])))]
pub async fn list(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    QueryParams(p): QueryParams<AuditParams>,
) -> ApiResult<Json<Page<AuditBody>>> {
    let page = s.service.audit_log(&actor, given(p.after).as_deref(), p.limit).await?;
    let next = next_link("/api/v1/audit", &[("limit", p.limit.map(|l| l.to_string()))], page.next);
    Ok(Json(Page {
        items: page
            .items
            .into_iter()
            .map(|e| AuditBody {
                id: e.id.0,
                at: e.at,
                actor: e.actor.map(|p| p.0),
                action: e.action,
                target_type: e.target_type,
                target_id: e.target_id,
                detail: e.detail,
            })
            .collect(),
        next,
    }))
}
