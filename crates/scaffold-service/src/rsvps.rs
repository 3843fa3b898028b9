//! Replies: a person says going (with a party), maybe or declined, to one date or to every
//! upcoming date of a series at once; going replies take seats or join the waitlist, per date
//! (allocated in the domain, inside one locked store transaction); organisers list the replies,
//! export them as CSV and check people in.

use crate::{Service, store_error};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use scaffold_domain::codes;
use scaffold_domain::event::{BookingMode, Event, EventStatus, Occurrence, instant};
use scaffold_domain::person::Person;
use scaffold_domain::rsvp::{MAX_PARTY, Rsvp, RsvpResponse, RsvpState, SeriesRsvp, allocate};
use scaffold_domain::{Actor, DomainError, ErrorKind, EventId, PersonId, Scope};
use scaffold_store::{SeriesChange, StoreError};

/// A reply with the person's display name, for organisers.
#[derive(Debug, Clone)]
pub struct ReplyLine {
    pub rsvp: Rsvp,
    pub display_name: String,
}

/// A reply to the whole series and where it left each upcoming date.
#[derive(Debug, Clone)]
pub struct SeriesReply {
    pub series: SeriesRsvp,
    pub dates: Vec<(Occurrence, Rsvp)>,
}

fn bookable(event: &Event) -> Result<(), DomainError> {
    if let Some(o) = &event.origin {
        return Err(DomainError::conflict(
            codes::IMPORTED_READ_ONLY,
            format!("this event is imported from {}: reply where it comes from", o.source_name),
        ));
    }
    if event.booking == BookingMode::External {
        return Err(DomainError::conflict(
            codes::BOOKING_EXTERNAL,
            "this event is booked elsewhere: see its booking_url",
        ));
    }
    Ok(())
}

/// The party a reply brings: 1 by default, at most [`MAX_PARTY`] and the capacity.
fn party(event: &Event, party_size: Option<u8>) -> Result<u8, DomainError> {
    let party = party_size.unwrap_or(1);
    let limit = event.capacity.map_or(MAX_PARTY, |c| MAX_PARTY.min(u8::try_from(c).unwrap_or(MAX_PARTY)));
    if party == 0 || party > limit {
        return Err(DomainError::invalid_field(
            "/party_size",
            codes::PARTY_SIZE_OUT_OF_RANGE,
            format!("a reply may bring 1 to {limit} people"),
        ));
    }
    Ok(party)
}

fn new_reply(
    event_id: EventId,
    occurrence: NaiveDateTime,
    person_id: PersonId,
    response: RsvpResponse,
    party_size: u8,
    now: DateTime<Utc>,
    from_series: bool,
) -> Rsvp {
    Rsvp {
        event_id,
        occurrence,
        person_id,
        response,
        party_size,
        state: RsvpState::NotAttending,
        waitlisted_at: None,
        created_at: now,
        updated_at: now,
        checked_in_at: None,
        from_series,
    }
}

/// Allocates the person's new reply against the date's current replies, keeping when they
/// first replied and whether they were checked in.
fn reply_to(capacity: Option<u32>, current: &[Rsvp], mut mine: Rsvp, now: DateTime<Utc>) -> Vec<Rsvp> {
    if let Some(before) = current.iter().find(|r| r.person_id == mine.person_id) {
        mine.created_at = before.created_at;
        mine.checked_in_at = before.checked_in_at;
    }
    allocate(capacity, current, mine, now)
}

pub(crate) fn parse_local(s: &str) -> Result<NaiveDateTime, DomainError> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            DomainError::invalid_field(
                "/local_start",
                codes::INVALID_LOCAL_TIME,
                "must be a local time like 2026-04-07T10:00",
            )
        })
}

impl Service {
    /// The occurrence of `event` that its series starts at `local_start`, with its changes.
    async fn occurrence_at(&self, event: &Event, local_start: &str) -> Result<Occurrence, DomainError> {
        let at = parse_local(local_start)?;
        let i = instant(event.timezone, at);
        self.occurrences_of(event, i - Duration::seconds(1), i + Duration::seconds(1))
            .await?
            .into_iter()
            .find(|o| o.local_start == at)
            .ok_or_else(|| {
                DomainError::invalid_field(
                    "/local_start",
                    codes::OCCURRENCE_NOT_IN_SERIES,
                    "the event has no occurrence starting then (check the local time and any excluded dates)",
                )
            })
    }

