//! Opaque pagination cursors: base64url of a small JSON array. Clients must treat them as opaque;
//! a cursor that does not decode is a validation error, not a crash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    pub fn encode<T: Serialize>(value: &T) -> Self {
        let json = serde_json::to_vec(value).unwrap_or_default();
        Self(URL_SAFE_NO_PAD.encode(json))
    }

    pub fn decode<T: DeserializeOwned>(s: &str) -> Option<T> {
        if s.len() > 512 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor::encode(&("wigan", 3));
        assert_eq!(Cursor::decode::<(String, i32)>(&c.0), Some(("wigan".to_owned(), 3)));
        assert_eq!(Cursor::decode::<(String, i32)>("!!!"), None);
        assert_eq!(Cursor::decode::<(String, i32)>("e30"), None);
    }
}
