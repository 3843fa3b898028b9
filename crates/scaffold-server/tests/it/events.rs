//! Events through the REST API: creating a weekly series with a cancelled week, reading it and
//! its occurrences across both clock changes, paging a group's events, replacing with If-Match,
//! and bad input that changes nothing.

use crate::common::{app, group_named};
use serde_json::{Value, json};

const ORGANISER: &[&str] = &["groups:read", "groups:write", "events:read", "events:write"];

fn tea_party() -> Value {
    json!({
        "title": "TechMates tea party",
        "summary": "Tea, cake and help with phones and tablets",
        "start": "2026-03-03T10:00",
        "end": "2026-03-03T12:00",
        "place": { "name": "Wigan Library", "address": "The Wiend", "postcode": "WN1 1NU" },
        "accessibility": ["step-free", "hearing-loop"],
        "booking": "drop-in",
        "categories": ["digital-inclusion"],
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "exdates": ["2026-04-14T10:00"]
    })
}

#[tokio::test]
async fn a_weekly_series_with_a_cancelled_week_keeps_ten_oclock_local_across_clock_changes() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("techmates", json!({}))).await;
    let res = app.http.post("/api/v1/groups/techmates/events").token(&owner.token).json(&tea_party()).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.header("etag"), Some("\"1\""));
    let e = res.json();
    assert_eq!(e["timezone"], "Europe/London");
    assert_eq!(e["place"]["outcode"], "WN1");
    assert!(e["place"]["latitude"].is_number(), "coordinates from the outward code");
    let id = e["id"].as_str().unwrap();

    // Anyone can read a public group's event and its occurrences.
    assert_eq!(app.http.get(&format!("/api/v1/events/{id}")).send().await.json()["title"], "TechMates tea party");
    let res = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences?from=2026-03-01T00:00:00Z&to=2026-11-30T00:00:00Z"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let items = res.json()["items"].as_array().unwrap().clone();
    let locals: Vec<&str> = items.iter().map(|o| o["local_start"].as_str().unwrap()).collect();
    assert!(!locals.contains(&"2026-04-14T10:00"), "the cancelled week is skipped");
    assert_eq!(locals.len(), 38);
    assert!(locals.iter().all(|l| l.ends_with("T10:00")));
    let utc =
        |local: &str| items.iter().find(|o| o["local_start"] == local).unwrap()["start"].as_str().unwrap().to_owned();
    assert_eq!(utc("2026-03-24T10:00"), "2026-03-24T10:00:00Z", "GMT before the last Sunday of March");
    assert_eq!(utc("2026-03-31T10:00"), "2026-03-31T09:00:00Z", "BST after it");
    assert_eq!(utc("2026-10-27T10:00"), "2026-10-27T10:00:00Z", "GMT again after October's");
}

#[tokio::test]
async fn a_groups_events_page_by_first_start_and_change_with_if_match() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("runs-events", json!({}))).await;
    for (i, start) in ["2026-05-05T10:00", "2026-03-03T10:00", "2026-04-07T10:00"].iter().enumerate() {
        let mut body = tea_party();
        body["title"] = json!(format!("Event {i}"));
        body["start"] = json!(start);
        body["end"] = json!(start.replace("T10:00", "T11:00"));
        body.as_object_mut().unwrap().remove("rrule");
        body.as_object_mut().unwrap().remove("exdates");
        let res = app.http.post("/api/v1/groups/runs-events/events").token(&owner.token).json(&body).send().await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let page = app.http.get("/api/v1/groups/runs-events/events?limit=2").send().await.json();
    let titles: Vec<&str> = page["items"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Event 1", "Event 2"]);
    let rest = app.http.get(page["next"].as_str().unwrap()).send().await.json();
    assert_eq!(rest["items"][0]["title"], "Event 0");
    assert!(rest["next"].is_null());

    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let mut changed = tea_party();
    changed["status"] = json!("cancelled");
    changed["status_reason"] = json!("The library is closed for repairs");
    let stale = app
        .http
        .put(&format!("/api/v1/events/{id}"))
        .token(&owner.token)
        .header("if-match", "\"7\"")
        .json(&changed)
        .send()
        .await;
    stale.problem(412, "VERSION_MISMATCH");
    let missing = app.http.put(&format!("/api/v1/events/{id}")).token(&owner.token).json(&changed).send().await;
    missing.problem(428, "PRECONDITION_REQUIRED");
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}"))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .json(&changed)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!((res.json()["status"].clone(), res.json()["version"].clone()), (json!("cancelled"), json!(2)));
}

