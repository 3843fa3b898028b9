//! The attestations port: issuer authorisations, attestations, status lists and shares.

use super::d::{self, At, DbRow, Tx, for_update, to_store_error};
use super::rows::{at, at_opt, get, json};
use super::{SqlStore, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, Redemption, Share};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::{AppId, AttestationId, GroupId, PersonId, RedemptionId, ShareId};
use scaffold_store::{
    AttestationRow, AttestationStore, STATUS_LIST_BYTES, ShareRow, StoreError, StoreResult, set_status_bit,
};
use sqlx::types::Json;

macro_rules! columns {
    () => {
        "attestation_id, attestation_type, subject_id, issuer_group_id, issued_by, state, claims, evidence, \
         valid_days, credential, status_list, status_idx, issued_at, expires_at, reason, created_at, updated_at"
    };
}

fn from_row(r: &DbRow) -> StoreResult<Attestation> {
    AttestationRow {
        attestation_id: get(r, "attestation_id")?,
        attestation_type: get(r, "attestation_type")?,
        subject_id: get(r, "subject_id")?,
        issuer_group_id: get(r, "issuer_group_id")?,
        issued_by: get(r, "issued_by")?,
        state: get(r, "state")?,
        claims: json(r, "claims")?,
        evidence: json(r, "evidence")?,
        valid_days: get(r, "valid_days")?,
        credential: get(r, "credential")?,
        status_list: get(r, "status_list")?,
        status_idx: get(r, "status_idx")?,
        issued_at: at_opt(r, "issued_at")?,
        expires_at: at_opt(r, "expires_at")?,
        reason: get(r, "reason")?,
        created_at: at(r, "created_at")?,
        updated_at: at(r, "updated_at")?,
    }
    .into_attestation()
}

