//! Reading the audit log: operators only.

use crate::{Page, Service, page_limit, store_error};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::codes;
use scaffold_domain::{Actor, AuditId, DomainError, Scope};
use scaffold_store::Cursor;

impl Service {
    /// Audit entries, newest first.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<AuditEntry>, DomainError> {
        actor.require(Scope::Admin)?;
        let limit = page_limit(limit)?;
        let before = match cursor {
            None => None,
            Some(c) => Some(Cursor::decode::<String>(c).and_then(|s| AuditId::parse(&s)).ok_or_else(bad_cursor)?),
        };
        let items = self.store.list_audit(before, limit).await.map_err(store_error)?;
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|e| Cursor::encode(&e.id.to_string()).0))
            .flatten();
        Ok(Page { items, next })
    }
}

pub(crate) fn bad_cursor() -> DomainError {
    DomainError::invalid_field("/after", codes::INVALID_CURSOR, "is not a cursor this service gave out")
}
