//! Events: organisers and owners of a group create and change its events and series; anyone who
//! can see the group can see its events and their occurrences in a bounded window. Authorisation
//! and validation live here and in the domain; storage keeps events, the domain expands series.

use crate::groups::GroupRef;
use crate::{Page, Service, store_error, version_mismatch};
use chrono::{DateTime, Utc};
use scaffold_domain::change::ChangeType;
use scaffold_domain::codes;
use scaffold_domain::event::{Event, EventDraft, EventStatus, Occurrence, OccurrenceOverride, OverrideDraft, instant};
use scaffold_domain::{Actor, DomainError, EventId, GroupId, Scope};
use scaffold_store::{Cursor, StoreError};

/// Feed tombstones are kept this long (RPDE asks for at least 7 days).
pub const TOMBSTONE_DAYS: i64 = 14;

fn event_not_found() -> DomainError {
    EventId::not_found()
}

/// Reads of a series a change to one occurrence may take while the series keeps changing.
const OCCURRENCE_TRIES: usize = 3;

fn busy() -> DomainError {
    DomainError::conflict(codes::EVENT_BUSY, "the event kept changing while this was saved: try again")
}

impl Service {
    /// Loads a visible group for an event change: `events:write`, an organiser or owner (or an
    /// operator), and the group still active.
    async fn group_for_events(&self, actor: &Actor, group: GroupId) -> Result<scaffold_domain::PersonId, DomainError> {
        actor.require(Scope::EventsWrite)?; // 401/403 before anything is looked up
        let access = self.group_access(actor, &GroupRef::Id(group)).await?;
        let person = access.manage_events("manage its events")?;
        access.active()?;
        Ok(person)
    }

    /// Whether the caller may change the group's events (for forms that offer it): `Ok` or the
    /// refusal a change would get.
    pub async fn can_manage_events(&self, actor: &Actor, group: GroupId) -> Result<(), DomainError> {
        self.group_for_events(actor, group).await.map(|_| ())
    }

    pub async fn create_event(
        &self,
        actor: &Actor,
        group: &GroupRef,
        draft: &EventDraft,
    ) -> Result<Event, DomainError> {
        let (g, _) = self.visible_group(actor, group).await?;
        let person = self.group_for_events(actor, g.id).await?;
        let now = self.clock.now();
        let event = draft.validate(EventId::new_v7(now), g.id, now)?;
        let audit = self
            .audit(
                Some(person),
                "event.create",
                "event",
                event.id,
                serde_json::json!({ "group_id": g.id.to_string(), "series": event.recurrence.is_some() }),
            )
            .with_change(self.event_change(ChangeType::EventCreated, &event, vec![]).await?);
        let listing = event.listing(&[], now)?;
        self.store.create_event(&event, &listing, &audit).await.map_err(store_error)?;
        Ok(event)
    }

    /// An event, when the caller can see its group.
    pub async fn event(&self, actor: &Actor, id: EventId) -> Result<Event, DomainError> {
        let event = self.store.event_by_id(id).await.map_err(store_error)?.ok_or_else(event_not_found)?;
        match self.visible_group(actor, &GroupRef::Id(event.group_id)).await {
            Ok(_) => Ok(event),
            Err(e) if e.kind == scaffold_domain::ErrorKind::NotFound => Err(event_not_found()),
            Err(e) => Err(e),
        }
    }

    pub fn event_cursor(e: &Event) -> String {
        Cursor::encode(&(e.start_instant().timestamp_micros(), e.id.to_string())).0
    }

