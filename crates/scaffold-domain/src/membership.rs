//! `Membership`: a person's place in a group — role and status — and the pure rules for joining
//! and for who may manage whom. The "always an owner" invariant is enforced by the store inside
//! the transaction that changes memberships.

use crate::group::{JoinPolicy, wire_enum};
use crate::{DomainError, GroupId, PersonId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

wire_enum!(
    /// Owners manage everything, including roles; organisers manage the page, events and members;
    /// members take part.
    Role { Owner = "owner", Organiser = "organiser", Member = "member" }
);

wire_enum!(
    /// `pending` waits for an organiser's approval; `invited` waits for the person to accept.
    MembershipStatus { Active = "active", Pending = "pending", Invited = "invited" }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub group_id: GroupId,
    pub person_id: PersonId,
    pub role: Role,
    pub status: MembershipStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Membership {
    pub fn is_active(&self) -> bool {
        self.status == MembershipStatus::Active
    }

    /// Active organisers and owners can manage the group.
    pub fn can_manage(&self) -> bool {
        self.is_active() && matches!(self.role, Role::Owner | Role::Organiser)
    }

    pub fn is_owner(&self) -> bool {
        self.is_active() && self.role == Role::Owner
    }
}

/// What joining does, given the policy and the person's current membership, if any. Returns the
/// status the membership should have, or `None` when nothing changes.
pub fn join_outcome(
    policy: JoinPolicy,
    existing: Option<&Membership>,
) -> Result<Option<MembershipStatus>, DomainError> {
    match (existing.map(|m| m.status), policy) {
        (Some(MembershipStatus::Active | MembershipStatus::Pending), _) => Ok(None),
        (Some(MembershipStatus::Invited), _) => Ok(Some(MembershipStatus::Active)),
        (None, JoinPolicy::Open) => Ok(Some(MembershipStatus::Active)),
        (None, JoinPolicy::Approval) => Ok(Some(MembershipStatus::Pending)),
        (None, JoinPolicy::Invite) => Err(DomainError::forbidden(
            "GROUP_INVITE_ONLY",
            "this group is invite-only: ask an organiser for an invitation",
        )),
    }
}

/// May someone with `manager`'s membership set `target`'s role to `new_role`? Only owners change
/// roles.
pub fn may_change_role(manager: Option<&Membership>) -> bool {
    manager.is_some_and(Membership::is_owner)
}

/// May `manager` remove `target`? Owners may remove anyone; organisers may remove members.
pub fn may_remove(manager: Option<&Membership>, target: &Membership) -> bool {
    match manager {
        Some(m) if m.is_owner() => true,
        Some(m) if m.can_manage() => target.role == Role::Member,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: Role, status: MembershipStatus) -> Membership {
        Membership {
            group_id: GroupId(uuid::Uuid::nil()),
            person_id: PersonId(uuid::Uuid::nil()),
            role,
            status,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn join_follows_the_policy() {
        assert_eq!(join_outcome(JoinPolicy::Open, None).unwrap(), Some(MembershipStatus::Active));
        assert_eq!(join_outcome(JoinPolicy::Approval, None).unwrap(), Some(MembershipStatus::Pending));
        assert_eq!(join_outcome(JoinPolicy::Invite, None).unwrap_err().code, "GROUP_INVITE_ONLY");
        let invited = m(Role::Member, MembershipStatus::Invited);
        assert_eq!(join_outcome(JoinPolicy::Invite, Some(&invited)).unwrap(), Some(MembershipStatus::Active));
        let active = m(Role::Member, MembershipStatus::Active);
        assert_eq!(join_outcome(JoinPolicy::Approval, Some(&active)).unwrap(), None);
    }

    #[test]
    fn organisers_remove_members_but_not_organisers() {
        let organiser = m(Role::Organiser, MembershipStatus::Active);
        assert!(may_remove(Some(&organiser), &m(Role::Member, MembershipStatus::Active)));
        assert!(!may_remove(Some(&organiser), &m(Role::Organiser, MembershipStatus::Active)));
        assert!(!may_change_role(Some(&organiser)));
        let pending_owner = m(Role::Owner, MembershipStatus::Pending);
        assert!(!may_change_role(Some(&pending_owner)));
        assert!(may_change_role(Some(&m(Role::Owner, MembershipStatus::Active))));
    }
}
