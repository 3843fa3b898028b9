//! Reading SQLite rows into domain values, and mapping sqlx errors onto `StoreError`.

use chrono::{DateTime, Utc};
use scaffold_domain::PersonId;
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_store::decode::{self, GroupRow};
use scaffold_store::{ApiKey, StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Stored times are integer microseconds since the Unix epoch.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn micros_opt(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(micros)
}

pub fn time(us: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Other(format!("stored time {us} is out of range").into()))
}

fn time_opt(us: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    us.map(time).transpose()
}

pub fn to_store_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let name = db.message().to_owned();
            let constraint = if name.contains("slug") {
                "slug"
            } else if name.contains("idempotency") {
                "idempotency_key"
            } else if name.contains("token_hash") {
                "token_hash"
            } else if name.contains("identity") {
                "identity"
            } else if name.contains("client_id") {
                "client_id"
            } else if name.contains("signing_key") {
                "signing_key"
            } else if name.contains("status") {
                "attestation_status"
            } else {
                "unique"
            };
            StoreError::Conflict { constraint }
        }
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| matches!(c.as_ref(), "5" | "6" | "261" | "262" | "517")) =>
        {
            StoreError::Unavailable(Box::new(sqlx::Error::Database(db)))
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(e))
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Other(Box::new(other)),
    }
}

macro_rules! col {
    ($row:expr, $name:literal) => {
        $row.try_get($name).map_err(to_store_error)?
    };
}

pub fn group_from_row(r: &SqliteRow) -> StoreResult<Group> {
    GroupRow {
        group_id: col!(r, "group_id"),
        slug: col!(r, "slug"),
        name: col!(r, "name"),
        summary: col!(r, "summary"),
        description: col!(r, "description"),
        kind: col!(r, "kind"),
        categories: col!(r, "categories"),
        outcode: col!(r, "outcode"),
        latitude: col!(r, "latitude"),
        longitude: col!(r, "longitude"),
        contact_email: col!(r, "contact_email"),
        links: serde_json::from_str::<serde_json::Value>(col!(r, "links"))
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        visibility: col!(r, "visibility"),
        join_policy: col!(r, "join_policy"),
        guidelines_template: col!(r, "guidelines_template"),
        guidelines_text: col!(r, "guidelines_text"),
        identifiers: serde_json::from_str::<serde_json::Value>(col!(r, "identifiers"))
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        member_count: col!(r, "member_count"),
        status: col!(r, "status"),
        version: col!(r, "version"),
        created_at: time(col!(r, "created_at"))?,
        updated_at: time(col!(r, "updated_at"))?,
    }
    .into_group()
}

pub fn membership_from_row(r: &SqliteRow) -> StoreResult<Membership> {
    let role: String = col!(r, "role");
    let status: String = col!(r, "status");
    decode::membership(
        col!(r, "group_id"),
        col!(r, "person_id"),
        &role,
        &status,
        time(col!(r, "created_at"))?,
        time(col!(r, "updated_at"))?,
    )
}

pub fn key_from_row(r: &SqliteRow) -> StoreResult<ApiKey> {
    let scopes: String = col!(r, "scopes");
    decode::api_key(
        col!(r, "api_key_id"),
        col!(r, "person_id"),
        col!(r, "name"),
        col!(r, "token_hash"),
        &scopes,
        time(col!(r, "created_at"))?,
        time_opt(col!(r, "revoked_at"))?,
    )
}

pub fn person_from_row(r: &SqliteRow) -> StoreResult<Person> {
    Ok(Person {
        id: PersonId(col!(r, "person_id")),
        display_name: col!(r, "display_name"),
        created_at: time(col!(r, "created_at"))?,
    })
}