#[tokio::test]
async fn bad_event_input_gets_precise_errors_and_changes_nothing() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    let member = app.person("Bea", ORGANISER).await;
    let g = app.group(&owner.token, group_named("careful", json!({ "join_policy": "open" }))).await;
    let gid = g["id"].as_str().unwrap();
    app.http.post(&format!("/api/v1/groups/{gid}/join")).token(&member.token).send().await;
    let groups_only = app.person("Cy", &["groups:read", "groups:write"]).await;
    let before = app.state().await;
    let post = |token: Option<String>, body: Value| {
        let mut c = app.http.post("/api/v1/groups/careful/events").json(&body);
        if let Some(t) = token {
            c = c.token(&t);
        }
        c.send()
    };
    let mut bad = tea_party();
    bad["timezone"] = json!("Europe/Wigan");
    bad["end"] = json!("2026-03-03T09:00");
    bad["rrule"] = json!("FREQ=SECONDLY");
    let p = post(Some(owner.token.clone()), bad).await.problem(422, "VALIDATION_FAILED");
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/timezone", "/end"], "{p}");
    let mut bad = tea_party();
    bad["rrule"] = json!("FREQ=SECONDLY");
    let p = post(Some(owner.token.clone()), bad).await.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "RRULE_FREQUENCY");
    let mut bad = tea_party();
    bad["accessibility"] = json!(["teleporter"]);
    post(Some(owner.token.clone()), bad).await.problem(422, "VALIDATION_FAILED");
    post(Some(member.token.clone()), tea_party()).await.problem(403, "GROUP_ROLE_REQUIRED");
    post(None, tea_party()).await.problem(401, "UNAUTHENTICATED");
    post(Some(groups_only.token), tea_party()).await.problem(403, "INSUFFICIENT_SCOPE");
    assert_eq!(app.state().await, before, "nothing changed");
    let events = app.http.get("/api/v1/groups/careful/events").send().await.json();
    assert_eq!(events["items"], json!([]), "no event was created");

    let res = post(Some(owner.token.clone()), tea_party()).await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    app.http
        .get(&format!("/api/v1/events/{id}/occurrences?from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z"))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    app.http.get("/api/v1/events/not-an-id").send().await.problem(404, "EVENT_NOT_FOUND");
}

#[tokio::test]
async fn a_private_groups_events_are_hidden_from_outsiders() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("hidden-club", json!({ "visibility": "private" }))).await;
    let res = app.http.post("/api/v1/groups/hidden-club/events").token(&owner.token).json(&tea_party()).send().await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.http.get(&format!("/api/v1/events/{id}")).token(&owner.token).send().await.status, 200);
    app.http.get(&format!("/api/v1/events/{id}")).send().await.problem(404, "EVENT_NOT_FOUND");
    let outsider = app.person("Bea", ORGANISER).await;
    app.http.get(&format!("/api/v1/events/{id}")).token(&outsider.token).send().await.problem(404, "EVENT_NOT_FOUND");
}

