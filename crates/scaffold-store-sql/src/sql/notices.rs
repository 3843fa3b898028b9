//! The notices port: council notices and their dismissal by groups.

use super::d::{At, DbRow, to_store_error};
use super::rows::{at, get, json};
use super::run::{Read, Values, all, insert, insert_new, opt, values};
use super::{SqlStore, commit, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::group::{Category, Link};
use scaffold_domain::notice::Notice;
use scaffold_domain::{GroupId, NoticeId, Outcode, PersonId};
use scaffold_store::decode::corrupt;
use scaffold_store::{NoticeStore, StoreResult};
use sqlx::types::Json;
use uuid::Uuid;

fn outcode(s: &str) -> StoreResult<Outcode> {
    Outcode::parse("", s).map_err(|_| corrupt("outcode", s))
}

impl Read for Notice {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let outcodes: String = get(r, "outcodes")?;
        let categories: String = get(r, "categories")?;
        let radius = match (get::<Option<String>>(r, "radius_outcode")?, get::<Option<f64>>(r, "radius_km")?) {
            (Some(o), Some(km)) => Some((outcode(&o)?, km)),
            _ => None,
        };
        Ok(Notice {
            id: NoticeId(get(r, "notice_id")?),
            title: get(r, "title")?,
            body: get(r, "body")?,
            links: json::<Vec<(String, String)>>(r, "links")?
                .into_iter()
                .map(|(label, url)| Link { label, url })
                .collect(),
            outcodes: outcodes.split_whitespace().map(outcode).collect::<StoreResult<_>>()?,
            radius,
            categories: categories
                .split_whitespace()
                .map(|c| Category::parse(c).ok_or_else(|| corrupt("category", c)))
                .collect::<StoreResult<_>>()?,
            valid_from: at(r, "valid_from")?,
            valid_until: at(r, "valid_until")?,
            published_by: PersonId(get(r, "published_by")?),
            created_at: at(r, "created_at")?,
        })
    }
}

#[async_trait]
impl NoticeStore for SqlStore {
    async fn create_notice(&self, n: &Notice, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let links: Vec<(&str, &str)> = n.links.iter().map(|l| (l.label.as_str(), l.url.as_str())).collect();
        let outcodes: Vec<&str> = n.outcodes.iter().map(Outcode::as_str).collect();
        let categories: Vec<&str> = n.categories.iter().map(|c| c.as_str()).collect();
        let v = values! {
            notice_id: n.id.0, title: &n.title, body: &n.body, links: Json(&links), outcodes: outcodes.join(" "),
            radius_outcode: n.radius.as_ref().map(|(o, _)| o.as_str()), radius_km: n.radius.as_ref().map(|(_, km)| *km),
            categories: categories.join(" "), valid_from: At(n.valid_from), valid_until: At(n.valid_until),
            published_by: n.published_by.0, created_at: At(n.created_at),
        };
        insert(&mut *tx, "notice", v).await?;
        commit(tx, audit).await
    }

    async fn current_notices(&self, at: DateTime<Utc>) -> StoreResult<Vec<Notice>> {
        let sql = "select * from notice where valid_from <= $1 and valid_until > $1
                   order by created_at desc, notice_id desc";
        all(&self.pool, sql, (At(at),)).await
    }

    async fn notices(&self, limit: u32) -> StoreResult<Vec<Notice>> {
        let sql = "select * from notice order by created_at desc, notice_id desc limit $1";
        all(&self.pool, sql, (i64::from(limit),)).await
    }

    async fn notice_by_id(&self, id: NoticeId) -> StoreResult<Option<Notice>> {
        opt(&self.pool, "select * from notice where notice_id = $1", (id.0,)).await
    }

    async fn dismiss_notice(
        &self,
        notice: NoticeId,
        group: GroupId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let before: Option<Uuid> = opt(
            &mut *tx,
            "select notice_id from notice_dismissal where notice_id = $1 and group_id = $2",
            (notice.0, group.0),
        )
        .await?;
        if before.is_none() {
            let v = values! { notice_id: notice.0, group_id: group.0, dismissed_at: At(at) };
            insert_new(&mut *tx, "notice_dismissal", v).await?;
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(to_store_error)
    }

    async fn dismissed_notices(&self, group: GroupId) -> StoreResult<Vec<NoticeId>> {
        let ids: Vec<Uuid> =
            all(&self.pool, "select notice_id from notice_dismissal where group_id = $1", (group.0,)).await?;
        Ok(ids.into_iter().map(NoticeId).collect())
    }
}
