//! Adapter-level checks outside the conformance suite: migration parity between the dialects, and
//! what adapters reveal in `Debug`.

#![allow(clippy::unwrap_used)]

fn names(dialect: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(dialect);
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn sqlite_and_postgres_migrations_match() {
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    let embedded: Vec<(i64, String)> =
        scaffold_store_sql::sqlite::MIGRATOR.iter().map(|m| (m.version, m.description.to_string())).collect();
    let embedded_pg: Vec<(i64, String)> =
        scaffold_store_sql::postgres::MIGRATOR.iter().map(|m| (m.version, m.description.to_string())).collect();
    assert_eq!(embedded, embedded_pg);
    assert_eq!(embedded.len(), sqlite.len());
}

#[test]
fn both_dialects_create_the_same_tables() {
    let tables = |dialect: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(dialect);
        let mut out = Vec::new();
        for name in names(dialect) {
            let sql = std::fs::read_to_string(dir.join(name)).unwrap();
            for line in sql.lines() {
                let l = line.trim().to_lowercase();
                let rest = ["create table ", "create unlogged table ", "create index ", "create unique index "]
                    .iter()
                    .find_map(|p| l.strip_prefix(p));
                if let Some(rest) = rest {
                    out.push(rest.split_whitespace().next().unwrap().to_owned());
                }
            }
        }
        out
    };
    // The one intended difference: SQLite keeps rate-limit counters in the adapter's memory
    // (a SQLite database has exactly one server), PostgreSQL in a table every replica shares.
    let mut pg = tables("postgres");
    pg.retain(|t| !t.starts_with("rate_limit"));
    assert_eq!(tables("sqlite"), pg);
}

/// Unique violations map by name, so every name in the table must exist: each PostgreSQL
/// constraint or unique index, and each SQLite unique index on exactly those columns.
#[tokio::test]
async fn every_unique_rule_names_a_real_constraint_in_both_databases() {
    use sqlx::Row;
    let pg = sqlx::PgPool::connect(&scaffold_testkit::postgres_url().await).await.unwrap();
    let dir = scaffold_testkit::temp_dir();
    let _migrated = scaffold_testkit::sqlite_at(&dir.join("unique.db")).await;
    let lite = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.join("unique.db").display())).await.unwrap();
    for (pg_name, columns, rule) in scaffold_store_sql::unique_rules() {
        let found: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_constraint where conname = $1 and contype in ('u', 'p'))
                 or exists (select 1 from pg_indexes where indexname = $1 and indexdef like 'CREATE UNIQUE%')",
        )
        .bind(pg_name)
        .fetch_one(&pg)
        .await
        .unwrap();
        assert!(found, "{rule}: no PostgreSQL constraint {pg_name}");
        let (table, _) = columns.split_once('.').unwrap();
        let wanted: Vec<String> = columns.split(", ").map(|c| c.split_once('.').unwrap().1.to_owned()).collect();
        let indexes =
            sqlx::query(sqlx::AssertSqlSafe(format!("pragma index_list({table})"))).fetch_all(&lite).await.unwrap();
        let mut matched = false;
        for i in indexes.iter().filter(|i| i.get::<i64, _>("unique") == 1) {
            let name: String = i.get("name");
            let cols: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!("pragma index_info({name})")))
                .fetch_all(&lite)
                .await
                .unwrap()
                .iter()
                .map(|c| c.get("name"))
                .collect();
            matched |= cols == wanted;
        }
        assert!(matched, "{rule}: no SQLite unique index on {columns}");
    }
}

/// Connection details never show up in `Debug` output (which ends up in logs and panics).
#[tokio::test]
async fn store_debug_output_hides_the_database_password() {
    let url = scaffold_testkit::postgres_url().await;
    let with_password = url.replacen("postgres://postgres@", "postgres://postgres:sup3r-secret@", 1);
    let store = scaffold_store_sql::postgres::PgStore::connect(&with_password, 1).await.unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains("sup3r-secret"), "{shown}");
}

/// PostgreSQL ending a connection (an administrator, a restart, a failover: SQLSTATE 57P01) is the
/// store being unavailable (503 to clients), never an internal error.
#[tokio::test]
async fn a_connection_the_server_ends_is_unavailable_not_an_internal_error() {
    use sqlx::Connection;
    let url = scaffold_testkit::postgres_url().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let err = sqlx::query("select pg_terminate_backend(pg_backend_pid())").execute(&mut conn).await.unwrap_err();
    let code = err.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("57P01"), "{err}");
    let mapped = scaffold_store_sql::postgres::to_store_error(err);
    assert!(matches!(mapped, scaffold_store::StoreError::Unavailable(_)), "{mapped}");
}
