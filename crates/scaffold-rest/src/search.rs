//! `GET /api/v1/events`: upcoming occurrences by area, dates, category, accessibility, group and
//! words; and the same search as a subscribable iCalendar feed.

use crate::RestState;
use crate::extract::{Caller, QueryParams, given};
use crate::groups::group_ref;
use crate::problem::{ApiResult, Problem};
use crate::schema::{category_schema, next_link};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use scaffold_domain::codes;
use scaffold_domain::event::AccessibilityFeature;
use scaffold_domain::event_search::SearchDraft;
use scaffold_domain::group::Category;
use scaffold_service::search::Found;
use scaffold_shapes::EventBody;
use scaffold_shapes::OccurrenceBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Search parameters (all optional). An area is an outward code or `lat` and `lon`, with a
/// radius (default 5 km, at most 200); dates default to the next 14 days (at most 92).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Centre on this outward code's centroid, e.g. `WN1`.
    #[param(example = "WN1")]
    pub outcode: Option<String>,
    /// Centre latitude (with `lon`).
    #[param(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// Centre longitude (with `lat`).
    #[param(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    /// Radius in km: more than 0, at most 200 (default 5).
    #[param(exclusive_minimum = 0, maximum = 200)]
    pub radius_km: Option<f64>,
    /// Occurrences starting at or after this (RFC 3339; default now; at most a day ago).
    pub from: Option<DateTime<Utc>>,
    /// …and before this (default 14 days after `from`; at most 92 days after it).
    pub to: Option<DateTime<Utc>>,
    #[param(schema_with = category_schema)]
    pub category: Option<Category>,
    /// Only events with this accessibility feature.
    #[param(schema_with = crate::schema::accessibility_feature_schema)]
    pub accessibility: Option<AccessibilityFeature>,
    /// Only this group's events (id or slug).
    pub group: Option<String>,
    /// Words that must all appear in the title, summary, place or activities.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// The cursor from the previous page's `next` link.
    pub after: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

impl SearchParams {
    fn draft(&self) -> SearchDraft {
        SearchDraft {
            outcode: given(self.outcode.clone()),
            lat: self.lat,
            lon: self.lon,
            radius_km: self.radius_km,
            from: self.from,
            to: self.to,
            category: self.category,
            accessibility: self.accessibility,
            q: given(self.q.clone()),
        }
    }

    fn query(&self) -> Vec<(&'static str, Option<String>)> {
        let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        vec![
            ("outcode", given(self.outcode.clone())),
            ("lat", self.lat.map(|v| v.to_string())),
            ("lon", self.lon.map(|v| v.to_string())),
            ("radius_km", self.radius_km.map(|v| v.to_string())),
            ("from", time(self.from)),
            ("to", time(self.to)),
            ("category", self.category.map(|c| c.as_str().to_owned())),
            ("accessibility", self.accessibility.map(|c| c.as_str().to_owned())),
            ("group", given(self.group.clone())),
            ("q", given(self.q.clone())),
            ("limit", self.limit.map(|l| l.to_string())),
        ]
    }
}

/// An occurrence found, with its event.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundBody {
    pub occurrence: OccurrenceBody,
    pub event: EventBody,
    /// Great-circle distance from the search centre, for area searches.
    pub distance_km: Option<f64>,
}

/// A page of occurrences.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundPage {
    pub items: Vec<FoundBody>,
    /// The next page, with the same parameters; absent on the last page.
    pub next: Option<String>,
}

fn found_body(f: Found) -> FoundBody {
    FoundBody {
        occurrence: OccurrenceBody::from(f.occurrence.in_series(&f.event)),
        distance_km: f.distance_km.map(|d| (d * 100.0).round() / 100.0),
        event: EventBody::from(f.event),
    }
}

/// Find upcoming occurrences
///
/// Occurrences (not cancelled) of events of public groups, and of groups the caller is an active
/// member of (with `events:read`), by start time.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(SearchParams),
    responses(
        (status = 200, description = "A page of occurrences by start", body = FoundPage),
        (status = 404, description = "GROUP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "RADIUS_OUT_OF_RANGE, UNKNOWN_OUTCODE, DATE_RANGE_TOO_LONG, …", body = Problem,
            content_type = "application/problem+json"),
    ),
    security((), ("bearer" = ["events:read"])))]
pub async fn search(
    State(s): State<RestState>,
    Caller(actor): Caller,
    QueryParams(p): QueryParams<SearchParams>,
) -> ApiResult<Json<FoundPage>> {
    let group = given(p.group.clone()).map(|g| group_ref(&g));
    let after = given(p.after.clone());
    let page = s
        .service
        .search_events(&actor, &p.draft(), group.as_ref(), after.as_deref(), scaffold_service::page_limit(p.limit)?)
        .await?;
    let next = next_link("/api/v1/events", &p.query(), page.next);
    Ok(Json(FoundPage { items: page.items.into_iter().map(found_body).collect(), next }))
}

/// Search parameters for the calendar feed (no paging: up to 500 occurrences).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarSearchParams {
    #[param(example = "WN1")]
    pub outcode: Option<String>,
    #[param(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[param(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
    #[param(exclusive_minimum = 0, maximum = 200)]
    pub radius_km: Option<f64>,
    #[param(schema_with = category_schema)]
    pub category: Option<Category>,
    #[param(schema_with = crate::schema::accessibility_feature_schema)]
    pub accessibility: Option<AccessibilityFeature>,
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// How many days ahead, 1–92 (default 14). The feed always starts now, so a subscription
    /// moves with time.
    #[param(minimum = 1, maximum = 92)]
    pub days: Option<u32>,
}

/// A search as iCalendar (public events only; subscribe to it)
///
/// Each occurrence found in the coming days is one VEVENT (UID: event id and local start).
#[utoipa::path(get, path = "/api/v1/events/calendar.ics", tag = "events", params(CalendarSearchParams),
    responses(
        (status = 200, description = "RFC 5545 calendar of the occurrences found", body = String, content_type = "text/calendar"),
        (status = 422, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn calendar(
    State(s): State<RestState>,
    QueryParams(p): QueryParams<CalendarSearchParams>,
) -> ApiResult<axum::response::Response> {
    let days = p.days.unwrap_or(14);
    let now = s.service.now();
    let draft = SearchDraft {
        outcode: given(p.outcode),
        lat: p.lat,
        lon: p.lon,
        radius_km: p.radius_km,
        from: Some(now),
        to: (1..=92).contains(&days).then(|| now + chrono::Duration::days(i64::from(days))),
        category: p.category,
        accessibility: p.accessibility,
        q: given(p.q),
    };
    if !(1..=92).contains(&days) {
        return Err(scaffold_domain::DomainError::invalid_field("/days", codes::OUT_OF_RANGE, "days is 1 to 92").into());
    }
    let found = s.service.public_search(&draft, 500).await?;
    let base = s.service.identity().config().public_url.clone();
    let body = crate::ical::occurrences_calendar("Events found", &crate::calendars::ics_host(&s), &found, |e| {
        format!("{base}/api/v1/events/{}", e.id)
    });
    Ok(crate::calendars::ics_response(body))
}