#[tokio::test]
async fn graphql_creates_events_and_resolves_them_as_entities_and_through_groups() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    let g = app.group(&owner.token, group_named("gql-events", json!({}))).await;
    let create = "mutation($g: ID!, $input: EventInput!) { createEvent(groupId: $g, input: $input) { id version timezone rrule place { outcode } } }";
    let input = json!({
        "title": "TechMates tea party", "summary": "Help with phones", "start": "2026-03-03T10:00", "end": "2026-03-03T12:00",
        "place": { "name": "Wigan Library", "postcode": "WN1 1NU" }, "accessibility": ["STEP_FREE"],
        "rrule": "FREQ=WEEKLY;BYDAY=TU", "exdates": ["2026-04-14T10:00"]
    });
    let res = app.gql(Some(&owner.token), create, json!({ "g": g["id"], "input": input })).await.json();
    assert!(res["errors"].is_null(), "{res}");
    let e = &res["data"]["createEvent"];
    assert_eq!((e["timezone"].clone(), e["place"]["outcode"].clone()), (json!("Europe/London"), json!("WN1")));
    let id = e["id"].clone();

    let q = r#"{ group(slug: "gql-events") { events { edges { node { title
        occurrences(from: "2026-03-20T00:00:00Z", to: "2026-04-20T00:00:00Z") { localStart start } } } } } }"#;
    let res = app.gql(None, q, json!({})).await.json();
    let occ = res["data"]["group"]["events"]["edges"][0]["node"]["occurrences"].as_array().unwrap().clone();
    let locals: Vec<&str> = occ.iter().map(|o| o["localStart"].as_str().unwrap()).collect();
    assert_eq!(locals, ["2026-03-24T10:00", "2026-03-31T10:00", "2026-04-07T10:00"], "{res}");
    assert_eq!(occ[1]["start"], "2026-03-31T09:00:00+00:00", "BST");

    let ent = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Event { title group { slug } } } }";
    let res = app.gql(None, ent, json!({ "r": [{ "__typename": "Event", "id": id }] })).await.json();
    assert_eq!(res["data"]["_entities"][0]["group"]["slug"], "gql-events", "{res}");

    let member = app.person("Bea", &["groups:read", "groups:write"]).await;
    let res = app.gql(Some(&member.token), create, json!({ "g": g["id"], "input": input })).await.json();
    assert_eq!(res["errors"][0]["extensions"]["code"], "INSUFFICIENT_SCOPE", "{res}");
    let bad = json!({ "title": "x", "summary": "y", "start": "2026-03-03T10:00", "end": "2026-03-03T09:00", "online_url": null,
        "onlineUrl": "https://example.org" });
    let bad = {
        let mut b = bad;
        b.as_object_mut().unwrap().remove("online_url");
        b
    };
    let res = app.gql(Some(&owner.token), create, json!({ "g": g["id"], "input": bad })).await.json();
    assert_eq!(res["errors"][0]["extensions"]["code"], "VALIDATION_FAILED", "{res}");
}

/// `Group.events` for a page of groups is one store call, whatever the number of groups.
#[tokio::test]
async fn group_events_resolve_without_a_query_per_group() {
    use scaffold_server::app::{AppOptions, router};
    use scaffold_testkit::TestClient;
    let store = scaffold_testkit::counting_store(scaffold_testkit::store().await);
    let service = scaffold_service::Service::new(store.clone(), scaffold_testkit::clock());
    let operator = service.bootstrap_operator().await.unwrap().unwrap();
    let http = TestClient::new(router(service, &AppOptions::default()));
    let q = json!({ "query": "{ groups(first: 10) { edges { node { slug events(first: 3) { edges { node { title
        occurrences(from: \"2026-04-01T00:00:00Z\", to: \"2026-05-01T00:00:00Z\") { localStart status } } }
        pageInfo { hasNextPage } } } } } }" });
    let mut calls = Vec::new();
    for n in [2, 6] {
        for i in 0..n {
            let slug = format!("with-events-{n}-{i}");
            http.post("/api/v1/groups").token(operator.expose()).json(&group_named(&slug, json!({}))).send().await;
            let res = http
                .post(&format!("/api/v1/groups/{slug}/events"))
                .token(operator.expose())
                .json(&tea_party())
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text);
        }
        store.reset();
        let body = http.post("/graphql").json(&q).send().await.json();
        assert!(body["errors"].is_null(), "{body}");
        let edges = body["data"]["groups"]["edges"].as_array().unwrap();
        assert!(edges.iter().all(|g| g["node"]["events"]["edges"].as_array().unwrap().len() == 1));
        assert!(
            edges.iter().all(|g| g["node"]["events"]["edges"][0]["node"]["occurrences"].as_array().unwrap().len() == 3)
        );
        let c = store.calls();
        calls.push((
            c.get("first_events_of_groups").copied(),
            c.get("overrides_of_events").copied(),
            c.get("overrides_of").copied(),
        ));
    }
    assert_eq!(
        calls,
        [(Some(1), Some(1), None), (Some(1), Some(1), None)],
        "one call for the events, one for their changes"
    );
}