    /// A group's events and series, by first start.
    pub async fn group_events(
        &self,
        actor: &Actor,
        group: &GroupRef,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Event>, DomainError> {
        let (g, _) = self.visible_group(actor, group).await?;
        let after = match after {
            None => None,
            Some(c) => {
                let (micros, id) = Cursor::decode::<(i64, String)>(c).ok_or_else(crate::audit::bad_cursor)?;
                let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(crate::audit::bad_cursor)?;
                Some((at, EventId::parse(&id).ok_or_else(crate::audit::bad_cursor)?))
            }
        };
        let mut items = self.store.events_of_group(g.id, after, limit + 1).await.map_err(store_error)?;
        let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = more.then(|| items.last().map(Self::event_cursor)).flatten();
        Ok(Page { items, next })
    }

    /// The first `per_group` events of each of these groups the caller may see (for loaders).
    pub async fn first_events_of_groups(
        &self,
        actor: &Actor,
        groups: &[GroupId],
        per_group: u32,
    ) -> Result<Vec<Event>, DomainError> {
        let visible: Vec<GroupId> = self.groups_by_ids(actor, groups).await?.iter().map(|g| g.id).collect();
        self.store.first_events_of_groups(&visible, per_group).await.map_err(store_error)
    }

    /// An event and its changed occurrences as the public sees them (calendar feeds carry public
    /// data only, whoever asks).
    pub async fn public_event_calendar(&self, id: EventId) -> Result<(Event, Vec<OccurrenceOverride>), DomainError> {
        let event = self.event(&Actor::anonymous(), id).await?;
        let overrides = self.store.overrides_of(id).await.map_err(store_error)?;
        Ok((event, overrides))
    }

    /// A public group's name and its events (at most 500) with their changed occurrences.
    pub async fn public_group_calendar(
        &self,
        group: &GroupRef,
    ) -> Result<(String, Vec<(Event, Vec<OccurrenceOverride>)>), DomainError> {
        let anonymous = Actor::anonymous();
        let (g, _) = self.visible_group(&anonymous, group).await?;
        let mut out = Vec::new();
        let mut after = None;
        while out.len() < 500 {
            let page = self.store.events_of_group(g.id, after, 100).await.map_err(store_error)?;
            let last = page.last().map(|e| (e.start_instant(), e.id));
            let done = page.len() < 100;
            for e in page {
                let overrides = if e.recurrence.is_some() {
                    self.store.overrides_of(e.id).await.map_err(store_error)?
                } else {
                    Vec::new()
                };
                out.push((e, overrides));
            }
            if done {
                break;
            }
            after = last;
        }
        Ok((g.name, out))
    }

    /// Replaces an event's fields (organisers and owners), checking the version the caller read.
    pub async fn replace_event(
        &self,
        actor: &Actor,
        id: EventId,
        expected_version: Option<i64>,
        draft: &EventDraft,
    ) -> Result<Event, DomainError> {
        let current = self.event(actor, id).await?;
        let person = self.group_for_events(actor, current.group_id).await?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(version_mismatch());
        }
        let now = self.clock.now();
        let mut event = draft.validate(id, current.group_id, now)?;
        if let Some(capacity) = event.capacity {
            let seats = self.store.max_confirmed_seats(id).await.map_err(store_error)?;
            if capacity < seats {
                return Err(DomainError::conflict(
                    codes::CAPACITY_BELOW_ATTENDANCE,
                    format!("{seats} places are already confirmed for an occurrence: capacity cannot go below that"),
                ));
            }
        }
        event.version = current.version + 1;
        event.created_at = current.created_at;
        let fields = crate::changes::event_fields(&current, &event);
        let audit = self
            .audit(Some(person), "event.update", "event", id, serde_json::json!({}))
            .with_change(self.event_change(ChangeType::EventUpdated, &event, fields).await?);
        let overrides = self.store.overrides_of(id).await.map_err(store_error)?;
        let listing = event.listing(&overrides, now)?;
        self.store.update_event(&event, current.version, &listing, &audit).await.map_err(|e| match e {
            StoreError::VersionMismatch => version_mismatch(),
            StoreError::NotFound => event_not_found(),
            other => store_error(other),
        })?;
        let raised = match (current.capacity, event.capacity) {
            (Some(_), None) => true,
            (Some(old), Some(new)) => new > old,
            _ => false,
        };
        if raised {
            self.promote_waitlists(person, &event).await?;
        }
        // New dates of a changed schedule take the standing replies to the series.
        self.apply_series_rsvps(&event).await?;
        Ok(event)
    }

