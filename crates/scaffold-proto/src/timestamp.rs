//! `google.protobuf.Timestamp` with its canonical JSON mapping: RFC 3339, Z-normalised, with 0, 3, 6
//! or 9 fractional digits (pbjson-types writes `+00:00`, which strict parsers refuse).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self { seconds: t.timestamp(), nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0) }
    }
}

impl Timestamp {
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.seconds, u32::try_from(self.nanos).ok()?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.to_datetime().ok_or_else(|| serde::ser::Error::custom("timestamp out of range"))?;
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = DateTime::parse_from_rfc3339(&s).map_err(serde::de::Error::custom)?;
        Ok(t.with_timezone(&Utc).into())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use super::*;

    #[test]
    fn fractions_come_in_threes_and_utc_is_z() {
        let at = |s: i64, n: i32| serde_json::to_value(Timestamp { seconds: s, nanos: n }).unwrap();
        assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(at(0, 10_000_000), "1970-01-01T00:00:00.010Z");
        assert_eq!(at(0, 1_000), "1970-01-01T00:00:00.000001Z");
        let back: Timestamp = serde_json::from_value(serde_json::json!("1970-01-01T01:00:00+01:00")).unwrap();
        assert_eq!(back, Timestamp { seconds: 0, nanos: 0 });
    }
}
