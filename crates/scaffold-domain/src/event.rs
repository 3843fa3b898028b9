//! Events a group runs: one-off or recurring (RFC 5545 RRULE with EXDATE), in an IANA time zone,
//! with place, accessibility, booking, cost and audience. Times are kept as local wall-clock times
//! plus the zone, so that a weekly 10:00 event stays at 10:00 across clock changes; instants are
//! derived. Recurrence is expanded with the `rrule` crate inside a bounded window and a bounded
//! count, so a hostile rule cannot loop. No storage or transport here.

use crate::activity::Activity;
use crate::codes;
use crate::group::{Category, wire_enum};
use crate::{DomainError, EventId, FieldError, GroupId, Outcode, text};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub const TITLE_MAX: usize = 120;
pub const SUMMARY_MAX: usize = 280;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const NOTES_MAX: usize = 1_000;
pub const REASON_MAX: usize = 280;
/// The longest a single occurrence may last.
pub const MAX_DURATION_DAYS: i64 = 14;
/// The widest window occurrences are expanded in, and the most returned.
pub const MAX_WINDOW_DAYS: i64 = 366;
pub const MAX_OCCURRENCES: u16 = 1_000;
pub const MAX_EXDATES: usize = 200;
pub const DEFAULT_TIMEZONE: &str = "Europe/London";
/// Occurrences are listed (for search and the ScheduledSession feed) from this many days ago…
pub const LISTING_PAST_DAYS: i64 = 1;
/// …to this many days ahead.
pub const LISTING_AHEAD_DAYS: i64 = 364;

wire_enum!(
    /// Whether an event is going ahead.
    EventStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
        Postponed = "postponed",
    }
);

wire_enum!(
    /// How people book.
    BookingMode {
        DropIn = "drop-in",
        Rsvp = "rsvp",
        External = "external",
    }
);

wire_enum!(
    /// Structured accessibility features of a place or event.
    AccessibilityFeature {
        StepFree = "step-free",
        AccessibleToilet = "accessible-toilet",
        HearingLoop = "hearing-loop",
        AccessibleParking = "accessible-parking",
        QuietSpace = "quiet-space",
        SignLanguage = "sign-language",
        LargePrint = "large-print",
        AssistanceDogsWelcome = "assistance-dogs-welcome",
        Seating = "seating",
        ChangingPlaces = "changing-places",
    }
);

/// Where an event happens. Latitude and longitude come from the postcode's outward code when not
/// given.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub outcode: Option<Outcode>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A series: the rule and the excluded local start times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// The RRULE value as given (upper-cased), e.g. `FREQ=WEEKLY;BYDAY=TU`; validated by the
    /// `rrule` crate against the start.
    pub rule: String,
    pub exdates: Vec<NaiveDateTime>,
}

/// An event or series.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub group_id: GroupId,
    pub title: String,
    pub summary: String,
    pub description: Option<String>,
    pub timezone: Tz,
    /// Local wall-clock start and end (of the first occurrence, for a series).
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub all_day: bool,
    pub status: EventStatus,
    pub status_reason: Option<String>,
    pub place: Option<Place>,
    pub online_url: Option<String>,
    pub accessibility: Vec<AccessibilityFeature>,
    pub accessibility_notes: Option<String>,
    pub capacity: Option<u32>,
    pub booking: BookingMode,
    pub booking_url: Option<String>,
    /// `None`: free.
    pub price_pence: Option<u32>,
    pub concessions: Option<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    pub categories: Vec<Category>,
    /// OpenActive activities, for events that are physical activities (these are published in the
    /// OpenActive feeds).
    pub activities: Vec<Activity>,
    pub recurrence: Option<Recurrence>,
    /// Where the event comes from, when it is imported (read-only here).
    pub origin: Option<crate::source::Origin>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One occurrence of an event, with any change made to it alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The local start the series gives it, which identifies the occurrence (RFC 5545
    /// RECURRENCE-ID) even when it has been moved.
    pub local_start: NaiveDateTime,
    pub status: EventStatus,
    pub reason: Option<String>,
    /// Moved from its series time.
    pub moved: bool,
    /// A place for this occurrence only.
    pub place: Option<Place>,
}

