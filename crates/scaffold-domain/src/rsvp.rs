//! Replies to one occurrence of an event: going (with a party size), maybe, or declined. Going
//! replies take seats while the event's capacity lasts and join a first-come waitlist after; when
//! seats free up, the waitlist is promoted in order. The allocation is a pure function here; the
//! store runs it inside one locked transaction per occurrence, so concurrent replies cannot
//! overbook.

use crate::group::wire_enum;
use crate::{EventId, PersonId};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest party one reply may bring.
pub const MAX_PARTY: u8 = 10;

wire_enum!(
    /// What the person said.
    RsvpResponse {
        Going = "going",
        Maybe = "maybe",
        Declined = "declined",
    }
);

wire_enum!(
    /// What the reply holds: seats, a waitlist place, or nothing.
    RsvpState {
        Confirmed = "confirmed",
        Waitlisted = "waitlisted",
        NotAttending = "not-attending",
    }
);

/// A person's reply to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rsvp {
    pub event_id: EventId,
    /// The occurrence's series local start.
    pub occurrence: NaiveDateTime,
    pub person_id: PersonId,
    pub response: RsvpResponse,
    pub party_size: u8,
    pub state: RsvpState,
    /// When the reply joined the waitlist (its place in the queue).
    pub waitlisted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Set by the person's reply to the whole series (and withdrawn when they undo it), not by a
    /// reply to this date.
    pub from_series: bool,
}

/// A person's standing reply to every upcoming date of an event. It is applied as an ordinary
/// reply to each date (places and the waiting list are per date), including dates that come into
/// the listing later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRsvp {
    pub event_id: EventId,
    pub person_id: PersonId,
    pub response: RsvpResponse,
    pub party_size: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn seats(rs: &[Rsvp]) -> u32 {
    rs.iter().filter(|r| r.state == RsvpState::Confirmed).map(|r| u32::from(r.party_size)).sum()
}

/// Applies `change` (a person's new reply) to the occurrence's `current` replies, with
/// `capacity` seats (`None`: unlimited). Returns the rows that changed: the reply itself and any
/// waitlisted replies promoted because seats freed up, first come first served (the queue stops
/// at the first party that does not fit, so nobody is overtaken).
pub fn allocate(capacity: Option<u32>, current: &[Rsvp], mut change: Rsvp, now: DateTime<Utc>) -> Vec<Rsvp> {
    let before = current.iter().find(|r| r.person_id == change.person_id);
    let mut others: Vec<Rsvp> = current.iter().filter(|r| r.person_id != change.person_id).cloned().collect();
    let taken = seats(&others);
    let fits = |party: u8, taken: u32| capacity.is_none_or(|c| taken + u32::from(party) <= c);
    change.state = match change.response {
        RsvpResponse::Going => {
            let was_confirmed = before.is_some_and(|b| b.state == RsvpState::Confirmed);
            let queue_ahead = others.iter().any(|r| r.state == RsvpState::Waitlisted);
            // A confirmed reply keeps its seats if its party still fits; a new one must not jump
            // a waitlist.
            if fits(change.party_size, taken) && (was_confirmed || !queue_ahead) {
                RsvpState::Confirmed
            } else {
                RsvpState::Waitlisted
            }
        }
        RsvpResponse::Maybe | RsvpResponse::Declined => RsvpState::NotAttending,
    };
    change.waitlisted_at = match change.state {
        RsvpState::Waitlisted => before.and_then(|b| b.waitlisted_at).or(Some(now)),
        _ => None,
    };
    if change.state == RsvpState::Confirmed && before.is_none_or(|b| b.state != RsvpState::Confirmed) {
        change.checked_in_at = None;
    }
    others.push(change.clone());
    let promoted = promote(capacity, &others, now);
    let mut changed = vec![change];
    for p in promoted {
        match changed.first_mut() {
            Some(mine) if mine.person_id == p.person_id => *mine = p,
            _ => changed.push(p),
        }
    }
    changed
}

