//! Online verification for verifier apps: a wallet's presentation (SD-JWT VC with a key-binding
//! JWT for the app's audience and nonce) in, the verified claims and a signed, audience-bound
//! result out, like a share redemption. It accepts this instance's credentials and those of peer
//! instances trusted for their type, and checks status lists: this instance's from the store,
//! peers' fetched from the peer and cached within their `ttl`.

use crate::{Service, store_error};
use scaffold_attest::{
    KeyBinding, Parsed, Policy, PublicKey, Split, StatusSource, TrustedIssuer, TypePolicy, Verified,
};
use scaffold_domain::attestation::AttestationType;
use scaffold_domain::{Actor, DomainError, FieldError, Scope, codes};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The longest presentation read.
pub const PRESENTATION_MAX: usize = 64 * 1024;
/// How old a key-binding JWT may be.
const KB_MAX_AGE_SECS: i64 = 300;
const RESULT_TOKEN_SECS: i64 = 300;
/// Status lists kept at most this long whatever their `ttl` says, and this many at once.
const CACHE_MAX_SECS: i64 = 86_400;
const CACHE_ENTRIES: usize = 1_000;

/// Peers' status list tokens by URI, until their `ttl` (or their own expiry) ends. Only lists
/// of credentials that verified are fetched, and a list that then fails its own checks is
/// dropped; when full, the entry closest to its end makes way.
#[derive(Debug, Default, Clone)]
pub struct StatusCache(Arc<Mutex<HashMap<String, (String, i64)>>>);

impl StatusCache {
    fn get(&self, uri: &str, now: i64) -> Option<String> {
        let map = self.0.lock().ok()?;
        map.get(uri).filter(|(_, until)| *until > now).map(|(t, _)| t.clone())
    }

    fn put(&self, uri: &str, token: &str, until: i64, now: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, (_, u)| *u > now);
            if map.len() >= CACHE_ENTRIES
                && let Some(first) = map.iter().min_by_key(|(_, (_, u))| *u).map(|(k, _)| k.clone())
            {
                let _ = map.remove(&first);
            }
            let _ = map.insert(uri.to_owned(), (token.to_owned(), until));
        }
    }

    fn drop_entry(&self, uri: &str) {
        if let Ok(mut map) = self.0.lock() {
            let _ = map.remove(uri);
        }
    }
}

/// The outcome: valid with the claims and the signed result, or why not.
#[derive(Debug, Clone)]
pub enum PresentationCheck {
    Valid {
        verified: Verified,
        attestation_type: AttestationType,
        /// The instance that issued it: this one, or a trusted peer's base URL.
        issuer: String,
        result_token: String,
    },
    Invalid {
        code: &'static str,
        reason: String,
    },
}

struct OneList(String, Option<String>);

impl StatusSource for OneList {
    fn token(&self, uri: &str) -> Option<String> {
        (uri == self.0).then(|| self.1.clone()).flatten()
    }
}

/// The status list URI a credential names, read before verification to fetch it.
fn status_uri(presentation: &str) -> Option<String> {
    let split = Split::parse(presentation).ok()?;
    let jwt = Parsed::parse(split.jwt).ok()?;
    jwt.payload.get("status")?.get("status_list")?.get("uri")?.as_str().map(str::to_owned)
}