    /// The caller replies to one occurrence. A reply to one date replaces what the person's
    /// reply to the whole series said for it.
    pub async fn rsvp(
        &self,
        actor: &Actor,
        id: EventId,
        local_start: &str,
        response: RsvpResponse,
        party_size: Option<u8>,
    ) -> Result<Rsvp, DomainError> {
        let person = actor.require(Scope::RsvpWrite)?;
        let event = self.event(actor, id).await?;
        let occurrence = self.occurrence_at(&event, local_start).await?;
        let now = self.clock.now();
        bookable(&event)?;
        if occurrence.status != EventStatus::Scheduled {
            return Err(DomainError::conflict(
                codes::OCCURRENCE_NOT_SCHEDULED,
                format!("that occurrence is {}", occurrence.status.as_str()),
            ));
        }
        if occurrence.start <= now {
            return Err(DomainError::conflict(codes::OCCURRENCE_PAST, "that occurrence has already started"));
        }
        let party = party(&event, party_size)?;
        let reply = new_reply(id, occurrence.local_start, person, response, party, now, false);
        let capacity = event.capacity;
        let decide =
            move |_: NaiveDateTime, current: &[Rsvp], _: &[SeriesRsvp]| reply_to(capacity, current, reply.clone(), now);
        let audit = self.audit(
            Some(person),
            "rsvp.set",
            "event",
            id,
            serde_json::json!({ "occurrence": local_start, "response": response.as_str(), "party_size": party }),
        );
        let changed = self
            .store
            .change_rsvps(id, &[occurrence.local_start], SeriesChange::Keep, &decide, &audit)
            .await
            .map_err(store_error)?;
        changed
            .into_iter()
            .find(|r| r.person_id == person)
            .ok_or_else(|| DomainError::internal("the reply was not written"))
    }

    /// The event's scheduled dates that have not started, up to the end of its listing.
    async fn upcoming_dates(&self, event: &Event) -> Result<Vec<Occurrence>, DomainError> {
        let now = self.clock.now();
        let until = now + Duration::days(scaffold_domain::event::LISTING_AHEAD_DAYS);
        let all = self.occurrences_of(event, now, until).await?;
        Ok(all.into_iter().filter(|o| o.status == EventStatus::Scheduled && o.start > now).collect())
    }

    /// The caller replies to every upcoming date of the event at once (and, as the listing moves
    /// on, to dates that come into it). Places and the waiting list stay per date, so the
    /// person may have a place on some dates and wait on others.
    pub async fn rsvp_series(
        &self,
        actor: &Actor,
        id: EventId,
        response: RsvpResponse,
        party_size: Option<u8>,
    ) -> Result<SeriesReply, DomainError> {
        let person = actor.require(Scope::RsvpWrite)?;
        let event = self.event(actor, id).await?;
        bookable(&event)?;
        let party = party(&event, party_size)?;
        let dates = self.upcoming_dates(&event).await?;
        if dates.is_empty() {
            return Err(DomainError::conflict(codes::NO_UPCOMING_DATES, "the event has no upcoming dates"));
        }
        let now = self.clock.now();
        let existing = self.store.series_rsvps_of(id).await.map_err(store_error)?;
        let series = SeriesRsvp {
            event_id: id,
            person_id: person,
            response,
            party_size: party,
            created_at: existing.iter().find(|s| s.person_id == person).map_or(now, |s| s.created_at),
            updated_at: now,
        };
        let capacity = event.capacity;
        // Dates the person replied to one by one keep that reply.
        let decide = move |at: NaiveDateTime, current: &[Rsvp], _: &[SeriesRsvp]| {
            if current.iter().any(|r| r.person_id == person && !r.from_series) {
                return Vec::new();
            }
            reply_to(capacity, current, new_reply(id, at, person, response, party, now, true), now)
        };
        let audit = self.audit(
            Some(person),
            "rsvp.series_set",
            "event",
            id,
            serde_json::json!({ "response": response.as_str(), "party_size": party, "dates": dates.len() }),
        );
        let keys: Vec<NaiveDateTime> = dates.iter().map(|o| o.local_start).collect();
        let written = self
            .store
            .change_rsvps(id, &keys, SeriesChange::Put(&series), &decide, &audit)
            .await
            .map_err(store_error)?;
        let mine: Vec<Rsvp> = written.into_iter().filter(|r| r.person_id == person).collect();
        let dates = dates
            .into_iter()
            .filter_map(|o| mine.iter().find(|r| r.occurrence == o.local_start).map(|r| (o, r.clone())))
            .collect();
        Ok(SeriesReply { series, dates })
    }

