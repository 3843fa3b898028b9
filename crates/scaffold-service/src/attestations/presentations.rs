//! Online verification for verifier apps: a wallet's presentation (SD-JWT VC with a key-binding
//! JWT for the app's audience and nonce) in, the verified claims and a signed, audience-bound
//! result out, like a share redemption. It accepts this instance's credentials and those of peer
//! instances trusted for their type, and checks status lists: this instance's read from the store
//! (never signed only to be verified again), peers' fetched from the peer, verified once and kept
//! within their `ttl`.

use crate::{Service, store_error};
use scaffold_attest::{
    KeyBinding, Parsed, Policy, PublicKey, Split, StatusList, StatusLookupError, StatusSource, StatusToken,
    TrustedIssuer, TypePolicy, Verified,
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

/// Peers' status lists by URI, verified (signature checked, list inflated) once and kept until
/// their `ttl` (or their own expiry) ends, with the issuer whose key verified them: a list serves
/// every presentation of that issuer's credentials that names it meanwhile. Only lists of
/// credentials that verified are fetched; when full, the entry closest to its end makes way.
#[derive(Debug, Default, Clone)]
pub struct StatusCache(Arc<Mutex<HashMap<String, KeptList>>>);

/// The issuer whose key verified it, the list, and the time it may be kept until.
type KeptList = (String, Arc<StatusList>, i64);

impl StatusCache {
    fn get(&self, uri: &str, iss: &str, now: i64) -> Option<Arc<StatusList>> {
        let map = self.0.lock().ok()?;
        map.get(uri).filter(|(by, _, until)| by == iss && *until > now).map(|(_, l, _)| l.clone())
    }

    fn put(&self, uri: &str, iss: &str, list: Arc<StatusList>, until: i64, now: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, (_, _, u)| *u > now);
            if map.len() >= CACHE_ENTRIES
                && let Some(first) = map.iter().min_by_key(|(_, (_, _, u))| *u).map(|(k, _)| k.clone())
            {
                let _ = map.remove(&first);
            }
            let _ = map.insert(uri.to_owned(), (iss.to_owned(), list, until));
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

/// The status list of one verification, for the one URI the credential names.
struct Lists<'a> {
    uri: String,
    iss: String,
    found: Found,
    cache: &'a StatusCache,
}

enum Found {
    /// Not read (yet).
    Nothing,
    /// This instance's own list, read from the store, or a peer's verified before.
    List(Arc<StatusList>),
    /// A peer's token just fetched, to be kept until then once it verifies.
    Token(String, i64),
}

impl StatusSource for Lists<'_> {
    fn token(&self, uri: &str) -> Option<String> {
        match &self.found {
            Found::Token(t, _) if uri == self.uri => Some(t.clone()),
            _ => None,
        }
    }

    fn list(&self, uri: &str, keys: &[PublicKey], now: i64) -> Result<Arc<StatusList>, StatusLookupError> {
        match &self.found {
            _ if uri != self.uri => Err(StatusLookupError::Unavailable),
            Found::Nothing => Err(StatusLookupError::Unavailable),
            Found::List(list) => Ok(list.clone()),
            Found::Token(token, until) => {
                let list = Arc::new(StatusToken::verify(token, uri, keys, now).map_err(StatusLookupError::Token)?.list);
                self.cache.put(uri, &self.iss, list.clone(), *until, now);
                Ok(list)
            }
        }
    }
}

/// The issuer and the status list URI a credential names, read (not verified) to find its list.
fn issuer_and_status(presentation: &str) -> Option<(String, Option<String>)> {
    let split = Split::parse(presentation).ok()?;
    let jwt = Parsed::parse(split.jwt).ok()?;
    let iss = jwt.payload.get("iss")?.as_str()?.to_owned();
    let uri = jwt.payload.get("status").and_then(|s| s.get("status_list")?.get("uri")?.as_str()).map(str::to_owned);
    Some((iss, uri))
}

/// The number of a status list under `base` (`<base>/status-lists/<n>`).
fn list_number(uri: &str, base: &str) -> Option<i64> {
    uri.strip_prefix(base)?
        .strip_prefix("/status-lists/")
        .filter(|n| !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<i64>().ok())
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
        // The list is found before verifying when that costs no fetch: this instance's own (from
        // the store) or a peer's verified before. A peer's list not yet kept is fetched only
        // once everything else (issuer, signature, key binding) holds.
        let (iss, uri) = issuer_and_status(presentation).unwrap_or_default();
        let mut lists =
            Lists { uri: uri.clone().unwrap_or_default(), iss, found: Found::Nothing, cache: &self.status_cache };
        let now_s = now.timestamp();
        if let Some(uri) = &uri {
            if lists.iss == own {
                if let Some(n) = list_number(uri, &own)
                    && let Some((bits, _)) = self.store.status_list(n).await.map_err(store_error)?
                {
                    lists.found = Found::List(Arc::new(StatusList::from_bytes(bits)));
                }
            } else if let Some(list) = self.status_cache.get(uri, &lists.iss, now_s) {
                lists.found = Found::List(list);
            }
        }
        let verified = match scaffold_attest::verify(presentation, &policy, &lists) {
            Ok(v) => v,
            Err(r) if r.code == scaffold_attest::codes::STATUS_UNAVAILABLE && matches!(lists.found, Found::Nothing) => {
                let Some(token) = self.peer_status_token(&lists.uri, &lists.iss, &peers, now_s).await else {
                    return Ok(PresentationCheck::Invalid { code: r.code, reason: r.reason });
                };
                lists.found = token;
                match scaffold_attest::verify(presentation, &policy, &lists) {
                    Ok(v) => v,
                    Err(r) => return Ok(PresentationCheck::Invalid { code: r.code, reason: r.reason }),
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

    /// A trusted peer's status list token (its own `/status-lists/<n>`, for a credential it issued),
    /// read from the peer, with the time it may be kept until: its `ttl`, never past its expiry.
    async fn peer_status_token(
        &self,
        uri: &str,
        iss: &str,
        peers: &[scaffold_domain::source::Peer],
        now: i64,
    ) -> Option<Found> {
        // Only the issuing peer's own lists: the credential's `iss` names the peer.
        let peer = peers.iter().find(|p| p.issuer == iss && !p.trusted_types.is_empty())?;
        list_number(uri, &peer.base_url)?;
        let client = self.client().ok()?;
        let token = match crate::sources::fetch_text(&client, uri).await {
            Ok(t) => t.trim().to_owned(),
            Err(e) => {
                tracing::warn!(peer = %peer.base_url, error = %e, "a peer's status list could not be read");
                return None;
            }
        };
        let payload = Parsed::parse(&token).ok()?.payload;
        let ttl = payload.get("ttl").and_then(Value::as_i64).unwrap_or(300).clamp(1, CACHE_MAX_SECS);
        let until = payload.get("exp").and_then(Value::as_i64).map_or(now + ttl, |exp| exp.min(now + ttl));
        Some(Found::Token(token, until))
    }
}
