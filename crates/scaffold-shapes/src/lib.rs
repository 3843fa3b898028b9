//! Shapes both transports send and take, where their names and types agree: one struct derives
//! serde and utoipa (REST, snake_case) and async-graphql (GraphQL, camelCase), so the two cannot
//! drift. Shapes that differ by design (REST's status strings against GraphQL's enums, Relay
//! connections) stay in their transport.

mod enums;
pub mod schema;

pub use enums::*;

use chrono::NaiveDateTime;
use chrono::{DateTime, Utc};
use scaffold_domain::activity::Activity;
use scaffold_domain::event::{Event, EventDraft, Occurrence, OverrideDraft, Place, PlaceInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A place, as written.
#[derive(Debug, Deserialize, Serialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
#[graphql(name = "PlaceInput")]
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

impl From<PlaceBody> for PlaceInput {
    fn from(p: PlaceBody) -> Self {
        PlaceInput {
            name: p.name,
            address: p.address,
            postcode: p.postcode,
            latitude: p.latitude,
            longitude: p.longitude,
        }
    }
}

/// Where an event or one of its dates happens.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Place")]
pub struct PlaceOut {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    /// The postcode's outward code (the district), which places it on the map.
    pub outcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<&Place> for PlaceOut {
    fn from(p: &Place) -> Self {
        PlaceOut {
            name: p.name.clone(),
            address: p.address.clone(),
            postcode: p.postcode.clone(),
            outcode: p.outcode.as_ref().map(|o| o.as_str().to_owned()),
            latitude: p.latitude,
            longitude: p.longitude,
        }
    }
}

/// An OpenActive Activity List concept.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Activity")]
pub struct ActivityOut {
    /// The concept's id, e.g. `https://openactive.io/activity-list#<identifier>`.
    pub id: String,
    pub pref_label: String,
}

impl From<&Activity> for ActivityOut {
    fn from(a: &Activity) -> Self {
        ActivityOut { id: a.id(), pref_label: a.pref_label.clone() }
    }
}

/// A local date and time as both transports write it, `YYYY-MM-DDTHH:MM`.
pub fn local(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// An event or series, as written.
#[derive(Debug, Deserialize, ToSchema, async_graphql::InputObject)]
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
    #[graphql(default)]
    pub all_day: bool,
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: Option<EventStatus>,
    #[schema(max_length = 280)]
    pub status_reason: Option<String>,
    pub place: Option<PlaceBody>,
    pub online_url: Option<String>,
    #[serde(default)]
    #[graphql(default)]
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
    #[graphql(default)]
    #[schema(schema_with = crate::schema::categories_schema)]
    pub categories: Vec<Category>,
    /// OpenActive activities (at most 5), each by its Activity List identifier, id URL or
    /// preferred label, e.g. `Walking`. Events with an activity are published in the OpenActive
    /// feeds.
    #[serde(default)]
    #[graphql(default)]
    #[schema(example = json!(["Walking"]))]
    pub activities: Vec<String>,
    /// An RFC 5545 RRULE value (FREQ DAILY, WEEKLY, MONTHLY or YEARLY), e.g. `FREQ=WEEKLY;BYDAY=TU`.
    #[schema(example = "FREQ=WEEKLY;BYDAY=TU")]
    pub rrule: Option<String>,
    /// Local start times of occurrences that do not happen.
    #[serde(default)]
    #[graphql(default)]
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
            status: b.status.map(Into::into),
            status_reason: b.status_reason,
            place: b.place.map(PlaceInput::from),
            online_url: b.online_url,
            accessibility: b.accessibility.into_iter().map(Into::into).collect(),
            accessibility_notes: b.accessibility_notes,
            capacity: b.capacity,
            booking: b.booking.map(Into::into),
            booking_url: b.booking_url,
            price_pence: b.price_pence,
            concessions: b.concessions,
            min_age: b.min_age,
            max_age: b.max_age,
            categories: b.categories.into_iter().map(Into::into).collect(),
            activities: b.activities,
            rrule: b.rrule,
            exdates: b.exdates,
        }
    }
}

/// A change to one occurrence of a series.
#[derive(Debug, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct OccurrenceChange {
    /// Cancelled or postponed (or scheduled, to keep it while moving or relocating it).
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

