//! Attestations (DESIGN §6): the credential signing key (one per instance, created once in the
//! store or rotated with `scaffold keys rotate --purpose attestation`), the issuer metadata that
//! verifiers fetch (`/.well-known/jwt-vc-issuer`), and each credential type's metadata
//! (`/vct/{type}/v1`). Credentials are made and checked by `scaffold-attest`.

use crate::groups::GroupRef;
use crate::{Service, store_error};
use chrono::DurationRound;
use chrono::{DateTime, Duration, Utc};
use scaffold_attest::{PublicKey, SigningKey, StatusList, StatusRef};
use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, IssueDraft, Redemption, Share};
use scaffold_domain::{Actor, AttestationId, DomainError, Scope, ShareId};
use scaffold_store::{SigningKeyRecord, StoreError};
use serde_json::{Value, json};

/// The signing-key purpose of credentials and status lists.
pub const ATTESTATION_KEYS: &str = "attestation";

fn new_key(now: DateTime<Utc>) -> Result<(SigningKey, SigningKeyRecord), DomainError> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| DomainError::internal(e.to_string()))?;
    let kid = format!("attest-{}-{}", now.format("%Y%m%d"), id.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let (key, der) = SigningKey::generate(kid.clone()).map_err(DomainError::internal)?;
    let record = SigningKeyRecord {
        kid,
        purpose: ATTESTATION_KEYS.to_owned(),
        algorithm: "ES256".to_owned(),
        private_der: der,
        public_jwk: key.public().to_jwk().to_string(),
        created_at: now,
        retired_at: None,
        publish_until: None,
    };
    Ok((key, record))
}

impl Service {
    /// The active attestation key and every published public key (the active one and retired
    /// ones whose credentials may not have expired yet). The first key is created once, shared by
    /// all replicas (the store keeps one active key per purpose).
    pub async fn attestation_keys(&self) -> Result<(SigningKey, Vec<PublicKey>), DomainError> {
        let now = self.clock.now();
        let mut stored = self.store.signing_keys(ATTESTATION_KEYS).await.map_err(store_error)?;
        if !stored.iter().any(|k| k.retired_at.is_none()) {
            let (_, record) = new_key(now)?;
            let _ = self.store.create_first_signing_key(&record).await.map_err(store_error)?;
            stored = self.store.signing_keys(ATTESTATION_KEYS).await.map_err(store_error)?;
        }
        let active = stored
            .iter()
            .find(|k| k.retired_at.is_none())
            .ok_or_else(|| DomainError::internal("no active attestation key"))?;
        let signing = SigningKey::from_pkcs8(active.kid.clone(), &active.private_der).map_err(DomainError::internal)?;
        let published = stored
            .iter()
            .filter(|k| k.publish_until.is_none_or(|until| until > now))
            .filter_map(|k| serde_json::from_str::<Value>(&k.public_jwk).ok())
            .filter_map(|jwk| PublicKey::from_jwk(&jwk).ok())
            .collect();
        Ok((signing, published))
    }

    /// A new active attestation key; the old one stays published until every credential it
    /// could have signed has expired (the longest validity of any type, plus a day). Returns the
    /// new `kid`.
    pub async fn rotate_attestation_key(&self) -> Result<String, DomainError> {
        let now = self.clock.now();
        let longest = AttestationType::ALL.iter().map(|t| t.max_validity_days()).max().unwrap_or(365);
        let (key, record) = new_key(now)?;
        self.store.rotate_signing_key(&record, now, now + Duration::days(longest + 1)).await.map_err(store_error)?;
        Ok(key.kid().to_owned())
    }

    /// The issuer metadata verifiers fetch (SD-JWT VC issuer metadata): this instance's URL and
    /// its attestation keys as a JWK Set.
    pub async fn issuer_metadata(&self) -> Result<Value, DomainError> {
        let (_, keys) = self.attestation_keys().await?;
        let keys: Vec<Value> = keys.iter().map(PublicKey::to_jwk).collect();
        Ok(json!({ "issuer": self.public_url(), "jwks": { "keys": keys } }))
    }

    /// A credential type's metadata, for `/vct/{type}/{version}`.
    pub fn type_metadata(&self, name: &str, version: &str) -> Result<Value, DomainError> {
        match AttestationType::parse(name) {
            Some(t) if version == AttestationType::VERSION => Ok(t.metadata(&self.public_url())),
            _ => {
                Err(DomainError::not_found("TYPE_NOT_FOUND", "there is no credential type with that name and version"))
            }
        }
    }

