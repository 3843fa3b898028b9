//! The storage port over SQL, for SQLite (the embedded default) and PostgreSQL (production and
//! replicas). The statements, row mapping and transactions are written once, in `sql/`, and
//! compiled once per database: `sqlite` and `postgres` each mount that module beside the few
//! things their database does differently (see `docs/decisions.md`, "One store, two dialects").
//!
//! Both databases take the same `$N` placeholders and the same SQL; what differs is named once
//! in each dialect module: how a time and JSON are stored (`At`, `Json`), how a list of ids is
//! matched, how rows are locked, how a write transaction begins, pragmas and pool settings, the
//! rate-limit counters, and how database errors are read.

/// Mounts the shared SQL (`sql/`) for one dialect and names the dialect's types: invoked once
/// at the top of `sqlite.rs` and `postgres.rs`.
macro_rules! dialect {
    ($kind:literal, $store:ident, $db:ty, $migrations:literal) => {
        pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!($migrations);

        #[allow(clippy::duplicate_mod)] // the shared SQL, compiled for this dialect
        #[path = "sql/mod.rs"]
        mod sql;

        pub use sql::SqlStore as $store;

        type Db = $db;
        type DbRow = <Db as sqlx::Database>::Row;
        type DbArgs = <Db as sqlx::Database>::Arguments;
        type Tx<'a> = sqlx::Transaction<'a, Db>;

        const KIND: &str = $kind;
    };
}

pub mod postgres;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use chrono::{DateTime, Utc};
use scaffold_store::StoreError;

/// A stored time. SQLite keeps integer microseconds since the Unix epoch, PostgreSQL
/// `timestamptz`; each dialect implements the encoding. The shared code binds and reads every
/// time through this type, never `DateTime` directly (SQLite would store that as text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct At(pub DateTime<Utc>);

/// Transaction-scoped locks that serialise work across replicas. SQLite needs none: its write
/// transactions begin immediate, so they already run one at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lock {
    /// Creating the first operator.
    Bootstrap = 7_243_002,
    /// Creating and rotating signing keys.
    SigningKeys = 7_243_003,
}

/// The unique rules the service tells apart, by PostgreSQL's constraint (or index) name and by
/// the columns SQLite reports, each with the name the store port gives it. Any other unique
/// violation is `unique`.
const UNIQUE: &[(&str, &str, &str)] = &[
    ("community_group_slug_key", "community_group.slug", "slug"),
    ("idempotency_key_pkey", "idempotency_key.scope, idempotency_key.key", "idempotency_key"),
    ("api_key_token_hash_key", "api_key.token_hash", "token_hash"),
    ("identity_issuer_subject_key", "identity.issuer, identity.subject", "identity"),
    ("app_client_id_key", "app.client_id", "client_id"),
    ("signing_key_active", "signing_key.purpose", "signing_key"),
    ("attestation_status", "attestation.status_list, attestation.status_idx", "attestation_status"),
    ("source_kind_url_key", "source.kind, source.url", "source"),
    ("peer_base_url_key", "peer.base_url", "peer"),
];

/// The unique rules as (PostgreSQL name, SQLite columns, port name), for tests that check them
/// against each database's catalogue.
pub fn unique_rules() -> &'static [(&'static str, &'static str, &'static str)] {
    UNIQUE
}

/// The port's name for a unique violation, from PostgreSQL's constraint name or SQLite's columns.
fn unique_rule(constraint: &str) -> &'static str {
    UNIQUE.iter().find(|(pg, lite, _)| *pg == constraint || *lite == constraint).map_or("unique", |(_, _, name)| name)
}

/// Reads what both databases report alike, after each dialect has read its own codes.
/// `unique_key` names a unique violation as the database reports it (PostgreSQL's constraint,
/// SQLite's columns).
fn read_error(e: sqlx::Error, unique_key: fn(&dyn sqlx::error::DatabaseError) -> &str) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { constraint: unique_rule(unique_key(db.as_ref())) }
        }
        // A row that refers to one that is gone (a foreign key): what it needs was not found.
        // SQLite does not say which key, so neither store names it.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(e)),
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Other(Box::new(other)),
    }
}
