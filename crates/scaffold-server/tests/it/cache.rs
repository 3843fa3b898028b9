//! The public-read cache: anonymous public reads are served from memory while nothing public has
//! changed, a change is seen by the next read on the replica that made it and within the stated
//! bound on another, ETags give 304, and nothing personal is kept.

use crate::common::{TestApp, app_parts, group_named};
use scaffold_server::app::{AppOptions, router};
use scaffold_server::cache::CacheSettings;
use scaffold_testkit::TestClient;
use serde_json::json;
use std::time::Duration;

fn cached(refresh: Duration) -> AppOptions {
    AppOptions { public_cache: Some(CacheSettings { refresh, ..CacheSettings::default() }), ..AppOptions::default() }
}

async fn rename(app: &TestApp, token: &str, group: &serde_json::Value, version: i64, name: &str) {
    let res = app
        .http
        .patch(&format!("/api/v1/groups/{}", group["id"].as_str().unwrap()))
        .token(token)
        .header("if-match", &format!("\"{version}\""))
        .json(&json!({ "name": name }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn a_change_is_seen_by_the_next_read_and_unchanged_reads_come_from_memory() {
    // A refresh far longer than the test: only the write itself can make the change visible.
    let (app, _, _) = app_parts(cached(Duration::from_secs(600))).await;
    let ada = app.member("Ada").await;
    let group = app.group(&ada.token, group_named("cached-tea", json!({}))).await;
    for path in ["/api/v1/groups/cached-tea", "/groups/cached-tea"] {
        let first = app.http.get(path).send().await;
        assert_eq!((first.status.as_u16(), first.header("x-cache")), (200, Some("miss")), "{path}");
        let second = app.http.get(path).send().await;
        assert_eq!(second.header("x-cache"), Some("hit"), "{path}");
        assert_eq!(second.text, first.text);
        let etag = second.header("etag").unwrap().to_owned();
        assert_eq!(first.header("etag"), Some(etag.as_str()));
        let again = app.http.get(path).header("if-none-match", &etag).send().await;
        assert_eq!((again.status.as_u16(), again.text.as_str()), (304, ""), "{path}");
        // Headers the handler set come back with a hit.
        assert_eq!(second.header("content-type"), first.header("content-type"));
    }
    rename(&app, &ada.token, &group, 1, "Renamed tea").await;
    let after = app.http.get("/api/v1/groups/cached-tea").send().await;
    assert_eq!(after.header("x-cache"), Some("miss"));
    assert_eq!(after.json()["name"], "Renamed tea", "the next read sees the change");
    let page = app.http.get("/groups/cached-tea").send().await;
    assert!(page.text.contains("Renamed tea"));
}

#[tokio::test]
async fn signed_in_reads_and_personal_pages_are_never_cached() {
    let (app, _, _) = app_parts(cached(Duration::from_secs(600))).await;
    let ada = app.member("Ada").await;
    app.group(&ada.token, group_named("private-tea", json!({ "visibility": "private" }))).await;
    for _ in 0..2 {
        let mine = app.http.get("/api/v1/groups/private-tea").token(&ada.token).send().await;
        assert_eq!((mine.status.as_u16(), mine.header("x-cache")), (200, None));
        let me = app.http.get("/api/v1/me").token(&ada.token).send().await;
        assert_eq!(me.header("x-cache"), None);
        // Anonymous: not found, and a not-found is not kept.
        let hidden = app.http.get("/api/v1/groups/private-tea").send().await;
        assert_eq!((hidden.status.as_u16(), hidden.header("x-cache")), (404, None));
        let session = app.http.get("/groups/private-tea").header("cookie", "__Host-scaffold-session=x").send().await;
        assert_eq!(session.header("x-cache"), None, "a session cookie bypasses the cache");
    }
}

/// Two replicas on one database: a change written through one is served by the other once its
/// refresh has passed (the stated bound), never later; and a change the service makes outside a
/// request (a background job) likewise.
#[tokio::test]
async fn another_replica_sees_a_change_within_its_refresh() {
    let refresh = Duration::from_millis(300);
    let (a, service, _) = app_parts(cached(refresh)).await;
    let b = TestClient::new(router(service.clone(), &cached(refresh)));
    let ada = a.member("Ada").await;
    let group = a.group(&ada.token, group_named("shared-tea", json!({}))).await;
    let before = b.get("/api/v1/groups/shared-tea").send().await;
    assert_eq!(before.json()["name"], "Group shared-tea");
    assert_eq!(b.get("/api/v1/groups/shared-tea").send().await.header("x-cache"), Some("hit"));
    rename(&a, &ada.token, &group, 1, "Renamed on A").await;
    tokio::time::sleep(refresh + Duration::from_millis(50)).await;
    let seen = b.get("/api/v1/groups/shared-tea").send().await;
    assert_eq!(seen.json()["name"], "Renamed on A", "seen on B once its refresh has passed");
    assert_ne!(seen.header("etag"), before.header("etag"));
}
