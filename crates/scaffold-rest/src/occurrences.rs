//! `/api/v1/events/{event}/occurrences`: the dates of an event in a window, and changing one
//! date (cancel, move, restore).

use crate::RestState;
use crate::events::{event_id, local};
use crate::extract::{Caller, JsonBody, QueryParams, SignedIn};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use scaffold_domain::DomainError;
use scaffold_domain::event::{EventStatus, PlaceInput};
use scaffold_shapes::{PlaceBody, PlaceOut};
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

#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceBody {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The series' local start in the event's zone, which names the occurrence (also when moved).
    pub local_start: String,
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: String,
    pub reason: Option<String>,
    /// Moved from its series time.
    pub moved: bool,
    /// A place for this occurrence only.
    pub place: Option<PlaceOut>,
}

pub(crate) fn occurrence_body(o: scaffold_domain::event::Occurrence) -> OccurrenceBody {
    OccurrenceBody {
        start: o.start,
        end: o.end,
        local_start: local(&o.local_start),
        status: o.status.as_str().to_owned(),
        reason: o.reason,
        moved: o.moved,
        place: o.place.as_ref().map(PlaceOut::from),
    }
}

/// A change to one occurrence of a series.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccurrenceChange {
    /// `cancelled` or `postponed` (or `scheduled` to keep it while moving or relocating it).
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: Option<EventStatus>,
    #[schema(max_length = 280)]
    pub reason: Option<String>,
    /// New local start and end (both), to move it.
    pub start: Option<String>,
    pub end: Option<String>,
    /// A place for this occurrence only.
    pub place: Option<PlaceBody>,
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
    let draft = scaffold_domain::event::OverrideDraft {
        status: value.status,
        reason: value.reason,
        start: value.start,
        end: value.end,
        place: value.place.map(PlaceInput::from),
    };
    let change = s.service.set_occurrence(&actor, id, &local_start, &draft).await?;
    let e = s.service.event(&actor, id).await?;
    let at = scaffold_domain::event::instant(e.timezone, change.local_start);
    let (_, list) =
        s.service.occurrences(&actor, id, at - chrono::Duration::seconds(1), at + chrono::Duration::seconds(1)).await?;
    let o = list
        .into_iter()
        .find(|o| o.local_start == change.local_start)
        .ok_or_else(|| DomainError::internal("the changed occurrence vanished"))?;
    Ok(Json(occurrence_body(o)))
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
        items: list.into_iter().map(occurrence_body).collect(),
    }))
}
