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

/// Occurrences listed before migration 0012 (which added the area cells) are placed when the store
/// migrates, on both databases; one without a place stays without.
#[tokio::test]
async fn occurrences_listed_before_the_area_cells_are_placed_when_migrating() {
    use scaffold_store::area::placement;
    type Placed = (Option<i64>, Option<i64>, Option<f64>, Option<f64>, Option<f64>);
    let wn1 = placement(53.5448, -2.6318);
    let expected: Vec<Placed> = vec![
        (Some(wn1.cell_tenth), Some(wn1.cell_degree), Some(wn1.unit[0]), Some(wn1.unit[1]), Some(wn1.unit[2])),
        (None, None, None, None, None),
    ];
    let insert = |id: &str, at: &str| {
        format!(
            "insert into occurrence (event_id, local_start, group_id, start_at, end_at, status, latitude, longitude,
                                     lat_cell, open_active, deleted, modified, updated_at)
             values ({id}, '2026-04-07T10:00:00', {id}, {at}, {at}, 'scheduled', 53.5448, -2.6318, 535, false, false, 1, {at}),
                    ({id}, '2026-04-14T10:00:00', {id}, {at}, {at}, 'scheduled', null, null, null, false, false, 1, {at})"
        )
    };
    let read = "select cell_tenth, cell_degree, unit_x, unit_y, unit_z from occurrence order by local_start";

    let dir = scaffold_testkit::temp_dir();
    let url = format!("sqlite://{}?mode=rwc", dir.join("old.db").display());
    let lite = sqlx::SqlitePool::connect(&url).await.unwrap();
    scaffold_store_sql::sqlite::MIGRATOR.run_to(11, &lite).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert("x'0190a0a0000070008000000000000001'", "0")))
        .execute(&lite)
        .await
        .unwrap();
    let store = scaffold_store_sql::sqlite::SqliteStore::connect(&url, 1).await.unwrap();
    store.migrate().await.unwrap();
    let placed: Vec<Placed> = sqlx::query_as(read).fetch_all(&lite).await.unwrap();
    assert_eq!(placed, expected, "sqlite");

    let url = scaffold_testkit::empty_postgres_url().await;
    let pg = sqlx::PgPool::connect(&url).await.unwrap();
    scaffold_store_sql::postgres::MIGRATOR.run_to(11, &pg).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert("'0190a0a0-0000-7000-8000-000000000001'::uuid", "now()")))
        .execute(&pg)
        .await
        .unwrap();
    let store = scaffold_store_sql::postgres::PgStore::connect(&url, 1).await.unwrap();
    store.migrate().await.unwrap();
    let placed: Vec<Placed> = sqlx::query_as(read).fetch_all(&pg).await.unwrap();
    assert_eq!(placed, expected, "postgres");
}

/// On SQLite, writers queue for their own connection: with the write lock held elsewhere (another
/// process, say) and more writes waiting than the store has connections, reads still answer; the
/// writes all land once the lock is released.
#[tokio::test]
async fn sqlite_reads_answer_while_writes_queue_for_the_lock() {
    use scaffold_store::conformance::{create, group, person};
    use sqlx::Connection;
    let dir = scaffold_testkit::temp_dir();
    let path = dir.join("queue.db");
    let store: scaffold_store::conformance::DynStore = std::sync::Arc::new(scaffold_testkit::sqlite_at(&path).await);
    let owner = person(&store, "Ada").await;
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::raw_sql("begin immediate").execute(&mut other).await.unwrap();
    // Twice as many writes as the store has connections (4), all waiting for the lock.
    let writes: Vec<_> = (0..8)
        .map(|i| {
            let (store, owner) = (store.clone(), owner.clone());
            tokio::spawn(async move { create(&store, &group(&format!("queued-{i}"), "Queued"), &owner).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let read = tokio::time::timeout(std::time::Duration::from_secs(3), store.persons_by_ids(&[owner.id])).await;
    assert!(matches!(&read, Ok(Ok(found)) if found.len() == 1), "a read answers while writes wait: {read:?}");
    assert!(writes.iter().all(|w| !w.is_finished()), "the writes are still waiting for the lock");
    sqlx::raw_sql("rollback").execute(&mut other).await.unwrap();
    for w in writes {
        w.await.unwrap();
    }
}
