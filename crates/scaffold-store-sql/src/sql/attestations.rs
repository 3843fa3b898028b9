//! The attestations port: issuer authorisations, attestations, status lists and shares.

use super::d::{self, At, DbRow, Tx, for_update, to_store_error};
use super::rows::{at, at_opt, get, json, row};
use super::run::{ChangedOr, Read, Values, all, built, exec, insert, insert_new, opt, one, values};
use super::{SqlStore, commit, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, Redemption, Share};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::{AppId, AttestationId, GroupId, PersonId, RedemptionId, ShareId};
use scaffold_store::{
    AttestationRow, AttestationStore, STATUS_LIST_BYTES, ShareRow, StoreError, StoreResult, set_status_bit,
};
use sqlx::types::Json;

impl Read for Attestation {
    fn read(r: &DbRow) -> StoreResult<Self> {
        row!(r => AttestationRow {
            attestation_id, attestation_type, subject_id, issuer_group_id, issued_by, state, claims: json,
            evidence: json, valid_days, credential, status_list, status_idx, issued_at: at_opt, expires_at: at_opt,
            reason, created_at: at, updated_at: at
        })
        .into_attestation()
    }
}

impl Read for Share {
    fn read(r: &DbRow) -> StoreResult<Self> {
        row!(r => ShareRow {
            share_id, attestation_id, code_hash, claims: json, verifier_app_id, max_uses, uses, expires_at: at,
            withdrawn_at: at_opt, created_at: at
        })
        .into_share()
    }
}

