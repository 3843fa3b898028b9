//! The sources port: sources, what they imported, and peer instances.

use super::d::{At, DbRow, Tx, for_update};
use super::events::{next_change, put_imported_event, remove_event};
use super::rows::{at, get, json};
use super::run::{ChangedOr, Read, Values, all, exec, insert, opt, update, values};
use super::{SqlStore, commit, group_values, insert_audit, put_categories};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::AttestationType;
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::Event;
use scaffold_domain::group::Group;
use scaffold_domain::source::{Peer, Source, SourceKind};
use scaffold_domain::{EventId, GroupId, PeerId, SourceId};
use scaffold_store::decode::corrupt;
use scaffold_store::{ImportRun, SourceStore, StoreError, StoreResult};
use sqlx::types::Json;
use uuid::Uuid;

impl Read for Source {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let kind: String = get(r, "kind")?;
        Ok(Source {
            id: SourceId(get(r, "source_id")?),
            kind: SourceKind::parse(&kind).ok_or_else(|| corrupt("source kind", &kind))?,
            url: get(r, "url")?,
            name: get(r, "name")?,
            peer_id: get::<Option<Uuid>>(r, "peer_id")?.map(PeerId),
            state: json(r, "state")?,
            health: json(r, "health")?,
            next_run_at: at(r, "next_run_at")?,
            created_at: at(r, "created_at")?,
            version: get(r, "version")?,
        })
    }
}

impl Read for Peer {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let types: String = get(r, "trusted_types")?;
        Ok(Peer {
            id: PeerId(get(r, "peer_id")?),
            base_url: get(r, "base_url")?,
            name: get(r, "name")?,
            issuer: get(r, "issuer")?,
            jwks: json(r, "jwks")?,
            trusted_types: types
                .split_whitespace()
                .map(|t| AttestationType::parse(t).ok_or_else(|| corrupt("attestation type", t)))
                .collect::<StoreResult<Vec<_>>>()?,
            created_at: at(r, "created_at")?,
            updated_at: at(r, "updated_at")?,
        })
    }
}

fn source_values(s: &Source) -> Values {
    values! {
        source_id: s.id.0, kind: s.kind.as_str(), url: &s.url, name: &s.name, peer_id: s.peer_id.map(|p| p.0),
        state: Json(&s.state), health: Json(&s.health), next_run_at: At(s.next_run_at), created_at: At(s.created_at),
        version: s.version,
    }
}

/// Inserts or replaces an imported group (the source is its only writer).
async fn put_group(tx: &mut Tx<'_>, g: &Group) -> StoreResult<()> {
    let exists: Option<i64> =
        opt(&mut **tx, concat!("select version from community_group where group_id = $1", for_update!()), (g.id.0,))
            .await?;
    if exists.is_some() {
        update(&mut **tx, "community_group", group_values(g).key("group_id", g.id.0)).await?;
        super::events::republish_group(tx, g.id, g.updated_at).await?;
    } else {
        insert(&mut **tx, "community_group", group_values(g)).await?;
    }
    put_categories(tx, g).await
}

/// Deletes a group a source brought, with its events (announced in the feeds).
async fn remove_group(tx: &mut Tx<'_>, group: GroupId, change: i64, at: DateTime<Utc>) -> StoreResult<()> {
    let events: Vec<Uuid> = all(&mut **tx, "select event_id from event where group_id = $1", (group.0,)).await?;
    for e in events {
        remove_event(tx, EventId(e), change, at).await?;
    }
    exec(&mut **tx, "delete from community_group where group_id = $1", (group.0,)).await?;
    Ok(())
}

/// Deletes a source and everything it brought.
async fn remove_source(tx: &mut Tx<'_>, id: SourceId, at: DateTime<Utc>) -> StoreResult<()> {
    let change = next_change(tx).await?;
    let events: Vec<Uuid> = all(&mut **tx, "select event_id from event where source_id = $1", (id.0,)).await?;
    for e in events {
        remove_event(tx, EventId(e), change, at).await?;
    }
    let groups: Vec<Uuid> = all(&mut **tx, "select group_id from community_group where source_id = $1", (id.0,)).await?;
    for g in groups {
        remove_group(tx, GroupId(g), change, at).await?;
    }
    exec(&mut **tx, "delete from source where source_id = $1", (id.0,)).await?.changed_or(StoreError::NotFound)?;
    Ok(())
}

async fn insert_source(tx: &mut Tx<'_>, s: &Source, groups: &[Group]) -> StoreResult<()> {
    insert(&mut **tx, "source", source_values(s)).await?;
    for g in groups {
        put_group(tx, g).await?;
    }
    Ok(())
}

#[async_trait]
impl SourceStore for SqlStore {
    async fn create_source(&self, source: &Source, groups: &[Group], audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_source(&mut tx, source, groups).await?;
        commit(tx, audit).await
    }

