//! The OpenActive RPDE feeds' pages: events (SessionSeries) and listed occurrences
//! (ScheduledSession) in (change number, id) order after a position, with the deleted ones as
//! tombstones. Public data only: an item is published when its group is public and active and the
//! event names an OpenActive activity and has a place; otherwise it appears as deleted.

use crate::{Service, store_error};
use chrono::NaiveDateTime;
use scaffold_domain::{DomainError, EventId};
use scaffold_store::{SeriesFeedItem, SessionFeedItem};

/// Items per feed page (RPDE suggests 500).
pub const FEED_PAGE: u32 = 500;

impl Service {
    /// A page of the SessionSeries feed after `(modified, id)`.
    pub async fn series_feed(&self, after: Option<(i64, EventId)>) -> Result<Vec<SeriesFeedItem>, DomainError> {
        self.store.series_feed(after, FEED_PAGE).await.map_err(store_error)
    }

    /// A page of the ScheduledSession feed after `(modified, event id, local start)`.
    pub async fn sessions_feed(
        &self,
        after: Option<(i64, EventId, NaiveDateTime)>,
    ) -> Result<Vec<SessionFeedItem>, DomainError> {
        self.store.sessions_feed(after, FEED_PAGE).await.map_err(store_error)
    }
}