impl Service {
    /// Verifies a wallet's presentation for a verifier (`attestations:verify`).
    pub async fn verify_presentation(
        &self,
        actor: &Actor,
        presentation: &str,
        audience: &str,
        nonce: &str,
    ) -> Result<PresentationCheck, DomainError> {
        let verifier = actor.require(Scope::AttestationsVerify)?;
        let mut errors = Vec::new();
        let presentation = presentation.trim();
        if presentation.is_empty() || presentation.len() > PRESENTATION_MAX {
            errors.push(FieldError::new(
                "/presentation",
                codes::TOO_LONG,
                format!("must be 1 to {PRESENTATION_MAX} bytes"),
            ));
        }
        for (pointer, v) in [("/audience", audience), ("/nonce", nonce)] {
            if let Err(e) = scaffold_domain::text::bounded(pointer, v, 1, 200, false) {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let now = self.clock.now();
        let own = self.public_url();
        let (key, own_keys) = self.attestation_keys().await?;
        let mut issuers = vec![TrustedIssuer { iss: own.clone(), keys: own_keys }];
        // Each accepted type with the issuer that may issue it (its `iss`) and that issuer's base URL.
        let mut types: Vec<(TypePolicy, AttestationType, String, String)> = AttestationType::ALL
            .iter()
            .map(|t| (TypePolicy { vct: t.vct(&own), max_age_secs: None }, *t, own.clone(), own.clone()))
            .collect();
        let peers = self.store.peers().await.map_err(store_error)?;
        for p in peers.iter().filter(|p| !p.trusted_types.is_empty()) {
            let keys: Vec<PublicKey> = p
                .jwks
                .get("keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|k| PublicKey::from_jwk(k).ok())
                .collect();
            issuers.push(TrustedIssuer { iss: p.issuer.clone(), keys });
            types.extend(p.trusted_types.iter().map(|t| {
                (TypePolicy { vct: t.vct(&p.base_url), max_age_secs: None }, *t, p.issuer.clone(), p.base_url.clone())
            }));
        }
        let type_policies: Vec<TypePolicy> = types.iter().map(|(p, _, _, _)| p.clone()).collect();
        let policy = Policy {
            now: now.timestamp(),
            skew_secs: 60,
            issuers: &issuers,
            types: &type_policies,
            key_binding: Some(KeyBinding { aud: audience, nonce, max_age_secs: KB_MAX_AGE_SECS }),
        };
        // First without the status list: everything else (issuer, signature, key binding) must
        // hold before anything is fetched for this credential.
        let first = scaffold_attest::verify(presentation, &policy, &OneList(String::new(), None));
        let verified = match first {
            Ok(v) => v,
            Err(r) if r.code == scaffold_attest::codes::STATUS_UNAVAILABLE => {
                let Some(uri) = status_uri(presentation) else {
                    return Ok(PresentationCheck::Invalid { code: r.code, reason: r.reason });
                };
                let token = self.status_token_for(&uri, presentation, &own, &peers, now.timestamp()).await;
                match scaffold_attest::verify(presentation, &policy, &OneList(uri.clone(), token)) {
                    Ok(v) => v,
                    Err(r) => {
                        if [scaffold_attest::codes::STATUS_LIST_INVALID, scaffold_attest::codes::STATUS_LIST_EXPIRED]
                            .contains(&r.code)
                        {
                            self.status_cache.drop_entry(&uri);
                        }
                        return Ok(PresentationCheck::Invalid { code: r.code, reason: r.reason });
                    }
                }
            }
            Err(r) => return Ok(PresentationCheck::Invalid { code: r.code, reason: r.reason }),
        };
        // A trusted issuer vouches only for its own types: a peer cannot issue this instance's.
        let Some((_, attestation_type, _, issuer)) =
            types.iter().find(|(p, _, iss, _)| p.vct == verified.vct && *iss == verified.iss).cloned()
        else {
            return Ok(PresentationCheck::Invalid {
                code: scaffold_attest::codes::UNKNOWN_VCT,
                reason: format!("{} is not trusted to issue {}", verified.iss, verified.vct),
            });
        };
        let aud = match actor.credential() {
            Some(scaffold_domain::Credential::App(app)) => format!("app:{app}"),
            _ => format!("person:{verifier}"),
        };
        let claims: serde_json::Map<String, Value> = verified
            .claims
            .iter()
            .filter(|(k, _)| verified.disclosed.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut header = serde_json::Map::new();
        let _ = header.insert("typ".into(), json!("verification-result+jwt"));
        let _ = header.insert("kid".into(), json!(key.kid()));
        let payload = json!({ "iss": own, "aud": aud, "iat": now.timestamp(),
            "exp": now.timestamp() + RESULT_TOKEN_SECS, "jti": uuid::Uuid::now_v7().to_string(), "result": "valid",
            "vct": verified.vct, "credential_iss": verified.iss, "credential_exp": verified.exp,
            "presentation_aud": audience, "nonce": nonce, "claims": claims });
        let result_token = key.sign(header, &payload).map_err(DomainError::internal)?;
        Ok(PresentationCheck::Valid { verified, attestation_type, issuer, result_token })
    }

    /// The trust list offline verifiers use (`scaffold verify --trust`): this instance with its
    /// published keys and every type, and each peer trusted for some types, with its keys and
    /// those types.
    pub async fn trust_list(&self) -> Result<Value, DomainError> {
        let own = self.public_url();
        let (_, keys) = self.attestation_keys().await?;
        let mut issuers =
            vec![json!({ "iss": own, "jwks": { "keys": keys.iter().map(PublicKey::to_jwk).collect::<Vec<_>>() } })];
        let mut types: Vec<Value> = AttestationType::ALL.iter().map(|t| json!({ "vct": t.vct(&own) })).collect();
        for p in self.store.peers().await.map_err(store_error)?.iter().filter(|p| !p.trusted_types.is_empty()) {
            issuers
                .push(json!({ "iss": p.issuer, "jwks": { "keys": p.jwks.get("keys").cloned().unwrap_or(json!([])) } }));
            types.extend(p.trusted_types.iter().map(|t| json!({ "vct": t.vct(&p.base_url) })));
        }
        Ok(json!({ "issuers": issuers, "types": types }))
    }

    /// The status list a verified credential names: this instance's from the store; a trusted
    /// peer's (its own `/status-lists/<n>`, for a credential it issued) from the cache or the peer.
    async fn status_token_for(
        &self,
        uri: &str,
        presentation: &str,
        own: &str,
        peers: &[scaffold_domain::source::Peer],
        now: i64,
    ) -> Option<String> {
        let list_of = |base: &str| {
            uri.strip_prefix(&format!("{base}/status-lists/"))
                .filter(|n| !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<i64>().ok())
        };
        if let Some(n) = list_of(own) {
            return self.status_list_token(n).await.ok();
        }
        // Only the issuing peer's own lists: the credential's `iss` names the peer.
        let iss = Split::parse(presentation)
            .ok()
            .and_then(|s| Parsed::parse(s.jwt).ok())
            .and_then(|j| j.payload.get("iss").and_then(Value::as_str).map(str::to_owned))?;
        let peer = peers.iter().find(|p| p.issuer == iss && !p.trusted_types.is_empty())?;
        list_of(&peer.base_url)?;
        if let Some(t) = self.status_cache.get(uri, now) {
            return Some(t);
        }
        let client = self.client().ok()?;
        let token = match crate::sources::fetch_text(&client, uri).await {
            Ok(t) => t.trim().to_owned(),
            Err(e) => {
                tracing::warn!(peer = %peer.base_url, error = %e, "a peer's status list could not be read");
                return None;
            }
        };
        // Kept for its ttl, and never past its own expiry; the verifier checks its signature.
        let payload = Parsed::parse(&token).ok()?.payload;
        let ttl = payload.get("ttl").and_then(Value::as_i64).unwrap_or(300).clamp(1, CACHE_MAX_SECS);
        let until = payload.get("exp").and_then(Value::as_i64).map_or(now + ttl, |exp| exp.min(now + ttl));
        self.status_cache.put(uri, &token, until, now);
        Some(token)
    }
}
