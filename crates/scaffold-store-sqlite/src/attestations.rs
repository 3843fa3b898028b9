//! SQLite implementation of the attestations port (times as microseconds, JSON as text).

use crate::rows::{micros, time, to_store_error};
use crate::{SqliteStore, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, Redemption, Share};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::{AppId, AttestationId, GroupId, PersonId, RedemptionId, ShareId};
use scaffold_store::{
    AttestationRow, AttestationStore, STATUS_LIST_BYTES, ShareRow, StoreError, StoreResult, set_status_bit,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

macro_rules! columns {
    () => {
        "attestation_id, attestation_type, subject_id, issuer_group_id, issued_by, state, claims, evidence, \
         valid_days, credential, status_list, status_idx, issued_at, expires_at, reason, created_at, updated_at"
    };
}

fn from_row(r: &SqliteRow) -> StoreResult<Attestation> {
    AttestationRow {
        attestation_id: r.try_get("attestation_id").map_err(to_store_error)?,
        attestation_type: r.try_get("attestation_type").map_err(to_store_error)?,
        subject_id: r.try_get("subject_id").map_err(to_store_error)?,
        issuer_group_id: r.try_get("issuer_group_id").map_err(to_store_error)?,
        issued_by: r.try_get("issued_by").map_err(to_store_error)?,
        state: r.try_get("state").map_err(to_store_error)?,
        claims: serde_json::from_str(&r.try_get::<String, _>("claims").map_err(to_store_error)?)
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        evidence: serde_json::from_str(&r.try_get::<String, _>("evidence").map_err(to_store_error)?)
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        valid_days: r.try_get("valid_days").map_err(to_store_error)?,
        credential: r.try_get("credential").map_err(to_store_error)?,
        status_list: r.try_get("status_list").map_err(to_store_error)?,
        status_idx: r.try_get("status_idx").map_err(to_store_error)?,
        issued_at: r.try_get::<Option<i64>, _>("issued_at").map_err(to_store_error)?.map(time).transpose()?,
        expires_at: r.try_get::<Option<i64>, _>("expires_at").map_err(to_store_error)?.map(time).transpose()?,
        reason: r.try_get("reason").map_err(to_store_error)?,
        created_at: time(r.try_get("created_at").map_err(to_store_error)?)?,
        updated_at: time(r.try_get("updated_at").map_err(to_store_error)?)?,
    }
    .into_attestation()
}

#[async_trait]
impl AttestationStore for SqliteStore {
    async fn authorise_issuer(
        &self,
        group: GroupId,
        kind: AttestationType,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into issuer_authorisation (group_id, attestation_type, authorised_at) values (?1, ?2, ?3)
             on conflict do nothing",
        )
        .bind(group.0)
        .bind(kind.as_str())
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn issuer_types(&self, group: GroupId) -> StoreResult<Vec<AttestationType>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "select attestation_type from issuer_authorisation where group_id = ?1 order by attestation_type",
        )
        .bind(group.0)
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        Ok(rows.iter().filter_map(|t| AttestationType::parse(t)).collect())
    }

    async fn create_attestation(&self, a: &Attestation, audit: &AuditEntry) -> StoreResult<()> {
        let r = AttestationRow::from_attestation(a)?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into attestation (attestation_id, attestation_type, subject_id, issuer_group_id, issued_by, state,
                 claims, evidence, valid_days, credential, status_list, status_idx, issued_at, expires_at, reason,
                 created_at, updated_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .bind(r.attestation_id)
        .bind(&r.attestation_type)
        .bind(r.subject_id)
        .bind(r.issuer_group_id)
        .bind(r.issued_by)
        .bind(&r.state)
        .bind(r.claims.to_string())
        .bind(r.evidence.to_string())
        .bind(r.valid_days)
        .bind(&r.credential)
        .bind(r.status_list)
        .bind(r.status_idx)
        .bind(r.issued_at.map(micros))
        .bind(r.expires_at.map(micros))
        .bind(&r.reason)
        .bind(micros(r.created_at))
        .bind(micros(r.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn attestation_by_id(&self, id: AttestationId) -> StoreResult<Option<Attestation>> {
        let row = sqlx::query(concat!("select ", columns!(), " from attestation where attestation_id = ?1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(to_store_error)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn attestations_of_person(&self, person: PersonId) -> StoreResult<Vec<Attestation>> {
        let rows = sqlx::query(concat!(
            "select ",
            columns!(),
            " from attestation where subject_id = ?1 order by created_at desc, attestation_id desc"
        ))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(from_row).collect()
    }

    async fn activate_attestation(
        &self,
        id: AttestationId,
        credential: &str,
        status: (i64, i64),
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("insert into status_list (list_id, bits, updated_at) values (?1, ?2, ?3) on conflict do nothing")
            .bind(status.0)
            .bind(vec![0u8; STATUS_LIST_BYTES])
            .bind(micros(issued_at))
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
        let done = sqlx::query(
            "update attestation set state = 'active', credential = ?2, status_list = ?3, status_idx = ?4,
                 issued_at = ?5, expires_at = ?6, updated_at = ?5
             where attestation_id = ?1 and state = 'offered'",
        )
        .bind(id.0)
        .bind(credential)
        .bind(status.0)
        .bind(status.1)
        .bind(micros(issued_at))
        .bind(micros(expires_at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::VersionMismatch);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn end_attestation(
        &self,
        id: AttestationId,
        from: AttestationState,
        to: AttestationState,
        reason: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "update attestation set state = ?3, reason = ?4, updated_at = ?5
             where attestation_id = ?1 and state = ?2 returning status_list, status_idx",
        )
        .bind(id.0)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(reason)
        .bind(micros(at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(to_store_error)?;
        let Some((list, idx)) = row else { return Err(StoreError::VersionMismatch) };
        if let (Some(list), Some(idx)) = (list, idx) {
            revoke_entry(&mut tx, list, idx, at).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn status_list(&self, list: i64) -> StoreResult<Option<(Vec<u8>, DateTime<Utc>)>> {
        let row = sqlx::query("select bits, updated_at from status_list where list_id = ?1")
            .bind(list)
            .fetch_optional(&self.pool)
            .await
            .map_err(to_store_error)?;
        row.map(|r| {
            Ok((r.try_get("bits").map_err(to_store_error)?, time(r.try_get("updated_at").map_err(to_store_error)?)?))
        })
        .transpose()
    }
    async fn create_share(&self, share: &Share, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into attestation_share (share_id, attestation_id, code_hash, claims, verifier_app_id, max_uses, uses,
                 expires_at, withdrawn_at, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(share.id.0)
        .bind(share.attestation.0)
        .bind(&share.code_hash)
        .bind(serde_json::json!(share.claims).to_string())
        .bind(share.verifier_app.map(|a| a.0))
        .bind(share.max_uses)
        .bind(share.uses)
        .bind(micros(share.expires_at))
        .bind(share.withdrawn_at.map(micros))
        .bind(micros(share.created_at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn share_by_code_hash(&self, hash: &[u8]) -> StoreResult<Option<Share>> {
        let row = sqlx::query(concat!("select ", share_columns!(), " from attestation_share where code_hash = ?1"))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(to_store_error)?;
        row.as_ref().map(share_from_row).transpose()
    }

    async fn shares_of_attestation(&self, attestation: AttestationId) -> StoreResult<Vec<Share>> {
        let rows = sqlx::query(concat!(
            "select ",
            share_columns!(),
            " from attestation_share where attestation_id = ?1 order by created_at desc, share_id desc"
        ))
        .bind(attestation.0)
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(share_from_row).collect()
    }

    async fn redemptions_of_shares(&self, shares: &[ShareId]) -> StoreResult<Vec<Redemption>> {
        let mut b: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
            "select redemption_id, share_id, verifier_id, app_id, result, redeemed_at from share_redemption
             where share_id in (",
        );
        let mut ids = b.separated(", ");
        for s in shares {
            ids.push_bind(s.0);
        }
        b.push(") order by redeemed_at desc, redemption_id desc");
        let rows = b.build().fetch_all(&self.pool).await.map_err(to_store_error)?;
        rows.iter()
            .map(|r| {
                Ok(Redemption {
                    id: RedemptionId(r.try_get("redemption_id").map_err(to_store_error)?),
                    share: ShareId(r.try_get("share_id").map_err(to_store_error)?),
                    verifier: PersonId(r.try_get("verifier_id").map_err(to_store_error)?),
                    app: r.try_get::<Option<uuid::Uuid>, _>("app_id").map_err(to_store_error)?.map(AppId),
                    result: r.try_get("result").map_err(to_store_error)?,
                    redeemed_at: time(r.try_get("redeemed_at").map_err(to_store_error)?)?,
                })
            })
            .collect()
    }

    async fn redeem_share(&self, r: &Redemption, counts: bool, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if counts {
            let done = sqlx::query(
                "update attestation_share set uses = uses + 1
                 where share_id = ?1 and withdrawn_at is null and expires_at > ?2 and uses < max_uses",
            )
            .bind(r.share.0)
            .bind(micros(r.redeemed_at))
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
        }
        sqlx::query(
            "insert into share_redemption (redemption_id, share_id, verifier_id, app_id, result, redeemed_at)
             values (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(r.id.0)
        .bind(r.share.0)
        .bind(r.verifier.0)
        .bind(r.app.map(|a| a.0))
        .bind(&r.result)
        .bind(micros(r.redeemed_at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(true)
    }

    async fn withdraw_share(&self, share: ShareId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("update attestation_share set withdrawn_at = ?2 where share_id = ?1 and withdrawn_at is null")
                .bind(share.0)
                .bind(micros(at))
                .execute(&mut *tx)
                .await
                .map_err(to_store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::VersionMismatch);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }
}

macro_rules! share_columns {
    () => {
        "share_id, attestation_id, code_hash, claims, verifier_app_id, max_uses, uses, expires_at, withdrawn_at, created_at"
    };
}
use share_columns;

fn share_from_row(r: &SqliteRow) -> StoreResult<Share> {
    ShareRow {
        share_id: r.try_get("share_id").map_err(to_store_error)?,
        attestation_id: r.try_get("attestation_id").map_err(to_store_error)?,
        code_hash: r.try_get("code_hash").map_err(to_store_error)?,
        claims: serde_json::from_str(&r.try_get::<String, _>("claims").map_err(to_store_error)?)
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        verifier_app_id: r.try_get("verifier_app_id").map_err(to_store_error)?,
        max_uses: r.try_get("max_uses").map_err(to_store_error)?,
        uses: r.try_get("uses").map_err(to_store_error)?,
        expires_at: time(r.try_get("expires_at").map_err(to_store_error)?)?,
        withdrawn_at: r.try_get::<Option<i64>, _>("withdrawn_at").map_err(to_store_error)?.map(time).transpose()?,
        created_at: time(r.try_get("created_at").map_err(to_store_error)?)?,
    }
    .into_share()
}

/// A person's account is being deleted: their active credentials are withdrawn and their status
/// bits set in the same transaction, before the rows go, so the credentials stop verifying.
pub(crate) async fn end_credentials_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    person: PersonId,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let entries: Vec<(i64, i64)> = sqlx::query_as(
        "select status_list, status_idx from attestation
         where subject_id = ?1 and state = 'active' and status_list is not null and status_idx is not null",
    )
    .bind(person.0)
    .fetch_all(&mut **tx)
    .await
    .map_err(to_store_error)?;
    for (list, idx) in entries {
        revoke_entry(tx, list, idx, at).await?;
    }
    Ok(())
}

/// Sets one status list bit (revoked) inside the caller's transaction.
async fn revoke_entry(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    list: i64,
    idx: i64,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let mut bits: Vec<u8> = sqlx::query_scalar("select bits from status_list where list_id = ?1")
        .bind(list)
        .fetch_one(&mut **tx)
        .await
        .map_err(to_store_error)?;
    set_status_bit(&mut bits, idx)?;
    sqlx::query("update status_list set bits = ?2, updated_at = ?3 where list_id = ?1")
        .bind(list)
        .bind(bits)
        .bind(micros(at))
        .execute(&mut **tx)
        .await
        .map_err(to_store_error)?;
    Ok(())
}
