//! Compact JWS with ES256 only (aws-lc-rs): signing keys, public keys as JWKs, and strict parsing
//! (three base64url parts without padding, JSON objects, a 64-byte `r || s` signature).

use crate::Error;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, ParsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| Error::Malformed("a part is not base64url without padding"))
}

/// An ES256 key that signs, with its key id.
pub struct SigningKey {
    kid: String,
    pair: EcdsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random P-256 key; returns it with its PKCS#8 (DER) form for storing.
    pub fn generate(kid: impl Into<String>) -> Result<(Self, Vec<u8>), Error> {
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| Error::Key("cannot generate a P-256 key"))?;
        let der = doc.as_ref().to_vec();
        Ok((Self::from_pkcs8(kid, &der)?, der))
    }

    /// A key from its PKCS#8 (DER) form.
    pub fn from_pkcs8(kid: impl Into<String>, der: &[u8]) -> Result<Self, Error> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| Error::Key("not a P-256 PKCS#8 private key"))?;
        Ok(Self { kid: kid.into(), pair })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let point = self.pair.public_key().as_ref().to_vec();
        // A key pair's own public point is on the curve; should parsing ever fail, the key
        // verifies nothing rather than everything.
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).ok();
        PublicKey { kid: Some(self.kid.clone()), point, parsed }
    }

    /// Signs `header` (with `alg: ES256` added) and `payload` as a compact JWS.
    pub fn sign(&self, mut header: Map<String, Value>, payload: &Value) -> Result<String, Error> {
        let _ = header.insert("alg".into(), json!("ES256"));
        let head = b64(&serde_json::to_vec(&Value::Object(header)).map_err(|_| Error::Malformed("header"))?);
        let body = b64(&serde_json::to_vec(payload).map_err(|_| Error::Malformed("payload"))?);
        let input = format!("{head}.{body}");
        let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).map_err(|_| Error::Key("cannot sign"))?;
        Ok(format!("{input}.{}", b64(sig.as_ref())))
    }
}

