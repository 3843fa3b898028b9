//! OpenActive open data: RPDE feeds of SessionSeries (events) and ScheduledSession (their
//! listed occurrences), Opportunity data model 2.0, and the dataset site document listing them.
//! The feeds use the RPDE "modified + id" ordering: `modified` is the store's change number.

use crate::RestState;
use crate::extract::QueryParams;
use crate::problem::{ApiResult, Problem};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use scaffold_domain::codes;
use scaffold_domain::event::{Event, EventStatus, ListedOccurrence};
use scaffold_domain::{DomainError, EventId, FieldError};
use scaffold_store::FeedGroup;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

/// The licence the feeds' data is published under.
pub const LICENSE: &str = "https://creativecommons.org/licenses/by/4.0/";
const SERIES_PATH: &str = "/openactive/session-series";
const SESSIONS_PATH: &str = "/openactive/scheduled-sessions";
const RPDE: &str = "application/vnd.openactive.rpde+json; version=1";

/// The RPDE position: both or neither.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The `modified` of the last item already read (from the previous page's `next`).
    #[serde(rename = "afterTimestamp")]
    #[param(rename = "afterTimestamp")]
    pub after_timestamp: Option<String>,
    /// The `id` of the last item already read.
    #[serde(rename = "afterId")]
    #[param(rename = "afterId")]
    pub after_id: Option<String>,
}

fn position(p: &FeedParams) -> Result<Option<(i64, String)>, DomainError> {
    match (&p.after_timestamp, &p.after_id) {
        (None, None) => Ok(None),
        (Some(t), Some(id)) => {
            let t = t.parse::<i64>().map_err(|_| {
                DomainError::invalid_field("/afterTimestamp", codes::INVALID_FEED_POSITION, "must be an integer")
            })?;
            Ok(Some((t, id.clone())))
        }
        _ => Err(DomainError::invalid(vec![FieldError::new(
            "/afterId",
            codes::INVALID_FEED_POSITION,
            "give afterTimestamp and afterId together",
        )])),
    }
}

fn bad_id() -> DomainError {
    DomainError::invalid_field("/afterId", codes::INVALID_FEED_POSITION, "is not an id from this feed")
}

/// A ScheduledSession's id: the event's id and the occurrence's series local start, which sort
/// as text in the feed's order.
fn session_id(event: EventId, local_start: &NaiveDateTime) -> String {
    format!("{event}-{}", local_start.format("%Y%m%dT%H%M%S"))
}

