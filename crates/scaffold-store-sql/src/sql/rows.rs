//! Reading rows into domain values: plain columns, times (`At`) and JSON (`Json`).

use super::d::{At, Db, DbRow, to_store_error};
use chrono::{DateTime, Utc};
use super::run::Read;
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::source::Origin;
use scaffold_domain::{AuditId, PersonId, SourceId};
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_store::decode::{self, GroupRow};
use scaffold_store::{ApiKey, IdempotencyRecord, StoreResult};
use uuid::Uuid;
use sqlx::Row;
use sqlx::types::Json;

/// Reads a row into a struct, field by field: `name` reads the column of that name with `get`,
/// `name: at` through another reader (`at`, `at_opt`, `json`, `json_opt`), `name as "col"` another
/// column, and `name = expr` takes the expression as it is.
macro_rules! row {
    ($r:expr => $ty:ident { $( $f:ident $(as $c:literal)? $(: $rd:ident)? $(= $e:expr)? ),* $(,)? }) => {
        $ty { $( $f: row!(@v $r; $f; [$($c)?]; [$($rd)?]; [$($e)?]) ),* }
    };
    (@v $r:expr; $f:ident; []; []; []) => { get($r, stringify!($f))? };
    (@v $r:expr; $f:ident; [$c:literal]; []; []) => { get($r, $c)? };
    (@v $r:expr; $f:ident; []; [$rd:ident]; []) => { $rd($r, stringify!($f))? };
    (@v $r:expr; $f:ident; [$c:literal]; [$rd:ident]; []) => { $rd($r, $c)? };
    (@v $r:expr; $f:ident; []; []; [$e:expr]) => { $e };
}
pub(super) use row;

/// Reads a column (not a time or JSON: see `at` and `json`).
pub(super) fn get<'r, T: sqlx::Decode<'r, Db> + sqlx::Type<Db>>(r: &'r DbRow, c: &str) -> StoreResult<T> {
    r.try_get(c).map_err(to_store_error)
}

/// Reads a time column through `At`, which each dialect stores its own way.
pub(super) fn at(r: &DbRow, c: &str) -> StoreResult<DateTime<Utc>> {
    Ok(get::<At>(r, c)?.0)
}

pub(super) fn at_opt(r: &DbRow, c: &str) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(get::<Option<At>>(r, c)?.map(|t| t.0))
}

/// Reads a JSON column (`jsonb` in PostgreSQL, text in SQLite).
pub(super) fn json<T: serde::de::DeserializeOwned>(r: &DbRow, c: &str) -> StoreResult<T> {
    Ok(get::<Json<T>>(r, c)?.0)
}

pub(super) fn json_opt<T: serde::de::DeserializeOwned>(r: &DbRow, c: &str) -> StoreResult<Option<T>> {
    Ok(get::<Option<Json<T>>>(r, c)?.map(|j| j.0))
}

impl Read for Group {
    fn read(r: &DbRow) -> StoreResult<Self> {
        row!(r => GroupRow {
            group_id, slug, name, summary, description, kind, categories, outcode, latitude, longitude, contact_email,
            links: json, visibility, join_policy, guidelines_template, guidelines_text, identifiers: json,
            member_count, status, version, created_at: at, updated_at: at
        })
        .into_group()
        .and_then(|g| Ok(Group { origin: origin(r)?, ..g }))
    }
}

/// What the origin columns keep besides the source and the time: the source's name, the item's id
/// there and its page there.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct OriginJson {
    name: String,
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// Reads an imported item's origin (`source_id`, `origin`, `origin_seen_at`); `None` for local ones.
pub(super) fn origin(r: &DbRow) -> StoreResult<Option<Origin>> {
    let source: Option<Uuid> = get(r, "source_id")?;
    let (Some(source), Some(o), Some(seen_at)) =
        (source, json_opt::<OriginJson>(r, "origin")?, at_opt(r, "origin_seen_at")?)
    else {
        return Ok(None);
    };
    Ok(Some(Origin { source: SourceId(source), source_name: o.name, key: o.key, url: o.url, seen_at }))
}

/// The origin columns of a group or event, for `values!`.
pub(super) fn origin_columns(o: Option<&Origin>) -> (Option<Uuid>, Option<Json<OriginJson>>, Option<At>) {
    match o {
        None => (None, None, None),
        Some(o) => (
            Some(o.source.0),
            Some(Json(OriginJson { name: o.source_name.clone(), key: o.key.clone(), url: o.url.clone() })),
            Some(At(o.seen_at)),
        ),
    }
}

impl Read for Membership {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let (role, status): (String, String) = (get(r, "role")?, get(r, "status")?);
        let (created, updated) = (at(r, "created_at")?, at(r, "updated_at")?);
        decode::membership(get(r, "group_id")?, get(r, "person_id")?, &role, &status, created, updated)
    }
}

impl Read for ApiKey {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let (id, person, name, hash, scopes): (_, _, _, _, String) =
            (get(r, "api_key_id")?, get(r, "person_id")?, get(r, "name")?, get(r, "token_hash")?, get(r, "scopes")?);
        decode::api_key(id, person, name, hash, &scopes, at(r, "created_at")?, at_opt(r, "revoked_at")?)
    }
}

impl Read for Person {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => Person { id = PersonId(get(r, "person_id")?), display_name, created_at: at }))
    }
}

impl Read for IdempotencyRecord {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => IdempotencyRecord { scope, key, request_hash, resource_id, created_at: at }))
    }
}

impl Read for AuditEntry {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => AuditEntry {
            id = AuditId(get(r, "audit_id")?), at as "occurred_at": at,
            actor = get::<Option<Uuid>>(r, "actor_person_id")?.map(PersonId), action, target_type, target_id,
            detail: json, change = None
        }))
    }
}
