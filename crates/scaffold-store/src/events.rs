//! The events part of the storage port: events and series owned by groups. Occurrences are
//! expanded in the domain, not stored.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::{Event, OccurrenceOverride};
use scaffold_domain::rsvp::Rsvp;
use scaffold_domain::{EventId, GroupId, PersonId};

#[async_trait]
pub trait EventStore: Send + Sync {
    async fn create_event(&self, event: &Event, audit: &AuditEntry) -> StoreResult<()>;
    async fn event_by_id(&self, id: EventId) -> StoreResult<Option<Event>>;
    /// A group's events by first start, then id, after the keyset cursor.
    async fn events_of_group(
        &self,
        group: GroupId,
        after: Option<(DateTime<Utc>, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<Event>>;
    /// The first `per_group` events of each group (by first start, then id), for loaders.
    async fn first_events_of_groups(&self, groups: &[GroupId], per_group: u32) -> StoreResult<Vec<Event>>;
    /// Sets (inserts or replaces) the change to one occurrence.
    async fn put_override(
        &self,
        event: EventId,
        change: &OccurrenceOverride,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Removes the change to one occurrence; `NotFound` when there is none.
    async fn delete_override(&self, event: EventId, local_start: NaiveDateTime, audit: &AuditEntry) -> StoreResult<()>;
    /// Every change to an event's occurrences, by local start.
    async fn overrides_of(&self, event: EventId) -> StoreResult<Vec<OccurrenceOverride>>;
    /// Runs `decide` on the occurrence's current replies inside one transaction that holds the
    /// event's lock (so concurrent replies are serialised), writes the rows it returns, and
    /// returns them.
    async fn change_rsvps(
        &self,
        event: EventId,
        occurrence: NaiveDateTime,
        decide: &(dyn for<'r> Fn(&'r [Rsvp]) -> Vec<Rsvp> + Send + Sync),
        audit: &AuditEntry,
    ) -> StoreResult<Vec<Rsvp>>;
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
    async fn update_event(&self, event: &Event, expected_version: i64, audit: &AuditEntry) -> StoreResult<()>;
}
