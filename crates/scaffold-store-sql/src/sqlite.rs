//! SQLite: the embedded default for small instances and development. WAL mode, foreign keys on,
//! a busy timeout, and `BEGIN IMMEDIATE` for every write transaction, so that writers queue
//! instead of failing and membership changes cannot race. Ids are 16-byte blobs, times integer
//! microseconds since the epoch (UTC), JSON text.

use crate::{At, Lock, read_error};
use chrono::{DateTime, Utc};
use scaffold_store::window::WindowCounts;
use scaffold_store::{StoreError, StoreResult};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteArgumentsBuffer, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{Decode, Encode, Pool, QueryBuilder, Type};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

dialect!("sqlite", SqliteStore, sqlx::Sqlite, "../../migrations/sqlite");

/// Rate-limit keys held per window before keys share overflow counters.
const RATE_KEYS: usize = 65_536;

/// Rate-limit counters, kept in memory: a SQLite database is served by exactly one server process
/// (the configuration refuses more replicas), so that memory is as shared as a table would be,
/// without a disk write on every request. Bucket → (window start in µs, hits).
#[derive(Debug, Clone)]
struct Local(Arc<WindowCounts<u64>>);

impl Default for Local {
    fn default() -> Self {
        Self(Arc::new(WindowCounts::new(RATE_KEYS)))
    }
}

impl SqliteStore {
    /// Connects without migrating: `max_connections` readers and one writer (see
    /// `docs/operations.md`, "SQLite settings").
    ///
    /// - WAL: readers never wait for the writer, nor it for them.
    /// - `synchronous = FULL`: a committed write is on disk (the WAL is synced at every commit),
    ///   so it survives power loss, not only a crash of the process.
    /// - `mmap_size` 256 MiB: pages are read from the mapped file, shared by every connection,
    ///   instead of being copied into each connection's page cache by a system call.
    /// - `cache_size` 2 MiB a connection (the default), for the pages mapping does not cover
    ///   (those the WAL holds).
    /// - `temp_store = MEMORY`: sorts and merges (an area search's) never touch a temporary file.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(Box::new(e)))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("mmap_size", "268435456")
            .pragma("temp_store", "memory");
        if opts.get_filename() == std::path::Path::new(":memory:") {
            // Every connection to memory is its own database: one pool for all.
            return Ok(Self::from_pool(sql::pool(1).connect_with(opts).await.map_err(to_store_error)?));
        }
        // The writer first: it creates the file and sets WAL mode before readers open it.
        let writer = sql::pool(1).connect_with(opts.clone()).await.map_err(to_store_error)?;
        let readers = sql::pool(max_connections).connect_with(opts).await.map_err(to_store_error)?;
        Ok(Self::from_pools(readers, writer))
    }
}

async fn begin(pool: &Pool<Db>) -> StoreResult<Tx<'static>> {
    pool.begin_with("begin immediate").await.map_err(to_store_error)
}

/// Nothing to do: the transaction began immediate and holds the write lock until it ends.
#[allow(clippy::unused_async)]
async fn serialise(_tx: &mut Tx<'_>, _lock: Lock) -> StoreResult<()> {
    Ok(())
}

/// SQLite has no `for update`; the immediate transaction already excludes other writers.
macro_rules! for_update {
    () => {
        ""
    };
    (skip_locked) => {
        ""
    };
}
use for_update;

/// Appends ` in (…)` for the ids; an empty list matches nothing.
fn in_list(b: &mut QueryBuilder<Db>, ids: Vec<Uuid>) {
    b.push(" in (");
    let mut sep = b.separated(", ");
    for id in ids {
        sep.push_bind(id);
    }
    b.push(")");
}

#[allow(clippy::unused_async)]
async fn add_rate_limit_hits(store: &SqliteStore, bucket: &str, start: DateTime<Utc>, hits: u64) -> StoreResult<u64> {
    // A shared overflow slot over-counts (it adds every sharer's hits); never under-counts.
    Ok(store.local.0.with(bucket, start.timestamp_micros(), |total, _| {
        *total += hits;
        *total
    }))
}

impl Type<Db> for At {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Db>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Db>>::compatible(ty)
    }
}

impl Encode<'_, Db> for At {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Db>::encode(self.0.timestamp_micros(), buf)
    }
}

impl<'r> Decode<'r, Db> for At {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let us = <i64 as Decode<Db>>::decode(value)?;
        DateTime::from_timestamp_micros(us).map(At).ok_or_else(|| format!("stored time {us} is out of range").into())
    }
}

pub fn to_store_error(e: sqlx::Error) -> StoreError {
    match e {
        // Busy, locked, and their extended codes: the database is unavailable for now.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| matches!(c.as_ref(), "5" | "6" | "261" | "262" | "517")) =>
        {
            StoreError::Unavailable(Box::new(sqlx::Error::Database(db)))
        }
        // SQLite names a unique violation by its columns: "UNIQUE constraint failed: group.slug".
        e => read_error(e, |db| db.message().strip_prefix("UNIQUE constraint failed: ").unwrap_or_default()),
    }
}