#[tokio::test]
async fn single_occurrences_are_cancelled_moved_and_restored() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("overrides", json!({}))).await;
    let res = app.http.post("/api/v1/groups/overrides/events").token(&owner.token).json(&tea_party()).send().await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let occ = |path: &str| format!("/api/v1/events/{id}/occurrences/{path}");

    let res = app
        .http
        .put(&occ("2026-03-17T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled", "reason": "Library closed for stocktaking" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["status"], "cancelled");
    let res = app
        .http
        .put(&occ("2026-03-24T10:00"))
        .token(&owner.token)
        .json(&json!({ "start": "2026-03-25T14:00", "end": "2026-03-25T16:00",
                       "place": { "name": "Wigan Town Hall", "postcode": "WN1 1YN" } }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let moved = res.json();
    assert_eq!((moved["moved"].clone(), moved["start"].clone()), (json!(true), json!("2026-03-25T14:00:00Z")));
    assert_eq!(moved["place"]["name"], "Wigan Town Hall");

    let list = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences?from=2026-03-10T00:00:00Z&to=2026-03-31T00:00:00Z"))
        .send()
        .await
        .json();
    let statuses: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["local_start"].as_str().unwrap(), o["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [("2026-03-10T10:00", "scheduled"), ("2026-03-17T10:00", "cancelled"), ("2026-03-24T10:00", "scheduled")]
    );

    // Bad input changes nothing.
    let before = app.state().await;
    app.http
        .put(&occ("2026-03-18T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    let p = app
        .http
        .put(&occ("2026-04-14T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "OCCURRENCE_NOT_IN_SERIES", "an excluded date is not an occurrence");
    app.http
        .put(&occ("2026-03-31T10:00"))
        .token(&owner.token)
        .json(&json!({ "start": "2026-03-31T12:00" }))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    app.http
        .put(&occ("2026-03-31T10:00"))
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await
        .problem(401, "UNAUTHENTICATED");
    assert_eq!(app.state().await, before);

    assert_eq!(app.http.delete(&occ("2026-03-17T10:00")).token(&owner.token).send().await.status, 204);
    app.http.delete(&occ("2026-03-17T10:00")).token(&owner.token).send().await.problem(404, "OCCURRENCE_NOT_CHANGED");
    let list = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences?from=2026-03-17T00:00:00Z&to=2026-03-18T00:00:00Z"))
        .send()
        .await
        .json();
    assert_eq!(list["items"][0]["status"], "scheduled");
}

#[tokio::test]
async fn graphql_cancels_one_occurrence() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("gql-overrides", json!({}))).await;
    let res = app.http.post("/api/v1/groups/gql-overrides/events").token(&owner.token).json(&tea_party()).send().await;
    let id = res.json()["id"].clone();
    let m = "mutation($e: ID!) { setOccurrence(eventId: $e, localStart: \"2026-03-17T10:00\", change: { status: CANCELLED, reason: \"Closed\" }) }";
    let res = app.gql(Some(&owner.token), m, json!({ "e": id })).await.json();
    assert_eq!(res["data"]["setOccurrence"], true, "{res}");
    let q = "query($e: ID!) { event(id: $e) { occurrences(from: \"2026-03-16T00:00:00Z\", to: \"2026-03-18T00:00:00Z\") { status reason } } }";
    let res = app.gql(None, q, json!({ "e": id })).await.json();
    assert_eq!(res["data"]["event"]["occurrences"][0], json!({ "status": "CANCELLED", "reason": "Closed" }), "{res}");
    let bad = "mutation($e: ID!) { setOccurrence(eventId: $e, localStart: \"2026-03-18T10:00\", change: {}) }";
    let res = app.gql(Some(&owner.token), bad, json!({ "e": id })).await.json();
    assert_eq!(res["errors"][0]["extensions"]["code"], "VALIDATION_FAILED", "{res}");
}

const GUEST: &[&str] = &["groups:read", "events:read", "rsvp:write"];

fn sunday_match(capacity: u32) -> Value {
    json!({
        "title": "Sunday league fixture",
        "summary": "Home game; declare your availability",
        "start": "2026-04-12T10:30",
        "end": "2026-04-12T12:30",
        "place": { "name": "Robin Park", "postcode": "WN5 0UH" },
        "booking": "rsvp",
        "capacity": capacity
    })
}

#[tokio::test]
async fn concurrent_replies_fill_places_then_the_waitlist_and_a_decline_promotes_the_next() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("league", json!({}))).await;
    let e =
        app.http.post("/api/v1/groups/league/events").token(&owner.token).json(&sunday_match(3)).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let rsvp = format!("/api/v1/events/{id}/occurrences/2026-04-12T10:30/rsvp");
    let mut guests = Vec::new();
    for i in 0..6 {
        guests.push(app.person(&format!("Player {i}"), GUEST).await);
    }
    let replies: Vec<_> = guests
        .iter()
        .map(|g| {
            let http = app.http.clone();
            let (url, token) = (rsvp.clone(), g.token.clone());
            tokio::spawn(async move { http.put(&url).token(&token).json(&json!({ "response": "going" })).send().await })
        })
        .collect();
    let mut states = Vec::new();
    for r in replies {
        let res = r.await.unwrap();
        assert_eq!(res.status, 200, "{}", res.text);
        states.push(res.json()["state"].as_str().unwrap().to_owned());
    }
    assert_eq!(states.iter().filter(|s| *s == "confirmed").count(), 3, "{states:?}");
    assert_eq!(states.iter().filter(|s| *s == "waitlisted").count(), 3, "{states:?}");

    let list_url = format!("/api/v1/events/{id}/occurrences/2026-04-12T10:30/rsvps");
    let list = app.http.get(&list_url).token(&owner.token).send().await.json();
    assert_eq!((list["confirmed"].clone(), list["waitlisted"].clone()), (json!(3), json!(3)));
    let first_confirmed = list["items"][0]["person_id"].as_str().unwrap().to_owned();
    let head_of_queue = list["items"][3]["person_id"].as_str().unwrap().to_owned();
    let leaver = guests.iter().find(|g| g.id == first_confirmed).unwrap();
    let res = app.http.put(&rsvp).token(&leaver.token).json(&json!({ "response": "declined" })).send().await;
    assert_eq!(res.json()["state"], "not-attending");
    let list = app.http.get(&list_url).token(&owner.token).send().await.json();
    let promoted = list["items"].as_array().unwrap().iter().find(|r| r["person_id"] == head_of_queue.as_str()).unwrap();
    assert_eq!(promoted["state"], "confirmed", "the head of the queue was promoted");
    assert_eq!((list["confirmed"].clone(), list["waitlisted"].clone()), (json!(3), json!(2)));

    // Check-in and the CSV export.
    let res = app.http.post(&format!("{list_url}/{head_of_queue}/check-in")).token(&owner.token).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    let csv = app.http.get(&format!("{list_url}?format=csv")).token(&owner.token).send().await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "person_id,display_name,response,party_size,state,checked_in_at");
    assert_eq!(lines.len(), 7);
    assert!(lines.iter().any(|l| l.starts_with(&head_of_queue) && l.contains(",confirmed,2026-")), "{lines:?}");

    // Capacity cannot go below the places confirmed.
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}"))
        .token(&owner.token)
        .header("if-match", "*")
        .json(&sunday_match(2))
        .send()
        .await;
    res.problem(409, "CAPACITY_BELOW_ATTENDANCE");
    // Guests cannot see the list.
    app.http.get(&list_url).token(&guests[1].token).send().await.problem(403, "INSUFFICIENT_SCOPE");
}

