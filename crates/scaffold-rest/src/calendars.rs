//! `calendar.ics` for one event and for a group: RFC 5545 feeds of public events.

use crate::RestState;
use crate::events::event_id;
use crate::groups::group_ref;
use crate::problem::ApiResult;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

pub(crate) fn ics_response(body: String) -> axum::response::Response {
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], body)
        .into_response()
}

pub(crate) fn ics_host(s: &RestState) -> String {
    let url = &s.service.identity().config().public_url;
    url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or("localhost").to_owned()
}

/// One event as iCalendar (public events only)
#[utoipa::path(get, path = "/api/v1/events/{event}/calendar.ics", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id")),
    responses((status = 200, description = "RFC 5545 calendar with the event, its series rule and changed occurrences",
        body = String, content_type = "text/calendar")),
    security(()))]
pub async fn event_calendar(
    State(s): State<RestState>,
    Path(event): Path<String>,
) -> ApiResult<axum::response::Response> {
    let (e, overrides) = s.service.public_event_calendar(event_id(&event)?).await?;
    let base = s.service.identity().config().public_url.clone();
    let name = e.title.clone();
    let body =
        crate::ical::calendar(&name, &ics_host(&s), &[(e, overrides)], |e| format!("{base}/api/v1/events/{}", e.id));
    Ok(ics_response(body))
}

/// A group's events as iCalendar (public groups only; subscribe to it)
#[utoipa::path(get, path = "/api/v1/groups/{group}/calendar.ics", tag = "events",
    params(("group" = String, Path, description = "The group's id or slug")),
    responses((status = 200, description = "RFC 5545 calendar of the group's events", body = String, content_type = "text/calendar")),
    security(()))]
pub async fn group_calendar(
    State(s): State<RestState>,
    Path(group): Path<String>,
) -> ApiResult<axum::response::Response> {
    let (name, events) = s.service.public_group_calendar(&group_ref(&group)).await?;
    let base = s.service.identity().config().public_url.clone();
    let body = crate::ical::calendar(&name, &ics_host(&s), &events, |e| format!("{base}/api/v1/events/{}", e.id));
    Ok(ics_response(body))
}
