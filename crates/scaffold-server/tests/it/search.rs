//! Finding occurrences: area (outcode or lat/lon and radius), dates, category, accessibility,
//! group and words; public groups only unless the caller is a member; cursor pages; REST,
//! GraphQL and the subscribable iCalendar feed of a search. The clock is fixed at
//! 2026-03-28 09:30 UTC, the day before the clocks go forward.

use crate::calendar::{independent_parse, strict};
use crate::common::{Person, TestApp, app, group_named};
use serde_json::{Value, json};

const ORGANISER: &[&str] = &["groups:read", "groups:write", "events:read", "events:write"];

async fn event(app: &TestApp, who: &Person, group: &str, body: Value) -> String {
    let res = app.http.post(&format!("/api/v1/groups/{group}/events")).token(&who.token).json(&body).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

/// Wigan TechMates: a weekly step-free tea party with one cancelled week, a coffee morning nearby
/// without step-free access, a London event, and a private group's meeting.
async fn seeded() -> (TestApp, Person, String) {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("wigan-techmates", json!({}))).await;
    app.group(&owner.token, group_named("quiet-committee", json!({ "visibility": "private" }))).await;
    let tea = event(
        &app,
        &owner,
        "wigan-techmates",
        json!({ "title": "TechMates tea party", "summary": "Help with phones and tablets",
            "start": "2026-03-31T10:00", "end": "2026-03-31T12:00", "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "place": { "name": "Wigan Library", "postcode": "WN1 1NU" },
            "accessibility": ["step-free", "hearing-loop"], "categories": ["digital-inclusion"] }),
    )
    .await;
    let res = app
        .http
        .put(&format!("/api/v1/events/{tea}/occurrences/2026-04-07T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled", "reason": "Library closed" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    event(
        &app,
        &owner,
        "wigan-techmates",
        json!({ "title": "Coffee morning", "summary": "Upstairs room", "start": "2026-04-02T10:00",
            "end": "2026-04-02T11:00", "place": { "name": "The Old Courts", "postcode": "WN1 1DD" },
            "categories": ["older-people"] }),
    )
    .await;
    event(
        &app,
        &owner,
        "wigan-techmates",
        json!({ "title": "London visit", "summary": "Day trip", "start": "2026-04-01T10:00",
            "end": "2026-04-01T16:00", "place": { "name": "Museum", "postcode": "E1 6AN" },
            "accessibility": ["step-free"] }),
    )
    .await;
    event(
        &app,
        &owner,
        "quiet-committee",
        json!({ "title": "Committee meeting", "summary": "Members only", "start": "2026-04-03T18:00",
            "end": "2026-04-03T19:00", "place": { "name": "Wigan Library", "postcode": "WN1 1NU" } }),
    )
    .await;
    (app, owner, tea)
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!("{} {}", i["event"]["title"].as_str().unwrap(), i["occurrence"]["local_start"].as_str().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn an_app_finds_step_free_events_within_5_km_of_wn1_in_the_next_14_days() {
    let (app, owner, tea) = seeded().await;
    let res = app.http.get("/api/v1/events?outcode=WN1&radius_km=5&accessibility=step-free").send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let page = res.json();
    assert_eq!(titles(&page), ["TechMates tea party 2026-03-31T10:00"], "the cancelled week is not offered: {page}");
    let first = &page["items"][0];
    assert_eq!(first["event"]["id"], tea.as_str());
    assert_eq!(first["occurrence"]["start"], "2026-03-31T09:00:00Z", "10:00 BST, after the clocks went forward");
    assert!(first["distance_km"].as_f64().unwrap() < 5.0, "{first}");
    assert!(page["next"].is_null());

    // Without the accessibility filter: the coffee morning too; London is too far; the private
    // group's meeting shows only to its members (with events:read).
    let all = app.http.get("/api/v1/events?outcode=WN1").send().await.json();
    assert_eq!(titles(&all), ["TechMates tea party 2026-03-31T10:00", "Coffee morning 2026-04-02T10:00"]);
    let mine = app.http.get("/api/v1/events?outcode=WN1").token(&owner.token).send().await.json();
    assert_eq!(titles(&mine).len(), 3, "{mine}");
    let stranger = app.person("Bo", ORGANISER).await;
    assert_eq!(titles(&app.http.get("/api/v1/events?outcode=WN1").token(&stranger.token).send().await.json()).len(), 2);
    let by_point = app.http.get("/api/v1/events?lat=51.52&lon=-0.07&radius_km=10").send().await.json();
    assert_eq!(titles(&by_point), ["London visit 2026-04-01T10:00"]);

    // Other filters: category, words, group, dates.
    let q = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let res = app.http.get(&format!("/api/v1/events?{query}")).send().await;
            assert_eq!(res.status, 200, "{query}: {}", res.text);
            titles(&res.json())
        }
    };
    assert_eq!(q("category=older-people").await, ["Coffee morning 2026-04-02T10:00"]);
    assert_eq!(q("q=PHONES%20tea").await, ["TechMates tea party 2026-03-31T10:00"]);
    assert_eq!(q("q=museum").await, ["London visit 2026-04-01T10:00"], "the place name is searched");
    assert_eq!(q("group=wigan-techmates&category=digital-inclusion").await.len(), 1);
    assert_eq!(
        q("from=2026-04-10T00:00:00Z&to=2026-04-30T00:00:00Z&q=tea").await,
        [
            "TechMates tea party 2026-04-14T10:00",
            "TechMates tea party 2026-04-21T10:00",
            "TechMates tea party 2026-04-28T10:00"
        ]
    );
    app.http.get("/api/v1/events?group=quiet-committee").send().await.problem(404, "GROUP_NOT_FOUND");
}

#[tokio::test]
async fn search_pages_follow_next_links_in_start_order() {
    let (app, owner, _) = seeded().await;
    let mut url = "/api/v1/events?outcode=WN1&radius_km=50&to=2026-05-28T00:00:00Z&limit=2".to_owned();
    let mut seen = Vec::new();
    loop {
        let page = app.http.get(&url).token(&owner.token).send().await.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["occurrence"]["start"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    // Eight tea parties (one cancelled week left out) to 26 May, the coffee morning and the meeting.
    assert_eq!(seen.len(), 10, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "by start, nothing twice");
    let p = app.http.get("/api/v1/events?after=not-a-cursor").send().await.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "INVALID_CURSOR");
}

#[tokio::test]
async fn bad_searches_get_precise_errors() {
    let (app, _, _) = seeded().await;
    let before = app.state().await;
    for (query, pointer, code) in [
        ("outcode=WN1&radius_km=0", "/radius_km", "RADIUS_OUT_OF_RANGE"),
        ("outcode=WN1&radius_km=-3", "/radius_km", "RADIUS_OUT_OF_RANGE"),
        ("outcode=WN1&radius_km=200.5", "/radius_km", "RADIUS_OUT_OF_RANGE"),
        ("outcode=ZZ99", "/outcode", "UNKNOWN_OUTCODE"),
        ("outcode=W%201N", "/outcode", "INVALID_OUTCODE"),
        ("radius_km=5", "/radius_km", "AREA_REQUIRED"),
        ("lat=53.5", "/lon", "REQUIRED"),
        ("from=2026-04-01T00:00:00Z&to=2026-07-03T00:00:00Z", "/to", "DATE_RANGE_TOO_LONG"),
        ("from=2026-04-01T00:00:00Z&to=2026-04-01T00:00:00Z", "/to", "DATE_RANGE_EMPTY"),
        ("from=2026-03-01T00:00:00Z", "/from", "DATE_RANGE_OUTSIDE_LISTINGS"),
    ] {
        let p = app.http.get(&format!("/api/v1/events?{query}")).send().await.problem(422, "VALIDATION_FAILED");
        assert_eq!(
            (p["errors"][0]["pointer"].as_str(), p["errors"][0]["code"].as_str()),
            (Some(pointer), Some(code)),
            "{query}: {p}"
        );
    }
    let p = app.http.get("/api/v1/events?outcode=ZZ99&radius_km=500").send().await.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "every problem at once: {p}");
    for query in ["radius_km=wide", "near=WN1", "accessibility=ramps"] {
        let p = app.http.get(&format!("/api/v1/events?{query}")).send().await.problem(422, "VALIDATION_FAILED");
        assert_eq!(p["errors"][0]["code"], "INVALID_PARAMETER", "{query}: {p}");
    }
    let gql = app
        .gql(None, "{ searchEvents(outcode: \"WN1\", radiusKm: 0) { edges { node { distanceKm } } } }", json!({}))
        .await
        .json();
    assert_eq!(gql["errors"][0]["extensions"]["code"], "VALIDATION_FAILED", "{gql}");
    assert_eq!(app.state().await, before, "searching changes nothing");
}

#[tokio::test]
async fn graphql_searches_with_a_relay_connection() {
    let (app, owner, tea) = seeded().await;
    let query = "query($after: String) { searchEvents(outcode: \"WN1\", accessibility: STEP_FREE, first: 1,
        to: \"2026-04-30T00:00:00Z\", after: $after) {
        edges { cursor node { distanceKm occurrence { localStart start status } event { id title } } }
        pageInfo { hasNextPage endCursor } } }";
    let res = app.gql(Some(&owner.token), query, json!({})).await.json();
    let conn = &res["data"]["searchEvents"];
    assert_eq!(conn["edges"][0]["node"]["event"]["id"], tea.as_str(), "{res}");
    assert_eq!(conn["edges"][0]["node"]["occurrence"]["localStart"], "2026-03-31T10:00");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let next = app.gql(Some(&owner.token), query, json!({ "after": conn["pageInfo"]["endCursor"] })).await.json();
    assert_eq!(
        next["data"]["searchEvents"]["edges"][0]["node"]["occurrence"]["localStart"], "2026-04-14T10:00",
        "{next}"
    );
}

