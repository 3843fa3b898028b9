//! The sources part of the storage port: where listings are imported from, the groups and events
//! they brought, and peer instances.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::{Event, Listing, OccurrenceOverride};
use scaffold_domain::group::Group;
use scaffold_domain::source::{Peer, Source, SourceHealth, SourceState};
use scaffold_domain::{EventId, GroupId, PeerId, SourceId};

/// An imported event as a run leaves it: the event, its changed dates and its listing.
#[derive(Debug, Clone)]
pub struct ImportedEvent {
    pub event: Event,
    pub overrides: Vec<OccurrenceOverride>,
    pub listing: Listing,
}

/// What one run of a source writes, in one transaction: the groups and events it put (inserted or
/// replaced whole, by id) and removed, and the source's new state, health and next run.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub source: SourceId,
    /// The source's version when the run started: a run that finds it changed (removed, or run
    /// by someone else meanwhile) writes nothing (`VersionMismatch`, `NotFound`).
    pub expected_version: i64,
    pub state: SourceState,
    pub health: SourceHealth,
    pub next_run_at: DateTime<Utc>,
    pub groups: Vec<Group>,
    pub removed_groups: Vec<GroupId>,
    pub events: Vec<ImportedEvent>,
    pub removed_events: Vec<EventId>,
    /// When the source listed everything it brought (a whole calendar): every item of the source
    /// is marked seen then.
    pub all_seen_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

port! {
pub trait SourceStore: [Send + Sync] {
    /// Inserts the source and the groups it starts with (an iCalendar or RPDE source's events
    /// are listed under one). `Conflict { constraint: "source" }` when a source of that kind and
    /// URL exists.
    async fn create_source(&self, source: &Source, groups: &[Group], audit: &AuditEntry) -> StoreResult<()>;
    /// Every source, oldest first.
    async fn sources(&self) -> StoreResult<Vec<Source>>;
    async fn source_by_id(&self, id: SourceId) -> StoreResult<Option<Source>>;
    /// Takes the source due first (next run at or before `now`) by moving its next run to
    /// `lease_until`, so that no other replica takes it meanwhile; `None` when none is due.
    async fn claim_due_source(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<Option<Source>>;
    /// The groups a source brought.
    async fn imported_groups(&self, source: SourceId) -> StoreResult<Vec<Group>>;
    /// The events a source brought.
    async fn imported_events(&self, source: SourceId) -> StoreResult<Vec<Event>>;
    /// Writes a run (see [`ImportRun`]) and bumps the source's version.
    async fn apply_import(&self, run: &ImportRun, audit: Option<&AuditEntry>) -> StoreResult<()>;
    /// Deletes the source and everything it brought (the feeds announce the deleted events);
    /// `NotFound` when absent.
    async fn delete_source(&self, id: SourceId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()>;
    /// Inserts a peer with its sources and their groups. `Conflict { constraint: "peer" }` when
    /// a peer with that base URL exists.
    async fn create_peer(
        &self,
        peer: &Peer,
        sources: &[(Source, Vec<Group>)],
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn peers(&self) -> StoreResult<Vec<Peer>>;
    /// Replaces a peer's issuer keys (re-read from its metadata); `NotFound` when absent.
    async fn set_peer_keys(&self, id: PeerId, jwks: &serde_json::Value, at: DateTime<Utc>) -> StoreResult<()>;
    async fn peer_by_id(&self, id: PeerId) -> StoreResult<Option<Peer>>;
    /// Deletes the peer, its sources and everything they brought; `NotFound` when absent.
    async fn delete_peer(&self, id: PeerId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()>;
}
}
