//! The attestations part of the storage port: issuer authorisations, attestations and the
//! status lists their revocations are published in.

use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, Evidence, Redemption, Share};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::{AppId, AttestationId, GroupId, PersonId, ShareId};
use uuid::Uuid;

/// Bytes in a status list (1 bit per entry: 131,072 entries).
pub const STATUS_LIST_BYTES: usize = 16_384;

port! {
pub trait AttestationStore: [Send + Sync] {
    /// Lets a group issue a type (again: no change).
    async fn authorise_issuer(
        &self,
        group: GroupId,
        kind: AttestationType,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The types a group may issue.
    async fn issuer_types(&self, group: GroupId) -> StoreResult<Vec<AttestationType>>;
    async fn create_attestation(&self, a: &Attestation, audit: &AuditEntry) -> StoreResult<()>;
    async fn attestation_by_id(&self, id: AttestationId) -> StoreResult<Option<Attestation>>;
    /// A person's attestations, newest first.
    async fn attestations_of_person(&self, person: PersonId) -> StoreResult<Vec<Attestation>>;
    /// An offered attestation becomes active with its credential at status entry `(list, idx)`
    /// (the list is created when new). `Conflict { constraint: "attestation_status" }` when the
    /// entry is taken; `VersionMismatch` when the attestation is no longer offered.
    #[allow(clippy::too_many_arguments)]
    async fn activate_attestation(
        &self,
        id: AttestationId,
        credential: &str,
        status: (i64, i64),
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Ends an attestation in state `from` (declined, revoked or withdrawn), setting its status
    /// bit in the same transaction when it has one. `VersionMismatch` when it is not in `from`.
    async fn end_attestation(
        &self,
        id: AttestationId,
        from: AttestationState,
        to: AttestationState,
        reason: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Active attestations that expired at or before `now` and whose expiry was not announced yet,
    /// soonest first, at most `limit`.
    async fn unannounced_expiries(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Attestation>>;
    /// Marks the expiry announced and writes `audit` (with its `attestation.expired` change) in one
    /// transaction; `false` when another run announced it first.
    async fn announce_expiry(&self, id: AttestationId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<bool>;
    /// A status list's bytes and when they last changed.
    async fn status_list(&self, list: i64) -> StoreResult<Option<(Vec<u8>, DateTime<Utc>)>>;

    async fn create_share(&self, share: &Share, audit: &AuditEntry) -> StoreResult<()>;
    async fn share_by_code_hash(&self, hash: &[u8]) -> StoreResult<Option<Share>>;
    /// An attestation's shares, newest first.
    async fn shares_of_attestation(&self, attestation: AttestationId) -> StoreResult<Vec<Share>>;
    /// The redemptions of these shares, newest first.
    async fn redemptions_of_shares(&self, shares: &[ShareId]) -> StoreResult<Vec<Redemption>>;
    /// Records a redemption. When `counts` (a successful one), it also takes one use — only if
    /// the share is still usable at `redemption.redeemed_at` (not withdrawn, not expired, uses
    /// left); false (and nothing recorded) otherwise.
    async fn redeem_share(&self, redemption: &Redemption, counts: bool, audit: &AuditEntry) -> StoreResult<bool>;
    /// Withdraws a share; `VersionMismatch` when it was withdrawn already.
    async fn withdraw_share(&self, share: ShareId, at: DateTime<Utc>, audit: &AuditEntry) -> StoreResult<()>;
}
}

/// An `attestation_share` row in plain types.
#[derive(Debug)]
pub struct ShareRow {
    pub share_id: Uuid,
    pub attestation_id: Uuid,
    pub code_hash: Vec<u8>,
    pub claims: serde_json::Value,
    pub verifier_app_id: Option<Uuid>,
    pub max_uses: i64,
    pub uses: i64,
    pub expires_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ShareRow {
    pub fn into_share(self) -> StoreResult<Share> {
        Ok(Share {
            id: ShareId(self.share_id),
            attestation: AttestationId(self.attestation_id),
            code_hash: self.code_hash,
            claims: serde_json::from_value(self.claims).map_err(other)?,
            verifier_app: self.verifier_app_id.map(AppId),
            max_uses: self.max_uses,
            uses: self.uses,
            expires_at: self.expires_at,
            withdrawn_at: self.withdrawn_at,
            created_at: self.created_at,
        })
    }
}

/// An `attestation` row in plain types.
#[derive(Debug)]
pub struct AttestationRow {
    pub attestation_id: Uuid,
    pub attestation_type: String,
    pub subject_id: Uuid,
    pub issuer_group_id: Option<Uuid>,
    pub issued_by: Uuid,
    pub state: String,
    pub claims: serde_json::Value,
    pub evidence: serde_json::Value,
    pub valid_days: i64,
    pub credential: Option<String>,
    pub status_list: Option<i64>,
    pub status_idx: Option<i64>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Other(Box::new(e))
}

impl AttestationRow {
    pub fn from_attestation(a: &Attestation) -> StoreResult<Self> {
        Ok(Self {
            attestation_id: a.id.0,
            attestation_type: a.attestation_type.as_str().to_owned(),
            subject_id: a.subject.0,
            issuer_group_id: a.issuer_group.map(|g| g.0),
            issued_by: a.issued_by.0,
            state: a.state.as_str().to_owned(),
            claims: serde_json::Value::Object(a.claims.clone()),
            evidence: serde_json::to_value(&a.evidence).map_err(other)?,
            valid_days: a.valid_days,
            credential: a.credential.clone(),
            status_list: a.status.map(|s| s.0),
            status_idx: a.status.map(|s| s.1),
            issued_at: a.issued_at,
            expires_at: a.expires_at,
            reason: a.reason.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        })
    }

    pub fn into_attestation(self) -> StoreResult<Attestation> {
        let corrupt = |what: &str| StoreError::Other(format!("stored attestation has a bad {what}").into());
        let serde_json::Value::Object(claims) = self.claims else { return Err(corrupt("claims")) };
        let evidence: Evidence = serde_json::from_value(self.evidence).map_err(other)?;
        Ok(Attestation {
            id: AttestationId(self.attestation_id),
            attestation_type: AttestationType::parse(&self.attestation_type).ok_or_else(|| corrupt("type"))?,
            subject: PersonId(self.subject_id),
            issuer_group: self.issuer_group_id.map(GroupId),
            issued_by: PersonId(self.issued_by),
            state: AttestationState::parse(&self.state).ok_or_else(|| corrupt("state"))?,
            claims,
            evidence,
            valid_days: self.valid_days,
            credential: self.credential,
            status: self.status_list.zip(self.status_idx),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            reason: self.reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Sets bit `idx` of a status list (revoked).
pub fn set_status_bit(bits: &mut [u8], idx: i64) -> StoreResult<()> {
    let i = usize::try_from(idx).map_err(|_| StoreError::Other("negative status index".into()))?;
    let byte = bits.get_mut(i / 8).ok_or_else(|| StoreError::Other("status index beyond the list".into()))?;
    *byte |= 1 << (i % 8);
    Ok(())
}
