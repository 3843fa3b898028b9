//! The events port: events, their listed occurrences and feeds, overrides and RSVPs.

use super::d::{self, At, Db, DbRow, Tx, for_update, to_store_error};
use super::rows::{at, at_opt, get, json, json_opt, row};
use super::run::{ChangedOr, Read, Values, all, all_limited, built, exec, opt, one, update, upsert, values};
use super::{SqlStore, commit, stale_or_missing};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::{Event, ListedOccurrence, Listing, OccurrenceOverride};
use scaffold_domain::rsvp::{Rsvp, RsvpResponse, SeriesRsvp};
use scaffold_domain::{EventId, GroupId, PersonId};
use scaffold_store::decode::{EventRow, OccurrenceRow, OverrideRow, PlaceJson, RsvpRow, corrupt, local_text};
use scaffold_store::{
    EventStore, FeedGroup, OccurrenceQuery, SeriesChange, SeriesFeedItem, SessionFeedItem, StoreError, StoreResult, area,
    like_pattern,
};
use uuid::Uuid;
use sqlx::QueryBuilder;
use sqlx::types::Json;

impl Read for Event {
    fn read(r: &DbRow) -> StoreResult<Self> {
        row!(r => EventRow {
            event_id, group_id, title, start_at: at, timezone, start_local, end_local, all_day, status,
            recurrence_rule, outcode, latitude, longitude, categories, details: json, version, created_at: at,
            updated_at: at, search_text, features, open_active
        })
        .into_event()
        .and_then(|e| Ok(Event { origin: super::rows::origin(r)?, ..e }))
    }
}

/// An event's columns, with its feed change number and how far it is listed.
fn event_values(e: &Event, row: &EventRow, change: i64, listing: &Listing) -> Values {
    let (source_id, origin, origin_seen_at) = super::rows::origin_columns(e.origin.as_ref());
    values! {
        event_id: row.event_id, group_id: row.group_id, title: &row.title, start_at: At(row.start_at),
        timezone: &row.timezone, start_local: &row.start_local, end_local: &row.end_local, all_day: row.all_day,
        status: &row.status, recurrence_rule: &row.recurrence_rule, outcode: &row.outcode, latitude: row.latitude,
        longitude: row.longitude, categories: &row.categories, details: Json(&row.details), version: row.version,
        created_at: At(row.created_at), updated_at: At(row.updated_at), search_text: &row.search_text,
        features: &row.features, open_active: row.open_active, modified: change, listed_until: At(listing.until),
        source_id: source_id, origin: origin, origin_seen_at: origin_seen_at,
    }
}

impl Read for Rsvp {
    fn read(r: &DbRow) -> StoreResult<Self> {
        row!(r => RsvpRow {
            event_id, occurrence, person_id, response, party_size = i64::from(get::<i16>(r, "party_size")?), state,
            waitlisted_at: at_opt, created_at: at, updated_at: at, checked_in_at: at_opt, from_series
        })
        .into_rsvp()
    }
}

impl Read for SeriesRsvp {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let response: String = get(r, "response")?;
        let party: i16 = get(r, "party_size")?;
        Ok(SeriesRsvp {
            event_id: EventId(get(r, "event_id")?),
            person_id: PersonId(get(r, "person_id")?),
            response: RsvpResponse::parse(&response).ok_or_else(|| corrupt("rsvp response", &response))?,
            party_size: u8::try_from(party).map_err(|_| corrupt("party size", &party.to_string()))?,
            created_at: at(r, "created_at")?,
            updated_at: at(r, "updated_at")?,
        })
    }
}

impl Read for (EventId, OccurrenceOverride) {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let o = row!(r => OverrideRow { local_start, status, reason, start_local, end_local, place: json_opt });
        Ok((EventId(get(r, "event_id")?), o.into_override()?))
    }
}

#[async_trait]
impl EventStore for SqlStore {
    async fn create_event(&self, e: &Event, listing: &Listing, audit: &AuditEntry) -> StoreResult<()> {
        let row = EventRow::from_event(e)?;
        let mut tx = self.begin().await?;
        let change = next_change(&mut tx).await?;
        super::run::insert(&mut *tx, "event", event_values(e, &row, change, listing)).await?;
        write_listing(&mut tx, e.id, e.group_id, listing, change, e.updated_at).await?;
        commit(tx, audit).await
    }