/// A change to one occurrence of a series: cancel or postpone it, move it, or hold it elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct OccurrenceOverride {
    /// The series' local start of the occurrence.
    pub local_start: NaiveDateTime,
    pub status: EventStatus,
    pub reason: Option<String>,
    /// New local start and end, when moved.
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    pub place: Option<Place>,
}

/// Unvalidated input for an [`OccurrenceOverride`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverrideDraft {
    pub status: Option<EventStatus>,
    pub reason: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub place: Option<PlaceInput>,
}

impl OverrideDraft {
    /// Checks the change against the event: `local_start` must be an occurrence of its series.
    pub fn validate(&self, event: &Event, local_start: &str) -> Result<OccurrenceOverride, DomainError> {
        let at = local("/local_start", local_start).map_err(|e| DomainError::invalid(vec![e]))?;
        if event.recurrence.is_none() {
            return Err(DomainError::invalid_field(
                "/local_start",
                codes::NOT_A_SERIES,
                "only a series has occurrences to change",
            ));
        }
        let instant_at = instant(event.timezone, at);
        let near = event.occurrences(instant_at - Duration::seconds(1), instant_at + Duration::seconds(1))?;
        if !near.iter().any(|o| o.local_start == at) {
            return Err(DomainError::invalid_field(
                "/local_start",
                codes::OCCURRENCE_NOT_IN_SERIES,
                "the series has no occurrence starting then (check the local time and any excluded dates)",
            ));
        }
        let mut errors = Vec::new();
        let reason = opt_text("/reason", &self.reason, REASON_MAX, &mut errors);
        let start =
            self.start.as_deref().map(|s| local("/start", s)).transpose().map_err(|e| errors.push(e)).ok().flatten();
        let end = self.end.as_deref().map(|s| local("/end", s)).transpose().map_err(|e| errors.push(e)).ok().flatten();
        match (start, end) {
            (Some(s), Some(e)) if e <= s => {
                errors.push(FieldError::new("/end", codes::END_BEFORE_START, "must be after the start"))
            }
            (Some(s), Some(e)) if e - s > Duration::days(MAX_DURATION_DAYS) => {
                errors.push(FieldError::new(
                    "/end",
                    codes::TOO_LONG,
                    format!("an occurrence lasts at most {MAX_DURATION_DAYS} days"),
                ));
            }
            (Some(_), None) | (None, Some(_)) if errors.is_empty() => {
                errors.push(FieldError::new(
                    "/end",
                    codes::START_AND_END,
                    "give both start and end to move an occurrence",
                ));
            }
            _ => {}
        }
        let place = self.place.as_ref().and_then(|p| place(p, &mut errors));
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        Ok(OccurrenceOverride {
            local_start: at,
            status: self.status.unwrap_or(EventStatus::Scheduled),
            reason,
            start,
            end,
            place,
        })
    }
}

/// A place as the transports receive it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaceInput {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Unvalidated input for an event, as the transports receive it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDraft {
    pub title: String,
    pub summary: String,
    pub description: Option<String>,
    pub timezone: Option<String>,
    /// Local times, `YYYY-MM-DDTHH:MM[:SS]`; for all-day events the times are ignored.
    pub start: String,
    pub end: String,
    pub all_day: bool,
    pub status: Option<EventStatus>,
    pub status_reason: Option<String>,
    pub place: Option<PlaceInput>,
    pub online_url: Option<String>,
    pub accessibility: Vec<AccessibilityFeature>,
    pub accessibility_notes: Option<String>,
    pub capacity: Option<u32>,
    pub booking: Option<BookingMode>,
    pub booking_url: Option<String>,
    pub price_pence: Option<u32>,
    pub concessions: Option<String>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    pub categories: Vec<Category>,
    /// OpenActive activity names: identifier, id URL or preferred label.
    pub activities: Vec<String>,
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
}

/// The checked fields of an [`EventDraft`].
pub type ValidEvent = Event;

fn local(pointer: &str, s: &str) -> Result<NaiveDateTime, FieldError> {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]
        .iter()
        .find_map(|f| {
            NaiveDateTime::parse_from_str(s, f).ok().or_else(|| {
                (*f == "%Y-%m-%d")
                    .then(|| chrono::NaiveDate::parse_from_str(s, f).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
                    .flatten()
            })
        })
        .ok_or_else(|| {
            FieldError::new(pointer, codes::INVALID_LOCAL_TIME, "must be a local time like 2026-04-07T10:00")
        })
}