#[tokio::test]
async fn replies_to_cancelled_past_or_external_occurrences_and_oversized_parties_are_refused() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    let guest = app.person("=HYPERLINK(\"x\")", GUEST).await;
    app.group(&owner.token, group_named("refusals", json!({}))).await;
    let make = |body: Value| app.http.post("/api/v1/groups/refusals/events").token(&owner.token).json(&body).send();
    let e = make(sunday_match(4)).await.json();
    let url = |id: &Value, at: &str| format!("/api/v1/events/{}/occurrences/{at}/rsvp", id.as_str().unwrap());
    let before = app.state().await;
    let going = |n: u8| json!({ "response": "going", "party_size": n });
    let p = app
        .http
        .put(&url(&e["id"], "2026-04-12T10:30"))
        .token(&guest.token)
        .json(&going(5))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "PARTY_SIZE_OUT_OF_RANGE");
    app.http
        .put(&url(&e["id"], "2026-04-13T10:30"))
        .token(&guest.token)
        .json(&going(1))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    let mut past = sunday_match(4);
    past["start"] = json!("2026-03-01T10:30");
    past["end"] = json!("2026-03-01T12:30");
    let mut external = sunday_match(4);
    external["booking"] = json!("external");
    external["booking_url"] = json!("https://tickets.example.org");
    let mut cancelled = sunday_match(4);
    cancelled["status"] = json!("cancelled");
    let past = make(past).await.json();
    let external = make(external).await.json();
    let cancelled = make(cancelled).await.json();
    let before_replies = app.state().await;
    app.http
        .put(&url(&past["id"], "2026-03-01T10:30"))
        .token(&guest.token)
        .json(&going(1))
        .send()
        .await
        .problem(409, "OCCURRENCE_PAST");
    app.http
        .put(&url(&external["id"], "2026-04-12T10:30"))
        .token(&guest.token)
        .json(&going(1))
        .send()
        .await
        .problem(409, "BOOKING_EXTERNAL");
    app.http
        .put(&url(&cancelled["id"], "2026-04-12T10:30"))
        .token(&guest.token)
        .json(&going(1))
        .send()
        .await
        .problem(409, "OCCURRENCE_NOT_SCHEDULED");
    let no_scope = app.person("Cy", &["groups:read"]).await;
    app.http
        .put(&url(&e["id"], "2026-04-12T10:30"))
        .token(&no_scope.token)
        .json(&going(1))
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    assert_eq!(app.state().await.0, before_replies.0 + 1, "only the person creation was recorded");
    let _ = before;
    // A formula-like display name is neutralised in the CSV export.
    app.http.put(&url(&e["id"], "2026-04-12T10:30")).token(&guest.token).json(&going(2)).send().await;
    let csv = app
        .http
        .get(&format!("/api/v1/events/{}/occurrences/2026-04-12T10:30/rsvps?format=csv", e["id"].as_str().unwrap()))
        .token(&owner.token)
        .send()
        .await;
    assert!(csv.text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{}", csv.text);
}