    async fn event_by_id(&self, id: EventId) -> StoreResult<Option<Event>> {
        opt(&self.pool, "select * from event where event_id = $1", (id.0,)).await
    }

    async fn events_by_ids(&self, ids: &[EventId]) -> StoreResult<Vec<Event>> {
        let mut b = QueryBuilder::<Db>::new("select * from event where event_id");
        d::in_list(&mut b, ids.iter().map(|e| e.0).collect());
        built(b, &self.pool).await
    }

    async fn events_of_group(
        &self,
        group: GroupId,
        after: Option<(DateTime<Utc>, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        let sql = "select * from event where group_id = $1 and ($2 is null or (start_at, event_id) > ($2, $3))
                   order by start_at, event_id limit {limit}";
        all_limited(&self.pool, sql, limit, (group.0, after.map(|(t, _)| At(t)), after.map(|(_, id)| id.0))).await
    }

    async fn first_events_of_groups(&self, groups: &[GroupId], per_group: u32) -> StoreResult<Vec<Event>> {
        let mut b = QueryBuilder::<Db>::new(
            "select * from (select e.*, row_number() over (partition by group_id order by start_at, event_id) as rn
                            from event e where group_id",
        );
        d::in_list(&mut b, groups.iter().map(|g| g.0).collect());
        b.push(") ranked where rn <= ").push_bind(i64::from(per_group)).push(" order by group_id, start_at, event_id");
        built(b, &self.pool).await
    }

    async fn put_override(
        &self,
        event: EventId,
        expected_version: i64,
        change: &OccurrenceOverride,
        at: DateTime<Utc>,
        listing: &Listing,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let v = values! {
            event_id: event.0, local_start: local_text(&change.local_start), status: change.status.as_str(),
            reason: &change.reason, start_local: change.start.as_ref().map(local_text),
            end_local: change.end.as_ref().map(local_text),
            place: change.place.as_ref().map(|p| Json(PlaceJson::from_place(p))), updated_at: At(at),
        };
        upsert(&mut *tx, "event_override", v, "event_id, local_start").await?;
        touch_event(&mut tx, event, expected_version, at).await?;
        relist(&mut tx, event, listing, at).await?;
        commit(tx, audit).await
    }

    async fn delete_override(
        &self,
        event: EventId,
        expected_version: i64,
        local_start: NaiveDateTime,
        at: DateTime<Utc>,
        listing: &Listing,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let sql = "delete from event_override where event_id = $1 and local_start = $2";
        exec(&mut *tx, sql, (event.0, local_text(&local_start))).await?.changed_or(StoreError::NotFound)?;
        touch_event(&mut tx, event, expected_version, at).await?;
        relist(&mut tx, event, listing, at).await?;
        commit(tx, audit).await
    }

    async fn overrides_of(&self, event: EventId) -> StoreResult<Vec<OccurrenceOverride>> {
        Ok(self.overrides_of_events(&[event]).await?.into_iter().map(|(_, o)| o).collect())
    }

    async fn overrides_of_events(&self, events: &[EventId]) -> StoreResult<Vec<(EventId, OccurrenceOverride)>> {
        let mut b: QueryBuilder<Db> = QueryBuilder::new("select * from event_override where event_id");
        d::in_list(&mut b, events.iter().map(|e| e.0).collect());
        b.push(" order by event_id, local_start");
        built(b, &self.pool).await
    }

    async fn change_rsvps(
        &self,
        event: EventId,
        occurrences: &[NaiveDateTime],
        series: SeriesChange<'_>,
        decide: &(dyn for<'r> Fn(NaiveDateTime, &'r [Rsvp], &'r [SeriesRsvp]) -> Vec<Rsvp> + Send + Sync),
        audit: &AuditEntry,
    ) -> StoreResult<Vec<Rsvp>> {
        let mut tx = self.begin().await?;
        // Serialise changes to an event's replies (places and the waitlist are decided from them).
        exec(&mut *tx, concat!("select 1 from event where event_id = $1", for_update!()), (event.0,)).await?;
        match series {
            SeriesChange::Keep => {}
            SeriesChange::Put(x) => {
                let v = values! {
                    event_id: x.event_id.0, person_id: x.person_id.0, response: x.response.as_str(),
                    party_size: i16::from(x.party_size), created_at: At(x.created_at), updated_at: At(x.updated_at),
                };
                upsert(&mut *tx, "series_rsvp", v, "event_id, person_id").await?;
            }
            SeriesChange::Remove(person) => {
                let sql = "delete from series_rsvp where event_id = $1 and person_id = $2";
                exec(&mut *tx, sql, (event.0, person.0)).await?.changed_or(StoreError::NotFound)?;
            }
        }
        let sql = "select * from series_rsvp where event_id = $1 order by created_at, person_id";
        let standing: Vec<SeriesRsvp> = all(&mut *tx, sql, (event.0,)).await?;
        let mut written = Vec::new();
        for occurrence in occurrences {
            let sql = "select * from rsvp where event_id = $1 and occurrence = $2";
            let current: Vec<Rsvp> = all(&mut *tx, sql, (event.0, local_text(occurrence))).await?;
            for x in decide(*occurrence, &current, &standing) {
                let v = values! {
                    event_id: x.event_id.0, occurrence: local_text(&x.occurrence), person_id: x.person_id.0,
                    response: x.response.as_str(), party_size: i16::from(x.party_size), state: x.state.as_str(),
                    waitlisted_at: x.waitlisted_at.map(At), created_at: At(x.created_at),
                    updated_at: At(x.updated_at), checked_in_at: x.checked_in_at.map(At), from_series: x.from_series,
                };
                upsert(&mut *tx, "rsvp", v, "event_id, occurrence, person_id").await?;
                written.push(x);
            }
        }
        commit(tx, audit).await?;
        Ok(written)
    }

    async fn series_rsvps_of(&self, event: EventId) -> StoreResult<Vec<SeriesRsvp>> {
        let sql = "select * from series_rsvp where event_id = $1 order by created_at, person_id";
        all(&self.pool, sql, (event.0,)).await
    }

    async fn series_rsvps_of_person(&self, person: PersonId) -> StoreResult<Vec<SeriesRsvp>> {
        let sql = "select * from series_rsvp where person_id = $1 order by created_at, event_id";
        all(&self.pool, sql, (person.0,)).await
    }

    async fn rsvps_of_person(&self, person: PersonId, from: NaiveDateTime, limit: u32) -> StoreResult<Vec<Rsvp>> {
        let sql = "select * from rsvp where person_id = $1 and occurrence >= $2 and response <> 'declined'
                   order by occurrence, event_id limit $3";
        all(&self.pool, sql, (person.0, local_text(&from), i64::from(limit))).await
    }

    async fn set_calendar_feed(
        &self,
        person: PersonId,
        token_hash: Option<&[u8]>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let sql = "select count(*) from calendar_feed where person_id = $1";
        let had = one::<_, i64>(&mut *tx, sql, (person.0,)).await? > 0;
        match token_hash {
            // One statement, so that two at once (a double click) both succeed, the later winning.
            Some(hash) => {
                let sql = "insert into calendar_feed (person_id, token_hash, created_at) values ($1, $2, $3)
                           on conflict (person_id) do update set token_hash = excluded.token_hash,
                           created_at = excluded.created_at";
                exec(&mut *tx, sql, (person.0, hash, At(at))).await?;
            }
            None => {
                exec(&mut *tx, "delete from calendar_feed where person_id = $1", (person.0,)).await?;
            }
        }
        commit(tx, audit).await?;
        Ok(had)
    }

    async fn calendar_feed_owner(&self, token_hash: &[u8]) -> StoreResult<Option<PersonId>> {
        let id: Option<uuid::Uuid> =
            opt(&self.pool, "select person_id from calendar_feed where token_hash = $1", (token_hash,)).await?;
        Ok(id.map(PersonId))
    }

    async fn calendar_feed_made(&self, person: PersonId) -> StoreResult<Option<DateTime<Utc>>> {
        let made: Option<At> =
            opt(&self.pool, "select created_at from calendar_feed where person_id = $1", (person.0,)).await?;
        Ok(made.map(|t| t.0))
    }

    async fn rsvps_of(&self, event: EventId, occurrence: NaiveDateTime) -> StoreResult<Vec<Rsvp>> {
        let sql = "select * from rsvp where event_id = $1 and occurrence = $2
                   order by case state when 'confirmed' then 0 when 'waitlisted' then 1 else 2 end,
                            waitlisted_at, created_at, person_id";
        all(&self.pool, sql, (event.0, local_text(&occurrence))).await
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
        let sql = "update rsvp set checked_in_at = $4 where event_id = $1 and occurrence = $2 and person_id = $3
                   and state = 'confirmed'";
        exec(&mut *tx, sql, (event.0, local_text(&occurrence), person.0, At(at))).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }

    async fn occurrences_with_waitlist(&self, event: EventId) -> StoreResult<Vec<NaiveDateTime>> {
        let sql = "select distinct occurrence from rsvp where event_id = $1 and state = 'waitlisted' order by occurrence";
        let rows: Vec<String> = all(&self.pool, sql, (event.0,)).await?;
        rows.iter().map(|s| scaffold_store::decode::local_parse(s)).collect()
    }

    async fn max_confirmed_seats(&self, event: EventId) -> StoreResult<u32> {
        let sql = "select max(seats) from (select sum(party_size) as seats from rsvp
                   where event_id = $1 and state = 'confirmed' group by occurrence) per_occurrence";
        let max: Option<i64> = one(&self.pool, sql, (event.0,)).await?;
        Ok(u32::try_from(max.unwrap_or(0)).unwrap_or(u32::MAX))
    }

    async fn update_event(
        &self,
        e: &Event,
        expected_version: i64,
        listing: &Listing,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let row = EventRow::from_event(e)?;
        let mut tx = self.begin().await?;
        let change = next_change(&mut tx).await?;
        // An event stays in its group: the group is matched, never set.
        let v = event_values(e, &row, change, listing).key("event_id", row.event_id).key("group_id", row.group_id);
        if update(&mut *tx, "event", v.key("version", expected_version)).await?.rows_affected() == 0 {
            return Err(stale_or_missing(&mut tx, "select version from event where event_id = $1", row.event_id).await);
        }
        write_listing(&mut tx, e.id, e.group_id, listing, change, e.updated_at).await?;
        commit(tx, audit).await
    }

    async fn delete_event(&self, event: EventId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let change = next_change(&mut tx).await?;
        remove_event(&mut tx, event, change, at).await?;
        commit(tx, audit).await
    }

    async fn events_to_relist(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Event>> {
        let sql = "select * from event where recurrence_rule is not null and listed_until < $1
                   order by listed_until, event_id limit $2";
        all(&self.pool, sql, (At(before), i64::from(limit))).await
    }

    async fn relist_event(
        &self,
        event: EventId,
        version: i64,
        listing: &Listing,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let current: Option<i64> =
            opt(&mut *tx, concat!("select version from event where event_id = $1", for_update!()), (event.0,))
                .await?;
        if current != Some(version) {
            return Ok(false);
        }
        relist(&mut tx, event, listing, at).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(true)
    }

    async fn purge_tombstones(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let events = exec(&mut *tx, "delete from event_tombstone where deleted_at < $1", (At(before),)).await?;
        let occurrences =
            exec(&mut *tx, "delete from occurrence where deleted and updated_at < $1", (At(before),)).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(events.rows_affected() + occurrences.rows_affected())
    }

    async fn search_occurrences(&self, q: &OccurrenceQuery) -> StoreResult<Vec<(Event, ListedOccurrence)>> {
        let cover = q.area.as_ref().map(area::cover);
        let mut b: QueryBuilder<Db> = QueryBuilder::new("");
        match cover.as_ref().and_then(|c| c.cells.as_ref()) {
            // One ordered index range per cell, each stopping at the page's end, merged by start.
            Some((grid, cells)) if !cells.is_empty() => {
                for (n, cell) in cells.iter().enumerate() {
                    b.push(if n == 0 { "select * from (" } else { " union all select * from (" });
                    push_search(&mut b, q, cover.as_ref(), Some((grid.column(), *cell)));
                    b.push(format_args!(") c{n}"));
                }
                b.push(" order by o_start_at, event_id, o_local_start limit ").push(q.limit);
            }
            _ => push_search(&mut b, q, cover.as_ref(), None),
        }
        built(b, &self.pool).await
    }

    async fn series_feed(&self, after: Option<(i64, EventId)>, limit: u32) -> StoreResult<Vec<SeriesFeedItem>> {
        // The published events and the deleted ones (tombstones, and events no longer published),
        // in one (modified, id) order; each branch uses its own (modified, id) index.
        let sql = "select f.feed_id, f.feed_modified,
                          (g.visibility = 'public' and g.status = 'active' and e.open_active) as published,
                          e.*, g.slug as group_slug, g.name as group_name
                   from (select * from (select event_id as feed_id, modified as feed_modified, true as live from event
                                        where published_ever and ($1 is null or (modified, event_id) > ($1, $2))
                                        order by modified, event_id limit {limit}) live
                         union all
                         select * from (select event_id, modified, false from event_tombstone
                                        where $1 is null or (modified, event_id) > ($1, $2)
                                        order by modified, event_id limit {limit}) gone) f
                   left join event e on f.live and e.event_id = f.feed_id
                   left join community_group g on g.group_id = e.group_id
                   order by f.feed_modified, f.feed_id limit {limit}";
        all_limited(&self.pool, sql, limit, (after.map(|(m, _)| m), after.map(|(_, id)| id.0))).await
    }

    async fn sessions_feed(
        &self,
        after: Option<(i64, EventId, NaiveDateTime)>,
        limit: u32,
    ) -> StoreResult<Vec<SessionFeedItem>> {
        all_limited(
            &self.pool,
            "select o.event_id, o.local_start, o.start_at, o.end_at, o.status, o.reason, o.place, o.latitude,
                    o.longitude, o.modified,
                    (not o.deleted and o.open_active and g.visibility = 'public' and g.status = 'active') as published
             from occurrence o left join community_group g on g.group_id = o.group_id
             where o.published_ever and ($1 is null or (o.modified, o.event_id, o.local_start) > ($1, $2, $3))
             order by o.modified, o.event_id, o.local_start limit {limit}",
            limit,
            (after.map(|(m, _, _)| m), after.map(|(_, id, _)| id.0), after.map(|(_, _, l)| local_text(&l))),
        )
        .await
    }
}

/// One statement of the occurrence search, ordered by start and limited to the page; `cell` reads
/// only that index cell.
fn push_search(b: &mut QueryBuilder<Db>, q: &OccurrenceQuery, cover: Option<&area::Cover>, cell: Option<(&str, i64)>) {
    b.push(
        "select e.*, o.local_start as o_local_start, o.start_at as o_start_at, o.end_at as o_end_at,
                o.status as o_status, o.reason as o_reason, o.place as o_place, o.latitude as o_latitude, o.longitude as o_longitude
         from occurrence o
         join event e on e.event_id = o.event_id
         where not o.deleted and o.status <> 'cancelled'",
    );
    if let Some((column, cell)) = cell {
        b.push(" and ").push(column).push(" = ").push_bind(cell);
    }
    b.push(" and o.start_at >= ").push_bind(At(q.from)).push(" and o.start_at < ").push_bind(At(q.to));
    // The group is checked per row by a subquery, not joined: a join lets PostgreSQL hash the
    // groups and sort what a cell holds (it underestimates how many rows the box keeps), where
    // reading the index in start order stops at the page's end.
    b.push(" and (select g.status = 'active'");
    super::push_visible(b, "o.group_id", q.viewer);
    b.push(" from community_group g where g.group_id = o.group_id)");
    if let Some(c) = cover {
        let (south, north, west, east) = c.bounds;
        // The box is checked in the index; the circle on the rows within it.
        b.push(" and o.latitude between ").push_bind(south).push(" and ").push_bind(north);
        b.push(" and o.longitude between ").push_bind(west).push(" and ").push_bind(east);
        b.push(" and o.unit_x * ").push_bind(c.centre[0]);
        b.push(" + o.unit_y * ").push_bind(c.centre[1]);
        b.push(" + o.unit_z * ").push_bind(c.centre[2]);
        b.push(" >= ").push_bind(c.min_dot);
    }
    if let Some(g) = q.group {
        b.push(" and o.group_id = ").push_bind(g.0);
    }
    if let Some(c) = &q.category {
        b.push(" and ' ' || e.categories || ' ' like ").push_bind(like_pattern(&format!(" {c} "))).push(" escape '\\'");
    }
    if let Some(f) = &q.feature {
        b.push(" and e.features like ").push_bind(like_pattern(&format!(" {f} "))).push(" escape '\\'");
    }
    for w in &q.words {
        b.push(" and e.search_text like ").push_bind(like_pattern(w)).push(" escape '\\'");
    }
    if let Some((start, id, local)) = &q.after {
        b.push(" and (o.start_at, o.event_id, o.local_start) > (")
            .push_bind(At(*start))
            .push(", ")
            .push_bind(id.0)
            .push(", ")
            .push_bind(local_text(local))
            .push(")");
    }
    // The limit is written into the statement, not bound: SQLite plans a bound LIMIT by its value
    // and so prepares the statement again whenever a new value is bound (every execution).
    b.push(" order by o.start_at, o.event_id, o.local_start limit ").push(q.limit);
}

/// Fills the area columns of occurrences placed before they existed (migration 0012), a batch at a
/// time; new occurrences get them when listed.
pub(crate) async fn place_occurrences(store: &SqlStore) -> StoreResult<u64> {
    let mut placed = 0;
    loop {
        let sql = "select event_id, local_start, latitude, longitude from occurrence
                   where unit_x is null and latitude is not null and longitude is not null limit 1000";
        let rows: Vec<(Uuid, String, f64, f64)> = all(&store.pool, sql, ()).await?;
        if rows.is_empty() {
            return Ok(placed);
        }
        let mut tx = store.begin().await?;
        for (event, local, lat, lon) in rows {
            let p = area::placement(lat, lon);
            let sql = "update occurrence set cell_tenth = $3, cell_degree = $4, unit_x = $5, unit_y = $6, unit_z = $7
                       where event_id = $1 and local_start = $2";
            exec(&mut *tx, sql, (event, local, p.cell_tenth, p.cell_degree, p.unit[0], p.unit[1], p.unit[2])).await?;
            placed += 1;
        }
        tx.commit().await.map_err(to_store_error)?;
    }
}

/// A row of the area search: the event's columns, then the occurrence's (`o_…`).
impl Read for (Event, ListedOccurrence) {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let o = row!(r => OccurrenceRow {
            local_start as "o_local_start", start_at as "o_start_at": at, end_at as "o_end_at": at,
            status as "o_status", reason as "o_reason", place as "o_place": json_opt, latitude as "o_latitude",
            longitude as "o_longitude"
        });
        Ok((Event::read(r)?, o.into_listed()?))
    }
}

impl Read for SeriesFeedItem {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let published = get::<Option<bool>>(r, "published")? == Some(true);
        let group = || Ok::<_, StoreError>(FeedGroup { slug: get(r, "group_slug")?, name: get(r, "group_name")? });
        Ok(SeriesFeedItem {
            id: EventId(get(r, "feed_id")?),
            modified: get(r, "feed_modified")?,
            data: if published { Some((Event::read(r)?, group()?)) } else { None },
        })
    }
}

