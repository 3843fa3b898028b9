//! The public-read cache: answers to anonymous `GET`s of public pages, the API's public reads and
//! the feeds, kept in memory and served again while nothing the public can see has changed.
//!
//! What changes them is the store's content clock, which every write the public can see moves on
//! in its own transaction. A replica reads the clock at most once per `refresh` (one indexed read
//! of one row, by whichever request finds it due) and at once after a write it served, so an
//! entry made at clock `n` is served only while the clock still reads `n`:
//! - a change made through this replica is seen by the next read here;
//! - a change made through another replica (or by a background job) is seen here within
//!   `refresh` plus one clock read;
//! - an entry is never older than `max_age` (dates that have passed leave searches and pages).
//!
//! Every cached answer has a strong ETag (the handler's, or a digest of the body): the same content
//! has the same ETag on every replica, and `If-None-Match` gets `304` without a body.
//!
//! Not cached: requests with credentials (`Authorization`, the session cookie), answers other than
//! `200`, answers that set a cookie or are larger than [`LARGEST`], and every path not listed in
//! [`cacheable`]. The rate limiter and the security headers sit outside this layer, so they apply
//! to cached answers as to any other.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use scaffold_service::Service;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest answer kept.
pub const LARGEST: usize = 1024 * 1024;

/// How the cache behaves (`[cache]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// The longest a change made elsewhere may go unseen here (plus one clock read).
    pub refresh: Duration,
    /// The oldest an entry may be, whatever the clock says.
    pub max_age: Duration,
    /// The most entries kept; when full, the oldest half goes.
    pub max_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self { refresh: Duration::from_millis(500), max_age: Duration::from_secs(30), max_entries: 4096 }
    }
}

/// What a request is cached under: the path and query, and the request headers an answer may
/// depend on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uri: String,
    accept: Option<HeaderValue>,
    language: Option<HeaderValue>,
    origin: Option<HeaderValue>,
}

#[derive(Debug)]
struct Entry {
    clock: i64,
    made: Instant,
    headers: HeaderMap,
    body: axum::body::Bytes,
    etag: HeaderValue,
}

/// The cache of one replica.
#[derive(Debug)]
pub struct PublicCache {
    service: Service,
    settings: CacheSettings,
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
    /// The clock as last read, and when (milliseconds since `epoch`).
    clock: AtomicI64,
    read_at: AtomicU64,
    /// A write was served here: read the clock before the next answer.
    stale: AtomicBool,
    epoch: Instant,
    /// One clock read at a time.
    reading: tokio::sync::Mutex<()>,
}

impl PublicCache {
    pub fn new(service: Service, settings: CacheSettings) -> Arc<Self> {
        Arc::new(Self {
            service,
            settings,
            entries: Mutex::default(),
            clock: AtomicI64::new(i64::MIN),
            read_at: AtomicU64::new(0),
            stale: AtomicBool::new(true),
            epoch: Instant::now(),
            reading: tokio::sync::Mutex::new(()),
        })
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The content clock, read again when due (or after a write here); `None` when the store
    /// cannot say, and nothing is then served from the cache.
    async fn clock(&self) -> Option<i64> {
        let due = |c: &Self| {
            c.stale.load(Ordering::Acquire)
                || c.millis().saturating_sub(c.read_at.load(Ordering::Acquire))
                    >= u64::try_from(c.settings.refresh.as_millis()).unwrap_or(u64::MAX)
        };
        if due(self) {
            let _one = self.reading.lock().await;
            // Another request may have read it while this one waited.
            if due(self) {
                self.stale.store(false, Ordering::Release);
                let read_at = self.millis();
                match self.service.content_clock().await {
                    Ok(c) => {
                        self.clock.store(c, Ordering::Release);
                        self.read_at.store(read_at, Ordering::Release);
                    }
                    Err(_) => {
                        self.stale.store(true, Ordering::Release);
                        return None;
                    }
                }
            }
        }
        Some(self.clock.load(Ordering::Acquire))
    }

    fn get(&self, key: &Key, clock: i64) -> Option<Arc<Entry>> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|e| e.clock == clock && e.made.elapsed() < self.settings.max_age).cloned()
    }

    fn put(&self, key: Key, entry: Entry) -> Arc<Entry> {
        let entry = Arc::new(entry);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.settings.max_entries {
                let clock = entry.clock;
                entries.retain(|_, e| e.clock == clock && e.made.elapsed() < self.settings.max_age);
                if entries.len() >= self.settings.max_entries / 2 {
                    let mut made: Vec<Instant> = entries.values().map(|e| e.made).collect();
                    made.sort_unstable();
                    let cut = made[made.len() / 2];
                    entries.retain(|_, e| e.made > cut);
                }
            }
            let _ = entries.insert(key, entry.clone());
        }
        entry
    }
}

