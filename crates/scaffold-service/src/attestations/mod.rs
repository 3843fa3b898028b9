//! Attestations (DESIGN §6): issuer authorisation, issuing, the holder's lifecycle (accept,
//! decline, withdraw), revocation and status lists here; the signing key and metadata in `keys`,
//! shares in `shares`. Credentials are made and checked by `scaffold-attest`.

mod keys;
mod presentations;
mod shares;

pub use keys::ATTESTATION_KEYS;
pub use presentations::{PRESENTATION_MAX, PresentationCheck, StatusCache};
use scaffold_domain::change::ChangeType;
pub use shares::{CreatedShare, Redeemed, ShareDraft};

use crate::groups::GroupRef;
use crate::{Service, store_error};
use chrono::Duration;
use scaffold_attest::{PublicKey, StatusList, StatusRef};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, IssueDraft};
use scaffold_domain::codes;
use scaffold_domain::{Actor, AttestationId, DomainError, Scope};
use scaffold_store::StoreError;
use serde_json::{Value, json};

const STATUS_LIST_TOKEN_SECS: i64 = 86_400;
/// Decoy digests added to each credential, so the number of claims is not visible.
const DECOYS: usize = 3;

fn attestation_not_found() -> DomainError {
    AttestationId::not_found()
}

fn state_conflict(a: &Attestation, wanted: &str) -> DomainError {
    DomainError::conflict(codes::ATTESTATION_STATE, format!("the attestation is {}, not {wanted}", a.state))
}

impl Service {
    /// How long a status list may be cached (`ttl`, and the `max-age` it is served with).
    pub fn status_list_ttl(&self) -> i64 {
        self.identity.config().status_list_ttl_secs
    }

    /// The status list URL for list `n`.
    pub fn status_list_uri(&self, n: i64) -> String {
        format!("{}/status-lists/{n}", self.public_url())
    }

    /// Operators let a group with a verified organisation identifier issue a type.
    pub async fn authorise_issuer(
        &self,
        actor: &Actor,
        group: &GroupRef,
        kind: AttestationType,
    ) -> Result<Vec<AttestationType>, DomainError> {
        let person = actor.require(Scope::Admin)?;
        let (g, _) = self.visible_group(actor, group).await?;
        if !g.identifiers.iter().any(|i| i.verified_at.is_some()) {
            return Err(DomainError::conflict(
                codes::ISSUER_NOT_VERIFIED,
                "only a group with a verified charity or company number can issue attestations",
            ));
        }
        if kind == AttestationType::IdentityVerified {
            return Err(DomainError::invalid_field(
                "/type",
                codes::NOT_ISSUED_BY_ORGANISATIONS,
                "identity-verified attestations come from the person's sign-in assurance",
            ));
        }
        let audit = self.audit(Some(person), "issuer.authorise", "group", g.id, json!({ "type": kind.as_str() }));
        self.store.authorise_issuer(g.id, kind, self.clock.now(), &audit).await.map_err(store_error)?;
        self.store.issuer_types(g.id).await.map_err(store_error)
    }

    /// The types a group may issue (anyone who can see the group).
    pub async fn issuer_types(&self, actor: &Actor, group: &GroupRef) -> Result<Vec<AttestationType>, DomainError> {
        let (g, _) = self.visible_group(actor, group).await?;
        self.store.issuer_types(g.id).await.map_err(store_error)
    }