impl Read for SessionFeedItem {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let published = get::<Option<bool>>(r, "published")? == Some(true);
        let listed = row!(r => OccurrenceRow {
            local_start, start_at: at, end_at: at, status, reason, place: json_opt, latitude, longitude
        })
        .into_listed()?;
        Ok(row!(r => SessionFeedItem {
            event_id = EventId(get(r, "event_id")?), local_start = listed.local_start, modified,
            data = published.then_some(listed)
        }))
    }
}

/// Deletes an event with its replies and changes, leaving tombstones for the feeds (under the
/// transaction's change number); `NotFound` when absent.
pub(crate) async fn remove_event(tx: &mut Tx<'_>, event: EventId, change: i64, at: DateTime<Utc>) -> StoreResult<()> {
    let sql = "insert into event_tombstone (event_id, modified, deleted_at)
               select event_id, $2, $3 from event where event_id = $1 and published_ever";
    exec(&mut **tx, sql, (event.0, change, At(at))).await?;
    exec(&mut **tx, "delete from event where event_id = $1", (event.0,)).await?.changed_or(StoreError::NotFound)?;
    let sql = "update occurrence set deleted = true, modified = $2, updated_at = $3 where event_id = $1 and not deleted";
    exec(&mut **tx, sql, (event.0, change, At(at))).await?;
    Ok(())
}

