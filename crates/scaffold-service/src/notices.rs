//! Council notices: an operator (`admin`) or an authorised publisher (`notices:publish`) posts a
//! notice to the groups of an area and/or interest; every group it concerns sees it while it is
//! valid (on the API, GraphQL, the organisers' members page and the group's notices feed), apps
//! subscribed to `notice.published` are told, and organisers dismiss it for their group. Notices
//! are public communications: anyone who can see a group can read the notices it is sent.
//! Publishing and dismissing are audited.

use crate::groups::GroupRef;
use crate::{Service, store_error};
use scaffold_domain::notice::{Notice, NoticeDraft};
use scaffold_domain::{Actor, DomainError, GroupId, NoticeId, Scope};
use serde_json::json;

/// A notice as a group sees it.
#[derive(Debug, Clone)]
pub struct GroupNotice {
    pub notice: Notice,
    /// Dismissed for this group by an organiser.
    pub dismissed: bool,
}

impl Service {
    /// Who may publish: operators, and people (or apps) with `notices:publish`.
    fn publisher(actor: &Actor) -> Result<scaffold_domain::PersonId, DomainError> {
        if actor.is_operator() { actor.require(Scope::Admin) } else { actor.require(Scope::NoticesPublish) }
    }

    pub async fn publish_notice(&self, actor: &Actor, draft: &NoticeDraft) -> Result<Notice, DomainError> {
        let person = Self::publisher(actor)?;
        let now = self.clock.now();
        let notice = draft.validate(NoticeId::new_v7(now), person, now)?;
        let outcodes: Vec<&str> = notice.outcodes.iter().map(|o| o.as_str()).collect();
        let categories: Vec<&str> = notice.categories.iter().map(|c| c.as_str()).collect();
        let audit = self
            .audit(
                Some(person),
                "notice.publish",
                "notice",
                notice.id,
                json!({ "outcodes": outcodes, "categories": categories, "radius": notice.radius.as_ref().map(|(o, km)| json!({ "outcode": o.as_str(), "km": km })) }),
            )
            .with_change(self.notice_change(&notice));
        self.store.create_notice(&notice, &audit).await.map_err(store_error)?;
        Ok(notice)
    }

    /// Every notice, newest first (publishers).
    pub async fn notices(&self, actor: &Actor, limit: u32) -> Result<Vec<Notice>, DomainError> {
        Self::publisher(actor)?;
        self.store.notices(limit).await.map_err(store_error)
    }

    /// One notice: public once it starts showing; before, to publishers only.
    pub async fn notice(&self, actor: &Actor, id: NoticeId) -> Result<Notice, DomainError> {
        let n = self.store.notice_by_id(id).await.map_err(store_error)?.ok_or_else(NoticeId::not_found)?;
        if n.valid_from > self.clock.now() && Self::publisher(actor).is_err() {
            return Err(NoticeId::not_found());
        }
        Ok(n)
    }

    /// The notices up now that concern a group the caller can see, newest first; dismissed ones
    /// only when asked for.
    pub async fn group_notices(
        &self,
        actor: &Actor,
        group: &GroupRef,
        include_dismissed: bool,
    ) -> Result<Vec<GroupNotice>, DomainError> {
        let (g, _) = self.visible_group(actor, group).await?;
        let now = self.clock.now();
        let current = self.store.current_notices(now).await.map_err(store_error)?;
        let dismissed = self.store.dismissed_notices(g.id).await.map_err(store_error)?;
        Ok(current
            .into_iter()
            .filter(|n| n.concerns(&g))
            .map(|notice| GroupNotice { dismissed: dismissed.contains(&notice.id), notice })
            .filter(|n| include_dismissed || !n.dismissed)
            .collect())
    }

    /// Whether the caller runs the group (organisers and owners, with `groups:write`): they see
    /// its notices on the organisers' page and may dismiss them.
    pub async fn can_manage_group(&self, actor: &Actor, group: GroupId) -> Result<(), DomainError> {
        self.group_access(actor, &GroupRef::Id(group)).await?.manage_group(false).map(|_| ())
    }

    /// An organiser or owner dismisses a notice for their group (again: nothing changes).
    pub async fn dismiss_notice(&self, actor: &Actor, group: GroupId, id: NoticeId) -> Result<(), DomainError> {
        let access = self.group_access(actor, &GroupRef::Id(group)).await?;
        let person = access.manage_group(false)?;
        let notice = self.notice(actor, id).await?;
        if !notice.concerns(&access.group) {
            return Err(NoticeId::not_found());
        }
        let audit = self.audit(Some(person), "notice.dismiss", "notice", id, json!({ "group_id": group }));
        self.store.dismiss_notice(id, group, self.clock.now(), &audit).await.map_err(store_error)
    }
}
