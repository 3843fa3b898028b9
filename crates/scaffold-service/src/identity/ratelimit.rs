//! Rate limits per client IP and per app, in fixed one-minute windows whose counts live in the
//! store, so that every replica sees the same totals. To keep the store off the hot path, each
//! replica counts locally and adds its hits to the store at most every `SYNC_MILLIS` per bucket
//! (the first hit of a bucket's window always syncs); a decision uses the last shared total plus
//! the hits counted here since. Across R replicas a limit may be overshot by at most what R
//! replicas admit in one sync interval.

use crate::{Service, store_error};
use chrono::{DateTime, Duration, TimeZone, Utc};
use scaffold_domain::DomainError;
use scaffold_store::window::WindowCounts;

pub const WINDOW_SECS: i64 = 60;
/// How often a replica adds its local hits of a busy bucket to the shared count.
pub const SYNC_MILLIS: i64 = 250;

/// Requests allowed per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_ip_per_minute: u32,
    pub per_app_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_ip_per_minute: 600, per_app_per_minute: 1200 }
    }
}

/// The state of the most constrained bucket after counting a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: i64,
    pub exceeded: bool,
}

/// One bucket's count on this replica in the current window.
#[derive(Debug, Clone, Copy, Default)]
struct Local {
    /// The shared total at the last sync (this replica's hits up to then included).
    shared: u64,
    /// Hits counted here since the last sync.
    pending: u64,
    last_sync: Option<DateTime<Utc>>,
}

/// Buckets counted per window before buckets share overflow counters (which may over-count,
/// never under-count): bounded memory and constant time per request, however many clients.
const BUCKETS: usize = 65_536;

/// The local side of the counters.
#[derive(Debug)]
pub struct Counters(WindowCounts<Local>);

impl Default for Counters {
    fn default() -> Self {
        Self(WindowCounts::new(BUCKETS))
    }
}

fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let t = now.timestamp();
    Utc.timestamp_opt(t - t.rem_euclid(WINDOW_SECS), 0).single().unwrap_or(now)
}

impl Counters {
    /// Counts a hit; returns the hits to add to the store now (when a sync is due) and the
    /// current estimate.
    fn hit(&self, bucket: &str, start: DateTime<Utc>, now: DateTime<Utc>) -> (Option<u64>, u64) {
        self.0.with(bucket, start.timestamp(), |l, shared| {
            // A bucket without a place of its own (more buckets this window than there is room
            // for) adds each hit to its own row in the store at once: a slot shared with other
            // buckets must never carry their hits into this bucket's count, or this one's away.
            if shared {
                return (Some(1), 1);
            }
            l.pending += 1;
            let due = l.last_sync.is_none_or(|t| now - t >= Duration::milliseconds(SYNC_MILLIS));
            if !due {
                return (None, l.shared + l.pending);
            }
            let flush = l.pending;
            l.pending = 0;
            l.last_sync = Some(now);
            (Some(flush), l.shared + flush)
        })
    }

    /// Records the shared total a sync returned; returns the new estimate.
    fn synced(&self, bucket: &str, start: DateTime<Utc>, total: u64) -> u64 {
        self.0.with(bucket, start.timestamp(), |l, shared| {
            if shared {
                return total;
            }
            l.shared = l.shared.max(total);
            l.shared + l.pending
        })
    }
}

impl Service {
    pub fn rate_limits(&self) -> RateLimits {
        self.identity.config.rate_limits
    }