#[async_trait]
impl AttestationStore for SqlStore {
    async fn authorise_issuer(
        &self,
        group: GroupId,
        kind: AttestationType,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into issuer_authorisation (group_id, attestation_type, authorised_at) values ($1, $2, $3)
             on conflict do nothing",
        )
        .bind(group.0)
        .bind(kind.as_str())
        .bind(At(at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn issuer_types(&self, group: GroupId) -> StoreResult<Vec<AttestationType>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "select attestation_type from issuer_authorisation where group_id = $1 order by attestation_type",
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
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(r.attestation_id)
        .bind(&r.attestation_type)
        .bind(r.subject_id)
        .bind(r.issuer_group_id)
        .bind(r.issued_by)
        .bind(&r.state)
        .bind(Json(&r.claims))
        .bind(Json(&r.evidence))
        .bind(r.valid_days)
        .bind(&r.credential)
        .bind(r.status_list)
        .bind(r.status_idx)
        .bind(r.issued_at.map(At))
        .bind(r.expires_at.map(At))
        .bind(&r.reason)
        .bind(At(r.created_at))
        .bind(At(r.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn attestation_by_id(&self, id: AttestationId) -> StoreResult<Option<Attestation>> {
        let row = sqlx::query(concat!("select ", columns!(), " from attestation where attestation_id = $1"))
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
            " from attestation where subject_id = $1 order by created_at desc, attestation_id desc"
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
        sqlx::query("insert into status_list (list_id, bits, updated_at) values ($1, $2, $3) on conflict do nothing")
            .bind(status.0)
            .bind(vec![0u8; STATUS_LIST_BYTES])
            .bind(At(issued_at))
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
        let done = sqlx::query(
            "update attestation set state = 'active', credential = $2, status_list = $3, status_idx = $4,
                 issued_at = $5, expires_at = $6, updated_at = $5
             where attestation_id = $1 and state = 'offered'",
        )
        .bind(id.0)
        .bind(credential)
        .bind(status.0)
        .bind(status.1)
        .bind(At(issued_at))
        .bind(At(expires_at))
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
            "update attestation set state = $3, reason = $4, updated_at = $5
             where attestation_id = $1 and state = $2 returning status_list, status_idx",
        )
        .bind(id.0)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(reason)
        .bind(At(at))
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
        let row = sqlx::query("select bits, updated_at from status_list where list_id = $1")
            .bind(list)
            .fetch_optional(&self.pool)
            .await
            .map_err(to_store_error)?;
        row.as_ref().map(|r| Ok((get(r, "bits")?, at(r, "updated_at")?))).transpose()
    }
    async fn create_share(&self, share: &Share, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into attestation_share (share_id, attestation_id, code_hash, claims, verifier_app_id, max_uses, uses,
                 expires_at, withdrawn_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(share.id.0)
        .bind(share.attestation.0)
        .bind(&share.code_hash)
        .bind(Json(&share.claims))
        .bind(share.verifier_app.map(|a| a.0))
        .bind(share.max_uses)
        .bind(share.uses)
        .bind(At(share.expires_at))
        .bind(share.withdrawn_at.map(At))
        .bind(At(share.created_at))
        .execute(&mut *tx)
        .await
        .map_err(to_store_error)?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn share_by_code_hash(&self, hash: &[u8]) -> StoreResult<Option<Share>> {
        let row = sqlx::query(concat!("select ", share_columns!(), " from attestation_share where code_hash = $1"))
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
            " from attestation_share where attestation_id = $1 order by created_at desc, share_id desc"
        ))
        .bind(attestation.0)
        .fetch_all(&self.pool)
        .await
        .map_err(to_store_error)?;
        rows.iter().map(share_from_row).collect()
    }

    async fn redemptions_of_shares(&self, shares: &[ShareId]) -> StoreResult<Vec<Redemption>> {
        let mut b = sqlx::QueryBuilder::<d::Db>::new(
            "select redemption_id, share_id, verifier_id, app_id, result, redeemed_at from share_redemption
             where share_id",
        );
        d::in_list(&mut b, shares.iter().map(|s| s.0).collect());
        b.push(" order by redeemed_at desc, redemption_id desc");
        let rows = b.build().fetch_all(&self.pool).await.map_err(to_store_error)?;
        rows.iter()
            .map(|r| {
                Ok(Redemption {
                    id: RedemptionId(get(r, "redemption_id")?),
                    share: ShareId(get(r, "share_id")?),
                    verifier: PersonId(get(r, "verifier_id")?),
                    app: get::<Option<uuid::Uuid>>(r, "app_id")?.map(AppId),
                    result: get(r, "result")?,
                    redeemed_at: at(r, "redeemed_at")?,
                })
            })
            .collect()
    }

    async fn redeem_share(&self, r: &Redemption, counts: bool, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if counts {
            let done = sqlx::query(
                "update attestation_share set uses = uses + 1
                 where share_id = $1 and withdrawn_at is null and expires_at > $2 and uses < max_uses",
            )
            .bind(r.share.0)
            .bind(At(r.redeemed_at))
            .execute(&mut *tx)
            .await
            .map_err(to_store_error)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
        }
        sqlx::query(
            "insert into share_redemption (redemption_id, share_id, verifier_id, app_id, result, redeemed_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.id.0)
        .bind(r.share.0)
        .bind(r.verifier.0)
        .bind(r.app.map(|a| a.0))
        .bind(&r.result)
        .bind(At(r.redeemed_at))
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
            sqlx::query("update attestation_share set withdrawn_at = $2 where share_id = $1 and withdrawn_at is null")
                .bind(share.0)
                .bind(At(at))
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

fn share_from_row(r: &DbRow) -> StoreResult<Share> {
    ShareRow {
        share_id: get(r, "share_id")?,
        attestation_id: get(r, "attestation_id")?,
        code_hash: get(r, "code_hash")?,
        claims: json(r, "claims")?,
        verifier_app_id: get(r, "verifier_app_id")?,
        max_uses: get(r, "max_uses")?,
        uses: get(r, "uses")?,
        expires_at: at(r, "expires_at")?,
        withdrawn_at: at_opt(r, "withdrawn_at")?,
        created_at: at(r, "created_at")?,
    }
    .into_share()
}

/// A person's account is being deleted: their active credentials are withdrawn and their status
/// bits set in the same transaction, before the rows go, so the credentials stop verifying.
pub(crate) async fn end_credentials_of(tx: &mut Tx<'_>, person: PersonId, at: DateTime<Utc>) -> StoreResult<()> {
    let entries: Vec<(i64, i64)> = sqlx::query_as(
        "select status_list, status_idx from attestation
         where subject_id = $1 and state = 'active' and status_list is not null and status_idx is not null",
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
async fn revoke_entry(tx: &mut Tx<'_>, list: i64, idx: i64, at: DateTime<Utc>) -> StoreResult<()> {
    let mut bits: Vec<u8> =
        sqlx::query_scalar(concat!("select bits from status_list where list_id = $1", for_update!()))
            .bind(list)
            .fetch_one(&mut **tx)
            .await
            .map_err(to_store_error)?;
    set_status_bit(&mut bits, idx)?;
    sqlx::query("update status_list set bits = $2, updated_at = $3 where list_id = $1")
        .bind(list)
        .bind(bits)
        .bind(At(at))
        .execute(&mut **tx)
        .await
        .map_err(to_store_error)?;
    Ok(())
}
