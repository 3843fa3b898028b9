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
use scaffold_domain::event::Event;
use scaffold_domain::{DomainError, EventId};
use scaffold_shapes::{EventBody, EventInput};
use serde::Deserialize;
use utoipa::IntoParams;

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
