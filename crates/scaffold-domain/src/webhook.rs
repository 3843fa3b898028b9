//! Webhook subscriptions (Standard Webhooks): an app's endpoint, the change types and filters it
//! listens for, its signing secrets, and the delivery of each change to it with retries. This
//! module owns the rules (which changes match, when to retry, when to give up); sending is the
//! service's and storing the store's.

use crate::attestation::AttestationType;
use crate::change::{Change, ChangeType};
use crate::{AppId, ChangeId, GroupId, WebhookId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

crate::group::wire_enum!(
    /// A subscription's state: `disabled` after failing too often (or by its owner), when nothing
    /// is queued for it.
    WebhookStatus {
        Active = "active",
        Disabled = "disabled",
    }
);

/// What a subscription listens for: change types, narrowed by a group, outward codes and
/// attestation types (each empty = any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookFilter {
    pub types: Vec<ChangeType>,
    pub group_id: Option<GroupId>,
    pub outcodes: Vec<String>,
    pub attestation_types: Vec<AttestationType>,
}

impl WebhookFilter {
    /// Whether the change is one this subscription listens for (the store applies the same rule
    /// in SQL when it queues deliveries; this is its reference).
    pub fn matches(&self, c: &Change) -> bool {
        c.published
            && self.types.contains(&c.change_type)
            && self.group_id.is_none_or(|g| c.group_id == Some(g))
            && (self.outcodes.is_empty() || c.outcode.as_ref().is_some_and(|o| self.outcodes.contains(o)))
            && (self.attestation_types.is_empty()
                || c.attestation_type.is_some_and(|t| self.attestation_types.contains(&t)))
    }
}

/// A signing secret: `whsec_` and base64 of 32 random bytes. Kept in the store (signing needs it
/// in clear), shown to the app once, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(pub String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub app_id: AppId,
    pub url: String,
    pub filter: WebhookFilter,
    pub secret: WebhookSecret,
    /// The secret before the last rotation, still signing until `previous_until`.
    pub previous_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    pub status: WebhookStatus,
    /// Why it was disabled, in words for its owner.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row (any delivery); reset by a success.
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// The secrets that sign a delivery at `now`: the current one, and the previous one while
    /// its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&WebhookSecret> {
        let mut out = vec![&self.secret];
        if let Some((s, until)) = &self.previous_secret
            && *until > now
        {
            out.push(s);
        }
        out
    }
}

crate::group::wire_enum!(
    /// Where one change stands for one subscription: `pending` (waiting for its next attempt, or
    /// being attempted under a lease), `delivered`, or `failed` (every attempt failed; replay
    /// sends it again).
    DeliveryState {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
);

/// One change's delivery to one subscription: its log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub webhook_id: WebhookId,
    pub change_id: ChangeId,
    pub change_type: ChangeType,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status of the last attempt (none when it did not answer).
    pub last_status: Option<u16>,
    pub last_latency_ms: Option<u32>,
    /// What went wrong last, in words.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Attempts before a delivery is given up (each after a longer wait; replay sends it again).
pub const MAX_ATTEMPTS: u32 = 10;

/// The wait before attempt `attempt + 1`, after `attempt` failed ones: `base` doubled each time,
/// at most six hours, with up to a fifth added at random (`jitter` in 0..1) so that receivers
/// that come back are not hit by every retry at once.
pub fn retry_delay(base: Duration, attempt: u32, jitter: f64) -> Duration {
    let cap = Duration::hours(6);
    let factor = 1_i32.checked_shl(attempt.saturating_sub(1).min(20)).unwrap_or(i32::MAX);
    let wait = base.checked_mul(factor).unwrap_or(cap).min(cap);
    let extra = (wait.num_milliseconds() as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    wait + Duration::milliseconds(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_with_a_cap_and_bounded_jitter() {
        let base = Duration::seconds(10);
        assert_eq!(retry_delay(base, 1, 0.0), Duration::seconds(10));
        assert_eq!(retry_delay(base, 2, 0.0), Duration::seconds(20));
        assert_eq!(retry_delay(base, 4, 0.0), Duration::seconds(80));
        assert_eq!(retry_delay(base, 30, 0.0), Duration::hours(6));
        assert_eq!(retry_delay(base, 1, 1.0), Duration::seconds(12));
        assert!(retry_delay(base, 3, 0.5) > retry_delay(base, 3, 0.0));
    }

    #[test]
    fn a_filter_narrows_by_type_group_area_and_attestation_type() {
        let g = GroupId(uuid::Uuid::nil());
        let change = Change {
            id: ChangeId(uuid::Uuid::nil()),
            at: DateTime::UNIX_EPOCH,
            change_type: ChangeType::EventUpdated,
            group_id: Some(g),
            outcode: Some("WN1".to_owned()),
            categories: vec![],
            attestation_type: None,
            published: true,
            data: serde_json::json!({}),
        };
        let mut f = WebhookFilter { types: vec![ChangeType::EventUpdated], ..WebhookFilter::default() };
        assert!(f.matches(&change));
        f.outcodes = vec!["WN2".to_owned()];
        assert!(!f.matches(&change));
        f.outcodes = vec!["WN1".to_owned()];
        f.group_id = Some(GroupId(uuid::Uuid::max()));
        assert!(!f.matches(&change));
        f.group_id = Some(g);
        assert!(f.matches(&change));
        assert!(!f.matches(&Change { published: false, ..change.clone() }), "unpublished changes are not sent");
        f.attestation_types = vec![AttestationType::DbsCheck];
        assert!(!f.matches(&change));
    }
}
