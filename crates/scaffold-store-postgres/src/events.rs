//! PostgreSQL implementation of the events port.

use crate::rows::to_store_error;
use crate::{PgStore, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::{Event, OccurrenceOverride};
use scaffold_domain::rsvp::Rsvp;
use scaffold_domain::{EventId, GroupId, PersonId};
use scaffold_store::decode::{EventRow, OverrideRow, PlaceJson, RsvpRow, local_text};
use scaffold_store::{EventStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

macro_rules! event_columns {
    () => {
        "event_id, group_id, title, start_at, timezone, start_local, end_local, all_day, status, recurrence_rule,
         outcode, latitude, longitude, categories, details, version, created_at, updated_at"
    };
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(r: &'r PgRow, c: &str) -> StoreResult<T> {
    r.try_get(c).map_err(to_store_error)
}

fn event_from_row(r: &PgRow) -> StoreResult<Event> {
    EventRow {
        event_id: get(r, "event_id")?,
        group_id: get(r, "group_id")?,
        title: get(r, "title")?,
        start_at: get(r, "start_at")?,
        timezone: get(r, "timezone")?,
        start_local: get(r, "start_local")?,
        end_local: get(r, "end_local")?,
        all_day: get(r, "all_day")?,
        status: get(r, "status")?,
        recurrence_rule: get(r, "recurrence_rule")?,
        outcode: get(r, "outcode")?,
        latitude: get(r, "latitude")?,
        longitude: get(r, "longitude")?,
        categories: get(r, "categories")?,
        details: get(r, "details")?,
        version: get(r, "version")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
    }
    .into_event()
}

macro_rules! rsvp_columns {
    () => {
        "event_id, occurrence, person_id, response, party_size, state, waitlisted_at, created_at, updated_at, checked_in_at"
    };
}

/// Binds an event row's columns as `$1`..`$18`, in `event_columns!()` order.
fn bind_event<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    row: &'q EventRow,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(row.event_id)
        .bind(row.group_id)
        .bind(&row.title)
        .bind(row.start_at)
        .bind(&row.timezone)
        .bind(&row.start_local)
        .bind(&row.end_local)
        .bind(row.all_day)
        .bind(&row.status)
        .bind(&row.recurrence_rule)
        .bind(&row.outcode)
        .bind(row.latitude)
        .bind(row.longitude)
        .bind(&row.categories)
        .bind(&row.details)
        .bind(row.version)
        .bind(row.created_at)
        .bind(row.updated_at)
}

fn rsvp_from_row(r: &PgRow) -> StoreResult<Rsvp> {
    RsvpRow {
        event_id: get(r, "event_id")?,
        occurrence: get(r, "occurrence")?,
        person_id: get(r, "person_id")?,
        response: get(r, "response")?,
        party_size: i64::from(get::<i16>(r, "party_size")?),
        state: get(r, "state")?,
        waitlisted_at: get(r, "waitlisted_at")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        checked_in_at: get(r, "checked_in_at")?,
    }
    .into_rsvp()
}

#[async_trait]
impl EventStore for PgStore {
    async fn create_event(&self, e: &Event, audit: &AuditEntry) -> StoreResult<()> {
        let row = EventRow::from_event(e)?;
        let mut tx = self.begin().await?;
        bind_event(
            sqlx::query(concat!(
                "insert into event (",
                event_columns!(),
                ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
            )),
            &row,
        )
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn event_by_id(&self, id: EventId) -> StoreResult<Option<Event>> {
        let row = sqlx::query(concat!("select ", event_columns!(), " from event where event_id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(to_store_error)?;
        row.as_ref().map(event_from_row).transpose()
    }

    async fn events_of_group(
        &self,
        group: GroupId,
        after: Option<(DateTime<Utc>, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(concat!(
            "select ",
            event_columns!(),
            " from event where group_id = $1 and ($2::timestamptz is null or (start_at, event_id) > ($2, $3))
              order by start_at, event_id limit $4"
        ))
        .bind(group.0)
        .bind(after.map(|(t, _)| t))
        .bind(after.map(|(_, id)| id.0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn first_events_of_groups(&self, groups: &[GroupId], per_group: u32) -> StoreResult<Vec<Event>> {
        let ids: Vec<uuid::Uuid> = groups.iter().map(|g| g.0).collect();
        let rows = sqlx::query(concat!(
            "select ",
            event_columns!(),
            " from (select e.*, row_number() over (partition by group_id order by start_at, event_id) as rn
                     from event e where group_id = any($1)) ranked
              where rn <= $2 order by group_id, start_at, event_id"
        ))
        .bind(ids)
        .bind(i64::from(per_group))
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn put_override(
        &self,
        event: EventId,
        change: &OccurrenceOverride,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into event_override (event_id, local_start, status, reason, start_local, end_local, place, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (event_id, local_start) do update set status = excluded.status, reason = excluded.reason,
                 start_local = excluded.start_local, end_local = excluded.end_local, place = excluded.place,
                 updated_at = excluded.updated_at",
        )
        .bind(event.0)
        .bind(local_text(&change.local_start))
        .bind(change.status.as_str())
        .bind(&change.reason)
        .bind(change.start.as_ref().map(local_text))
        .bind(change.end.as_ref().map(local_text))
        .bind(change.place.as_ref().map(PlaceJson::from_place))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn delete_override(&self, event: EventId, local_start: NaiveDateTime, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("delete from event_override where event_id = $1 and local_start = $2")
            .bind(event.0)
            .bind(local_text(&local_start))
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn overrides_of(&self, event: EventId) -> StoreResult<Vec<OccurrenceOverride>> {
        let rows = sqlx::query(
            "select local_start, status, reason, start_local, end_local, place from event_override
             where event_id = $1 order by local_start",
        )
        .bind(event.0)
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter()
            .map(|r| {
                OverrideRow {
                    local_start: get(r, "local_start")?,
                    status: get(r, "status")?,
                    reason: get(r, "reason")?,
                    start_local: get(r, "start_local")?,
                    end_local: get(r, "end_local")?,
                    place: get(r, "place")?,
                }
                .into_override()
            })
            .collect()
    }

    async fn change_rsvps(
        &self,
        event: EventId,
        occurrence: NaiveDateTime,
        decide: &(dyn for<'r> Fn(&'r [Rsvp]) -> Vec<Rsvp> + Send + Sync),
        audit: &AuditEntry,
    ) -> StoreResult<Vec<Rsvp>> {
        let mut tx = self.begin().await?;
        sqlx::query("select 1 from event where event_id = $1 for update")
            .bind(event.0)
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
        let rows =
            sqlx::query(concat!("select ", rsvp_columns!(), " from rsvp where event_id = $1 and occurrence = $2"))
                .bind(event.0)
                .bind(local_text(&occurrence))
                .fetch_all(&mut *tx)
                .await
                .map_err(to_store_error)?;
        let current = rows.iter().map(rsvp_from_row).collect::<StoreResult<Vec<_>>>()?;
        let changed = decide(&current);
        for x in &changed {
            sqlx::query(concat!(
                "insert into rsvp (",
                rsvp_columns!(),
                ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 on conflict (event_id, occurrence, person_id) do update set response = excluded.response,
                     party_size = excluded.party_size, state = excluded.state, waitlisted_at = excluded.waitlisted_at,
                     updated_at = excluded.updated_at, checked_in_at = excluded.checked_in_at"
            ))
            .bind(x.event_id.0)
            .bind(local_text(&x.occurrence))
            .bind(x.person_id.0)
            .bind(x.response.as_str())
            .bind(i16::from(x.party_size))
            .bind(x.state.as_str())
            .bind(x.waitlisted_at)
            .bind(x.created_at)
            .bind(x.updated_at)
            .bind(x.checked_in_at)
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(changed)
    }

    async fn rsvps_of(&self, event: EventId, occurrence: NaiveDateTime) -> StoreResult<Vec<Rsvp>> {
        let rows = sqlx::query(concat!(
            "select ",
            rsvp_columns!(),
            " from rsvp where event_id = $1 and occurrence = $2
              order by case state when 'confirmed' then 0 when 'waitlisted' then 1 else 2 end,
                       waitlisted_at, created_at, person_id"
        ))
        .bind(event.0)
        .bind(local_text(&occurrence))
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(rsvp_from_row).collect()
    }

    async fn check_in(
        &self,
        event: EventId,
        occurrence: NaiveDateTime,
        person: PersonId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update rsvp set checked_in_at = $4 where event_id = $1 and occurrence = $2 and person_id = $3
               and state = 'confirmed'",
        )
        .bind(event.0)
        .bind(local_text(&occurrence))
        .bind(person.0)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn occurrences_with_waitlist(&self, event: EventId) -> StoreResult<Vec<NaiveDateTime>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "select distinct occurrence from rsvp where event_id = $1 and state = 'waitlisted' order by occurrence",
        )
        .bind(event.0)
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(|s| scaffold_store::decode::local_parse(s)).collect()
    }

    async fn max_confirmed_seats(&self, event: EventId) -> StoreResult<u32> {
        let max: Option<i64> = sqlx::query_scalar(
            "select max(seats) from (select sum(party_size) as seats from rsvp
              where event_id = $1 and state = 'confirmed' group by occurrence) per_occurrence",
        )
        .bind(event.0)
        .fetch_one(&self.pool)
        .await
        .map_err(to_store_error)?;
        Ok(u32::try_from(max.unwrap_or(0)).unwrap_or(u32::MAX))
    }

    async fn update_event(&self, e: &Event, expected_version: i64, audit: &AuditEntry) -> StoreResult<()> {
        let row = EventRow::from_event(e)?;
        let mut tx = self.begin().await?;
        let done = bind_event(
            sqlx::query(
                "update event set title = $3, start_at = $4, timezone = $5, start_local = $6,
                    end_local = $7, all_day = $8, status = $9, recurrence_rule = $10, outcode = $11,
                    latitude = $12, longitude = $13, categories = $14, details = $15, version = $16,
                    updated_at = $18
                 where event_id = $1 and group_id = $2 and created_at = $17 and version = $19",
            ),
            &row,
        )
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> = sqlx::query_scalar("select version from event where event_id = $1")
                .bind(row.event_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(to_store_error)?;
            return Err(if exists.is_some() { StoreError::VersionMismatch } else { StoreError::NotFound });
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }
}
