//! PostgreSQL implementation of the attestations port.

use crate::rows::to_store_error;
use crate::{PgStore, insert_audit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::{AttestationId, GroupId, PersonId};
use scaffold_store::{AttestationRow, AttestationStore, STATUS_LIST_BYTES, StoreError, StoreResult, set_status_bit};
use sqlx::Row;
use sqlx::postgres::PgRow;

macro_rules! columns {
    () => {
        "attestation_id, attestation_type, subject_id, issuer_group_id, issued_by, state, claims, evidence, \
         valid_days, credential, status_list, status_idx, issued_at, expires_at, reason, created_at, updated_at"
    };
}

fn from_row(r: &PgRow) -> StoreResult<Attestation> {
    AttestationRow {
        attestation_id: r.try_get("attestation_id").map_err(to_store_error)?,
        attestation_type: r.try_get("attestation_type").map_err(to_store_error)?,
        subject_id: r.try_get("subject_id").map_err(to_store_error)?,
        issuer_group_id: r.try_get("issuer_group_id").map_err(to_store_error)?,
        issued_by: r.try_get("issued_by").map_err(to_store_error)?,
        state: r.try_get("state").map_err(to_store_error)?,
        claims: r.try_get("claims").map_err(to_store_error)?,
        evidence: r.try_get("evidence").map_err(to_store_error)?,
        valid_days: r.try_get("valid_days").map_err(to_store_error)?,
        credential: r.try_get("credential").map_err(to_store_error)?,
        status_list: r.try_get("status_list").map_err(to_store_error)?,
        status_idx: r.try_get("status_idx").map_err(to_store_error)?,
        issued_at: r.try_get("issued_at").map_err(to_store_error)?,
        expires_at: r.try_get("expires_at").map_err(to_store_error)?,
        reason: r.try_get("reason").map_err(to_store_error)?,
        created_at: r.try_get("created_at").map_err(to_store_error)?,
        updated_at: r.try_get("updated_at").map_err(to_store_error)?,
    }
    .into_attestation()
}

#[async_trait]
impl AttestationStore for PgStore {
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
        .bind(at)
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
        .bind(&r.claims)
        .bind(&r.evidence)
        .bind(r.valid_days)
        .bind(&r.credential)
        .bind(r.status_list)
        .bind(r.status_idx)
        .bind(r.issued_at)
        .bind(r.expires_at)
        .bind(&r.reason)
        .bind(r.created_at)
        .bind(r.updated_at)
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
            .bind(issued_at)
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
        .bind(issued_at)
        .bind(expires_at)
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
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(to_store_error)?;
        let Some((list, idx)) = row else { return Err(StoreError::VersionMismatch) };
        if let (Some(list), Some(idx)) = (list, idx) {
            let mut bits: Vec<u8> = sqlx::query_scalar("select bits from status_list where list_id = $1 for update")
                .bind(list)
                .fetch_one(&mut *tx)
                .await
                .map_err(to_store_error)?;
            set_status_bit(&mut bits, idx)?;
            sqlx::query("update status_list set bits = $2, updated_at = $3 where list_id = $1")
                .bind(list)
                .bind(bits)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(to_store_error)?;
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
        row.map(|r| Ok((r.try_get("bits").map_err(to_store_error)?, r.try_get("updated_at").map_err(to_store_error)?)))
            .transpose()
    }
}