/// The instant a local time names in `tz`. In a gap (clocks going forward) the time after the gap;
/// when ambiguous (clocks going back) the earlier one, as RFC 5545 says.
pub fn instant(tz: Tz, t: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&t) {
        chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => d.with_timezone(&Utc),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(t + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&t), |d| d.with_timezone(&Utc)),
    }
}

fn opt_text(pointer: &str, v: &Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    v.as_deref().map(|s| text::bounded(pointer, s, 1, max, true)).transpose().map_err(|e| errors.push(e)).ok().flatten()
}

/// Parses and checks a rule: FREQ daily, weekly, monthly or yearly only (no sub-daily rules);
/// RFC 5545 syntax as the `rrule` crate validates it against the start.
fn rule(pointer: &str, raw: &str, tz: Tz, start: NaiveDateTime) -> Result<String, FieldError> {
    let bad = |msg: String| FieldError::new(pointer, codes::INVALID_RRULE, msg);
    let raw = raw.trim().trim_start_matches("RRULE:");
    if raw.len() > 500 || raw.contains(['\n', '\r']) {
        return Err(bad("must be a single RRULE value of at most 500 characters".to_owned()));
    }
    let parsed: rrule::RRule<rrule::Unvalidated> = raw.parse().map_err(|e: rrule::RRuleError| bad(e.to_string()))?;
    if !matches!(
        parsed.get_freq(),
        rrule::Frequency::Daily | rrule::Frequency::Weekly | rrule::Frequency::Monthly | rrule::Frequency::Yearly
    ) {
        return Err(FieldError::new(pointer, codes::RRULE_FREQUENCY, "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"));
    }
    let dt_start = rrule::Tz::Tz(tz).from_utc_datetime(&instant(tz, start).naive_utc());
    let _validated = parsed.build(dt_start).map_err(|e| bad(e.to_string()))?;
    // Kept as written (upper-cased): the crate's own printing adds the defaults it derives.
    Ok(raw.to_uppercase())
}

