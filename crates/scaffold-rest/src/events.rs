//! `/api/v1/groups/{group}/events` and `/api/v1/events/{event}`: a group's events and series,
//! and the occurrences of one in a window.

use crate::RestState;
use crate::extract::{Caller, IfMatch, JsonBody, QueryParams, SignedIn, etag};
use crate::groups::group_ref;
use crate::problem::{ApiResult, Problem};
use crate::schema::Page;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::event::Event;
use scaffold_domain::{DomainError, EventId};
use scaffold_shapes::{ActivityOut, EventInput, PlaceOut};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An event or series.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub id: Uuid,
    pub group_id: Uuid,
    pub title: String,
    pub summary: String,
    /// CommonMark, as written.
    pub description: Option<String>,
    /// The description as safe HTML (raw HTML shown as text; only http, https and mailto links).
    pub description_html: Option<String>,
    pub timezone: String,
    /// Local start (of the first occurrence, for a series), `YYYY-MM-DDTHH:MM`; for an all-day
    /// event its first day, `YYYY-MM-DD`.
    pub start: String,
    /// Local end, `YYYY-MM-DDTHH:MM`; for an all-day event its last day (inclusive), `YYYY-MM-DD`,
    /// as it is written.
    pub end: String,
    /// The first occurrence's start as an instant.
    pub first_start: DateTime<Utc>,
    pub all_day: bool,
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: String,
    pub status_reason: Option<String>,
    pub place: Option<PlaceOut>,
    pub online_url: Option<String>,
    #[schema(schema_with = crate::schema::accessibility_schema)]
    pub accessibility: Vec<String>,
    pub accessibility_notes: Option<String>,
    pub capacity: Option<u32>,
    #[schema(schema_with = crate::schema::booking_schema)]
    pub booking: String,
    pub booking_url: Option<String>,
    pub price_pence: Option<u32>,
    pub concessions: Option<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    #[schema(schema_with = crate::schema::categories_schema)]
    pub categories: Vec<String>,
    pub activities: Vec<ActivityOut>,
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
    /// Also sent as the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) use scaffold_shapes::local;

impl From<Event> for EventBody {
    fn from(e: Event) -> Self {
        let first_start = e.start_instant();
        let (start, end) = e.written_times();
        EventBody {
            id: e.id.0,
            group_id: e.group_id.0,
            title: e.title,
            summary: e.summary,
            description_html: e.description.as_deref().map(scaffold_service::render::markdown_html),
            description: e.description,
            timezone: e.timezone.name().to_owned(),
            start,
            end,
            first_start,
            all_day: e.all_day,
            status: e.status.as_str().to_owned(),
            status_reason: e.status_reason,
            place: e.place.as_ref().map(PlaceOut::from),
            online_url: e.online_url,
            accessibility: e.accessibility.iter().map(|a| a.as_str().to_owned()).collect(),
            accessibility_notes: e.accessibility_notes,
            capacity: e.capacity,
            booking: e.booking.as_str().to_owned(),
            booking_url: e.booking_url,
            price_pence: e.price_pence,
            concessions: e.concessions,
            min_age: e.min_age,
            max_age: e.max_age,
            categories: e.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            activities: e.activities.iter().map(ActivityOut::from).collect(),
            rrule: e.recurrence.as_ref().map(|r| r.rule.clone()),
            exdates: e.recurrence.map(|r| r.exdates.iter().map(local).collect()).unwrap_or_default(),
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

pub(crate) fn with_etag(status: StatusCode, e: Event) -> impl IntoResponse {
    let tag = etag(e.version);
    (status, [(header::ETAG, tag)], Json(EventBody::from(e)))
}

pub(crate) fn event_id(s: &str) -> Result<EventId, DomainError> {
    EventId::parse_or_not_found(s)
}

/// Create an event or series
///
/// Organisers and owners of the group (scope `events:write`).
#[utoipa::path(post, path = "/api/v1/groups/{group}/events", tag = "events", request_body = EventInput,
    params(("group" = String, Path, description = "The group's id or slug")),
    responses(
        (status = 201, description = "Created", body = EventBody, headers(("ETag" = String))),
        (status = 403, description = "Not an organiser, or no events:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["events:write"])))]
pub async fn create(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    JsonBody { value, .. }: JsonBody<EventInput>,
) -> ApiResult<impl IntoResponse> {
    let e = s.service.create_event(&actor, &group_ref(&group), &value.into()).await?;
    Ok(with_etag(StatusCode::CREATED, e))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The cursor from the previous page's `next`.
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A group's events and series, by first start
#[utoipa::path(get, path = "/api/v1/groups/{group}/events", tag = "events",
    params(("group" = String, Path, description = "The group's id or slug"), PageParams),
    responses((status = 200, description = "Events", body = Page<EventBody>)))]
pub async fn list(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(group): Path<String>,
    QueryParams(q): QueryParams<PageParams>,
) -> ApiResult<Json<Page<EventBody>>> {
    let limit = scaffold_service::page_limit(q.limit)?;
    let page = s.service.group_events(&actor, &group_ref(&group), q.after.as_deref(), limit).await?;
    let next = page.next.map(|c| format!("/api/v1/groups/{group}/events?after={c}&limit={limit}"));
    Ok(Json(Page { items: page.items.into_iter().map(Into::into).collect(), next }))
}

/// One event or series
#[utoipa::path(get, path = "/api/v1/events/{event}", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id")),
    responses((status = 200, description = "The event", body = EventBody, headers(("ETag" = String)))))]
pub async fn get(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(event): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let e = s.service.event(&actor, event_id(&event)?).await?;
    Ok(with_etag(StatusCode::OK, e))
}

/// Replace an event or series
///
/// Organisers and owners. Send every field (as for creating) and `If-Match` with the ETag you read.
#[utoipa::path(put, path = "/api/v1/events/{event}", tag = "events", request_body = EventInput,
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("If-Match" = String, Header, description = "The ETag you read, e.g. \"3\" (or * for any version)")),
    responses(
        (status = 200, description = "The event", body = EventBody, headers(("ETag" = String))),
        (status = 403, description = "Not an organiser", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "VERSION_MISMATCH", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is required", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["events:write"])))]
pub async fn replace(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(event): Path<String>,
    IfMatch(version): IfMatch,
    JsonBody { value, .. }: JsonBody<EventInput>,
) -> ApiResult<impl IntoResponse> {
    let e = s.service.replace_event(&actor, event_id(&event)?, version, &value.into()).await?;
    Ok(with_etag(StatusCode::OK, e))
}

/// Delete an event
///
/// Removes the event or series with its replies and changed occurrences; the OpenActive feeds
/// publish it as deleted.
#[utoipa::path(delete, path = "/api/v1/events/{event}", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("If-Match" = String, Header, description = "The ETag you read, or `*`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an organiser, or no events:write", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "VERSION_MISMATCH", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "PRECONDITION_REQUIRED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["events:write"])))]
pub async fn delete(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(event): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    s.service.delete_event(&actor, event_id(&event)?, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
