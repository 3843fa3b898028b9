//! Reading PostgreSQL rows into domain values, and mapping sqlx errors onto `StoreError`.

use scaffold_domain::PersonId;
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_store::decode::{self, GroupRow};
use scaffold_store::{ApiKey, StoreError, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

pub fn to_store_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let name = db.constraint().unwrap_or_default();
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
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(e)),
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Other(Box::new(other)),
    }
}

macro_rules! col {
    ($row:expr, $name:literal) => {
        $row.try_get($name).map_err(to_store_error)?
    };
}

pub fn group_from_row(r: &PgRow) -> StoreResult<Group> {
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
        links: col!(r, "links"),
        visibility: col!(r, "visibility"),
        join_policy: col!(r, "join_policy"),
        guidelines_template: col!(r, "guidelines_template"),
        guidelines_text: col!(r, "guidelines_text"),
        identifiers: col!(r, "identifiers"),
        member_count: col!(r, "member_count"),
        status: col!(r, "status"),
        version: col!(r, "version"),
        created_at: col!(r, "created_at"),
        updated_at: col!(r, "updated_at"),
    }
    .into_group()
}

pub fn membership_from_row(r: &PgRow) -> StoreResult<Membership> {
    let role: String = col!(r, "role");
    let status: String = col!(r, "status");
    decode::membership(
        col!(r, "group_id"),
        col!(r, "person_id"),
        &role,
        &status,
        col!(r, "created_at"),
        col!(r, "updated_at"),
    )
}

pub fn key_from_row(r: &PgRow) -> StoreResult<ApiKey> {
    let scopes: String = col!(r, "scopes");
    decode::api_key(
        col!(r, "api_key_id"),
        col!(r, "person_id"),
        col!(r, "name"),
        col!(r, "token_hash"),
        &scopes,
        col!(r, "created_at"),
        col!(r, "revoked_at"),
    )
}

pub fn person_from_row(r: &PgRow) -> StoreResult<Person> {
    Ok(Person {
        id: PersonId(col!(r, "person_id")),
        display_name: col!(r, "display_name"),
        created_at: col!(r, "created_at"),
    })
}