    fn public_url(&self) -> String {
        self.identity.config().public_url.trim_end_matches('/').to_owned()
    }
}

/// How long a status list token is valid, and how long it may be cached (`ttl`).
pub const STATUS_LIST_TTL_SECS: i64 = 300;
const STATUS_LIST_TOKEN_SECS: i64 = 86_400;
/// Decoy digests added to each credential, so the number of claims is not visible.
const DECOYS: usize = 3;

fn attestation_not_found() -> DomainError {
    DomainError::not_found("ATTESTATION_NOT_FOUND", "there is no attestation with that id that you can see")
}

fn state_conflict(a: &Attestation, wanted: &str) -> DomainError {
    DomainError::conflict("ATTESTATION_STATE", format!("the attestation is {}, not {wanted}", a.state))
}

impl Service {
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
                "ISSUER_NOT_VERIFIED",
                "only a group with a verified charity or company number can issue attestations",
            ));
        }
        if kind == AttestationType::IdentityVerified {
            return Err(DomainError::invalid_field(
                "/type",
                "NOT_ISSUED_BY_ORGANISATIONS",
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
        let person = actor.require(Scope::AttestationsIssue)?;
        let (g, m) = self.visible_group(actor, group).await?;
        if !m.as_ref().is_some_and(scaffold_domain::membership::Membership::can_manage) {
            return Err(DomainError::forbidden(
                "GROUP_ROLE_REQUIRED",
                "only the group's organisers and owners can issue its attestations",
            ));
        }
        if !self.store.issuer_types(g.id).await.map_err(store_error)?.contains(&draft.attestation_type) {
            return Err(DomainError::forbidden(
                "ISSUER_NOT_AUTHORISED",
                format!("this group is not authorised to issue {} attestations", draft.attestation_type),
            ));
        }
        if draft.subject == person {
            return Err(DomainError::conflict("SELF_ISSUE", "you cannot issue an attestation to yourself"));
        }
        if self.store.persons_by_ids(&[draft.subject]).await.map_err(store_error)?.is_empty() {
            return Err(DomainError::not_found("PERSON_NOT_FOUND", "there is no such person"));
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
                "NO_VERIFIED_IDENTITY",
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
                        "INVALID_HOLDER_KEY",
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
            Some(group) => match self.visible_group(actor, &GroupRef::Id(group)).await {
                Ok((_, m)) => m.as_ref().is_some_and(scaffold_domain::membership::Membership::can_manage),
                Err(_) => false,
            },
            // The instance's own credentials: operators revoke them.
            None => actor.is_operator(),
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
        let audit = self.audit(Some(by), action, "attestation", a.id, json!({ "type": a.attestation_type.as_str() }));
        self.store.end_attestation(a.id, from, to, reason, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::VersionMismatch => state_conflict(a, from.as_str()),
            other => store_error(other),
        })?;
        self.store.attestation_by_id(a.id).await.map_err(store_error)?.ok_or_else(attestation_not_found)
    }

    /// Status list `n` as a signed `statuslist+jwt` (valid a day, to be cached for
    /// [`STATUS_LIST_TTL_SECS`]).
    pub async fn status_list_token(&self, n: i64) -> Result<String, DomainError> {
        let (bits, _) = self
            .store
            .status_list(n)
            .await
            .map_err(store_error)?
            .ok_or_else(|| DomainError::not_found("STATUS_LIST_NOT_FOUND", "there is no such status list"))?;
        let list = StatusList::from_bytes(bits);
        let (key, _) = self.attestation_keys().await?;
        let now = self.clock.now().timestamp();
        list.sign(&key, &self.status_list_uri(n), now, now + STATUS_LIST_TOKEN_SECS, STATUS_LIST_TTL_SECS)
            .map_err(DomainError::internal)
    }
}

/// Redemptions a verifier may attempt per minute.
const REDEEM_PER_MINUTE: u64 = 30;
/// How long a signed verification result is valid.
const RESULT_TOKEN_SECS: i64 = 300;

/// What a holder shares.
#[derive(Debug, Clone)]
pub struct ShareDraft {
    pub claims: Vec<String>,
    pub verifier_app: Option<scaffold_domain::AppId>,
    /// Default 7, at most 30.
    pub expires_in_days: Option<i64>,
    /// Default 1, at most 100.
    pub max_uses: Option<i64>,
}

/// A new share and its code (shown once; only its hash is stored).
#[derive(Debug, Clone)]
pub struct CreatedShare {
    pub share: Share,
    pub code: String,
}

/// What a verifier learns from a share: the claims the holder chose, and a signed result.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub attestation_type: AttestationType,
    pub vct: String,
    pub issuer: String,
    pub issuer_group: Option<scaffold_domain::GroupId>,
    pub claims: serde_json::Map<String, Value>,
    pub expires_at: Option<DateTime<Utc>>,
    pub verified_at: DateTime<Utc>,
    /// A JWT (`typ: verification-result+jwt`) signed with the attestation key, for this verifier.
    pub result: String,
}