#[tokio::test]
async fn raising_the_capacity_promotes_the_waitlist_and_graphql_replies_work() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("growing", json!({}))).await;
    let e =
        app.http.post("/api/v1/groups/growing/events").token(&owner.token).json(&sunday_match(1)).send().await.json();
    let id = e["id"].clone();
    let m = "mutation($e: ID!) { rsvp(eventId: $e, localStart: \"2026-04-12T10:30\", response: GOING) { state partySize } }";
    let mut states = Vec::new();
    for i in 0..3 {
        let guest = app.person(&format!("Player {i}"), GUEST).await;
        let res = app.gql(Some(&guest.token), m, json!({ "e": id })).await.json();
        states.push(res["data"]["rsvp"]["state"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(states, ["CONFIRMED", "WAITLISTED", "WAITLISTED"]);
    let res = app
        .http
        .put(&format!("/api/v1/events/{}", id.as_str().unwrap()))
        .token(&owner.token)
        .header("if-match", "*")
        .json(&sunday_match(2))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let list = app
        .http
        .get(&format!("/api/v1/events/{}/occurrences/2026-04-12T10:30/rsvps", id.as_str().unwrap()))
        .token(&owner.token)
        .send()
        .await
        .json();
    assert_eq!((list["confirmed"].clone(), list["waitlisted"].clone()), (json!(2), json!(1)), "{list}");
    let audit = app.http.get("/api/v1/audit?limit=100").token(&app.operator).send().await.json();
    assert!(audit.to_string().contains("rsvp.promote"));
}

#[tokio::test]
async fn organisers_see_replies_in_graphql_and_delete_events_with_if_match() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("leaving-soon", json!({}))).await;
    let e = app.http.post("/api/v1/groups/leaving-soon/events").token(&owner.token).json(&sunday_match(1)).send().await;
    let (id, etag) = (e.json()["id"].as_str().unwrap().to_owned(), e.header("etag").unwrap().to_owned());
    let guest = app.person("Bo", GUEST).await;
    let m = "mutation($e: ID!) { rsvp(eventId: $e, localStart: \"2026-04-12T10:30\", response: GOING) { state } }";
    app.gql(Some(&guest.token), m, json!({ "e": id })).await;
    let q = "query($e: ID!) { event(id: $e) { replies(localStart: \"2026-04-12T10:30\") {
        confirmed waitlisted items { displayName state partySize } } } }";
    let res = app.gql(Some(&owner.token), q, json!({ "e": id })).await.json();
    let replies = &res["data"]["event"]["replies"];
    assert_eq!(
        (replies["confirmed"].clone(), replies["items"][0]["displayName"].clone()),
        (json!(1), json!("Bo")),
        "{res}"
    );
    let res = app.gql(Some(&guest.token), q, json!({ "e": id })).await.json();
    assert_eq!(res["errors"][0]["extensions"]["code"], "INSUFFICIENT_SCOPE", "guests do not see the list: {res}");

    // Deleting: If-Match required and checked, organisers only; then gone everywhere.
    let path = format!("/api/v1/events/{id}");
    app.http.delete(&path).token(&owner.token).send().await.problem(428, "PRECONDITION_REQUIRED");
    app.http
        .delete(&path)
        .token(&owner.token)
        .header("if-match", "\"7\"")
        .send()
        .await
        .problem(412, "VERSION_MISMATCH");
    app.http
        .delete(&path)
        .token(&guest.token)
        .header("if-match", &etag)
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    assert_eq!(app.http.delete(&path).token(&owner.token).header("if-match", &etag).send().await.status, 204);
    app.http.get(&path).send().await.problem(404, "EVENT_NOT_FOUND");
    app.http.delete(&path).token(&owner.token).header("if-match", "*").send().await.problem(404, "EVENT_NOT_FOUND");
    let search = app.http.get("/api/v1/events?group=leaving-soon&to=2026-05-28T00:00:00Z").send().await.json();
    assert_eq!(search["items"], json!([]), "no longer found");
    let audit = app.http.get("/api/v1/audit?limit=100").token(&app.operator).send().await.json();
    assert!(audit.to_string().contains("event.delete"));

    // GraphQL: deleteEvent with the version read.
    let e = app
        .http
        .post("/api/v1/groups/leaving-soon/events")
        .token(&owner.token)
        .json(&sunday_match(1))
        .send()
        .await
        .json();
    let m = "mutation($e: ID!, $v: Int!) { deleteEvent(id: $e, version: $v) }";
    let res = app.gql(Some(&owner.token), m, json!({ "e": e["id"], "v": 2 })).await.json();
    assert_eq!(res["errors"][0]["extensions"]["code"], "VERSION_MISMATCH", "{res}");
    let res = app.gql(Some(&owner.token), m, json!({ "e": e["id"], "v": 1 })).await.json();
    assert_eq!(res["data"]["deleteEvent"], true, "{res}");
}