    /// An organiser or owner of an authorised group (with `attestations:issue`) offers an
    /// attestation to a person, recording the evidence. It is active once the person accepts it.
    pub async fn issue_attestation(
        &self,
        actor: &Actor,
        group: &GroupRef,
        draft: &IssueDraft,
    ) -> Result<Attestation, DomainError> {
        actor.require(Scope::AttestationsIssue)?; // 401/403 before anything is looked up
        let access = self.group_access(actor, group).await?;
        let person = access.issue()?;
        let g = access.group;
        if !self.store.issuer_types(g.id).await.map_err(store_error)?.contains(&draft.attestation_type) {
            return Err(DomainError::forbidden(
                codes::ISSUER_NOT_AUTHORISED,
                format!("this group is not authorised to issue {} attestations", draft.attestation_type),
            ));
        }
        if draft.subject == person {
            return Err(DomainError::conflict(codes::SELF_ISSUE, "you cannot issue an attestation to yourself"));
        }
        if self.store.persons_by_ids(&[draft.subject]).await.map_err(store_error)?.is_empty() {
            return Err(DomainError::not_found(codes::PERSON_NOT_FOUND, "there is no such person"));
        }
        let now = self.clock.now();
        let (claims, valid_days) = draft.check(&g.name, now.date_naive())?;
        let a = Attestation {
            id: AttestationId::new_v7(now),
            attestation_type: draft.attestation_type,
            subject: draft.subject,
            issuer_group: Some(g.id),
            issued_by: person,
            state: AttestationState::Offered,
            claims,
            evidence: draft.evidence.clone(),
            valid_days,
            credential: None,
            status: None,
            issued_at: None,
            expires_at: None,
            reason: None,
            created_at: now,
            updated_at: now,
        };
        // The audit says who offered what to whom; never the claims or the evidence.
        let audit = self.audit(
            Some(person),
            "attestation.issue",
            "attestation",
            a.id,
            json!({ "type": a.attestation_type.as_str(), "group_id": g.id.to_string(), "subject": a.subject.to_string() }),
        );
        self.store.create_attestation(&a, &audit).await.map_err(store_error)?;
        Ok(a)
    }

