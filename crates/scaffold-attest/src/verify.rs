//! Verifying an SD-JWT VC presentation, in a fixed order, stopping at the first failure with a
//! stable code: alg allow-list and `typ` → issuer key by `kid` from the trust list → signature →
//! `nbf`/`exp` → disclosures (each digest in `_sd`, none twice, no clashes) → `vct` known → key
//! binding → status → the type's freshness policy.

use crate::codes;
use crate::jws::{Parsed, PublicKey};
use crate::sdjwt::{ALWAYS_VISIBLE, Disclosure, KB_TYP, Split, TYP, sha256_b64};
use crate::status::{StatusList, StatusToken, StatusTokenError};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// An issuer the verifier trusts, with its published keys.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    pub iss: String,
    pub keys: Vec<PublicKey>,
}

/// A credential type the verifier accepts, and how old (since issuance) it may be.
#[derive(Debug, Clone)]
pub struct TypePolicy {
    pub vct: String,
    pub max_age_secs: Option<i64>,
}

/// What the key-binding JWT must say.
#[derive(Debug, Clone)]
pub struct KeyBinding<'a> {
    pub aud: &'a str,
    pub nonce: &'a str,
    /// How old the KB-JWT may be.
    pub max_age_secs: i64,
}

/// Where status list tokens come from (a cache directory offline, HTTP online).
pub trait StatusSource {
    /// The status list token published at `uri`, if available.
    fn token(&self, uri: &str) -> Option<String>;

    /// The list at `uri`, checked: signed by one of `keys` (the credential issuer's), for `uri`,
    /// not expired at `now`. By default the token is verified here; a source that keeps lists it
    /// verified before, or holds the issuer's own, answers from those.
    fn list(&self, uri: &str, keys: &[PublicKey], now: i64) -> Result<Arc<StatusList>, StatusLookupError> {
        let token = self.token(uri).ok_or(StatusLookupError::Unavailable)?;
        StatusToken::verify(&token, uri, keys, now).map(|t| Arc::new(t.list)).map_err(StatusLookupError::Token)
    }
}

/// Why a status list could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusLookupError {
    /// There is no list at the URI (or it could not be read).
    Unavailable,
    /// The token is not acceptable.
    Token(StatusTokenError),
}

/// No status lists: credentials that carry a status fail with `STATUS_UNAVAILABLE`.
#[derive(Debug, Clone, Copy)]
pub struct NoStatus;

impl StatusSource for NoStatus {
    fn token(&self, _uri: &str) -> Option<String> {
        None
    }
}

/// The verifier's policy.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    pub now: i64,
    /// Clock skew allowed on `nbf`, `exp` and the KB-JWT's `iat`.
    pub skew_secs: i64,
    pub issuers: &'a [TrustedIssuer],
    pub types: &'a [TypePolicy],
    /// `Some`: a holder-bound credential with a matching key-binding JWT is required.
    pub key_binding: Option<KeyBinding<'a>>,
}

/// A verified presentation: who issued what, and the claims shown (visible plus disclosed).
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub iss: String,
    pub vct: String,
    pub iat: i64,
    pub exp: i64,
    pub claims: Map<String, Value>,
    /// The names of the claims the holder disclosed.
    pub disclosed: BTreeSet<String>,
    pub key_bound: bool,
    /// The credential had a status entry, and it was checked.
    pub status_checked: bool,
}

/// Why a presentation was rejected: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub reason: String,
}

fn reject<T>(code: &'static str, reason: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection { code, reason: reason.into() })
}

