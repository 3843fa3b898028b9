//! The webhooks port: the outbox's change records (written with the audit entry of their change,
//! and queued for each matching subscription in that transaction), subscriptions, and deliveries
//! taken under a lease.

use super::d::{At, DbRow, Tx, for_update, in_list, to_store_error};
use super::rows::{at, at_opt, get, json};
use super::run::{ChangedOr, Read, Values, all, built, exec, insert, opt, update, values};
use super::{SqlStore, commit, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::AttestationType;
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::change::{Change, ChangeType};
use scaffold_domain::webhook::{
    Delivery, DeliveryState, MAX_ATTEMPTS, Webhook, WebhookFilter, WebhookSecret, WebhookStatus,
};
use scaffold_domain::{AppId, ChangeId, GroupId, WebhookId};
use scaffold_store::decode::corrupt;
use scaffold_store::{Attempt, DueDelivery, StoreError, StoreResult, WebhookStore};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

fn words<T>(s: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<Vec<T>> {
    s.split_whitespace().map(|w| parse(w).ok_or_else(|| corrupt(what, w))).collect()
}

fn joined<T: std::fmt::Display>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| items.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))
}

impl Read for Change {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let kind: String = get(r, "change_type")?;
        let categories: String = get(r, "categories")?;
        Ok(Change {
            id: ChangeId(get(r, "change_id")?),
            at: at(r, "occurred_at")?,
            change_type: ChangeType::parse(&kind).ok_or_else(|| corrupt("change type", &kind))?,
            group_id: get::<Option<Uuid>>(r, "group_id")?.map(GroupId),
            outcode: get(r, "outcode")?,
            categories: categories.split_whitespace().map(str::to_owned).collect(),
            attestation_type: get::<Option<String>>(r, "attestation_type")?
                .map(|t| AttestationType::parse(&t).ok_or_else(|| corrupt("attestation type", &t)))
                .transpose()?,
            published: get(r, "published")?,
            data: json(r, "data")?,
        })
    }
}

impl Read for Webhook {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let status: String = get(r, "status")?;
        let previous = match (get::<Option<String>>(r, "previous_secret")?, at_opt(r, "previous_until")?) {
            (Some(s), Some(until)) => Some((WebhookSecret(s), until)),
            _ => None,
        };
        Ok(Webhook {
            id: WebhookId(get(r, "webhook_id")?),
            app_id: AppId(get(r, "app_id")?),
            url: get(r, "url")?,
            filter: WebhookFilter {
                types: words(&get::<String>(r, "change_types")?, "change type", ChangeType::parse)?,
                group_id: get::<Option<Uuid>>(r, "group_id")?.map(GroupId),
                outcodes: words(&get::<Option<String>>(r, "outcodes")?.unwrap_or_default(), "outcode", |w| {
                    Some(w.to_owned())
                })?,
                attestation_types: words(
                    &get::<Option<String>>(r, "attestation_types")?.unwrap_or_default(),
                    "attestation type",
                    AttestationType::parse,
                )?,
            },
            secret: WebhookSecret(get(r, "secret")?),
            previous_secret: previous,
            status: WebhookStatus::parse(&status).ok_or_else(|| corrupt("webhook status", &status))?,
            disabled_reason: get(r, "disabled_reason")?,
            consecutive_failures: u32::try_from(get::<i64>(r, "consecutive_failures")?).unwrap_or(u32::MAX),
            created_at: at(r, "created_at")?,
            updated_at: at(r, "updated_at")?,
        })
    }
}

impl Read for Delivery {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let kind: String = get(r, "change_type")?;
        let state: String = get(r, "state")?;
        let small = |c: &str| -> StoreResult<Option<i64>> { get(r, c) };
        Ok(Delivery {
            webhook_id: WebhookId(get(r, "webhook_id")?),
            change_id: ChangeId(get(r, "change_id")?),
            change_type: ChangeType::parse(&kind).ok_or_else(|| corrupt("change type", &kind))?,
            state: DeliveryState::parse(&state).ok_or_else(|| corrupt("delivery state", &state))?,
            attempts: u32::try_from(get::<i64>(r, "attempts")?).unwrap_or(u32::MAX),
            next_attempt_at: at_opt(r, "next_attempt_at")?,
            last_attempt_at: at_opt(r, "last_attempt_at")?,
            last_status: small("last_status")?.and_then(|s| u16::try_from(s).ok()),
            last_latency_ms: small("last_latency_ms")?.and_then(|s| u32::try_from(s).ok()),
            last_error: get(r, "last_error")?,
            delivered_at: at_opt(r, "delivered_at")?,
            created_at: at(r, "created_at")?,
        })
    }
}

