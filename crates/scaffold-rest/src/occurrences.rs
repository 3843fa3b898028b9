//! `/api/v1/events/{event}/occurrences`: the dates of an event in a window, and changing one
//! date (cancel, move, restore).

use crate::RestState;
use crate::events::event_id;
use crate::extract::{Caller, JsonBody, QueryParams, SignedIn};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use scaffold_domain::DomainError;
use scaffold_shapes::{OccurrenceBody, OccurrenceChange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// Start of the window (RFC 3339).
    pub from: DateTime<Utc>,
    /// End of the window, at most 366 days after `from`.
    pub to: DateTime<Utc>,
}

/// Change one occurrence of a series
///
/// Cancel, postpone, move or relocate the occurrence the series starts at `local_start` (in the
/// event's zone, `YYYY-MM-DDTHH:MM`). Organisers and owners.
#[utoipa::path(put, path = "/api/v1/events/{event}/occurrences/{local_start}", tag = "events", request_body = OccurrenceChange,
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("local_start" = String, Path, description = "The occurrence's series local start, e.g. 2026-04-14T10:00")),
    responses(
        (status = 200, description = "The occurrence as it now is", body = OccurrenceBody),
        (status = 403, description = "Not an organiser", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["events:write"])))]
pub async fn set_occurrence(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((event, local_start)): Path<(String, String)>,
    JsonBody { value, .. }: JsonBody<OccurrenceChange>,
) -> ApiResult<Json<OccurrenceBody>> {
    let id = event_id(&event)?;
    let draft = scaffold_domain::event::OverrideDraft::from(value);
    let change = s.service.set_occurrence(&actor, id, &local_start, &draft).await?;
    let e = s.service.event(&actor, id).await?;
    let at = scaffold_domain::event::instant(e.timezone, change.local_start);
    let (_, list) =
        s.service.occurrences(&actor, id, at - chrono::Duration::seconds(1), at + chrono::Duration::seconds(1)).await?;
    let o = list
        .into_iter()
        .find(|o| o.local_start == change.local_start)
        .ok_or_else(|| DomainError::internal("the changed occurrence vanished"))?;
    Ok(Json(OccurrenceBody::from(o)))
}

/// Undo the change to one occurrence
#[utoipa::path(delete, path = "/api/v1/events/{event}/occurrences/{local_start}", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("local_start" = String, Path, description = "The occurrence's series local start")),
    responses((status = 204, description = "The occurrence is as its series says again")),
    security(("bearer" = ["events:write"])))]
pub async fn clear_occurrence(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((event, local_start)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service.clear_occurrence(&actor, event_id(&event)?, &local_start).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Occurrences {
    pub event_id: Uuid,
    pub timezone: String,
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: String,
    pub items: Vec<OccurrenceBody>,
}

/// The occurrences of an event in a window
#[utoipa::path(get, path = "/api/v1/events/{event}/occurrences", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id"), WindowParams),
    responses((status = 200, description = "Occurrences starting in [from, to), by start (at most 1000)", body = Occurrences)))]
pub async fn occurrences(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(event): Path<String>,
    QueryParams(q): QueryParams<WindowParams>,
) -> ApiResult<Json<Occurrences>> {
    let (e, list) = s.service.occurrences(&actor, event_id(&event)?, q.from, q.to).await?;
    Ok(Json(Occurrences {
        event_id: e.id.0,
        timezone: e.timezone.name().to_owned(),
        status: e.status.as_str().to_owned(),
        items: list.into_iter().map(OccurrenceBody::from).collect(),
    }))
}
