//! The storage port over SQL, written once for both databases. This module is compiled once per
//! dialect (`crate::sqlite`, `crate::postgres`), each of which names what differs (`d` here):
//! the column types behind `At` and `Json`, id lists, locking, transactions and error codes.

mod attestations;
mod events;
mod identity;
mod notices;
mod rows;
mod run;
mod sources;
mod webhooks;

use super as d;
use async_trait::async_trait;
use d::{At, Db, Tx, for_update, to_store_error};
use run::{ChangedOr, Values, all, built, exec, insert, opt, one, update, upsert, values};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{ApiKeyId, AuditId, GroupId, PersonId};
use scaffold_store::{
    ApiKey, GroupQuery, IdempotencyRecord, MembershipChange, Store, StoreError, StoreResult, like_pattern, search_text,
    sort_name,
};
use sqlx::types::Json;
use sqlx::{Pool, QueryBuilder};
use uuid::Uuid;

/// One store over its pools; `local` is what the dialect keeps beside it (SQLite's in-memory
/// rate-limit counters).
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Reads, and single-statement writes.
    pub(super) pool: Pool<Db>,
    /// Write transactions: the same pool on PostgreSQL; on SQLite one connection of its own, so
    /// writers queue for it in order instead of holding reader connections while they wait for
    /// the database's one write lock.
    pub(super) writer: Pool<Db>,
    #[allow(dead_code)] // PostgreSQL keeps nothing beside the pool
    pub(super) local: d::Local,
}

/// Pool settings both databases share; each dialect adds its connection options. A connection is
/// not pinged before each use (a round trip per query): one the server has dropped fails its
/// query as unavailable (503), and the pool replaces it.
pub(super) fn pool(max_connections: u32) -> sqlx::pool::PoolOptions<Db> {
    sqlx::pool::PoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .test_before_acquire(false)
}

impl SqlStore {
    pub fn from_pool(pool: Pool<Db>) -> Self {
        Self::from_pools(pool.clone(), pool)
    }

    pub(super) fn from_pools(pool: Pool<Db>, writer: Pool<Db>) -> Self {
        Self { pool, writer, local: <d::Local as Default>::default() }
    }

    /// Applies pending migrations, then fills what a migration added that SQL cannot compute on
    /// both databases (the area columns of occurrences listed before migration 0012).
    pub async fn migrate(&self) -> StoreResult<()> {
        d::MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Other(Box::new(e)))?;
        events::place_occurrences(self).await.map(drop)
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    pub(crate) async fn begin(&self) -> StoreResult<Tx<'static>> {
        d::begin(&self.writer).await
    }
}

/// Writes the audit entry of the change and commits it.
pub(crate) async fn commit(mut tx: Tx<'_>, audit: &AuditEntry) -> StoreResult<()> {
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(to_store_error)
}

pub(crate) async fn insert_audit(tx: &mut Tx<'_>, a: &AuditEntry) -> StoreResult<()> {
    let v = values! {
        audit_id: a.id.0, occurred_at: At(a.at), actor_person_id: a.actor.map(|p| p.0), action: &a.action,
        target_type: &a.target_type, target_id: &a.target_id, detail: Json(&a.detail),
    };
    insert(&mut **tx, "audit_entry", v).await?;
    tick_content_clock(tx).await?;
    match &a.change {
        Some(c) => webhooks::insert_change(tx, c).await,
        None => Ok(()),
    }
}

/// Moves the content clock on (see `Store::content_clock`). Its row lock is held to the end of
/// the transaction; it is taken last in a write (with the audit entry) to keep that short.
pub(crate) async fn tick_content_clock(tx: &mut Tx<'_>) -> StoreResult<()> {
    exec(&mut **tx, "update content_clock set value = value + 1 where id = 1", ()).await.map(drop)
}

/// Unrevoked keys that carry the `admin` scope.
const OPERATOR_KEYS: &str =
    "select count(*) from api_key where revoked_at is null and (' ' || scopes || ' ') like '% admin %'";

pub(crate) async fn insert_person(
    tx: &mut Tx<'_>,
    p: &Person,
    key: Option<&ApiKey>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    insert(&mut **tx, "person", values! { person_id: p.id.0, display_name: &p.display_name, created_at: At(p.created_at) })
        .await?;
    if let Some(k) = key {
        insert_key(tx, k).await?;
    }
    insert_audit(tx, audit).await
}

