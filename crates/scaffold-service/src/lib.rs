//! The use cases of Community Scaffold: the only API the transports (REST, GraphQL, the command
//! line) call. Every call takes the acting `Actor` and authorises inside; validation and business
//! rules live here and in the domain, once. It must not know about HTTP, GraphQL or SQL.

mod access;
pub mod attestations;
pub mod audit;
pub mod auth;
mod changes;
pub mod events;
pub mod feeds;
pub mod groups;
pub mod identity;
pub mod members;
pub mod my_dates;
pub mod notices;
pub mod oruk;
pub mod render;
pub mod rsvps;
pub mod search;
pub mod sources;
pub mod webhooks;

use scaffold_domain::audit::AuditEntry;
use scaffold_domain::codes;
use scaffold_domain::{AuditId, Clock, DomainError, PersonId};
use scaffold_store::{Store, StoreError};
use std::sync::Arc;

pub use scaffold_domain as domain;
pub use scaffold_store::Store as StorePort;

/// One page of a list, with the cursor for the next page when there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Checks a page size (REST's `limit`): absent gives the default, otherwise 1 to 100.
pub fn page_limit(limit: Option<u32>) -> Result<u32, DomainError> {
    page_size("/limit", limit.map(i64::from))
}

/// Checks a page size given as `field` (REST's `/limit`, GraphQL's `/first`), with the same
/// rule and the same error on every transport.
pub fn page_size(field: &str, size: Option<i64>) -> Result<u32, DomainError> {
    match size.map(u32::try_from) {
        None => Ok(DEFAULT_LIMIT),
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(DomainError::invalid_field(field, codes::OUT_OF_RANGE, "must be between 1 and 100")),
    }
}

/// The service: the store and the clock, shared by every transport.
#[derive(Debug, Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    identity: Arc<identity::Identity>,
    /// Peers' status lists, kept within their `ttl`.
    status_cache: attestations::StatusCache,
}

/// How long a readiness ping may take.
pub const READY_SECS: u64 = 2;

impl Service {
    /// A service with the default identity settings (no providers configured).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::with_identity(store, clock, identity::IdentityConfig::default())
            .unwrap_or_else(|e| unreachable_config(&e))
    }

    /// A service with identity settings; fails when they are inconsistent.
    pub fn with_identity(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: identity::IdentityConfig,
    ) -> Result<Self, String> {
        Ok(Self {
            store,
            clock,
            identity: Arc::new(identity::Identity::new(config)?),
            status_cache: attestations::StatusCache::default(),
        })
    }

    /// The service's clock (the system clock, or a fixed one in tests).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn store_kind(&self) -> &'static str {
        self.store.kind()
    }

    /// The store's content clock (see `scaffold_store::Store::content_clock`), for the public-read
    /// cache.
    pub async fn content_clock(&self) -> Result<i64, DomainError> {
        self.store.content_clock().await.map_err(store_error)
    }

    /// Takes the lease on a periodic job for `length` when no other replica holds it; whether it
    /// was taken (`holder` names this replica).
    pub async fn take_job_lease(
        &self,
        job: &str,
        holder: &str,
        length: std::time::Duration,
    ) -> Result<bool, DomainError> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(length).map_err(DomainError::internal)?;
        self.store.take_job_lease(job, holder, now, until).await.map_err(store_error)
    }

    /// Whether the store answers, within `READY_SECS` (a readiness probe must not wait for the
    /// pool's own timeout while the database is down).
    pub async fn ready(&self) -> Result<(), DomainError> {
        match tokio::time::timeout(std::time::Duration::from_secs(READY_SECS), self.store.ping()).await {
            Ok(r) => r.map_err(store_error),
            Err(_) => Err(DomainError::unavailable("the store did not answer a ping in time")),
        }
    }

    fn audit(
        &self,
        actor: Option<PersonId>,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        detail: serde_json::Value,
    ) -> AuditEntry {
        let at = self.clock.now();
        AuditEntry {
            id: AuditId::new_v7(at),
            at,
            actor,
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_string(),
            detail,
            change: None,
        }
    }
}

#[cold]
#[allow(clippy::panic)] // the default configuration is a constant: failing here is a build defect
fn unreachable_config(e: &str) -> ! {
    panic!("the default identity configuration is invalid: {e}")
}

/// Maps store failures that the use case did not handle itself.
pub(crate) fn store_error(e: StoreError) -> DomainError {
    match e {
        StoreError::NotFound => DomainError::not_found(codes::NOT_FOUND, "the resource does not exist"),
        StoreError::Conflict { constraint } => {
            DomainError::conflict(codes::CONFLICT, format!("a resource with the same {constraint} already exists"))
        }
        StoreError::VersionMismatch => version_mismatch(),
        StoreError::LastOwner => last_owner(),
        StoreError::InvalidText => DomainError::invalid(vec![scaffold_domain::text::control_character("")]),
        StoreError::Unavailable(source) => DomainError::unavailable(source),
        StoreError::Other(source) => DomainError::internal(source),
    }
}

pub(crate) fn version_mismatch() -> DomainError {
    DomainError::new(
        scaffold_domain::ErrorKind::PreconditionFailed,
        codes::VERSION_MISMATCH,
        "the resource has changed since you read it: fetch it again and retry",
    )
}

pub(crate) fn last_owner() -> DomainError {
    DomainError::conflict(
        codes::GROUP_LAST_OWNER,
        "a group must keep at least one owner: make someone else an owner first",
    )
}
