//! The notices part of the storage port: council notices and their dismissal by groups.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::notice::Notice;
use scaffold_domain::{GroupId, NoticeId};

port! {
pub trait NoticeStore: [Send + Sync] {
    /// Inserts the notice (its audit entry brings the `notice.published` change).
    async fn create_notice(&self, notice: &Notice, audit: &AuditEntry) -> StoreResult<()>;
    /// The notices up at `at`, newest first.
    async fn current_notices(&self, at: DateTime<Utc>) -> StoreResult<Vec<Notice>>;
    /// Every notice, newest first, at most `limit`.
    async fn notices(&self, limit: u32) -> StoreResult<Vec<Notice>>;
    async fn notice_by_id(&self, id: NoticeId) -> StoreResult<Option<Notice>>;
    /// Marks the notice dismissed for the group (again: nothing changes, nothing is audited).
    async fn dismiss_notice(
        &self,
        notice: NoticeId,
        group: GroupId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The notices a group dismissed.
    async fn dismissed_notices(&self, group: GroupId) -> StoreResult<Vec<NoticeId>>;
}
}