/// Writes an imported event whole: inserted, or replaced whatever its stored version (the source
/// is its only writer), with its changed dates replaced and its listing rewritten.
pub(crate) async fn put_imported_event(
    tx: &mut Tx<'_>,
    ie: &scaffold_store::ImportedEvent,
    change: i64,
) -> StoreResult<()> {
    let e = &ie.event;
    let row = EventRow::from_event(e)?;
    let exists: Option<i64> =
        opt(&mut **tx, concat!("select version from event where event_id = $1", for_update!()), (e.id.0,)).await?;
    let v = event_values(e, &row, change, &ie.listing);
    if exists.is_some() {
        update(&mut **tx, "event", v.key("event_id", row.event_id)).await?;
    } else {
        super::run::insert(&mut **tx, "event", v).await?;
    }
    exec(&mut **tx, "delete from event_override where event_id = $1", (e.id.0,)).await?;
    for o in &ie.overrides {
        let v = values! {
            event_id: e.id.0, local_start: local_text(&o.local_start), status: o.status.as_str(),
            reason: &o.reason, start_local: o.start.as_ref().map(local_text), end_local: o.end.as_ref().map(local_text),
            place: o.place.as_ref().map(|p| Json(PlaceJson::from_place(p))), updated_at: At(e.updated_at),
        };
        super::run::insert(&mut **tx, "event_override", v).await?;
    }
    write_listing(tx, e.id, e.group_id, &ie.listing, change, e.updated_at).await
}

