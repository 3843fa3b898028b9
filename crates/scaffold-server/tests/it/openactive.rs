//! OpenActive RPDE feeds served on a real loopback socket, walked and validated by the npm
//! OpenActive validators (`tests/openactive`: `@openactive/rpde-validator` and
//! `@openactive/data-model-validator`, offline with the shipped activity list), plus our own
//! checks of the RPDE rules: ordering, integer `modified`, absolute `next`, tombstones, the last
//! page pointing at itself, and Cache-Control.

use crate::common::group_named;
use scaffold_server::app::{AppOptions, router};
use scaffold_service::Service;
use scaffold_service::identity::IdentityConfig;
use scaffold_testkit::TestClient;
use serde_json::{Value, json};
use std::path::PathBuf;

fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/openactive")
}

/// A service on a loopback port whose public URL is that port, and a client for seeding it.
async fn served() -> (String, TestClient, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = IdentityConfig { public_url: base.clone(), ..IdentityConfig::default() };
    let service = Service::with_identity(scaffold_testkit::store().await, scaffold_testkit::clock(), config).unwrap();
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let app = router(service, &AppOptions::default());
    let serving = app.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, serving).await.unwrap() });
    (base, TestClient::new(app), operator)
}

async fn create(http: &TestClient, token: &str, group: &str, body: Value) -> String {
    let res = http.post(&format!("/api/v1/groups/{group}/events")).token(token).json(&body).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

/// Series, a single event, changed occurrences (cancelled, moved elsewhere, excluded later), a
/// deleted event, an event with no activity and a private group's event.
async fn seed(http: &TestClient, operator: &str) -> (String, String) {
    let res = http
        .post("/api/v1/people")
        .token(operator)
        .json(
            &json!({ "display_name": "Ada", "scopes": ["groups:read", "groups:write", "events:read", "events:write"] }),
        )
        .send()
        .await;
    let token = res.json()["api_key"]["token"].as_str().unwrap().to_owned();
    for (slug, extra) in [("wigan-walkers", json!({})), ("closed-circle", json!({ "visibility": "private" }))] {
        let res = http.post("/api/v1/groups").token(&token).json(&group_named(slug, extra)).send().await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let walk = create(
        http,
        &token,
        "wigan-walkers",
        json!({ "title": "Tuesday health walk", "summary": "A gentle 3 km walk & a chat", "start": "2026-03-31T10:00",
            "end": "2026-03-31T11:00", "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=10", "activities": ["Walking"],
            "place": { "name": "Wigan Library", "postcode": "WN1 1NU" }, "min_age": 16, "capacity": 20,
            "accessibility": ["step-free"], "accessibility_notes": "Flat route" }),
    )
    .await;
    let change = |local: &str, body: Value| {
        let (http, token, walk) = (http.clone(), token.clone(), walk.clone());
        let local = local.to_owned();
        async move {
            let res =
                http.put(&format!("/api/v1/events/{walk}/occurrences/{local}")).token(&token).json(&body).send().await;
            assert_eq!(res.status, 200, "{}", res.text);
        }
    };
    change("2026-04-07T10:00", json!({ "status": "cancelled", "reason": "Flooded path" })).await;
    change(
        "2026-04-14T10:00",
        json!({ "start": "2026-04-14T14:00", "end": "2026-04-14T15:00",
            "place": { "name": "Mesnes Park gates", "postcode": "WN1 1QZ" } }),
    )
    .await;
    // Excluding a week afterwards turns that occurrence into a tombstone.
    let current = http.get(&format!("/api/v1/events/{walk}")).send().await;
    let mut body = json!({ "title": "Tuesday health walk", "summary": "A gentle 3 km walk & a chat",
        "start": "2026-03-31T10:00", "end": "2026-03-31T11:00", "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
        "exdates": ["2026-04-21T10:00"], "activities": ["walking"], "min_age": 16, "capacity": 20,
        "place": { "name": "Wigan Library", "postcode": "WN1 1NU" } });
    body["accessibility"] = json!(["step-free"]);
    let res = http
        .put(&format!("/api/v1/events/{walk}"))
        .token(&token)
        .header("if-match", current.header("etag").unwrap())
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    create(
        http,
        &token,
        "wigan-walkers",
        json!({ "title": "Park run taster", "summary": "Try running with friendly coaches", "start": "2026-04-04T09:00",
            "end": "2026-04-04T10:30", "activities": ["Running"], "price_pence": 250, "concessions": "Free for carers",
            "place": { "name": "Robin Park", "postcode": "WN5 0UH" } }),
    )
    .await;
    let gone = create(
        http,
        &token,
        "wigan-walkers",
        json!({ "title": "Chair yoga", "summary": "Seated stretches", "start": "2026-04-05T10:00",
            "end": "2026-04-05T11:00", "activities": ["Yoga"], "place": { "name": "Community Centre", "postcode": "WN2 2AA" } }),
    )
    .await;
    let res = http.delete(&format!("/api/v1/events/{gone}")).token(&token).header("if-match", "*").send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    create(
        http,
        &token,
        "wigan-walkers",
        json!({ "title": "TechMates tea party", "summary": "Help with phones", "start": "2026-04-02T10:00",
            "end": "2026-04-02T12:00", "place": { "name": "Wigan Library", "postcode": "WN1 1NU" } }),
    )
    .await;
    create(
        http,
        &token,
        "closed-circle",
        json!({ "title": "Members' swim", "summary": "Private", "start": "2026-04-03T18:00", "end": "2026-04-03T19:00",
            "activities": ["Swimming"], "place": { "name": "Pool", "postcode": "WN1 1NU" } }),
    )
    .await;
    (walk, gone)
}

/// Walks a feed over HTTP, checking the RPDE rules page by page; returns every item.
async fn walk_feed(url: &str) -> Vec<Value> {
    let client = scaffold_identity::http_client().unwrap();
    let mut next = url.to_owned();
    let mut items: Vec<Value> = Vec::new();
    for _ in 0..20 {
        let res = client.get(&next).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let page: Value = res.json().await.unwrap();
        assert_eq!(page["license"], "https://creativecommons.org/licenses/by/4.0/");
        let page_items = page["items"].as_array().unwrap();
        let this = next.clone();
        next = page["next"].as_str().unwrap().to_owned();
        assert!(next.starts_with(url), "absolute, on the feed's URL: {next}");
        if page_items.is_empty() {
            assert_eq!(next, this, "the last page points to itself");
            assert_eq!(cache, "public, max-age=8");
            return items;
        }
        assert_eq!(cache, "public, max-age=3600");
        items.extend(page_items.iter().cloned());
    }
    panic!("the feed did not end");
}

fn key(item: &Value) -> (i64, String) {
    (item["modified"].as_i64().expect("integer modified"), item["id"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feeds_follow_rpde_and_pass_the_openactive_validators() {
    assert!(
        harness_dir().join("node_modules/@openactive/data-model-validator").exists(),
        "run `npm ci` in tests/openactive first (scripts/test does)"
    );
    let (base, http, operator) = served().await;
    let (walk, gone) = seed(&http, &operator).await;
    let series_url = format!("{base}/openactive/session-series");
    let sessions_url = format!("{base}/openactive/scheduled-sessions");

    let series = walk_feed(&series_url).await;
    assert!(series.windows(2).all(|w| key(&w[0]) < key(&w[1])), "ordered by (modified, id)");
    let state =
        |list: &[Value], id: &str| list.iter().find(|i| i["id"] == id).map(|i| i["state"].as_str().unwrap().to_owned());
    assert_eq!(state(&series, &walk).as_deref(), Some("updated"));
    assert_eq!(state(&series, &gone).as_deref(), Some("deleted"), "a deleted event is a tombstone");
    assert!(series.iter().filter(|i| i["state"] == "deleted").all(|i| i.get("data").is_none()));
    let published: Vec<&str> =
        series.iter().filter(|i| i["state"] == "updated").map(|i| i["data"]["name"].as_str().unwrap()).collect();
    assert_eq!(published.len(), 2, "only public events with an activity: {published:?}");
    let data = &series.iter().find(|i| i["id"] == walk.as_str()).unwrap()["data"];
    assert_eq!(data["activity"][0]["prefLabel"], "Walking");
    assert_eq!(data["organizer"]["name"], "Group wigan-walkers");

    let sessions = walk_feed(&sessions_url).await;
    assert!(sessions.windows(2).all(|w| key(&w[0]) < key(&w[1])), "ordered by (modified, id)");
    let session = |day: &str| sessions.iter().find(|i| i["id"] == format!("{walk}-{day}T100000").as_str()).unwrap();
    assert_eq!(session("20260407")["data"]["eventStatus"], "https://schema.org/EventCancelled");
    assert_eq!(session("20260414")["data"]["startDate"], "2026-04-14T13:00:00Z", "moved to 14:00 BST");
    assert_eq!(session("20260414")["data"]["location"]["name"], "Mesnes Park gates");
    assert_eq!(session("20260421")["state"], "deleted", "an excluded week is a tombstone");
    assert_eq!(session("20260331")["data"]["superEvent"], format!("{series_url}/{walk}"));
    assert!(sessions.iter().any(|i| i["id"].as_str().unwrap().starts_with(&gone) && i["state"] == "deleted"));

    // A bad position is a precise error.
    let res = http.get(&format!("/openactive/session-series?afterTimestamp=soon&afterId={walk}")).send().await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "INVALID_FEED_POSITION");
    let res = http.get("/openactive/scheduled-sessions?afterTimestamp=1&afterId=nope").send().await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "INVALID_FEED_POSITION");
    let res = http.get("/openactive/scheduled-sessions?afterTimestamp=1").send().await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "INVALID_FEED_POSITION");
    let res = http.get("/openactive").send().await;
    assert_eq!(res.header("content-type"), Some("application/ld+json"));
    let dataset = res.json();
    let feeds: Vec<&str> =
        dataset["distribution"].as_array().unwrap().iter().map(|d| d["contentUrl"].as_str().unwrap()).collect();
    assert_eq!(feeds, [series_url.as_str(), sessions_url.as_str()]);

    // The independent validators walk both feeds and check every item.
    let out = tokio::process::Command::new("node")
        .arg(harness_dir().join("validate.mjs"))
        .arg(&series_url)
        .arg(&sessions_url)
        .output()
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("validator output: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    let errors: Vec<&str> = report["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap_or("?")))
        .collect();
    assert!(errors.is_empty() && out.status.success(), "OpenActive validators: {errors:#?}\n{report}");
    if std::env::var("SCAFFOLD_TEST_SHOW_REPORT").is_ok() {
        eprintln!("{report:#}");
    }
    assert_eq!(report["unseededRemoteDocuments"], json!([]), "nothing was fetched from the network");
    let items: u64 = report["feeds"].as_array().unwrap().iter().map(|f| f["items"].as_u64().unwrap()).sum();
    assert_eq!(items, u64::try_from(series.len() + sessions.len()).unwrap(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dataset_site_is_a_page_that_passes_the_openactive_validator() {
    assert!(
        harness_dir().join("node_modules/@openactive/data-model-validator").exists(),
        "run `npm ci` in tests/openactive first (scripts/test does)"
    );
    let (base, http, _) = served().await;
    let page = http.get("/openactive").header("accept", "text/html").send().await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page.text.contains(&format!("<a href=\"{base}/openactive/session-series\">")), "{}", page.text);
    let api = http.get("/openactive").send().await;
    assert_eq!(api.header("content-type"), Some("application/ld+json"), "API clients keep JSON-LD");
    let doc = api.json();
    assert_eq!(doc["publisher"]["legalName"], doc["publisher"]["name"], "defaults from the public address");
    assert_eq!(doc["publisher"]["logo"]["url"], format!("{base}/assets/logo.svg"));
    assert_eq!(doc["discussionUrl"], format!("{base}/openactive#questions"));
    let logo = http.get("/assets/logo.svg").send().await;
    assert_eq!((logo.status.as_u16(), logo.header("content-type")), (200, Some("image/svg+xml")));

    // The official validator, on the page as served.
    let out = tokio::process::Command::new("node")
        .arg(harness_dir().join("dataset.mjs"))
        .arg(format!("{base}/openactive"))
        .output()
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("validator output: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    assert!(out.status.success() && report["ok"] == true, "dataset site: {report:#}");
    // The check can fail: the same document without its discussion page and publisher logo does not pass.
    let mut broken = doc.clone();
    broken.as_object_mut().unwrap().remove("discussionUrl");
    broken["publisher"].as_object_mut().unwrap().remove("logo");
    let mut child = tokio::process::Command::new("node")
        .arg(harness_dir().join("dataset.mjs"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    child.stdin.take().unwrap().write_all(broken.to_string().as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!out.status.success(), "{report:#}");
    let rules: Vec<&str> = report["errors"].as_array().unwrap().iter().filter_map(|e| e["path"].as_str()).collect();
    assert!(
        rules.iter().any(|p| p.contains("discussionUrl")) && rules.iter().any(|p| p.contains("logo")),
        "{report:#}"
    );
}
