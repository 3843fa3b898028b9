//! Events in GraphQL: the `Event` entity (federation key `id`), its occurrences in a window,
//! `Group.events` (through a loader for first pages), and the create/replace mutations. The same
//! service calls as REST.

use crate::context::{request, service};
use crate::error::{GqlResult, gql};
use crate::groups::GroupObj;
use crate::types::{AccessibilityFeature, Category, RsvpResponse, RsvpState};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use scaffold_domain::EventId;
use scaffold_domain::codes;
use scaffold_domain::event::Event;
use scaffold_domain::event_search::SearchDraft;
use scaffold_service::groups::GroupRef;
use scaffold_shapes::{EventBody, EventInput, OccurrenceBody, OccurrenceChange};

fn event_id(id: &ID) -> GqlResult<EventId> {
    EventId::parse_or_not_found(id.as_str()).map_err(gql)
}

/// An event or series.
#[derive(Debug, Clone)]
pub struct EventObj(pub Event);

#[Object(name = "Event")]
impl EventObj {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The group that runs it.
    async fn group(&self, ctx: &Context<'_>) -> GqlResult<Option<GroupObj>> {
        let g = request(ctx)?.groups.load_one(self.0.group_id).await.map_err(|e| (*e).clone())?;
        Ok(g.map(GroupObj::from_group))
    }
    /// The fields REST's event body has too (one shape, `scaffold_shapes::EventBody`).
    #[graphql(flatten)]
    async fn fields(&self) -> EventBody {
        EventBody::from(self.0.clone())
    }
    /// The replies to one occurrence (organisers and owners).
    async fn replies(&self, ctx: &Context<'_>, local_start: String) -> GqlResult<RepliesObj> {
        let lines = service(ctx)?.replies(&request(ctx)?.actor, self.0.id, &local_start).await.map_err(gql)?;
        let seats = |state: scaffold_domain::rsvp::RsvpState| -> u32 {
            lines.iter().filter(|l| l.rsvp.state == state).map(|l| u32::from(l.rsvp.party_size)).sum()
        };
        let confirmed = seats(scaffold_domain::rsvp::RsvpState::Confirmed);
        let waitlisted = seats(scaffold_domain::rsvp::RsvpState::Waitlisted);
        let items = lines
            .into_iter()
            .map(|l| ReplyObj {
                person_id: ID(l.rsvp.person_id.to_string()),
                display_name: l.display_name,
                response: l.rsvp.response.into(),
                party_size: l.rsvp.party_size,
                state: l.rsvp.state.into(),
                updated_at: l.rsvp.updated_at,
                checked_in_at: l.rsvp.checked_in_at,
            })
            .collect();
        Ok(RepliesObj { items, confirmed, waitlisted })
    }
    /// Occurrences starting in `[from, to)`; the window is at most 366 days. Its cost is one
    /// selection per day of the window (a daily series has that many).
    #[graphql(
        complexity = "usize::try_from((to - from).num_days().clamp(0, 366) + 1).unwrap_or(367) * child_complexity"
    )]
    async fn occurrences(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> GqlResult<Vec<OccurrenceBody>> {
        let overrides = if self.0.recurrence.is_some() {
            request(ctx)?.event_overrides.load_one(self.0.id).await.map_err(|e| (*e).clone())?.unwrap_or_default()
        } else {
            Vec::new()
        };
        let list = self.0.occurrences_with(&overrides, from, to).map_err(gql)?;
        Ok(list.into_iter().map(OccurrenceBody::from).collect())
    }
}

async fn visible_event(ctx: &Context<'_>, id: &ID) -> GqlResult<Option<EventObj>> {
    let Some(id) = EventId::parse(id.as_str()) else { return Ok(None) };
    match service(ctx)?.event(&request(ctx)?.actor, id).await {
        Ok(e) => Ok(Some(EventObj(e))),
        Err(e) if e.code == codes::EVENT_NOT_FOUND => Ok(None),
        Err(e) => Err(gql(e)),
    }
}

