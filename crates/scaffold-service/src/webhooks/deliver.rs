//! Delivering queued changes: a worker step takes due deliveries under a lease, builds each body
//! from the `proto/` contract (`ChangeEvent`, canonical JSON), signs it with the subscription's
//! secrets, sends it (no redirects, a timeout, public addresses only unless allowed), and records
//! the outcome: delivered, retried later with backoff and jitter, or given up; a subscription whose
//! attempts keep failing is disabled with its reason.

use crate::{Service, store_error};
use chrono::Duration;
use scaffold_domain::codes;
use scaffold_domain::identity::AppStatus;
use scaffold_domain::webhook::{MAX_ATTEMPTS, retry_delay};
use scaffold_domain::{DomainError, FieldError};
use scaffold_proto::changes::v1::{ChangeData, ChangeEvent};
use scaffold_store::{Attempt, DueDelivery};
use serde_json::json;

/// How webhooks are delivered (`[webhooks]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The longest one attempt may take, answer included (1 to 60 seconds).
    pub timeout_secs: u64,
    /// The wait after a first failed attempt; it doubles each time, up to six hours.
    pub retry_base_secs: u64,
    /// Failed attempts in a row after which a subscription is disabled.
    pub disable_after: u32,
    /// Lets endpoints on loopback and private addresses (and plain http) receive: for tests and
    /// closed networks only.
    pub allow_private_targets: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { timeout_secs: 10, retry_base_secs: 10, disable_after: 20, allow_private_targets: false }
    }
}

impl WebhookSettings {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=60).contains(&self.timeout_secs) {
            return Err("webhooks.timeout_secs must be between 1 and 60".to_owned());
        }
        if !(1..=3600).contains(&self.retry_base_secs) {
            return Err("webhooks.retry_base_secs must be between 1 and 3600".to_owned());
        }
        if !(1..=1000).contains(&self.disable_after) {
            return Err("webhooks.disable_after must be between 1 and 1000".to_owned());
        }
        Ok(())
    }
}

/// Deliveries one step takes (sent concurrently).
const BATCH: u32 = 16;
/// Deliveries in flight at once in one worker.
const MAX_IN_FLIGHT: usize = 32;
/// Deliveries of one webhook in flight at once: a slow endpoint holds at most these slots, so it
/// cannot starve the others (it answers within the timeout, so it is never disabled).
const PER_WEBHOOK: usize = 8;

impl Service {
    pub(crate) fn webhook_settings(&self) -> &WebhookSettings {
        &self.identity.config().webhooks
    }

    /// The client that delivers, as configured.
    pub fn webhook_client(&self) -> Result<reqwest::Client, DomainError> {
        let s = self.webhook_settings();
        scaffold_identity::webhook_client(std::time::Duration::from_secs(s.timeout_secs), s.allow_private_targets)
            .map_err(DomainError::internal)
    }

    /// Checks an endpoint: an https URL (http too when private targets are allowed) whose host,
    /// when written as an address, is a public one.
    pub(crate) fn webhook_url(&self, raw: &str) -> Result<String, FieldError> {
        let url = scaffold_domain::text::http_url("/url", raw, 2_000)?;
        let allow = self.webhook_settings().allow_private_targets;
        let parsed = url::Url::parse(&url)
            .map_err(|_| FieldError::new("/url", codes::INVALID_URL, "must be an absolute https URL"))?;
        if parsed.scheme() != "https" && !allow {
            return Err(FieldError::new("/url", codes::INVALID_URL, "webhooks are delivered over https only"));
        }
        if !allow && !public_host(&parsed) {
            return Err(FieldError::new(
                "/url",
                codes::PRIVATE_ADDRESS,
                "the host is a private, loopback or link-local address: webhooks go to public addresses only",
            ));
        }
        Ok(url)
    }

    fn lease_until(&self) -> chrono::DateTime<chrono::Utc> {
        let s = self.webhook_settings();
        self.clock.now() + Duration::seconds(i64::try_from(s.timeout_secs * 2 + 5).unwrap_or(60))
    }