/// Paths whose anonymous answers are public and the same for everyone.
pub fn cacheable(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] | ["sitemap.xml"] => true,
        ["groups", slug] | ["groups", slug, "poster"] | ["embed", "groups", slug] => *slug != "new",
        ["events", _] | ["events", _, "poster"] | ["places", _] => true,
        ["api", "v1", rest @ ..] => matches!(
            rest,
            ["groups"]
                | ["groups", _]
                | ["groups", _, "events" | "notices" | "calendar.ics"]
                | ["groups", _, "notices", "feed"]
                | ["events"]
                | ["events", "calendar.ics"]
                | ["events", _]
                | ["events", _, "calendar.ics" | "occurrences"]
                | ["notices"]
                | ["notices", _]
                | ["categories"]
                | ["guideline-templates"]
        ),
        ["oruk", ..] | ["openactive", ..] => true,
        _ => false,
    }
}

fn anonymous(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::AUTHORIZATION)
        && !headers
            .get_all(header::COOKIE)
            .iter()
            .any(|c| c.to_str().map_or(true, |c| c.contains(scaffold_service::identity::login::SESSION_COOKIE)))
}

fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&Sha256::digest(body)[..18]);
    HeaderValue::from_str(&format!("\"{digest}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || weak(t) == weak(etag))
}

fn answer(entry: &Entry, request: &HeaderMap, hit: bool) -> Response {
    let mut res = if matches(request, &entry.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(entry.body.clone()))
    };
    let full = res.status() == StatusCode::OK;
    let h = res.headers_mut();
    for (name, value) in &entry.headers {
        if full || name != header::CONTENT_LENGTH {
            h.append(name.clone(), value.clone());
        }
    }
    h.insert(header::ETAG, entry.etag.clone());
    h.insert("x-cache", HeaderValue::from_static(if hit { "hit" } else { "miss" }));
    res
}

/// The layer: serves cacheable anonymous reads from the cache, fills it, and marks the clock to
/// be read again after any other request that may have written.
pub async fn serve(State(cache): State<Arc<PublicCache>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    if method != Method::GET {
        let res = next.run(req).await;
        if method != Method::HEAD && method != Method::OPTIONS {
            cache.stale.store(true, Ordering::Release);
        }
        return res;
    }
    if !cacheable(req.uri().path()) || !anonymous(req.headers()) {
        return next.run(req).await;
    }
    let Some(clock) = cache.clock().await else { return next.run(req).await };
    let headers = req.headers().clone();
    let key = Key {
        uri: req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned()),
        accept: headers.get(header::ACCEPT).cloned(),
        language: headers.get(header::ACCEPT_LANGUAGE).cloned(),
        origin: headers.get(header::ORIGIN).cloned(),
    };
    if let Some(entry) = cache.get(&key, clock) {
        return answer(&entry, &headers, true);
    }
    // The full answer is wanted to keep it: the handler does not see the client's condition.
    let mut req = req;
    let _ = req.headers_mut().remove(header::IF_NONE_MATCH);
    let res = next.run(req).await;
    let small = axum::body::HttpBody::size_hint(res.body()).upper().is_some_and(|n| n <= LARGEST as u64);
    if res.status() != StatusCode::OK || res.headers().contains_key(header::SET_COOKIE) || !small {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(body) = axum::body::to_bytes(body, LARGEST).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = parts.headers.get(header::ETAG).cloned().unwrap_or_else(|| etag_of(&body));
    let mut kept = parts.headers;
    let _ = kept.remove(header::ETAG);
    let entry = cache.put(key, Entry { clock, made: Instant::now(), headers: kept, body, etag });
    answer(&entry, &headers, false)
}

#[cfg(test)]
mod tests {
    use super::cacheable;

    #[test]
    fn only_public_reads_are_cacheable() {
        for yes in [
            "/",
            "/groups/wigan-tea",
            "/events/0190a0a0-0000-7000-8000-000000000001",
            "/places/WN1",
            "/api/v1/groups",
            "/api/v1/groups/wigan-tea",
            "/api/v1/events",
            "/api/v1/groups/wigan-tea/notices/feed",
            "/openactive/session-series",
            "/oruk/services",
        ] {
            assert!(cacheable(yes), "{yes}");
        }
        for no in [
            "/me",
            "/groups/new",
            "/groups/wigan-tea/members",
            "/groups/wigan-tea/edit",
            "/sign-in/abc",
            "/calendars/secret.ics",
            "/api/v1/me",
            "/api/v1/me/dates",
            "/api/v1/groups/wigan-tea/members",
            "/api/v1/apps",
            "/api/v1/audit",
            "/graphql",
            "/status-lists/1",
            "/metrics",
            "/readyz",
            "/events/x/reply",
        ] {
            assert!(!cacheable(no), "{no}");
        }
    }
}
