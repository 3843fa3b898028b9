//! Sources: an operator points the instance at a council's iCalendar URL and its events appear,
//! read-only and with their origin, in search, on the API, in GraphQL and in calendars; edits and
//! deletions at the source follow after a run; hostile sources are bounded and reported. The
//! calendars are written by PyPI `icalendar` (tests/ical/make_source.py, an independent generator;
//! `scripts/test` sets `SCAFFOLD_TEST_ICAL_PYTHON`) and served by a small HTTP server on loopback.

use crate::common::{TestApp, app};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A calendar written by the independent generator.
fn generated(version: &str) -> String {
    let python = std::env::var("SCAFFOLD_TEST_ICAL_PYTHON").expect(
        "SCAFFOLD_TEST_ICAL_PYTHON must name a Python with tests/ical/requirements.txt installed (scripts/test sets it)",
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ical/make_source.py");
    let out = std::process::Command::new(python).arg(script).arg(version).output().unwrap();
    assert!(out.status.success(), "the generator failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// What the fixture server serves at `/calendar.ics`, and what it was asked.
#[derive(Debug, Default)]
struct Served {
    calendar: String,
    version: u32,
    hits: u32,
    conditional: u32,
}

type Shared = Arc<Mutex<Served>>;

async fn calendar(axum::extract::State(s): axum::extract::State<Shared>, headers: HeaderMap) -> Response {
    let mut s = s.lock().unwrap();
    s.hits += 1;
    let etag = format!("\"v{}\"", s.version);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        s.conditional += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()), (header::ETAG, etag)], s.calendar.clone())
        .into_response()
}

