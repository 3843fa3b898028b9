//! A person's dates: the dates they replied to (one by one or for a whole series) and their
//! standing replies, and a calendar feed of them at a secret URL that the person can replace or
//! turn off. The secret is stored hashed; the feed shows only what the person may still see.

use crate::auth::hash_token;
use crate::{Service, store_error};
use chrono::{DateTime, Duration, Utc};
use scaffold_domain::event::{Event, Occurrence, instant};
use scaffold_domain::rsvp::{Rsvp, RsvpResponse, SeriesRsvp};
use scaffold_domain::{Actor, Credential, DomainError, ErrorKind, EventId, GroupId, PersonId, Scope, Scopes, codes};
use std::collections::HashMap;

/// The most replies one list or feed holds.
const MY_DATES_LIMIT: u32 = 500;
/// How far back a calendar feed goes, so that calendars keep recent dates.
pub const FEED_PAST_DAYS: i64 = 30;
/// The prefix of calendar feed secrets (so that a leaked one is recognisable).
pub const FEED_SECRET_PREFIX: &str = "scal_";

/// One date a person replied to going or maybe, with where the reply stands.
#[derive(Debug, Clone)]
pub struct MyDate {
    pub event: Event,
    pub occurrence: Occurrence,
    pub rsvp: Rsvp,
}

/// A person's dates, by start, and their replies to whole series.
#[derive(Debug, Clone, Default)]
pub struct MyDates {
    pub dates: Vec<MyDate>,
    pub series: Vec<(Event, SeriesRsvp)>,
}

/// A calendar feed's secret, shown once.
#[derive(Clone)]
pub struct FeedSecret(String);

impl FeedSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for FeedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedSecret([redacted])")
    }
}

fn feed_not_found() -> DomainError {
    DomainError::new(
        ErrorKind::NotFound,
        codes::CALENDAR_FEED_NOT_FOUND,
        "no such calendar feed: its link was replaced or turned off",
    )
}

impl Service {
    /// The caller's upcoming dates (those not yet over) and their replies to whole series.
    pub async fn my_dates(&self, actor: &Actor) -> Result<MyDates, DomainError> {
        let person = actor.require(Scope::RsvpWrite)?;
        self.dates_of(actor, person, self.clock.now()).await
    }

    async fn dates_of(&self, actor: &Actor, person: PersonId, since: DateTime<Utc>) -> Result<MyDates, DomainError> {
        // Local starts are compared as text in each event's own zone: read from a day earlier
        // than any zone's local time, then keep what ends after `since`.
        let from = (since - Duration::days(2)).naive_utc();
        let mut replies = self.store.rsvps_of_person(person, from, MY_DATES_LIMIT).await.map_err(store_error)?;
        replies.retain(|r| r.response != RsvpResponse::Declined);
        let standing = self.store.series_rsvps_of_person(person).await.map_err(store_error)?;
        let mut ids: Vec<EventId> =
            replies.iter().map(|r| r.event_id).chain(standing.iter().map(|s| s.event_id)).collect();
        ids.sort_unstable_by_key(|id| id.0);
        ids.dedup();
        let events = self.store.events_by_ids(&ids).await.map_err(store_error)?;
        let groups: Vec<GroupId> = events.iter().map(|e| e.group_id).collect();
        let visible: Vec<GroupId> = self.groups_by_ids(actor, &groups).await?.iter().map(|g| g.id).collect();
        let events: HashMap<EventId, Event> =
            events.into_iter().filter(|e| visible.contains(&e.group_id)).map(|e| (e.id, e)).collect();
        let shown: Vec<EventId> = events.keys().copied().collect();
        let mut overrides: HashMap<EventId, Vec<_>> = HashMap::new();
        for (id, o) in self.store.overrides_of_events(&shown).await.map_err(store_error)? {
            overrides.entry(id).or_default().push(o);
        }
        let mut dates = Vec::new();
        for rsvp in replies {
            let Some(event) = events.get(&rsvp.event_id) else { continue };
            let at = instant(event.timezone, rsvp.occurrence);
            let found = event
                .occurrences_with(
                    overrides.get(&event.id).map_or(&[][..], Vec::as_slice),
                    at - Duration::seconds(1),
                    at + Duration::seconds(1),
                )?
                .into_iter()
                .find(|o| o.local_start == rsvp.occurrence);
            if let Some(occurrence) = found.filter(|o| o.end > since) {
                dates.push(MyDate { event: event.clone(), occurrence, rsvp });
            }
        }
        dates.sort_by_key(|d| (d.occurrence.start, d.event.id.0));
        let series = standing.into_iter().filter_map(|s| events.get(&s.event_id).map(|e| (e.clone(), s))).collect();
        Ok(MyDates { dates, series })
    }

    /// Makes the caller's calendar feed secret, replacing (and so turning off) any earlier one.
    /// Only the person themselves may, not an app acting for them. Returns the secret and when
    /// it was made.
    pub async fn new_calendar_feed(&self, actor: &Actor) -> Result<(FeedSecret, DateTime<Utc>), DomainError> {
        let person = actor.require_person()?;
        let token = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        let secret = FeedSecret(format!("{FEED_SECRET_PREFIX}{token}"));
        let audit = self.audit(Some(person), "calendar_feed.create", "person", person, serde_json::json!({}));
        let (hash, now) = (hash_token(secret.expose()), self.clock.now());
        self.store.set_calendar_feed(person, Some(&hash), now, &audit).await.map_err(store_error)?;
        Ok((secret, now))
    }

    /// Turns the caller's calendar feed off; `CALENDAR_FEED_NOT_FOUND` when there is none.
    pub async fn end_calendar_feed(&self, actor: &Actor) -> Result<(), DomainError> {
        let person = actor.require_person()?;
        let audit = self.audit(Some(person), "calendar_feed.end", "person", person, serde_json::json!({}));
        if self.store.set_calendar_feed(person, None, self.clock.now(), &audit).await.map_err(store_error)? {
            Ok(())
        } else {
            Err(feed_not_found())
        }
    }

    /// When the caller's calendar feed secret was made, if they have one.
    pub async fn calendar_feed_made(&self, actor: &Actor) -> Result<Option<DateTime<Utc>>, DomainError> {
        let person = actor.require_person()?;
        self.store.calendar_feed_made(person).await.map_err(store_error)
    }

    /// The dates of the person whose calendar feed secret this is (from [`FEED_PAST_DAYS`] ago),
    /// seen as that person with read scopes only.
    pub async fn calendar_feed(&self, secret: &str) -> Result<MyDates, DomainError> {
        if !secret.starts_with(FEED_SECRET_PREFIX) {
            return Err(feed_not_found());
        }
        let person = self
            .store
            .calendar_feed_owner(&hash_token(secret))
            .await
            .map_err(store_error)?
            .ok_or_else(feed_not_found)?;
        let reader =
            Actor::person(person, Credential::PersonToken, Scopes::new([Scope::GroupsRead, Scope::EventsRead]));
        self.dates_of(&reader, person, self.clock.now() - Duration::days(FEED_PAST_DAYS)).await
    }
}
