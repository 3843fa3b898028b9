//! Test support shared by the integration suites: a fresh, migrated store per test for either
//! adapter (`SCAFFOLD_TEST_STORE=sqlite|postgres`), a fixed clock, and an in-process HTTP client
//! for the router. PostgreSQL tests clone a migrated template database, which is much faster than
//! migrating per test; `SCAFFOLD_TEST_PG_URL` points at the server (the test script starts one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod counting;
mod http;

pub use counting::{Counter, CountingStore, counting_store};
pub use http::{Call, TestClient, TestResponse};

use chrono::{TimeZone, Utc};
use scaffold_domain::FixedClock;
use scaffold_store::Store;
use scaffold_store_sql::postgres::PgStore;
use scaffold_store_sql::sqlite::SqliteStore;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use std::path::PathBuf;
use std::sync::Arc;

/// Which adapter a test run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    /// From `SCAFFOLD_TEST_STORE` (default `sqlite`); any other value is a mistake and panics.
    pub fn from_env() -> Self {
        match std::env::var("SCAFFOLD_TEST_STORE").as_deref() {
            Err(_) | Ok("sqlite") => StoreKind::Sqlite,
            Ok("postgres") => StoreKind::Postgres,
            Ok(other) => panic!("SCAFFOLD_TEST_STORE must be sqlite or postgres, not {other}"),
        }
    }
}

/// A fresh store of the kind `SCAFFOLD_TEST_STORE` selects.
pub async fn store() -> Arc<dyn Store> {
    match StoreKind::from_env() {
        StoreKind::Sqlite => sqlite().await,
        StoreKind::Postgres => postgres().await,
    }
}

/// A new, empty directory for one test's files.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scaffold-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A migrated SQLite database in a new file.
pub async fn sqlite() -> Arc<dyn Store> {
    Arc::new(sqlite_at(&temp_dir().join("scaffold.db")).await)
}

pub async fn sqlite_at(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()), 4).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// The PostgreSQL server tests use; panics with instructions when it is not set.
pub fn pg_admin_url() -> String {
    std::env::var("SCAFFOLD_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "SCAFFOLD_TEST_PG_URL is not set: run `scripts/test`, which starts a throwaway PostgreSQL, \
             or point it at a server you own, e.g. postgres://postgres@127.0.0.1:5432/postgres"
        )
    })
}

fn with_database(url: &str, db: &str) -> String {
    match url.rfind('/') {
        Some(i) if url[..i].contains("://") && url[..i].len() > url.find("://").unwrap() + 2 => {
            let (base, rest) = url.split_at(i);
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{base}/{db}{query}")
        }
        _ => format!("{url}/{db}"),
    }
}

/// The template's name changes whenever the migrations do.
fn template_name() -> String {
    let mut h = Sha256::new();
    for m in scaffold_store_sql::postgres::MIGRATOR.iter() {
        h.update(m.version.to_le_bytes());
        h.update(&*m.checksum);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("scaffold_tpl_{hex}")
}

/// A fresh, migrated PostgreSQL store.
pub async fn postgres() -> Arc<dyn Store> {
    Arc::new(PgStore::connect(&postgres_url().await, 8).await.unwrap())
}

/// A URL for a fresh, migrated database of the kind `SCAFFOLD_TEST_STORE` selects (for tests
/// that run the binary).
pub async fn database_url() -> String {
    match StoreKind::from_env() {
        StoreKind::Sqlite => format!("sqlite://{}", temp_dir().join("scaffold.db").display()),
        StoreKind::Postgres => postgres_url().await,
    }
}

/// The URL of a fresh database cloned from a migrated template. Concurrent test processes
/// serialise on an advisory lock while the template is made once.
pub async fn postgres_url() -> String {
    let admin_url = pg_admin_url();
    let tpl = template_name();
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query("select pg_advisory_lock(7243001)").execute(&mut admin).await.unwrap();
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&tpl)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    if !exists {
        let building = format!("{tpl}_building");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop database if exists {building}")))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {building}"))).execute(&mut admin).await.unwrap();
        let store = PgStore::connect(&with_database(&admin_url, &building), 1).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("alter database {building} rename to {tpl}")))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let db = format!("scaffold_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {db} template {tpl}")))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("select pg_advisory_unlock(7243001)").execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    with_database(&admin_url, &db)
}

/// A new, empty (unmigrated) PostgreSQL database, for tests of migrations themselves.
pub async fn empty_postgres_url() -> String {
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    let db = format!("scaffold_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {db}"))).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    with_database(&admin_url, &db)
}

/// A clock fixed at a Saturday morning, 2026-03-28 09:30 UTC (the day before the clocks change).
pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 28, 9, 30, 0).unwrap()))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
    }
}
