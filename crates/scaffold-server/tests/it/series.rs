//! Replies to a whole series, a person's dates and their secret calendar feed.

use crate::calendar::{independent_parse, strict};
use crate::common::{app, app_parts, app_with_clock, group_named};
use serde_json::{Value, json};

const ORGANISER: &[&str] = &["groups:read", "groups:write", "events:read", "events:write"];
const GUEST: &[&str] = &["groups:read", "events:read", "rsvp:write", "profile"];

/// A weekly Tuesday series from 7 April 2026 (the test clock is 28 March) with `capacity`.
fn weekly(capacity: u32) -> Value {
    json!({
        "title": "TechMates tea party",
        "summary": "Tea, cake and help with phones",
        "start": "2026-04-07T10:00", "end": "2026-04-07T12:00",
        "place": { "name": "Wigan Library", "postcode": "WN1 1NU" },
        "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=6",
        "booking": "rsvp",
        "capacity": capacity
    })
}

#[tokio::test]
async fn a_reply_to_the_whole_series_takes_places_per_date_and_can_be_undone() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    let early = app.person("Bea", GUEST).await;
    let guest = app.person("Cal", GUEST).await;
    app.group(&owner.token, group_named("series-club", json!({}))).await;
    let e = app.http.post("/api/v1/groups/series-club/events").token(&owner.token).json(&weekly(1)).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let date = |at: &str| format!("/api/v1/events/{id}/occurrences/{at}/rsvp");
    // Bea takes the only place on 14 April; one date is cancelled.
    let res =
        app.http.put(&date("2026-04-14T10:00")).token(&early.token).json(&json!({ "response": "going" })).send().await;
    assert_eq!(res.json()["state"], "confirmed", "{}", res.text);
    let cancel = json!({ "status": "cancelled", "reason": "Library closed" });
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}/occurrences/2026-04-21T10:00"))
        .token(&owner.token)
        .json(&cancel)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);

    // Cal cannot come on 12 May, and says so first: replying to every date keeps that.
    let res = app
        .http
        .put(&date("2026-05-12T10:00"))
        .token(&guest.token)
        .json(&json!({ "response": "declined" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let series = format!("/api/v1/events/{id}/series-rsvp");
    app.http.get(&series).token(&guest.token).send().await.problem(404, "SERIES_RSVP_NOT_FOUND");
    let res = app.http.put(&series).token(&guest.token).json(&json!({ "response": "going" })).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    let states: Vec<(String, String)> = body["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["local_start"].as_str().unwrap().to_owned(), d["state"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("2026-04-07T10:00", "confirmed"),
        ("2026-04-14T10:00", "waitlisted"),
        // 21 April is cancelled: no reply.
        ("2026-04-28T10:00", "confirmed"),
        ("2026-05-05T10:00", "confirmed"),
        // 12 May keeps the reply given to it alone.
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(states, expected, "places and the waiting list are per date");
    assert_eq!((body["response"].clone(), body["party_size"].clone()), (json!("going"), json!(1)));
    let read = app.http.get(&series).token(&guest.token).send().await.json();
    assert_eq!(read["response"], "going", "{read}");

    // The organiser sees the replies per date.
    let list = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00/rsvps"))
        .token(&owner.token)
        .send()
        .await
        .json();
    assert_eq!((list["confirmed"].clone(), list["waitlisted"].clone()), (json!(1), json!(1)), "{list}");

    // One date changed by hand stays as it is when the series reply is undone.
    let res =
        app.http.put(&date("2026-05-05T10:00")).token(&guest.token).json(&json!({ "response": "maybe" })).send().await;
    assert_eq!(res.json()["state"], "not-attending");
    let mine = app.http.get("/api/v1/me/dates").token(&guest.token).send().await.json();
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "declined dates are not listed: {mine}");
    assert_eq!(items[0]["title"], "TechMates tea party");
    assert_eq!(items.iter().filter(|d| d["from_series"] == true).count(), 3);
    assert_eq!(mine["series"][0]["event_id"], id.as_str());

    // Bea gives her place up: Cal is promoted on that date.
    app.http.put(&date("2026-04-14T10:00")).token(&early.token).json(&json!({ "response": "declined" })).send().await;
    let list = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00/rsvps"))
        .token(&owner.token)
        .send()
        .await
        .json();
    assert_eq!(list["items"][0]["person_id"], guest.id.as_str(), "{list}");

    let res = app.http.delete(&series).token(&guest.token).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    app.http.delete(&series).token(&guest.token).send().await.problem(404, "SERIES_RSVP_NOT_FOUND");
    let mine = app.http.get("/api/v1/me/dates").token(&guest.token).send().await.json();
    let left: Vec<&str> =
        mine["items"].as_array().unwrap().iter().map(|d| d["local_start"].as_str().unwrap()).collect();
    assert_eq!(left, ["2026-05-05T10:00"], "only the date replied to by hand is left: {mine}");
    assert_eq!(mine["series"], json!([]));
    let list = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences/2026-04-07T10:00/rsvps"))
        .token(&owner.token)
        .send()
        .await
        .json();
    assert_eq!(list["confirmed"], 0, "the place is given up: {list}");

    // GraphQL: the same capability.
    let m = "mutation($e: ID!) { rsvpSeries(eventId: $e, response: GOING, partySize: 1) { response dates { localStart state } } }";
    let res = app.gql(Some(&guest.token), m, json!({ "e": id })).await.json();
    assert_eq!(res["data"]["rsvpSeries"]["dates"].as_array().map(Vec::len), Some(3), "hand-set dates are kept: {res}");
    let m = "mutation($e: ID!) { undoSeriesRsvp(eventId: $e) }";
    assert_eq!(app.gql(Some(&guest.token), m, json!({ "e": id })).await.json()["data"]["undoSeriesRsvp"], true);
    let res = app.gql(Some(&guest.token), m, json!({ "e": id })).await.json();
    assert_eq!(res["errors"][0]["extensions"]["code"], "SERIES_RSVP_NOT_FOUND", "{res}");
}

#[tokio::test]
async fn series_replies_are_refused_for_bad_input_and_change_nothing() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    let guest = app.person("Cal", GUEST).await;
    let reader = app.person("Dee", &["groups:read", "events:read"]).await;
    app.group(&owner.token, group_named("series-refusals", json!({}))).await;
    let make =
        |body: Value| app.http.post("/api/v1/groups/series-refusals/events").token(&owner.token).json(&body).send();
    let e = make(weekly(3)).await.json();
    let mut external = weekly(3);
    external["booking"] = json!("external");
    external["booking_url"] = json!("https://example.org/book");
    let ext = make(external).await.json();
    let mut past = weekly(3);
    past["start"] = json!("2026-03-03T10:00");
    past["end"] = json!("2026-03-03T12:00");
    past["rrule"] = json!("FREQ=WEEKLY;BYDAY=TU;COUNT=3");
    let past = make(past).await.json();
    let url = |e: &Value| format!("/api/v1/events/{}/series-rsvp", e["id"].as_str().unwrap());
    let before = app.state().await;
    let going = json!({ "response": "going" });
    let cases: Vec<(String, Option<&str>, Value, u16, &str)> = vec![
        (url(&e), Some(&guest.token), json!({ "response": "going", "party_size": 4 }), 422, "PARTY_SIZE_OUT_OF_RANGE"),
        (url(&e), Some(&guest.token), json!({ "response": "sure" }), 422, "VALIDATION_FAILED"),
        (url(&e), Some(&guest.token), json!({ "response": "going", "extra": 1 }), 422, "VALIDATION_FAILED"),
        (url(&ext), Some(&guest.token), going.clone(), 409, "BOOKING_EXTERNAL"),
        (url(&past), Some(&guest.token), going.clone(), 409, "NO_UPCOMING_DATES"),
        (url(&e), Some(&reader.token), going.clone(), 403, "INSUFFICIENT_SCOPE"),
        (url(&e), None, going.clone(), 401, "UNAUTHENTICATED"),
        ("/api/v1/events/not-an-id/series-rsvp".to_owned(), Some(&guest.token), going, 404, "EVENT_NOT_FOUND"),
    ];
    for (path, token, body, status, code) in cases {
        let mut call = app.http.put(&path).json(&body);
        if let Some(t) = token {
            call = call.token(t);
        }
        let p = call.send().await;
        let got = p.json();
        let found = got["code"] == code || got["errors"][0]["code"] == code;
        assert!(p.status == status && found, "{path} {body}: expected {status} {code}, got {} {got}", p.status);
    }
    assert_eq!(app.state().await, before, "refusals change nothing");
    let mine = app.http.get("/api/v1/me/dates").token(&guest.token).send().await.json();
    assert_eq!(mine["items"], json!([]), "{mine}");
}

#[tokio::test]
async fn a_personal_calendar_feed_lists_the_dates_replied_to_and_is_revocable() {
    let (app, clock) = app_with_clock(Default::default()).await;
    let owner = app.person("Ada", ORGANISER).await;
    let guest = app.person("Cal", GUEST).await;
    app.group(&owner.token, group_named("feed-club", json!({}))).await;
    let e = app.http.post("/api/v1/groups/feed-club/events").token(&owner.token).json(&weekly(1)).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let someone = app.person("Bea", GUEST).await;
    app.http
        .put(&format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00/rsvp"))
        .token(&someone.token)
        .json(&json!({ "response": "going" }))
        .send()
        .await;
    app.http
        .put(&format!("/api/v1/events/{id}/series-rsvp"))
        .token(&guest.token)
        .json(&json!({ "response": "going" }))
        .send()
        .await;
    app.http
        .put(&format!("/api/v1/events/{id}/occurrences/2026-04-28T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await;

    app.http.get("/api/v1/me/calendar-feed").token(&guest.token).send().await.problem(404, "CALENDAR_FEED_NOT_FOUND");
    let res = app.http.post("/api/v1/me/calendar-feed").token(&guest.token).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let url = res.json()["url"].as_str().unwrap().to_owned();
    let path = url.split_once("://").unwrap().1.split_once('/').map(|(_, p)| format!("/{p}")).unwrap();
    assert!(path.starts_with("/calendars/scal_") && path.ends_with(".ics"), "{path}");
    let made = app.http.get("/api/v1/me/calendar-feed").token(&guest.token).send().await.json();
    assert!(made["created_at"].is_string() && made.get("url").is_none(), "the URL is shown once: {made}");

    let res = app.http.get(&path).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/calendar; charset=utf-8"));
    assert_eq!(res.header("cache-control"), Some("private, no-cache"));
    let lines = strict(&res.text);
    assert!(lines.iter().any(|l| l == "X-WR-CALNAME:My dates"));
    let parsed = independent_parse(&res.text);
    let events = parsed["events"].as_array().unwrap();
    // Six weekly dates; the one cancelled after the reply stays, marked cancelled.
    assert_eq!(events.len(), 6, "{parsed}");
    let status = |start: &str| {
        events.iter().find(|e| e["start"].as_str().unwrap().starts_with(start)).unwrap()["status"].clone()
    };
    assert_eq!(status("2026-04-07T10:00"), "CONFIRMED");
    assert_eq!(status("2026-04-14T10:00"), "TENTATIVE", "waiting for a place");
    assert_eq!(status("2026-04-28T10:00"), "CANCELLED");
    assert!(lines.iter().any(|l| l.starts_with("DESCRIPTION:You are on the waiting list.")), "{lines:?}");
    assert!(events.iter().all(|e| e["tzid"] == "Europe/London"));
    // A date over more than 30 days ago drops out.
    clock.advance(chrono::Duration::days(41));
    let parsed = independent_parse(&app.http.get(&path).send().await.text);
    assert_eq!(parsed["events"].as_array().unwrap().len(), 5, "{parsed}");

    // Only the person makes it, not an app acting for them; a new one turns the old one off.
    let res = app.http.post("/api/v1/me/calendar-feed").token(&guest.token).send().await;
    let second = res.json()["url"].as_str().unwrap().to_owned();
    assert_ne!(second, url);
    app.http.get(&path).send().await.problem(404, "CALENDAR_FEED_NOT_FOUND");
    let second_path = format!("/calendars/{}", second.rsplit_once("/calendars/").unwrap().1);
    assert_eq!(app.http.get(&second_path).send().await.status, 200);
    let res = app.http.delete("/api/v1/me/calendar-feed").token(&guest.token).send().await;
    assert_eq!(res.status, 204);
    app.http.get(&second_path).send().await.problem(404, "CALENDAR_FEED_NOT_FOUND");
    app.http
        .delete("/api/v1/me/calendar-feed")
        .token(&guest.token)
        .send()
        .await
        .problem(404, "CALENDAR_FEED_NOT_FOUND");
    app.http.get("/calendars/guess.ics").send().await.problem(404, "CALENDAR_FEED_NOT_FOUND");
    app.http.get("/calendars/scal_guess.ics").send().await.problem(404, "CALENDAR_FEED_NOT_FOUND");
}

#[tokio::test]
async fn a_standing_reply_reaches_dates_that_come_into_the_listing_later() {
    let (app, service, clock) = app_parts(Default::default()).await;
    let owner = app.person("Ada", ORGANISER).await;
    let guest = app.person("Cal", GUEST).await;
    app.group(&owner.token, group_named("long-club", json!({}))).await;
    let mut open_ended = weekly(5);
    open_ended["rrule"] = json!("FREQ=WEEKLY;BYDAY=TU");
    let e = app.http.post("/api/v1/groups/long-club/events").token(&owner.token).json(&open_ended).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}/series-rsvp"))
        .token(&guest.token)
        .json(&json!({ "response": "going" }))
        .send()
        .await;
    let first = res.json()["dates"].as_array().unwrap().len();
    assert!((50..=53).contains(&first), "a year of Tuesdays: {first}");
    // Thirty days on, the daily job lists more dates and applies the standing reply to them.
    clock.advance(chrono::Duration::days(30));
    assert_eq!(service.maintain_listings(10).await.unwrap().0, 1);
    let mine = app.http.get("/api/v1/me/dates").token(&guest.token).send().await.json();
    let last = mine["items"].as_array().unwrap().last().unwrap()["local_start"].as_str().unwrap().to_owned();
    assert!(last.as_str() > "2027-04-06", "the newly listed dates have the reply: {last}");
}

#[tokio::test]
async fn a_standing_reply_stops_reaching_new_dates_when_its_person_leaves_a_private_group() {
    let (app, service, clock) = app_parts(Default::default()).await;
    let owner = app.person("Ada", ORGANISER).await;
    let guest = app.person("Cal", &["groups:read", "groups:write", "events:read", "rsvp:write"]).await;
    let g = app.group(&owner.token, group_named("quiet-club", json!({ "visibility": "private" }))).await;
    let gid = g["id"].as_str().unwrap();
    let res = app
        .http
        .post(&format!("/api/v1/groups/{gid}/invitations"))
        .token(&owner.token)
        .json(&json!({ "person_id": guest.id }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let res = app.http.post(&format!("/api/v1/groups/{gid}/join")).token(&guest.token).send().await;
    assert_eq!(res.status, 200, "an invitation is accepted by joining: {}", res.text);
    let mut open_ended = weekly(5);
    open_ended["rrule"] = json!("FREQ=WEEKLY;BYDAY=TU");
    let e = app.http.post("/api/v1/groups/quiet-club/events").token(&owner.token).json(&open_ended).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}/series-rsvp"))
        .token(&guest.token)
        .json(&json!({ "response": "going" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.http.delete(&format!("/api/v1/groups/{gid}/members/{}", guest.id)).token(&owner.token).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    clock.advance(chrono::Duration::days(30));
    assert_eq!(service.maintain_listings(10).await.unwrap().0, 1);
    // A Tuesday that came into the listing with the job: no reply from someone who left.
    let replies = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences/2027-04-27T10:00/rsvps"))
        .token(&owner.token)
        .send()
        .await;
    assert_eq!(replies.status, 200, "{}", replies.text);
    assert_eq!(replies.json()["items"], json!([]), "{}", replies.text);
    let earlier = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences/2027-03-23T10:00/rsvps"))
        .token(&owner.token)
        .send()
        .await
        .json();
    assert_eq!(earlier["items"].as_array().map(Vec::len), Some(1), "dates listed before still have it: {earlier}");
}
