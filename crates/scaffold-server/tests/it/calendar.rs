//! iCalendar feeds: a strict line-level check of what we write (CRLF, 75-octet folding, required
//! properties, a VTIMEZONE for every TZID, UNTIL in UTC) and a parse by an independent library
//! (PyPI `icalendar`, from `tests/ical`; `scripts/test` sets `SCAFFOLD_TEST_ICAL_PYTHON`).

use crate::common::{app, group_named};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Checks the text line by line and returns the unfolded content lines.
pub fn strict(ics: &str) -> Vec<String> {
    assert!(ics.ends_with("\r\n"), "CRLF at the end");
    assert!(!ics.replace("\r\n", "").contains('\n') && !ics.replace("\r\n", "").contains('\r'), "only CRLF line ends");
    let physical: Vec<&str> = ics.split("\r\n").filter(|l| !l.is_empty()).collect();
    for l in &physical {
        assert!(l.len() <= 75, "a line is {} octets: {l}", l.len());
    }
    let mut lines: Vec<String> = Vec::new();
    for l in physical {
        match l.strip_prefix(' ') {
            Some(rest) => lines.last_mut().expect("a continuation follows a line").push_str(rest),
            None => lines.push(l.to_owned()),
        }
    }
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert!(lines.iter().any(|l| l == "VERSION:2.0") && lines.iter().any(|l| l.starts_with("PRODID:")));
    // Every VEVENT has a UID and a DTSTAMP; every TZID used has a VTIMEZONE.
    let mut in_event = false;
    let (mut uid, mut stamp) = (false, false);
    let mut used = BTreeSet::new();
    let mut defined = BTreeSet::new();
    for l in &lines {
        match l.as_str() {
            "BEGIN:VEVENT" => (in_event, uid, stamp) = (true, false, false),
            "END:VEVENT" => {
                assert!(uid && stamp, "a VEVENT lacks UID or DTSTAMP");
                in_event = false;
            }
            _ => {}
        }
        if in_event {
            uid |= l.starts_with("UID:");
            stamp |= l.starts_with("DTSTAMP:") && l.ends_with('Z');
        }
        if let Some(rest) = l.split_once(";TZID=").map(|(_, r)| r) {
            used.insert(rest.split(':').next().unwrap().to_owned());
        }
        if let Some(z) = l.strip_prefix("TZID:") {
            defined.insert(z.to_owned());
        }
        if let Some(rule) = l.strip_prefix("RRULE:") {
            for part in rule.split(';') {
                if let Some(until) = part.strip_prefix("UNTIL=") {
                    assert!(until.ends_with('Z'), "UNTIL must be UTC with a zoned DTSTART: {rule}");
                }
            }
        }
    }
    assert_eq!(used, defined, "a VTIMEZONE for every TZID, and no others");
    lines
}