#[tokio::test]
async fn the_listing_job_extends_series_as_the_year_moves_on() {
    use scaffold_server::app::{AppOptions, router};
    let store = scaffold_testkit::store().await;
    let clock = scaffold_testkit::clock();
    let service = scaffold_service::Service::new(store, clock.clone());
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let http = scaffold_testkit::TestClient::new(router(service.clone(), &AppOptions::default()));
    let res = http
        .post("/api/v1/people")
        .token(&operator)
        .json(&json!({ "display_name": "Ada", "scopes": ORGANISER }))
        .send()
        .await;
    let token = res.json()["api_key"]["token"].as_str().unwrap().to_owned();
    http.post("/api/v1/groups").token(&token).json(&group_named("long-runners", json!({}))).send().await;
    let e = http.post("/api/v1/groups/long-runners/events").token(&token).json(&tea_party()).send().await;
    assert_eq!(e.status, 201, "{}", e.text);
    assert_eq!(service.maintain_listings(10).await.unwrap(), (0, 0), "nothing is due yet");
    // Two months on, the weeks beyond the first year are listed and found.
    clock.advance(chrono::Duration::days(60));
    let far = "/api/v1/events?group=long-runners&from=2027-05-01T00:00:00Z&to=2027-05-20T00:00:00Z";
    assert_eq!(http.get(far).send().await.json()["items"], json!([]));
    assert_eq!(service.maintain_listings(10).await.unwrap().0, 1);
    let found = http.get(far).send().await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 3, "{found}");
    assert_eq!(service.maintain_listings(10).await.unwrap().0, 0, "done until the next day");
}

