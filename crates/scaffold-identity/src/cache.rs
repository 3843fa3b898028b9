//! A cache of verified tokens, keyed by the SHA-256 of the token and kept until the token
//! expires: signature checks are the most expensive part of a cheap request. Bounded; when full,
//! expired entries go first, then everything.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

type Entries<T> = HashMap<[u8; 32], (T, DateTime<Utc>)>;

/// Verified claims of type `T` by token hash.
#[derive(Debug)]
pub struct TokenCache<T> {
    entries: Mutex<Entries<T>>,
    capacity: usize,
}

impl<T: Clone> TokenCache<T> {
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The cached claims, if the token was verified before and has not expired.
    pub fn get(&self, token: &str, now: DateTime<Utc>) -> Option<T> {
        let entries = self.entries.lock().ok()?;
        entries.get(&Self::key(token)).filter(|(_, exp)| *exp > now).map(|(c, _)| c.clone())
    }

    pub fn insert(&self, token: &str, claims: T, expires: DateTime<Utc>, now: DateTime<Utc>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity {
            entries.retain(|_, (_, exp)| *exp > now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let _ = entries.insert(Self::key(token), (claims, expires));
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let now = DateTime::UNIX_EPOCH;
        let c = TokenCache::new(2);
        c.insert("a", 1, now + Duration::seconds(10), now);
        assert_eq!(c.get("a", now), Some(1));
        assert_eq!(c.get("a", now + Duration::seconds(10)), None);
        c.insert("b", 2, now + Duration::seconds(1), now);
        c.insert("c", 3, now + Duration::seconds(10), now + Duration::seconds(5));
        assert_eq!(c.get("a", now + Duration::seconds(5)), Some(1));
        assert_eq!(c.get("c", now + Duration::seconds(5)), Some(3));
        assert_eq!(c.get("b", now), None, "the expired entry made room");
    }
}
