//! The service's own access tokens (RFC 9068 JWT profile): `typ: at+jwt`, ES256 with a `kid`,
//! at most 15 minutes, audience-restricted. The key ring holds the active signing key and every
//! public key still published at `/.well-known/jwks.json`, so tokens signed before a rotation keep
//! verifying until they expire.

use crate::error::TokenError;
use crate::keys::KeyMaterial;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// RFC 9068 asks for short-lived tokens; DESIGN caps ours at 15 minutes.
pub const MAX_ACCESS_TOKEN_LIFETIME_SECS: i64 = 15 * 60;
/// Clock skew tolerated between replicas for `iat`.
const SKEW_SECS: i64 = 60;
const TYP: &str = "at+jwt";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The person's grant the app acts under (authorization code tokens only): the token stops
    /// working when the grant is revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// The active signing key and the published verification keys.
pub struct KeyRing {
    active_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active_kid", &self.active_kid)
            .field("published", &self.decoding.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// `published` are the public JWKs of every key to accept (the active one included).
    pub fn new(active: &KeyMaterial, published: &[serde_json::Value]) -> Result<Self, String> {
        let mut decoding = HashMap::new();
        let mut keys = Vec::new();
        for jwk in published.iter().chain(std::iter::once(&active.public_jwk)) {
            let kid = jwk.get("kid").and_then(|k| k.as_str()).ok_or("a published key has no kid")?.to_owned();
            if decoding.contains_key(&kid) {
                continue;
            }
            let (Some(x), Some(y)) = (jwk.get("x").and_then(|v| v.as_str()), jwk.get("y").and_then(|v| v.as_str()))
            else {
                return Err(format!("published key {kid} is not an EC key"));
            };
            let key = DecodingKey::from_ec_components(x, y).map_err(|e| e.to_string())?;
            let _ = decoding.insert(kid, key);
            keys.push(jwk.clone());
        }
        Ok(Self {
            active_kid: active.kid.clone(),
            encoding: EncodingKey::from_ec_der(&active.private_der),
            decoding,
            jwks: serde_json::json!({ "keys": keys }),
        })
    }

    /// The JWK Set document to publish.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }
}

/// Issues and verifies access tokens for one issuer and audience.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    issuer: String,
    audience: String,
    lifetime: Duration,
}