impl EventDraft {
    /// Checks every field and reports every problem at once.
    pub fn validate(&self, id: EventId, group_id: GroupId, now: DateTime<Utc>) -> Result<ValidEvent, DomainError> {
        let mut errors = Vec::new();
        let title = text::bounded("/title", &self.title, 1, TITLE_MAX, false).map_err(|e| errors.push(e)).ok();
        let summary = text::bounded("/summary", &self.summary, 1, SUMMARY_MAX, false).map_err(|e| errors.push(e)).ok();
        let description = opt_text("/description", &self.description, DESCRIPTION_MAX, &mut errors);
        let tz_name = self.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE);
        let timezone = tz_name
            .parse::<Tz>()
            .map_err(|_| {
                errors.push(FieldError::new(
                    "/timezone",
                    codes::INVALID_TIMEZONE,
                    "must be an IANA time zone, e.g. Europe/London",
                ))
            })
            .ok();
        let start = local("/start", &self.start).map_err(|e| errors.push(e)).ok();
        let end = local("/end", &self.end).map_err(|e| errors.push(e)).ok();
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) if self.all_day => {
                let (s, e) = (s.date().and_time(chrono::NaiveTime::MIN), e.date().and_time(chrono::NaiveTime::MIN));
                if e < s {
                    errors.push(FieldError::new("/end", codes::END_BEFORE_START, "must not be before the start"));
                }
                (Some(s), Some(e + Duration::days(1)))
            }
            (Some(s), Some(e)) => {
                if e <= s {
                    errors.push(FieldError::new("/end", codes::END_BEFORE_START, "must be after the start"));
                } else if e - s > Duration::days(MAX_DURATION_DAYS) {
                    errors.push(FieldError::new(
                        "/end",
                        codes::TOO_LONG,
                        format!("an occurrence lasts at most {MAX_DURATION_DAYS} days"),
                    ));
                }
                (Some(s), Some(e))
            }
            _ => (None, None),
        };
        let status = self.status.unwrap_or(EventStatus::Scheduled);
        let status_reason = opt_text("/status_reason", &self.status_reason, REASON_MAX, &mut errors);
        let place = self.place.as_ref().and_then(|p| place(p, &mut errors));
        let online_url = self
            .online_url
            .as_deref()
            .map(|u| text::http_url("/online_url", u, 500))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if place.is_none() && online_url.is_none() && self.place.is_none() {
            errors.push(FieldError::new("/place", codes::PLACE_OR_ONLINE, "give a place, an online_url, or both"));
        }
        let accessibility_notes = opt_text("/accessibility_notes", &self.accessibility_notes, NOTES_MAX, &mut errors);
        if self.capacity == Some(0) {
            errors.push(FieldError::new("/capacity", codes::OUT_OF_RANGE, "must be at least 1 (omit it for no limit)"));
        }
        let booking = self.booking.unwrap_or(BookingMode::DropIn);
        let booking_url = self
            .booking_url
            .as_deref()
            .map(|u| text::http_url("/booking_url", u, 500))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if booking == BookingMode::External && self.booking_url.is_none() {
            errors.push(FieldError::new("/booking_url", codes::REQUIRED, "external booking needs a booking_url"));
        }
        let concessions = opt_text("/concessions", &self.concessions, NOTES_MAX, &mut errors);
        if let (Some(min), Some(max)) = (self.min_age, self.max_age)
            && min > max
        {
            errors.push(FieldError::new("/max_age", codes::OUT_OF_RANGE, "must not be below min_age"));
        }
        if self.max_age.is_some_and(|a| a > 120) || self.min_age.is_some_and(|a| a > 120) {
            errors.push(FieldError::new("/min_age", codes::OUT_OF_RANGE, "ages are 0 to 120"));
        }
        if self.categories.len() > 5 {
            errors.push(FieldError::new("/categories", codes::TOO_MANY, "at most 5 categories"));
        }
        if self.exdates.len() > MAX_EXDATES {
            errors.push(FieldError::new("/exdates", codes::TOO_MANY, format!("at most {MAX_EXDATES} excluded dates")));
        }
        let recurrence = match (&self.rrule, timezone, start) {
            (Some(r), Some(tz), Some(s)) => match rule("/rrule", r, tz, s) {
                Ok(rule) => {
                    let mut exdates = Vec::new();
                    for (i, x) in self.exdates.iter().enumerate() {
                        match local(&format!("/exdates/{i}"), x) {
                            Ok(t) => exdates.push(t),
                            Err(e) => errors.push(e),
                        }
                    }
                    exdates.sort_unstable();
                    exdates.dedup();
                    Some(Recurrence { rule, exdates })
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            (None, _, _) if !self.exdates.is_empty() => {
                errors.push(FieldError::new(
                    "/exdates",
                    codes::NOT_A_SERIES,
                    "only a recurring event has excluded dates",
                ));
                None
            }
            _ => None,
        };
        let activities = Activity::parse_all("/activities", &self.activities).map_err(|e| errors.extend(e)).ok();
        let mut accessibility = self.accessibility.clone();
        accessibility.sort_unstable();
        accessibility.dedup();
        let mut categories = self.categories.clone();
        categories.sort_unstable();
        categories.dedup();
        match (title, summary, timezone, start, end, activities) {
            (Some(title), Some(summary), Some(timezone), Some(start), Some(end), Some(activities))
                if errors.is_empty() =>
            {
                Ok(Event {
                    id,
                    group_id,
                    title,
                    summary,
                    description,
                    timezone,
                    start,
                    end,
                    all_day: self.all_day,
                    status,
                    status_reason,
                    place,
                    online_url,
                    accessibility,
                    accessibility_notes,
                    capacity: self.capacity,
                    booking,
                    booking_url,
                    price_pence: self.price_pence,
                    concessions,
                    min_age: self.min_age,
                    max_age: self.max_age,
                    categories,
                    activities,
                    recurrence,
                    origin: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                })
            }
            _ => Err(DomainError::invalid(errors)),
        }
    }
}