    /// The person asks the instance for an identity-verified credential from their sign-in
    /// assurance (e.g. GOV.UK One Login `vot=P2` → medium); it is signed at once (their request
    /// is their acceptance), bound to `holder_jwk` when given. Valid 90 days.
    pub async fn attest_identity(&self, actor: &Actor, holder_jwk: Option<&Value>) -> Result<Attestation, DomainError> {
        let person = actor.require_holder()?;
        let assurance = self.store.assurance_of(person).await.map_err(store_error)?;
        let claims = assurance.as_ref().and_then(scaffold_domain::attestation::identity_claims).ok_or_else(|| {
            DomainError::conflict(
                codes::NO_VERIFIED_IDENTITY,
                "sign in with a provider that verifies your identity (e.g. GOV.UK One Login) first",
            )
        })?;
        let a_ = assurance.ok_or_else(|| DomainError::internal("assurance vanished"))?;
        // One identity credential at a time: a new one replaces (withdraws) the previous one, so
        // asking again and again cannot fill the status lists.
        for old in self.store.attestations_of_person(person).await.map_err(store_error)? {
            if old.attestation_type == AttestationType::IdentityVerified && old.state == AttestationState::Active {
                let _ = self
                    .end(&old, AttestationState::Active, AttestationState::Withdrawn, Some("replaced"), person)
                    .await?;
            }
        }
        let now = self.clock.now();
        let a = Attestation {
            id: AttestationId::new_v7(now),
            attestation_type: AttestationType::IdentityVerified,
            subject: person,
            issuer_group: None,
            issued_by: person,
            state: AttestationState::Offered,
            claims,
            evidence: scaffold_domain::attestation::Evidence {
                checked: "sign-in identity assurance".to_owned(),
                method: format!("{} {}", a_.provider, a_.source),
                checked_on: a_.asserted_at.date_naive(),
            },
            valid_days: 90,
            credential: None,
            status: None,
            issued_at: None,
            expires_at: None,
            reason: None,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit(
            Some(person),
            "attestation.issue",
            "attestation",
            a.id,
            json!({ "type": a.attestation_type.as_str(), "subject": person.to_string() }),
        );
        self.store.create_attestation(&a, &audit).await.map_err(store_error)?;
        self.accept_attestation(actor, a.id, holder_jwk).await
    }

    /// The caller's attestations, newest first (the holder: see [`Actor::require_holder`]).
    pub async fn my_attestations(&self, actor: &Actor) -> Result<Vec<Attestation>, DomainError> {
        let person = actor.require_holder()?;
        self.store.attestations_of_person(person).await.map_err(store_error)
    }

    /// One of the caller's attestations.
    pub async fn my_attestation(&self, actor: &Actor, id: AttestationId) -> Result<Attestation, DomainError> {
        let person = actor.require_holder()?;
        match self.store.attestation_by_id(id).await.map_err(store_error)? {
            Some(a) if a.subject == person => Ok(a),
            _ => Err(attestation_not_found()),
        }
    }

    /// The person accepts an offered attestation: it is signed (bound to `holder_jwk` when given,
    /// for wallets that present with key binding) at a random entry of a status list.
    pub async fn accept_attestation(
        &self,
        actor: &Actor,
        id: AttestationId,
        holder_jwk: Option<&Value>,
    ) -> Result<Attestation, DomainError> {
        let a = self.my_attestation(actor, id).await?;
        if a.state != AttestationState::Offered {
            return Err(state_conflict(&a, "offered"));
        }
        let holder = holder_jwk
            .map(|j| {
                PublicKey::from_jwk(j).map_err(|e| {
                    DomainError::invalid_field(
                        "/holder_jwk",
                        codes::INVALID_HOLDER_KEY,
                        format!("must be an EC P-256 public JWK ({e})"),
                    )
                })
            })
            .transpose()?;
        let (key, _) = self.attestation_keys().await?;
        let now = self.clock.now();
        let expires = now + Duration::days(a.valid_days);
        let audit = self.audit(
            Some(a.subject),
            "attestation.accept",
            "attestation",
            a.id,
            json!({ "type": a.attestation_type.as_str(), "holder_bound": holder.is_some() }),
        );
        // Random entries of list 1, moving on to the next list as one fills up (4 tries each), and
        // never an entry whose bit is set (one freed by a deleted account stays revoked).
        let mut current: Option<(i64, StatusList)> = None;
        for attempt in 0..256_i64 {
            let list = 1 + attempt / 4;
            let mut r = [0u8; 4];
            getrandom::fill(&mut r).map_err(|e| DomainError::internal(e.to_string()))?;
            let idx = i64::from(u32::from_le_bytes(r)) % i64::try_from(scaffold_attest::MIN_ENTRIES).unwrap_or(131_072);
            if current.as_ref().is_none_or(|(l, _)| *l != list) {
                let stored = self.store.status_list(list).await.map_err(store_error)?;
                current = Some((list, StatusList::from_bytes(stored.map(|(b, _)| b).unwrap_or_default())));
            }
            let taken =
                current.as_ref().is_some_and(|(_, l)| usize::try_from(idx).ok().and_then(|i| l.get(i)) == Some(true));
            if taken {
                continue;
            }
            let credential = scaffold_attest::Credential {
                iss: self.public_url(),
                vct: a.attestation_type.vct(&self.public_url()),
                iat: now.timestamp(),
                nbf: Some(now.timestamp()),
                exp: expires.timestamp(),
                visible: serde_json::Map::new(),
                selective: a.claims.clone(),
                holder: holder.clone(),
                status: Some(StatusRef { uri: self.status_list_uri(list), idx: u32::try_from(idx).unwrap_or(0) }),
                decoys: DECOYS,
            };
            let issued = scaffold_attest::issue(&key, &credential).map_err(DomainError::internal)?;
            match self.store.activate_attestation(a.id, &issued.sd_jwt, (list, idx), now, expires, &audit).await {
                Ok(()) => return self.my_attestation(actor, id).await,
                Err(StoreError::Conflict { constraint: "attestation_status" }) => {}
                Err(StoreError::VersionMismatch) => return Err(state_conflict(&a, "offered")),
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(DomainError::internal("no free status list entry after 256 tries"))
    }

    /// The person declines an offered attestation.
    pub async fn decline_attestation(&self, actor: &Actor, id: AttestationId) -> Result<Attestation, DomainError> {
        let a = self.my_attestation(actor, id).await?;
        self.end(&a, AttestationState::Offered, AttestationState::Declined, None, a.subject).await
    }

    /// The holder withdraws an active attestation: it stops verifying at once.
    pub async fn withdraw_attestation(
        &self,
        actor: &Actor,
        id: AttestationId,
        reason: Option<&str>,
    ) -> Result<Attestation, DomainError> {
        let a = self.my_attestation(actor, id).await?;
        self.end(&a, AttestationState::Active, AttestationState::Withdrawn, reason, a.subject).await
    }

    /// The issuing group's organisers and owners (`attestations:issue`) revoke an active
    /// attestation with a reason (for DBS checks: new information).
    pub async fn revoke_attestation(
        &self,
        actor: &Actor,
        id: AttestationId,
        reason: &str,
    ) -> Result<Attestation, DomainError> {
        let person = actor.require(Scope::AttestationsIssue)?;
        let a = self.store.attestation_by_id(id).await.map_err(store_error)?.ok_or_else(attestation_not_found)?;
        let manages = match a.issuer_group {
            Some(group) => match self.group_access(actor, &GroupRef::Id(group)).await {
                Ok(access) => access.issue().is_ok(),
                Err(_) => false,
            },
            // The instance's own credentials (identity attestations): no group issued them, so
            // the instance's operators revoke them.
            None => crate::access::operates_instance(actor),
        };
        if !manages {
            return Err(attestation_not_found());
        }
        let reason = scaffold_domain::text::bounded("/reason", reason, 3, 280, false)
            .map_err(|e| DomainError::invalid(vec![e]))?;
        let state =
            if a.state == AttestationState::Offered { AttestationState::Offered } else { AttestationState::Active };
        self.end(&a, state, AttestationState::Revoked, Some(&reason), person).await
    }

    async fn end(
        &self,
        a: &Attestation,
        from: AttestationState,
        to: AttestationState,
        reason: Option<&str>,
        by: scaffold_domain::PersonId,
    ) -> Result<Attestation, DomainError> {
        if a.state != from {
            return Err(state_conflict(a, from.as_str()));
        }
        let action = match to {
            AttestationState::Declined => "attestation.decline",
            AttestationState::Withdrawn => "attestation.withdraw",
            _ => "attestation.revoke",
        };
        let mut audit =
            self.audit(Some(by), action, "attestation", a.id, json!({ "type": a.attestation_type.as_str() }));
        match to {
            AttestationState::Withdrawn => {
                audit = audit.with_change(self.attestation_change(ChangeType::AttestationWithdrawn, a));
            }
            AttestationState::Revoked => {
                audit = audit.with_change(self.attestation_change(ChangeType::AttestationRevoked, a));
            }
            _ => {}
        }
        self.store.end_attestation(a.id, from, to, reason, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::VersionMismatch => state_conflict(a, from.as_str()),
            other => store_error(other),
        })?;
        self.store.attestation_by_id(a.id).await.map_err(store_error)?.ok_or_else(attestation_not_found)
    }

    /// Status list `n` as a signed `statuslist+jwt` (valid a day, to be cached for
    /// [`Service::status_list_ttl`]).
    pub async fn status_list_token(&self, n: i64) -> Result<String, DomainError> {
        let (bits, _) = self
            .store
            .status_list(n)
            .await
            .map_err(store_error)?
            .ok_or_else(|| DomainError::not_found(codes::STATUS_LIST_NOT_FOUND, "there is no such status list"))?;
        let list = StatusList::from_bytes(bits);
        let (key, _) = self.attestation_keys().await?;
        let now = self.clock.now().timestamp();
        list.sign(&key, &self.status_list_uri(n), now, now + STATUS_LIST_TOKEN_SECS, self.status_list_ttl())
            .map_err(DomainError::internal)
    }
}

impl Service {
    /// The expiry job: announces up to `batch` attestations that expired since the last run as
    /// `attestation.expired` changes (once each, whichever replica runs it). Returns how many.
    pub async fn announce_expiries(&self, batch: u32) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let mut done = 0;
        for a in self.store.unannounced_expiries(now, batch).await.map_err(store_error)? {
            let audit = self
                .audit(None, "attestation.expire", "attestation", a.id, json!({ "type": a.attestation_type.as_str() }))
                .with_change(self.attestation_change(ChangeType::AttestationExpired, &a));
            if self.store.announce_expiry(a.id, now, &audit).await.map_err(store_error)? {
                done += 1;
            }
        }
        Ok(done)
    }
}
