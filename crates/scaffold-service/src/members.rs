//! Membership use cases: join (by the group's join policy), leave, invite, approve, change role
//! and remove. Only owners change roles; organisers approve, invite and remove members. The store
//! refuses any change that would leave a group without an active owner.

use crate::access::GroupAccess;
use crate::groups::GroupRef;
use crate::{Page, Service, last_owner, page_limit, store_error};
use scaffold_domain::codes;
use scaffold_domain::membership::{self, Membership, MembershipStatus, Role};
use scaffold_domain::person::Person;
use scaffold_domain::{Actor, DomainError, GroupId, PersonId, Scope};
use scaffold_store::{Cursor, MembershipChange, StoreError};

/// A membership with the member's display name.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub membership: Membership,
    pub display_name: String,
}

fn membership_not_found() -> DomainError {
    DomainError::not_found(codes::MEMBERSHIP_NOT_FOUND, "that person is not a member of this group")
}

fn map_change_error(e: StoreError) -> DomainError {
    match e {
        StoreError::LastOwner => last_owner(),
        StoreError::NotFound => membership_not_found(),
        other => store_error(other),
    }
}

impl Service {
    async fn writable_group<'a>(
        &self,
        actor: &'a Actor,
        id: GroupId,
    ) -> Result<(PersonId, GroupAccess<'a>), DomainError> {
        let person = actor.require(Scope::GroupsWrite)?;
        let access = self.group_access(actor, &GroupRef::Id(id)).await?;
        access.active()?;
        Ok((person, access))
    }

    async fn apply(
        &self,
        by: PersonId,
        change: MembershipChange,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), DomainError> {
        let (target, group_id, role) = match &change {
            MembershipChange::Put(m) => (format!("{}/{}", m.group_id, m.person_id), m.group_id, Some(m.role.as_str())),
            MembershipChange::Remove { group_id, person_id } => (format!("{group_id}/{person_id}"), *group_id, None),
        };
        let word = match (action, &change) {
            ("membership.join", MembershipChange::Put(m)) if m.status == MembershipStatus::Pending => "requested",
            ("membership.join", _) => "joined",
            ("membership.invite", _) => "invited",
            ("membership.approve", _) => "approved",
            ("membership.role_change", _) => "role_changed",
            ("membership.leave", _) => "left",
            _ => "removed",
        };
        let mut audit = self.audit(Some(by), action, "membership", target, detail);
        if let Some(g) = self.store.group_by_id(group_id).await.map_err(store_error)? {
            audit = audit.with_change(self.membership_change(&g, word, role));
        }
        self.store.change_membership(&change, &audit).await.map_err(map_change_error)
    }

    /// Joins the group as the caller: open groups at once, approval groups as pending, invite-only
    /// groups only with an invitation. Joining again changes nothing.
    pub async fn join_group(&self, actor: &Actor, id: GroupId) -> Result<Membership, DomainError> {
        let (person, GroupAccess { group, membership: existing, .. }) = self.writable_group(actor, id).await?;
        let Some(status) = membership::join_outcome(group.join_policy, existing.as_ref())? else {
            return existing.ok_or_else(|| DomainError::internal("join without change but no membership"));
        };
        let now = self.clock.now();
        let m = Membership {
            group_id: group.id,
            person_id: person,
            role: existing.as_ref().map_or(Role::Member, |e| e.role),
            status,
            created_at: existing.as_ref().map_or(now, |e| e.created_at),
            updated_at: now,
        };
        self.apply(
            person,
            MembershipChange::Put(m.clone()),
            "membership.join",
            serde_json::json!({ "status": status.as_str() }),
        )
        .await?;
        Ok(m)
    }

    /// Leaves the group (or withdraws a request or declines an invitation).
    pub async fn leave_group(&self, actor: &Actor, id: GroupId) -> Result<(), DomainError> {
        let person = actor.require(Scope::GroupsWrite)?;
        let (group, m) = self.visible_group(actor, &GroupRef::Id(id)).await?;
        if m.is_none() {
            return Err(membership_not_found());
        }
        self.apply(
            person,
            MembershipChange::Remove { group_id: group.id, person_id: person },
            "membership.leave",
            serde_json::json!({}),
        )
        .await
    }

    async fn target(&self, group: GroupId, person: PersonId) -> Result<Membership, DomainError> {
        self.store.membership(group, person).await.map_err(store_error)?.ok_or_else(membership_not_found)
    }

    /// An organiser invites a person; they become a member when they join.
    pub async fn invite_member(
        &self,
        actor: &Actor,
        id: GroupId,
        invitee: PersonId,
    ) -> Result<Membership, DomainError> {
        let (by, access) = self.writable_group(actor, id).await?;
        access.manage_members()?;
        let group = access.group;
        // The group is the request's target and it exists: a person the body names who does not
        // is a field of the request that is wrong (422), not a missing target (404).
        if self.store.persons_by_ids(&[invitee]).await.map_err(store_error)?.is_empty() {
            return Err(DomainError::invalid_field("/person_id", codes::UNKNOWN_PERSON, "no person has this id"));
        }
        if self.store.membership(group.id, invitee).await.map_err(store_error)?.is_some() {
            return Err(DomainError::conflict(
                codes::ALREADY_MEMBER,
                "that person already has a membership of this group",
            ));
        }
        let now = self.clock.now();
        let invited = Membership {
            group_id: group.id,
            person_id: invitee,
            role: Role::Member,
            status: MembershipStatus::Invited,
            created_at: now,
            updated_at: now,
        };
        self.apply(by, MembershipChange::Put(invited.clone()), "membership.invite", serde_json::json!({})).await?;
        Ok(invited)
    }

    /// An organiser approves a pending request to join.
    pub async fn approve_member(
        &self,
        actor: &Actor,
        id: GroupId,
        person: PersonId,
    ) -> Result<Membership, DomainError> {
        let (by, access) = self.writable_group(actor, id).await?;
        access.manage_members()?;
        let group = access.group;
        let mut target = self.target(group.id, person).await?;
        if target.status != MembershipStatus::Pending {
            return Err(DomainError::conflict(
                codes::MEMBERSHIP_NOT_PENDING,
                "that membership is not waiting for approval",
            ));
        }
        target.status = MembershipStatus::Active;
        target.updated_at = self.clock.now();
        self.apply(by, MembershipChange::Put(target.clone()), "membership.approve", serde_json::json!({})).await?;
        Ok(target)
    }

    /// An owner changes an active member's role.
    pub async fn change_role(
        &self,
        actor: &Actor,
        id: GroupId,
        person: PersonId,
        role: Role,
    ) -> Result<Membership, DomainError> {
        let (by, access) = self.writable_group(actor, id).await?;
        access.change_roles()?;
        let mut target = self.target(access.group.id, person).await?;
        if !target.is_active() {
            return Err(DomainError::conflict(codes::MEMBERSHIP_NOT_ACTIVE, "only active members can be given a role"));
        }
        let from = target.role;
        target.role = role;
        target.updated_at = self.clock.now();
        self.apply(
            by,
            MembershipChange::Put(target.clone()),
            "membership.role_change",
            serde_json::json!({ "from": from.as_str(), "to": role.as_str() }),
        )
        .await?;
        Ok(target)
    }

    /// Removes a member (owners remove anyone, organisers remove members), or withdraws an
    /// invitation or refuses a request.
    pub async fn remove_member(&self, actor: &Actor, id: GroupId, person: PersonId) -> Result<(), DomainError> {
        let (by, access) = self.writable_group(actor, id).await?;
        let target = self.target(access.group.id, person).await?;
        access.remove(&target)?;
        self.apply(
            by,
            MembershipChange::Remove { group_id: access.group.id, person_id: person },
            "membership.remove",
            serde_json::json!({}),
        )
        .await
    }

    /// The opaque cursor that points just after this membership in member lists.
    pub fn member_cursor(m: &Membership) -> String {
        Cursor::encode(&m.person_id.to_string()).0
    }

    /// The member list: visible to the group's active members and to operators.
    pub async fn list_members(
        &self,
        actor: &Actor,
        id: GroupId,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<MemberView>, DomainError> {
        let limit = page_limit(limit)?;
        let access = self.group_access(actor, &GroupRef::Id(id)).await?;
        access.see_members()?;
        let group = access.group;
        let after = match after {
            None => None,
            Some(c) => Some(
                Cursor::decode::<String>(c).and_then(|s| PersonId::parse(&s)).ok_or_else(crate::audit::bad_cursor)?,
            ),
        };
        let ms = self.store.list_members(group.id, after, limit).await.map_err(store_error)?;
        let ids: Vec<_> = ms.iter().map(|m| m.person_id).collect();
        let people: Vec<Person> = self.store.persons_by_ids(&ids).await.map_err(store_error)?;
        let next = (ms.len() == limit as usize)
            .then(|| ms.last().map(|m| Cursor::encode(&m.person_id.to_string()).0))
            .flatten();
        let items = ms
            .into_iter()
            .map(|m| MemberView {
                display_name: people
                    .iter()
                    .find(|p| p.id == m.person_id)
                    .map(|p| p.display_name.clone())
                    .unwrap_or_default(),
                membership: m,
            })
            .collect();
        Ok(Page { items, next })
    }
}
