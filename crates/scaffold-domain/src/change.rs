//! Change records: one per domain change, written in the same transaction as the change (the
//! outbox), that webhooks deliver. A change carries ids and what changed (as the wire contract's
//! canonical JSON, built by the service from `proto/`), never claim values, evidence, contact
//! details or who a person is. This module owns the change types and who may hear of them.

use crate::attestation::AttestationType;
use crate::{ChangeId, GroupId, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::group::wire_enum!(
    /// What kind of change it is: the `type` of its deliveries.
    ChangeType {
        GroupCreated = "group.created",
        GroupUpdated = "group.updated",
        GroupArchived = "group.archived",
        MembershipChanged = "membership.changed",
        EventCreated = "event.created",
        EventUpdated = "event.updated",
        EventDeleted = "event.deleted",
        OccurrenceCancelled = "occurrence.cancelled",
        OccurrenceMoved = "occurrence.moved",
        OccurrenceRestored = "occurrence.restored",
        AttestationRevoked = "attestation.revoked",
        AttestationWithdrawn = "attestation.withdrawn",
        AttestationExpired = "attestation.expired",
        NoticePublished = "notice.published",
    }
);

impl ChangeType {
    /// An attestation change (what an `attestation_types` filter narrows).
    pub fn is_attestation(self) -> bool {
        matches!(self, Self::AttestationRevoked | Self::AttestationWithdrawn | Self::AttestationExpired)
    }

    /// A change of a group or its events (what a `group_id` filter narrows).
    pub fn has_group(self) -> bool {
        !self.is_attestation() && self != Self::NoticePublished
    }

    /// A change with an area (a group's outward code, or a notice's): what an `outcodes` filter
    /// narrows.
    pub fn has_area(self) -> bool {
        !self.is_attestation()
    }

    /// The scope an app needs to subscribe to (and be sent) changes of this type: attestation
    /// changes go only to verifiers.
    pub fn scope(self) -> Scope {
        match self {
            Self::EventCreated
            | Self::EventUpdated
            | Self::EventDeleted
            | Self::OccurrenceCancelled
            | Self::OccurrenceMoved
            | Self::OccurrenceRestored => Scope::EventsRead,
            Self::AttestationRevoked | Self::AttestationWithdrawn | Self::AttestationExpired => {
                Scope::AttestationsVerify
            }
            Self::GroupCreated
            | Self::GroupUpdated
            | Self::GroupArchived
            | Self::MembershipChanged
            | Self::NoticePublished => Scope::GroupsRead,
        }
    }
}

/// One change, as the outbox keeps it. The columns beside `data` are what subscriptions filter on.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: ChangeId,
    pub at: DateTime<Utc>,
    pub change_type: ChangeType,
    /// The group it concerns (an event's group, a membership's group).
    pub group_id: Option<GroupId>,
    /// The outward code of the group's area.
    pub outcode: Option<String>,
    /// The categories of the group (or a notice's).
    pub categories: Vec<String>,
    pub attestation_type: Option<AttestationType>,
    /// Whether apps may hear of it: changes of groups that are not public are recorded but not
    /// delivered.
    pub published: bool,
    /// The contract's `ChangeData` in its canonical JSON mapping.
    pub data: serde_json::Value,
}
