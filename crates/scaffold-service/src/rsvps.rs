//! Replies to single occurrences: a person says going (with a party), maybe or declined; going
//! replies take seats or join the waitlist (allocated in the domain, inside one locked store
//! transaction per occurrence); organisers list the replies, export them as CSV and check people
//! in.

use crate::{Service, store_error};
use chrono::{Duration, NaiveDateTime};
use scaffold_domain::codes;
use scaffold_domain::event::{BookingMode, Event, EventStatus, Occurrence, instant};
use scaffold_domain::person::Person;
use scaffold_domain::rsvp::{MAX_PARTY, Rsvp, RsvpResponse, RsvpState, allocate};
use scaffold_domain::{Actor, DomainError, ErrorKind, EventId, PersonId, Scope};
use scaffold_store::StoreError;

/// A reply with the person's display name, for organisers.
#[derive(Debug, Clone)]
pub struct ReplyLine {
    pub rsvp: Rsvp,
    pub display_name: String,
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

    /// The caller replies to one occurrence.
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
        if event.booking == BookingMode::External {
            return Err(DomainError::conflict(
                codes::BOOKING_EXTERNAL,
                "this event is booked elsewhere: see its booking_url",
            ));
        }
        if occurrence.status != EventStatus::Scheduled {
            return Err(DomainError::conflict(
                codes::OCCURRENCE_NOT_SCHEDULED,
                format!("that occurrence is {}", occurrence.status.as_str()),
            ));
        }
        if occurrence.start <= now {
            return Err(DomainError::conflict(codes::OCCURRENCE_PAST, "that occurrence has already started"));
        }
        let party = party_size.unwrap_or(1);
        let limit = event.capacity.map_or(MAX_PARTY, |c| MAX_PARTY.min(u8::try_from(c).unwrap_or(MAX_PARTY)));
        if party == 0 || party > limit {
            return Err(DomainError::invalid_field(
                "/party_size",
                codes::PARTY_SIZE_OUT_OF_RANGE,
                format!("a reply may bring 1 to {limit} people"),
            ));
        }
        let reply = Rsvp {
            event_id: id,
            occurrence: occurrence.local_start,
            person_id: person,
            response,
            party_size: party,
            state: RsvpState::NotAttending,
            waitlisted_at: None,
            created_at: now,
            updated_at: now,
            checked_in_at: None,
        };
        let capacity = event.capacity;
        let decide = move |current: &[Rsvp]| {
            let mut mine = reply.clone();
            if let Some(before) = current.iter().find(|r| r.person_id == mine.person_id) {
                mine.created_at = before.created_at;
                mine.checked_in_at = before.checked_in_at;
            }
            allocate(capacity, current, mine, now)
        };
        let audit = self.audit(
            Some(person),
            "rsvp.set",
            "event",
            id,
            serde_json::json!({ "occurrence": local_start, "response": response.as_str(), "party_size": party }),
        );
        let changed =
            self.store.change_rsvps(id, occurrence.local_start, &decide, &audit).await.map_err(store_error)?;
        changed
            .into_iter()
            .find(|r| r.person_id == person)
            .ok_or_else(|| DomainError::internal("the reply was not written"))
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