async fn insert_key(tx: &mut Tx<'_>, k: &ApiKey) -> StoreResult<()> {
    let v = values! {
        api_key_id: k.id.0, person_id: k.person_id.0, name: &k.name, token_hash: &k.token_hash,
        scopes: k.scopes.to_string(), created_at: At(k.created_at), revoked_at: k.revoked_at.map(At),
    };
    insert(&mut **tx, "api_key", v).await
}

async fn put_categories(tx: &mut Tx<'_>, g: &Group) -> StoreResult<()> {
    exec(&mut **tx, "delete from group_category where group_id = $1", (g.id.0,)).await?;
    for c in &g.categories {
        insert(&mut **tx, "group_category", values! { group_id: g.id.0, category: c.as_str() }).await?;
    }
    Ok(())
}

async fn owner_count(tx: &mut Tx<'_>, group: GroupId) -> StoreResult<i64> {
    let sql = "select count(*) from membership where group_id = $1 and role = 'owner' and status = 'active'";
    one(&mut **tx, sql, (group.0,)).await
}

/// Recomputes the group's cached count of active members (inside the changing transaction).
pub(crate) async fn recount_members(tx: &mut Tx<'_>, group: GroupId) -> StoreResult<()> {
    let sql = "update community_group set member_count =
                  (select count(*) from membership where group_id = $1 and status = 'active')
               where group_id = $1";
    exec(&mut **tx, sql, (group.0,)).await?;
    Ok(())
}

async fn upsert_membership(tx: &mut Tx<'_>, m: &Membership) -> StoreResult<()> {
    let v = values! {
        group_id: m.group_id.0, person_id: m.person_id.0, role: m.role.as_str(), status: m.status.as_str(),
        created_at: At(m.created_at), updated_at: At(m.updated_at),
    };
    upsert(&mut **tx, "membership", v, "group_id, person_id").await
}

/// A group's columns, with the derived `sort_name` and `search_text`.
fn group_values(g: &Group) -> Values {
    let cats: Vec<&str> = g.categories.iter().map(|c| c.as_str()).collect();
    let area = g.area.as_ref();
    let (source_id, origin, origin_seen_at) = rows::origin_columns(g.origin.as_ref());
    values! {
        group_id: g.id.0, slug: g.slug.as_str(), name: &g.name, summary: &g.summary, description: &g.description,
        kind: g.kind.as_str(), categories: cats.join(" "), outcode: area.map(|a| a.outcode.as_str()),
        latitude: area.map(|a| a.latitude), longitude: area.map(|a| a.longitude), contact_email: &g.contact_email,
        links: Json(&g.links), visibility: g.visibility.as_str(), join_policy: g.join_policy.as_str(),
        guidelines_template: g.guidelines.template.map(|t| t.as_str()), guidelines_text: &g.guidelines.text,
        identifiers: Json(&g.identifiers), status: g.status.as_str(), version: g.version,
        created_at: At(g.created_at), updated_at: At(g.updated_at), sort_name: sort_name(g), search_text: search_text(g),
        source_id: source_id, origin: origin, origin_seen_at: origin_seen_at,
    }
}