#[tokio::test]
async fn a_search_is_a_subscribable_calendar_of_public_occurrences() {
    let (app, owner, tea) = seeded().await;
    let res = app.http.get("/api/v1/events/calendar.ics?outcode=WN1&accessibility=step-free&days=30").send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/calendar; charset=utf-8"));
    let lines = strict(&res.text);
    assert!(lines.iter().any(|l| l == &format!("UID:{tea}-20260331T100000@127.0.0.1:8080")), "{lines:?}");
    let parsed = independent_parse(&res.text);
    let starts: Vec<&str> = parsed["events"].as_array().unwrap().iter().map(|e| e["start"].as_str().unwrap()).collect();
    assert_eq!(starts, ["2026-03-31T10:00:00+01:00", "2026-04-14T10:00:00+01:00", "2026-04-21T10:00:00+01:00"]);
    assert_eq!(parsed["zones"], json!(["Europe/London"]));
    // Public data only, whoever asks: a member's token does not add the private meeting.
    let member = app.http.get("/api/v1/events/calendar.ics?outcode=WN1&days=30").token(&owner.token).send().await;
    assert!(!member.text.contains("Committee"));
    app.http.get("/api/v1/events/calendar.ics?days=93").send().await.problem(422, "VALIDATION_FAILED");
    app.http
        .get("/api/v1/events/calendar.ics?outcode=WN1&radius_km=201")
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
}