/// Takes the next feed change number. The row lock it takes is held until the transaction ends,
/// so transactions that change feed items commit in the order of their numbers.
pub(crate) async fn next_change(tx: &mut Tx<'_>) -> StoreResult<i64> {
    super::tick_content_clock(tx).await?;
    one(&mut **tx, "update feed_clock set value = value + 1 where id = 1 returning value", ()).await
}

/// Replaces the listing of an event with a fresh change number (overrides and the daily job).
/// A change to one occurrence is a change to its series: the event's version and `updated_at`
/// move on, so that ETags and calendar `SEQUENCE` and `DTSTAMP` tell clients to refresh.
async fn touch_event(tx: &mut Tx<'_>, event: EventId, expected_version: i64, at: DateTime<Utc>) -> StoreResult<()> {
    let sql = "update event set version = version + 1, updated_at = $2 where event_id = $1 and version = $3";
    exec(&mut **tx, sql, (event.0, At(at), expected_version)).await?.changed_or(StoreError::VersionMismatch)?;
    Ok(())
}

async fn relist(tx: &mut Tx<'_>, event: EventId, listing: &Listing, at: DateTime<Utc>) -> StoreResult<()> {
    let group: Option<uuid::Uuid> =
        opt(&mut **tx, "select group_id from event where event_id = $1", (event.0,)).await?;
    let group = group.ok_or(StoreError::NotFound)?;
    let change = next_change(tx).await?;
    exec(&mut **tx, "update event set listed_until = $2 where event_id = $1", (event.0, At(listing.until))).await?;
    write_listing(tx, event, GroupId(group), listing, change, at).await
}

