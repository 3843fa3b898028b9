//! Rate limits per client IP and per app, counted in fixed one-minute windows kept in the store,
//! so that every replica sees the same counts.

use crate::{Service, store_error};
use chrono::{DateTime, TimeZone, Utc};
use scaffold_domain::DomainError;

pub const WINDOW_SECS: i64 = 60;

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

fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let t = now.timestamp();
    Utc.timestamp_opt(t - t.rem_euclid(WINDOW_SECS), 0).single().unwrap_or(now)
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
            let hits = self.store.hit_rate_limit(bucket, start).await.map_err(store_error)?;
            let used = u32::try_from(hits).unwrap_or(u32::MAX);
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

    /// The client id behind a bearer token, when it is one of our app tokens that verifies; used
    /// to pick the app's rate-limit bucket. Never fails: unverifiable tokens have no app bucket.
    pub async fn app_of_bearer(&self, token: &str) -> Option<String> {
        if token.starts_with(crate::auth::TOKEN_PREFIX) || token.matches('.').count() != 2 {
            return None;
        }
        let actor = self.authenticate_jwt(token).await.ok()?;
        match actor.credential() {
            Some(scaffold_domain::Credential::App(id)) => Some(id.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_on_the_minute() {
        let t = Utc.with_ymd_and_hms(2026, 3, 28, 9, 30, 42).unwrap();
        assert_eq!(window_start(t), Utc.with_ymd_and_hms(2026, 3, 28, 9, 30, 0).unwrap());
    }
}
