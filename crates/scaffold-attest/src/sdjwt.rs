//! SD-JWT VCs (`typ: dc+sd-jwt`, RFC 9901 and the SD-JWT VC draft): issuing with selectively
//! disclosable top-level claims and decoy digests, presenting a chosen subset with an optional
//! key-binding JWT (`typ: kb+jwt`).

use crate::Error;
use crate::jws::{PublicKey, SigningKey, b64, unb64};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value, json};

/// The media type of an SD-JWT VC, as its JWS `typ`.
pub const TYP: &str = "dc+sd-jwt";
/// The `typ` of a key-binding JWT.
pub const KB_TYP: &str = "kb+jwt";
/// Claims that are never selectively disclosable: the verifier needs them before anything else.
pub const ALWAYS_VISIBLE: [&str; 9] = ["iss", "vct", "iat", "nbf", "exp", "cnf", "status", "_sd", "_sd_alg"];

pub(crate) fn sha256_b64(text: &str) -> String {
    b64(digest(&SHA256, text.as_bytes()).as_ref())
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    SystemRandom::new().fill(&mut buf).map_err(|_| Error::Key("no randomness"))?;
    Ok(buf)
}

/// One disclosure: `[salt, name, value]`, base64url-encoded JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    pub encoded: String,
    pub name: String,
    pub value: Value,
}

impl Disclosure {
    fn new(name: &str, value: Value) -> Result<Self, Error> {
        let salt = b64(&random_bytes::<16>()?);
        let array = json!([salt, name, value]);
        let encoded = b64(&serde_json::to_vec(&array).map_err(|_| Error::Malformed("disclosure"))?);
        Ok(Self { encoded, name: name.to_owned(), value })
    }

    /// Decodes an object-property disclosure (three elements, a string name).
    pub fn parse(encoded: &str) -> Result<Self, Error> {
        let bytes = unb64(encoded)?;
        let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(Error::Malformed("a disclosure is not a JSON array"));
        };
        match items.as_slice() {
            [Value::String(_salt), Value::String(name), value] => {
                Ok(Self { encoded: encoded.to_owned(), name: name.clone(), value: value.clone() })
            }
            _ => Err(Error::Malformed("a disclosure is not [salt, claim name, value]")),
        }
    }

    /// The digest the issuer put in `_sd`: base64url(SHA-256(the encoded disclosure)).
    pub fn digest(&self) -> String {
        sha256_b64(&self.encoded)
    }
}

/// A reference to a status list entry (`status.status_list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRef {
    pub uri: String,
    pub idx: u32,
}

/// What to issue.
#[derive(Debug, Clone, Default)]
pub struct Credential {
    pub iss: String,
    pub vct: String,
    pub iat: i64,
    pub nbf: Option<i64>,
    pub exp: i64,
    /// Claims shown to every verifier (besides the always-visible ones).
    pub visible: Map<String, Value>,
    /// Claims the holder chooses to disclose, each in its own disclosure.
    pub selective: Map<String, Value>,
    /// The holder's key, for key binding (`cnf.jwk`).
    pub holder: Option<PublicKey>,
    pub status: Option<StatusRef>,
    /// How many decoy digests to add to `_sd`.
    pub decoys: usize,
}

/// An issued SD-JWT VC: `<jwt>~<disclosure>~…~`.
#[derive(Debug, Clone)]
pub struct Issued {
    pub sd_jwt: String,
    pub disclosures: Vec<Disclosure>,
}

/// Issues `credential` signed by `key` (its `kid` in the header).
pub fn issue(key: &SigningKey, credential: &Credential) -> Result<Issued, Error> {
    let mut payload = Map::new();
    for (name, value) in &credential.visible {
        if ALWAYS_VISIBLE.contains(&name.as_str()) {
            return Err(Error::Malformed("a visible claim uses a reserved name"));
        }
        let _ = payload.insert(name.clone(), value.clone());
    }
    let _ = payload.insert("iss".into(), json!(credential.iss));
    let _ = payload.insert("vct".into(), json!(credential.vct));
    let _ = payload.insert("iat".into(), json!(credential.iat));
    if let Some(nbf) = credential.nbf {
        let _ = payload.insert("nbf".into(), json!(nbf));
    }
    let _ = payload.insert("exp".into(), json!(credential.exp));
    if let Some(holder) = &credential.holder {
        let _ = payload.insert("cnf".into(), json!({ "jwk": holder.to_jwk() }));
    }
    if let Some(s) = &credential.status {
        let _ = payload.insert("status".into(), json!({ "status_list": { "idx": s.idx, "uri": s.uri } }));
    }
    let mut disclosures = Vec::new();
    let mut digests = Vec::new();
    for (name, value) in &credential.selective {
        if ALWAYS_VISIBLE.contains(&name.as_str()) || credential.visible.contains_key(name) || name == "..." {
            return Err(Error::Malformed("a selectively disclosable claim uses a reserved or visible name"));
        }
        let d = Disclosure::new(name, value.clone())?;
        digests.push(d.digest());
        disclosures.push(d);
    }
    for _ in 0..credential.decoys {
        digests.push(b64(digest(&SHA256, &random_bytes::<32>()?).as_ref()));
    }
    // Sorted digests reveal nothing about claim order (they are hashes of salted values).
    digests.sort_unstable();
    if !digests.is_empty() {
        let _ = payload.insert("_sd".into(), json!(digests));
        let _ = payload.insert("_sd_alg".into(), json!("sha-256"));
    }
    let mut header = Map::new();
    let _ = header.insert("typ".into(), json!(TYP));
    let _ = header.insert("kid".into(), json!(key.kid()));
    let jwt = key.sign(header, &Value::Object(payload))?;
    let mut sd_jwt = jwt;
    sd_jwt.push('~');
    for d in &disclosures {
        sd_jwt.push_str(&d.encoded);
        sd_jwt.push('~');
    }
    Ok(Issued { sd_jwt, disclosures })
}