fn parse_session_id(id: &str) -> Option<(EventId, NaiveDateTime)> {
    let (event, local) = (id.get(..36)?, id.get(36..)?.strip_prefix('-')?);
    Some((EventId::parse(event)?, NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S").ok()?))
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An ISO 8601 duration: whole days as `P1D`, otherwise hours and minutes (`PT1H30M`).
fn duration(minutes: i64) -> String {
    let minutes = minutes.max(1);
    if minutes % (24 * 60) == 0 {
        return format!("P{}D", minutes / (24 * 60));
    }
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("PT{m}M"),
        (h, 0) => format!("PT{h}H"),
        (h, m) => format!("PT{h}H{m}M"),
    }
}

/// The schedule's `repeatFrequency` (an ISO 8601 duration, e.g. `P1W`) and, for weekly rules
/// with plain weekdays, its `byDay` (schema.org day URLs), read from an RRULE.
fn repeat(rule: &str) -> (Option<String>, Vec<String>) {
    let part = |name: &str| rule.split(';').find_map(|p| p.strip_prefix(name)?.strip_prefix('='));
    let interval = part("INTERVAL").and_then(|i| i.parse::<u32>().ok()).unwrap_or(1);
    let unit = match part("FREQ") {
        Some("DAILY") => "D",
        Some("WEEKLY") => "W",
        Some("MONTHLY") => "M",
        Some("YEARLY") => "Y",
        _ => return (None, Vec::new()),
    };
    let day = |code: &str| {
        Some(match code {
            "MO" => "Monday",
            "TU" => "Tuesday",
            "WE" => "Wednesday",
            "TH" => "Thursday",
            "FR" => "Friday",
            "SA" => "Saturday",
            "SU" => "Sunday",
            _ => return None,
        })
    };
    let days = match (unit, part("BYDAY")) {
        ("W", Some(list)) => list
            .split(',')
            .map(|d| day(d).map(|name| format!("https://schema.org/{name}")))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    (Some(format!("P{interval}{unit}")), days)
}

fn event_status(s: EventStatus) -> &'static str {
    match s {
        EventStatus::Scheduled => "https://schema.org/EventScheduled",
        EventStatus::Cancelled => "https://schema.org/EventCancelled",
        EventStatus::Postponed => "https://schema.org/EventPostponed",
    }
}

fn place(p: &scaffold_domain::event::Place) -> Option<Value> {
    let (lat, lon) = (p.latitude?, p.longitude?);
    Some(json!({
        "@type": "Place",
        "name": p.name,
        "geo": { "@type": "GeoCoordinates", "latitude": lat, "longitude": lon },
    }))
}

fn series_data(base: &str, e: &Event, g: &FeedGroup) -> Value {
    let organizer_url = format!("{base}/api/v1/groups/{}", g.slug);
    let price = f64::from(e.price_pence.unwrap_or(0)) / 100.0;
    let mut offer = json!({ "@type": "Offer", "name": if price > 0.0 { "Standard" } else { "Free" }, "price": price,
        "priceCurrency": "GBP" });
    if let (Some(c), Some(o)) = (&e.concessions, offer.as_object_mut()) {
        o.insert("description".into(), json!(c));
    }
    let minutes = (e.end - e.start).num_minutes();
    let mut schedule = json!({ "@type": "PartialSchedule", "scheduleTimezone": e.timezone.name(),
        "duration": duration(minutes) });
    if let Some(s) = schedule.as_object_mut() {
        // Where the schedule starts and stops, and the dates it skips, so that a reader can
        // rebuild the series (as peer instances do).
        s.insert("startDate".into(), json!(e.start.format("%Y-%m-%d").to_string()));
        if let Some(r) = &e.recurrence {
            let part = |name: &str| r.rule.split(';').find_map(|p| p.strip_prefix(name)?.strip_prefix('='));
            if let Some(n) = part("COUNT").and_then(|c| c.parse::<u32>().ok()) {
                s.insert("repeatCount".into(), json!(n));
            } else if let Some(u) = part("UNTIL").and_then(|u| u.get(..8))
                && let Ok(d) = chrono::NaiveDate::parse_from_str(u, "%Y%m%d")
            {
                s.insert("endDate".into(), json!(d.format("%Y-%m-%d").to_string()));
            }
            let skipped: Vec<String> = r
                .exdates
                .iter()
                .filter_map(|x| x.and_local_timezone(e.timezone).earliest())
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
                .collect();
            if !skipped.is_empty() {
                s.insert("exceptDate".into(), json!(skipped));
            }
        }
        if !e.all_day {
            s.insert("startTime".into(), json!(e.start.format("%H:%M").to_string()));
            s.insert("endTime".into(), json!(e.end.format("%H:%M").to_string()));
        }
        if let Some(r) = &e.recurrence {
            let (frequency, days) = repeat(&r.rule);
            s.extend(frequency.map(|f| ("repeatFrequency".to_owned(), json!(f))));
            if !days.is_empty() {
                s.insert("byDay".into(), json!(days));
            }
        }
    }
    let mut data = json!({
        "@context": "https://openactive.io/",
        "@type": "SessionSeries",
        "@id": format!("{base}{SERIES_PATH}/{}", e.id),
        "identifier": e.id.to_string(),
        "name": e.title,
        "description": e.summary,
        "url": format!("{base}/api/v1/events/{}", e.id),
        "organizer": { "@type": "Organization", "@id": organizer_url, "name": g.name, "url": organizer_url },
        "activity": e.activities.iter().map(|a| json!({ "@type": "Concept", "@id": a.id(), "prefLabel": a.pref_label,
            "inScheme": scaffold_domain::activity::SCHEME })).collect::<Vec<_>>(),
        "offers": [offer],
        "isAccessibleForFree": price == 0.0,
        "eventSchedule": [schedule],
        "eventStatus": event_status(e.status),
    });
    let Some(o) = data.as_object_mut() else { return data };
    if let Some(p) = e.place.as_ref().and_then(place) {
        o.insert("location".into(), p);
    }
    if let Some(c) = e.capacity {
        o.insert("maximumAttendeeCapacity".into(), json!(c));
    }
    if e.min_age.is_some() || e.max_age.is_some() {
        let mut range = json!({ "@type": "QuantitativeValue" });
        if let Some(r) = range.as_object_mut() {
            if let Some(min) = e.min_age {
                r.insert("minValue".into(), json!(min));
            }
            if let Some(max) = e.max_age {
                r.insert("maxValue".into(), json!(max));
            }
        }
        o.insert("ageRange".into(), range);
    }
    data
}

fn session_data(base: &str, event: EventId, o: &ListedOccurrence) -> Value {
    let id = session_id(event, &o.local_start);
    let mut data = json!({
        "@context": "https://openactive.io/",
        "@type": "ScheduledSession",
        "@id": format!("{base}{SESSIONS_PATH}/{id}"),
        "identifier": id,
        "superEvent": format!("{base}{SERIES_PATH}/{event}"),
        "url": format!("{base}/api/v1/events/{event}"),
        "startDate": time(&o.start),
        "endDate": time(&o.end),
        "duration": duration((o.end - o.start).num_minutes()),
        "eventStatus": event_status(o.status),
    });
    if let (Some(p), Some(d)) = (o.place.as_ref().and_then(place), data.as_object_mut()) {
        d.insert("location".into(), p);
    }
    data
}

/// An RPDE page: `next` is built from the last item, or is this page's own URL when it is the
/// last; pages with items may be cached for an hour, the last page for 8 seconds (RPDE §9).
fn page(base: &str, path: &str, raw_query: Option<&str>, items: Vec<Value>, last: Option<(i64, String)>) -> Response {
    let (next, cache) = match last {
        Some((modified, id)) => {
            (format!("{base}{path}?afterTimestamp={modified}&afterId={id}"), "public, max-age=3600")
        }
        None => match raw_query {
            Some(q) if !q.is_empty() => (format!("{base}{path}?{q}"), "public, max-age=8"),
            _ => (format!("{base}{path}"), "public, max-age=8"),
        },
    };
    let body = json!({ "next": next, "items": items, "license": LICENSE });
    ([(header::CONTENT_TYPE, "application/json; charset=utf-8"), (header::CACHE_CONTROL, cache)], body.to_string())
        .into_response()
}

fn base(s: &RestState) -> String {
    s.service.identity().config().public_url.trim_end_matches('/').to_owned()
}

/// OpenActive SessionSeries feed (RPDE)
///
/// Events of public groups that name an OpenActive activity and have a place, as SessionSeries
/// (Opportunity data model 2.0), ordered by `modified` (a change number) then `id`. Deleted,
/// and no longer published, events are `deleted` items (kept at least 7 days). The last page has
/// no items and its `next` is its own URL.
#[utoipa::path(get, path = "/openactive/session-series", tag = "open data", params(FeedParams),
    responses(
        (status = 200, description = "An RPDE page", body = Object, content_type = "application/json",
            headers(("Cache-Control" = String, description = "public, max-age=3600; the last page max-age=8"))),
        (status = 422, description = "INVALID_FEED_POSITION", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn series(
    State(s): State<RestState>,
    QueryParams(p): QueryParams<FeedParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let after = match position(&p)? {
        None => None,
        Some((t, id)) => Some((t, EventId::parse(&id).ok_or_else(bad_id)?)),
    };
    let base = base(&s);
    let list = s.service.series_feed(after).await?;
    let last = list.last().map(|i| (i.modified, i.id.to_string()));
    let items = list
        .into_iter()
        .map(|i| match i.data {
            Some((e, g)) => json!({ "state": "updated", "kind": "SessionSeries", "id": i.id.to_string(),
                "modified": i.modified, "data": series_data(&base, &e, &g) }),
            None => {
                json!({ "state": "deleted", "kind": "SessionSeries", "id": i.id.to_string(), "modified": i.modified })
            }
        })
        .collect();
    Ok(page(&base, SERIES_PATH, raw.as_deref(), items, last))
}

/// OpenActive ScheduledSession feed (RPDE)
///
/// The occurrences of published SessionSeries from a day ago to a year ahead, each with its
/// `superEvent`; cancelled and postponed ones carry their `eventStatus`; occurrences removed from
/// a series and those of deleted events are `deleted` items.
#[utoipa::path(get, path = "/openactive/scheduled-sessions", tag = "open data", params(FeedParams),
    responses(
        (status = 200, description = "An RPDE page", body = Object, content_type = "application/json",
            headers(("Cache-Control" = String, description = "public, max-age=3600; the last page max-age=8"))),
        (status = 422, description = "INVALID_FEED_POSITION", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn sessions(
    State(s): State<RestState>,
    QueryParams(p): QueryParams<FeedParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let after = match position(&p)? {
        None => None,
        Some((t, id)) => {
            let (event, local) = parse_session_id(&id).ok_or_else(bad_id)?;
            Some((t, event, local))
        }
    };
    let base = base(&s);
    let list = s.service.sessions_feed(after).await?;
    let last = list.last().map(|i| (i.modified, session_id(i.event_id, &i.local_start)));
    let items = list
        .into_iter()
        .map(|i| {
            let id = session_id(i.event_id, &i.local_start);
            match &i.data {
                Some(o) => json!({ "state": "updated", "kind": "ScheduledSession", "id": id, "modified": i.modified,
                    "data": session_data(&base, i.event_id, o) }),
                None => json!({ "state": "deleted", "kind": "ScheduledSession", "id": id, "modified": i.modified }),
            }
        })
        .collect();
    Ok(page(&base, SESSIONS_PATH, raw.as_deref(), items, last))
}

/// OpenActive dataset site document
///
/// A schema.org `Dataset` (JSON-LD) that lists the two feeds, their licence and the data model.
#[utoipa::path(get, path = "/openactive", tag = "open data",
    responses((status = 200, description = "The dataset description", body = Object, content_type = "application/ld+json")),
    security(()))]
pub async fn dataset(State(s): State<RestState>) -> Response {
    let body = dataset_document(&s.service);
    ([(header::CONTENT_TYPE, "application/ld+json"), (header::CACHE_CONTROL, "public, max-age=3600")], body.to_string())
        .into_response()
}

/// OpenActive's own page of guidance for data users, the default `documentation`.
const DOCUMENTATION: &str = "https://permalink.openactive.io/dataset-site/open-data-documentation";

/// The dataset description (schema.org `Dataset`, OpenActive dataset site profile): served as
/// JSON-LD here, and inside the HTML dataset site for browsers and the OpenActive validator.
pub fn dataset_document(service: &scaffold_service::Service) -> Value {
    let base = service.identity().config().public_url.trim_end_matches('/').to_owned();
    let host = base.split_once("://").map_or(base.as_str(), |(_, h)| h).to_owned();
    let p = &service.identity().config().publisher;
    let name = p.name.clone().unwrap_or_else(|| format!("Community Scaffold ({host})"));
    let mut publisher = json!({
        "@type": "Organization",
        "name": name,
        "legalName": p.legal_name.clone().unwrap_or_else(|| name.clone()),
        "url": base,
        "logo": { "@type": "ImageObject", "url": p.logo_url.clone().unwrap_or_else(|| format!("{base}/assets/logo.svg")) },
    });
    if let Some(email) = &p.email {
        publisher["email"] = json!(email);
    }
    let feed = |kind: &str, path: &str| {
        json!({ "@type": "DataDownload", "name": kind, "identifier": kind,
            "additionalType": format!("https://openactive.io/{kind}"), "encodingFormat": RPDE,
            "contentUrl": format!("{base}{path}") })
    };
    json!({
        "@context": ["https://schema.org/", "https://openactive.io/"],
        "@type": "Dataset",
        "@id": format!("{base}/openactive"),
        "url": format!("{base}/openactive"),
        "name": format!("Community Scaffold ({host}) sessions"),
        "description": "Physical activity sessions run by community groups on this Community Scaffold \
            instance: SessionSeries and their ScheduledSessions, as OpenActive RPDE feeds.",
        "keywords": ["Community", "Sessions", "Activities"],
        "license": LICENSE,
        "inLanguage": ["en-GB"],
        "schemaVersion": "https://openactive.io/modelling-opportunity-data/2.0/",
        "publisher": publisher,
        "discussionUrl": p.discussion_url.clone().unwrap_or_else(|| format!("{base}/openactive#questions")),
        "documentation": p.documentation_url.clone().unwrap_or_else(|| DOCUMENTATION.to_owned()),
        "distribution": [feed("SessionSeries", SERIES_PATH), feed("ScheduledSession", SESSIONS_PATH)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_from_rules() {
        assert_eq!(
            repeat("FREQ=WEEKLY;BYDAY=TU,TH;INTERVAL=2"),
            (Some("P2W".into()), vec!["https://schema.org/Tuesday".into(), "https://schema.org/Thursday".into()])
        );
        assert_eq!(repeat("FREQ=MONTHLY;BYDAY=2TU"), (Some("P1M".into()), vec![]));
        assert_eq!(repeat("FREQ=WEEKLY;BYDAY=1TU"), (Some("P1W".into()), vec![]), "ordinals are not plain weekdays");
        assert_eq!(repeat("FREQ=DAILY;COUNT=3"), (Some("P1D".into()), vec![]));
    }

    #[test]
    fn durations_and_session_ids() {
        assert_eq!(duration(60), "PT1H");
        assert_eq!(duration(90), "PT1H30M");
        assert_eq!(duration(45), "PT45M");
        assert_eq!(duration(24 * 60), "P1D");
        assert_eq!(duration(0), "PT1M");
        let id = EventId::parse("0192f0a4-0000-7000-8000-000000000001").unwrap();
        let local = NaiveDateTime::parse_from_str("2026-04-07T10:00:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        let s = session_id(id, &local);
        assert_eq!(s, "0192f0a4-0000-7000-8000-000000000001-20260407T100000");
        assert_eq!(parse_session_id(&s), Some((id, local)));
        assert_eq!(parse_session_id("0192f0a4-0000-7000-8000-000000000001"), None);
        assert_eq!(parse_session_id("x"), None);
    }
}
