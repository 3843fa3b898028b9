//! IETF Token Status List (`statuslist+jwt`), one bit per credential: set means revoked. Entry
//! `i` is bit `i % 8` (least significant first) of byte `i / 8`; `lst` is the bytes compressed
//! with DEFLATE in the ZLIB format, base64url-encoded.

use crate::Error;
use crate::jws::{Parsed, PublicKey, SigningKey, b64, unb64};
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use serde_json::{Map, Value, json};
use std::io::{Read, Write};

/// The `typ` of a status list token.
pub const TYP: &str = "statuslist+jwt";
/// The smallest list we publish, so that a credential's index says little about it.
pub const MIN_ENTRIES: usize = 131_072;
/// The largest list we accept from a token (8 Mi entries), so that decompression is bounded.
const MAX_BYTES: usize = 1 << 20;

/// A 1-bit status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `entries` valid (unset) entries, rounded up to whole bytes.
    pub fn new(entries: usize) -> Self {
        Self { bytes: vec![0; entries.div_ceil(8)] }
    }

    /// A list from its raw bytes (entry `i` is bit `i % 8` of byte `i / 8`), as stored.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self { bytes }
    }

    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The entry at `idx`; `None` beyond the end.
    pub fn get(&self, idx: usize) -> Option<bool> {
        self.bytes.get(idx / 8).map(|b| b & (1 << (idx % 8)) != 0)
    }

    /// Sets (revokes) or clears the entry at `idx`.
    pub fn set(&mut self, idx: usize, revoked: bool) -> Result<(), Error> {
        let byte = self.bytes.get_mut(idx / 8).ok_or(Error::Malformed("the index is beyond the status list"))?;
        if revoked {
            *byte |= 1 << (idx % 8);
        } else {
            *byte &= !(1 << (idx % 8));
        }
        Ok(())
    }

    /// The `lst` value: ZLIB-compressed bytes, base64url.
    pub fn encode(&self) -> Result<String, Error> {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&self.bytes).map_err(|_| Error::Malformed("cannot compress the status list"))?;
        Ok(b64(&z.finish().map_err(|_| Error::Malformed("cannot compress the status list"))?))
    }

    /// A list from its `lst` value (at most 1 MiB once decompressed).
    pub fn decode(lst: &str) -> Result<Self, Error> {
        let compressed = unb64(lst)?;
        let mut bytes = Vec::new();
        let limit = u64::try_from(MAX_BYTES + 1).unwrap_or(u64::MAX);
        let _ = ZlibDecoder::new(compressed.as_slice())
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|_| Error::Malformed("the status list is not ZLIB data"))?;
        if bytes.len() > MAX_BYTES {
            return Err(Error::Malformed("the status list is too large"));
        }
        Ok(Self { bytes })
    }

    /// The signed token for this list at `uri`: `sub`, `iat`, `exp`, `ttl` and `status_list`.
    pub fn sign(&self, key: &SigningKey, uri: &str, iat: i64, exp: i64, ttl: i64) -> Result<String, Error> {
        let mut header = Map::new();
        let _ = header.insert("typ".into(), json!(TYP));
        let _ = header.insert("kid".into(), json!(key.kid()));
        let payload = json!({ "sub": uri, "iat": iat, "exp": exp, "ttl": ttl,
            "status_list": { "bits": 1, "lst": self.encode()? } });
        key.sign(header, &payload)
    }
}

/// A verified status list token.
#[derive(Debug, Clone)]
pub struct StatusToken {
    pub uri: String,
    pub iat: i64,
    pub exp: Option<i64>,
    pub ttl: Option<i64>,
    pub list: StatusList,
}

/// Why a status list token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusTokenError {
    Malformed,
    WrongType,
    UnknownKey,
    BadSignature,
    WrongList,
    Expired,
}

