//! `Outcode`: a UK postcode outward code (`WN1`, `SW1A`), checked against the shipped table of
//! district centroids (ONS NSPL, Open Government Licence v3.0: see `data/uk-outcodes.LICENSE.txt`).
//! The centroid gives an approximate location for "near me" searches.

use crate::FieldError;
use crate::codes;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

static CURRENT: &str = include_str!("../data/uk-outcodes.csv");
static HISTORIC: &str = include_str!("../data/uk-outcodes-historic.csv");

/// Attribution that must accompany any display or redistribution of the centroids.
pub const ATTRIBUTION: &str = "Contains OS data © Crown copyright and database right 2025; Contains Royal Mail data © Royal Mail copyright and database right 2025; Source: Office for National Statistics licensed under the Open Government Licence v.3.0";

static TABLE: LazyLock<HashMap<&'static str, (f64, f64)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for text in [CURRENT, HISTORIC] {
        for line in text.lines().skip(1) {
            let mut cols = line.split(',');
            if let (Some(code), Some(lat), Some(lon)) = (cols.next(), cols.next(), cols.next())
                && let (Ok(lat), Ok(lon)) = (lat.parse(), lon.parse())
            {
                map.insert(code, (lat, lon));
            }
        }
    }
    map
});

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Outcode(String);

impl Outcode {
    /// Normalises (trim, upper case) and checks shape and existence.
    pub fn parse(pointer: &str, s: &str) -> Result<Self, FieldError> {
        let norm: String = s.trim().to_ascii_uppercase();
        if !well_formed(&norm) {
            return Err(FieldError::new(
                pointer,
                codes::INVALID_OUTCODE,
                "must be the first half of a UK postcode, like WN1 or SW1A",
            ));
        }
        if !TABLE.contains_key(norm.as_str()) {
            return Err(FieldError::new(pointer, codes::UNKNOWN_OUTCODE, "is not a known UK postcode district"));
        }
        Ok(Self(norm))
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The district's centroid as (latitude, longitude), when known.
    pub fn centroid(&self) -> Option<(f64, f64)> {
        TABLE.get(self.0.as_str()).copied()
    }
}

/// A9, A99, AA9, AA99, A9A, AA9A.
fn well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) {
        return false;
    }
    let rest = &b[letters..];
    match rest {
        [d] => d.is_ascii_digit(),
        [d, e] => d.is_ascii_digit() && (e.is_ascii_digit() || e.is_ascii_uppercase()),
        _ => false,
    }
}

impl fmt::Display for Outcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_outcodes_have_the_published_centroids() {
        let wn1 = Outcode::parse("/o", " wn1 ").unwrap();
        assert_eq!(wn1.as_str(), "WN1");
        assert_eq!(wn1.centroid(), Some((53.55104, -2.63014)));
        assert_eq!(Outcode::parse("/o", "SW1A").unwrap().centroid(), Some((51.50197, -0.13386)));
        assert!(Outcode::parse("/o", "L41").is_ok(), "historic districts are accepted");
    }

    #[test]
    fn malformed_and_unknown_outcodes_are_refused() {
        assert_eq!(Outcode::parse("/o", "WN1 1AA").unwrap_err().code, "INVALID_OUTCODE");
        assert_eq!(Outcode::parse("/o", "123").unwrap_err().code, "INVALID_OUTCODE");
        assert_eq!(Outcode::parse("/o", "").unwrap_err().code, "INVALID_OUTCODE");
        assert_eq!(Outcode::parse("/o", "QQ99").unwrap_err().code, "UNKNOWN_OUTCODE");
    }
}
