//! The storage port: the traits the service layer calls, the errors they return, and opaque
//! cursors. `scaffold-store-sql` implements it for SQLite and PostgreSQL; the
//! conformance suite (feature `conformance`) checks that both behave the same. This crate must not
//! know any SQL dialect, HTTP or GraphQL.

#[macro_use]
mod observed;
pub mod area;
pub mod attestations;
pub mod cursor;
pub mod decode;
mod error;
mod events;
mod identity;
mod notices;
mod records;
mod sources;
mod webhooks;
pub mod window;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use attestations::{AttestationRow, AttestationStore, STATUS_LIST_BYTES, ShareRow, set_status_bit};
pub use cursor::Cursor;
pub use error::StoreError;
pub use events::{EventStore, FeedGroup, OccurrenceQuery, SeriesChange, SeriesFeedItem, SessionFeedItem};
pub use identity::{AppToken, AppTokenKind, IdentityStore, LoginState, Session, SigningKeyRecord, TokenUse};
pub use notices::NoticeStore;
pub use observed::{Observed, Observer};
pub use records::{
    ApiKey, GroupQuery, IdempotencyRecord, MembershipChange, Near, like_pattern, search_text, sort_name,
};
pub use sources::{ImportRun, ImportedEvent, SourceStore};
pub use webhooks::{Attempt, DueDelivery, WebhookStore};

use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{ApiKeyId, AuditId, GroupId, PersonId};

pub type StoreResult<T> = Result<T, StoreError>;

port! {
/// Everything the service needs from storage. Every method that writes takes the audit entry for
/// the change and writes both in one transaction.
pub trait Store: [IdentityStore + EventStore + AttestationStore + SourceStore + WebhookStore + NoticeStore + Send + Sync + std::fmt::Debug] {
    sync {
        /// Which adapter this is (`sqlite`, `postgres`), for logs and readiness output.
        fn kind(&self) -> &'static str;
    }

    /// A cheap round trip to the database, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
    /// The content clock: a number that every write to what the public can read moves on (in
    /// the write's transaction), so that a replica can tell whether a cached public read is current.
    async fn content_clock(&self) -> StoreResult<i64>;
    /// Takes the lease on a periodic job until `until`, when no one holds it at `now` (or `holder`
    /// already does); whether it was taken.
    async fn take_job_lease(&self, job: &str, holder: &str, now: DateTime<Utc>, until: DateTime<Utc>)
    -> StoreResult<bool>;

    // People and API keys.
    async fn create_person(&self, person: &Person, key: Option<&ApiKey>, audit: &AuditEntry) -> StoreResult<()>;
    async fn persons_by_ids(&self, ids: &[PersonId]) -> StoreResult<Vec<Person>>;
    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEntry) -> StoreResult<()>;
    async fn api_key_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<ApiKey>>;
    async fn api_keys_of_person(&self, person: PersonId) -> StoreResult<Vec<ApiKey>>;
    /// Marks a key revoked; `NotFound` when the person has no such live key.
    async fn revoke_api_key(&self, person: PersonId, key: ApiKeyId, audit: &AuditEntry) -> StoreResult<()>;
    /// How many unrevoked keys carry the `admin` scope.
    async fn count_operator_keys(&self) -> StoreResult<i64>;
    /// First run: inserts the operator and their key only when no unrevoked `admin` key exists,
    /// atomically, so that replicas starting together create one. Returns whether it did.
    async fn bootstrap_operator(&self, person: &Person, key: &ApiKey, audit: &AuditEntry) -> StoreResult<bool>;

    // Groups.
    /// Inserts the group, its owner's membership, the idempotency record (if any) and the audit
    /// entry. `Conflict { constraint: "slug" }` when the slug is taken; `Conflict { constraint:
    /// "idempotency_key" }` when the key was used concurrently.
    async fn create_group(
        &self,
        group: &Group,
        owner: &Membership,
        idempotency: Option<&IdempotencyRecord>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn group_by_id(&self, id: GroupId) -> StoreResult<Option<Group>>;
    async fn group_by_slug(&self, slug: &str) -> StoreResult<Option<Group>>;
    async fn groups_by_ids(&self, ids: &[GroupId]) -> StoreResult<Vec<Group>>;
    /// Groups visible in listings, ordered by name then id, at most `limit`.
    async fn list_groups(&self, query: &GroupQuery) -> StoreResult<Vec<Group>>;
    /// How many groups `query` finds in all (its cursor, offset and limit aside).
    async fn count_groups(&self, query: &GroupQuery) -> StoreResult<u64>;
    /// Replaces the stored group when its version is still `expected_version`
    /// (`group.version` is the new one); `VersionMismatch` otherwise.
    async fn update_group(&self, group: &Group, expected_version: i64, audit: &AuditEntry) -> StoreResult<()>;

    // Memberships.
    async fn membership(&self, group: GroupId, person: PersonId) -> StoreResult<Option<Membership>>;
    /// The person's memberships among `groups` (for "am I a member" on many groups at once).
    async fn memberships_of_person(&self, person: PersonId, groups: &[GroupId]) -> StoreResult<Vec<Membership>>;
    /// Members of a group ordered by person id, after the cursor.
    async fn list_members(&self, group: GroupId, after: Option<PersonId>, limit: u32) -> StoreResult<Vec<Membership>>;
    /// Applies a membership change in a transaction that keeps at least one active owner per
    /// group (`LastOwner`, and nothing changed, when it would leave none) and updates the group's
    /// `member_count`.
    async fn change_membership(&self, change: &MembershipChange, audit: &AuditEntry) -> StoreResult<()>;

    // Idempotency and audit.
    async fn idempotency_record(&self, scope: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>>;
    /// Audit entries, newest first, before the cursor.
    async fn list_audit(&self, before: Option<AuditId>, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}
}