fn place(p: &PlaceInput, errors: &mut Vec<FieldError>) -> Option<Place> {
    let before = errors.len();
    let name = text::bounded("/place/name", &p.name, 1, 200, false).map_err(|e| errors.push(e)).ok();
    let address = opt_text("/place/address", &p.address, 500, errors);
    let postcode = p.postcode.as_deref().map(|s| s.trim().to_uppercase());
    let outcode = match &postcode {
        None => None,
        Some(pc) => {
            let out = pc.split_whitespace().next().unwrap_or_default();
            let full_ok = pc.len() <= 8 && pc.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
            match Outcode::parse("/place/postcode", out) {
                Ok(o) if full_ok => Some(o),
                Ok(_) => {
                    errors.push(FieldError::new("/place/postcode", codes::INVALID_POSTCODE, "must be a UK postcode"));
                    None
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        }
    };
    let (latitude, longitude) = match (p.latitude, p.longitude) {
        (Some(la), Some(lo)) if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) => (Some(la), Some(lo)),
        (None, None) => match outcode.as_ref().and_then(Outcode::centroid) {
            Some((la, lo)) => (Some(la), Some(lo)),
            None => (None, None),
        },
        _ => {
            errors.push(FieldError::new("/place/latitude", codes::INVALID_COORDINATES, "give both, within range"));
            (None, None)
        }
    };
    (errors.len() == before).then_some(()).and(name).map(|name| Place {
        name,
        address,
        postcode,
        outcode,
        latitude,
        longitude,
    })
}

/// An occurrence as search and the feeds list it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedOccurrence {
    pub local_start: NaiveDateTime,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: EventStatus,
    pub reason: Option<String>,
    /// This occurrence's own place, when it is held elsewhere than the series.
    pub place: Option<Place>,
    /// Where it happens (its own place or the event's).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl ListedOccurrence {
    /// The occurrence as an expansion of `event` gives it: moved when it no longer starts at the
    /// time its series gives it.
    pub fn in_series(self, event: &Event) -> Occurrence {
        Occurrence {
            moved: self.start != instant(event.timezone, self.local_start),
            start: self.start,
            end: self.end,
            local_start: self.local_start,
            status: self.status,
            reason: self.reason,
            place: self.place,
        }
    }
}

/// An event's occurrences in its listing window `[from, until)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub items: Vec<ListedOccurrence>,
    /// The event names an OpenActive activity, so its occurrences are published in that feed.
    pub open_active: bool,
}

impl Event {
    /// The start and end as a client writes them in an [`EventDraft`], so that what is read can be
    /// written back unchanged: local times `YYYY-MM-DDTHH:MM`, or for an all-day event its first
    /// and last day (inclusive) as `YYYY-MM-DD` (stored, the end is the exclusive next midnight).
    pub fn written_times(&self) -> (String, String) {
        if self.all_day {
            let last = (self.end - Duration::days(1)).date().max(self.start.date());
            (self.start.date().format("%Y-%m-%d").to_string(), last.format("%Y-%m-%d").to_string())
        } else {
            (self.start.format("%Y-%m-%dT%H:%M").to_string(), self.end.format("%Y-%m-%dT%H:%M").to_string())
        }
    }

    /// The occurrences listed at `now`: from [`LISTING_PAST_DAYS`] ago to [`LISTING_AHEAD_DAYS`]
    /// ahead, with the changes to single occurrences applied and each one's own place.
    pub fn listing(&self, overrides: &[OccurrenceOverride], now: DateTime<Utc>) -> Result<Listing, DomainError> {
        let from = now - Duration::days(LISTING_PAST_DAYS);
        let until = now + Duration::days(LISTING_AHEAD_DAYS);
        let items = self
            .occurrences_with(overrides, from, until)?
            .into_iter()
            .map(|o| {
                let at = o.place.as_ref().or(self.place.as_ref());
                let (latitude, longitude) = (at.and_then(|p| p.latitude), at.and_then(|p| p.longitude));
                ListedOccurrence {
                    local_start: o.local_start,
                    start: o.start,
                    end: o.end,
                    status: o.status,
                    reason: o.reason,
                    place: o.place,
                    latitude,
                    longitude,
                }
            })
            .collect();
        Ok(Listing { from, until, items, open_active: self.open_active() })
    }

    /// Published in the OpenActive feeds: it names an activity and has a place with coordinates
    /// (the data model requires both), and it is this instance's own. Imported events are left to
    /// the feeds they come from, so that instances mirroring each other never echo them back.
    pub fn open_active(&self) -> bool {
        self.origin.is_none()
            && !self.activities.is_empty()
            && self.place.as_ref().is_some_and(|p| p.latitude.is_some() && p.longitude.is_some())
    }

    pub fn start_instant(&self) -> DateTime<Utc> {
        instant(self.timezone, self.start)
    }

