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
use chrono::{DateTime, NaiveDateTime, Utc};
use scaffold_domain::event::{AccessibilityFeature, BookingMode, Event, EventDraft, EventStatus, PlaceInput};
use scaffold_domain::group::Category;
use scaffold_domain::{DomainError, EventId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceBody {
    #[schema(max_length = 200, example = "Wigan Library")]
    pub name: String,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    /// A UK postcode; its outward code gives the coordinates when they are not given.
    #[schema(example = "WN1 1NU")]
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// An event or series, as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[schema(max_length = 120, example = "TechMates tea party")]
    pub title: String,
    #[schema(max_length = 280)]
    pub summary: String,
    /// CommonMark.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// An IANA time zone; default Europe/London.
    #[schema(example = "Europe/London")]
    pub timezone: Option<String>,
    /// Local start, `YYYY-MM-DDTHH:MM` (the first occurrence of a series); for an all-day event
    /// its first day, `YYYY-MM-DD` (a time, if given, is ignored).
    #[schema(example = "2026-04-07T10:00")]
    pub start: String,
    /// Local end; for an all-day event its last day, inclusive (`2026-04-07` for one day).
    #[schema(example = "2026-04-07T12:00")]
    pub end: String,
    #[serde(default)]
    pub all_day: bool,
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: Option<EventStatus>,
    #[schema(max_length = 280)]
    pub status_reason: Option<String>,
    pub place: Option<PlaceBody>,
    pub online_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::accessibility_schema)]
    pub accessibility: Vec<AccessibilityFeature>,
    #[schema(max_length = 1000)]
    pub accessibility_notes: Option<String>,
    #[schema(minimum = 1)]
    pub capacity: Option<u32>,
    #[schema(schema_with = crate::schema::booking_schema)]
    pub booking: Option<BookingMode>,
    pub booking_url: Option<String>,
    /// Absent: free.
    pub price_pence: Option<u32>,
    pub concessions: Option<String>,
    #[schema(maximum = 120)]
    pub min_age: Option<u8>,
    #[schema(maximum = 120)]
    pub max_age: Option<u8>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::categories_schema)]
    pub categories: Vec<Category>,
    /// OpenActive activities (at most 5), each by its Activity List identifier, id URL or
    /// preferred label, e.g. `Walking`. Events with an activity are published in the OpenActive
    /// feeds.
    #[serde(default)]
    #[schema(example = json!(["Walking"]))]
    pub activities: Vec<String>,
    /// An RFC 5545 RRULE value (FREQ DAILY, WEEKLY, MONTHLY or YEARLY), e.g. `FREQ=WEEKLY;BYDAY=TU`.
    #[schema(example = "FREQ=WEEKLY;BYDAY=TU")]
    pub rrule: Option<String>,
    /// Local start times of occurrences that do not happen.
    #[serde(default)]
    pub exdates: Vec<String>,
}

impl From<EventInput> for EventDraft {
    fn from(b: EventInput) -> Self {
        EventDraft {
            title: b.title,
            summary: b.summary,
            description: b.description,
            timezone: b.timezone,
            start: b.start,
            end: b.end,
            all_day: b.all_day,
            status: b.status,
            status_reason: b.status_reason,
            place: b.place.map(|p| PlaceInput {
                name: p.name,
                address: p.address,
                postcode: p.postcode,
                latitude: p.latitude,
                longitude: p.longitude,
            }),
            online_url: b.online_url,
            accessibility: b.accessibility,
            accessibility_notes: b.accessibility_notes,
            capacity: b.capacity,
            booking: b.booking,
            booking_url: b.booking_url,
            price_pence: b.price_pence,
            concessions: b.concessions,
            min_age: b.min_age,
            max_age: b.max_age,
            categories: b.categories,
            activities: b.activities,
            rrule: b.rrule,
            exdates: b.exdates,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceOut {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub outcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

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

/// An OpenActive Activity List concept.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityOut {
    /// The concept's id, e.g. `https://openactive.io/activity-list#<identifier>`.
    pub id: String,
    pub pref_label: String,
}

const LOCAL: &str = "%Y-%m-%dT%H:%M";

fn local(t: &NaiveDateTime) -> String {
    t.format(LOCAL).to_string()
}

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
            place: e.place.map(place_out),
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
            activities: e
                .activities
                .iter()
                .map(|a| ActivityOut { id: a.id(), pref_label: a.pref_label.clone() })
                .collect(),
            rrule: e.recurrence.as_ref().map(|r| r.rule.clone()),
            exdates: e.recurrence.map(|r| r.exdates.iter().map(local).collect()).unwrap_or_default(),
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

fn with_etag(status: StatusCode, e: Event) -> impl IntoResponse {
    let tag = etag(e.version);
    (status, [(header::ETAG, tag)], Json(EventBody::from(e)))
}

fn event_id(s: &str) -> Result<EventId, DomainError> {
    EventId::parse(s)
        .ok_or_else(|| DomainError::not_found("EVENT_NOT_FOUND", "there is no event with that id that you can see"))
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

/// A listed occurrence (search) in the same shape as an expanded one.
pub(crate) fn occurrence_of_listing(e: &Event, o: scaffold_domain::event::ListedOccurrence) -> OccurrenceBody {
    OccurrenceBody {
        moved: o.start != scaffold_domain::event::instant(e.timezone, o.local_start),
        start: o.start,
        end: o.end,
        local_start: local(&o.local_start),
        status: o.status.as_str().to_owned(),
        reason: o.reason,
        place: o.place.map(place_out),
    }
}

fn place_out(p: scaffold_domain::event::Place) -> PlaceOut {
    PlaceOut {
        name: p.name,
        address: p.address,
        postcode: p.postcode,
        outcode: p.outcode.map(|o| o.as_str().to_owned()),
        latitude: p.latitude,
        longitude: p.longitude,
    }
}

fn occurrence_body(o: scaffold_domain::event::Occurrence) -> OccurrenceBody {
    OccurrenceBody {
        start: o.start,
        end: o.end,
        local_start: local(&o.local_start),
        status: o.status.as_str().to_owned(),
        reason: o.reason,
        moved: o.moved,
        place: o.place.map(place_out),
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
        place: value.place.map(|p| PlaceInput {
            name: p.name,
            address: p.address,
            postcode: p.postcode,
            latitude: p.latitude,
            longitude: p.longitude,
        }),
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
            return Err(DomainError::invalid_field("/format", "UNKNOWN_FORMAT", "format is json or csv").into());
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
        .ok_or_else(|| DomainError::not_found("RSVP_NOT_FOUND", "that person has no confirmed place"))?;
    s.service.check_in(&actor, event_id(&event)?, &local_start, person).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