fn code_hash(code: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(code.as_bytes()).to_vec()
}

fn share_error(code: &'static str, message: &str) -> DomainError {
    DomainError::conflict(code, message.to_owned())
}

impl Service {
    /// The holder shares some claims of an active attestation with one verifier app (or any)
    /// for a while and a number of uses, and gets a code to give the verifier.
    pub async fn create_share(
        &self,
        actor: &Actor,
        id: AttestationId,
        draft: &ShareDraft,
    ) -> Result<CreatedShare, DomainError> {
        let a = self.my_attestation(actor, id).await?;
        if a.state != AttestationState::Active {
            return Err(state_conflict(&a, "active"));
        }
        let mut errors = Vec::new();
        if draft.claims.is_empty() {
            errors.push(scaffold_domain::FieldError::new("/claims", "REQUIRED", "choose at least one claim to share"));
        }
        for (i, c) in draft.claims.iter().enumerate() {
            if !a.claims.contains_key(c) {
                errors.push(scaffold_domain::FieldError::new(
                    format!("/claims/{i}"),
                    "UNKNOWN_CLAIM",
                    "the attestation has no such claim",
                ));
            }
        }
        let days = draft.expires_in_days.unwrap_or(7);
        if !(1..=scaffold_domain::attestation::SHARE_MAX_DAYS).contains(&days) {
            errors.push(scaffold_domain::FieldError::new(
                "/expires_in_days",
                "OUT_OF_RANGE",
                "a share lasts 1 to 30 days",
            ));
        }
        let uses = draft.max_uses.unwrap_or(1);
        if !(1..=scaffold_domain::attestation::SHARE_MAX_USES).contains(&uses) {
            errors.push(scaffold_domain::FieldError::new(
                "/max_uses",
                "OUT_OF_RANGE",
                "a share is used 1 to 100 times",
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        if let Some(app) = draft.verifier_app
            && self.store.app_by_id(app).await.map_err(store_error)?.is_none()
        {
            return Err(DomainError::not_found("APP_NOT_FOUND", "there is no such verifier app"));
        }
        let mut claims = draft.claims.clone();
        claims.sort();
        claims.dedup();
        let now = self.clock.now();
        for _ in 0..4 {
            let mut random = [0u8; 64];
            getrandom::fill(&mut random).map_err(|e| DomainError::internal(e.to_string()))?;
            let mut bytes = random.into_iter();
            let code = scaffold_domain::attestation::share_code::generate(|| bytes.next().unwrap_or(0));
            let canonical = scaffold_domain::attestation::share_code::normalize(&code).unwrap_or_default();
            let share = Share {
                id: ShareId::new_v7(now),
                attestation: a.id,
                code_hash: code_hash(&canonical),
                claims: claims.clone(),
                verifier_app: draft.verifier_app,
                max_uses: uses,
                uses: 0,
                expires_at: now + Duration::days(days),
                withdrawn_at: None,
                created_at: now,
            };
            let audit = self.audit(
                Some(a.subject),
                "share.create",
                "attestation",
                a.id,
                json!({ "share_id": share.id.to_string(), "claims": claims, "days": days, "max_uses": uses }),
            );
            match self.store.create_share(&share, &audit).await {
                Ok(()) => return Ok(CreatedShare { share, code }),
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(DomainError::internal("could not make a unique share code"))
    }

    /// An attestation's shares with their redemptions (the holder).
    pub async fn shares(&self, actor: &Actor, id: AttestationId) -> Result<Vec<(Share, Vec<Redemption>)>, DomainError> {
        let a = self.my_attestation(actor, id).await?;
        let shares = self.store.shares_of_attestation(a.id).await.map_err(store_error)?;
        let ids: Vec<ShareId> = shares.iter().map(|s| s.id).collect();
        let redemptions = self.store.redemptions_of_shares(&ids).await.map_err(store_error)?;
        Ok(shares
            .into_iter()
            .map(|s| {
                let mine = redemptions.iter().filter(|r| r.share == s.id).cloned().collect();
                (s, mine)
            })
            .collect())
    }

    /// The holder withdraws a share: it cannot be redeemed any more.
    pub async fn withdraw_share(&self, actor: &Actor, id: AttestationId, share: ShareId) -> Result<(), DomainError> {
        let a = self.my_attestation(actor, id).await?;
        let not_found = || DomainError::not_found("SHARE_NOT_FOUND", "there is no such share");
        let shares = self.store.shares_of_attestation(a.id).await.map_err(store_error)?;
        let s = shares.iter().find(|s| s.id == share).ok_or_else(not_found)?;
        let audit =
            self.audit(Some(a.subject), "share.withdraw", "attestation", a.id, json!({ "share_id": s.id.to_string() }));
        self.store.withdraw_share(s.id, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::VersionMismatch => share_error("SHARE_WITHDRAWN", "the share was withdrawn already"),
            other => store_error(other),
        })
    }

    /// A verifier (`attestations:verify`) redeems a share code: the shared claims, verified now
    /// (signature, validity, status), and a signed result addressed to the verifier. Every
    /// attempt on an existing share is recorded for the holder to see.
    pub async fn redeem_share(&self, actor: &Actor, code: &str) -> Result<Redeemed, DomainError> {
        let verifier = actor.require(Scope::AttestationsVerify)?;
        let app = match actor.credential() {
            Some(scaffold_domain::Credential::App(app)) => Some(app),
            _ => None,
        };
        let now = self.clock.now();
        let window = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
        let tries = self
            .store
            .add_rate_limit_hits(&format!("share-redeem:{verifier}"), window, 1)
            .await
            .map_err(store_error)?;
        if tries > REDEEM_PER_MINUTE {
            let reset_secs = (window + Duration::minutes(1) - now).num_seconds().max(1);
            return Err(DomainError::rate_limited(
                "RATE_LIMITED",
                format!(
                    "too many share codes tried: at most {REDEEM_PER_MINUTE} a minute; try again in {reset_secs} s"
                ),
                scaffold_domain::RateLimitInfo {
                    limit: u32::try_from(REDEEM_PER_MINUTE).unwrap_or(u32::MAX),
                    remaining: 0,
                    reset_secs,
                },
            ));
        }
        let not_found = || DomainError::not_found("SHARE_NOT_FOUND", "no share has that code");
        let canonical = scaffold_domain::attestation::share_code::normalize(code).ok_or_else(not_found)?;
        let share =
            self.store.share_by_code_hash(&code_hash(&canonical)).await.map_err(store_error)?.ok_or_else(not_found)?;
        // Records an attempt under `id`; a counting one (`valid`) also takes a use.
        let record_as = |id: scaffold_domain::RedemptionId, result: &str, counts: bool| {
            let r = Redemption { id, share: share.id, verifier, app, result: result.to_owned(), redeemed_at: now };
            let audit = self.audit(
                Some(verifier),
                "share.redeem",
                "attestation",
                share.attestation,
                json!({ "share_id": share.id.to_string(), "result": result }),
            );
            async move { self.store.redeem_share(&r, counts, &audit).await.map_err(store_error) }
        };
        let record = |result: &str, counts: bool| record_as(scaffold_domain::RedemptionId::new_v7(now), result, counts);
        let refuse = |code: &'static str, message: String| async move {
            let _ = record(code, false).await?;
            Err::<Redeemed, _>(share_error(code, &message))
        };
        if share.verifier_app.is_some() && share.verifier_app != app {
            // Recorded for the holder, but after answering: the verifier learns no more than from
            // a wrong code, not even from how long the answer took (an unknown code writes
            // nothing).
            let r = Redemption {
                id: scaffold_domain::RedemptionId::new_v7(now),
                share: share.id,
                verifier,
                app,
                result: "SHARE_NOT_FOR_YOU".to_owned(),
                redeemed_at: now,
            };
            let audit = self.audit(
                Some(verifier),
                "share.redeem",
                "attestation",
                share.attestation,
                json!({ "share_id": share.id.to_string(), "result": "SHARE_NOT_FOR_YOU" }),
            );
            let store = self.store.clone();
            drop(tokio::spawn(async move {
                if let Err(e) = store.redeem_share(&r, false, &audit).await {
                    tracing::warn!(error = %e, "recording a share redemption by another verifier failed");
                }
            }));
            return Err(not_found());
        }
        if share.withdrawn_at.is_some() {
            return refuse("SHARE_WITHDRAWN", "the holder withdrew this share".to_owned()).await;
        }
        if share.expires_at <= now {
            return refuse("SHARE_EXPIRED", "this share has expired".to_owned()).await;
        }
        if share.uses >= share.max_uses {
            return refuse("SHARE_USED_UP", "this share has been used as many times as the holder allowed".to_owned())
                .await;
        }
        let a = self.store.attestation_by_id(share.attestation).await.map_err(store_error)?.ok_or_else(not_found)?;
        let (Some(credential), Some((list, _))) = (&a.credential, a.status) else {
            return refuse("ATTESTATION_INVALID", "the attestation is not active".to_owned()).await;
        };
        let names: Vec<&str> = share.claims.iter().map(String::as_str).collect();
        let presentation = scaffold_attest::present(credential, &names, None).map_err(DomainError::internal)?;
        let (key, keys) = self.attestation_keys().await?;
        let status = OneList(self.status_list_uri(list), self.status_list_token(list).await?);
        let issuers = vec![scaffold_attest::TrustedIssuer { iss: self.public_url(), keys }];
        let types =
            vec![scaffold_attest::TypePolicy { vct: a.attestation_type.vct(&self.public_url()), max_age_secs: None }];
        let policy = scaffold_attest::Policy {
            now: now.timestamp(),
            skew_secs: 60,
            issuers: &issuers,
            types: &types,
            key_binding: None,
        };
        let verified = match scaffold_attest::verify(&presentation, &policy, &status) {
            Ok(v) => v,
            Err(r) if r.code == "REVOKED" => {
                return refuse("ATTESTATION_REVOKED", "the attestation has been revoked".to_owned()).await;
            }
            Err(r) if r.code == "EXPIRED" => {
                return refuse("ATTESTATION_EXPIRED", "the attestation has expired".to_owned()).await;
            }
            Err(r) => {
                return refuse("ATTESTATION_INVALID", format!("the attestation does not verify ({})", r.code)).await;
            }
        };
        let redemption = scaffold_domain::RedemptionId::new_v7(now);
        let done = record_as(redemption, "valid", true).await?;
        if !done {
            return Err(share_error("SHARE_USED_UP", "this share is no longer usable"));
        }
        let claims: serde_json::Map<String, Value> =
            verified.claims.into_iter().filter(|(k, _)| verified.disclosed.contains(k)).collect();
        let aud = match app {
            Some(app) => format!("app:{app}"),
            None => format!("person:{verifier}"),
        };
        let mut header = serde_json::Map::new();
        let _ = header.insert("typ".into(), json!("verification-result+jwt"));
        let _ = header.insert("kid".into(), json!(key.kid()));
        let payload = json!({ "iss": self.public_url(), "aud": aud, "iat": now.timestamp(),
            "exp": now.timestamp() + RESULT_TOKEN_SECS, "jti": redemption.to_string(), "result": "valid",
            "vct": verified.vct, "credential_exp": verified.exp, "claims": claims });
        let result = key.sign(header, &payload).map_err(DomainError::internal)?;
        Ok(Redeemed {
            attestation_type: a.attestation_type,
            vct: verified.vct,
            issuer: verified.iss,
            // Which group attested is part of what the holder chose to show when the type has an
            // `organisation` claim (role-status); for the others it is who checked.
            issuer_group: if a.attestation_type.claims().iter().any(|c| c.name == "organisation")
                && !claims.contains_key("organisation")
            {
                None
            } else {
                a.issuer_group
            },
            claims,
            expires_at: a.expires_at,
            verified_at: now,
            result,
        })
    }
}

/// One status list token, for verifying our own credentials.
struct OneList(String, String);

impl scaffold_attest::StatusSource for OneList {
    fn token(&self, uri: &str) -> Option<String> {
        (uri == self.0).then(|| self.1.clone())
    }
}
