//! The storage port over SQL, written once for both databases. This module is compiled once per
//! dialect (`crate::sqlite`, `crate::postgres`), each of which names what differs (`d` here):
//! the column types behind `At` and `Json`, id lists, locking, transactions and error codes.

mod attestations;
mod events;
mod identity;
mod rows;
mod run;

use super as d;
use async_trait::async_trait;
use d::{At, Db, DbArgs, Tx, for_update, to_store_error};
use rows::{at, get, group_from_row, json, key_from_row, membership_from_row, person_from_row, row};
use run::{ChangedOr, insert, exec, row_opt, rows, scalar, scalar_opt};
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

/// One store over one pool; `local` is what the dialect keeps beside it (SQLite's in-memory
/// rate-limit counters).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: Pool<Db>,
    #[allow(dead_code)] // PostgreSQL keeps nothing beside the pool
    pub(super) local: d::Local,
}

/// Pool settings both databases share; each dialect adds its connection options.
pub(super) fn pool(max_connections: u32) -> sqlx::pool::PoolOptions<Db> {
    sqlx::pool::PoolOptions::new().max_connections(max_connections).acquire_timeout(std::time::Duration::from_secs(10))
}

impl SqlStore {
    pub fn from_pool(pool: Pool<Db>) -> Self {
        Self { pool, local: <d::Local as Default>::default() }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        d::MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Other(Box::new(e)))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn begin(&self) -> StoreResult<Tx<'static>> {
        d::begin(&self.pool).await
    }
}

/// Writes the audit entry of the change and commits it.
pub(crate) async fn commit(mut tx: Tx<'_>, audit: &AuditEntry) -> StoreResult<()> {
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(to_store_error)
}

pub(crate) async fn insert_audit(tx: &mut Tx<'_>, a: &AuditEntry) -> StoreResult<()> {
    insert!(&mut **tx, "audit_entry" {
        audit_id: a.id.0, occurred_at: At(a.at), actor_person_id: a.actor.map(|p| p.0), action: &a.action,
        target_type: &a.target_type, target_id: &a.target_id, detail: Json(&a.detail),
    })?;
    Ok(())
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
    insert!(&mut **tx, "person" {
        person_id: p.id.0, display_name: &p.display_name, created_at: At(p.created_at),
    })?;
    if let Some(k) = key {
        insert_key(tx, k).await?;
    }
    insert_audit(tx, audit).await
}

async fn insert_key(tx: &mut Tx<'_>, k: &ApiKey) -> StoreResult<()> {
    insert!(&mut **tx, "api_key" {
        api_key_id: k.id.0, person_id: k.person_id.0, name: &k.name, token_hash: &k.token_hash,
        scopes: k.scopes.to_string(), created_at: At(k.created_at), revoked_at: k.revoked_at.map(At),
    })?;
    Ok(())
}

async fn put_categories(tx: &mut Tx<'_>, g: &Group) -> StoreResult<()> {
    exec(&mut **tx, "delete from group_category where group_id = $1", (g.id.0,)).await?;
    for c in &g.categories {
        insert!(&mut **tx, "group_category" {
            group_id: g.id.0, category: c.as_str(),
        })?;
    }
    Ok(())
}

async fn owner_count(tx: &mut Tx<'_>, group: GroupId) -> StoreResult<i64> {
    scalar(
        &mut **tx,
        "select count(*) from membership where group_id = $1 and role = 'owner' and status = 'active'",
        (group.0,),
    )
    .await
}

/// Recomputes the group's cached count of active members (inside the changing transaction).
pub(crate) async fn recount_members(tx: &mut Tx<'_>, group: GroupId) -> StoreResult<()> {
    exec(
        &mut **tx,
        "update community_group set member_count =
            (select count(*) from membership where group_id = $1 and status = 'active')
         where group_id = $1",
        (group.0,),
    )
    .await?;
    Ok(())
}

