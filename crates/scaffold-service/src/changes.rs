//! Building the change records the outbox keeps (one per domain change, written with its audit
//! entry): the filter columns from the domain, and the data as the `proto/` contract's message in
//! its canonical JSON, so that what webhooks send is what the contract says. Nothing personal goes
//! in: ids, what changed, and the area a group is in.

use crate::Service;
use scaffold_domain::attestation::Attestation;
use scaffold_domain::change::{Change, ChangeType};
use scaffold_domain::event::Event;
use scaffold_domain::group::{Group, Visibility};
use scaffold_domain::notice::Notice;
use scaffold_domain::{ChangeId, DomainError};
use scaffold_proto::changes::v1::{
    AttestationChange, ChangeData, EventChange, GroupChange, MembershipChange, NoticeChange, OccurrenceChange,
    change_data::Subject,
};

/// Whether integrators may hear of a group's changes: public groups only (unlisted and private
/// groups' changes are recorded, never sent).
fn published(g: &Group) -> bool {
    g.visibility == Visibility::Public && g.origin.is_none()
}

impl Service {
    fn change(&self, change_type: ChangeType, group: Option<&Group>, subject: Subject) -> Change {
        let at = self.clock.now();
        let data = ChangeData { subject: Some(subject) };
        Change {
            id: ChangeId::new_v7(at),
            at,
            change_type,
            group_id: group.map(|g| g.id),
            outcode: group.and_then(|g| g.area.as_ref()).map(|a| a.outcode.as_str().to_owned()),
            categories: group.map(|g| g.categories.iter().map(|c| c.as_str().to_owned()).collect()).unwrap_or_default(),
            attestation_type: None,
            published: group.is_some_and(published),
            // The message's JSON cannot fail to serialise; an empty object would still be sent.
            data: serde_json::to_value(&data).unwrap_or_default(),
        }
    }

    pub(crate) fn group_change(&self, t: ChangeType, g: &Group, changed_fields: Vec<String>) -> Change {
        self.change(
            t,
            Some(g),
            Subject::Group(GroupChange {
                group_id: g.id.to_string(),
                slug: g.slug.as_str().to_owned(),
                changed_fields,
                outcode: g.area.as_ref().map(|a| a.outcode.as_str().to_owned()).unwrap_or_default(),
            }),
        )
    }

    /// A group updated: told when it was public before or is now, so that integrators hear of a
    /// group that stops being public (its `changedFields` name `visibility`) and drop it.
    pub(crate) fn group_update(&self, old: &Group, new: &Group, changed_fields: Vec<String>) -> Change {
        let mut c = self.group_change(ChangeType::GroupUpdated, new, changed_fields);
        c.published = published(old) || published(new);
        c
    }

    pub(crate) fn membership_change(&self, g: &Group, change: &str, role: Option<&str>) -> Change {
        self.change(
            ChangeType::MembershipChanged,
            Some(g),
            Subject::Membership(MembershipChange {
                group_id: g.id.to_string(),
                change: change.to_owned(),
                role: role.unwrap_or_default().to_owned(),
            }),
        )
    }

    /// An event's change, with its group's area (read here).
    pub(crate) async fn event_change(
        &self,
        t: ChangeType,
        e: &Event,
        changed_fields: Vec<String>,
    ) -> Result<Change, DomainError> {
        let g = self.store.group_by_id(e.group_id).await.map_err(crate::store_error)?;
        let subject = Subject::Event(EventChange {
            event_id: e.id.to_string(),
            group_id: e.group_id.to_string(),
            changed_fields,
        });
        Ok(self.change(t, g.as_ref(), subject))
    }

    pub(crate) async fn occurrence_change(
        &self,
        t: ChangeType,
        e: &Event,
        occurrence_start: chrono::DateTime<chrono::Utc>,
        new_start: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Change, DomainError> {
        let g = self.store.group_by_id(e.group_id).await.map_err(crate::store_error)?;
        let subject = Subject::Occurrence(OccurrenceChange {
            event_id: e.id.to_string(),
            group_id: e.group_id.to_string(),
            occurrence_start: Some(occurrence_start.into()),
            new_start: new_start.map(Into::into),
        });
        Ok(self.change(t, g.as_ref(), subject))
    }

    /// An attestation that stopped being valid: for verifiers, by its status list entry. Only an
    /// issued credential (one with a status entry) is published.
    pub(crate) fn attestation_change(&self, t: ChangeType, a: &Attestation) -> Change {
        let (uri, idx) = a.status.map(|(list, idx)| (self.status_list_uri(list), idx)).unwrap_or_default();
        let mut c = self.change(
            t,
            None,
            Subject::Attestation(AttestationChange {
                attestation_id: a.id.to_string(),
                attestation_type: a.attestation_type.as_str().to_owned(),
                status_list_uri: uri,
                status_list_index: u32::try_from(idx).unwrap_or_default(),
            }),
        );
        c.group_id = a.issuer_group;
        c.attestation_type = Some(a.attestation_type);
        c.published = a.status.is_some();
        c
    }
}

impl Service {
    /// A notice published: for subscribers of `notice.published` (an area filter matches a
    /// notice sent to one outward code, a category filter is not applied).
    pub(crate) fn notice_change(&self, n: &Notice) -> Change {
        let mut c = self.change(
            ChangeType::NoticePublished,
            None,
            Subject::Notice(NoticeChange {
                notice_id: n.id.to_string(),
                title: n.title.clone(),
                outcodes: n.outcodes.iter().map(|o| o.as_str().to_owned()).collect(),
                categories: n.categories.iter().map(|c| c.as_str().to_owned()).collect(),
                valid_from: Some(n.valid_from.into()),
                valid_until: Some(n.valid_until.into()),
            }),
        );
        c.outcode = match n.outcodes.as_slice() {
            [one] => Some(one.as_str().to_owned()),
            _ => None,
        };
        c.categories = n.categories.iter().map(|c| c.as_str().to_owned()).collect();
        c.published = true;
        c
    }
}

/// The API names of the fields an event update changed.
pub(crate) fn event_fields(old: &Event, new: &Event) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! diff { ($($f:ident),*) => { $( if old.$f != new.$f { out.push(stringify!($f).to_owned()); } )* } }
    diff!(
        title,
        summary,
        description,
        timezone,
        start,
        end,
        all_day,
        status,
        status_reason,
        place,
        online_url,
        accessibility,
        accessibility_notes,
        capacity,
        booking,
        booking_url,
        price_pence,
        concessions,
        min_age,
        max_age,
        categories,
        activities,
        recurrence
    );
    out
}