/// An occurrence found by `searchEvents`, with its event.
#[derive(SimpleObject, Debug)]
#[graphql(name = "FoundOccurrence")]
pub struct FoundObj {
    pub occurrence: OccurrenceBody,
    pub event: EventObj,
    /// Great-circle distance from the search centre, for area searches.
    pub distance_km: Option<f64>,
}

/// One reply to an occurrence, for its organisers.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Reply")]
pub struct ReplyObj {
    pub person_id: ID,
    pub display_name: String,
    pub response: RsvpResponse,
    pub party_size: u8,
    pub state: RsvpState,
    pub updated_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// The replies to one occurrence: confirmed places first, then the waitlist in order.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Replies")]
pub struct RepliesObj {
    pub items: Vec<ReplyObj>,
    /// Places confirmed (party sizes added up).
    pub confirmed: u32,
    /// Places waiting.
    pub waitlisted: u32,
}

#[derive(Default, Debug)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Upcoming occurrences (not cancelled) of public groups' events and of your groups', by start.
    /// An area is an outward code or lat and lon with a radius (default 5 km, at most 200); dates
    /// default to the next 14 days (at most 92).
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn search_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        outcode: Option<String>,
        lat: Option<f64>,
        lon: Option<f64>,
        radius_km: Option<f64>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        category: Option<Category>,
        accessibility: Option<AccessibilityFeature>,
        #[graphql(desc = "the group's id or slug")] group: Option<String>,
        #[graphql(desc = "words that must all appear in the title, summary, place or activities")] q: Option<String>,
    ) -> GqlResult<Connection<String, FoundObj>> {
        let draft = SearchDraft {
            outcode,
            lat,
            lon,
            radius_km,
            from,
            to,
            category: category.map(Into::into),
            accessibility: accessibility.map(Into::into),
            q,
        };
        let group = group.map(|g| match scaffold_domain::GroupId::parse(&g) {
            Some(id) => GroupRef::Id(id),
            None => GroupRef::Slug(g),
        });
        let limit = crate::context::page_size(first)?;
        let page = service(ctx)?
            .search_events(&request(ctx)?.actor, &draft, group.as_ref(), after.as_deref(), limit)
            .await
            .map_err(gql)?;
        let mut c = Connection::new(after.is_some(), page.next.is_some());
        c.edges.extend(page.items.into_iter().map(|f| {
            let cursor = f.cursor();
            let occurrence = OccurrenceBody::from(f.occurrence.in_series(&f.event));
            Edge::new(cursor, FoundObj { occurrence, event: EventObj(f.event), distance_km: f.distance_km })
        }));
        Ok(c)
    }

    /// An event, when you can see its group.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<EventObj>> {
        visible_event(ctx, &id).await
    }

    #[graphql(entity)]
    async fn find_event_by_id(&self, ctx: &Context<'_>, #[graphql(key)] id: ID) -> GqlResult<Option<EventObj>> {
        visible_event(ctx, &id).await
    }
}

/// Where a reply stands.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Rsvp")]
pub struct RsvpObj {
    pub response: RsvpResponse,
    pub party_size: u8,
    pub state: RsvpState,
    pub updated_at: DateTime<Utc>,
}

/// Where a reply to every upcoming date stands on one date.
#[derive(SimpleObject, Debug)]
pub struct SeriesRsvpDate {
    /// The date's series local start.
    pub local_start: String,
    pub start: DateTime<Utc>,
    pub state: RsvpState,
}

/// A reply to every upcoming date of an event.
#[derive(SimpleObject, Debug)]
pub struct SeriesRsvp {
    pub response: RsvpResponse,
    pub party_size: u8,
    pub updated_at: DateTime<Utc>,
    /// Each upcoming date it was applied to; places and the waiting list are per date.
    pub dates: Vec<SeriesRsvpDate>,
}

