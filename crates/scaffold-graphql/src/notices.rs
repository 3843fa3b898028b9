//! Council notices in GraphQL: `Group.notices`, what a group is sent (publishing is on REST).

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use scaffold_service::notices::GroupNotice;

#[derive(Debug, Clone)]
pub struct NoticeObj(pub GroupNotice);

/// A link in a notice.
#[derive(Debug, Clone, async_graphql::SimpleObject)]
#[graphql(name = "NoticeLink")]
pub struct NoticeLinkObj {
    pub label: String,
    pub url: String,
}

#[Object(name = "Notice")]
impl NoticeObj {
    async fn id(&self) -> ID {
        ID(self.0.notice.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.notice.title
    }
    /// Plain text; blank lines separate paragraphs.
    async fn body(&self) -> &str {
        &self.0.notice.body
    }
    async fn links(&self) -> Vec<NoticeLinkObj> {
        self.0.notice.links.iter().map(|l| NoticeLinkObj { label: l.label.clone(), url: l.url.clone() }).collect()
    }
    /// The outward codes it was sent to.
    async fn outcodes(&self) -> Vec<String> {
        self.0.notice.outcodes.iter().map(|o| o.as_str().to_owned()).collect()
    }
    /// The categories it was sent to.
    async fn categories(&self) -> Vec<String> {
        self.0.notice.categories.iter().map(|c| c.as_str().to_owned()).collect()
    }
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.notice.valid_from
    }
    async fn valid_until(&self) -> DateTime<Utc> {
        self.0.notice.valid_until
    }
    /// Whether the group's organisers dismissed it.
    async fn dismissed(&self) -> bool {
        self.0.dismissed
    }
}