    /// Undoes the caller's reply to the whole series: the upcoming dates it replied to are
    /// declined (freeing their places for the waiting list); replies the person gave to single
    /// dates since are left as they are.
    pub async fn undo_series_rsvp(&self, actor: &Actor, id: EventId) -> Result<(), DomainError> {
        let person = actor.require(Scope::RsvpWrite)?;
        let event = self.event(actor, id).await?;
        let keys: Vec<NaiveDateTime> = self.upcoming_dates(&event).await?.iter().map(|o| o.local_start).collect();
        let (capacity, now) = (event.capacity, self.clock.now());
        // The withdrawn replies stay the series' (declined), so that replying to every date again
        // sets them, while dates the person replied to one by one are left alone.
        let decide = move |_: NaiveDateTime, current: &[Rsvp], _: &[SeriesRsvp]| match current
            .iter()
            .find(|r| r.person_id == person && r.from_series && r.response != RsvpResponse::Declined)
        {
            Some(r) => {
                let withdrawn = Rsvp { response: RsvpResponse::Declined, updated_at: now, ..r.clone() };
                allocate(capacity, current, withdrawn, now)
            }
            None => Vec::new(),
        };
        let audit = self.audit(Some(person), "rsvp.series_undo", "event", id, serde_json::json!({}));
        self.store.change_rsvps(id, &keys, SeriesChange::Remove(person), &decide, &audit).await.map_err(
            |e| match e {
                StoreError::NotFound => DomainError::new(
                    ErrorKind::NotFound,
                    codes::SERIES_RSVP_NOT_FOUND,
                    "you have no reply to the whole series of this event",
                ),
                other => store_error(other),
            },
        )?;
        Ok(())
    }

    /// The caller's reply to the event's whole series, if they gave one.
    pub async fn series_rsvp(&self, actor: &Actor, id: EventId) -> Result<Option<SeriesRsvp>, DomainError> {
        let person = actor.require(Scope::RsvpWrite)?;
        let event = self.event(actor, id).await?;
        let all = self.store.series_rsvps_of(event.id).await.map_err(store_error)?;
        Ok(all.into_iter().find(|s| s.person_id == person))
    }

