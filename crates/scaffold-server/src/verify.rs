//! `scaffold verify`: checks an SD-JWT VC presentation offline, from a trust list file and a
//! directory of cached status list tokens, with `scaffold-attest`; prints the decision and the
//! claims shown, or the reason it failed.

use scaffold_attest::{KeyBinding, Policy, PublicKey, StatusSource, TrustedIssuer, TypePolicy, Verified, verify};
use scaffold_domain::codes;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The trust list file: the issuers this verifier trusts (with their JWKS, as published at the
/// issuer's `/.well-known/jwt-vc-issuer`) and the credential types it accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    pub issuers: Vec<TrustedIssuerFile>,
    pub types: Vec<TypeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerFile {
    pub iss: String,
    pub jwks: Jwks,
}

#[derive(Debug, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeFile {
    pub vct: String,
    /// How many days after issuance this verifier still accepts a credential of the type.
    pub max_age_days: Option<i64>,
}

/// Status list tokens from files, found by the `sub` (the list's URI) each one names; when a
/// directory holds several for one list, the newest (`iat`) is used. The signature, `sub` and
/// expiry are checked by the verifier; the file name does not matter.
#[derive(Debug, Default)]
pub struct StatusDir(HashMap<String, (i64, String)>);

impl StatusDir {
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut lists = HashMap::new();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
            let token = text.trim().to_owned();
            if let Ok(parsed) = scaffold_attest::Parsed::parse(&token)
                && let Some(sub) = parsed.payload.get("sub").and_then(Value::as_str)
            {
                let iat = parsed.payload.get("iat").and_then(Value::as_i64).unwrap_or(i64::MIN);
                let newer = lists.get(sub).is_none_or(|(seen, _): &(i64, String)| iat > *seen);
                if newer {
                    let _ = lists.insert(sub.to_owned(), (iat, token));
                }
            }
        }
        Ok(Self(lists))
    }
}

impl StatusSource for StatusDir {
    fn token(&self, uri: &str) -> Option<String> {
        self.0.get(uri).map(|(_, token)| token.clone())
    }
}

/// What to verify and against what.
#[derive(Debug)]
pub struct Request<'a> {
    pub presentation: &'a str,
    pub trust: &'a TrustFile,
    pub status: &'a StatusDir,
    pub aud: Option<&'a str>,
    pub nonce: Option<&'a str>,
    /// Accept a holder-bound credential without a key-binding check (the caller said so).
    pub skip_holder_check: bool,
    pub now: i64,
}

/// Verifies; `Err` carries the rejection code and reason.
pub fn check(req: &Request<'_>) -> Result<Verified, (String, String)> {
    let issuers: Vec<TrustedIssuer> = req
        .trust
        .issuers
        .iter()
        .map(|i| TrustedIssuer {
            iss: i.iss.clone(),
            keys: i.jwks.keys.iter().filter_map(|k| PublicKey::from_jwk(k).ok()).collect(),
        })
        .collect();
    let types: Vec<TypePolicy> = req
        .trust
        .types
        .iter()
        .map(|t| TypePolicy { vct: t.vct.clone(), max_age_secs: t.max_age_days.map(|d| d * 86_400) })
        .collect();
    let key_binding = match (req.aud, req.nonce) {
        (Some(aud), Some(nonce)) => Some(KeyBinding { aud, nonce, max_age_secs: 300 }),
        _ => None,
    };
    let policy = Policy { now: req.now, skew_secs: 60, issuers: &issuers, types: &types, key_binding };
    let v = verify(req.presentation, &policy, req.status).map_err(|r| (r.code.to_owned(), r.reason))?;
    if !v.key_bound && v.claims.contains_key("cnf") && !req.skip_holder_check {
        return Err((
            codes::HOLDER_NOT_CHECKED.to_owned(),
            "the credential is bound to its holder's key: give --aud and --nonce to check that the holder presented \
             it, or --skip-holder-check to accept it from anyone"
                .to_owned(),
        ));
    }
    Ok(v)
}

/// The decision as the command prints it.
pub fn report(result: &Result<Verified, (String, String)>) -> String {
    match result {
        Ok(v) => {
            let mut out = format!("VALID\nissuer:   {}\ntype:     {}\n", v.iss, v.vct);
            let holder = match (v.key_bound, v.claims.contains_key("cnf")) {
                (true, _) => "key binding checked",
                (false, true) => "NOT checked (--skip-holder-check): anyone with a copy could have shown it",
                (false, false) => "not bound to a holder",
            };
            out.push_str(&format!("holder:   {holder}\n"));
            out.push_str(&format!(
                "status:   {}\n",
                if v.status_checked { "not revoked (status list checked)" } else { "no status entry" }
            ));
            out.push_str("claims:\n");
            for (name, value) in &v.claims {
                if v.disclosed.contains(name) || matches!(name.as_str(), "iss" | "vct") {
                    out.push_str(&format!("  {name}: {value}\n"));
                }
            }
            out
        }
        Err((code, reason)) => format!("INVALID\nreason:   {code}: {reason}\n"),
    }
}
