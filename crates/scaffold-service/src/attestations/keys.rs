//! The credential signing key (one per instance, created once in the store or rotated with
//! `scaffold keys rotate --purpose attestation`), the issuer metadata that verifiers fetch
//! (`/.well-known/jwt-vc-issuer`), and each credential type's metadata (`/vct/{type}/v1`).

use crate::{Service, store_error};
use chrono::{DateTime, Duration, Utc};
use scaffold_attest::{PublicKey, SigningKey};
use scaffold_domain::DomainError;
use scaffold_domain::attestation::AttestationType;
use scaffold_domain::codes;
use scaffold_store::SigningKeyRecord;
use serde_json::{Value, json};

/// The signing-key purpose of credentials and status lists.
pub const ATTESTATION_KEYS: &str = "attestation";

pub(super) fn new_key(now: DateTime<Utc>) -> Result<(SigningKey, SigningKeyRecord), DomainError> {
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
            _ => Err(DomainError::not_found(
                codes::TYPE_NOT_FOUND,
                "there is no credential type with that name and version",
            )),
        }
    }

    pub(super) fn public_url(&self) -> String {
        self.identity.config().public_url.trim_end_matches('/').to_owned()
    }
}
