//! `/api/v1/events/{event}/occurrences/{local_start}/rsvp(s)`: replies to one date, the
//! organiser's list of replies, and check-in.

use crate::RestState;
use crate::events::event_id;
use crate::extract::{JsonBody, QueryParams, SignedIn};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::DomainError;
use scaffold_domain::codes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A reply to one occurrence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RsvpInput {
    #[schema(schema_with = crate::schema::rsvp_response_schema)]
    pub response: scaffold_domain::rsvp::RsvpResponse,
    /// How many people (you included), 1 to 10 and at most the capacity; default 1.
    #[schema(minimum = 1, maximum = 10)]
    pub party_size: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RsvpBody {
    pub person_id: Uuid,
    /// Present in organisers' lists.
    pub display_name: Option<String>,
    #[schema(schema_with = crate::schema::rsvp_response_schema)]
    pub response: String,
    pub party_size: u8,
    /// `confirmed` (has places), `waitlisted` (promoted in order when places free up) or `not-attending`.
    #[schema(schema_with = crate::schema::rsvp_state_schema)]
    pub state: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

fn rsvp_body(r: scaffold_domain::rsvp::Rsvp, display_name: Option<String>) -> RsvpBody {
    RsvpBody {
        person_id: r.person_id.0,
        display_name,
        response: r.response.as_str().to_owned(),
        party_size: r.party_size,
        state: r.state.as_str().to_owned(),
        checked_in_at: r.checked_in_at,
        updated_at: r.updated_at,
    }
}

/// Reply to one occurrence
///
/// Going (with a party), maybe or declined. Going replies take places while the capacity lasts
/// and join a first-come waitlist after; you are promoted automatically when places free up.
#[utoipa::path(put, path = "/api/v1/events/{event}/occurrences/{local_start}/rsvp", tag = "events", request_body = RsvpInput,
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("local_start" = String, Path, description = "The occurrence's series local start, e.g. 2026-04-14T10:00")),
    responses(
        (status = 200, description = "Your reply and where it stands", body = RsvpBody),
        (status = 409, description = "Cancelled, past, or booked elsewhere", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["rsvp:write"])))]
pub async fn rsvp(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((event, local_start)): Path<(String, String)>,
    JsonBody { value, .. }: JsonBody<RsvpInput>,
) -> ApiResult<Json<RsvpBody>> {
    let r = s.service.rsvp(&actor, event_id(&event)?, &local_start, value.response, value.party_size).await?;
    Ok(Json(rsvp_body(r, None)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RepliesParams {
    /// `csv` for a spreadsheet (text/csv); `json` (the default) otherwise.
    #[param(schema_with = reply_formats)]
    pub format: Option<String>,
}

fn reply_formats() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["json", "csv"]))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replies {
    pub items: Vec<RsvpBody>,
    /// Places confirmed (party sizes added up).
    pub confirmed: u32,
    pub waitlisted: u32,
}

/// The replies to one occurrence (organisers)
///
/// Confirmed first, then the waitlist in order. `?format=csv` gives a spreadsheet.
#[utoipa::path(get, path = "/api/v1/events/{event}/occurrences/{local_start}/rsvps", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("local_start" = String, Path, description = "The occurrence's series local start"), RepliesParams),
    responses(
        (status = 200, description = "The replies", body = Replies, content_type = "application/json"),
        (status = 403, description = "Not an organiser", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["events:write"])))]
pub async fn replies(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((event, local_start)): Path<(String, String)>,
    QueryParams(q): QueryParams<RepliesParams>,
) -> ApiResult<axum::response::Response> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(DomainError::invalid_field("/format", codes::UNKNOWN_FORMAT, "format is json or csv").into());
        }
    };
    let lines = s.service.replies(&actor, event_id(&event)?, &local_start).await?;
    if csv {
        let body = scaffold_service::rsvps::replies_csv(&lines);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"replies-{local_start}.csv\"")),
            ],
            body,
        )
            .into_response());
    }
    let count = |state: scaffold_domain::rsvp::RsvpState| {
        lines.iter().filter(|l| l.rsvp.state == state).map(|l| u32::from(l.rsvp.party_size)).sum()
    };
    let confirmed = count(scaffold_domain::rsvp::RsvpState::Confirmed);
    let waitlisted = count(scaffold_domain::rsvp::RsvpState::Waitlisted);
    let items = lines.into_iter().map(|l| rsvp_body(l.rsvp, Some(l.display_name))).collect();
    Ok(Json(Replies { items, confirmed, waitlisted }).into_response())
}

