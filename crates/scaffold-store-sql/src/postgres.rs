//! PostgreSQL: production and replicas. Rows that decide a rule are locked (`for update`): a
//! membership change locks its group, so that concurrent changes cannot leave a group without an
//! owner. Ids are `uuid`, times `timestamptz`, JSON `jsonb`.

use crate::{At, Lock, read_error};
use chrono::{DateTime, Utc};
use scaffold_store::{StoreError, StoreResult};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgConnectOptions, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Pool, QueryBuilder, Type};
use std::str::FromStr;
use uuid::Uuid;

dialect!("postgres", PgStore, sqlx::Postgres, "../../migrations/postgres");

/// Nothing beside the pool: rate-limit counters live in a table every replica shares.
type Local = ();

impl PgStore {
    /// Connects without migrating. Migrations run under PostgreSQL's advisory lock, so replicas
    /// may race to apply them.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(Self::from_pool(sql::pool(max_connections).connect_with(opts).await.map_err(to_store_error)?))
    }
}

async fn begin(pool: &Pool<Db>) -> StoreResult<Tx<'static>> {
    pool.begin().await.map_err(to_store_error)
}

/// Takes a transaction-scoped advisory lock, held until the transaction ends.
async fn serialise(tx: &mut Tx<'_>, lock: Lock) -> StoreResult<()> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(lock as i64)
        .execute(&mut **tx)
        .await
        .map_err(to_store_error)?;
    Ok(())
}

macro_rules! for_update {
    () => {
        " for update"
    };
    (skip_locked) => {
        " for update skip locked"
    };
}
use for_update;

/// Appends ` = any($n)` with the ids as one array parameter (one plan for any length).
fn in_list(b: &mut QueryBuilder<Db>, ids: Vec<Uuid>) {
    b.push(" = any(").push_bind(ids).push(")");
}

/// One upsert per hit into an unlogged table every replica shares.
async fn add_rate_limit_hits(store: &PgStore, bucket: &str, start: DateTime<Utc>, hits: u64) -> StoreResult<u64> {
    let add = i64::try_from(hits).unwrap_or(i64::MAX);
    let total: i64 = sqlx::query_scalar(
        "insert into rate_limit (bucket, window_start, hits) values ($1, $2, $3)
         on conflict (bucket, window_start) do update set hits = rate_limit.hits + excluded.hits
         returning hits",
    )
    .bind(bucket)
    .bind(start)
    .bind(add)
    .fetch_one(&store.pool)
    .await
    .map_err(to_store_error)?;
    if total == add {
        // The first count of a bucket's window clears every earlier window (index-backed), so
        // addresses seen once do not accumulate.
        sqlx::query("delete from rate_limit where window_start < $1")
            .bind(start)
            .execute(&store.pool)
            .await
            .map_err(to_store_error)?;
    }
    Ok(u64::try_from(total).unwrap_or(0))
}

impl Type<Db> for At {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Db>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Db>>::compatible(ty)
    }
}

impl Encode<'_, Db> for At {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Db>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Db> for At {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Db>>::decode(value).map(At)
    }
}

pub fn to_store_error(e: sqlx::Error) -> StoreError {
    match e {
        // NUL in text, or a character the encoding cannot hold (22021, 22P05): the transports
        // refuse these first; should one get through, it is the request's fault, not ours.
        sqlx::Error::Database(db) if db.code().is_some_and(|c| matches!(c.as_ref(), "22021" | "22P05")) => {
            StoreError::InvalidText
        }
        // Connection exceptions (class 08), the server shutting down or not yet accepting
        // connections (57P01-57P03), too many connections (53300), a failover's read-only server
        // (25006): the database is unavailable for now, not the request wrong.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "25006")
            }) =>
        {
            StoreError::Unavailable(Box::new(sqlx::Error::Database(db)))
        }
        // PostgreSQL names a unique violation by its constraint (or unique index).
        e => read_error(e, |db| db.constraint().unwrap_or_default()),
    }
}