    /// The delivery worker of `scaffold serve`: keeps up to [`MAX_IN_FLIGHT`] deliveries in
    /// flight, at most [`PER_WEBHOOK`] of one webhook, claiming more as slots free up; idles a
    /// second when nothing is due. Never returns.
    pub async fn run_webhook_worker(self, client: reqwest::Client) {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        let in_flight: Arc<Mutex<HashMap<scaffold_domain::WebhookId, usize>>> = Arc::default();
        // Told when an attempt ends, so that a worker whose webhooks are all busy takes more at
        // once rather than at the next poll.
        let finished = Arc::new(tokio::sync::Notify::new());
        loop {
            let free = slots.available_permits();
            if free == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            let busy: Vec<_> = {
                let m = in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                m.iter().filter(|(_, n)| **n >= PER_WEBHOOK).map(|(w, _)| *w).collect()
            };
            let limit = u32::try_from(free).unwrap_or(BATCH).min(BATCH);
            let due = match self.store.claim_deliveries(self.clock.now(), self.lease_until(), limit, &busy).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "taking due webhook deliveries failed; retrying shortly");
                    Vec::new()
                }
            };
            if due.is_empty() {
                if free < MAX_IN_FLIGHT {
                    // Deliveries in flight: more may be taken as soon as one ends.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), finished.notified()).await;
                } else {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                continue;
            }
            for d in due {
                let Ok(permit) = slots.clone().acquire_owned().await else { return };
                let hook = d.webhook.id;
                *in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(hook).or_default() += 1;
                let (svc, client, in_flight, finished) =
                    (self.clone(), client.clone(), in_flight.clone(), finished.clone());
                tokio::spawn(async move {
                    if let Err(e) = svc.attempt(&client, d).await {
                        tracing::warn!(error = %e, "a webhook attempt could not be recorded");
                    }
                    let mut m = in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(n) = m.get_mut(&hook) {
                        *n -= 1;
                        if *n == 0 {
                            m.remove(&hook);
                        }
                    }
                    drop(m);
                    drop(permit);
                    finished.notify_one();
                });
            }
        }
    }

    /// One step, finished before it returns: delivers what is due, up to a batch, and returns how
    /// many it attempted (for tests and tools; `scaffold serve` runs [`Self::run_webhook_worker`]).
    pub async fn deliver_webhooks(&self, client: &reqwest::Client) -> Result<usize, DomainError> {
        let due =
            self.store.claim_deliveries(self.clock.now(), self.lease_until(), BATCH, &[]).await.map_err(store_error)?;
        let n = due.len();
        let mut tasks = tokio::task::JoinSet::new();
        for d in due {
            let (svc, client) = (self.clone(), client.clone());
            tasks.spawn(async move { svc.attempt(&client, d).await });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Err(e)) => tracing::warn!(error = %e, "a webhook attempt could not be recorded"),
                Err(e) => tracing::warn!(error = %e, "a webhook attempt stopped"),
                Ok(Ok(())) => {}
            }
        }
        Ok(n)
    }

    async fn attempt(&self, client: &reqwest::Client, d: DueDelivery) -> Result<(), DomainError> {
        let s = self.webhook_settings().clone();
        let started = std::time::Instant::now();
        let (status, error, retry) = match self.send(client, &d).await {
            Ok(status) => (Some(status), None, true),
            Err(Failure { status, message, retry }) => (status, Some(message), retry),
        };
        let at = self.clock.now();
        let retry_at = (error.is_some() && retry && d.attempt < MAX_ATTEMPTS).then(|| {
            at + retry_delay(Duration::seconds(i64::try_from(s.retry_base_secs).unwrap_or(10)), d.attempt, jitter())
        });
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let attempt = Attempt {
            webhook: d.webhook.id,
            change: d.change.id,
            number: d.attempt,
            at,
            status,
            latency_ms,
            error,
            retry_at,
        };
        let reason = format!(
            "Disabled after {} failed attempts in a row; the last: {}. Fix the endpoint, then enable the webhook: \
             waiting deliveries are sent again.",
            s.disable_after,
            attempt.error.as_deref().unwrap_or("none")
        );
        let audit = self.audit(
            None,
            "webhook.disable",
            "webhook",
            d.webhook.id,
            json!({ "app_id": d.webhook.app_id, "automatic": true }),
        );
        let disabled =
            self.store.record_attempt(&attempt, s.disable_after, &reason, &audit).await.map_err(store_error)?;
        if disabled {
            tracing::warn!(webhook = %d.webhook.id, app = %d.webhook.app_id, "webhook disabled after repeated failures");
        }
        Ok(())
    }

    /// One attempt of one delivery.
    async fn send(&self, client: &reqwest::Client, d: &DueDelivery) -> Result<u16, Failure> {
        let give_up = |message: String| Failure { status: None, message, retry: false };
        let app = self.store.app_by_id(d.webhook.app_id).await.map_err(|e| Failure::retry(None, e.to_string()))?;
        let scope = d.change.change_type.scope();
        match app {
            Some(a) if a.status == AppStatus::Active && a.granted_scopes.contains(scope) => {}
            Some(a) if a.status == AppStatus::Active => {
                return Err(give_up(format!("the app is no longer granted `{scope}`: not sent")));
            }
            _ => return Err(give_up("the app is revoked: not sent".to_owned())),
        }
        if !self.webhook_settings().allow_private_targets
            && !url::Url::parse(&d.webhook.url).is_ok_and(|u| public_host(&u))
        {
            return Err(give_up("the endpoint's host is not a public address: not sent".to_owned()));
        }
        let body = payload(d).map_err(give_up)?;
        let id = d.change.id.to_string();
        let timestamp = self.clock.now().timestamp();
        let mut signatures = Vec::new();
        for secret in d.webhook.signing_secrets(self.clock.now()) {
            signatures.push(scaffold_identity::webhook_signature(&secret.0, &id, timestamp, &body).map_err(give_up)?);
        }
        let sent = client
            .post(&d.webhook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                let secs = self.webhook_settings().timeout_secs;
                return Err(Failure::retry(None, format!("no answer within {secs} s")));
            }
            // No resolver or network detail: whether an inward name exists is nobody's business.
            Err(e) if e.is_connect() => {
                return Err(Failure::retry(
                    None,
                    "could not connect to the endpoint (or its name resolves to no public address)".to_owned(),
                ));
            }
            Err(_) => return Err(Failure::retry(None, "the request failed before an answer".to_owned())),
        };
        let status = response.status();
        // The answer's body is not read: dropping the response closes the exchange, however large.
        drop(response);
        if status.is_success() {
            Ok(status.as_u16())
        } else if status.is_redirection() {
            Err(Failure::retry(
                Some(status.as_u16()),
                format!("the endpoint answered {status}: redirects are not followed"),
            ))
        } else {
            Err(Failure::retry(Some(status.as_u16()), format!("the endpoint answered {status}")))
        }
    }
}