#[tokio::test]
async fn descriptions_are_served_as_written_and_as_safe_html() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    let hostile =
        "Bring your **charger**. <script>alert(1)</script> [map](javascript:alert(1)) [site](https://example.org)";
    let g = app.group(&owner.token, group_named("safe-text", json!({ "description": hostile }))).await;
    assert_eq!(g["description"], hostile, "kept as written");
    let html = g["description_html"].as_str().unwrap();
    assert!(html.contains("<strong>charger</strong>") && html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("href=\"https://example.org\"") && !html.contains("<script"), "{html}");
    let mut body = tea_party();
    body["description"] = json!("<iframe src=x></iframe>\n\nSee [x](<javascript:alert(1)>)");
    let e = app.http.post("/api/v1/groups/safe-text/events").token(&owner.token).json(&body).send().await.json();
    let html = e["description_html"].as_str().unwrap();
    assert!(html.starts_with("&lt;iframe src=x&gt;&lt;/iframe&gt;"), "{html}");
    assert!(html.ends_with("<p>See <a href=\"#\">x</a></p>\n"), "{html}");
    let q = "query($e: ID!) { event(id: $e) { descriptionHtml group { descriptionHtml } } }";
    let res = app.gql(None, q, json!({ "e": e["id"] })).await.json();
    assert_eq!(res["data"]["event"]["descriptionHtml"], e["description_html"], "{res}");
    assert_eq!(res["data"]["event"]["group"]["descriptionHtml"], g["description_html"]);
}

#[tokio::test]
async fn an_all_day_event_read_and_written_back_keeps_its_dates() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, group_named("festivals", json!({}))).await;
    let festival = json!({ "title": "Digital festival", "summary": "Two days of workshops", "start": "2026-06-13",
        "end": "2026-06-14", "all_day": true, "online_url": "https://example.org/festival" });
    let res = app.http.post("/api/v1/groups/festivals/events").token(&owner.token).json(&festival).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let created = res.json();
    assert_eq!((created["start"].clone(), created["end"].clone()), (json!("2026-06-13"), json!("2026-06-14")));
    let id = created["id"].as_str().unwrap().to_owned();
    let gql = "query($e: ID!) { event(id: $e) { start end allDay } }";
    let read = app.gql(None, gql, json!({ "e": id })).await.json();
    assert_eq!(read["data"]["event"], json!({ "start": "2026-06-13", "end": "2026-06-14", "allDay": true }));

    // Three read-then-write round trips: the dates never move.
    for version in 1..=3 {
        let got = app.http.get(&format!("/api/v1/events/{id}")).send().await.json();
        let mut back = festival.clone();
        back["start"] = got["start"].clone();
        back["end"] = got["end"].clone();
        let res = app
            .http
            .put(&format!("/api/v1/events/{id}"))
            .token(&owner.token)
            .header("if-match", &format!("\"{version}\""))
            .json(&back)
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(
            (res.json()["start"].clone(), res.json()["end"].clone()),
            (json!("2026-06-13"), json!("2026-06-14"))
        );
    }
    let ics = app.http.get(&format!("/api/v1/events/{id}/calendar.ics")).send().await.text;
    assert!(ics.contains("DTSTART;VALUE=DATE:20260613\r\n") && ics.contains("DTEND;VALUE=DATE:20260615\r\n"), "{ics}");
}