/// A P-256 public key (uncompressed point, checked to be on the curve), with its key id when it
/// has one. The key is parsed once, so that verifying with it does not parse it again.
#[derive(Clone)]
pub struct PublicKey {
    pub kid: Option<String>,
    point: Vec<u8>,
    parsed: Option<ParsedPublicKey>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).field("point", &b64(&self.point)).finish_non_exhaustive()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.point == other.point
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    /// A key from an uncompressed SEC1 point; refused unless the point is on P-256 (a key off the
    /// curve could never verify a signature, and accepting one invites invalid-curve attacks).
    fn from_point(kid: Option<String>, point: Vec<u8>) -> Result<Self, Error> {
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .map_err(|_| Error::Key("the JWK's coordinates are not a point on P-256"))?;
        Ok(Self { kid, point, parsed: Some(parsed) })
    }

    /// The key as a JWK (`kty: EC`, `crv: P-256`, `x`, `y`, and `kid`, `alg`, `use` when known).
    pub fn to_jwk(&self) -> Value {
        let (x, y) = self.point.get(1..).map_or((&[][..], &[][..]), |xy| xy.split_at(xy.len() / 2));
        let mut jwk = json!({ "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y) });
        if let (Some(kid), Some(o)) = (&self.kid, jwk.as_object_mut()) {
            let _ = o.insert("kid".into(), json!(kid));
            let _ = o.insert("alg".into(), json!("ES256"));
            let _ = o.insert("use".into(), json!("sig"));
        }
        jwk
    }

    /// A key from a JWK: `kty: EC`, `crv: P-256`, 32-byte `x` and `y`; private members refused.
    pub fn from_jwk(jwk: &Value) -> Result<Self, Error> {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str);
        if field("kty") != Some("EC") || field("crv") != Some("P-256") {
            return Err(Error::Key("the JWK is not an EC P-256 key"));
        }
        if jwk.get("d").is_some() {
            return Err(Error::Key("the JWK contains a private key"));
        }
        let x = unb64(field("x").unwrap_or_default())?;
        let y = unb64(field("y").unwrap_or_default())?;
        if x.len() != 32 || y.len() != 32 {
            return Err(Error::Key("the JWK's coordinates are not 32 bytes"));
        }
        let mut point = Vec::with_capacity(65);
        point.push(4);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Self::from_point(field("kid").map(str::to_owned), point)
    }

    fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        self.parsed.as_ref().is_some_and(|k| k.verify_sig(input, signature).is_ok())
    }
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Parsed {
    /// Splits and decodes; header and payload must be JSON objects.
    pub fn parse(compact: &str) -> Result<Self, Error> {
        let mut parts = compact.split('.');
        let (Some(head), Some(body), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Malformed("a JWS has three parts"));
        };
        let object = |bytes: Vec<u8>, what: &'static str| match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Error::Malformed(what)),
        };
        Ok(Self {
            header: object(unb64(head)?, "the JWS header is not a JSON object")?,
            payload: object(unb64(body)?, "the JWS payload is not a JSON object")?,
            signing_input: format!("{head}.{body}"),
            signature: unb64(sig)?,
        })
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The signature checks with `key` (ES256).
    pub fn verifies_with(&self, key: &PublicKey) -> bool {
        self.signature.len() == 64 && key.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn sign_parse_verify_and_jwk_round_trip() {
        let (key, der) = SigningKey::generate("k1").unwrap();
        let again = SigningKey::from_pkcs8("k1", &der).unwrap();
        assert_eq!(again.public(), key.public());
        let mut header = Map::new();
        let _ = header.insert("typ".into(), json!("example+jwt"));
        let jws = key.sign(header, &json!({ "a": 1 })).unwrap();
        let parsed = Parsed::parse(&jws).unwrap();
        assert_eq!((parsed.alg(), parsed.typ()), (Some("ES256"), Some("example+jwt")));
        assert!(parsed.verifies_with(&key.public()));
        let jwk = key.public().to_jwk();
        let back = PublicKey::from_jwk(&jwk).unwrap();
        assert!(parsed.verifies_with(&back));
        let (other, _) = SigningKey::generate("k2").unwrap();
        assert!(!parsed.verifies_with(&other.public()));
        let tampered = jws.replacen(".eyJ", ".eyK", 1);
        assert!(Parsed::parse(&tampered).map_or(true, |p| !p.verifies_with(&key.public())));
    }

    #[test]
    fn malformed_tokens_and_keys_are_refused() {
        assert!(Parsed::parse("a.b").is_err());
        assert!(Parsed::parse("a.b.c.d").is_err());
        assert!(Parsed::parse("e30=.e30.AA").is_err(), "padding");
        assert!(Parsed::parse("W10.e30.AA").is_err(), "header not an object");
        assert!(PublicKey::from_jwk(&json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" })).is_err());
        let (key, _) = SigningKey::generate("k").unwrap();
        let mut private = key.public().to_jwk();
        let _ = private.as_object_mut().unwrap().insert("d".into(), json!("AAAA"));
        assert!(PublicKey::from_jwk(&private).is_err());
    }

    #[test]
    fn points_off_the_curve_are_refused() {
        let zero = b64(&[0u8; 32]);
        let mut one = [0u8; 32];
        one[31] = 1;
        let off = json!({ "kty": "EC", "crv": "P-256", "x": zero, "y": b64(&one) });
        assert_eq!(
            PublicKey::from_jwk(&off).unwrap_err(),
            Error::Key("the JWK's coordinates are not a point on P-256")
        );
        // A real key with one bit of y flipped is off the curve too.
        let (key, _) = SigningKey::generate("k").unwrap();
        let mut jwk = key.public().to_jwk();
        let mut y = unb64(jwk["y"].as_str().unwrap()).unwrap();
        y[31] ^= 1;
        jwk["y"] = json!(b64(&y));
        assert!(PublicKey::from_jwk(&jwk).is_err());
    }
}