    /// Deletes an event with its replies (organisers and owners); the feeds keep a tombstone.
    pub async fn delete_event(
        &self,
        actor: &Actor,
        id: EventId,
        expected_version: Option<i64>,
    ) -> Result<(), DomainError> {
        let current = self.event(actor, id).await?;
        let person = self.group_for_events(actor, current.group_id).await?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(version_mismatch());
        }
        let audit = self
            .audit(
                Some(person),
                "event.delete",
                "event",
                id,
                serde_json::json!({ "group_id": current.group_id.to_string(), "title": current.title }),
            )
            .with_change(self.event_change(ChangeType::EventDeleted, &current, vec![]).await?);
        self.store.delete_event(id, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::NotFound => event_not_found(),
            other => store_error(other),
        })
    }

    /// The daily listing job: extends the listings of series whose year ahead has moved on (at
    /// most `batch` of them) and purges feed tombstones older than [`TOMBSTONE_DAYS`]. Safe to
    /// run on several replicas at once: a relisting that lost a race to an edit is skipped, and
    /// unchanged occurrences keep their change numbers.
    pub async fn maintain_listings(&self, batch: u32) -> Result<(u64, u64), DomainError> {
        let now = self.clock.now();
        let due = now + chrono::Duration::days(scaffold_domain::event::LISTING_AHEAD_DAYS - 1);
        let mut relisted = 0;
        for event in self.store.events_to_relist(due, batch).await.map_err(store_error)? {
            let overrides = self.store.overrides_of(event.id).await.map_err(store_error)?;
            let listing = event.listing(&overrides, now)?;
            if self.store.relist_event(event.id, event.version, &listing, now).await.map_err(store_error)? {
                relisted += 1;
                self.apply_series_rsvps(&event).await?;
            }
        }
        let purged =
            self.store.purge_tombstones(now - chrono::Duration::days(TOMBSTONE_DAYS)).await.map_err(store_error)?;
        Ok((relisted, purged))
    }

    /// After a capacity rise, promotes every occurrence's waitlist into the new places.
    async fn promote_waitlists(&self, by: scaffold_domain::PersonId, event: &Event) -> Result<(), DomainError> {
        let now = self.clock.now();
        for occurrence in self.store.occurrences_with_waitlist(event.id).await.map_err(store_error)? {
            let capacity = event.capacity;
            let decide = move |_: chrono::NaiveDateTime,
                               current: &[scaffold_domain::rsvp::Rsvp],
                               _: &[scaffold_domain::rsvp::SeriesRsvp]| {
                scaffold_domain::rsvp::promote(capacity, current, now)
            };
            let audit = self.audit(
                Some(by),
                "rsvp.promote",
                "event",
                event.id,
                serde_json::json!({ "occurrence": occurrence.format("%Y-%m-%dT%H:%M").to_string() }),
            );
            let keep = scaffold_store::SeriesChange::Keep;
            let _ =
                self.store.change_rsvps(event.id, &[occurrence], keep, &decide, &audit).await.map_err(store_error)?;
        }
        Ok(())
    }

    /// The occurrences of an event that start in `[from, to)` (at most 366 days), with changes to
    /// single occurrences applied.
    pub async fn occurrences(
        &self,
        actor: &Actor,
        id: EventId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Event, Vec<Occurrence>), DomainError> {
        let event = self.event(actor, id).await?;
        let list = self.occurrences_of(&event, from, to).await?;
        Ok((event, list))
    }

    /// The occurrences of an event the caller already holds (it was read through a visibility
    /// check), with its overrides.
    pub async fn occurrences_of(
        &self,
        event: &Event,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Occurrence>, DomainError> {
        let overrides = if event.recurrence.is_some() {
            self.store.overrides_of(event.id).await.map_err(store_error)?
        } else {
            Vec::new()
        };
        event.occurrences_with(&overrides, from, to)
    }

    /// The changed occurrences of those of these events the caller may see, in one store call
    /// for the changes (for loaders).
    pub async fn overrides_of_events(
        &self,
        actor: &Actor,
        ids: &[EventId],
    ) -> Result<std::collections::HashMap<EventId, Vec<OccurrenceOverride>>, DomainError> {
        let events = self.store.events_by_ids(ids).await.map_err(store_error)?;
        let groups: Vec<GroupId> = events.iter().map(|e| e.group_id).collect();
        let visible: Vec<GroupId> = self.groups_by_ids(actor, &groups).await?.iter().map(|g| g.id).collect();
        let ids: Vec<EventId> = events.iter().filter(|e| visible.contains(&e.group_id)).map(|e| e.id).collect();
        let mut out: std::collections::HashMap<EventId, Vec<OccurrenceOverride>> = std::collections::HashMap::new();
        for (id, o) in self.store.overrides_of_events(&ids).await.map_err(store_error)? {
            out.entry(id).or_default().push(o);
        }
        Ok(out)
    }

    /// Cancels, postpones, moves or relocates one occurrence of a series (organisers and owners).
    /// The listing is made from the series as read; should the series change meanwhile, the
    /// store refuses and the change is made again from a fresh read.
    pub async fn set_occurrence(
        &self,
        actor: &Actor,
        id: EventId,
        local_start: &str,
        draft: &OverrideDraft,
    ) -> Result<OccurrenceOverride, DomainError> {
        for _ in 0..OCCURRENCE_TRIES {
            let event = self.event(actor, id).await?;
            let person = self.group_for_events(actor, event.group_id).await?;
            let change = draft.validate(&event, local_start)?;
            let audit = self.audit(
                Some(person),
                "occurrence.set",
                "event",
                id,
                serde_json::json!({ "local_start": local_start, "status": change.status.as_str(), "moved": change.start.is_some() }),
            )
            .with_change({
                let kind = if change.status == EventStatus::Scheduled {
                    ChangeType::OccurrenceMoved
                } else {
                    ChangeType::OccurrenceCancelled
                };
                let planned = instant(event.timezone, change.local_start);
                let moved = change.start.map(|s| instant(event.timezone, s));
                self.occurrence_change(kind, &event, planned, moved).await?
            });
            let now = self.clock.now();
            let mut overrides = self.store.overrides_of(id).await.map_err(store_error)?;
            overrides.retain(|o| o.local_start != change.local_start);
            overrides.push(change.clone());
            let listing = event.listing(&overrides, now)?;
            match self.store.put_override(id, event.version, &change, now, &listing, &audit).await {
                Ok(()) => return Ok(change),
                Err(StoreError::VersionMismatch) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(busy())
    }

    /// Puts an occurrence back as its series says.
    pub async fn clear_occurrence(&self, actor: &Actor, id: EventId, local_start: &str) -> Result<(), DomainError> {
        for _ in 0..OCCURRENCE_TRIES {
            let event = self.event(actor, id).await?;
            let person = self.group_for_events(actor, event.group_id).await?;
            let at = crate::rsvps::parse_local(local_start)?;
            let audit = self
                .audit(Some(person), "occurrence.clear", "event", id, serde_json::json!({ "local_start": local_start }))
                .with_change(
                    self.occurrence_change(ChangeType::OccurrenceRestored, &event, instant(event.timezone, at), None)
                        .await?,
                );
            let now = self.clock.now();
            let mut overrides = self.store.overrides_of(id).await.map_err(store_error)?;
            overrides.retain(|o| o.local_start != at);
            let listing = event.listing(&overrides, now)?;
            match self.store.delete_override(id, event.version, at, now, &listing, &audit).await {
                // A date put back takes the standing replies to the series.
                Ok(()) => return self.apply_series_rsvps(&event).await,
                Err(StoreError::VersionMismatch) => {}
                Err(StoreError::NotFound) => {
                    return Err(DomainError::not_found(
                        codes::OCCURRENCE_NOT_CHANGED,
                        "that occurrence has no change to remove",
                    ));
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(busy())
    }
}