/// An SD-JWT split into its parts.
#[derive(Debug, Clone)]
pub struct Split<'a> {
    pub jwt: &'a str,
    pub disclosures: Vec<&'a str>,
    /// The key-binding JWT, when present.
    pub kb_jwt: Option<&'a str>,
}

impl<'a> Split<'a> {
    /// `<jwt>~<d>~…~[<kb-jwt>]`: the last part is the KB-JWT, or empty when there is none.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        let mut parts: Vec<&str> = text.trim().split('~').collect();
        if parts.len() < 2 {
            return Err(Error::Malformed("an SD-JWT ends with `~` (or a key-binding JWT)"));
        }
        let last = parts.pop().unwrap_or_default();
        let jwt = parts.first().copied().unwrap_or_default();
        let disclosures: Vec<&str> = parts.get(1..).unwrap_or_default().to_vec();
        if jwt.is_empty() || disclosures.iter().any(|d| d.is_empty()) {
            return Err(Error::Malformed("an SD-JWT has an empty part"));
        }
        Ok(Self { jwt, disclosures, kb_jwt: (!last.is_empty()).then_some(last) })
    }

    /// The SD-JWT without its key-binding JWT, as `sd_hash` covers it: `<jwt>~<d>~…~`.
    pub fn without_kb(&self) -> String {
        let mut s = String::from(self.jwt);
        s.push('~');
        for d in &self.disclosures {
            s.push_str(d);
            s.push('~');
        }
        s
    }
}

/// A key-binding request: who the presentation is for, their nonce, and when it is made.
#[derive(Debug, Clone)]
pub struct Binding<'a> {
    pub key: &'a SigningKey,
    pub aud: &'a str,
    pub nonce: &'a str,
    pub iat: i64,
}

/// A presentation of `issued` (an SD-JWT with all its disclosures) revealing only the claims
/// named in `reveal`, with a key-binding JWT when `binding` is given.
pub fn present(issued: &str, reveal: &[&str], binding: Option<&Binding<'_>>) -> Result<String, Error> {
    let split = Split::parse(issued)?;
    let mut kept = Vec::new();
    for d in &split.disclosures {
        if reveal.contains(&Disclosure::parse(d)?.name.as_str()) {
            kept.push(*d);
        }
    }
    let presented = Split { jwt: split.jwt, disclosures: kept, kb_jwt: None }.without_kb();
    let Some(b) = binding else { return Ok(presented) };
    let mut header = Map::new();
    let _ = header.insert("typ".into(), json!(KB_TYP));
    let payload = json!({ "iat": b.iat, "aud": b.aud, "nonce": b.nonce, "sd_hash": sha256_b64(&presented) });
    let kb = b.key.sign(header, &payload)?;
    Ok(format!("{presented}{kb}"))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jws::Parsed;

    #[test]
    fn issued_credentials_hide_selective_claims_behind_digests_and_decoys() {
        let (key, _) = SigningKey::generate("issuer-1").unwrap();
        let mut selective = Map::new();
        let _ = selective.insert("level".into(), json!("enhanced"));
        let _ = selective.insert("workforce".into(), json!("children"));
        let credential = Credential {
            iss: "https://scaffold.example".into(),
            vct: "https://scaffold.example/vct/dbs-check/v1".into(),
            iat: 1_790_000_000,
            exp: 1_797_776_000,
            selective,
            decoys: 3,
            ..Credential::default()
        };
        let issued = issue(&key, &credential).unwrap();
        assert!(issued.sd_jwt.ends_with('~'));
        let split = Split::parse(&issued.sd_jwt).unwrap();
        assert_eq!(split.disclosures.len(), 2);
        let jwt = Parsed::parse(split.jwt).unwrap();
        assert_eq!(jwt.typ(), Some(TYP));
        assert!(!jwt.payload.contains_key("level") && !jwt.payload.contains_key("workforce"));
        let sd = jwt.payload["_sd"].as_array().unwrap();
        assert_eq!(sd.len(), 5, "two digests and three decoys");
        for d in &issued.disclosures {
            assert!(sd.contains(&json!(d.digest())));
            assert_eq!(Disclosure::parse(&d.encoded).unwrap(), *d);
        }
        let shown = present(&issued.sd_jwt, &["level"], None).unwrap();
        assert_eq!(Split::parse(&shown).unwrap().disclosures.len(), 1);
    }

    #[test]
    fn reserved_names_cannot_be_selective_or_visible() {
        let (key, _) = SigningKey::generate("k").unwrap();
        for name in ["iss", "_sd", "status", "..."] {
            let mut c = Credential { exp: 1, ..Credential::default() };
            let _ = c.selective.insert(name.into(), json!(1));
            assert!(issue(&key, &c).is_err(), "{name}");
        }
        let mut c = Credential { exp: 1, ..Credential::default() };
        let _ = c.visible.insert("exp".into(), json!(1));
        assert!(issue(&key, &c).is_err());
    }

    #[test]
    fn splitting_needs_the_trailing_tilde_and_no_empty_parts() {
        assert!(Split::parse("abc").is_err());
        assert!(Split::parse("abc~~").is_err());
        let s = Split::parse("abc~d1~d2~kb").unwrap();
        assert_eq!((s.jwt, s.disclosures.len(), s.kb_jwt), ("abc", 2, Some("kb")));
        assert_eq!(s.without_kb(), "abc~d1~d2~");
    }
}