    /// Counts one request in each `(bucket, limit)` and reports the tightest. Limits of 0 are
    /// skipped; `None` when nothing was limited.
    pub async fn hit_rate_limits(&self, buckets: &[(String, u32)]) -> Result<Option<RateState>, DomainError> {
        let now = self.clock.now();
        let start = window_start(now);
        let reset_secs = (start.timestamp() + WINDOW_SECS - now.timestamp()).max(1);
        let mut tightest: Option<RateState> = None;
        for (bucket, limit) in buckets.iter().filter(|(_, l)| *l > 0) {
            let counters = &self.identity.rate_counters;
            let used = match counters.hit(bucket, start, now) {
                (None, estimate) => estimate,
                (Some(add), _) => {
                    let total = self.store.add_rate_limit_hits(bucket, start, add).await.map_err(store_error)?;
                    counters.synced(bucket, start, total)
                }
            };
            let used = u32::try_from(used).unwrap_or(u32::MAX);
            let state =
                RateState { limit: *limit, remaining: limit.saturating_sub(used), reset_secs, exceeded: used > *limit };
            let tighter = match tightest {
                None => true,
                Some(t) => {
                    (state.exceeded && !t.exceeded) || (state.exceeded == t.exceeded && state.remaining < t.remaining)
                }
            };
            if tighter {
                tightest = Some(state);
            }
        }
        Ok(tightest)
    }

    /// The caller behind a JWT bearer token, resolved once so that the rate limiter can pick the
    /// app's bucket and the transport can reuse it (see [`Authenticated`]). `None` for other
    /// tokens and for tokens that do not verify (the transport then reports why).
    pub async fn caller_of_jwt(&self, token: &str) -> Option<Authenticated> {
        if token.starts_with(crate::auth::TOKEN_PREFIX) || token.matches('.').count() != 2 {
            return None;
        }
        self.authenticate_jwt(token).await.ok().map(Authenticated)
    }
}

/// A caller already resolved from the request's `Authorization` header earlier in the same
/// request, for the transports to reuse instead of verifying the token twice.
#[derive(Debug, Clone)]
pub struct Authenticated(pub scaffold_domain::Actor);

impl Authenticated {
    /// The app's id, when the caller is an app.
    pub fn app(&self) -> Option<String> {
        match self.0.credential() {
            Some(scaffold_domain::Credential::App(id)) => Some(id.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 28, 9, 30, 0).unwrap() + Duration::milliseconds(ms)
    }

    #[test]
    fn windows_start_on_the_minute() {
        assert_eq!(window_start(t(42_000)), t(0));
    }

    #[test]
    fn hits_sync_on_the_first_hit_and_then_at_most_every_interval() {
        let c = Counters::default();
        assert_eq!(c.hit("ip:a", t(0), t(0)), (Some(1), 1), "the first hit of a window syncs");
        assert_eq!(c.synced("ip:a", t(0), 5), 5, "another replica had counted 4");
        assert_eq!(c.hit("ip:a", t(0), t(100)), (None, 6));
        assert_eq!(c.hit("ip:a", t(0), t(200)), (None, 7));
        assert_eq!(c.hit("ip:a", t(0), t(250)), (Some(3), 8), "due: the three local hits go to the store");
        assert_eq!(c.synced("ip:a", t(0), 20), 20);
        assert_eq!(c.hit("ip:a", t(60_000), t(60_000)), (Some(1), 1), "a new window starts afresh");
    }

    #[test]
    fn two_hundred_thousand_clients_keep_the_counters_bounded_and_limits_working() {
        let c = Counters::default();
        assert_eq!(c.hit("ip:first", t(0), t(0)), (Some(1), 1));
        assert_eq!(c.synced("ip:first", t(0), 1), 1);
        for i in 0..200_000u32 {
            c.hit(&format!("ip:{i}"), t(0), t(1));
        }
        assert!(c.0.len() <= BUCKETS + 16, "{} buckets held", c.0.len());
        // Clients seen before the flood are counted here as before.
        assert_eq!(c.hit("ip:first", t(0), t(2)).1, 2);
        // Clients after it have no place of their own: every hit goes to their own row in the
        // store at once, so another client's hits can never be counted as theirs.
        for _ in 0..10 {
            assert_eq!(c.hit("ip:late", t(0), t(3)), (Some(1), 1));
        }
        assert_eq!(c.synced("ip:late", t(0), 10), 10, "the decision is the store's exact total");
        assert_eq!(c.hit("ip:other", t(0), t(3)), (Some(1), 1), "nothing carried over from ip:late");
    }
}
