//! `Membership`: a person's place in a group — role and status — and the pure rules for joining
//! and for who may manage whom. The "always an owner" invariant is enforced by the store inside
//! the transaction that changes memberships.

use crate::codes;
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
            codes::GROUP_INVITE_ONLY,
            "this group is invite-only: ask an organiser for an invitation",
        )),
    }
}

/// A caller's standing in one group: the only input to the group access rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// An operator of the instance (a person with `admin`), whatever their membership.
    Operator,
    Owner,
    Organiser,
    Member,
    /// No active membership (none, pending, invited).
    Outsider,
}

impl Standing {
    pub fn of(operator: bool, membership: Option<&Membership>) -> Self {
        if operator {
            return Standing::Operator;
        }
        match membership {
            Some(m) if m.is_active() => match m.role {
                Role::Owner => Standing::Owner,
                Role::Organiser => Standing::Organiser,
                Role::Member => Standing::Member,
            },
            _ => Standing::Outsider,
        }
    }

    /// Organisers, owners and operators manage a group's page, events, replies and members.
    pub fn manages(self) -> bool {
        matches!(self, Standing::Operator | Standing::Owner | Standing::Organiser)
    }

    /// Owners and operators change roles, archive and do what `owner_only` changes need.
    pub fn owns(self) -> bool {
        matches!(self, Standing::Operator | Standing::Owner)
    }

    /// Owners (and operators) remove anyone; organisers remove members.
    pub fn may_remove(self, target: &Membership) -> bool {
        self.owns() || (self == Standing::Organiser && target.role == Role::Member)
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
        let organiser = Standing::of(false, Some(&m(Role::Organiser, MembershipStatus::Active)));
        assert!(organiser.may_remove(&m(Role::Member, MembershipStatus::Active)));
        assert!(!organiser.may_remove(&m(Role::Organiser, MembershipStatus::Active)));
        assert!(organiser.manages() && !organiser.owns());
        let pending_owner = Standing::of(false, Some(&m(Role::Owner, MembershipStatus::Pending)));
        assert_eq!(pending_owner, Standing::Outsider);
        assert!(!pending_owner.manages());
        assert!(Standing::of(false, Some(&m(Role::Owner, MembershipStatus::Active))).owns());
        assert!(Standing::of(true, None).owns());
        assert!(!Standing::of(false, Some(&m(Role::Member, MembershipStatus::Active))).manages());
    }
}