    async fn sources(&self) -> StoreResult<Vec<Source>> {
        all(&self.pool, "select * from source order by created_at, source_id", ()).await
    }

    async fn source_by_id(&self, id: SourceId) -> StoreResult<Option<Source>> {
        opt(&self.pool, "select * from source where source_id = $1", (id.0,)).await
    }

    async fn claim_due_source(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<Option<Source>> {
        let mut tx = self.begin().await?;
        let sql = concat!(
            "select * from source where next_run_at <= $1 order by next_run_at, source_id limit 1",
            for_update!(skip_locked)
        );
        let Some(source): Option<Source> = opt(&mut *tx, sql, (At(now),)).await? else {
            return Ok(None);
        };
        let sql = "update source set next_run_at = $2 where source_id = $1";
        exec(&mut *tx, sql, (source.id.0, At(lease_until))).await?;
        tx.commit().await.map_err(super::d::to_store_error)?;
        Ok(Some(Source { next_run_at: lease_until, ..source }))
    }

    async fn imported_groups(&self, source: SourceId) -> StoreResult<Vec<Group>> {
        all(&self.pool, "select * from community_group where source_id = $1 order by group_id", (source.0,)).await
    }

    async fn imported_events(&self, source: SourceId) -> StoreResult<Vec<Event>> {
        all(&self.pool, "select * from event where source_id = $1 order by event_id", (source.0,)).await
    }

    async fn apply_import(&self, run: &ImportRun, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let v = values! {
            state: Json(&run.state), health: Json(&run.health), next_run_at: At(run.next_run_at),
            version: run.expected_version + 1,
        };
        let v = v.key("source_id", run.source.0).key("version", run.expected_version);
        if update(&mut *tx, "source", v).await?.rows_affected() == 0 {
            let sql = "select version from source where source_id = $1";
            return Err(super::stale_or_missing(&mut tx, sql, run.source.0).await);
        }
        let writes = !(run.groups.is_empty()
            && run.events.is_empty()
            && run.removed_events.is_empty()
            && run.removed_groups.is_empty());
        if writes {
            let change = next_change(&mut tx).await?;
            for g in &run.groups {
                put_group(&mut tx, g).await?;
            }
            for e in &run.removed_events {
                remove_event(&mut tx, *e, change, run.at).await?;
            }
            for e in &run.events {
                put_imported_event(&mut tx, e, change).await?;
            }
            for g in &run.removed_groups {
                remove_group(&mut tx, *g, change, run.at).await?;
            }
        }
        if let Some(seen) = run.all_seen_at {
            for sql in [
                "update event set origin_seen_at = $2 where source_id = $1",
                "update community_group set origin_seen_at = $2 where source_id = $1",
            ] {
                exec(&mut *tx, sql, (run.source.0, At(seen))).await?;
            }
        }
        match audit {
            Some(a) => commit(tx, a).await,
            None => tx.commit().await.map_err(super::d::to_store_error),
        }
    }

    async fn delete_source(&self, id: SourceId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        remove_source(&mut tx, id, at).await?;
        commit(tx, audit).await
    }

    async fn create_peer(
        &self,
        peer: &Peer,
        sources: &[(Source, Vec<Group>)],
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let types: Vec<&str> = peer.trusted_types.iter().map(|t| t.as_str()).collect();
        let v = values! {
            peer_id: peer.id.0, base_url: &peer.base_url, name: &peer.name, issuer: &peer.issuer,
            jwks: Json(&peer.jwks), trusted_types: types.join(" "), created_at: At(peer.created_at),
            updated_at: At(peer.updated_at),
        };
        insert(&mut *tx, "peer", v).await?;
        for (s, groups) in sources {
            insert_source(&mut tx, s, groups).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(super::d::to_store_error)
    }

    async fn peers(&self) -> StoreResult<Vec<Peer>> {
        all(&self.pool, "select * from peer order by created_at, peer_id", ()).await
    }

    async fn set_peer_keys(&self, id: PeerId, jwks: &serde_json::Value, at: DateTime<Utc>) -> StoreResult<()> {
        let sql = "update peer set jwks = $2, updated_at = $3 where peer_id = $1";
        exec(&self.pool, sql, (id.0, Json(jwks), At(at))).await?.changed_or(StoreError::NotFound)?;
        Ok(())
    }

    async fn peer_by_id(&self, id: PeerId) -> StoreResult<Option<Peer>> {
        opt(&self.pool, "select * from peer where peer_id = $1", (id.0,)).await
    }

    async fn delete_peer(&self, id: PeerId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let sources: Vec<Uuid> = all(&mut *tx, "select source_id from source where peer_id = $1", (id.0,)).await?;
        for s in sources {
            remove_source(&mut tx, SourceId(s), at).await?;
        }
        exec(&mut *tx, "delete from peer where peer_id = $1", (id.0,)).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }
}