fn webhook_values(w: &Webhook) -> Values {
    let f = &w.filter;
    let (previous, until) = match &w.previous_secret {
        Some((s, until)) => (Some(s.0.as_str()), Some(At(*until))),
        None => (None, None),
    };
    values! {
        webhook_id: w.id.0, app_id: w.app_id.0, url: &w.url, change_types: joined(&f.types).unwrap_or_default(),
        group_id: f.group_id.map(|g| g.0), outcodes: joined(&f.outcodes), attestation_types: joined(&f.attestation_types),
        secret: &w.secret.0, previous_secret: previous, previous_until: until, status: w.status.as_str(),
        disabled_reason: &w.disabled_reason, consecutive_failures: i64::from(w.consecutive_failures),
        created_at: At(w.created_at), updated_at: At(w.updated_at),
    }
}

/// Writes the change record and queues it for every active subscription it matches (the rule of
/// `WebhookFilter::matches`, in SQL). Unpublished changes are recorded and queued for no one.
pub(crate) async fn insert_change(tx: &mut Tx<'_>, c: &Change) -> StoreResult<()> {
    let v = values! {
        change_id: c.id.0, occurred_at: At(c.at), change_type: c.change_type.as_str(), group_id: c.group_id.map(|g| g.0),
        outcode: &c.outcode, categories: c.categories.join(" "),
        attestation_type: c.attestation_type.map(AttestationType::as_str), published: c.published, data: Json(&c.data),
    };
    insert(&mut **tx, "change_record", v).await?;
    if !c.published {
        return Ok(());
    }
    let sql = "insert into webhook_delivery
                   (webhook_id, change_id, change_type, state, attempts, next_attempt_at, created_at)
               select webhook_id, $1, $2, 'pending', 0, $3, $3 from webhook
               where status = 'active'
                 and (' ' || change_types || ' ') like $4
                 and (group_id is null or group_id = $5)
                 and (outcodes is null or (' ' || outcodes || ' ') like $6)
                 and (attestation_types is null or (' ' || attestation_types || ' ') like $7)";
    let word = |w: Option<&str>| w.map(|w| format!("% {w} %"));
    exec(
        &mut **tx,
        sql,
        (
            c.id.0,
            c.change_type.as_str(),
            At(c.at),
            word(Some(c.change_type.as_str())),
            c.group_id.map(|g| g.0),
            word(c.outcode.as_deref()),
            word(c.attestation_type.map(AttestationType::as_str)),
        ),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert(&mut *tx, "webhook", webhook_values(webhook)).await?;
        commit(tx, audit).await
    }

    async fn webhooks_of_app(&self, app: AppId) -> StoreResult<Vec<Webhook>> {
        all(&self.pool, "select * from webhook where app_id = $1 order by created_at, webhook_id", (app.0,)).await
    }

    async fn webhook_by_id(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        opt(&self.pool, "select * from webhook where webhook_id = $1", (id.0,)).await
    }

    async fn update_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let was: Option<String> = opt(
            &mut *tx,
            concat!("select status from webhook where webhook_id = $1", for_update!()),
            (webhook.id.0,),
        )
        .await?;
        let was = was.ok_or(StoreError::NotFound)?;
        update(&mut *tx, "webhook", webhook_values(webhook).key("webhook_id", webhook.id.0)).await?;
        if was != webhook.status.as_str() && webhook.status == WebhookStatus::Active {
            let sql = "update webhook_delivery set next_attempt_at = $2 where webhook_id = $1 and state = 'pending'";
            exec(&mut *tx, sql, (webhook.id.0, At(webhook.updated_at))).await?;
        }
        commit(tx, audit).await
    }

    async fn delete_webhook(&self, id: WebhookId, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        exec(&mut *tx, "delete from webhook_delivery where webhook_id = $1", (id.0,)).await?;
        exec(&mut *tx, "delete from webhook where webhook_id = $1", (id.0,)).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        busy: &[WebhookId],
    ) -> StoreResult<Vec<DueDelivery>> {
        let mut tx = self.begin().await?;
        let mut b = QueryBuilder::new(
            "select webhook_id, change_id, attempts from webhook_delivery
             where state = 'pending' and next_attempt_at <= ",
        );
        b.push_bind(At(now));
        b.push(" and webhook_id in (select webhook_id from webhook where status = 'active') and not (webhook_id");
        in_list(&mut b, busy.iter().map(|w| w.0).collect());
        b.push(") order by next_attempt_at, change_id limit ").push_bind(i64::from(limit));
        b.push(for_update!(skip_locked));
        let due: Vec<(Uuid, Uuid, i64)> = built::<_, Due>(b, &mut *tx).await?.into_iter().map(|Due(w, c, a)| (w, c, a)).collect();
        let mut out = Vec::with_capacity(due.len());
        for (webhook, change, attempts) in due {
            let sql = "update webhook_delivery set next_attempt_at = $3, attempts = attempts + 1
                       where webhook_id = $1 and change_id = $2";
            exec(&mut *tx, sql, (webhook, change, At(lease_until))).await?;
            let w: Option<Webhook> = opt(&mut *tx, "select * from webhook where webhook_id = $1", (webhook,)).await?;
            let c: Option<Change> =
                opt(&mut *tx, "select * from change_record where change_id = $1", (change,)).await?;
            if let (Some(webhook), Some(change)) = (w, c) {
                let attempt = u32::try_from(attempts + 1).unwrap_or(MAX_ATTEMPTS);
                out.push(DueDelivery { webhook, change, attempt });
            }
        }
        tx.commit().await.map_err(to_store_error)?;
        Ok(out)
    }

    async fn record_attempt(
        &self,
        a: &Attempt,
        disable_after: u32,
        reason: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let state = match (&a.error, a.retry_at) {
            (None, _) => DeliveryState::Delivered,
            (Some(_), Some(_)) => DeliveryState::Pending,
            (Some(_), None) => DeliveryState::Failed,
        };
        let v = values! {
            state: state.as_str(), next_attempt_at: a.retry_at.filter(|_| a.error.is_some()).map(At),
            last_attempt_at: At(a.at), last_status: a.status.map(i64::from), last_latency_ms: i64::from(a.latency_ms),
            last_error: &a.error, delivered_at: a.error.is_none().then_some(At(a.at)),
        };
        let v = v
            .key("webhook_id", a.webhook.0)
            .key("change_id", a.change.0)
            .key("attempts", i64::from(a.number))
            .key("state", DeliveryState::Pending.as_str());
        if update(&mut *tx, "webhook_delivery", v).await?.rows_affected() == 0 {
            return Ok(false);
        }
        let failures: Option<i64> = if a.error.is_none() {
            exec(&mut *tx, "update webhook set consecutive_failures = 0 where webhook_id = $1", (a.webhook.0,)).await?;
            None
        } else {
            let sql = "update webhook set consecutive_failures = consecutive_failures + 1 where webhook_id = $1";
            exec(&mut *tx, sql, (a.webhook.0,)).await?;
            let sql = "select consecutive_failures from webhook where webhook_id = $1 and status = 'active'";
            opt(&mut *tx, sql, (a.webhook.0,)).await?
        };
        let disable = failures.is_some_and(|f| f >= i64::from(disable_after));
        if disable {
            let sql = "update webhook set status = 'disabled', disabled_reason = $2, updated_at = $3 where webhook_id = $1";
            exec(&mut *tx, sql, (a.webhook.0, reason, At(a.at))).await?;
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.map_err(to_store_error)?;
        Ok(disable)
    }

    async fn deliveries(
        &self,
        webhook: WebhookId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let sql = "select * from webhook_delivery where webhook_id = $1 and ($2 is null or created_at < $2)
                   order by created_at desc, change_id desc limit $3";
        all(&self.pool, sql, (webhook.0, before.map(At), i64::from(limit))).await
    }

    async fn replay_delivery(
        &self,
        webhook: WebhookId,
        change: ChangeId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // A delivery being attempted keeps its lease (the attempt's outcome is then not recorded,
        // its attempts being reset): it is sent again when the lease ends, never twice at once.
        let sql = "update webhook_delivery set next_attempt_at =
                       case when state = 'pending' and next_attempt_at > $3 then next_attempt_at else $3 end,
                       state = 'pending', attempts = 0
                   where webhook_id = $1 and change_id = $2";
        exec(&mut *tx, sql, (webhook.0, change.0, At(at))).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }
}

/// A due delivery's keys and attempts so far.
struct Due(Uuid, Uuid, i64);

impl Read for Due {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(Due(get(r, "webhook_id")?, get(r, "change_id")?, get(r, "attempts")?))
    }
}