/// Check someone in (organisers)
#[utoipa::path(post, path = "/api/v1/events/{event}/occurrences/{local_start}/rsvps/{person}/check-in", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id"),
        ("local_start" = String, Path, description = "The occurrence's series local start"),
        ("person" = uuid::Uuid, Path, description = "The person's id")),
    responses((status = 204, description = "Marked as attended")),
    security(("bearer" = ["events:write"])))]
pub async fn check_in(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((event, local_start, person)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let person = scaffold_domain::PersonId::parse(&person)
        .ok_or_else(|| DomainError::not_found(codes::RSVP_NOT_FOUND, "that person has no confirmed place"))?;
    s.service.check_in(&actor, event_id(&event)?, &local_start, person).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a reply to the whole series left one date.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesDateBody {
    /// The date's series local start (its key in `/occurrences/{local_start}`).
    pub local_start: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `confirmed` (has places), `waitlisted` or `not-attending` (maybe or declined).
    #[schema(schema_with = crate::schema::rsvp_state_schema)]
    pub state: String,
}

/// A reply to every upcoming date of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesRsvpBody {
    pub event_id: Uuid,
    #[schema(schema_with = crate::schema::rsvp_response_schema)]
    pub response: String,
    pub party_size: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Each upcoming date the reply was applied to (present when it was just set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dates: Option<Vec<SeriesDateBody>>,
}

fn series_body(s: scaffold_domain::rsvp::SeriesRsvp, dates: Option<Vec<SeriesDateBody>>) -> SeriesRsvpBody {
    SeriesRsvpBody {
        event_id: s.event_id.0,
        response: s.response.as_str().to_owned(),
        party_size: s.party_size,
        created_at: s.created_at,
        updated_at: s.updated_at,
        dates,
    }
}

fn no_series_reply() -> DomainError {
    DomainError::not_found(codes::SERIES_RSVP_NOT_FOUND, "you have no reply to the whole series of this event")
}

/// Reply to every upcoming date
///
/// One reply for all the event's upcoming dates (a year ahead, and dates that come into the
/// listing later). Places and the waiting list are per date, so you may have a place on some
/// dates and wait on others: `dates` says where you stand on each. A later reply to one date
/// changes that date only. Setting it again replaces it.
#[utoipa::path(put, path = "/api/v1/events/{event}/series-rsvp", tag = "events", request_body = RsvpInput,
    params(("event" = uuid::Uuid, Path, description = "The event's id")),
    responses(
        (status = 200, description = "Your reply and where it stands on each date", body = SeriesRsvpBody),
        (status = 409, description = "No upcoming dates, or booked elsewhere", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["rsvp:write"])))]
pub async fn put_series(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(event): Path<String>,
    JsonBody { value, .. }: JsonBody<RsvpInput>,
) -> ApiResult<Json<SeriesRsvpBody>> {
    let r = s.service.rsvp_series(&actor, event_id(&event)?, value.response, value.party_size).await?;
    let dates = r
        .dates
        .into_iter()
        .map(|(o, rsvp)| SeriesDateBody {
            local_start: o.local_start.format("%Y-%m-%dT%H:%M").to_string(),
            start: o.start,
            end: o.end,
            state: rsvp.state.as_str().to_owned(),
        })
        .collect();
    Ok(Json(series_body(r.series, Some(dates))))
}

/// Your reply to every upcoming date
#[utoipa::path(get, path = "/api/v1/events/{event}/series-rsvp", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id")),
    responses(
        (status = 200, description = "Your reply to the whole series", body = SeriesRsvpBody),
        (status = 404, description = "SERIES_RSVP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["rsvp:write"])))]
pub async fn get_series(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(event): Path<String>,
) -> ApiResult<Json<SeriesRsvpBody>> {
    let r = s.service.series_rsvp(&actor, event_id(&event)?).await?.ok_or_else(no_series_reply)?;
    Ok(Json(series_body(r, None)))
}

/// Undo your reply to every upcoming date
///
/// The upcoming dates it replied to are declined (their places go to the waiting list); replies
/// you gave to single dates since are kept.
#[utoipa::path(delete, path = "/api/v1/events/{event}/series-rsvp", tag = "events",
    params(("event" = uuid::Uuid, Path, description = "The event's id")),
    responses(
        (status = 204, description = "Undone"),
        (status = 404, description = "SERIES_RSVP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["rsvp:write"])))]
pub async fn delete_series(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(event): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.undo_series_rsvp(&actor, event_id(&event)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
