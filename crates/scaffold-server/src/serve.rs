//! `scaffold serve`: open (and on SQLite, create and migrate) the store, print the first-run
//! operator token once, listen, and shut down gracefully on SIGTERM or Ctrl-C, letting in-flight
//! requests finish.

use crate::app::{AppOptions, MetricsAccess, open_store, router_with_metrics};
use crate::config::{Config, redacted_url};
use crate::listen::ConnectionLimits;
use crate::metrics::Metrics;
use scaffold_domain::SystemClock;
use scaffold_service::Service;
use std::sync::Arc;
use std::time::Duration;

pub async fn serve(cfg: Config, migrate: bool) -> Result<(), String> {
    crate::telemetry::init(&cfg.log);
    let url = cfg.database.url.expose();
    let store = open_store(url, cfg.database.max_connections, migrate).await?;
    tracing::info!(store = store.kind(), database = %redacted_url(url), "store open");
    let service = Service::with_identity(store, Arc::new(SystemClock), cfg.identity()?)?;
    let bootstrap = service.bootstrap_operator().await.map_err(|e| format!("first-run bootstrap failed: {e}"))?;
    let health = Arc::new(crate::health::StoreHealth::default());
    tokio::spawn(crate::health::watch(service.clone(), health.clone()));
    let options = AppOptions {
        body_limit_bytes: cfg.server.body_limit_bytes,
        request_timeout: Duration::from_secs(cfg.server.request_timeout_secs),
        graphql: cfg.graphql.limits(),
        trust_forwarded_for: cfg.rate_limits.trust_forwarded_for,
        hsts_max_age_secs: cfg.server.hsts_max_age_secs,
        store_health: Some(health.clone()),
        public_cache: cfg.cache.settings(),
        metrics: match (cfg.server.metrics_listen.as_str(), cfg.server.metrics_token.expose()) {
            ("", "") => MetricsAccess::Open,
            ("", token) => MetricsAccess::Token(token.to_owned()),
            (_, _) => MetricsAccess::Elsewhere,
        },
    };
    tokio::spawn(maintain_listings(service.clone()));
    tokio::spawn(read_sources(service.clone()));
    tokio::spawn(deliver_webhooks(service.clone()));
    let metrics = Metrics::new();
    let app = router_with_metrics(service, &options, metrics.clone());
    let metrics_listener = match cfg.server.metrics_listen.as_str() {
        "" => None,
        at => Some(
            tokio::net::TcpListener::bind(at).await.map_err(|e| format!("cannot listen for metrics on {at}: {e}"))?,
        ),
    };
    let listener = tokio::net::TcpListener::bind(cfg.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("Community Scaffold is listening on http://{addr}");
    println!("  Pages:     http://{addr}/");
    println!("  REST API:  http://{addr}/api/v1   (OpenAPI: http://{addr}/api/v1/openapi.json)");
    println!("  GraphQL:   http://{addr}/graphql");
    for p in service_providers(&cfg) {
        println!("  Sign in:   http://{addr}/auth/login/{p}");
    }
    let metrics_at = match &metrics_listener {
        Some(l) => l.local_addr().map_err(|e| e.to_string())?,
        None => addr,
    };
    println!("  Health:    http://{addr}/healthz   Ready: http://{addr}/readyz   Metrics: http://{metrics_at}/metrics");
    if let Some(l) = metrics_listener {
        let limits = ConnectionLimits { max_connections: 64, ..ConnectionLimits::default() };
        let token = Some(cfg.server.metrics_token.expose().to_owned()).filter(|t| !t.is_empty());
        let metrics_app = crate::metrics::router(metrics, token);
        tokio::spawn(async move {
            if let Err(e) = crate::listen::serve(l, metrics_app, limits, std::future::pending()).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
    }
    if let Some(token) = bootstrap {
        println!();
        println!("First run: an operator API key was created. It is shown this once; only its hash is stored:");
        println!("  {}", token.expose());
        println!("Use it as `Authorization: Bearer <token>`.");
    }
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(cfg.server.header_read_timeout_secs),
        max_connections: connection_cap(cfg.server.max_connections),
        max_connections_per_client: cfg.server.max_connections_per_client,
        write_timeout: Duration::from_secs(cfg.server.write_timeout_secs),
        grace: Duration::from_secs(cfg.server.shutdown_grace_secs),
    };
    tracing::info!(%addr, max_connections = limits.max_connections, "listening");
    crate::listen::serve(listener, app, limits, shutdown_signal()).await.map_err(|e| format!("server error: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

/// The listing job: at start and then hourly, extends series listings as the year ahead moves
/// on and purges old feed tombstones. Idempotent, so every replica may run it.
async fn maintain_listings(service: Service) {
    const BATCH: u32 = 200;
    // This replica: its host (the pod's name on Kubernetes), process and a random part.
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let nonce = scaffold_identity::random_token(8).unwrap_or_default();
    let replica = format!("{host}/{}/{nonce}", std::process::id());
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        // One replica an hour: the one that takes the lease (held 50 minutes, so a replica that
        // dies mid-run is followed by another at the next hour).
        match service.take_job_lease("listings", &replica, Duration::from_secs(50 * 60)).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "the listing job's lease could not be taken; retrying in an hour");
                continue;
            }
        }
        loop {
            match service.maintain_listings(BATCH).await {
                Ok((relisted, purged)) => {
                    if relisted > 0 || purged > 0 {
                        tracing::info!(relisted, purged, "listings maintained");
                    }
                    if relisted < u64::from(BATCH) {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listing maintenance failed; retrying in an hour");
                    break;
                }
            }
        }
    }
}

/// The sources job: every 30 seconds, reads the sources that are due (a database lease lets one
/// replica read each).
async fn read_sources(service: Service) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        match service.sync_due_sources(20).await {
            Ok(0) => {}
            Ok(read) => tracing::info!(read, "sources read"),
            Err(e) => tracing::warn!(error = %e, "reading sources failed; retrying shortly"),
        }
    }
}

/// The webhooks worker (deliveries taken under a lease in the database, so each goes out from one
/// replica), and, once a minute, attestation expiries announced as changes.
async fn deliver_webhooks(service: Service) {
    let client = match service.webhook_client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks cannot be delivered: no HTTP client");
            return;
        }
    };
    let expiries = service.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match expiries.announce_expiries(100).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(announced = n, "attestation expiries announced"),
                Err(e) => tracing::warn!(error = %e, "announcing expiries failed; retrying in a minute"),
            }
        }
    });
    service.run_webhook_worker(client).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// File descriptors kept for everything but client connections: the database pool, SQLite's
/// files, outgoing requests to OpenID Providers, logs.
const RESERVED_FDS: u64 = 256;

/// The connection cap: as configured, but below the process's file-descriptor limit (raised to
/// its hard maximum first, as servers do), so that connections can never starve the database
/// and the listener of descriptors.
fn connection_cap(configured: usize) -> usize {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.maximum != limit.current
            && setrlimit(Resource::Nofile, rustix::process::Rlimit { current: limit.maximum, ..limit }).is_ok()
        {
            limit = getrlimit(Resource::Nofile);
        }
        if let Some(soft) = limit.current {
            let room = usize::try_from(soft.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
            if room < configured {
                tracing::warn!(
                    configured,
                    soft_limit = soft,
                    used = room,
                    "server.max_connections lowered to fit the file-descriptor limit"
                );
                return room;
            }
        }
    }
    configured
}

fn service_providers(cfg: &Config) -> Vec<String> {
    cfg.identity.providers.iter().map(|p| p.name.clone()).collect()
}