/// Starts the fixture server; its base URL.
async fn serve(state: Shared) -> String {
    use axum::routing::get;
    let many = generated("many");
    let router = axum::Router::new()
        .route("/calendar.ics", get(calendar))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/missing.ics", get(|| async { StatusCode::NOT_FOUND }))
        .route("/huge.ics", get(|| async { "BEGIN:VCALENDAR\r\n".repeat(400_000) }))
        .route("/latin1.ics", get(|| async { b"BEGIN:VCALENDAR\r\nX-NAME:Caf\xe9\r\nEND:VCALENDAR\r\n".to_vec() }))
        .route("/page.ics", get(|| async { "<html><body>Our events</body></html>" }))
        .route(
            "/slow.ics",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(4)).await;
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
            }),
        )
        .route("/cut.ics", get(|| async { "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:A" }))
        .route("/many.ics", get(move || async move { many }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn add(app: &TestApp, url: &str, name: &str) -> Value {
    let res = app
        .http
        .post("/api/v1/sources")
        .token(&app.operator)
        .json(&json!({ "kind": "ical", "url": url, "name": name }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()
}

async fn sync(app: &TestApp, id: &str) -> Value {
    let res = app.http.post(&format!("/api/v1/sources/{id}/sync")).token(&app.operator).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

async fn events_of(app: &TestApp, group: &str) -> Vec<Value> {
    let res = app.http.get(&format!("/api/v1/groups/{group}/events")).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()["items"].as_array().unwrap().clone()
}

fn titled<'a>(events: &'a [Value], title: &str) -> &'a Value {
    events.iter().find(|e| e["title"] == title).unwrap_or_else(|| panic!("no {title:?} in {events:?}"))
}

#[tokio::test]
async fn a_council_calendar_is_imported_read_only_with_its_origin_and_follows_its_changes() {
    let app = app().await;
    let served: Shared = Arc::new(Mutex::new(Served { calendar: generated("v1"), version: 1, ..Served::default() }));
    let base = serve(served.clone()).await;
    let source = add(&app, &format!("{base}/calendar.ics"), "Wigan Council events").await;
    let id = source["id"].as_str().unwrap().to_owned();
    let group = source["listed_under"].as_str().unwrap().to_owned();
    assert_eq!(source["health"]["outcome"], "never");

    // One run: three events, the broken one skipped and reported with its UID.
    let after = sync(&app, &id).await;
    let h = &after["health"];
    assert_eq!(
        (h["outcome"].as_str(), h["added"].as_u64(), h["skipped"].as_u64()),
        (Some("ok"), Some(3), Some(1)),
        "{h}"
    );
    assert_eq!(h["problems"][0]["item"], "broken@council.example", "{h}");
    assert!(h["message"].as_str().unwrap().contains("3 added"), "{h}");

    let events = events_of(&app, &group).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let series = titled(&events, "TechMates tea party");
    assert_eq!(series["origin"]["source_name"], "Wigan Council events");
    assert_eq!(series["origin"]["original_id"], "tea-party@council.example");
    assert_eq!(series["origin"]["source"], id.as_str());
    assert_eq!(series["rrule"], "FREQ=WEEKLY;COUNT=20;BYDAY=TU", "the rule is kept, not expanded");
    assert_eq!(series["exdates"], json!(["2027-01-12T10:00"]));
    assert_eq!(series["timezone"], "Europe/London");
    assert_eq!(series["place"]["postcode"], "WN1 1NS");
    let drop_in = titled(&events, "Digital skills drop-in");
    assert_eq!(drop_in["start"], "2027-01-07T09:00", "a UTC time shown in London time (GMT in January)");
    assert_eq!(drop_in["origin"]["url"], "https://council.example/events/drop-in");
    assert_eq!(drop_in["booking"], "external");
    let fair = titled(&events, "Community fair");
    assert_eq!(
        (fair["all_day"].as_bool(), fair["start"].as_str(), fair["end"].as_str()),
        (Some(true), Some("2027-03-06"), Some("2027-03-07"))
    );

    // The changed dates: 19 January cancelled, 26 January moved to the afternoon, 12 January gone.
    let sid = series["id"].as_str().unwrap();
    let res = app
        .http
        .get(&format!("/api/v1/events/{sid}/occurrences?from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let dates: Vec<(String, String)> = res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["start"].as_str().unwrap().to_owned(), o["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        dates,
        [
            ("2027-01-05T10:00:00Z", "scheduled"),
            ("2027-01-19T10:00:00Z", "cancelled"),
            ("2027-01-26T14:00:00Z", "scheduled"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned())),
        "{}",
        res.text
    );

    // Search near Leigh finds the drop-in, with its origin.
    let res = app
        .http
        .get("/api/v1/events?outcode=WN7&radius_km=3&from=2027-01-01T00:00:00Z&to=2027-01-14T00:00:00Z")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("Digital skills drop-in") && res.text.contains("Wigan Council events"), "{}", res.text);

    // GraphQL and the group's page carry the origin too; the calendar serves the series.
    let q =
        json!({ "query": format!("{{ event(id: \"{sid}\") {{ title origin {{ sourceName originalId url }} }} }}") });
    let res = app.http.post("/graphql").json(&q).send().await;
    assert_eq!(res.json()["data"]["event"]["origin"]["originalId"], "tea-party@council.example", "{}", res.text);
    let res = app.http.get(&format!("/api/v1/groups/{group}")).send().await;
    assert_eq!(res.json()["origin"]["source_name"], "Wigan Council events", "{}", res.text);
    // The calendar's own address (a private one may carry a key) is not published: its host only.
    assert_eq!(res.json()["summary"], "Listings imported from 127.0.0.1", "{}", res.text);
    assert_eq!(res.json()["origin"]["url"], Value::Null);
    let res = app.http.get(&format!("/api/v1/events/{sid}/calendar.ics")).send().await;
    assert!(res.text.contains("RRULE:FREQ=WEEKLY;COUNT=20;BYDAY=TU"), "{}", res.text);
    assert!(res.text.contains("X-ORIGIN-SOURCE:Wigan Council events\r\n"), "{}", res.text);
    assert!(res.text.contains("DESCRIPTION:Listed from Wigan Council events."), "{}", res.text);
    crate::calendar::strict(&res.text);
    crate::calendar::independent_parse(&res.text);

    // The pages say where it comes from and offer no replies, joins or organiser links.
    let did = drop_in["id"].as_str().unwrap();
    let page = app.http.get(&format!("/events/{did}")).send().await.text;
    assert!(page.contains("Listed here from <strong>Wigan Council events</strong>"), "{page}");
    assert!(page.contains("https://council.example/events/drop-in"), "{page}");
    assert!(!page.contains("Say whether you are coming") && !page.contains("change this event"), "{page}");
    let page = app
        .http
        .get(&format!(
            "/groups/{}",
            app.http.get(&format!("/api/v1/groups/{group}")).send().await.json()["slug"].as_str().unwrap()
        ))
        .send()
        .await
        .text;
    assert!(page.contains("Listed here from") && !page.contains("/join\""), "{page}");

    // Imported items are read-only here, even for operators; residents cannot reply or join.
    let resident = app.person("Rita", &["groups:read", "groups:write", "events:read", "rsvp:write"]).await;
    for (call, who) in [
        (app.http.delete(&format!("/api/v1/events/{did}")).header("if-match", "\"1\""), app.operator.clone()),
        (app.http.post(&format!("/api/v1/groups/{group}/join")), resident.token.clone()),
        (
            app.http.put(&format!("/api/v1/events/{sid}/series-rsvp")).json(&json!({ "response": "going" })),
            resident.token.clone(),
        ),
    ] {
        let res = call.token(&who).send().await;
        assert_eq!(
            (res.status.as_u16(), res.json()["code"].as_str().map(str::to_owned)),
            (409, Some("IMPORTED_READ_ONLY".to_owned())),
            "{}",
            res.text
        );
    }

    // Unchanged: a conditional GET, nothing written.
    let after = sync(&app, &id).await;
    assert_eq!(after["health"]["outcome"], "unchanged", "{after}");
    assert_eq!(served.lock().unwrap().conditional, 1);
    assert_eq!(events_of(&app, &group).await, events, "nothing changed");

    // Edited at the source: the drop-in renamed, the fair removed.
    {
        let mut s = served.lock().unwrap();
        s.calendar = generated("v2");
        s.version = 2;
    }
    let after = sync(&app, &id).await;
    let h = &after["health"];
    assert_eq!((h["added"].as_u64(), h["changed"].as_u64(), h["removed"].as_u64()), (Some(0), Some(1), Some(1)), "{h}");
    let events = events_of(&app, &group).await;
    assert_eq!(events.len(), 2);
    assert_eq!(titled(&events, "Digital skills drop-in (now upstairs)")["id"], did, "the same event, changed");
    let res = app.http.get(&format!("/api/v1/events/{}", fair["id"].as_str().unwrap())).send().await;
    assert_eq!(res.status, 404);

    // Removing the source removes what it brought.
    let res = app.http.delete(&format!("/api/v1/sources/{id}")).token(&app.operator).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(app.http.get(&format!("/api/v1/events/{sid}")).send().await.status, 404);
    assert_eq!(app.http.get(&format!("/api/v1/groups/{group}")).send().await.status, 404);
    let res = app.http.get(&format!("/api/v1/sources/{id}")).token(&app.operator).send().await;
    assert_eq!(res.json()["code"], "SOURCE_NOT_FOUND");
}

/// An app whose reads of sources give up after `secs`.
async fn app_reading_for(secs: u64) -> TestApp {
    let config = scaffold_service::identity::IdentityConfig { source_fetch_secs: secs, ..Default::default() };
    let service =
        scaffold_service::Service::with_identity(scaffold_testkit::store().await, scaffold_testkit::clock(), config)
            .unwrap();
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let router = scaffold_server::app::router(service, &scaffold_server::app::AppOptions::default());
    TestApp { http: scaffold_testkit::TestClient::new(router), operator }
}

#[tokio::test]
async fn hostile_sources_are_bounded_and_reported_in_words() {
    let app = app_reading_for(2).await;
    let base = serve(Arc::new(Mutex::new(Served::default()))).await;
    for (path, says) in [
        ("/loop", "redirects too many times"),
        ("/missing.ics", "404 Not Found"),
        ("/huge.ics", "larger than 5 MB"),
        ("/latin1.ics", "not UTF-8"),
        ("/page.ics", "not an iCalendar file"),
        ("/cut.ics", "cut off"),
        ("/slow.ics", "did not answer within 2 seconds"),
        ("http://127.0.0.1:9/closed.ics", "could not connect"),
    ] {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{base}{path}") };
        let source = add(&app, &url, path).await;
        let after = sync(&app, source["id"].as_str().unwrap()).await;
        let h = &after["health"];
        assert_eq!(h["outcome"], "failed", "{path}: {h}");
        assert!(h["message"].as_str().unwrap().contains(says), "{path}: {h}");
        assert_eq!(h["consecutive_failures"], 1);
        // The next try waits (doubling with each failure).
        let again = sync(&app, source["id"].as_str().unwrap()).await;
        assert_eq!(again["health"]["consecutive_failures"], 2, "{path}");
    }

    // 10,000 events: the first 5,000 are read, the rest reported; nothing is lost.
    let source = add(&app, &format!("{base}/many.ics"), "Many").await;
    let after = sync(&app, source["id"].as_str().unwrap()).await;
    let h = &after["health"];
    assert_eq!((h["added"].as_u64(), h["outcome"].as_str()), (Some(5000), Some("ok")), "{h}");
    assert!(h["problems"][0]["message"].as_str().unwrap().contains("more than 5000"), "{h}");

    // Bad requests change nothing.
    let listed =
        app.http.get("/api/v1/sources").token(&app.operator).send().await.json()["items"].as_array().unwrap().len();
    for body in [
        json!({ "kind": "rss", "url": "https://x.example/feed", "name": "X" }),
        json!({ "kind": "ical", "url": "javascript:alert(1)", "name": "X" }),
        json!({ "kind": "ical", "url": "https://x.example/c.ics", "name": "" }),
        json!({ "kind": "ical", "url": "https://x.example/c.ics", "name": "X", "extra": 1 }),
    ] {
        let res = app.http.post("/api/v1/sources").token(&app.operator).json(&body).send().await;
        assert_eq!(res.status, 422, "{body}: {}", res.text);
    }
    let dup = app
        .http
        .post("/api/v1/sources")
        .token(&app.operator)
        .json(&json!({ "kind": "ical", "url": format!("{base}/many.ics"), "name": "Again" }))
        .send()
        .await;
    assert_eq!((dup.status.as_u16(), dup.json()["code"].clone()), (409, json!("SOURCE_EXISTS")));
    // Only operators add, read, run and remove sources and peers; verifying needs its scope.
    let resident = app.person("Rita", &["groups:read", "groups:write", "events:write", "profile"]).await;
    let some_id = source["id"].as_str().unwrap();
    for (method, path) in [
        ("GET", "/api/v1/sources".to_owned()),
        ("POST", "/api/v1/sources".to_owned()),
        ("GET", format!("/api/v1/sources/{some_id}")),
        ("POST", format!("/api/v1/sources/{some_id}/sync")),
        ("DELETE", format!("/api/v1/sources/{some_id}")),
        ("GET", "/api/v1/peers".to_owned()),
        ("POST", "/api/v1/peers".to_owned()),
        ("POST", "/api/v1/presentations/verify".to_owned()),
    ] {
        let body = if path.contains("sources") {
            json!({ "kind": "ical", "url": "https://x.example/c.ics", "name": "X" })
        } else if path.contains("peers") {
            json!({ "base_url": "https://x.example" })
        } else {
            json!({ "presentation": "x~", "audience": "a", "nonce": "n" })
        };
        let call = |c: scaffold_testkit::Call| if method == "GET" { c } else { c.json(&body) };
        let res = call(app.http.call(method.parse().unwrap(), &path)).token(&resident.token).send().await;
        assert_eq!(res.status, 403, "{method} {path}: {}", res.text);
        let res = call(app.http.call(method.parse().unwrap(), &path)).send().await;
        assert_eq!(res.status, 401, "{method} {path}: {}", res.text);
    }
    let after =
        app.http.get("/api/v1/sources").token(&app.operator).send().await.json()["items"].as_array().unwrap().len();
    assert_eq!(after, listed);
}

/// An RPDE feed written here by hand (not by this instance's feed code): pages of items.
#[derive(Debug, Default)]
struct Feed {
    pages: Vec<Vec<Value>>,
}

type SharedFeed = Arc<Mutex<Feed>>;

#[derive(Debug, serde::Deserialize)]
struct At {
    page: Option<usize>,
}

async fn feed_page(
    axum::extract::State((feed, base)): axum::extract::State<(SharedFeed, Arc<Mutex<String>>)>,
    axum::extract::Query(at): axum::extract::Query<At>,
) -> Response {
    let n = at.page.unwrap_or(0);
    let feed = feed.lock().unwrap();
    let base = base.lock().unwrap().clone();
    let items = feed.pages.get(n).cloned().unwrap_or_default();
    // RPDE: the last page has no items and names itself as next.
    let next = if items.is_empty() { format!("{base}/feed?page={n}") } else { format!("{base}/feed?page={}", n + 1) };
    axum::Json(json!({ "next": next, "items": items, "license": "https://creativecommons.org/licenses/by/4.0/" }))
        .into_response()
}

async fn serve_feed(feed: SharedFeed) -> String {
    use axum::routing::get;
    let base = Arc::new(Mutex::new(String::new()));
    let stuck = json!({ "next": "/stuck", "items": [series_item("s1", "Stuck walk", 1)] });
    let away = json!({ "next": "http://127.0.0.2:9/feed", "items": [series_item("a1", "Away walk", 1)] });
    let router = axum::Router::new()
        .route("/feed", get(feed_page))
        .route("/stuck", get(move || async move { axum::Json(stuck) }))
        .route("/away", get(move || async move { axum::Json(away) }))
        .with_state((feed, base.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    *base.lock().unwrap() = url.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// A SessionSeries item as OpenActive publishers write them.
fn series_item(id: &str, name: &str, modified: u64) -> Value {
    json!({ "state": "updated", "kind": "SessionSeries", "id": id, "modified": modified, "data": {
        "@context": "https://openactive.io/", "@type": "SessionSeries", "name": name,
        "url": format!("https://leisure.example/sessions/{id}"),
        "activity": [{ "@type": "Concept", "@id": "https://openactive.io/activity-list#95092977-5a20-4d6e-b312-8fddabe71544", "prefLabel": "Walking" }],
        "location": { "@type": "Place", "name": "Mesnes Park", "address": { "@type": "PostalAddress", "postalCode": "WN1 1RG" },
                      "geo": { "@type": "GeoCoordinates", "latitude": 53.5503, "longitude": -2.6347 } },
        "offers": [{ "@type": "Offer", "price": 2.5, "priceCurrency": "GBP" }],
        "eventSchedule": [{ "@type": "PartialSchedule", "scheduleTimezone": "Europe/London", "startDate": "2027-01-06",
            "startTime": "10:00", "endTime": "11:00", "repeatFrequency": "P1W", "byDay": ["https://schema.org/Wednesday"],
            "exceptDate": ["2027-01-13T10:00:00Z"] }]
    } })
}

fn one_off_item(id: &str, name: &str, modified: u64) -> Value {
    json!({ "state": "updated", "kind": "SessionSeries", "id": id, "modified": modified, "data": {
        "@type": "SessionSeries", "name": name, "location": { "name": "Robin Park", "geo": { "latitude": 53.55, "longitude": -2.66 } },
        "eventSchedule": [{ "@type": "PartialSchedule", "startDate": "2027-01-09", "startTime": "09:00", "duration": "PT2H" }]
    } })
}

#[tokio::test]
async fn an_openactive_feed_is_walked_incrementally_with_its_tombstones_and_bounds() {
    let app = app().await;
    let feed: SharedFeed = Arc::new(Mutex::new(Feed {
        pages: vec![
            vec![series_item("walk-1", "Health walk", 1), one_off_item("fun-run", "Fun run", 2)],
            vec![
                json!({ "state": "updated", "kind": "SessionSeries", "id": "bad", "modified": 3, "data": { "name": "No schedule" } }),
            ],
        ],
    }));
    let base = serve_feed(feed.clone()).await;
    let res = app
        .http
        .post("/api/v1/sources")
        .token(&app.operator)
        .json(&json!({ "kind": "rpde", "url": format!("{base}/feed"), "name": "Leisure centre sessions" }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let source = res.json();
    let id = source["id"].as_str().unwrap().to_owned();
    let group = source["listed_under"].as_str().unwrap().to_owned();
    let after = sync(&app, &id).await;
    let h = &after["health"];
    assert_eq!((h["added"].as_u64(), h["skipped"].as_u64()), (Some(2), Some(1)), "{h}");
    assert_eq!(h["problems"][0]["item"], "bad", "{h}");
    assert!(h["problems"][0]["message"].as_str().unwrap().contains("eventSchedule"), "{h}");
    let events = events_of(&app, &group).await;
    let walk = titled(&events, "Health walk");
    assert_eq!(walk["rrule"], "FREQ=WEEKLY;BYDAY=WE");
    assert_eq!(walk["exdates"], json!(["2027-01-13T10:00"]));
    assert_eq!(walk["price_pence"], 250);
    assert_eq!(walk["origin"]["original_id"], "walk-1");
    assert_eq!(walk["origin"]["url"], "https://leisure.example/sessions/walk-1");
    assert_eq!(titled(&events, "Fun run")["end"], "2027-01-09T11:00");
    // Imported sessions are not published again in this instance's own OpenActive feed.
    let own = app.http.get("/openactive/session-series").send().await.json();
    assert_eq!(own["items"], json!([]), "{own}");

    // The feed moves on: the walk renamed, the fun run deleted. The next run reads from where
    // the last one stopped.
    feed.lock().unwrap().pages.push(vec![
        series_item("walk-1", "Health walk (longer route)", 4),
        json!({ "state": "deleted", "kind": "SessionSeries", "id": "fun-run", "modified": 5 }),
    ]);
    let after = sync(&app, &id).await;
    let h = &after["health"];
    assert_eq!((h["added"].as_u64(), h["changed"].as_u64(), h["removed"].as_u64()), (Some(0), Some(1), Some(1)), "{h}");
    let events = events_of(&app, &group).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], walk["id"], "the same event, renamed");
    assert_eq!(events[0]["title"], "Health walk (longer route)");

    // 10,000 items: 50 pages a run, read on by the next run; a page whose next never moves on is
    // read once.
    {
        let mut f = feed.lock().unwrap();
        for p in 0..100 {
            f.pages.push((0..100).map(|i| one_off_item(&format!("many-{p}-{i}"), "Swim", 10 + p)).collect());
        }
    }
    let after = sync(&app, &id).await;
    let h = &after["health"];
    assert_eq!(h["added"], 5000, "{h}");
    assert!(h["message"].as_str().unwrap().contains("the next run reads on"), "{h}");
    assert_eq!(h["skipped"], 0, "a bound reached is no item skipped: {h}");
    let after = sync(&app, &id).await;
    assert_eq!(after["health"]["added"], 5000, "{}", after["health"]);
    let after = sync(&app, &id).await;
    assert_eq!(
        (after["health"]["added"].as_u64(), after["health"]["problems"].as_array().map(Vec::len)),
        (Some(0), Some(0)),
        "the end: {}",
        after["health"]
    );
    let stuck = app
        .http
        .post("/api/v1/sources")
        .token(&app.operator)
        .json(&json!({ "kind": "rpde", "url": format!("{base}/stuck"), "name": "Stuck" }))
        .send()
        .await
        .json();
    let after = sync(&app, stuck["id"].as_str().unwrap()).await;
    let h = &after["health"];
    assert_eq!((h["outcome"].as_str(), h["added"].as_u64()), (Some("ok"), Some(1)), "{h}");
    assert!(h["problems"][0]["message"].as_str().unwrap().contains("does not move on"), "{h}");
    // A next page on another site is not followed; what the first page listed is applied.
    let away = app
        .http
        .post("/api/v1/sources")
        .token(&app.operator)
        .json(&json!({ "kind": "rpde", "url": format!("{base}/away"), "name": "Away" }))
        .send()
        .await
        .json();
    let after = sync(&app, away["id"].as_str().unwrap()).await;
    let h = &after["health"];
    assert_eq!(h["outcome"], "failed", "{h}");
    assert!(h["message"].as_str().unwrap().contains("another site (127.0.0.2)"), "{h}");
    assert_eq!(h["added"], 1, "{h}");
}

/// An Open Referral UK directory written here by hand: organisation pages.
async fn serve_directory(orgs: Arc<Mutex<Vec<Value>>>) -> String {
    #[derive(Debug, serde::Deserialize)]
    struct Paging {
        page: Option<usize>,
        per_page: Option<usize>,
    }
    let router = axum::Router::new()
        .route(
            "/oruk/organizations",
            axum::routing::get(
                |axum::extract::State(orgs): axum::extract::State<Arc<Mutex<Vec<Value>>>>,
                 axum::extract::Query(p): axum::extract::Query<Paging>| async move {
                    let all = orgs.lock().unwrap().clone();
                    // Two a page, so that the reader walks pages. A `"flaky"` entry makes page 1
                    // come back empty while the counts still say there are organisations.
                    let flaky = all.iter().any(|o| o == "flaky");
                    let all: Vec<Value> = all.into_iter().filter(|o| o != "flaky").collect();
                    let (page, per) = (p.page.unwrap_or(1), p.per_page.unwrap_or(50).min(2));
                    let mut contents: Vec<Value> = all.iter().skip((page - 1) * per).take(per).cloned().collect();
                    if flaky && page == 1 {
                        contents.clear();
                    }
                    let pages = all.len().div_ceil(per);
                    axum::Json(json!({ "total_items": all.len(), "total_pages": pages, "page_number": page,
                        "size": contents.len(), "first_page": page == 1, "last_page": page >= pages,
                        "empty": contents.is_empty(), "contents": contents }))
                },
            ),
        )
        .with_state(orgs);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn org(id: &str, name: &str) -> Value {
    json!({ "id": id, "name": name, "description": format!("{name} helps people in Wigan.\nOpen weekdays."),
        "website": format!("https://{id}.example"), "email": format!("hello@{id}.example"),
        "organization_identifiers": [{ "identifier_scheme": "GB-CHC", "identifier": "1123456" }] })
}

#[tokio::test]
async fn a_directory_of_organisations_becomes_read_only_entries_that_follow_it() {
    let app = app().await;
    let orgs = Arc::new(Mutex::new(vec![
        org("foodbank", "Wigan Foodbank"),
        org("credit-union", "Wigan Credit Union"),
        org("carers", "Carers Centre"),
        json!({ "id": "nameless", "description": "no name" }),
    ]));
    let base = serve_directory(orgs.clone()).await;
    let res = app
        .http
        .post("/api/v1/sources")
        .token(&app.operator)
        .json(&json!({ "kind": "oruk", "url": format!("{base}/oruk"), "name": "Wigan Council directory" }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let source = res.json();
    assert_eq!(source["listed_under"], Value::Null, "each organisation is a group of its own");
    let id = source["id"].as_str().unwrap().to_owned();
    let h = sync(&app, &id).await["health"].clone();
    assert_eq!((h["added"].as_u64(), h["skipped"].as_u64()), (Some(3), Some(1)), "{h}");
    assert!(h["message"].as_str().unwrap().starts_with("Read the directory"), "{h}");

    let listed = app.http.get("/api/v1/groups?q=foodbank").send().await.json();
    let foodbank = listed["items"].as_array().unwrap().iter().find(|g| g["name"] == "Wigan Foodbank").cloned();
    let foodbank = foodbank.unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(foodbank["origin"]["original_id"], "foodbank");
    assert_eq!(foodbank["origin"]["url"], "https://foodbank.example");
    assert_eq!(foodbank["summary"], "Wigan Foodbank helps people in Wigan.");
    assert_eq!(foodbank["kind"], "charity");
    assert_eq!(
        foodbank["identifiers"],
        json!([{ "scheme": "GB-CHC", "value": "1123456", "verified": false, "verified_at": null }])
    );
    // Read-only here, even for operators; and left out of this instance's own directory.
    let fid = foodbank["id"].as_str().unwrap();
    let res = app
        .http
        .patch(&format!("/api/v1/groups/{fid}"))
        .token(&app.operator)
        .header("if-match", "\"1\"")
        .json(&json!({ "summary": "Changed here" }))
        .send()
        .await;
    assert_eq!((res.status.as_u16(), res.json()["code"].clone()), (409, json!("IMPORTED_READ_ONLY")), "{}", res.text);
    let oruk = app.http.get("/oruk/organizations").send().await.json();
    assert_eq!(oruk["total_items"], 0, "{oruk}");
    assert_eq!(app.http.get(&format!("/oruk/organizations/{fid}")).send().await.status, 404);

    // The directory changes: one renamed, one gone.
    {
        let mut o = orgs.lock().unwrap();
        o[0] = org("foodbank", "Wigan & Leigh Foodbank");
        o.remove(1);
    }
    let h = sync(&app, &id).await["health"].clone();
    assert_eq!((h["added"].as_u64(), h["changed"].as_u64(), h["removed"].as_u64()), (Some(0), Some(1), Some(1)), "{h}");
    let res = app.http.get(&format!("/api/v1/groups/{fid}")).send().await.json();
    assert_eq!(res["name"], "Wigan & Leigh Foodbank", "the same entry, renamed");
    let listed = app.http.get("/api/v1/groups?q=credit").send().await.json();
    assert_eq!(listed["items"], json!([]), "{listed}");

    // A read that comes back short of the directory's own count removes nothing.
    {
        let mut o = orgs.lock().unwrap();
        o.push(org("advice", "Citizens Advice"));
        o.push(json!("flaky"));
    }
    let h = sync(&app, &id).await["health"].clone();
    assert_eq!(h["removed"], 0, "{h}");
    assert!(h["message"].as_str().unwrap().contains("nothing was removed"), "{h}");
    assert_eq!(app.http.get(&format!("/api/v1/groups/{fid}")).send().await.status, 200);
}
