//! Finding upcoming occurrences by area, dates, category, accessibility, group and words. The
//! store narrows by the listing indexes (dates, a latitude/longitude box) and the filters; the
//! exact distance is checked here, so a page may be topped up from further candidates.

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

/// Candidates read per store call while filling a page; a page gives up after this many calls
/// and returns what it has with a cursor to go on from.
const BATCHES_PER_PAGE: usize = 5;

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
        mut after: Option<Position>,
        limit: u32,
    ) -> Result<Page<Found>, DomainError> {
        let limit = limit.clamp(1, 1000);
        let want = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        for _ in 0..BATCHES_PER_PAGE {
            let query = OccurrenceQuery {
                from: search.from,
                to: search.to,
                bounds: search.area.map(|a| a.bounds()),
                group,
                category: search.category.map(|c| c.as_str().to_owned()),
                feature: search.accessibility.map(|f| f.as_str().to_owned()),
                words: search.words.clone(),
                viewer,
                after,
                limit: limit + 1,
            };
            let batch = self.store.search_occurrences(&query).await.map_err(store_error)?;
            let exhausted = batch.len() <= want;
            for (event, occurrence) in batch {
                after = Some((occurrence.start, event.id, occurrence.local_start));
                let distance_km = match (search.area, occurrence.latitude, occurrence.longitude) {
                    (Some(area), Some(lat), Some(lon)) => {
                        let d = area.distance_km(lat, lon);
                        if d > area.radius_km {
                            continue;
                        }
                        Some(d)
                    }
                    _ => None,
                };
                if items.len() == want {
                    // One more match than the page holds: there is a next page, from the last one kept.
                    let last: &Found = &items[want - 1];
                    let next = encode(&(last.occurrence.start, last.event.id, last.occurrence.local_start));
                    return Ok(Page { items, next: Some(next) });
                }
                items.push(Found { event, occurrence, distance_km });
            }
            if exhausted {
                return Ok(Page { items, next: None });
            }
        }
        // Many candidates fell outside the circle: stop here and let the caller go on.
        Ok(Page { next: after.as_ref().map(encode), items })
    }
}
