//! The audit log: an append-only record of who did what to what, and when. Entries are written in
//! the same transaction as the change they record.

use crate::{AuditId, PersonId};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    /// `None` for the system itself (first-run bootstrap, the command line).
    pub actor: Option<PersonId>,
    /// A dotted verb, e.g. `group.create`, `membership.role_change`.
    pub action: String,
    /// The kind of the target, e.g. `group`, `membership`, `api_key`.
    pub target_type: String,
    pub target_id: String,
    /// A small JSON object with non-personal details (changed field names, new role).
    pub detail: serde_json::Value,
    /// The change record written with it (the outbox), for changes integrators may hear of.
    pub change: Option<crate::change::Change>,
}

impl AuditEntry {
    /// The entry with the change record it brings (the outbox).
    #[must_use]
    pub fn with_change(mut self, change: crate::change::Change) -> Self {
        self.change = Some(change);
        self
    }
}
