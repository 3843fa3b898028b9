//! Counters per key for the current fixed time window, in memory, bounded and constant-time per
//! access whatever the number of keys: the keys are spread over shards by a per-process random
//! hash (so that no client can aim at one shard); a shard forgets all of its keys at once when a
//! newer window starts (no scan on the request path); and a full shard counts unknown keys in a
//! small set of overflow slots chosen by hash, which may over-count a key but never forgets one.
//! Used for rate-limit counters (the service's local counts, the SQLite adapter's store).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

const SHARDS: usize = 16;
const OVERFLOW_SLOTS: usize = 256;

#[derive(Debug)]
struct Shard<V> {
    window: i64,
    map: HashMap<Box<str>, V>,
    overflow: Vec<V>,
}

/// Values of type `V` per key for the current window (see the module documentation).
#[derive(Debug)]
pub struct WindowCounts<V> {
    shards: Vec<Mutex<Shard<V>>>,
    per_shard: usize,
    hasher: RandomState,
}

impl<V: Default + Clone> WindowCounts<V> {
    /// Room for about `capacity` keys per window before keys share overflow slots.
    pub fn new(capacity: usize) -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    window: i64::MIN,
                    map: HashMap::new(),
                    overflow: vec![V::default(); OVERFLOW_SLOTS],
                })
            })
            .collect();
        Self { shards, per_shard: capacity.div_ceil(SHARDS).max(1), hasher: RandomState::new() }
    }

    /// Runs `f` on the value for `key` in `window`, telling it whether the value is shared with
    /// other keys (an overflow slot). A newer window starts every key of the shard afresh; a window
    /// older than the shard's current one (a request that raced the change of window) gets a fresh
    /// value that is not kept.
    pub fn with<R>(&self, key: &str, window: i64, f: impl FnOnce(&mut V, bool) -> R) -> R {
        let hash = self.hasher.hash_one(key);
        let index = usize::try_from(hash % SHARDS as u64).unwrap_or(0);
        let Some(shard) = self.shards.get(index) else {
            return f(&mut V::default(), false);
        };
        let mut shard = shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut forgotten = None;
        if window > shard.window {
            shard.window = window;
            forgotten = Some(std::mem::take(&mut shard.map));
            shard.overflow.iter_mut().for_each(|v| *v = V::default());
        }
        let out = if window < shard.window {
            f(&mut V::default(), false)
        } else if let Some(v) = shard.map.get_mut(key) {
            f(v, false)
        } else if shard.map.len() < self.per_shard {
            f(shard.map.entry(key.into()).or_default(), false)
        } else {
            let slot = usize::try_from((hash / SHARDS as u64) % OVERFLOW_SLOTS as u64).unwrap_or(0);
            match shard.overflow.get_mut(slot) {
                Some(v) => f(v, true),
                None => f(&mut V::default(), true),
            }
        };
        drop(shard);
        // The previous window's keys are freed outside the lock.
        drop(forgotten);
        out
    }

    /// Keys held for their own (not in overflow slots), over all shards.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner).map.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_count_per_window_and_a_new_window_starts_afresh() {
        let c = WindowCounts::<u64>::new(100);
        assert_eq!(
            c.with("a", 1, |v, _| {
                *v += 1;
                *v
            }),
            1
        );
        assert_eq!(
            c.with("a", 1, |v, _| {
                *v += 1;
                *v
            }),
            2
        );
        assert_eq!(
            c.with("b", 1, |v, _| {
                *v += 1;
                *v
            }),
            1
        );
        assert_eq!(
            c.with("a", 2, |v, _| {
                *v += 1;
                *v
            }),
            1,
            "the next window"
        );
        assert_eq!(
            c.with("a", 1, |v, _| {
                *v += 1;
                *v
            }),
            1,
            "a late hit of the last window is not kept"
        );
        assert_eq!(c.with("a", 2, |v, _| *v), 1);
    }

    #[test]
    fn two_hundred_thousand_keys_stay_bounded_and_every_key_is_still_counted() {
        let c = WindowCounts::<u64>::new(10_000);
        for i in 0..200_000 {
            c.with(&format!("ip:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255), 7, |v, _| *v += 1);
        }
        assert!(c.len() <= 10_000 + SHARDS, "{} keys held", c.len());
        // A key seen early is counted exactly; a key seen once the shards are full is counted at
        // least as often as it was seen (it may share an overflow slot).
        assert_eq!(c.with("ip:10.0.0.0", 7, |v, _| *v), 1);
        for _ in 0..5 {
            c.with("ip:late", 7, |v, _| *v += 1);
        }
        assert!(c.with("ip:late", 7, |v, _| *v) >= 5);
        // The next window forgets them all.
        c.with("ip:late", 8, |v, _| *v += 1);
        for i in 0..1000 {
            c.with(&format!("k{i}"), 8, |v, _| *v += 1);
        }
        assert!(c.len() <= 1001 + SHARDS);
    }
}