/// An update that matched no row: the row is gone, or another change came first.
async fn stale_or_missing(tx: &mut Tx<'_>, version_of: &'static str, id: Uuid) -> StoreError {
    match opt::<_, i64>(&mut **tx, version_of, (id,)).await {
        Ok(Some(_)) => StoreError::VersionMismatch,
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

/// Appends the listing rule for groups (and their events): public, or the viewer is an active
/// member of the group whose id is in `group_column`.
fn push_visible(b: &mut QueryBuilder<Db>, group_column: &str, viewer: Option<PersonId>) {
    b.push(" and (g.visibility = 'public'");
    if let Some(viewer) = viewer {
        b.push(" or exists (select 1 from membership m where m.group_id = ")
            .push(group_column)
            .push(" and m.status = 'active' and m.person_id = ")
            .push_bind(viewer.0)
            .push(")");
    }
    b.push(")");
}

/// The `where` of a group listing: active groups the viewer may see, matching the filters.
fn group_filter(b: &mut QueryBuilder<Db>, q: &GroupQuery) {
    b.push(" where g.status = 'active'");
    if !q.all_visibilities {
        push_visible(b, "g.group_id", q.viewer);
    }
    if let Some(o) = &q.outcode {
        b.push(" and g.outcode = ").push_bind(o.clone());
    }
    if let Some(c) = q.category {
        b.push(" and exists (select 1 from group_category c where c.group_id = g.group_id and c.category = ")
            .push_bind(c.as_str())
            .push(")");
    }
    for w in &q.text {
        b.push(" and g.search_text like ").push_bind(like_pattern(w)).push(" escape '\\'");
    }
    if let Some(n) = q.near {
        let (scale, limit) = n.terms();
        b.push(" and g.latitude is not null and ((g.latitude - ").push_bind(n.latitude);
        b.push(") * (g.latitude - ").push_bind(n.latitude).push(") + (g.longitude - ").push_bind(n.longitude);
        b.push(") * (g.longitude - ").push_bind(n.longitude).push(") * ").push_bind(scale * scale);
        b.push(") <= ").push_bind(limit);
    }
    if let Some(t) = q.modified_after {
        b.push(" and g.updated_at >= ").push_bind(At(t));
    }
    if q.local_only {
        b.push(" and g.source_id is null");
    }
}

fn ids<T>(v: &[T], f: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    v.iter().map(f).collect()
}

#[async_trait]
impl Store for SqlStore {
    fn kind(&self) -> &'static str {
        d::KIND
    }

    async fn ping(&self) -> StoreResult<()> {
        exec(&self.pool, "select 1", ()).await?;
        Ok(())
    }

    async fn content_clock(&self) -> StoreResult<i64> {
        one(&self.pool, "select value from content_clock where id = 1", ()).await
    }

    async fn take_job_lease(
        &self,
        job: &str,
        holder: &str,
        now: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<bool> {
        let sql = "insert into job_lease (name, holder, until) values ($1, $2, $3)
                   on conflict (name) do update set holder = excluded.holder, until = excluded.until
                   where job_lease.until <= $4 or job_lease.holder = excluded.holder";
        Ok(exec(&self.writer, sql, (job, holder, At(until), At(now))).await?.rows_affected() == 1)
    }

    async fn create_person(&self, p: &Person, key: Option<&ApiKey>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_person(&mut tx, p, key, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn persons_by_ids(&self, ids_: &[PersonId]) -> StoreResult<Vec<Person>> {
        let mut b = QueryBuilder::new("select * from person where person_id");
        d::in_list(&mut b, ids(ids_, |p| p.0));
        built(b, &self.pool).await
    }

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_key(&mut tx, key).await?;
        commit(tx, audit).await
    }

    async fn api_key_by_hash(&self, hash: &[u8]) -> StoreResult<Option<ApiKey>> {
        opt(&self.pool, "select * from api_key where token_hash = $1", (hash,)).await
    }

    async fn api_keys_of_person(&self, person: PersonId) -> StoreResult<Vec<ApiKey>> {
        all(&self.pool, "select * from api_key where person_id = $1 order by api_key_id", (person.0,)).await
    }

    async fn revoke_api_key(&self, person: PersonId, key: ApiKeyId, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let sql = "update api_key set revoked_at = $3 where api_key_id = $1 and person_id = $2 and revoked_at is null";
        exec(&mut *tx, sql, (key.0, person.0, At(audit.at))).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }

    async fn count_operator_keys(&self) -> StoreResult<i64> {
        one(&self.pool, OPERATOR_KEYS, ()).await
    }

    async fn bootstrap_operator(&self, p: &Person, key: &ApiKey, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        d::serialise(&mut tx, d::Lock::Bootstrap).await?;
        let existing: i64 = one(&mut *tx, OPERATOR_KEYS, ()).await?;
        if existing > 0 {
            return Ok(false);
        }
        insert_person(&mut tx, p, Some(key), audit).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(true)
    }

    async fn create_group(
        &self,
        g: &Group,
        owner: &Membership,
        idem: Option<&IdempotencyRecord>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if let Some(r) = idem {
            let v = values! {
                scope: &r.scope, key: &r.key, request_hash: &r.request_hash, resource_id: &r.resource_id,
                created_at: At(r.created_at),
            };
            insert(&mut *tx, "idempotency_key", v).await?;
        }
        insert(&mut *tx, "community_group", group_values(g)).await?;
        put_categories(&mut tx, g).await?;
        upsert_membership(&mut tx, owner).await?;
        recount_members(&mut tx, g.id).await?;
        commit(tx, audit).await
    }

    async fn group_by_id(&self, id: GroupId) -> StoreResult<Option<Group>> {
        opt(&self.pool, "select * from community_group where group_id = $1", (id.0,)).await
    }

    async fn group_by_slug(&self, slug: &str) -> StoreResult<Option<Group>> {
        opt(&self.pool, "select * from community_group where slug = $1", (slug,)).await
    }

    async fn groups_by_ids(&self, ids_: &[GroupId]) -> StoreResult<Vec<Group>> {
        let mut b = QueryBuilder::new("select * from community_group where group_id");
        d::in_list(&mut b, ids(ids_, |g| g.0));
        built(b, &self.pool).await
    }

    async fn list_groups(&self, q: &GroupQuery) -> StoreResult<Vec<Group>> {
        let mut b: QueryBuilder<Db> = QueryBuilder::new("select * from community_group g");
        group_filter(&mut b, q);
        if let Some((name, id)) = &q.after {
            b.push(" and (g.sort_name, g.group_id) > (").push_bind(name.clone()).push(", ").push_bind(id.0).push(")");
        }
        // Written into the statement, not bound (see `events::push_search`).
        b.push(" order by g.sort_name, g.group_id limit ").push(q.limit);
        b.push(" offset ").push_bind(i64::from(q.offset));
        built(b, &self.pool).await
    }

    async fn count_groups(&self, q: &GroupQuery) -> StoreResult<u64> {
        let mut b: QueryBuilder<Db> = QueryBuilder::new("select count(*) from community_group g");
        group_filter(&mut b, q);
        let n: i64 = b.build_query_scalar().fetch_one(&self.pool).await.map_err(to_store_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn update_group(&self, g: &Group, expected_version: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let v = group_values(g).key("group_id", g.id.0).key("version", expected_version);
        if update(&mut *tx, "community_group", v).await?.rows_affected() == 0 {
            return Err(stale_or_missing(&mut tx, "select version from community_group where group_id = $1", g.id.0).await);
        }
        put_categories(&mut tx, g).await?;
        events::republish_group(&mut tx, g.id, g.updated_at).await?;
        commit(tx, audit).await
    }

    async fn membership(&self, group: GroupId, person: PersonId) -> StoreResult<Option<Membership>> {
        opt(&self.pool, "select * from membership where group_id = $1 and person_id = $2", (group.0, person.0)).await
    }

    async fn memberships_of_person(&self, person: PersonId, groups: &[GroupId]) -> StoreResult<Vec<Membership>> {
        let mut b = QueryBuilder::new("select * from membership where person_id = ");
        b.push_bind(person.0).push(" and group_id");
        d::in_list(&mut b, ids(groups, |g| g.0));
        built(b, &self.pool).await
    }

    async fn list_members(&self, group: GroupId, after: Option<PersonId>, limit: u32) -> StoreResult<Vec<Membership>> {
        let sql = "select * from membership where group_id = $1 and ($2 is null or person_id > $2)
                   order by person_id limit $3";
        all(&self.pool, sql, (group.0, after.map(|p| p.0), i64::from(limit))).await
    }

    async fn change_membership(&self, change: &MembershipChange, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let group = change.group_id();
        // Serialise membership changes per group.
        let sql = concat!("select group_id from community_group where group_id = $1", for_update!());
        let locked: Option<Uuid> = opt(&mut *tx, sql, (group.0,)).await?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        match change {
            MembershipChange::Put(m) => upsert_membership(&mut tx, m).await?,
            MembershipChange::Remove { group_id, person_id } => {
                let sql = "delete from membership where group_id = $1 and person_id = $2";
                exec(&mut *tx, sql, (group_id.0, person_id.0)).await?.changed_or(StoreError::NotFound)?;
            }
        }
        if owner_count(&mut tx, group).await? == 0 {
            return Err(StoreError::LastOwner);
        }
        recount_members(&mut tx, group).await?;
        commit(tx, audit).await
    }

    async fn idempotency_record(&self, scope: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        opt(&self.pool, "select * from idempotency_key where scope = $1 and key = $2", (scope, key)).await
    }

    async fn list_audit(&self, before: Option<AuditId>, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let sql = "select * from audit_entry where ($1 is null or audit_id < $1) order by audit_id desc limit $2";
        all(&self.pool, sql, (before.map(|a| a.0), i64::from(limit))).await
    }
}
