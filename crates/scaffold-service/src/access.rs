//! Who may do what in a group, decided in one place. A use case loads the group once
//! (`Service::group_access`: the group, the caller's membership, and whether the caller may see
//! it at all) and asks one question (`manage_events`, `issue`, …). Each question checks the
//! credential's scope and the caller's standing in the group; nothing else in the service
//! compares roles.

use crate::groups::{GroupRef, group_not_found};
use crate::{Service, store_error};
use scaffold_domain::codes;
use scaffold_domain::group::{Group, GroupStatus, Visibility};
use scaffold_domain::membership::{Membership, MembershipStatus, Standing};
use scaffold_domain::{Actor, DomainError, PersonId, Scope};

/// A group as one caller may use it, loaded once per use case.
#[derive(Debug)]
pub(crate) struct GroupAccess<'a> {
    actor: &'a Actor,
    pub group: Group,
    pub membership: Option<Membership>,
}

/// May this caller see this group at all? Public and unlisted groups: anyone. Private groups:
/// operators, and active members reading with `groups:read`.
pub(crate) fn visible(group: &Group, actor: &Actor, membership: Option<&Membership>) -> bool {
    group.visibility != Visibility::Private
        || actor.is_operator()
        || (actor.reader(Scope::GroupsRead).is_some() && membership.is_some_and(Membership::is_active))
}

/// Is this caller an operator of the instance (sees every group, private ones included, and acts
/// for the instance, as for the credentials no group issued)?
pub(crate) fn operates_instance(actor: &Actor) -> bool {
    Standing::of(actor.is_operator(), None) == Standing::Operator
}

fn role_required(who: &str, what: &str) -> DomainError {
    DomainError::forbidden(codes::GROUP_ROLE_REQUIRED, format!("only the group's {who} can {what}"))
}

impl<'a> GroupAccess<'a> {
    pub(crate) fn standing(&self) -> Standing {
        Standing::of(self.actor.is_operator(), self.membership.as_ref())
    }

    fn manages(&self) -> bool {
        self.standing().manages()
    }

    fn owns(&self) -> bool {
        self.standing().owns()
    }

    /// Changes need the group active, and its own (an imported group changes where it comes from).
    pub(crate) fn active(&self) -> Result<(), DomainError> {
        if let Some(o) = &self.group.origin {
            return Err(DomainError::conflict(
                codes::IMPORTED_READ_ONLY,
                format!("the group is imported from {}: change it where it comes from", o.source_name),
            ));
        }
        if self.group.status == GroupStatus::Archived {
            return Err(DomainError::conflict(
                codes::GROUP_ARCHIVED,
                "the group is archived and can no longer be changed",
            ));
        }
        Ok(())
    }

    /// Add, change and delete events and their dates, and see replies: `events:write`, an
    /// organiser or owner, or an operator.
    pub(crate) fn manage_events(&self, what: &str) -> Result<PersonId, DomainError> {
        let person = self.actor.require(Scope::EventsWrite)?;
        if !self.manages() {
            return Err(role_required("organisers and owners", what));
        }
        Ok(person)
    }

    /// Change the group's page and settings: `groups:write`, an organiser or owner (an owner
    /// when `owner_only`), or an operator.
    pub(crate) fn manage_group(&self, owner_only: bool) -> Result<PersonId, DomainError> {
        let person = self.actor.require(Scope::GroupsWrite)?;
        let (allowed, who) =
            if owner_only { (self.owns(), "owners") } else { (self.manages(), "organisers and owners") };
        if !allowed {
            return Err(role_required(who, "do this"));
        }
        Ok(person)
    }

    /// Change the group as an operator only (`admin`): verifying its identifiers.
    pub(crate) fn operate(&self) -> Result<PersonId, DomainError> {
        self.actor.require(Scope::Admin)
    }

    /// Invite people and decide join requests: `groups:write` (checked when the group was loaded
    /// for writing), an organiser or owner, or an operator.
    pub(crate) fn manage_members(&self) -> Result<(), DomainError> {
        if !self.manages() {
            return Err(role_required("organisers and owners", "do this"));
        }
        Ok(())
    }

    /// Change a member's role: an owner or an operator.
    pub(crate) fn change_roles(&self) -> Result<(), DomainError> {
        if !self.owns() {
            return Err(role_required("owners", "change roles"));
        }
        Ok(())
    }

    /// Remove a member: owners remove anyone, organisers remove members; operators anyone.
    pub(crate) fn remove(&self, target: &Membership) -> Result<(), DomainError> {
        if !self.standing().may_remove(target) {
            return Err(DomainError::forbidden(
                codes::GROUP_ROLE_REQUIRED,
                "owners can remove anyone; organisers can remove members",
            ));
        }
        Ok(())
    }

    /// See who is in the group: active members reading with `groups:read`, and operators.
    pub(crate) fn see_members(&self) -> Result<(), DomainError> {
        let member = self.actor.reader(Scope::GroupsRead).is_some()
            && self.membership.as_ref().is_some_and(Membership::is_active);
        if member || self.standing() == Standing::Operator {
            return Ok(());
        }
        if self.actor.person_id().is_none() {
            return Err(DomainError::unauthenticated("the member list needs a bearer token"));
        }
        Err(DomainError::forbidden(codes::GROUP_MEMBERS_ONLY, "only the group's members can see who else is in it"))
    }

    /// Issue and revoke the group's attestations: `attestations:issue` and an organiser or owner.
    /// Deliberately not operators: an attestation is the group's word about a person (it checked
    /// the evidence); operators authorise which groups may issue, they do not issue in a group's
    /// name.
    pub(crate) fn issue(&self) -> Result<PersonId, DomainError> {
        let person = self.actor.require(Scope::AttestationsIssue)?;
        if !Standing::of(false, self.membership.as_ref()).manages() {
            return Err(role_required("organisers and owners", "issue and revoke its attestations"));
        }
        Ok(person)
    }

    /// Was the caller invited (so may see a private group, to accept)?
    fn invited(&self) -> bool {
        self.membership.as_ref().is_some_and(|m| m.status == MembershipStatus::Invited)
    }
}

impl Service {
    /// Loads a group the caller may see, with the caller's membership. Invited people may see the
    /// private group they were invited to, so that they can accept. Anyone else gets
    /// `GROUP_NOT_FOUND`, as if it did not exist.
    pub(crate) async fn group_access<'a>(
        &self,
        actor: &'a Actor,
        r: &GroupRef,
    ) -> Result<GroupAccess<'a>, DomainError> {
        let group = match r {
            GroupRef::Id(id) => self.store.group_by_id(*id).await,
            GroupRef::Slug(s) => self.store.group_by_slug(s).await,
        }
        .map_err(store_error)?
        .ok_or_else(group_not_found)?;
        let membership = self.membership_of(actor, group.id).await?;
        let access = GroupAccess { actor, group, membership };
        if visible(&access.group, actor, access.membership.as_ref()) || access.invited() {
            Ok(access)
        } else {
            Err(group_not_found())
        }
    }
}