    /// Occurrences in `[from, to)` with the changes made to single occurrences applied: a
    /// cancelled or postponed one keeps its slot with that status (an event-level status wins), a
    /// moved one gets its new times, one held elsewhere its own place.
    pub fn occurrences_with(
        &self,
        overrides: &[OccurrenceOverride],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Occurrence>, DomainError> {
        let mut list = self.occurrences(from, to)?;
        for o in &mut list {
            let Some(ov) = overrides.iter().find(|v| v.local_start == o.local_start) else { continue };
            if self.status == EventStatus::Scheduled {
                o.status = ov.status;
                o.reason.clone_from(&ov.reason);
            }
            if let (Some(s), Some(e)) = (ov.start, ov.end) {
                o.start = instant(self.timezone, s);
                o.end = instant(self.timezone, e);
                o.moved = true;
            }
            o.place.clone_from(&ov.place);
        }
        Ok(list)
    }

    /// Occurrences that start within `[from, to)`, at most [`MAX_OCCURRENCES`]. The window is at
    /// most [`MAX_WINDOW_DAYS`] long.
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Occurrence>, DomainError> {
        if to <= from || to - from > Duration::days(MAX_WINDOW_DAYS) {
            return Err(DomainError::invalid_field(
                "/to",
                codes::WINDOW_OUT_OF_RANGE,
                format!("the window must end after it starts and span at most {MAX_WINDOW_DAYS} days"),
            ));
        }
        let length = self.end - self.start;
        let occurrence = |local_start: NaiveDateTime| Occurrence {
            start: instant(self.timezone, local_start),
            end: instant(self.timezone, local_start + length),
            local_start,
            status: self.status,
            reason: self.status_reason.clone(),
            moved: false,
            place: None,
        };
        let Some(r) = &self.recurrence else {
            let o = occurrence(self.start);
            return Ok(if o.start >= from && o.start < to { vec![o] } else { vec![] });
        };
        let tz = rrule::Tz::Tz(self.timezone);
        let dt_start = tz.from_utc_datetime(&self.start_instant().naive_utc());
        let parsed: rrule::RRule<rrule::Unvalidated> =
            r.rule.parse().map_err(|e: rrule::RRuleError| DomainError::internal(e.to_string()))?;
        let mut set = parsed.build(dt_start).map_err(|e| DomainError::internal(e.to_string()))?;
        for x in &r.exdates {
            set = set.exdate(tz.from_utc_datetime(&instant(self.timezone, *x).naive_utc()));
        }
        let result = set
            .after(tz.from_utc_datetime(&from.naive_utc()))
            .before(tz.from_utc_datetime(&(to - Duration::seconds(1)).naive_utc()))
            .all(MAX_OCCURRENCES);
        Ok(result.dates.into_iter().map(|d| occurrence(d.with_timezone(&self.timezone).naive_local())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    fn draft() -> EventDraft {
        EventDraft {
            title: "TechMates tea party".into(),
            summary: "Help with phones and tablets".into(),
            start: "2026-03-03T10:00".into(),
            end: "2026-03-03T12:00".into(),
            place: Some(PlaceInput {
                name: "Wigan Library".into(),
                postcode: Some("WN1 1NU".into()),
                ..PlaceInput::default()
            }),
            rrule: Some("FREQ=WEEKLY;BYDAY=TU".into()),
            ..EventDraft::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
    }

    fn valid(d: &EventDraft) -> Event {
        d.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()).unwrap()
    }

    #[test]
    fn a_weekly_series_stays_at_ten_local_across_both_clock_changes() {
        let e = valid(&draft());
        assert_eq!(e.recurrence.as_ref().unwrap().rule, "FREQ=WEEKLY;BYDAY=TU");
        assert!(e.place.as_ref().unwrap().latitude.is_some(), "lat/lon from the outward code");
        let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let all = e.occurrences(from, to).unwrap();
        assert_eq!(all.len(), 39);
        for o in &all {
            let local = o.start.with_timezone(&e.timezone);
            assert_eq!((local.hour(), local.minute(), local.weekday()), (10, 0, chrono::Weekday::Tue), "{o:?}");
            assert_eq!(o.end - o.start, Duration::hours(2));
        }
        // 10:00 GMT before the last Sunday of March, 10:00 BST (09:00 UTC) after, GMT again after October's.
        let utc_hours: Vec<u32> = all.iter().map(|o| o.start.hour()).collect();
        assert_eq!(utc_hours[3], 10, "24 March: GMT");
        assert_eq!(utc_hours[4], 9, "31 March: BST");
        let november = all.iter().find(|o| o.start.month() == 11).unwrap();
        assert_eq!(november.start.hour(), 10, "November: GMT again");
    }

    #[test]
    fn excluded_dates_and_nth_weekday_rules() {
        let mut d = draft();
        d.rrule = Some("FREQ=MONTHLY;BYDAY=2TU;COUNT=6".into());
        d.start = "2026-03-10T18:30".into();
        d.end = "2026-03-10T20:00".into();
        d.exdates = vec!["2026-05-12T18:30".into()];
        let e = valid(&d);
        let all = e
            .occurrences(
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap(),
            )
            .unwrap();
        let days: Vec<u32> = all.iter().map(|o| o.local_start.day()).collect();
        assert_eq!(days, [10, 14, 9, 14, 11], "second Tuesdays, May excluded, COUNT=6 with one excluded");
    }

    #[test]
    fn every_bad_field_is_reported_with_a_precise_code() {
        let d = EventDraft {
            timezone: Some("Mars/Olympus".into()),
            start: "2026-03-03T12:00".into(),
            end: "2026-03-03T10:00".into(),
            rrule: Some("FREQ=SECONDLY".into()),
            capacity: Some(0),
            booking: Some(BookingMode::External),
            place: None,
            ..draft()
        };
        let e = d.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()).unwrap_err();
        let codes: Vec<(&str, &str)> = e.fields.iter().map(|f| (f.pointer.as_str(), f.code)).collect();
        assert_eq!(
            codes,
            [
                ("/timezone", "INVALID_TIMEZONE"),
                ("/end", "END_BEFORE_START"),
                ("/place", "PLACE_OR_ONLINE"),
                ("/capacity", "OUT_OF_RANGE"),
                ("/booking_url", "REQUIRED"),
            ]
        );
        let sub_daily = EventDraft { rrule: Some("FREQ=SECONDLY".into()), ..draft() };
        let e = sub_daily.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()).unwrap_err();
        assert_eq!(e.fields[0].code, "RRULE_FREQUENCY");
        let garbage = EventDraft { rrule: Some("FREQ=WEEKLY;BYDAY=XX".into()), ..draft() };
        let e = garbage.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()).unwrap_err();
        assert_eq!(e.fields[0].code, "INVALID_RRULE");
    }

    #[test]
    fn windows_are_bounded_and_unbounded_rules_stop() {
        let e = valid(&EventDraft { rrule: Some("FREQ=DAILY".into()), ..draft() });
        let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert!(e.occurrences(from, from + Duration::days(367)).is_err());
        assert_eq!(e.occurrences(from, from + Duration::days(366)).unwrap().len(), 366 - 2, "from 3 March");
    }

    #[test]
    fn hostile_rules_are_refused_or_expand_boundedly() {
        for raw in [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
            "FREQ=DAILY;INTERVAL=1;BYSETPOS=400",
            "FREQ=MONTHLY;BYDAY=5MO,5TU,5WE",
        ] {
            let d = EventDraft { rrule: Some(raw.into()), ..draft() };
            if let Ok(e) = d.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()) {
                let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
                let got = e.occurrences(from, from + Duration::days(366));
                assert!(got.is_err() || got.unwrap().len() <= usize::from(MAX_OCCURRENCES), "{raw}");
            }
        }
        for raw in ["FREQ=HOURLY", "FREQ=MINUTELY;COUNT=5", "", "FREQ=WEEKLY\nRRULE:FREQ=DAILY", "NOT A RULE"] {
            let d = EventDraft { rrule: Some(raw.into()), ..draft() };
            assert!(d.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn single_occurrences_are_cancelled_moved_or_relocated_and_must_exist() {
        let e = valid(&draft());
        let cancel = OverrideDraft {
            status: Some(EventStatus::Cancelled),
            reason: Some("Library closed".into()),
            ..OverrideDraft::default()
        };
        let ov1 = cancel.validate(&e, "2026-03-17T10:00").unwrap();
        let moved = OverrideDraft {
            start: Some("2026-03-25T14:00".into()),
            end: Some("2026-03-25T16:00".into()),
            ..OverrideDraft::default()
        };
        let ov2 = moved.validate(&e, "2026-03-24T10:00").unwrap();
        let from = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        let list = e.occurrences_with(&[ov1, ov2], from, from + Duration::days(21)).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!((list[1].status, list[1].reason.as_deref()), (EventStatus::Cancelled, Some("Library closed")));
        assert!(list[2].moved);
        assert_eq!(list[2].start, Utc.with_ymd_and_hms(2026, 3, 25, 14, 0, 0).unwrap());
        assert_eq!(list[2].local_start.to_string(), "2026-03-24 10:00:00", "still named by its series time");
        for bad in ["2026-03-18T10:00", "2026-04-14T11:00", "yesterday"] {
            let err = cancel.validate(&e, bad).unwrap_err();
            assert_eq!(err.fields[0].pointer, "/local_start", "{bad}");
        }
        let excluded = valid(&EventDraft { exdates: vec!["2026-03-17T10:00".into()], ..draft() });
        assert_eq!(
            cancel.validate(&excluded, "2026-03-17T10:00").unwrap_err().fields[0].code,
            "OCCURRENCE_NOT_IN_SERIES"
        );
        let half = OverrideDraft { start: Some("2026-03-25T14:00".into()), ..OverrideDraft::default() };
        assert_eq!(half.validate(&e, "2026-03-24T10:00").unwrap_err().fields[0].code, "START_AND_END");
    }

    #[test]
    fn clock_change_gaps_move_forward() {
        let london: Tz = "Europe/London".parse().unwrap();
        let in_gap = NaiveDateTime::parse_from_str("2026-03-29T01:30", "%Y-%m-%dT%H:%M").unwrap();
        assert_eq!(instant(london, in_gap), Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap());
    }

    /// RRULE parts, valid and not, for building rules.
    fn rule() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy as _;
        let part = proptest::sample::select(vec![
            "FREQ=DAILY",
            "FREQ=WEEKLY",
            "FREQ=MONTHLY",
            "FREQ=YEARLY",
            "FREQ=HOURLY",
            "FREQ=SECONDLY",
            "INTERVAL=2",
            "INTERVAL=0",
            "INTERVAL=400",
            "COUNT=3",
            "COUNT=100000",
            "BYDAY=MO,WE",
            "BYDAY=-1FR",
            "BYDAY=5SU",
            "BYMONTHDAY=31",
            "BYMONTHDAY=-1",
            "BYMONTH=2",
            "BYSETPOS=1",
            "BYSETPOS=-400",
            "BYHOUR=9,10,11",
            "WKST=SU",
            "UNTIL=20261231T235959Z",
            "UNTIL=20200101",
            "UNTIL=nonsense",
            "BYWEEKNO=53",
            "BYYEARDAY=366",
            "X-FOO=1",
            "",
        ]);
        proptest::collection::vec(part, 0..6).prop_map(|v| v.join(";"))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Any rule and exception dates a client sends are refused with a field error or expand,
        /// inside any window the API allows, to at most MAX_OCCURRENCES occurrences in order,
        /// each inside the window, none of them excluded, each as long as the event.
        #[test]
        fn any_rule_is_refused_or_expands_boundedly_in_order(
            rule in rule(),
            garbage in ".{0,40}",
            exdate_day in 1u32..28,
            window_days in 1i64..=366,
            offset_days in -30i64..400,
        ) {
            for raw in [rule.clone(), garbage] {
                let d = EventDraft {
                    rrule: Some(raw.clone()),
                    exdates: vec![format!("2026-04-{exdate_day:02}T10:00")],
                    ..draft()
                };
                let Ok(e) = d.validate(EventId::new_v7(now()), GroupId::new_v7(now()), now()) else { continue };
                let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::days(offset_days);
                let to = from + Duration::days(window_days);
                let Ok(all) = e.occurrences(from, to) else { continue };
                proptest::prop_assert!(all.len() <= usize::from(MAX_OCCURRENCES), "{raw}: {}", all.len());
                let excluded = chrono::NaiveDate::from_ymd_opt(2026, 4, exdate_day).unwrap().and_hms_opt(10, 0, 0).unwrap();
                for (i, o) in all.iter().enumerate() {
                    proptest::prop_assert!(o.start >= from && o.start < to, "{raw}: {o:?} outside the window");
                    proptest::prop_assert!(o.local_start != excluded, "{raw}: an excluded date is listed");
                    proptest::prop_assert_eq!(o.end - o.start, Duration::hours(2));
                    if i > 0 {
                        proptest::prop_assert!(all[i - 1].start <= o.start, "{raw}: out of order");
                    }
                }
            }
        }
    }
}
