//! Finding upcoming occurrences by area, dates, category, accessibility, group and words. The
//! store answers a page in one statement, the exact circle included (`scaffold_store::area`);
//! the distance shown is worked out here.

use crate::groups::GroupRef;
use crate::{Page, Service, store_error};
use chrono::{DateTime, NaiveDateTime, Utc};
use scaffold_domain::event::{Event, ListedOccurrence};
use scaffold_domain::event_search::{Search, SearchDraft};
use scaffold_domain::{Actor, DomainError, EventId, Scope};
use scaffold_store::{Cursor, OccurrenceQuery};

/// One occurrence found, with its event and, for an area search, its distance.
#[derive(Debug, Clone)]
pub struct Found {
    pub event: Event,
    pub occurrence: ListedOccurrence,
    pub distance_km: Option<f64>,
}

type Position = (DateTime<Utc>, EventId, NaiveDateTime);

impl Found {
    /// The cursor that continues a search after this occurrence.
    pub fn cursor(&self) -> String {
        encode(&(self.occurrence.start, self.event.id, self.occurrence.local_start))
    }
}

fn encode(p: &Position) -> String {
    Cursor::encode(&(p.0.timestamp_micros(), p.1.to_string(), p.2.format("%Y-%m-%dT%H:%M:%S").to_string())).0
}

fn decode(c: &str) -> Result<Position, DomainError> {
    let (micros, id, local) = Cursor::decode::<(i64, String, String)>(c).ok_or_else(crate::audit::bad_cursor)?;
    Ok((
        DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(crate::audit::bad_cursor)?,
        EventId::parse(&id).ok_or_else(crate::audit::bad_cursor)?,
        NaiveDateTime::parse_from_str(&local, "%Y-%m-%dT%H:%M:%S").map_err(|_| crate::audit::bad_cursor())?,
    ))
}

impl Service {
    /// Upcoming occurrences matching the search, by start: public groups' events, and those of
    /// groups the caller is an active member of (with `events:read`).
    pub async fn search_events(
        &self,
        actor: &Actor,
        draft: &SearchDraft,
        group: Option<&GroupRef>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Found>, DomainError> {
        let search = draft.validate(self.clock.now())?;
        let group = match group {
            Some(g) => Some(self.visible_group(actor, g).await?.0.id),
            None => None,
        };
        let viewer = actor.reader(Scope::EventsRead);
        self.find(&search, group, viewer, after.map(decode).transpose()?, limit).await
    }

    /// Upcoming occurrences of a group the caller has just read with [`Service::group`] (which
    /// decided they may see it), without reading the group again: a group page's dates.
    pub async fn dates_of_group(
        &self,
        actor: &Actor,
        view: &crate::groups::GroupView,
        draft: &SearchDraft,
        limit: u32,
    ) -> Result<Vec<Found>, DomainError> {
        let search = draft.validate(self.clock.now())?;
        let viewer = actor.reader(Scope::EventsRead);
        Ok(self.find(&search, Some(view.group.id), viewer, None, limit).await?.items)
    }

    /// Public occurrences only (calendar feeds of a search), at most `limit`.
    pub async fn public_search(&self, draft: &SearchDraft, limit: u32) -> Result<Vec<Found>, DomainError> {
        let search = draft.validate(self.clock.now())?;
        Ok(self.find(&search, None, None, None, limit).await?.items)
    }

    async fn find(
        &self,
        search: &Search,
        group: Option<scaffold_domain::GroupId>,
        viewer: Option<scaffold_domain::PersonId>,
        after: Option<Position>,
        limit: u32,
    ) -> Result<Page<Found>, DomainError> {
        let limit = limit.clamp(1, 1000);
        let query = OccurrenceQuery {
            from: search.from,
            to: search.to,
            area: search.area,
            group,
            category: search.category.map(|c| c.as_str().to_owned()),
            feature: search.accessibility.map(|f| f.as_str().to_owned()),
            words: search.words.clone(),
            viewer,
            after,
            limit: limit + 1,
        };
        let mut found = self.store.search_occurrences(&query).await.map_err(store_error)?;
        // One more than the page holds: there is a next page, from the last one kept.
        let more = found.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let items: Vec<Found> = found
            .into_iter()
            .map(|(event, occurrence)| {
                let distance_km = search
                    .area
                    .zip(occurrence.latitude.zip(occurrence.longitude))
                    .map(|(area, (lat, lon))| area.distance_km(lat, lon));
                Found { event, occurrence, distance_km }
            })
            .collect();
        let next = if more { items.last().map(Found::cursor) } else { None };
        Ok(Page { items, next })
    }
}
