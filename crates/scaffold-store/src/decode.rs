//! Rows as both adapters read them, in plain types, and their conversion into domain values. A
//! stored value that no longer parses is reported as corruption, never silently defaulted.

use crate::{ApiKey, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use scaffold_domain::group::{
    Area, Category, Group, GroupKind, GroupStatus, GuidelineTemplate, Guidelines, JoinPolicy, Link, OrgIdentifier,
    Visibility,
};
use scaffold_domain::membership::{Membership, MembershipStatus, Role};
use scaffold_domain::{ApiKeyId, GroupId, Outcode, PersonId, Scopes, Slug};
use uuid::Uuid;

pub fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} `{value}` is not valid").into())
}

fn parse<T>(what: &str, value: &str, f: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    f(value).ok_or_else(|| corrupt(what, value))
}

#[derive(Debug)]
pub struct GroupRow {
    pub group_id: Uuid,
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub kind: String,
    pub categories: String,
    pub outcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub contact_email: Option<String>,
    pub links: serde_json::Value,
    pub visibility: String,
    pub join_policy: String,
    pub guidelines_template: Option<String>,
    pub guidelines_text: String,
    pub identifiers: serde_json::Value,
    pub member_count: i64,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl GroupRow {
    pub fn into_group(self) -> StoreResult<Group> {
        let area = match (self.outcode, self.latitude, self.longitude) {
            (Some(o), Some(latitude), Some(longitude)) => {
                Some(Area { outcode: Outcode::from_trusted(o), latitude, longitude })
            }
            _ => None,
        };
        let categories = self
            .categories
            .split_whitespace()
            .map(|c| parse("category", c, Category::parse))
            .collect::<StoreResult<Vec<_>>>()?;
        let identifiers: Vec<OrgIdentifier> =
            serde_json::from_value(self.identifiers).map_err(|e| StoreError::Other(Box::new(e)))?;
        let links: Vec<Link> = serde_json::from_value(self.links).map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(Group {
            id: GroupId(self.group_id),
            slug: Slug::from_trusted(self.slug),
            name: self.name,
            summary: self.summary,
            description: self.description,
            kind: parse("kind", &self.kind, GroupKind::parse)?,
            categories,
            area,
            contact_email: self.contact_email,
            links,
            visibility: parse("visibility", &self.visibility, Visibility::parse)?,
            join_policy: parse("join policy", &self.join_policy, JoinPolicy::parse)?,
            guidelines: Guidelines {
                template: self
                    .guidelines_template
                    .as_deref()
                    .map(|t| parse("guidelines template", t, GuidelineTemplate::parse))
                    .transpose()?,
                text: self.guidelines_text,
            },
            identifiers,
            member_count: self.member_count,
            origin: None,
            status: parse("status", &self.status, GroupStatus::parse)?,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub fn membership(
    group_id: Uuid,
    person_id: Uuid,
    role: &str,
    status: &str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> StoreResult<Membership> {
    Ok(Membership {
        group_id: GroupId(group_id),
        person_id: PersonId(person_id),
        role: parse("role", role, Role::parse)?,
        status: parse("membership status", status, MembershipStatus::parse)?,
        created_at,
        updated_at,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn api_key(
    id: Uuid,
    person_id: Uuid,
    name: String,
    token_hash: Vec<u8>,
    scopes: &str,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId(id),
        person_id: PersonId(person_id),
        name,
        token_hash,
        scopes: Scopes::parse(scopes).map_err(|w| corrupt("scope", &w))?,
        created_at,
        revoked_at,
    })
}

/// An `app` row in plain types; `redirect_uris` is the JSON array as stored.
#[derive(Debug)]
pub struct AppRow {
    pub app_id: Uuid,
    pub client_id: String,
    pub owner_person_id: Uuid,
    pub name: String,
    pub description: String,
    pub homepage: Option<String>,
    pub redirect_uris: serde_json::Value,
    pub requested_scopes: String,
    pub granted_scopes: String,
    pub secret_hash: Vec<u8>,
    pub secret_created_at: DateTime<Utc>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AppRow {
    pub fn into_app(self) -> StoreResult<scaffold_domain::identity::App> {
        use scaffold_domain::identity::{App, AppStatus};
        Ok(App {
            id: scaffold_domain::AppId(self.app_id),
            client_id: self.client_id,
            owner: PersonId(self.owner_person_id),
            name: self.name,
            description: self.description,
            homepage: self.homepage,
            redirect_uris: serde_json::from_value(self.redirect_uris).map_err(|e| StoreError::Other(Box::new(e)))?,
            requested_scopes: Scopes::parse(&self.requested_scopes).map_err(|w| corrupt("scope", &w))?,
            granted_scopes: Scopes::parse(&self.granted_scopes).map_err(|w| corrupt("scope", &w))?,
            secret_hash: self.secret_hash,
            secret_created_at: self.secret_created_at,
            status: parse("app status", &self.status, AppStatus::parse)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub fn redirect_uris_json(app: &scaffold_domain::identity::App) -> serde_json::Value {
    serde_json::Value::from(app.redirect_uris.clone())
}

pub fn assurance(
    level: &str,
    provider: String,
    source: String,
    asserted_at: DateTime<Utc>,
) -> StoreResult<scaffold_domain::identity::Assurance> {
    use scaffold_domain::identity::{Assurance, AssuranceLevel};
    Ok(Assurance { level: parse("assurance level", level, AssuranceLevel::parse)?, provider, source, asserted_at })
}

/// The descriptive fields of an event, stored as one JSON document (`event.details`); the
/// columns hold what is filtered and ordered on.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct EventDetails {
    pub summary: String,
    pub description: Option<String>,
    pub status_reason: Option<String>,
    pub place_name: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub online_url: Option<String>,
    pub accessibility: Vec<String>,
    pub accessibility_notes: Option<String>,
    pub capacity: Option<u32>,
    pub booking: String,
    pub booking_url: Option<String>,
    pub price_pence: Option<u32>,
    pub concessions: Option<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    pub exdates: Vec<String>,
    /// OpenActive activity identifiers.
    #[serde(default)]
    pub activities: Vec<String>,
}

/// A place stored as JSON (occurrence overrides).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PlaceJson {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub outcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// An `occurrence` row in plain types.
#[derive(Debug)]
pub struct OccurrenceRow {
    pub local_start: String,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub status: String,
    pub reason: Option<String>,
    pub place: Option<serde_json::Value>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl OccurrenceRow {
    pub fn into_listed(self) -> StoreResult<scaffold_domain::event::ListedOccurrence> {
        use scaffold_domain::event::EventStatus;
        Ok(scaffold_domain::event::ListedOccurrence {
            local_start: local_parse(&self.local_start)?,
            start: self.start_at,
            end: self.end_at,
            status: parse("event status", &self.status, EventStatus::parse)?,
            reason: self.reason,
            place: self.place.map(PlaceJson::into_place).transpose()?,
            latitude: self.latitude,
            longitude: self.longitude,
        })
    }
}

impl PlaceJson {
    pub fn from_place(p: &scaffold_domain::event::Place) -> serde_json::Value {
        serde_json::to_value(PlaceJson {
            name: p.name.clone(),
            address: p.address.clone(),
            postcode: p.postcode.clone(),
            outcode: p.outcode.as_ref().map(|o| o.as_str().to_owned()),
            latitude: p.latitude,
            longitude: p.longitude,
        })
        .unwrap_or_default()
    }

    pub fn into_place(v: serde_json::Value) -> StoreResult<scaffold_domain::event::Place> {
        let p: PlaceJson = serde_json::from_value(v).map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(scaffold_domain::event::Place {
            name: p.name,
            address: p.address,
            postcode: p.postcode,
            outcode: p.outcode.map(Outcode::from_trusted),
            latitude: p.latitude,
            longitude: p.longitude,
        })
    }
}

/// Local times as stored.
pub fn local_text(t: &chrono::NaiveDateTime) -> String {
    t.format(LOCAL).to_string()
}

pub fn local_parse(s: &str) -> StoreResult<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s, LOCAL).map_err(|_| corrupt("local time", s))
}

/// An `rsvp` row in plain types.
#[derive(Debug)]
pub struct RsvpRow {
    pub event_id: Uuid,
    pub occurrence: String,
    pub person_id: Uuid,
    pub response: String,
    pub party_size: i64,
    pub state: String,
    pub waitlisted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub from_series: bool,
}

impl RsvpRow {
    pub fn into_rsvp(self) -> StoreResult<scaffold_domain::rsvp::Rsvp> {
        use scaffold_domain::rsvp::{Rsvp, RsvpResponse, RsvpState};
        Ok(Rsvp {
            event_id: scaffold_domain::EventId(self.event_id),
            occurrence: local_parse(&self.occurrence)?,
            person_id: PersonId(self.person_id),
            response: parse("rsvp response", &self.response, RsvpResponse::parse)?,
            party_size: u8::try_from(self.party_size)
                .map_err(|_| corrupt("party size", &self.party_size.to_string()))?,
            state: parse("rsvp state", &self.state, RsvpState::parse)?,
            waitlisted_at: self.waitlisted_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            checked_in_at: self.checked_in_at,
            from_series: self.from_series,
        })
    }
}

/// The order replies are listed in: confirmed, waitlisted (queue order), the rest.
pub const RSVP_ORDER: &str =
    "case state when 'confirmed' then 0 when 'waitlisted' then 1 else 2 end, waitlisted_at, created_at, person_id";

/// An `event_override` row in plain types.
#[derive(Debug)]
pub struct OverrideRow {
    pub local_start: String,
    pub status: String,
    pub reason: Option<String>,
    pub start_local: Option<String>,
    pub end_local: Option<String>,
    pub place: Option<serde_json::Value>,
}

impl OverrideRow {
    pub fn into_override(self) -> StoreResult<scaffold_domain::event::OccurrenceOverride> {
        use scaffold_domain::event::{EventStatus, OccurrenceOverride};
        Ok(OccurrenceOverride {
            local_start: local_parse(&self.local_start)?,
            status: parse("event status", &self.status, EventStatus::parse)?,
            reason: self.reason,
            start: self.start_local.as_deref().map(local_parse).transpose()?,
            end: self.end_local.as_deref().map(local_parse).transpose()?,
            place: self.place.map(PlaceJson::into_place).transpose()?,
        })
    }
}

/// An `event` row in plain types.
#[derive(Debug)]
pub struct EventRow {
    pub event_id: Uuid,
    pub group_id: Uuid,
    pub title: String,
    pub start_at: DateTime<Utc>,
    pub timezone: String,
    pub start_local: String,
    pub end_local: String,
    pub all_day: bool,
    pub status: String,
    pub recurrence_rule: Option<String>,
    pub outcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub categories: String,
    pub details: serde_json::Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Derived for search: lower-cased title, summary, place name and activity labels.
    pub search_text: String,
    /// Derived for search: the accessibility features, space-separated and space-padded.
    pub features: String,
    /// Derived for the feeds: the event names an OpenActive activity.
    pub open_active: bool,
}

const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

impl EventRow {
    pub fn from_event(e: &scaffold_domain::event::Event) -> StoreResult<Self> {
        let place = e.place.as_ref();
        let details = EventDetails {
            summary: e.summary.clone(),
            description: e.description.clone(),
            status_reason: e.status_reason.clone(),
            place_name: place.map(|p| p.name.clone()),
            address: place.and_then(|p| p.address.clone()),
            postcode: place.and_then(|p| p.postcode.clone()),
            online_url: e.online_url.clone(),
            accessibility: e.accessibility.iter().map(|a| a.as_str().to_owned()).collect(),
            accessibility_notes: e.accessibility_notes.clone(),
            capacity: e.capacity,
            booking: e.booking.as_str().to_owned(),
            booking_url: e.booking_url.clone(),
            price_pence: e.price_pence,
            concessions: e.concessions.clone(),
            min_age: e.min_age,
            max_age: e.max_age,
            exdates: e
                .recurrence
                .as_ref()
                .map(|r| r.exdates.iter().map(|x| x.format(LOCAL).to_string()).collect())
                .unwrap_or_default(),
            activities: e.activities.iter().map(|a| a.identifier.clone()).collect(),
        };
        let mut search_text = format!("{} {}", e.title, e.summary);
        for part in place.map(|p| p.name.as_str()).into_iter().chain(e.activities.iter().map(|a| a.pref_label.as_str()))
        {
            search_text.push(' ');
            search_text.push_str(part);
        }
        let features: String = e.accessibility.iter().map(|a| format!(" {}", a.as_str())).collect();
        Ok(EventRow {
            event_id: e.id.0,
            group_id: e.group_id.0,
            title: e.title.clone(),
            start_at: e.start_instant(),
            timezone: e.timezone.name().to_owned(),
            start_local: e.start.format(LOCAL).to_string(),
            end_local: e.end.format(LOCAL).to_string(),
            all_day: e.all_day,
            status: e.status.as_str().to_owned(),
            recurrence_rule: e.recurrence.as_ref().map(|r| r.rule.clone()),
            outcode: place.and_then(|p| p.outcode.as_ref()).map(|o| o.as_str().to_owned()),
            latitude: place.and_then(|p| p.latitude),
            longitude: place.and_then(|p| p.longitude),
            categories: e.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" "),
            details: serde_json::to_value(details).map_err(|err| StoreError::Other(Box::new(err)))?,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
            search_text: search_text.to_lowercase(),
            features: format!("{features} "),
            open_active: e.open_active(),
        })
    }

    pub fn into_event(self) -> StoreResult<scaffold_domain::event::Event> {
        use scaffold_domain::event::{AccessibilityFeature, BookingMode, Event, EventStatus, Place, Recurrence};
        let d: EventDetails = serde_json::from_value(self.details).map_err(|e| StoreError::Other(Box::new(e)))?;
        let local = |s: &str| chrono::NaiveDateTime::parse_from_str(s, LOCAL).map_err(|_| corrupt("local time", s));
        let place = match d.place_name {
            None => None,
            Some(name) => Some(Place {
                name,
                address: d.address,
                postcode: d.postcode,
                outcode: self.outcode.map(Outcode::from_trusted),
                latitude: self.latitude,
                longitude: self.longitude,
            }),
        };
        let recurrence = match self.recurrence_rule {
            None => None,
            Some(rule) => {
                Some(Recurrence { rule, exdates: d.exdates.iter().map(|x| local(x)).collect::<StoreResult<Vec<_>>>()? })
            }
        };
        Ok(Event {
            id: scaffold_domain::EventId(self.event_id),
            group_id: GroupId(self.group_id),
            title: self.title,
            summary: d.summary,
            description: d.description,
            timezone: self.timezone.parse().map_err(|_| corrupt("time zone", &self.timezone))?,
            start: local(&self.start_local)?,
            end: local(&self.end_local)?,
            all_day: self.all_day,
            status: parse("event status", &self.status, EventStatus::parse)?,
            status_reason: d.status_reason,
            place,
            online_url: d.online_url,
            accessibility: d
                .accessibility
                .iter()
                .map(|a| parse("accessibility feature", a, AccessibilityFeature::parse))
                .collect::<StoreResult<Vec<_>>>()?,
            accessibility_notes: d.accessibility_notes,
            capacity: d.capacity,
            booking: parse("booking mode", &d.booking, BookingMode::parse)?,
            booking_url: d.booking_url,
            price_pence: d.price_pence,
            concessions: d.concessions,
            min_age: d.min_age,
            max_age: d.max_age,
            categories: self
                .categories
                .split_whitespace()
                .map(|c| parse("category", c, Category::parse))
                .collect::<StoreResult<Vec<_>>>()?,
            activities: d
                .activities
                .iter()
                .map(|a| scaffold_domain::activity::Activity::find(a).ok_or_else(|| corrupt("activity", a)))
                .collect::<StoreResult<Vec<_>>>()?,
            recurrence,
            origin: None,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