impl StatusToken {
    /// Checks a token for the list at `uri`: `typ`, ES256, a key of `keys` by `kid`, the
    /// signature, `sub`, `exp` (at `now`), then 1-bit `status_list`.
    pub fn verify(token: &str, uri: &str, keys: &[PublicKey], now: i64) -> Result<Self, StatusTokenError> {
        let parsed = Parsed::parse(token).map_err(|_| StatusTokenError::Malformed)?;
        if parsed.typ() != Some(TYP) || parsed.alg() != Some("ES256") {
            return Err(StatusTokenError::WrongType);
        }
        let key = keys
            .iter()
            .find(|k| k.kid.is_some() && k.kid.as_deref() == parsed.kid())
            .ok_or(StatusTokenError::UnknownKey)?;
        if !parsed.verifies_with(key) {
            return Err(StatusTokenError::BadSignature);
        }
        let p = &parsed.payload;
        if p.get("sub").and_then(Value::as_str) != Some(uri) {
            return Err(StatusTokenError::WrongList);
        }
        let exp = match p.get("exp") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or(StatusTokenError::Malformed)?),
        };
        if exp.is_some_and(|e| now >= e) {
            return Err(StatusTokenError::Expired);
        }
        let status_list = p.get("status_list").ok_or(StatusTokenError::Malformed)?;
        if status_list.get("bits").and_then(Value::as_u64) != Some(1) {
            return Err(StatusTokenError::Malformed);
        }
        let lst = status_list.get("lst").and_then(Value::as_str).ok_or(StatusTokenError::Malformed)?;
        Ok(Self {
            uri: uri.to_owned(),
            iat: p.get("iat").and_then(Value::as_i64).ok_or(StatusTokenError::Malformed)?,
            exp,
            ttl: p.get("ttl").and_then(Value::as_i64),
            list: StatusList::decode(lst).map_err(|_| StatusTokenError::Malformed)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The Token Status List draft's 1-bit example.
    const EXAMPLE: [u8; 16] = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];

    #[test]
    fn the_drafts_example_decodes_and_encodes() {
        let list = StatusList::decode("eNrbuRgAAhcBXQ").unwrap();
        let bits: Vec<u8> = (0..16).map(|i| u8::from(list.get(i).unwrap())).collect();
        assert_eq!(bits, EXAMPLE);
        let mut ours = StatusList::new(16);
        for (i, b) in EXAMPLE.iter().enumerate() {
            ours.set(i, *b == 1).unwrap();
        }
        assert_eq!(ours, list);
        assert_eq!(StatusList::from_bytes(vec![0xB9, 0xA3]), list, "the same bytes");
        assert_eq!(ours.encode().unwrap(), "eNrbuRgAAhcBXQ", "byte for byte the draft's lst");
    }

    #[test]
    fn big_lists_stay_small_and_tokens_verify() {
        let mut list = StatusList::new(MIN_ENTRIES);
        assert_eq!(list.len(), MIN_ENTRIES);
        list.set(99_999, true).unwrap();
        assert!(list.set(MIN_ENTRIES, true).is_err());
        assert!(list.encode().unwrap().len() < 200, "mostly zeros compress well");
        let (key, _) = SigningKey::generate("status-1").unwrap();
        let uri = "https://scaffold.example/status-lists/1";
        let token = list.sign(&key, uri, 1000, 2000, 300).unwrap();
        let ok = StatusToken::verify(&token, uri, &[key.public()], 1500).unwrap();
        assert_eq!((ok.list.get(99_999), ok.list.get(0), ok.ttl), (Some(true), Some(false), Some(300)));
        assert_eq!(StatusToken::verify(&token, uri, &[key.public()], 2000).unwrap_err(), StatusTokenError::Expired);
        assert_eq!(
            StatusToken::verify(&token, "other", &[key.public()], 1500).unwrap_err(),
            StatusTokenError::WrongList
        );
        let (other, _) = SigningKey::generate("status-1").unwrap();
        assert_eq!(
            StatusToken::verify(&token, uri, &[other.public()], 1500).unwrap_err(),
            StatusTokenError::BadSignature
        );
        let (unknown, _) = SigningKey::generate("status-2").unwrap();
        assert_eq!(
            StatusToken::verify(&token, uri, &[unknown.public()], 1500).unwrap_err(),
            StatusTokenError::UnknownKey
        );
    }

    #[test]
    fn decompression_is_bounded() {
        let huge = StatusList::new((MAX_BYTES + 10) * 8);
        assert!(StatusList::decode(&huge.encode().unwrap()).is_err());
        assert!(StatusList::decode("not-zlib").is_err());
    }
}