/// One occurrence of an event.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Occurrence")]
pub struct OccurrenceBody {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The series' local start in the event's zone, which names the occurrence (also when moved).
    pub local_start: String,
    #[schema(schema_with = crate::schema::event_status_schema)]
    pub status: EventStatus,
    pub reason: Option<String>,
    /// Moved from its series time.
    pub moved: bool,
    /// A place for this occurrence only.
    pub place: Option<PlaceOut>,
}

impl From<OccurrenceChange> for OverrideDraft {
    fn from(c: OccurrenceChange) -> Self {
        OverrideDraft {
            status: c.status.map(Into::into),
            reason: c.reason,
            start: c.start,
            end: c.end,
            place: c.place.map(PlaceInput::from),
        }
    }
}

impl From<Occurrence> for OccurrenceBody {
    fn from(o: Occurrence) -> Self {
        OccurrenceBody {
            start: o.start,
            end: o.end,
            local_start: local(&o.local_start),
            status: o.status.into(),
            reason: o.reason,
            moved: o.moved,
            place: o.place.as_ref().map(PlaceOut::from),
        }
    }
}

/// Where an imported group or event comes from. Imported items are read-only here.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Origin")]
pub struct OriginOut {
    /// The source's id (operators see it at `/api/v1/sources/{id}`).
    #[schema(format = Uuid)]
    pub source: String,
    /// The source's name, e.g. the council whose calendar it is.
    pub source_name: String,
    /// The item's id where it comes from (an iCalendar UID, a feed item id).
    pub original_id: String,
    /// The item's own page where it comes from.
    pub url: Option<String>,
    /// When the source last listed it.
    pub last_seen: DateTime<Utc>,
}

impl From<&scaffold_domain::source::Origin> for OriginOut {
    fn from(o: &scaffold_domain::source::Origin) -> Self {
        OriginOut {
            source: o.source.to_string(),
            source_name: o.source_name.clone(),
            original_id: o.key.clone(),
            url: o.url.clone(),
            last_seen: o.seen_at,
        }
    }
}

/// An event or series.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "EventFields")]
pub struct EventBody {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub group_id: Uuid,
    pub title: String,
    pub summary: String,
    /// CommonMark, as written.
    pub description: Option<String>,
    /// The description as safe HTML (raw HTML shown as text; only http, https and mailto links).
    pub description_html: Option<String>,
    /// The IANA time zone of the local times.
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
    pub status: EventStatus,
    pub status_reason: Option<String>,
    pub place: Option<PlaceOut>,
    pub online_url: Option<String>,
    #[schema(schema_with = crate::schema::accessibility_schema)]
    pub accessibility: Vec<AccessibilityFeature>,
    pub accessibility_notes: Option<String>,
    pub capacity: Option<u32>,
    #[schema(schema_with = crate::schema::booking_schema)]
    pub booking: BookingMode,
    pub booking_url: Option<String>,
    /// Absent: free.
    pub price_pence: Option<u32>,
    pub concessions: Option<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    #[schema(schema_with = crate::schema::categories_schema)]
    pub categories: Vec<Category>,
    /// OpenActive activities.
    pub activities: Vec<ActivityOut>,
    /// The RFC 5545 RRULE of a series.
    pub rrule: Option<String>,
    /// Local start times of occurrences that do not happen.
    pub exdates: Vec<String>,
    /// Where the event comes from, when it is imported (then it is read-only here).
    pub origin: Option<OriginOut>,
    /// Also sent as the ETag.
    pub version: i64,
    #[graphql(skip)]
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub updated_at: DateTime<Utc>,
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
            status: e.status.into(),
            status_reason: e.status_reason,
            place: e.place.as_ref().map(PlaceOut::from),
            online_url: e.online_url,
            accessibility: e.accessibility.iter().map(|a| (*a).into()).collect(),
            accessibility_notes: e.accessibility_notes,
            capacity: e.capacity,
            booking: e.booking.into(),
            booking_url: e.booking_url,
            price_pence: e.price_pence,
            concessions: e.concessions,
            min_age: e.min_age,
            max_age: e.max_age,
            categories: e.categories.iter().map(|c| (*c).into()).collect(),
            activities: e.activities.iter().map(ActivityOut::from).collect(),
            rrule: e.recurrence.as_ref().map(|r| r.rule.clone()),
            origin: e.origin.as_ref().map(OriginOut::from),
            exdates: e.recurrence.map(|r| r.exdates.iter().map(local).collect()).unwrap_or_default(),
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}