/// The verification, in order.
pub fn verify(presentation: &str, policy: &Policy<'_>, status: &dyn StatusSource) -> Result<Verified, Rejection> {
    let Ok(split) = Split::parse(presentation) else {
        return reject(codes::MALFORMED, "not an SD-JWT (`<jwt>~<disclosures>~[<kb-jwt>]`)");
    };
    let Ok(jwt) = Parsed::parse(split.jwt) else {
        return reject(codes::MALFORMED, "the issuer-signed JWT is not a compact JWS");
    };
    // 1. Algorithm and type.
    if jwt.alg() != Some("ES256") {
        return reject(codes::ALG_NOT_ALLOWED, format!("alg {:?} is not allowed (ES256 only)", jwt.alg()));
    }
    if jwt.typ() != Some(TYP) {
        return reject(codes::WRONG_TYP, format!("typ {:?} is not {TYP}", jwt.typ()));
    }
    // 2. The issuer's key.
    let p = &jwt.payload;
    let iss = p.get("iss").and_then(Value::as_str).unwrap_or_default();
    let Some(issuer) = policy.issuers.iter().find(|i| i.iss == iss) else {
        return reject(codes::UNTRUSTED_ISSUER, format!("issuer {iss:?} is not in the trust list"));
    };
    let Some(key) = issuer.keys.iter().find(|k| k.kid.is_some() && k.kid.as_deref() == jwt.kid()) else {
        return reject(codes::UNKNOWN_KID, format!("issuer {iss:?} has no key {:?}", jwt.kid()));
    };
    // 3. Signature.
    if !jwt.verifies_with(key) {
        return reject(codes::BAD_SIGNATURE, "the issuer's signature does not verify");
    }
    // 4. Validity period.
    let (Some(iat), Some(exp)) = (p.get("iat").and_then(Value::as_i64), p.get("exp").and_then(Value::as_i64)) else {
        return reject(codes::MALFORMED, "iat and exp are required");
    };
    let nbf = match p.get("nbf") {
        None => None,
        Some(v) => match v.as_i64() {
            Some(n) => Some(n),
            None => return reject(codes::MALFORMED, "nbf must be an integer"),
        },
    };
    let latest = policy.now.saturating_add(policy.skew_secs);
    if nbf.is_some_and(|nbf| latest < nbf) {
        return reject(codes::NOT_YET_VALID, "the credential is not valid yet (nbf)");
    }
    if iat > latest {
        return reject(codes::NOT_YET_VALID, "the credential was issued in the future (iat)");
    }
    if policy.now.saturating_sub(policy.skew_secs) >= exp {
        return reject(codes::EXPIRED, "the credential has expired");
    }
    // 5. Disclosures.
    let (claims, disclosed) = disclose(p, &split.disclosures)?;
    // 6. The type.
    let vct = p.get("vct").and_then(Value::as_str).unwrap_or_default();
    let Some(type_policy) = policy.types.iter().find(|t| t.vct == vct) else {
        return reject(codes::UNKNOWN_VCT, format!("type {vct:?} is not accepted"));
    };
    // 7. Key binding.
    let key_bound = bind(p, &split, policy)?;
    // 8. Status.
    let status_checked = check_status(p, &issuer.keys, policy.now, status)?;
    // 9. Freshness.
    if let Some(max) = type_policy.max_age_secs
        && policy.now.saturating_sub(iat) > max
    {
        return reject(codes::STALE, format!("issued more than {max} s ago, the most this type allows"));
    }
    Ok(Verified { iss: iss.to_owned(), vct: vct.to_owned(), iat, exp, claims, disclosed, key_bound, status_checked })
}

fn disclose(
    payload: &Map<String, Value>,
    disclosures: &[&str],
) -> Result<(Map<String, Value>, BTreeSet<String>), Rejection> {
    if payload.get("_sd_alg").is_some_and(|a| a != "sha-256") {
        return reject(codes::MALFORMED, "_sd_alg must be sha-256");
    }
    let digests: Vec<&str> = match payload.get("_sd") {
        None => Vec::new(),
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for d in list {
                let Some(d) = d.as_str() else { return reject(codes::MALFORMED, "_sd holds a non-string") };
                out.push(d);
            }
            out
        }
        Some(_) => return reject(codes::MALFORMED, "_sd is not an array"),
    };
    if digests.iter().collect::<BTreeSet<_>>().len() != digests.len() {
        return reject(codes::DUPLICATE_DIGEST, "a digest appears twice in _sd");
    }
    let mut claims: Map<String, Value> = payload
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_sd" | "_sd_alg"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut disclosed = BTreeSet::new();
    for encoded in disclosures {
        let Ok(d) = Disclosure::parse(encoded) else {
            return reject(codes::MALFORMED_DISCLOSURE, "a disclosure is not [salt, name, value]");
        };
        let digest = d.digest();
        if !seen.insert(digest.clone()) {
            return reject(codes::DUPLICATE_DISCLOSURE, format!("the disclosure of {:?} is given twice", d.name));
        }
        if !digests.contains(&digest.as_str()) {
            return reject(
                codes::DISCLOSURE_NOT_IN_CREDENTIAL,
                format!("the disclosure of {:?} was not issued", d.name),
            );
        }
        if matches!(d.name.as_str(), "_sd" | "...") || ALWAYS_VISIBLE.contains(&d.name.as_str()) {
            return reject(codes::CLAIM_CLASH, format!("a disclosure may not set {:?}", d.name));
        }
        if claims.insert(d.name.clone(), d.value).is_some() {
            return reject(codes::CLAIM_CLASH, format!("{:?} is disclosed twice or is also visible", d.name));
        }
        let _ = disclosed.insert(d.name);
    }
    Ok((claims, disclosed))
}

