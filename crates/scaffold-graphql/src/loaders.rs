//! DataLoaders, made per request (they carry the caller), so that lists resolve related data in
//! one store call per field instead of one per item.

use async_graphql::dataloader::{DataLoader, Loader};
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{Actor, EventId, GroupId, PersonId};
use scaffold_service::Service;
use std::collections::HashMap;
use std::sync::Arc;

type LoadError = Arc<async_graphql::Error>;

fn err(e: scaffold_domain::DomainError) -> LoadError {
    Arc::new(crate::error::gql(e))
}

#[derive(Debug)]
pub struct ViewerMemberships(pub Service, pub Actor);

impl Loader<GroupId> for ViewerMemberships {
    type Value = Membership;
    type Error = LoadError;

    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, Membership>, LoadError> {
        let ms = self.0.viewer_memberships(&self.1, keys).await.map_err(err)?;
        Ok(ms.into_iter().map(|m| (m.group_id, m)).collect())
    }
}

#[derive(Debug)]
pub struct Groups(pub Service, pub Actor);

impl Loader<GroupId> for Groups {
    type Value = Group;
    type Error = LoadError;

    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, Group>, LoadError> {
        let gs = self.0.groups_by_ids(&self.1, keys).await.map_err(err)?;
        Ok(gs.into_iter().map(|g| (g.id, g)).collect())
    }
}

#[derive(Debug)]
pub struct People(pub Service, pub Actor);

impl Loader<PersonId> for People {
    type Value = Person;
    type Error = LoadError;

    async fn load(&self, keys: &[PersonId]) -> Result<HashMap<PersonId, Person>, LoadError> {
        let ps = self.0.persons(&self.1, keys).await.map_err(err)?;
        Ok(ps.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// How many events of each group the `Group.events` loader fetches (a default page and one more).
pub const GROUP_EVENTS_PAGE: u32 = 20;

/// The first events of groups, those the caller may see.
#[derive(Debug)]
pub struct GroupEvents(pub Service, pub Actor);

impl Loader<GroupId> for GroupEvents {
    type Value = Vec<scaffold_domain::event::Event>;
    type Error = LoadError;

    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, Self::Value>, LoadError> {
        let events = self.0.first_events_of_groups(&self.1, keys, GROUP_EVENTS_PAGE + 1).await.map_err(err)?;
        let mut out: HashMap<GroupId, Self::Value> = HashMap::new();
        for e in events {
            out.entry(e.group_id).or_default().push(e);
        }
        Ok(out)
    }
}

/// The changed occurrences of series, for `Event.occurrences` over a list of events.
pub struct EventOverrides(pub Service, pub Actor);

impl Loader<EventId> for EventOverrides {
    type Value = Vec<scaffold_domain::event::OccurrenceOverride>;
    type Error = LoadError;

    async fn load(&self, keys: &[EventId]) -> Result<HashMap<EventId, Self::Value>, LoadError> {
        self.0.overrides_of_events(&self.1, keys).await.map_err(err)
    }
}

/// Everything a request needs: the caller and its loaders.
#[allow(missing_debug_implementations)]
pub struct RequestData {
    pub actor: Actor,
    pub viewer_memberships: DataLoader<ViewerMemberships>,
    pub groups: DataLoader<Groups>,
    pub people: DataLoader<People>,
    pub group_events: DataLoader<GroupEvents>,
    pub event_overrides: DataLoader<EventOverrides>,
}

impl RequestData {
    pub fn new(service: &Service, actor: Actor) -> Self {
        let spawn = |f| {
            tokio::spawn(f);
        };
        Self {
            viewer_memberships: DataLoader::new(ViewerMemberships(service.clone(), actor.clone()), spawn),
            groups: DataLoader::new(Groups(service.clone(), actor.clone()), spawn),
            people: DataLoader::new(People(service.clone(), actor.clone()), spawn),
            group_events: DataLoader::new(GroupEvents(service.clone(), actor.clone()), spawn),
            event_overrides: DataLoader::new(EventOverrides(service.clone(), actor.clone()), spawn),
            actor,
        }
    }
}
