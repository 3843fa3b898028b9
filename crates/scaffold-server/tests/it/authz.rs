//! The authorisation matrix: every mutation × {anonymous, member, organiser, owner, app without
//! the scope, app with the scope, operator}, each in a fresh group, with the status each caller
//! must get. Apps act for their owner (the group's owner here) with only their granted scopes.

use crate::common::{TestApp, app, group_named};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Member,
    Organiser,
    Owner,
    AppWithoutScope,
    AppWithScope,
    Operator,
}

const WHO: [Who; 7] =
    [Who::Anonymous, Who::Member, Who::Organiser, Who::Owner, Who::AppWithoutScope, Who::AppWithScope, Who::Operator];

const PERSON: &[&str] = &["groups:read", "groups:write", "profile", "events:read", "events:write", "rsvp:write"];

struct World {
    app: TestApp,
    owner: crate::common::Person,
    organiser: crate::common::Person,
    member: crate::common::Person,
    outsider: crate::common::Person,
    token: Option<String>,
    n: std::cell::Cell<u32>,
}

/// Registers an app for `owner` and returns a client-credentials token with `scopes`.
async fn app_token(app: &TestApp, owner: &str, scopes: &[&str]) -> String {
    let res = app
        .http
        .post("/api/v1/apps")
        .token(owner)
        .json(&json!({ "name": "Matrix app", "scopes": scopes }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let b = res.json();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        b["app"]["client_id"].as_str().unwrap(),
        b["client_secret"].as_str().unwrap()
    );
    let res = app.http.post("/oauth/token").body("application/x-www-form-urlencoded", form.into_bytes()).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()["access_token"].as_str().unwrap().to_owned()
}

impl World {
    async fn new(who: Who) -> World {
        let app = app().await;
        let owner = app.person("Owner", PERSON).await;
        let organiser = app.person("Organiser", PERSON).await;
        let member = app.person("Member", PERSON).await;
        let outsider = app.person("Outsider", PERSON).await;
        let token = match who {
            Who::Anonymous => None,
            Who::Member => Some(member.token.clone()),
            Who::Organiser => Some(organiser.token.clone()),
            Who::Owner => Some(owner.token.clone()),
            Who::AppWithoutScope => Some(app_token(&app, &owner.token, &["groups:read"]).await),
            Who::AppWithScope => Some(
                app_token(&app, &owner.token, &["groups:read", "groups:write", "events:write", "rsvp:write"]).await,
            ),
            Who::Operator => Some(app.operator.clone()),
        };
        World { app, owner, organiser, member, outsider, token, n: std::cell::Cell::new(0) }
    }

    /// A fresh group owned by the owner, with an organiser and a member.
    async fn group(&self, extra: Value) -> String {
        self.n.set(self.n.get() + 1);
        let g = self.app.group(&self.owner.token, group_named(&format!("matrix-{}", self.n.get()), json!({}))).await;
        let id = g["id"].as_str().unwrap().to_owned();
        for p in [&self.organiser, &self.member] {
            let res = self.app.http.post(&format!("/api/v1/groups/{id}/join")).token(&p.token).send().await;
            assert_eq!(res.json()["status"], "active", "{}", res.text);
        }
        if !extra.is_null() && extra.as_object().is_some_and(|o| !o.is_empty()) {
            let res = self
                .app
                .http
                .patch(&format!("/api/v1/groups/{id}"))
                .token(&self.owner.token)
                .header("if-match", "*")
                .json(&extra)
                .send()
                .await;
            assert_eq!(res.status, 200, "{}", res.text);
        }
        let res = self
            .app
            .http
            .patch(&format!("/api/v1/groups/{id}/members/{}", self.organiser.id))
            .token(&self.owner.token)
            .json(&json!({ "role": "organiser" }))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        id
    }

    /// A weekly series in a fresh group, made by the owner: (group, event).
    async fn event(&self) -> (String, String) {
        let g = self.group(json!({})).await;
        let res = self
            .app
            .http
            .post(&format!("/api/v1/groups/{g}/events"))
            .token(&self.owner.token)
            .json(&series())
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let id = res.json()["id"].as_str().unwrap().to_owned();
        (g, id)
    }

    /// Runs a GraphQL mutation as the caller: 200 when it succeeds, otherwise the status its
    /// error code is catalogued under.
    async fn gql(&self, query: &str, variables: Value) -> u16 {
        let res = self.app.gql(self.token.as_deref(), query, variables).await;
        let body = res.json();
        match body["errors"][0]["extensions"]["code"].as_str() {
            None => 200,
            Some(code) => scaffold_domain::codes::status_of(code)
                .and_then(|s| s.get(..3))
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{code} is not catalogued: {body}")),
        }
    }

    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> u16 {
        let mut c = match method {
            "POST" => self.app.http.post(uri),
            "PATCH" => self.app.http.patch(uri),
            "PUT" => self.app.http.put(uri),
            "DELETE" => self.app.http.delete(uri),
            other => panic!("{other}"),
        };
        if let Some(t) = &self.token {
            c = c.token(t);
        }
        c = c.header("if-match", "*");
        if let Some(b) = body {
            c = c.json(&b);
        }
        c.send().await.status.as_u16()
    }
}

/// The date of the weekly series the event mutations change and reply to.
const DATE: &str = "2026-04-14T10:00";

fn series() -> Value {
    json!({ "title": "Tea", "summary": "Weekly", "start": "2026-04-07T10:00", "end": "2026-04-07T12:00",
        "rrule": "FREQ=WEEKLY", "online_url": "https://example.org/tea", "capacity": 20 })
}

/// Runs one mutation for one caller in a fresh group and returns the status.
async fn run(w: &World, mutation: &str) -> u16 {
    match mutation {
        "create group" => {
            w.n.set(w.n.get() + 1);
            w.call("POST", "/api/v1/groups", Some(group_named(&format!("new-{}", w.n.get()), json!({})))).await
        }
        "update group" => {
            let g = w.group(json!({})).await;
            w.call("PATCH", &format!("/api/v1/groups/{g}"), Some(json!({ "summary": "Changed" }))).await
        }
        "archive group" => {
            let g = w.group(json!({})).await;
            w.call("POST", &format!("/api/v1/groups/{g}/archive"), None).await
        }
        "set identifier" => {
            let g = w.group(json!({})).await;
            w.call("PUT", &format!("/api/v1/groups/{g}/identifiers/GB-CHC"), Some(json!({ "value": "1123456" }))).await
        }
        "verify identifier" => {
            let g = w.group(json!({})).await;
            let res = w
                .app
                .http
                .put(&format!("/api/v1/groups/{g}/identifiers/GB-CHC"))
                .token(&w.owner.token)
                .json(&json!({ "value": "1123456" }))
                .send()
                .await;
            assert_eq!(res.status, 200, "{}", res.text);
            w.call("POST", &format!("/api/v1/groups/{g}/identifiers/GB-CHC/verify"), None).await
        }
        "join" => {
            // A group run by someone else.
            w.n.set(w.n.get() + 1);
            let g = w.app.group(&w.outsider.token, group_named(&format!("other-{}", w.n.get()), json!({}))).await;
            w.call("POST", &format!("/api/v1/groups/{}/join", g["id"].as_str().unwrap()), None).await
        }
        "invite" => {
            let g = w.group(json!({})).await;
            w.call("POST", &format!("/api/v1/groups/{g}/invitations"), Some(json!({ "person_id": w.outsider.id })))
                .await
        }
        "approve" => {
            let g = w.group(json!({ "join_policy": "approval" })).await;
            let res = w.app.http.post(&format!("/api/v1/groups/{g}/join")).token(&w.outsider.token).send().await;
            assert_eq!(res.json()["status"], "pending", "{}", res.text);
            w.call("POST", &format!("/api/v1/groups/{g}/members/{}/approve", w.outsider.id), None).await
        }
        "change role" => {
            let g = w.group(json!({})).await;
            w.call(
                "PATCH",
                &format!("/api/v1/groups/{g}/members/{}", w.member.id),
                Some(json!({ "role": "organiser" })),
            )
            .await
        }
        "remove member" => {
            let g = w.group(json!({})).await;
            w.call("DELETE", &format!("/api/v1/groups/{g}/members/{}", w.member.id), None).await
        }
        "create api key" => {
            w.call("POST", "/api/v1/me/api-keys", Some(json!({ "name": "extra", "scopes": ["groups:read"] }))).await
        }
        "register app" => {
            w.call("POST", "/api/v1/apps", Some(json!({ "name": "Another", "scopes": ["groups:read"] }))).await
        }
        "revoke owner's app" => {
            let res = w
                .app
                .http
                .post("/api/v1/apps")
                .token(&w.owner.token)
                .json(&json!({ "name": "Victim", "scopes": ["groups:read"] }))
                .send()
                .await;
            let id = res.json()["app"]["id"].as_str().unwrap().to_owned();
            w.call("DELETE", &format!("/api/v1/apps/{id}"), None).await
        }
        "approve app scopes" => {
            let res = w
                .app
                .http
                .post("/api/v1/apps")
                .token(&w.owner.token)
                .json(&json!({ "name": "Verifier", "scopes": ["attestations:verify"] }))
                .send()
                .await;
            let id = res.json()["app"]["id"].as_str().unwrap().to_owned();
            w.call("POST", &format!("/api/v1/apps/{id}/approve"), Some(json!({ "scopes": ["attestations:verify"] })))
                .await
        }
        "create person" => {
            w.call("POST", "/api/v1/people", Some(json!({ "display_name": "New", "scopes": ["groups:read"] }))).await
        }
        "create sign-in link" => w.call("POST", "/api/v1/sign-in-links", Some(json!({ "display_name": "New" }))).await,
        "leave" => {
            let g = w.group(json!({})).await;
            w.call("POST", &format!("/api/v1/groups/{g}/leave"), None).await
        }
        "create event" => {
            let g = w.group(json!({})).await;
            w.call("POST", &format!("/api/v1/groups/{g}/events"), Some(series())).await
        }
        "update event" => {
            let (_, e) = w.event().await;
            w.call("PUT", &format!("/api/v1/events/{e}"), Some(series())).await
        }
        "delete event" => {
            let (_, e) = w.event().await;
            w.call("DELETE", &format!("/api/v1/events/{e}"), None).await
        }
        "cancel a date" => {
            let (_, e) = w.event().await;
            w.call("PUT", &format!("/api/v1/events/{e}/occurrences/{DATE}"), Some(json!({ "status": "cancelled" })))
                .await
        }
        "reply" => {
            let (_, e) = w.event().await;
            w.call("PUT", &format!("/api/v1/events/{e}/occurrences/{DATE}/rsvp"), Some(json!({ "response": "going" })))
                .await
        }
        "reply to the series" => {
            let (_, e) = w.event().await;
            w.call("PUT", &format!("/api/v1/events/{e}/series-rsvp"), Some(json!({ "response": "going" }))).await
        }
        "make calendar feed" => w.call("POST", "/api/v1/me/calendar-feed", None).await,
        "check in" => {
            let (_, e) = w.event().await;
            let res = w
                .app
                .http
                .put(&format!("/api/v1/events/{e}/occurrences/{DATE}/rsvp"))
                .token(&w.member.token)
                .json(&json!({ "response": "going" }))
                .send()
                .await;
            assert_eq!(res.status, 200, "{}", res.text);
            w.call("POST", &format!("/api/v1/events/{e}/occurrences/{DATE}/rsvps/{}/check-in", w.member.id), None).await
        }
        "GraphQL: update group" => {
            let g = w.group(json!({})).await;
            let q = "mutation($id: ID!) { updateGroup(id: $id, expectedVersion: 1, input: { summary: \"Changed\" }) { id } }";
            w.gql(q, json!({ "id": g })).await
        }
        "GraphQL: create event" => {
            let g = w.group(json!({})).await;
            let q = "mutation($g: ID!) { createEvent(groupId: $g, input: { title: \"Tea\", summary: \"Weekly\",
                start: \"2026-04-07T10:00\", end: \"2026-04-07T12:00\", onlineUrl: \"https://example.org/tea\" }) { id } }";
            w.gql(q, json!({ "g": g })).await
        }
        "GraphQL: cancel a date" => {
            let (_, e) = w.event().await;
            let q = "mutation($e: ID!) { setOccurrence(eventId: $e, localStart: \"2026-04-14T10:00\", change: { status: CANCELLED }) }";
            w.gql(q, json!({ "e": e })).await
        }
        "GraphQL: reply" => {
            let (_, e) = w.event().await;
            let q =
                "mutation($e: ID!) { rsvp(eventId: $e, localStart: \"2026-04-14T10:00\", response: GOING) { state } }";
            w.gql(q, json!({ "e": e })).await
        }
        "GraphQL: join" => {
            w.n.set(w.n.get() + 1);
            let g = w.app.group(&w.outsider.token, group_named(&format!("gql-other-{}", w.n.get()), json!({}))).await;
            let q = "mutation($g: ID!) { joinGroup(groupId: $g) { status } }";
            w.gql(q, json!({ "g": g["id"] })).await
        }
        "delete account" => w.call("DELETE", "/api/v1/me", None).await,
        other => panic!("unknown mutation {other}"),
    }
}

/// Expected status per caller, in the order of `WHO`.
const MATRIX: &[(&str, [u16; 7])] = &[
    //                       anon member organiser owner app-no app-yes operator
    ("create group", [401, 201, 201, 201, 403, 201, 201]),
    ("update group", [401, 403, 200, 200, 403, 200, 200]),
    ("archive group", [401, 403, 403, 200, 403, 200, 200]),
    ("set identifier", [401, 403, 403, 200, 403, 200, 200]),
    ("verify identifier", [401, 403, 403, 403, 403, 403, 200]),
    ("join", [401, 200, 200, 200, 403, 200, 200]),
    ("invite", [401, 403, 201, 201, 403, 201, 201]),
    ("approve", [401, 403, 200, 200, 403, 200, 200]),
    ("change role", [401, 403, 403, 200, 403, 200, 200]),
    ("remove member", [401, 403, 204, 204, 403, 204, 204]),
    ("create api key", [401, 201, 201, 201, 403, 403, 201]),
    ("register app", [401, 201, 201, 201, 403, 403, 201]),
    ("revoke owner's app", [401, 404, 404, 200, 403, 403, 200]),
    ("approve app scopes", [401, 403, 403, 403, 403, 403, 200]),
    ("create person", [401, 403, 403, 403, 403, 403, 201]),
    ("create sign-in link", [401, 403, 403, 403, 403, 403, 201]),
    ("create event", [401, 403, 201, 201, 403, 201, 201]),
    ("update event", [401, 403, 200, 200, 403, 200, 200]),
    ("delete event", [401, 403, 204, 204, 403, 204, 204]),
    ("cancel a date", [401, 403, 200, 200, 403, 200, 200]),
    ("reply", [401, 200, 200, 200, 403, 200, 200]),
    ("reply to the series", [401, 200, 200, 200, 403, 200, 200]),
    ("make calendar feed", [401, 201, 201, 201, 403, 403, 201]),
    ("check in", [401, 403, 204, 204, 403, 204, 204]),
    ("GraphQL: update group", [401, 403, 200, 200, 403, 200, 200]),
    ("GraphQL: create event", [401, 403, 200, 200, 403, 200, 200]),
    ("GraphQL: cancel a date", [401, 403, 200, 200, 403, 200, 200]),
    ("GraphQL: reply", [401, 200, 200, 200, 403, 200, 200]),
    ("GraphQL: join", [401, 200, 200, 200, 403, 200, 200]),
    // The owner is a group's last owner; the operator is not a member.
    ("leave", [401, 204, 204, 409, 403, 409, 404]),
    // Last. Every person here created a group above and is its only owner, so deletion is refused
    // until they hand it over (deletion itself is tested in identity.rs); apps can never delete.
    ("delete account", [401, 409, 409, 409, 403, 403, 409]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_allows_and_denies_the_right_callers() {
    let mut failures = Vec::new();
    for (i, who) in WHO.iter().enumerate() {
        let world = World::new(*who).await;
        for (mutation, expected) in MATRIX {
            let got = run(&world, mutation).await;
            if got != expected[i] {
                failures.push(format!("{mutation} as {who:?}: expected {}, got {got}", expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "authorisation matrix mismatches:\n{}", failures.join("\n"));
}
