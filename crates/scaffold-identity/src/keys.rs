//! Signing keys: P-256 (ES256) key pairs made with aws-lc-rs, named by their RFC 7638 thumbprint,
//! with the public half as a JWK. Private keys travel as PKCS#8 DER inside a type whose `Debug`
//! hides them.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fmt;

/// A key pair: the `kid`, the private key (PKCS#8 DER) and the public JWK.
#[derive(Clone)]
pub struct KeyMaterial {
    pub kid: String,
    pub algorithm: &'static str,
    pub private_der: Vec<u8>,
    pub public_jwk: serde_json::Value,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_der", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A fresh ES256 key.
pub fn generate_es256() -> Result<KeyMaterial, String> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|e| e.to_string())?;
    es256_from_der(pkcs8.as_ref())
}

/// An ES256 key from a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`), e.g. from a secret
/// store.
pub fn key_from_pkcs8_pem(pem: &str) -> Result<KeyMaterial, String> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    let der = STANDARD.decode(body).map_err(|_| "the key is not PEM".to_owned())?;
    es256_from_der(&der)
}

fn es256_from_der(der: &[u8]) -> Result<KeyMaterial, String> {
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
        .map_err(|_| "the key is not a P-256 private key in PKCS#8".to_owned())?;
    let point = pair.public_key().as_ref();
    let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
        return Err("unexpected public key encoding".to_owned());
    };
    let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
    // RFC 7638: the thumbprint hashes the required members in lexicographic order, no spaces.
    let thumbprint = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint.as_bytes()));
    let public_jwk = json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": "ES256", "kid": kid });
    Ok(KeyMaterial { kid, algorithm: "ES256", private_der: der.to_vec(), public_jwk })
}

/// `bytes` random bytes, base64url-encoded: for state, session ids and secrets.
pub fn random_token(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| e.to_string())?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_thumbprint_kids_and_reload_from_der() {
        let k = generate_es256().unwrap();
        assert_eq!(k.kid.len(), 43);
        assert_eq!(k.public_jwk["kid"], k.kid);
        let again = es256_from_der(&k.private_der).unwrap();
        assert_eq!(again.kid, k.kid);
        assert!(!format!("{k:?}").contains(&format!("{:?}", k.private_der)));
        let pem =
            format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&k.private_der));
        assert_eq!(key_from_pkcs8_pem(&pem).unwrap().kid, k.kid);
        assert!(key_from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err());
    }
}