impl Read for Redemption {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => Redemption {
            id = RedemptionId(get(r, "redemption_id")?), share = ShareId(get(r, "share_id")?),
            verifier = PersonId(get(r, "verifier_id")?),
            app = get::<Option<uuid::Uuid>>(r, "app_id")?.map(AppId), result, redeemed_at: at
        }))
    }
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
        let v = values! { group_id: group.0, attestation_type: kind.as_str(), authorised_at: At(at) };
        insert_new(&mut *tx, "issuer_authorisation", v).await?;
        commit(tx, audit).await
    }

    async fn issuer_types(&self, group: GroupId) -> StoreResult<Vec<AttestationType>> {
        let sql = "select attestation_type from issuer_authorisation where group_id = $1 order by attestation_type";
        let rows: Vec<String> = all(&self.pool, sql, (group.0,)).await?;
        Ok(rows.iter().filter_map(|t| AttestationType::parse(t)).collect())
    }

    async fn create_attestation(&self, a: &Attestation, audit: &AuditEntry) -> StoreResult<()> {
        let r = AttestationRow::from_attestation(a)?;
        let mut tx = self.begin().await?;
        let v = values! {
            attestation_id: r.attestation_id, attestation_type: &r.attestation_type, subject_id: r.subject_id,
            issuer_group_id: r.issuer_group_id, issued_by: r.issued_by, state: &r.state, claims: Json(&r.claims),
            evidence: Json(&r.evidence), valid_days: r.valid_days, credential: &r.credential,
            status_list: r.status_list, status_idx: r.status_idx, issued_at: r.issued_at.map(At),
            expires_at: r.expires_at.map(At), reason: &r.reason, created_at: At(r.created_at),
            updated_at: At(r.updated_at),
        };
        insert(&mut *tx, "attestation", v).await?;
        commit(tx, audit).await
    }

    async fn attestation_by_id(&self, id: AttestationId) -> StoreResult<Option<Attestation>> {
        opt(&self.pool, "select * from attestation where attestation_id = $1", (id.0,)).await
    }

    async fn unannounced_expiries(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Attestation>> {
        let sql = "select * from attestation
                   where state = 'active' and expiry_announced_at is null and expires_at <= $1
                   order by expires_at, attestation_id limit $2";
        all(&self.pool, sql, (At(now), i64::from(limit))).await
    }

    async fn announce_expiry(&self, id: AttestationId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let sql = "update attestation set expiry_announced_at = $2
                   where attestation_id = $1 and expiry_announced_at is null and state = 'active'";
        if exec(&mut *tx, sql, (id.0, At(at))).await?.rows_affected() == 0 {
            return Ok(false);
        }
        commit(tx, audit).await.map(|()| true)
    }

    async fn attestations_of_person(&self, person: PersonId) -> StoreResult<Vec<Attestation>> {
        let sql = "select * from attestation where subject_id = $1 order by created_at desc, attestation_id desc";
        all(&self.pool, sql, (person.0,)).await
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
        let v = values! { list_id: status.0, bits: vec![0u8; STATUS_LIST_BYTES], updated_at: At(issued_at) };
        insert_new(&mut *tx, "status_list", v).await?;
        let sql = "update attestation set state = 'active', credential = $2, status_list = $3, status_idx = $4,
                       issued_at = $5, expires_at = $6, updated_at = $5
                   where attestation_id = $1 and state = 'offered'";
        exec(&mut *tx, sql, (id.0, credential, status.0, status.1, At(issued_at), At(expires_at))).await?.changed_or(StoreError::VersionMismatch)?;
        commit(tx, audit).await
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
        let sql = "update attestation set state = $3, reason = $4, updated_at = $5
                   where attestation_id = $1 and state = $2 returning status_list, status_idx";
        let row: Option<(Option<i64>, Option<i64>)> = opt(&mut *tx, sql, (id.0, from.as_str(), to.as_str(), reason, At(at))).await?;
        let Some((list, idx)) = row else { return Err(StoreError::VersionMismatch) };
        if let (Some(list), Some(idx)) = (list, idx) {
            revoke_entry(&mut tx, list, idx, at).await?;
        }
        commit(tx, audit).await
    }

    async fn status_list(&self, list: i64) -> StoreResult<Option<(Vec<u8>, DateTime<Utc>)>> {
        let row: Option<(Vec<u8>, At)> =
            opt(&self.pool, "select bits, updated_at from status_list where list_id = $1", (list,)).await?;
        Ok(row.map(|(bits, at)| (bits, at.0)))
    }
    async fn create_share(&self, share: &Share, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let v = values! {
            share_id: share.id.0, attestation_id: share.attestation.0, code_hash: &share.code_hash,
            claims: Json(&share.claims), verifier_app_id: share.verifier_app.map(|a| a.0),
            max_uses: share.max_uses, uses: share.uses, expires_at: At(share.expires_at),
            withdrawn_at: share.withdrawn_at.map(At), created_at: At(share.created_at),
        };
        insert(&mut *tx, "attestation_share", v).await?;
        commit(tx, audit).await
    }

    async fn share_by_code_hash(&self, hash: &[u8]) -> StoreResult<Option<Share>> {
        opt(&self.pool, "select * from attestation_share where code_hash = $1", (hash,)).await
    }

    async fn shares_of_attestation(&self, attestation: AttestationId) -> StoreResult<Vec<Share>> {
        let sql = "select * from attestation_share where attestation_id = $1 order by created_at desc, share_id desc";
        all(&self.pool, sql, (attestation.0,)).await
    }

    async fn redemptions_of_shares(&self, shares: &[ShareId]) -> StoreResult<Vec<Redemption>> {
        let mut b = sqlx::QueryBuilder::<d::Db>::new("select * from share_redemption where share_id");
        d::in_list(&mut b, shares.iter().map(|s| s.0).collect());
        b.push(" order by redeemed_at desc, redemption_id desc");
        built(b, &self.pool).await
    }

    async fn redeem_share(&self, r: &Redemption, counts: bool, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if counts {
            let sql = "update attestation_share set uses = uses + 1
                       where share_id = $1 and withdrawn_at is null and expires_at > $2 and uses < max_uses";
            let done = exec(&mut *tx, sql, (r.share.0, At(r.redeemed_at))).await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
        }
        let v = values! {
            redemption_id: r.id.0, share_id: r.share.0, verifier_id: r.verifier.0, app_id: r.app.map(|a| a.0),
            result: &r.result, redeemed_at: At(r.redeemed_at),
        };
        insert(&mut *tx, "share_redemption", v).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(true)
    }

    async fn withdraw_share(&self, share: ShareId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let sql = "update attestation_share set withdrawn_at = $2 where share_id = $1 and withdrawn_at is null";
        exec(&mut *tx, sql, (share.0, At(at))).await?.changed_or(StoreError::VersionMismatch)?;
        commit(tx, audit).await
    }
}

/// A person's account is being deleted: their active credentials are withdrawn and their status
/// bits set in the same transaction, before the rows go, so the credentials stop verifying.
pub(crate) async fn end_credentials_of(tx: &mut Tx<'_>, person: PersonId, at: DateTime<Utc>) -> StoreResult<()> {
    let sql = "select status_list, status_idx from attestation
               where subject_id = $1 and state = 'active' and status_list is not null and status_idx is not null";
    let entries: Vec<(i64, i64)> = all(&mut **tx, sql, (person.0,)).await?;
    for (list, idx) in entries {
        revoke_entry(tx, list, idx, at).await?;
    }
    Ok(())
}

/// Sets one status list bit (revoked) inside the caller's transaction.
async fn revoke_entry(tx: &mut Tx<'_>, list: i64, idx: i64, at: DateTime<Utc>) -> StoreResult<()> {
    let mut bits: Vec<u8> =
        one(&mut **tx, concat!("select bits from status_list where list_id = $1", for_update!()), (list,)).await?;
    set_status_bit(&mut bits, idx)?;
    exec(&mut **tx, "update status_list set bits = $2, updated_at = $3 where list_id = $1", (list, bits, At(at)))
        .await?;
    Ok(())
}