/// The body of a delivery: the contract's `ChangeEvent` in canonical JSON. The stored data is read
/// back through the contract, so a change that does not fit it is never sent.
fn payload(d: &DueDelivery) -> Result<Vec<u8>, String> {
    let data: ChangeData = serde_json::from_value(d.change.data.clone())
        .map_err(|e| format!("the change does not fit the contract: {e}"))?;
    let event = ChangeEvent {
        id: d.change.id.to_string(),
        r#type: d.change.change_type.as_str().to_owned(),
        timestamp: Some(d.change.at.into()),
        data: Some(data),
    };
    serde_json::to_vec(&event).map_err(|e| e.to_string())
}

struct Failure {
    status: Option<u16>,
    message: String,
    retry: bool,
}

impl Failure {
    fn retry(status: Option<u16>, message: String) -> Self {
        Self { status, message, retry: true }
    }
}

/// Whether the URL's host, when it is an address (or `localhost`), is a public one. Names are
/// checked again when they are resolved, at each delivery.
fn public_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => scaffold_identity::is_public_address(a.into()),
        Some(url::Host::Ipv6(a)) => scaffold_identity::is_public_address(a.into()),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d != "localhost" && !d.ends_with(".localhost") && !d.ends_with(".internal") && !d.ends_with(".local")
        }
        None => false,
    }
}

/// A number in 0..1 for retry jitter.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}
