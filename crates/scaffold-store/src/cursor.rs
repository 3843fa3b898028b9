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

    proptest::proptest! {
        /// Cursors come from clients: any string decodes to a value or to nothing, never a panic,
        /// and every value round-trips.
        #[test]
        fn any_string_decodes_safely_and_values_round_trip(
            garbage in ".{0,200}",
            name in proptest::prelude::any::<String>(),
            n in proptest::prelude::any::<i64>(),
        ) {
            let _ = Cursor::decode::<(String, i64)>(&garbage);
            let c = Cursor::encode(&(name.clone(), n));
            proptest::prop_assert_eq!(Cursor::decode::<(String, i64)>(&c.0), Some((name, n)));
        }
    }
}