/// Writes an event's listing: occurrences in the window that are no longer there become
/// tombstones; new and changed ones are written with the change number, unchanged ones keep
/// theirs (so the feed only carries real changes).
async fn write_listing(
    tx: &mut Tx<'_>,
    event: EventId,
    group: GroupId,
    listing: &Listing,
    change: i64,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "select local_start from occurrence where event_id = $1 and not deleted and start_at >= $2";
    let listed: Vec<String> = all(&mut **tx, sql, (event.0, At(listing.from))).await?;
    let keep: std::collections::HashSet<String> = listing.items.iter().map(|o| local_text(&o.local_start)).collect();
    for gone in listed.iter().filter(|l| !keep.contains(*l)) {
        let sql = "update occurrence set deleted = true, modified = $3, updated_at = $4
                   where event_id = $1 and local_start = $2";
        exec(&mut **tx, sql, (event.0, gone, change, At(at))).await?;
    }
    // One statement per chunk; 19 parameters a row stays far below either database's limit.
    for chunk in listing.items.chunks(500) {
        let mut b = QueryBuilder::<Db>::new(
            "insert into occurrence (event_id, local_start, group_id, start_at, end_at, status, latitude, longitude,
                                     open_active, deleted, modified, updated_at, reason, place,
                                     cell_tenth, cell_degree, unit_x, unit_y, unit_z) ",
        );
        b.push_values(chunk, |mut row, o| {
            let placed = o.latitude.zip(o.longitude).map(|(lat, lon)| area::placement(lat, lon));
            row.push_bind(event.0)
                .push_bind(local_text(&o.local_start))
                .push_bind(group.0)
                .push_bind(At(o.start))
                .push_bind(At(o.end))
                .push_bind(o.status.as_str())
                .push_bind(o.latitude)
                .push_bind(o.longitude)
                .push_bind(listing.open_active)
                .push_bind(false)
                .push_bind(change)
                .push_bind(At(at))
                .push_bind(o.reason.clone())
                .push_bind(o.place.as_ref().map(|p| Json(PlaceJson::from_place(p))))
                .push_bind(placed.map(|p| p.cell_tenth))
                .push_bind(placed.map(|p| p.cell_degree))
                .push_bind(placed.map(|p| p.unit[0]))
                .push_bind(placed.map(|p| p.unit[1]))
                .push_bind(placed.map(|p| p.unit[2]));
        });
        b.push(
            " on conflict (event_id, local_start) do update set group_id = excluded.group_id,
                 start_at = excluded.start_at, end_at = excluded.end_at, status = excluded.status,
                 reason = excluded.reason, place = excluded.place,
                 latitude = excluded.latitude, longitude = excluded.longitude,
                 cell_tenth = excluded.cell_tenth, cell_degree = excluded.cell_degree,
                 unit_x = excluded.unit_x, unit_y = excluded.unit_y, unit_z = excluded.unit_z,
                 open_active = excluded.open_active,
                 deleted = false, modified = excluded.modified, updated_at = excluded.updated_at
             where occurrence.deleted
                or (occurrence.group_id, occurrence.start_at, occurrence.end_at, occurrence.status, occurrence.reason,
                    occurrence.place, occurrence.latitude, occurrence.longitude, occurrence.unit_x,
                    occurrence.open_active)
                is distinct from (excluded.group_id, excluded.start_at, excluded.end_at, excluded.status,
                    excluded.reason, excluded.place, excluded.latitude, excluded.longitude, excluded.unit_x,
                    excluded.open_active)",
        );
        b.build().execute(&mut **tx).await.map_err(to_store_error)?;
    }
    mark_published(tx, false, event.0).await
}

