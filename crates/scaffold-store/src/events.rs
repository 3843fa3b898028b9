//! The events part of the storage port: events and series owned by groups. Occurrences are
//! expanded in the domain; the store keeps each event's listing (its occurrences from a day ago to
//! a year ahead) for search and the open-data feeds, written in the same transaction as the change
//! that produced it.

use crate::StoreResult;
use chrono::{DateTime, NaiveDateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::{Event, ListedOccurrence, Listing, OccurrenceOverride};
use scaffold_domain::rsvp::{Rsvp, SeriesRsvp};
use scaffold_domain::{EventId, GroupId, PersonId};

port! {
pub trait EventStore: [Send + Sync] {
    async fn create_event(&self, event: &Event, listing: &Listing, audit: &AuditEntry) -> StoreResult<()>;
    async fn event_by_id(&self, id: EventId) -> StoreResult<Option<Event>>;
    /// Events by id (for loaders); unknown ids are left out.
    async fn events_by_ids(&self, ids: &[EventId]) -> StoreResult<Vec<Event>>;
    /// A group's events by first start, then id, after the keyset cursor.
    async fn events_of_group(
        &self,
        group: GroupId,
        after: Option<(DateTime<Utc>, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<Event>>;
    /// The first `per_group` events of each group (by first start, then id), for loaders.
    async fn first_events_of_groups(&self, groups: &[GroupId], per_group: u32) -> StoreResult<Vec<Event>>;
    /// Sets (inserts or replaces) the change to one occurrence, and moves the event's version on;
    /// `VersionMismatch` when the event is no longer at `expected_version` (the listing was made
    /// from an older series).
    async fn put_override(
        &self,
        event: EventId,
        expected_version: i64,
        change: &OccurrenceOverride,
        at: DateTime<Utc>,
        listing: &Listing,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Removes the change to one occurrence, and moves the event's version on; `NotFound` when
    /// there is none, `VersionMismatch` as for [`put_override`](Self::put_override).
    async fn delete_override(
        &self,
        event: EventId,
        expected_version: i64,
        local_start: NaiveDateTime,
        at: DateTime<Utc>,
        listing: &Listing,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Every change to an event's occurrences, by local start.
    async fn overrides_of(&self, event: EventId) -> StoreResult<Vec<OccurrenceOverride>>;
    /// The changes to the occurrences of several events (for loaders), by event then local start.
    async fn overrides_of_events(&self, events: &[EventId]) -> StoreResult<Vec<(EventId, OccurrenceOverride)>>;
    /// Applies `series` to the person's standing reply, then runs `decide` on the current replies
    /// of each of `occurrences` and the event's standing replies (both read inside one
    /// transaction that holds the event's lock, so concurrent replies are serialised), writes the
    /// rows it returns, and returns them. `Remove` of a standing reply that does not exist is
    /// `NotFound`.
    async fn change_rsvps(
        &self,
        event: EventId,
        occurrences: &[NaiveDateTime],
        series: SeriesChange<'_>,
        decide: &(dyn for<'r> Fn(NaiveDateTime, &'r [Rsvp], &'r [SeriesRsvp]) -> Vec<Rsvp> + Send + Sync),
        audit: &AuditEntry,
    ) -> StoreResult<Vec<Rsvp>>;
    /// The standing replies to an event's whole series, oldest first.
    async fn series_rsvps_of(&self, event: EventId) -> StoreResult<Vec<SeriesRsvp>>;
    /// A person's standing replies, oldest first.
    async fn series_rsvps_of_person(&self, person: PersonId) -> StoreResult<Vec<SeriesRsvp>>;
    /// A person's replies to occurrences whose series local start is on or after `from` (local
    /// times of each event's own zone), by local start, at most `limit`.
    async fn rsvps_of_person(&self, person: PersonId, from: NaiveDateTime, limit: u32) -> StoreResult<Vec<Rsvp>>;
    /// Sets the hash of the person's calendar feed secret (replacing any earlier one), or removes
    /// it with `None`; returns whether the person had one.
    async fn set_calendar_feed(
        &self,
        person: PersonId,
        token_hash: Option<&[u8]>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// The person whose calendar feed secret has this hash.
    async fn calendar_feed_owner(&self, token_hash: &[u8]) -> StoreResult<Option<PersonId>>;
    /// When the person's current calendar feed secret was made, if they have one.
    async fn calendar_feed_made(&self, person: PersonId) -> StoreResult<Option<DateTime<Utc>>>;
    /// The replies to one occurrence: confirmed, then waitlisted in queue order, then the rest.
    async fn rsvps_of(&self, event: EventId, occurrence: NaiveDateTime) -> StoreResult<Vec<Rsvp>>;
    /// Marks a confirmed reply as attended; `NotFound` when there is no confirmed reply.
    async fn check_in(
        &self,
        event: EventId,
        occurrence: NaiveDateTime,
        person: PersonId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The occurrences of the event that have a waitlist.
    async fn occurrences_with_waitlist(&self, event: EventId) -> StoreResult<Vec<NaiveDateTime>>;
    /// The most seats confirmed for any one occurrence of the event (for capacity changes).
    async fn max_confirmed_seats(&self, event: EventId) -> StoreResult<u32>;
    /// Replaces the event when its stored version is `expected_version`; `VersionMismatch`
    /// otherwise, `NotFound` when absent.
    async fn update_event(
        &self,
        event: &Event,
        expected_version: i64,
        listing: &Listing,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Deletes an event with its replies and changes, leaving tombstones for the feeds;
    /// `NotFound` when absent.
    async fn delete_event(&self, event: EventId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()>;
    /// Series whose listing ends before `before` (the daily job extends them), oldest first.
    async fn events_to_relist(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Event>>;
    /// Replaces the event's listing when its version is still `version`; false otherwise.
    async fn relist_event(
        &self,
        event: EventId,
        version: i64,
        listing: &Listing,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Removes feed tombstones (deleted events and occurrences) deleted before `before`.
    async fn purge_tombstones(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Listed occurrences matching the query, by start, event id and local start.
    async fn search_occurrences(&self, query: &OccurrenceQuery) -> StoreResult<Vec<(Event, ListedOccurrence)>>;
    /// The SessionSeries feed: events by (change number, id) after the given position.
    async fn series_feed(&self, after: Option<(i64, EventId)>, limit: u32) -> StoreResult<Vec<SeriesFeedItem>>;
    /// The ScheduledSession feed: listed occurrences by (change number, event id, local start).
    async fn sessions_feed(
        &self,
        after: Option<(i64, EventId, NaiveDateTime)>,
        limit: u32,
    ) -> StoreResult<Vec<SessionFeedItem>>;
}
}

/// What a change to replies does to the person's standing reply to the whole series.
#[derive(Debug, Clone, Copy)]
pub enum SeriesChange<'a> {
    Keep,
    /// Sets (inserts or replaces) it.
    Put(&'a SeriesRsvp),
    /// Removes the person's standing reply.
    Remove(PersonId),
}

/// A search over listed occurrences. Only occurrences that are not cancelled, of events of
/// active groups that are public or that `viewer` is an active member of.
#[derive(Debug, Clone, Default)]
pub struct OccurrenceQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Within this circle (great-circle distance).
    pub area: Option<scaffold_domain::event_search::Area>,
    pub group: Option<GroupId>,
    pub category: Option<String>,
    pub feature: Option<String>,
    /// Lower-cased words, each of which must appear in the event's title, summary, place or
    /// activities.
    pub words: Vec<String>,
    pub viewer: Option<PersonId>,
    /// Keyset position: start, event id, local start.
    pub after: Option<(DateTime<Utc>, EventId, NaiveDateTime)>,
    pub limit: u32,
}

/// The group an event is published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedGroup {
    pub slug: String,
    pub name: String,
}

/// One SessionSeries feed item: the event when published, `None` when deleted (or no longer
/// published: its group went private or was archived, or it no longer names an activity).
#[derive(Debug, Clone)]
pub struct SeriesFeedItem {
    pub id: EventId,
    pub modified: i64,
    pub data: Option<(Event, FeedGroup)>,
}

/// One ScheduledSession feed item, `data` as for [`SeriesFeedItem`].
#[derive(Debug, Clone)]
pub struct SessionFeedItem {
    pub event_id: EventId,
    pub local_start: NaiveDateTime,
    pub modified: i64,
    pub data: Option<ListedOccurrence>,
}