    /// Applies standing replies to the event's upcoming dates that have no reply from their
    /// person yet (dates that came into the listing, or were restored, after the reply).
    pub(crate) async fn apply_series_rsvps(&self, event: &Event) -> Result<(), DomainError> {
        let mut standing = self.store.series_rsvps_of(event.id).await.map_err(store_error)?;
        if standing.is_empty() || event.booking == BookingMode::External {
            return Ok(());
        }
        // Only people who may still see the event: a private group's active members.
        let group = self.store.group_by_id(event.group_id).await.map_err(store_error)?;
        if group.as_ref().is_none_or(|g| g.visibility == scaffold_domain::group::Visibility::Private) {
            let mut members = Vec::new();
            for s in &standing {
                let m = self.store.memberships_of_person(s.person_id, &[event.group_id]).await.map_err(store_error)?;
                if group.is_some() && m.iter().any(scaffold_domain::membership::Membership::is_active) {
                    members.push(s.person_id);
                }
            }
            standing.retain(|s| members.contains(&s.person_id));
            if standing.is_empty() {
                return Ok(());
            }
        }
        let keys: Vec<NaiveDateTime> = self.upcoming_dates(event).await?.iter().map(|o| o.local_start).collect();
        let (capacity, now, id) = (event.capacity, self.clock.now(), event.id);
        // The standing replies as they are under the lock (one undone meanwhile is not applied),
        // of the people who may see the event (checked above, from a read before the lock).
        let allowed: Vec<PersonId> = standing.iter().map(|s| s.person_id).collect();
        let decide = move |at: NaiveDateTime, current: &[Rsvp], locked: &[SeriesRsvp]| {
            let mut working = current.to_vec();
            let mut written: Vec<Rsvp> = Vec::new();
            let due = locked.iter().filter(|s| allowed.contains(&s.person_id));
            for s in due.filter(|s| !current.iter().any(|r| r.person_id == s.person_id)) {
                let reply = new_reply(id, at, s.person_id, s.response, s.party_size, now, true);
                for r in allocate(capacity, &working, reply, now) {
                    for list in [&mut working, &mut written] {
                        match list.iter_mut().find(|w| w.person_id == r.person_id) {
                            Some(w) => *w = r.clone(),
                            None => list.push(r.clone()),
                        }
                    }
                }
            }
            written
        };
        let audit = self.audit(None, "rsvp.series_apply", "event", id, serde_json::json!({}));
        self.store.change_rsvps(id, &keys, SeriesChange::Keep, &decide, &audit).await.map_err(store_error)?;
        Ok(())
    }

    async fn managed_event(&self, actor: &Actor, id: EventId) -> Result<Event, DomainError> {
        let event = self.event(actor, id).await?;
        let access = self.group_access(actor, &crate::groups::GroupRef::Id(event.group_id)).await?;
        access.manage_events("see replies")?;
        Ok(event)
    }

    /// The replies to one occurrence, with names (organisers and owners).
    pub async fn replies(&self, actor: &Actor, id: EventId, local_start: &str) -> Result<Vec<ReplyLine>, DomainError> {
        let event = self.managed_event(actor, id).await?;
        let occurrence = self.occurrence_at(&event, local_start).await?;
        let rsvps = self.store.rsvps_of(id, occurrence.local_start).await.map_err(store_error)?;
        let ids: Vec<PersonId> = rsvps.iter().map(|r| r.person_id).collect();
        let people: Vec<Person> = self.store.persons_by_ids(&ids).await.map_err(store_error)?;
        Ok(rsvps
            .into_iter()
            .map(|r| {
                let display_name =
                    people.iter().find(|p| p.id == r.person_id).map(|p| p.display_name.clone()).unwrap_or_default();
                ReplyLine { rsvp: r, display_name }
            })
            .collect())
    }

    /// Marks a confirmed reply as attended (organisers and owners).
    pub async fn check_in(
        &self,
        actor: &Actor,
        id: EventId,
        local_start: &str,
        person: PersonId,
    ) -> Result<(), DomainError> {
        let event = self.managed_event(actor, id).await?;
        let occurrence = self.occurrence_at(&event, local_start).await?;
        let by = actor.person_id();
        let audit = self.audit(by, "rsvp.check_in", "event", id, serde_json::json!({ "occurrence": local_start }));
        self.store.check_in(id, occurrence.local_start, person, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::NotFound => {
                DomainError::new(ErrorKind::NotFound, codes::RSVP_NOT_FOUND, "that person has no confirmed place")
            }
            other => store_error(other),
        })
    }
}

/// Replies as CSV (RFC 4180), safe to open in a spreadsheet: fields that a spreadsheet would read
/// as a formula are prefixed with an apostrophe.
pub fn replies_csv(lines: &[ReplyLine]) -> String {
    fn field(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
        if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
    }
    let mut out = String::from("person_id,display_name,response,party_size,state,checked_in_at\r\n");
    for l in lines {
        let r = &l.rsvp;
        let row = [
            r.person_id.to_string(),
            l.display_name.clone(),
            r.response.as_str().to_owned(),
            r.party_size.to_string(),
            r.state.as_str().to_owned(),
            r.checked_in_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
