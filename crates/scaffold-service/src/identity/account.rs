//! Self-service: what the service holds about the caller (identities, assurance, memberships,
//! apps) and deleting one's account. Deletion removes personal data; audit entries keep a fresh
//! pseudonymous id in place of the person's.

use crate::{Page, Service, store_error};
use scaffold_domain::codes;
use scaffold_domain::identity::{App, Assurance, Identity};
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{Actor, Credential, DomainError, GroupId, PersonId, Scope, Scopes};
use scaffold_store::StoreError;

/// The caller's own account.
#[derive(Debug)]
pub struct Me {
    pub person: Person,
    pub scopes: Scopes,
    pub credential: Credential,
    pub identities: Vec<Identity>,
    pub assurance: Option<Assurance>,
    /// The first page of memberships (see [`ME_MEMBERSHIPS`]).
    pub memberships: Vec<Membership>,
    /// The cursor of the next page of memberships, if any.
    pub memberships_next: Option<String>,
    pub apps: Vec<App>,
}

/// How many memberships `me` includes; the rest are paged with `my_memberships`.
pub const ME_MEMBERSHIPS: u32 = 50;

impl Service {
    pub async fn me(&self, actor: &Actor) -> Result<Me, DomainError> {
        let (person, scopes) = self.person(actor).await?;
        let credential = actor.credential().unwrap_or(Credential::Local);
        let id = person.id;
        // Apps see who they act for, not the rest of the account, unless granted `profile`; the
        // person's apps only the person themselves.
        let full = scopes.contains(Scope::Profile);
        let (identities, assurance, page, apps) = if full {
            (
                self.store.identities_of_person(id).await.map_err(store_error)?,
                self.store.assurance_of(id).await.map_err(store_error)?,
                self.memberships_page(id, None, ME_MEMBERSHIPS).await?,
                if credential.is_personal() {
                    self.store.apps_of_person(id).await.map_err(store_error)?
                } else {
                    Vec::new()
                },
            )
        } else {
            (Vec::new(), None, Page { items: Vec::new(), next: None }, Vec::new())
        };
        Ok(Me {
            person,
            scopes,
            credential,
            identities,
            assurance,
            memberships: page.items,
            memberships_next: page.next,
            apps,
        })
    }

    async fn memberships_page(
        &self,
        person: PersonId,
        after: Option<GroupId>,
        limit: u32,
    ) -> Result<Page<Membership>, DomainError> {
        let mut items = self.store.memberships_page_of(person, after, limit + 1).await.map_err(store_error)?;
        let next = (items.len() > usize::try_from(limit).unwrap_or(usize::MAX)).then(|| {
            items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            items.last().map(|m| m.group_id.to_string())
        });
        Ok(Page { items, next: next.flatten() })
    }

    /// The caller's memberships, a page at a time (cursor: the last group id of the page before).
    pub async fn my_memberships(
        &self,
        actor: &Actor,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Membership>, DomainError> {
        let person = actor.require(Scope::Profile)?;
        let after = match after {
            None => None,
            Some(a) => Some(GroupId::parse(a).ok_or_else(crate::audit::bad_cursor)?),
        };
        self.memberships_page(person, after, limit).await
    }

    /// Deletes the caller's account. Only the person themselves (signed in, or with their own
    /// key), never an app. Refused while they are the only owner of an active group.
    pub async fn delete_account(&self, actor: &Actor) -> Result<(), DomainError> {
        let person = actor.require_person()?;
        let now = self.clock.now();
        let pseudonym = PersonId::new_v7(now);
        let audit = self.audit(Some(pseudonym), "person.delete", "person", pseudonym, serde_json::json!({}));
        self.store.delete_person(person, pseudonym, &audit).await.map_err(|e| match e {
            StoreError::LastOwner => DomainError::conflict(
                codes::ACCOUNT_OWNS_GROUPS,
                "you are the only owner of a group: make someone else an owner, or archive it, first",
            ),
            other => store_error(other),
        })
    }
}
