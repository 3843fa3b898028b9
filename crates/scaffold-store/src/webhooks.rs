//! The webhooks part of the storage port: apps' subscriptions and the delivery of each change to
//! them. Changes themselves are written with the audit entry of the change they record (see
//! `AuditEntry::change`), and queued then for every matching subscription.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::change::Change;
use scaffold_domain::webhook::{Delivery, Webhook};
use scaffold_domain::{AppId, ChangeId, WebhookId};

/// A delivery taken by a worker: the subscription, the change, and which attempt this is.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub webhook: Webhook,
    pub change: Change,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub webhook: WebhookId,
    pub change: ChangeId,
    /// Which attempt this is (as claimed).
    pub number: u32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub latency_ms: u32,
    /// What went wrong, in words; `None` when delivered.
    pub error: Option<String>,
    /// When to try again; `None` with an error gives the delivery up (`failed`).
    pub retry_at: Option<DateTime<Utc>>,
}

port! {
pub trait WebhookStore: [Send + Sync] {
    async fn create_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()>;
    /// An app's subscriptions, oldest first.
    async fn webhooks_of_app(&self, app: AppId) -> StoreResult<Vec<Webhook>>;
    async fn webhook_by_id(&self, id: WebhookId) -> StoreResult<Option<Webhook>>;
    /// Replaces a subscription's secrets, status and failure count; enabling it again makes its
    /// waiting deliveries due at `at`. `NotFound` when absent.
    async fn update_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()>;
    /// Deletes a subscription and its deliveries; `NotFound` when absent.
    async fn delete_webhook(&self, id: WebhookId, audit: &AuditEntry) -> StoreResult<()>;
    /// Takes up to `limit` due deliveries of active subscriptions other than `busy`, oldest due
    /// first, by moving their next attempt to `lease_until` and counting the attempt, so that no
    /// other worker takes them meanwhile and a crash only delays them.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        busy: &[WebhookId],
    ) -> StoreResult<Vec<DueDelivery>>;
    /// Records an attempt: the delivery's state and log, and the subscription's failures in a row.
    /// Only the attempt that holds the delivery counts: when it was replayed (or taken again)
    /// meanwhile, nothing is written and `Ok(false)` returned. A failure that makes the failures
    /// reach `disable_after` disables the subscription with `reason` and writes `audit`; returns
    /// whether it did.
    async fn record_attempt(
        &self,
        attempt: &Attempt,
        disable_after: u32,
        reason: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// A subscription's deliveries, newest first, at most `limit`, before `before` when given.
    async fn deliveries(
        &self,
        webhook: WebhookId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    /// Makes a delivery due again at `at` (whatever its state); `NotFound` when the subscription
    /// has no delivery of that change.
    async fn replay_delivery(
        &self,
        webhook: WebhookId,
        change: ChangeId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
}
}
