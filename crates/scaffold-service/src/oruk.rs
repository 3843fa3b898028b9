//! The public directory as Open Referral UK sees it: public, active groups (each an organisation
//! providing one service) in numbered pages, by words and category, and one group with its
//! events. What is shown is
//! what an anonymous caller may see; the ORUK shapes are made by the REST transport.

use crate::{Service, store_error};
use scaffold_domain::event::Event;
use scaffold_domain::group::{Group, Visibility};
use scaffold_domain::{Actor, DomainError, GroupId, codes};
use scaffold_store::GroupQuery;

/// The most items an ORUK page holds.
pub const ORUK_MAX_PER_PAGE: u32 = 100;
/// Events shown with one service (its schedules and locations).
const EVENTS_PER_SERVICE: u32 = 50;

/// One numbered page of a directory listing.
#[derive(Debug, Clone)]
pub struct NumberedPage<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

fn page_error(pointer: &str, message: &str) -> DomainError {
    DomainError::invalid_field(pointer, codes::OUT_OF_RANGE, message)
}

impl Service {
    /// Public groups by name, page `page` (from 1) of `per_page` (1 to 100), whose name or
    /// summary has every word of `text`, in `category`.
    pub async fn directory_groups(
        &self,
        text: Option<&str>,
        category: Option<scaffold_domain::group::Category>,
        page: u32,
        per_page: u32,
    ) -> Result<NumberedPage<Group>, DomainError> {
        if page == 0 {
            return Err(page_error("/page", "pages are numbered from 1"));
        }
        if per_page == 0 || per_page > ORUK_MAX_PER_PAGE {
            return Err(page_error("/per_page", "per_page is 1 to 100"));
        }
        let offset = (page - 1).checked_mul(per_page).ok_or_else(|| page_error("/page", "that page is too far"))?;
        let words = crate::groups::text_words("/search", text)?;
        let q = GroupQuery { text: words, category, offset, limit: per_page, ..GroupQuery::default() };
        let items = self.store.list_groups(&q).await.map_err(store_error)?;
        let total = self.store.count_groups(&q).await.map_err(store_error)?;
        Ok(NumberedPage { items, total, page, per_page })
    }

    /// A public group with its first events (for its ORUK service); 404 for any other.
    pub async fn directory_group(&self, id: GroupId) -> Result<(Group, Vec<Event>), DomainError> {
        let anonymous = Actor::anonymous();
        let view = self.group(&anonymous, &crate::groups::GroupRef::Id(id)).await?;
        if view.group.visibility != Visibility::Public {
            return Err(GroupId::not_found());
        }
        let events = self.store.events_of_group(id, None, EVENTS_PER_SERVICE).await.map_err(store_error)?;
        Ok((view.group, events))
    }
}