/// Promotes waitlisted replies, in queue order, into the places `capacity` leaves free (after a
/// decline, or when an organiser raises the capacity). Returns the promoted replies.
pub fn promote(capacity: Option<u32>, current: &[Rsvp], now: DateTime<Utc>) -> Vec<Rsvp> {
    let mut taken = seats(current);
    let mut queue: Vec<&Rsvp> = current.iter().filter(|r| r.state == RsvpState::Waitlisted).collect();
    queue.sort_by_key(|r| (r.waitlisted_at, r.created_at));
    let mut promoted = Vec::new();
    for r in queue {
        if capacity.is_some_and(|c| taken + u32::from(r.party_size) > c) {
            break;
        }
        taken += u32::from(r.party_size);
        promoted.push(Rsvp { state: RsvpState::Confirmed, waitlisted_at: None, updated_at: now, ..r.clone() });
    }
    promoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn reply(n: u8, response: RsvpResponse, party: u8, at: i64) -> Rsvp {
        Rsvp {
            event_id: EventId::new_v7(t(0)),
            occurrence: NaiveDateTime::default(),
            person_id: PersonId(uuid::Uuid::from_u128(u128::from(n))),
            response,
            party_size: party,
            state: RsvpState::NotAttending,
            waitlisted_at: None,
            created_at: t(at),
            updated_at: t(at),
            checked_in_at: None,
            from_series: false,
        }
    }

    fn run(capacity: Option<u32>, replies: Vec<Rsvp>) -> Vec<Rsvp> {
        let mut state: Vec<Rsvp> = Vec::new();
        for (i, r) in replies.into_iter().enumerate() {
            let now = t(i64::try_from(i).unwrap());
            for c in allocate(capacity, &state, r, now) {
                state.retain(|s| s.person_id != c.person_id);
                state.push(c);
            }
        }
        state.sort_by_key(|r| r.person_id);
        state
    }

    #[test]
    fn going_replies_fill_seats_then_wait_in_order_and_are_promoted() {
        let g = RsvpResponse::Going;
        let s = run(Some(4), vec![reply(1, g, 2, 0), reply(2, g, 2, 1), reply(3, g, 1, 2), reply(4, g, 1, 3)]);
        let states: Vec<RsvpState> = s.iter().map(|r| r.state).collect();
        assert_eq!(states, [RsvpState::Confirmed, RsvpState::Confirmed, RsvpState::Waitlisted, RsvpState::Waitlisted]);
        // Person 1 declines: two seats free, both waiting replies are promoted in order.
        let s = run(
            Some(4),
            vec![
                reply(1, g, 2, 0),
                reply(2, g, 2, 1),
                reply(3, g, 1, 2),
                reply(4, g, 1, 3),
                reply(1, RsvpResponse::Declined, 1, 4),
            ],
        );
        let states: Vec<RsvpState> = s.iter().map(|r| r.state).collect();
        assert_eq!(states, [RsvpState::NotAttending, RsvpState::Confirmed, RsvpState::Confirmed, RsvpState::Confirmed]);
    }

    #[test]
    fn raising_the_capacity_promotes_the_queue() {
        let g = RsvpResponse::Going;
        let s = run(Some(1), vec![reply(1, g, 1, 0), reply(2, g, 1, 1), reply(3, g, 2, 2)]);
        let promoted = promote(Some(3), &s, t(10));
        assert_eq!(
            promoted.iter().map(|r| r.person_id).collect::<Vec<_>>(),
            [s[1].person_id],
            "the pair does not fit yet"
        );
        assert_eq!(promote(None, &s, t(10)).len(), 2);
    }

    #[test]
    fn nobody_overtakes_the_queue() {
        let g = RsvpResponse::Going;
        // 3 seats: a party of 3, then a party of 2 waits, then a single must wait behind it.
        let s = run(Some(3), vec![reply(1, g, 3, 0), reply(2, g, 2, 1), reply(3, g, 1, 2)]);
        assert_eq!(s[2].state, RsvpState::Waitlisted);
        // One seat frees (party 3 → 2): the party of 2 at the head does not fit, so nobody moves.
        let s = run(Some(3), vec![reply(1, g, 3, 0), reply(2, g, 2, 1), reply(3, g, 1, 2), reply(1, g, 2, 3)]);
        assert_eq!((s[1].state, s[2].state), (RsvpState::Waitlisted, RsvpState::Waitlisted));
        let unlimited = run(None, vec![reply(1, g, 10, 0), reply(2, g, 10, 1)]);
        assert!(unlimited.iter().all(|r| r.state == RsvpState::Confirmed));
    }
}