#[derive(Default, Debug)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    /// Creates an event or series in a group (organisers and owners; `events:write`).
    async fn create_event(&self, ctx: &Context<'_>, group_id: ID, input: EventInput) -> GqlResult<EventObj> {
        let g = GroupRef::Id(crate::context::parse_group_id(&group_id)?);
        Ok(EventObj(service(ctx)?.create_event(&request(ctx)?.actor, &g, &input.into()).await.map_err(gql)?))
    }

    /// Cancels, postpones, moves or relocates one occurrence of a series, named by its series
    /// local start (`YYYY-MM-DDTHH:MM`).
    async fn set_occurrence(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        local_start: String,
        change: OccurrenceChange,
    ) -> GqlResult<bool> {
        let draft = scaffold_domain::event::OverrideDraft::from(change);
        service(ctx)?
            .set_occurrence(&request(ctx)?.actor, self::event_id(&event_id)?, &local_start, &draft)
            .await
            .map_err(gql)?;
        Ok(true)
    }

    /// Puts an occurrence back as its series says.
    async fn clear_occurrence(&self, ctx: &Context<'_>, event_id: ID, local_start: String) -> GqlResult<bool> {
        service(ctx)?
            .clear_occurrence(&request(ctx)?.actor, self::event_id(&event_id)?, &local_start)
            .await
            .map_err(gql)?;
        Ok(true)
    }

    /// Replies to one occurrence: going (with a party), maybe or declined. Returns where the reply
    /// stands: `confirmed`, `waitlisted` or `not-attending`.
    async fn rsvp(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        local_start: String,
        response: RsvpResponse,
        party_size: Option<u8>,
    ) -> GqlResult<RsvpObj> {
        let r = service(ctx)?
            .rsvp(&request(ctx)?.actor, self::event_id(&event_id)?, &local_start, response.into(), party_size)
            .await
            .map_err(gql)?;
        Ok(RsvpObj {
            response: r.response.into(),
            party_size: r.party_size,
            state: r.state.into(),
            updated_at: r.updated_at,
        })
    }

    /// Replies to every upcoming date of the event at once (and to dates that come into its
    /// listing later). A later reply to one date changes that date only.
    async fn rsvp_series(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        response: RsvpResponse,
        party_size: Option<u8>,
    ) -> GqlResult<SeriesRsvp> {
        let r = service(ctx)?
            .rsvp_series(&request(ctx)?.actor, self::event_id(&event_id)?, response.into(), party_size)
            .await
            .map_err(gql)?;
        Ok(SeriesRsvp {
            response: r.series.response.into(),
            party_size: r.series.party_size,
            updated_at: r.series.updated_at,
            dates: r
                .dates
                .into_iter()
                .map(|(o, rsvp)| SeriesRsvpDate {
                    local_start: o.local_start.format("%Y-%m-%dT%H:%M").to_string(),
                    start: o.start,
                    state: rsvp.state.into(),
                })
                .collect(),
        })
    }

    /// Undoes the caller's reply to every upcoming date: the dates it replied to are declined
    /// (their places go to the waiting list); replies to single dates given since are kept.
    async fn undo_series_rsvp(&self, ctx: &Context<'_>, event_id: ID) -> GqlResult<bool> {
        service(ctx)?.undo_series_rsvp(&request(ctx)?.actor, self::event_id(&event_id)?).await.map_err(gql)?;
        Ok(true)
    }

    /// Deletes an event or series with its replies; `version` is the one you read.
    async fn delete_event(&self, ctx: &Context<'_>, id: ID, version: i64) -> GqlResult<bool> {
        service(ctx)?.delete_event(&request(ctx)?.actor, event_id(&id)?, Some(version)).await.map_err(gql)?;
        Ok(true)
    }

    /// Replaces an event's fields; `version` is the one you read.
    async fn replace_event(&self, ctx: &Context<'_>, id: ID, version: i64, input: EventInput) -> GqlResult<EventObj> {
        let e = service(ctx)?
            .replace_event(&request(ctx)?.actor, event_id(&id)?, Some(version), &input.into())
            .await
            .map_err(gql)?;
        Ok(EventObj(e))
    }
}