pub fn independent_parse(ics: &str) -> Value {
    let python = std::env::var("SCAFFOLD_TEST_ICAL_PYTHON").expect(
        "SCAFFOLD_TEST_ICAL_PYTHON must name a Python with tests/ical/requirements.txt installed (scripts/test sets it)",
    );
    let dir = scaffold_testkit::temp_dir();
    let file = dir.join("feed.ics");
    std::fs::write(&file, ics).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ical/check.py");
    let out = std::process::Command::new(python).arg(script).arg(&file).output().unwrap();
    assert!(out.status.success(), "icalendar could not parse the feed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_groups_calendar_has_the_series_its_changes_and_a_timezone_and_parses_independently() {
    let app = app().await;
    let owner = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write"]).await;
    app.group(&owner.token, group_named("calendar-club", json!({}))).await;
    let series = json!({
        "title": "TechMates tea party; all welcome, really",
        "summary": "Tea, cake and help with phones and tablets — bring your charger, your questions and a friend",
        "start": "2026-03-03T10:00", "end": "2026-03-03T12:00",
        "place": { "name": "Wigan Library", "address": "The Wiend", "postcode": "WN1 1NU" },
        "rrule": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261229T100000Z",
        "exdates": ["2026-04-14T10:00"]
    });
    let e = app.http.post("/api/v1/groups/calendar-club/events").token(&owner.token).json(&series).send().await.json();
    assert!(e["id"].is_string(), "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    app.http
        .put(&format!("/api/v1/events/{id}/occurrences/2026-03-17T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled", "reason": "Library closed" }))
        .send()
        .await;
    let one_off = json!({ "title": "Digital festival", "summary": "A day of workshops", "start": "2026-06-13",
        "end": "2026-06-13", "all_day": true, "online_url": "https://example.org/festival" });
    app.http.post("/api/v1/groups/calendar-club/events").token(&owner.token).json(&one_off).send().await;

    let res = app.http.get("/api/v1/groups/calendar-club/calendar.ics").send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/calendar; charset=utf-8"));
    let lines = strict(&res.text);
    assert!(
        lines.iter().any(|l| l == "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20261229T100000Z"),
        "UNTIL converted to UTC (GMT in December)"
    );
    assert!(lines.iter().any(|l| l == "EXDATE;TZID=Europe/London:20260414T100000"));
    assert!(lines.iter().any(|l| l == "RECURRENCE-ID;TZID=Europe/London:20260317T100000"));
    assert!(lines.iter().any(|l| l.starts_with("SUMMARY:TechMates tea party\\; all welcome\\, really")));

    let parsed = independent_parse(&res.text);
    assert_eq!(parsed["version"], "2.0");
    assert_eq!(parsed["zones"], json!(["Europe/London"]));
    let events = parsed["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{parsed}");
    let master = events.iter().find(|e| !e["rrule"].is_null()).unwrap();
    assert_eq!(master["start"], "2026-03-03T10:00:00+00:00");
    assert_eq!(master["exdates"], json!(["2026-04-14T10:00:00+01:00"]), "10:00 BST");
    let cancelled = events.iter().find(|e| !e["recurrence_id"].is_null()).unwrap();
    assert_eq!((cancelled["status"].clone(), cancelled["uid"].clone()), (json!("CANCELLED"), master["uid"].clone()));
    let festival = events.iter().find(|e| e["summary"] == "Digital festival").unwrap();
    assert_eq!(festival["start"], "2026-06-13", "an all-day date");

    // The same feed twice is byte for byte the same (stable UIDs, stamps from stored data).
    assert_eq!(app.http.get("/api/v1/groups/calendar-club/calendar.ics").send().await.text, res.text);
    let single = app.http.get(&format!("/api/v1/events/{id}/calendar.ics")).send().await;
    strict(&single.text);
}

#[tokio::test]
async fn private_groups_have_no_public_calendar() {
    let app = app().await;
    let owner = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write"]).await;
    app.group(&owner.token, group_named("secret-club", json!({ "visibility": "private" }))).await;
    let res = app.http.get("/api/v1/groups/secret-club/calendar.ics").token(&owner.token).send().await;
    res.problem(404, "GROUP_NOT_FOUND");
}

/// The properties of each VEVENT of an event's calendar, as (RECURRENCE-ID or "", SEQUENCE, DTSTAMP).
fn versions(ics: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut current = (String::new(), String::new(), String::new());
    for l in strict(ics) {
        if l == "BEGIN:VEVENT" {
            current = (String::new(), String::new(), String::new());
        } else if l == "END:VEVENT" {
            out.push(current.clone());
        } else if l.starts_with("RECURRENCE-ID") {
            current.0 = l.rsplit(':').next().unwrap().to_owned();
        } else if let Some(v) = l.strip_prefix("SEQUENCE:") {
            current.1 = v.to_owned();
        } else if let Some(v) = l.strip_prefix("DTSTAMP:") {
            current.2 = v.to_owned();
        }
    }
    out
}

#[tokio::test]
async fn changing_one_occurrence_tells_calendar_apps_to_refresh() {
    let (app, clock) = crate::common::app_with_clock(Default::default()).await;
    let http = app.http.clone();
    let token = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write"]).await.token;
    http.post("/api/v1/groups").token(&token).json(&group_named("sequence-club", json!({}))).send().await;
    let series = json!({ "title": "Tea party", "summary": "Weekly", "start": "2026-04-07T10:00",
        "end": "2026-04-07T12:00", "rrule": "FREQ=WEEKLY;BYDAY=TU", "online_url": "https://example.org/tea" });
    let res = http.post("/api/v1/groups/sequence-club/events").token(&token).json(&series).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let ics = |http: scaffold_testkit::TestClient| {
        let id = id.clone();
        async move { http.get(&format!("/api/v1/events/{id}/calendar.ics")).send().await.text }
    };
    let before = versions(&ics(http.clone()).await);
    assert_eq!(before, [(String::new(), "0".to_owned(), "20260328T093000Z".to_owned())]);

    // An hour later the organiser cancels one date: the event's version moves on, and the series
    // and its changed date carry the new SEQUENCE and DTSTAMP.
    clock.advance(chrono::Duration::hours(1));
    let res = http
        .put(&format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00"))
        .token(&token)
        .json(&json!({ "status": "cancelled" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let now = http.get(&format!("/api/v1/events/{id}")).send().await;
    assert_eq!((now.json()["version"].clone(), now.header("etag")), (json!(2), Some("\"2\"")));
    assert_eq!(now.json()["updated_at"], "2026-03-28T10:30:00Z");
    let after = versions(&ics(http.clone()).await);
    let stamp = "20260328T103000Z".to_owned();
    assert_eq!(
        after,
        [(String::new(), "1".to_owned(), stamp.clone()), ("20260414T100000".to_owned(), "1".to_owned(), stamp)]
    );

    // Moving it back (removing the change) is a change too.
    clock.advance(chrono::Duration::hours(1));
    let res = http.delete(&format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00")).token(&token).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(versions(&ics(http.clone()).await), [(String::new(), "2".to_owned(), "20260328T113000Z".to_owned())]);
}
