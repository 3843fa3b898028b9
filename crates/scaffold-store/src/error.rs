use std::fmt;

/// What a store call can fail with. Adapters map database error kinds (unique violation, busy,
/// connection lost) onto these; the service maps them onto `DomainError` codes.
pub enum StoreError {
    NotFound,
    /// A uniqueness rule was broken; `constraint` names the rule (`slug`, `idempotency_key`, …).
    Conflict {
        constraint: &'static str,
    },
    /// Optimistic concurrency: the stored version is not the one expected.
    VersionMismatch,
    /// The change would leave a group without an active owner.
    LastOwner,
    /// The database cannot store this text (PostgreSQL and NUL). Inputs are checked before the
    /// store; this is the backstop.
    InvalidText,
    /// The database is unreachable or overloaded; worth retrying.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("not found"),
            StoreError::Conflict { constraint } => write!(f, "conflict on {constraint}"),
            StoreError::VersionMismatch => f.write_str("version mismatch"),
            StoreError::LastOwner => f.write_str("the group would have no owner"),
            StoreError::InvalidText => f.write_str("text the database cannot store"),
            StoreError::Unavailable(e) => write!(f, "store unavailable: {e}"),
            StoreError::Other(e) => write!(f, "store error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Unavailable(e) | StoreError::Other(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}