fn bind(payload: &Map<String, Value>, split: &Split<'_>, policy: &Policy<'_>) -> Result<bool, Rejection> {
    let holder = payload.get("cnf").and_then(|c| c.get("jwk"));
    let Some(expected) = &policy.key_binding else {
        return Ok(false);
    };
    let Some(jwk) = holder else {
        return reject(codes::NOT_HOLDER_BOUND, "the credential has no holder key (cnf.jwk)");
    };
    let Ok(holder_key) = PublicKey::from_jwk(jwk) else {
        return reject(codes::MALFORMED, "cnf.jwk is not an EC P-256 public key");
    };
    let Some(kb) = split.kb_jwt else {
        return reject(codes::KEY_BINDING_MISSING, "no key-binding JWT");
    };
    let Ok(kb) = Parsed::parse(kb) else {
        return reject(codes::MALFORMED, "the key-binding JWT is not a compact JWS");
    };
    if kb.alg() != Some("ES256") {
        return reject(codes::ALG_NOT_ALLOWED, "the key-binding JWT's alg is not ES256");
    }
    if kb.typ() != Some(KB_TYP) {
        return reject(codes::WRONG_TYP, format!("the key-binding JWT's typ is not {KB_TYP}"));
    }
    if !kb.verifies_with(&holder_key) {
        return reject(codes::KB_BAD_SIGNATURE, "the key-binding JWT is not signed by the holder's key");
    }
    let k = &kb.payload;
    if k.get("sd_hash").and_then(Value::as_str) != Some(sha256_b64(&split.without_kb()).as_str()) {
        return reject(codes::KB_SD_HASH_MISMATCH, "the key-binding JWT is for a different presentation");
    }
    if k.get("aud").and_then(Value::as_str) != Some(expected.aud) {
        return reject(codes::KB_WRONG_AUD, "the presentation is meant for another verifier");
    }
    if k.get("nonce").and_then(Value::as_str) != Some(expected.nonce) {
        return reject(codes::KB_WRONG_NONCE, "the nonce is not the one this verifier gave");
    }
    let Some(iat) = k.get("iat").and_then(Value::as_i64) else {
        return reject(codes::MALFORMED, "the key-binding JWT has no iat");
    };
    if iat > policy.now.saturating_add(policy.skew_secs) || policy.now.saturating_sub(iat) > expected.max_age_secs {
        return reject(codes::KB_STALE, "the key-binding JWT was not made just now");
    }
    Ok(true)
}

fn check_status(
    payload: &Map<String, Value>,
    keys: &[PublicKey],
    now: i64,
    source: &dyn StatusSource,
) -> Result<bool, Rejection> {
    let Some(entry) = payload.get("status").and_then(|s| s.get("status_list")) else {
        return Ok(false);
    };
    let (Some(uri), Some(idx)) = (entry.get("uri").and_then(Value::as_str), entry.get("idx").and_then(Value::as_u64))
    else {
        return reject(codes::MALFORMED, "status.status_list needs uri and idx");
    };
    let list = match source.list(uri, keys, now) {
        Ok(list) => list,
        Err(StatusLookupError::Unavailable) => {
            return reject(codes::STATUS_UNAVAILABLE, format!("the status list {uri} is not available"));
        }
        Err(StatusLookupError::Token(StatusTokenError::Expired)) => {
            return reject(codes::STATUS_LIST_EXPIRED, "the status list has expired");
        }
        Err(StatusLookupError::Token(StatusTokenError::UnknownKey | StatusTokenError::BadSignature)) => {
            return reject(codes::STATUS_LIST_INVALID, "the status list is not signed by the credential's issuer");
        }
        Err(StatusLookupError::Token(_)) => {
            return reject(codes::STATUS_LIST_INVALID, "the status list token is not valid");
        }
    };
    match usize::try_from(idx).ok().and_then(|i| list.get(i)) {
        Some(false) => Ok(true),
        Some(true) => reject(codes::REVOKED, "the credential has been revoked"),
        None => reject(codes::STATUS_LIST_INVALID, "the status index is beyond the list"),
    }
}