async fn upsert_membership(tx: &mut Tx<'_>, m: &Membership) -> StoreResult<()> {
    insert!(&mut **tx, "membership" {
        group_id: m.group_id.0, person_id: m.person_id.0, role: m.role.as_str(), status: m.status.as_str(),
        created_at: At(m.created_at), updated_at: At(m.updated_at),
    }
    "on conflict (group_id, person_id) do update set role = excluded.role, status = excluded.status,
         updated_at = excluded.updated_at")?;
    Ok(())
}

macro_rules! group_columns {
    () => {
        "group_id, slug, name, summary, description, kind, categories, outcode, latitude, longitude, contact_email, \
         links, visibility, join_policy, guidelines_template, guidelines_text, identifiers, status, version, created_at, \
         updated_at"
    };
}

/// Binds a group's columns as parameters 1–23: `group_columns!()` in order (1–21), then the
/// derived `sort_name` and `search_text` (22–23).
fn bind_group<'q>(
    q: sqlx::query::Query<'q, Db, DbArgs>,
    g: &'q Group,
) -> StoreResult<sqlx::query::Query<'q, Db, DbArgs>> {
    let cats: Vec<&str> = g.categories.iter().map(|c| c.as_str()).collect();
    Ok(q.bind(g.id.0)
        .bind(g.slug.as_str())
        .bind(&g.name)
        .bind(&g.summary)
        .bind(&g.description)
        .bind(g.kind.as_str())
        .bind(cats.join(" "))
        .bind(g.area.as_ref().map(|a| a.outcode.as_str()))
        .bind(g.area.as_ref().map(|a| a.latitude))
        .bind(g.area.as_ref().map(|a| a.longitude))
        .bind(&g.contact_email)
        .bind(Json(&g.links))
        .bind(g.visibility.as_str())
        .bind(g.join_policy.as_str())
        .bind(g.guidelines.template.map(|t| t.as_str()))
        .bind(&g.guidelines.text)
        .bind(Json(&g.identifiers))
        .bind(g.status.as_str())
        .bind(g.version)
        .bind(At(g.created_at))
        .bind(At(g.updated_at))
        .bind(sort_name(g))
        .bind(search_text(g)))
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

    async fn create_person(&self, p: &Person, key: Option<&ApiKey>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_person(&mut tx, p, key, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn persons_by_ids(&self, ids_: &[PersonId]) -> StoreResult<Vec<Person>> {
        let mut b = QueryBuilder::new("select person_id, display_name, created_at from person where person_id");
        d::in_list(&mut b, ids(ids_, |p| p.0));
        let rows = b.build().fetch_all(&self.pool).await.map_err(to_store_error)?;
        rows.iter().map(person_from_row).collect()
    }

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_key(&mut tx, key).await?;
        commit(tx, audit).await
    }

    async fn api_key_by_hash(&self, hash: &[u8]) -> StoreResult<Option<ApiKey>> {
        let row = row_opt(
            &self.pool,
            "select api_key_id, person_id, name, token_hash, scopes, created_at, revoked_at
             from api_key where token_hash = $1",
            (hash,),
        )
        .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn api_keys_of_person(&self, person: PersonId) -> StoreResult<Vec<ApiKey>> {
        let rows = rows(
            &self.pool,
            "select api_key_id, person_id, name, token_hash, scopes, created_at, revoked_at
             from api_key where person_id = $1 order by api_key_id",
            (person.0,),
        )
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, person: PersonId, key: ApiKeyId, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        exec(
            &mut *tx,
            "update api_key set revoked_at = $3 where api_key_id = $1 and person_id = $2 and revoked_at is null",
            (key.0, person.0, At(audit.at)),
        )
        .await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }

    async fn count_operator_keys(&self) -> StoreResult<i64> {
        scalar(&self.pool, OPERATOR_KEYS, ()).await
    }

    async fn bootstrap_operator(&self, p: &Person, key: &ApiKey, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        d::serialise(&mut tx, d::Lock::Bootstrap).await?;
        let existing: i64 = scalar(&mut *tx, OPERATOR_KEYS, ()).await?;
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
            insert!(&mut *tx, "idempotency_key" {
                scope: &r.scope, key: &r.key, request_hash: &r.request_hash, resource_id: &r.resource_id,
                created_at: At(r.created_at),
            })?;
        }
        bind_group(
            sqlx::query(concat!(
                "insert into community_group (",
                group_columns!(),
                ", sort_name, search_text) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
            )),
            g,
        )?
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        put_categories(&mut tx, g).await?;
        upsert_membership(&mut tx, owner).await?;
        recount_members(&mut tx, g.id).await?;
        commit(tx, audit).await
    }

    async fn group_by_id(&self, id: GroupId) -> StoreResult<Option<Group>> {
        let row = row_opt(
            &self.pool,
            concat!("select ", group_columns!(), ", member_count from community_group where group_id = $1"),
            (id.0,),
        )
        .await?;
        row.as_ref().map(group_from_row).transpose()
    }

    async fn group_by_slug(&self, slug: &str) -> StoreResult<Option<Group>> {
        let row = row_opt(
            &self.pool,
            concat!("select ", group_columns!(), ", member_count from community_group where slug = $1"),
            (slug,),
        )
        .await?;
        row.as_ref().map(group_from_row).transpose()
    }

    async fn groups_by_ids(&self, ids_: &[GroupId]) -> StoreResult<Vec<Group>> {
        let mut b = QueryBuilder::new(concat!(
            "select ",
            group_columns!(),
            ", member_count from community_group where group_id"
        ));
        d::in_list(&mut b, ids(ids_, |g| g.0));
        let rows = b.build().fetch_all(&self.pool).await.map_err(to_store_error)?;
        rows.iter().map(group_from_row).collect()
    }

    async fn list_groups(&self, q: &GroupQuery) -> StoreResult<Vec<Group>> {
        let mut b: QueryBuilder<Db> = QueryBuilder::new(concat!(
            "select ",
            group_columns!(),
            ", member_count from community_group g where g.status = 'active'"
        ));
        if !q.all_visibilities {
            push_visible(&mut b, "g.group_id", q.viewer);
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
        if let Some((name, id)) = &q.after {
            b.push(" and (g.sort_name, g.group_id) > (").push_bind(name.clone()).push(", ").push_bind(id.0).push(")");
        }
        b.push(" order by g.sort_name, g.group_id limit ").push_bind(i64::from(q.limit));
        let rows = b.build().fetch_all(&self.pool).await.map_err(to_store_error)?;
        rows.iter().map(group_from_row).collect()
    }

    async fn update_group(&self, g: &Group, expected_version: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Parameters 1–23 as bind_group orders them; the slug and creation time never change, so
        // they are matched rather than set.
        let done = bind_group(
            sqlx::query(
                "update community_group set name = $3, summary = $4, description = $5, kind = $6, categories = $7, outcode = $8, latitude = $9, longitude = $10, contact_email = $11, links = $12, visibility = $13, join_policy = $14, guidelines_template = $15, guidelines_text = $16, identifiers = $17, status = $18, version = $19, updated_at = $21, sort_name = $22, search_text = $23
                 where group_id = $1 and slug = $2 and created_at = $20 and version = $24",
            ),
            g,
        )?
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                scalar_opt(&mut *tx, "select version from community_group where group_id = $1", (g.id.0,)).await?;
            return Err(if exists.is_some() { StoreError::VersionMismatch } else { StoreError::NotFound });
        }
        put_categories(&mut tx, g).await?;
        events::republish_group(&mut tx, g.id, g.updated_at).await?;
        commit(tx, audit).await
    }

    async fn membership(&self, group: GroupId, person: PersonId) -> StoreResult<Option<Membership>> {
        let row = row_opt(
            &self.pool,
            "select group_id, person_id, role, status, created_at, updated_at from membership
             where group_id = $1 and person_id = $2",
            (group.0, person.0),
        )
        .await?;
        row.as_ref().map(membership_from_row).transpose()
    }

    async fn memberships_of_person(&self, person: PersonId, groups: &[GroupId]) -> StoreResult<Vec<Membership>> {
        let mut b = QueryBuilder::new(
            "select group_id, person_id, role, status, created_at, updated_at from membership where person_id = ",
        );
        b.push_bind(person.0).push(" and group_id");
        d::in_list(&mut b, ids(groups, |g| g.0));
        let rows = b.build().fetch_all(&self.pool).await.map_err(to_store_error)?;
        rows.iter().map(membership_from_row).collect()
    }

    async fn list_members(&self, group: GroupId, after: Option<PersonId>, limit: u32) -> StoreResult<Vec<Membership>> {
        let rows = rows(
            &self.pool,
            "select group_id, person_id, role, status, created_at, updated_at from membership
             where group_id = $1 and ($2 is null or person_id > $2) order by person_id limit $3",
            (group.0, after.map(|p| p.0), i64::from(limit)),
        )
        .await?;
        rows.iter().map(membership_from_row).collect()
    }

    async fn change_membership(&self, change: &MembershipChange, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let group = change.group_id();
        // Serialise membership changes per group.
        let locked: Option<Uuid> = scalar_opt(
            &mut *tx,
            concat!("select group_id from community_group where group_id = $1", for_update!()),
            (group.0,),
        )
        .await?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        match change {
            MembershipChange::Put(m) => upsert_membership(&mut tx, m).await?,
            MembershipChange::Remove { group_id, person_id } => {
                exec(
                    &mut *tx,
                    "delete from membership where group_id = $1 and person_id = $2",
                    (group_id.0, person_id.0),
                )
                .await?.changed_or(StoreError::NotFound)?;
            }
        }
        if owner_count(&mut tx, group).await? == 0 {
            return Err(StoreError::LastOwner);
        }
        recount_members(&mut tx, group).await?;
        commit(tx, audit).await
    }

    async fn idempotency_record(&self, scope: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let row = row_opt(&self.pool, "select scope, key, request_hash, resource_id, created_at from idempotency_key where scope = $1 and key = $2", (scope, key)).await?;
        row.as_ref()
            .map(|r| {
                Ok(row!(r => IdempotencyRecord {
                    scope, key, request_hash, resource_id, created_at: at
                }))
            })
            .transpose()
    }

    async fn list_audit(&self, before: Option<AuditId>, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let rows = rows(
            &self.pool,
            "select audit_id, occurred_at, actor_person_id, action, target_type, target_id, detail from audit_entry
             where ($1 is null or audit_id < $1) order by audit_id desc limit $2",
            (before.map(|a| a.0), i64::from(limit)),
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(row!(r => AuditEntry {
                    id = AuditId(get(r, "audit_id")?), at as "occurred_at": at,
                    actor = get::<Option<Uuid>>(r, "actor_person_id")?.map(PersonId), action, target_type, target_id,
                    detail: json
                }))
            })
            .collect()
    }
}
