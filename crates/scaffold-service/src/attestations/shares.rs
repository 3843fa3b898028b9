//! Shares: a holder discloses chosen claims of an attestation to a verifier through a one-time
//! code; redeeming it returns those claims and a signed result.

use super::state_conflict;
use crate::{Service, store_error};
use chrono::DurationRound;
use chrono::{DateTime, Duration, Utc};
use scaffold_domain::attestation::{AttestationState, AttestationType, Redemption, Share};
use scaffold_domain::codes;
use scaffold_domain::{Actor, AttestationId, DomainError, Scope, ShareId};
use scaffold_store::StoreError;
use serde_json::{Value, json};

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
            errors.push(scaffold_domain::FieldError::new(
                "/claims",
                codes::REQUIRED,
                "choose at least one claim to share",
            ));
        }
        for (i, c) in draft.claims.iter().enumerate() {
            if !a.claims.contains_key(c) {
                errors.push(scaffold_domain::FieldError::new(
                    format!("/claims/{i}"),
                    codes::UNKNOWN_CLAIM,
                    "the attestation has no such claim",
                ));
            }
        }
        let days = draft.expires_in_days.unwrap_or(7);
        if !(1..=scaffold_domain::attestation::SHARE_MAX_DAYS).contains(&days) {
            errors.push(scaffold_domain::FieldError::new(
                "/expires_in_days",
                codes::OUT_OF_RANGE,
                "a share lasts 1 to 30 days",
            ));
        }
        let uses = draft.max_uses.unwrap_or(1);
        if !(1..=scaffold_domain::attestation::SHARE_MAX_USES).contains(&uses) {
            errors.push(scaffold_domain::FieldError::new(
                "/max_uses",
                codes::OUT_OF_RANGE,
                "a share is used 1 to 100 times",
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        if let Some(app) = draft.verifier_app
            && self.store.app_by_id(app).await.map_err(store_error)?.is_none()
        {
            return Err(DomainError::not_found(codes::APP_NOT_FOUND, "there is no such verifier app"));
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
        let not_found = || ShareId::not_found();
        let shares = self.store.shares_of_attestation(a.id).await.map_err(store_error)?;
        let s = shares.iter().find(|s| s.id == share).ok_or_else(not_found)?;
        let audit =
            self.audit(Some(a.subject), "share.withdraw", "attestation", a.id, json!({ "share_id": s.id.to_string() }));
        self.store.withdraw_share(s.id, self.clock.now(), &audit).await.map_err(|e| match e {
            StoreError::VersionMismatch => share_error(codes::SHARE_WITHDRAWN, "the share was withdrawn already"),
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
                codes::RATE_LIMITED,
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
        let not_found = || DomainError::not_found(codes::SHARE_NOT_FOUND, "no share has that code");
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
                result: codes::SHARE_NOT_FOR_YOU.to_owned(),
                redeemed_at: now,
            };
            let audit = self.audit(
                Some(verifier),
                "share.redeem",
                "attestation",
                share.attestation,
                json!({ "share_id": share.id.to_string(), "result": codes::SHARE_NOT_FOR_YOU }),
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
            return refuse(codes::SHARE_WITHDRAWN, "the holder withdrew this share".to_owned()).await;
        }
        if share.expires_at <= now {
            return refuse(codes::SHARE_EXPIRED, "this share has expired".to_owned()).await;
        }
        if share.uses >= share.max_uses {
            return refuse(
                codes::SHARE_USED_UP,
                "this share has been used as many times as the holder allowed".to_owned(),
            )
            .await;
        }
        let a = self.store.attestation_by_id(share.attestation).await.map_err(store_error)?.ok_or_else(not_found)?;
        let (Some(credential), Some((list, _))) = (&a.credential, a.status) else {
            return refuse(codes::ATTESTATION_INVALID, "the attestation is not active".to_owned()).await;
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
            Err(r) if r.code == scaffold_attest::codes::REVOKED => {
                return refuse(codes::ATTESTATION_REVOKED, "the attestation has been revoked".to_owned()).await;
            }
            Err(r) if r.code == scaffold_attest::codes::EXPIRED => {
                return refuse(codes::ATTESTATION_EXPIRED, "the attestation has expired".to_owned()).await;
            }
            Err(r) => {
                return refuse(codes::ATTESTATION_INVALID, format!("the attestation does not verify ({})", r.code))
                    .await;
            }
        };
        let redemption = scaffold_domain::RedemptionId::new_v7(now);
        let done = record_as(redemption, "valid", true).await?;
        if !done {
            return Err(share_error(codes::SHARE_USED_UP, "this share is no longer usable"));
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
