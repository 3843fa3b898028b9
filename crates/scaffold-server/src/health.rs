//! The store's health as this process sees it, and the circuit that uses it: a watcher pings the
//! store every second (each ping bounded by `scaffold_service::READY_SECS`); after two failed
//! pings in a row the store is taken as down, and requests are answered `503 STORE_UNAVAILABLE`
//! at once instead of each waiting for the connection pool's timeout; the first ping that
//! succeeds closes the circuit again. Health, readiness and metrics are always served.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use scaffold_domain::codes;
use scaffold_service::Service;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// Failed pings in a row that open the circuit (one slow ping under load is not an outage).
const FAILURES_TO_OPEN: u32 = 2;

#[derive(Debug)]
pub struct StoreHealth {
    up: AtomicBool,
    failures: AtomicU32,
}

impl Default for StoreHealth {
    fn default() -> Self {
        Self { up: AtomicBool::new(true), failures: AtomicU32::new(0) }
    }
}

impl StoreHealth {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records a ping's outcome; returns the new state when it changed.
    fn record(&self, ok: bool) -> Option<bool> {
        if ok {
            self.failures.store(0, Ordering::Relaxed);
            return (!self.up.swap(true, Ordering::Relaxed)).then_some(true);
        }
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= FAILURES_TO_OPEN && self.up.swap(false, Ordering::Relaxed) { Some(false) } else { None }
    }
}

/// Pings the store every second for as long as the process runs.
pub async fn watch(service: Service, health: Arc<StoreHealth>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let _ = tick.tick().await;
        match health.record(service.ready().await.is_ok()) {
            Some(true) => tracing::info!("the store answers again: serving requests"),
            Some(false) => tracing::error!("the store does not answer: refusing requests at once until it does"),
            None => {}
        }
    }
}

/// The circuit: while the store is down, refuse at once.
pub async fn fail_fast(State(health): State<Arc<StoreHealth>>, req: Request, next: Next) -> Response {
    if health.is_up() || matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let mut res = scaffold_rest::problem_response(
        StatusCode::SERVICE_UNAVAILABLE,
        codes::STORE_UNAVAILABLE,
        "the database cannot be reached at the moment; try again shortly",
        &[],
    );
    let _ = res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_failed_pings_open_the_circuit_and_one_success_closes_it() {
        let h = StoreHealth::default();
        assert_eq!(h.record(false), None);
        assert!(h.is_up(), "one failure is not an outage");
        assert_eq!(h.record(false), Some(false));
        assert!(!h.is_up());
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), Some(true));
        assert!(h.is_up());
        assert_eq!(h.record(false), None, "counting starts again");
    }
}