impl AccessTokens {
    /// `lifetime_secs` is capped at 15 minutes.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, lifetime_secs: i64) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            lifetime: Duration::seconds(lifetime_secs.clamp(1, MAX_ACCESS_TOKEN_LIFETIME_SECS)),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime.num_seconds()
    }

    /// A signed token for `sub` acting through `client_id` with `scope`, under the person's
    /// grant `gid` when a person let the app act for them.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        ring: &KeyRing,
        sub: &str,
        client_id: &str,
        scope: &str,
        gid: Option<String>,
        jti: String,
        now: DateTime<Utc>,
    ) -> Result<(String, AccessTokenClaims), String> {
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: sub.to_owned(),
            aud: self.audience.clone(),
            exp: (now + self.lifetime).timestamp(),
            iat: now.timestamp(),
            jti,
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            gid,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(TYP.to_owned());
        header.kid = Some(ring.active_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &ring.encoding).map_err(|e| e.to_string())?;
        Ok((token, claims))
    }

    /// Checks, in order: shape and `typ`, algorithm (ES256 only), `kid`, signature, issuer,
    /// audience, expiry and issue time.
    pub fn verify(&self, ring: &KeyRing, token: &str, now: DateTime<Utc>) -> Result<AccessTokenClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| match unverified_alg(token) {
            // A header that names an algorithm jsonwebtoken does not know (e.g. `none`).
            a if !a.is_empty() => TokenError::DisallowedAlgorithm(a),
            _ => TokenError::Malformed,
        })?;
        let typ_ok = header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(TYP) || t.eq_ignore_ascii_case("application/at+jwt"));
        if !typ_ok {
            return Err(TokenError::WrongType);
        }
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::DisallowedAlgorithm(format!("{:?}", header.alg)));
        }
        let key = header.kid.as_ref().and_then(|k| ring.decoding.get(k)).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::ES256);
        // Time is checked below against the service clock, not the system clock.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?;
        let claims: AccessTokenClaims =
            serde_json::from_value(data.claims.clone()).map_err(|_| missing_claim(&data.claims))?;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(TokenError::WrongAudience);
        }
        if now.timestamp() >= claims.exp {
            return Err(TokenError::Expired);
        }
        if claims.iat > now.timestamp().saturating_add(SKEW_SECS) {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

fn missing_claim(v: &serde_json::Value) -> TokenError {
    for (name, is_string) in [
        ("iss", true),
        ("sub", true),
        ("aud", true),
        ("client_id", true),
        ("scope", true),
        ("jti", true),
        ("exp", false),
        ("iat", false),
    ] {
        let ok = v.get(name).is_some_and(|c| if is_string { c.is_string() } else { c.is_i64() });
        if !ok {
            return TokenError::MissingClaim(name);
        }
    }
    TokenError::Malformed
}

/// The `alg` a token claims, for the error message when it is not one we know.
fn unverified_alg(token: &str) -> String {
    use base64::Engine;
    token
        .split('.')
        .next()
        .and_then(|h| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|h| h.get("alg").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keys::generate_es256;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_774_690_200, 0).unwrap()
    }

    fn setup() -> (AccessTokens, KeyRing, KeyMaterial) {
        let k = generate_es256().unwrap();
        let ring = KeyRing::new(&k, &[]).unwrap();
        (AccessTokens::new("https://scaffold.example", "https://scaffold.example/api", 600), ring, k)
    }

    fn issue(t: &AccessTokens, ring: &KeyRing) -> String {
        t.issue(ring, "person", "app_1", "groups:read", None, "jti-1".into(), now()).unwrap().0
    }

    /// Re-signs arbitrary header and claims with `k` (for negative cases).
    fn forge(k: &KeyMaterial, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{c}");
        let sig =
            jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_ec_der(&k.private_der), Algorithm::ES256)
                .unwrap();
        format!("{input}.{sig}")
    }

    fn claims(t: &AccessTokens) -> serde_json::Value {
        serde_json::json!({
            "iss": t.issuer, "sub": "person", "aud": t.audience, "exp": now().timestamp() + 600,
            "iat": now().timestamp(), "jti": "j", "client_id": "app_1", "scope": "groups:read"
        })
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let (t, ring, k) = setup();
        let token = issue(&t, &ring);
        let c = t.verify(&ring, &token, now()).unwrap();
        assert_eq!((c.sub.as_str(), c.scope.as_str(), c.exp), ("person", "groups:read", now().timestamp() + 600));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!((header.typ.as_deref(), header.kid.as_deref()), (Some("at+jwt"), Some(k.kid.as_str())));
        assert_eq!(ring.jwks()["keys"][0]["kid"], k.kid);
    }

    #[test]
    fn lifetime_is_capped_at_fifteen_minutes() {
        assert_eq!(AccessTokens::new("i", "a", 86_400).lifetime_secs(), 900);
    }

    #[test]
    fn every_failed_check_is_named() {
        let (t, ring, k) = setup();
        let good = claims(&t);
        let h = serde_json::json!({ "alg": "ES256", "typ": "at+jwt", "kid": k.kid });
        let at = |c: serde_json::Value| forge(&k, &h, &c);
        let with = |name: &str, v: serde_json::Value| {
            let mut c = good.clone();
            c[name] = v;
            at(c)
        };
        assert_eq!(t.verify(&ring, &at(good.clone()), now()).map(|c| c.sub), Ok("person".to_owned()));
        let wrong_typ = forge(&k, &serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": k.kid }), &good);
        assert_eq!(t.verify(&ring, &wrong_typ, now()), Err(TokenError::WrongType));
        let unknown = forge(&k, &serde_json::json!({ "alg": "ES256", "typ": "at+jwt", "kid": "nope" }), &good);
        assert_eq!(t.verify(&ring, &unknown, now()), Err(TokenError::UnknownKey));
        assert_eq!(
            t.verify(&ring, &with("aud", "https://other.example".into()), now()),
            Err(TokenError::WrongAudience)
        );
        assert_eq!(t.verify(&ring, &with("iss", "https://evil.example".into()), now()), Err(TokenError::WrongIssuer));
        assert_eq!(t.verify(&ring, &with("exp", now().timestamp().into()), now()), Err(TokenError::Expired));
        assert_eq!(
            t.verify(&ring, &with("iat", (now().timestamp() + 120).into()), now()),
            Err(TokenError::NotYetValid)
        );
        let mut no_scope = good.clone();
        let _ = no_scope.as_object_mut().unwrap().remove("scope");
        assert_eq!(t.verify(&ring, &at(no_scope), now()), Err(TokenError::MissingClaim("scope")));
        // Tampered payload: the signature no longer matches.
        let token = issue(&t, &ring);
        let mut parts: Vec<&str> = token.split('.').collect();
        let tampered = URL_SAFE_NO_PAD.encode(with_scope_admin(parts[1]));
        parts[1] = &tampered;
        assert_eq!(t.verify(&ring, &parts.join("."), now()), Err(TokenError::BadSignature));
        // A key that is not in the ring.
        let other = generate_es256().unwrap();
        let foreign = forge(&other, &serde_json::json!({ "alg": "ES256", "typ": "at+jwt", "kid": k.kid }), &good);
        assert_eq!(t.verify(&ring, &foreign, now()), Err(TokenError::BadSignature));
        assert_eq!(t.verify(&ring, "not-a-jwt", now()), Err(TokenError::Malformed));
    }

    fn with_scope_admin(payload: &str) -> String {
        let mut c: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        c["scope"] = "admin".into();
        c.to_string()
    }

    #[test]
    fn none_and_hmac_algorithms_are_refused() {
        let (t, ring, k) = setup();
        let c = URL_SAFE_NO_PAD.encode(claims(&t).to_string());
        let none = format!("{}.{c}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#));
        assert!(matches!(t.verify(&ring, &none, now()), Err(TokenError::DisallowedAlgorithm(a)) if a == "none"));
        // HS256 "signed" with the public key as the HMAC secret (algorithm confusion).
        let header = serde_json::json!({ "alg": "HS256", "typ": "at+jwt", "kid": k.kid });
        let secret = k.public_jwk.to_string();
        let hs = jsonwebtoken::encode(
            &serde_json::from_value::<Header>(header).unwrap(),
            &claims(&t),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert!(matches!(t.verify(&ring, &hs, now()), Err(TokenError::DisallowedAlgorithm(a)) if a == "HS256"));
    }

    #[test]
    fn retired_keys_still_verify_after_rotation() {
        let (t, old_ring, old) = setup();
        let token = issue(&t, &old_ring);
        let new = generate_es256().unwrap();
        let ring = KeyRing::new(&new, std::slice::from_ref(&old.public_jwk)).unwrap();
        assert!(t.verify(&ring, &token, now()).is_ok());
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        let fresh = issue(&t, &ring);
        assert_eq!(jsonwebtoken::decode_header(&fresh).unwrap().kid, Some(new.kid));
    }
}