/// A group's name, visibility or status changed: its events and listed occurrences get a new
/// change number so the feeds carry the change (or their removal).
pub(crate) async fn republish_group(tx: &mut Tx<'_>, group: GroupId, at: DateTime<Utc>) -> StoreResult<()> {
    let has_events: bool =
        one(&mut **tx, "select exists (select 1 from event where group_id = $1)", (group.0,)).await?;
    if !has_events {
        return Ok(());
    }
    let change = next_change(tx).await?;
    exec(&mut **tx, "update event set modified = $2 where group_id = $1", (group.0, change)).await?;
    let sql = "update occurrence set modified = $2, updated_at = $3 where group_id = $1 and not deleted";
    exec(&mut **tx, sql, (group.0, change, At(at))).await?;
    mark_published(tx, true, group.0).await
}

/// Marks the events and listed occurrences (of one event, or of one group) that the feeds now
/// publish as published at least once: only those ever appear in the feeds.
async fn mark_published(tx: &mut Tx<'_>, by_group: bool, id: uuid::Uuid) -> StoreResult<()> {
    // The statements for one key column (`group_id` or `event_id`).
    macro_rules! by {
        ($key:literal) => {
            (
                concat!(
                    "update event set published_ever = true where ", $key, " = $1 and not published_ever
                       and open_active and exists (select 1 from community_group g where g.group_id = event.group_id
                                                   and g.visibility = 'public' and g.status = 'active')"
                ),
                concat!(
                    "update occurrence set published_ever = true where ", $key, " = $1 and not published_ever
                       and not deleted and open_active
                       and exists (select 1 from community_group g where g.group_id = occurrence.group_id
                                   and g.visibility = 'public' and g.status = 'active')"
                ),
            )
        };
    }
    let (events, occurrences) = if by_group { by!("group_id") } else { by!("event_id") };
    for sql in [events, occurrences] {
        exec(&mut **tx, sql, (id,)).await?;
    }
    Ok(())
}
