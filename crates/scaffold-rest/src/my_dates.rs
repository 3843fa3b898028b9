//! `/api/v1/me/dates` (the dates the caller replied to) and `/api/v1/me/calendar-feed` (a secret
//! calendar URL of them, `/calendars/{secret}.ics`, that the person can replace or turn off).

use crate::RestState;
use crate::calendars::{ics_host, ics_response};
use crate::extract::SignedIn;
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::{DomainError, codes};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A date you replied going or maybe to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyDateBody {
    pub event_id: Uuid,
    pub title: String,
    /// The date's series local start (its key in `/occurrences/{local_start}`).
    pub local_start: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The date's status: `scheduled`, `cancelled` or `postponed`.
    pub status: String,
    #[schema(schema_with = crate::schema::rsvp_response_schema)]
    pub response: String,
    pub party_size: u8,
    #[schema(schema_with = crate::schema::rsvp_state_schema)]
    pub state: String,
    /// Set by your reply to the whole series rather than to this date.
    pub from_series: bool,
}

/// An event whose every upcoming date you replied to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySeriesBody {
    pub event_id: Uuid,
    pub title: String,
    #[schema(schema_with = crate::schema::rsvp_response_schema)]
    pub response: String,
    pub party_size: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyDatesBody {
    /// Dates not yet over, by start.
    pub items: Vec<MyDateBody>,
    pub series: Vec<MySeriesBody>,
}

/// Your dates
///
/// The dates you replied going or maybe to that are not over yet (at most 500), and the events
/// whose every date you replied to.
#[utoipa::path(get, path = "/api/v1/me/dates", tag = "people",
    responses((status = 200, description = "Your dates", body = MyDatesBody)),
    security(("bearer" = ["rsvp:write"]), ("session" = [])))]
pub async fn dates(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<MyDatesBody>> {
    let mine = s.service.my_dates(&actor).await?;
    let items = mine
        .dates
        .into_iter()
        .map(|d| MyDateBody {
            event_id: d.event.id.0,
            title: d.event.title,
            local_start: d.occurrence.local_start.format("%Y-%m-%dT%H:%M").to_string(),
            start: d.occurrence.start,
            end: d.occurrence.end,
            status: d.occurrence.status.as_str().to_owned(),
            response: d.rsvp.response.as_str().to_owned(),
            party_size: d.rsvp.party_size,
            state: d.rsvp.state.as_str().to_owned(),
            from_series: d.rsvp.from_series,
        })
        .collect();
    let series = mine
        .series
        .into_iter()
        .map(|(e, r)| MySeriesBody {
            event_id: e.id.0,
            title: e.title,
            response: r.response.as_str().to_owned(),
            party_size: r.party_size,
        })
        .collect();
    Ok(Json(MyDatesBody { items, series }))
}

/// Your calendar feed: its URL is shown once, when it is made.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedBody {
    /// Subscribe to this in a calendar app. Anyone with the URL sees your dates: keep it
    /// private, and make a new one (which turns this one off) if it leaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The URL of a calendar feed secret.
pub fn feed_url(s: &RestState, secret: &str) -> String {
    format!("{}/calendars/{secret}.ics", s.service.identity().config().public_url)
}

/// Make your calendar feed
///
/// A secret URL of an iCalendar feed of your dates (from 30 days ago), for calendar apps. Making
/// a new one turns the old one off.
#[utoipa::path(post, path = "/api/v1/me/calendar-feed", tag = "people",
    responses(
        (status = 201, description = "The feed and its URL (shown once)", body = CalendarFeedBody),
        (status = 403, description = "PERSON_CREDENTIAL_REQUIRED: only you, not an app", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn create_feed(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
) -> ApiResult<(StatusCode, Json<CalendarFeedBody>)> {
    let (secret, created_at) = s.service.new_calendar_feed(&actor).await?;
    let body = CalendarFeedBody { url: Some(feed_url(&s, secret.expose())), created_at };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Whether you have a calendar feed
#[utoipa::path(get, path = "/api/v1/me/calendar-feed", tag = "people",
    responses(
        (status = 200, description = "When your feed was made (its URL is not shown again)", body = CalendarFeedBody),
        (status = 404, description = "CALENDAR_FEED_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn get_feed(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<CalendarFeedBody>> {
    let made = s.service.calendar_feed_made(&actor).await?;
    let created_at =
        made.ok_or_else(|| DomainError::not_found(codes::CALENDAR_FEED_NOT_FOUND, "you have no calendar feed"))?;
    Ok(Json(CalendarFeedBody { url: None, created_at }))
}

/// Turn your calendar feed off
#[utoipa::path(delete, path = "/api/v1/me/calendar-feed", tag = "people",
    responses(
        (status = 204, description = "The URL no longer works"),
        (status = 404, description = "CALENDAR_FEED_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["profile"]), ("session" = [])))]
pub async fn delete_feed(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<StatusCode> {
    s.service.end_calendar_feed(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A personal calendar feed
///
/// RFC 5545: one VEVENT per date replied to, `TENTATIVE` where you wait for a place or said
/// maybe. Not cached by shared caches (the URL is a secret).
#[utoipa::path(get, path = "/calendars/{file}", tag = "people",
    params(("file" = String, Path, description = "The feed's secret followed by `.ics`")),
    responses(
        (status = 200, description = "RFC 5545 calendar of the person's dates", body = String, content_type = "text/calendar"),
        (status = 404, description = "CALENDAR_FEED_NOT_FOUND (replaced, turned off or never made)", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn feed(State(s): State<RestState>, Path(file): Path<String>) -> ApiResult<axum::response::Response> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    let mine = s.service.calendar_feed(secret).await?;
    let base = s.service.identity().config().public_url.clone();
    let body =
        crate::ical::personal_calendar("My dates", &ics_host(&s), &mine.dates, |e| format!("{base}/events/{}", e.id));
    let mut res = ics_response(body);
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-cache"));
    res.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    Ok(res.into_response())
}
