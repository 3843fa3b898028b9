//! The committed contracts match the code. Run with `SCAFFOLD_UPDATE_CONTRACTS=1` to rewrite them
//! after an intended change, and review the diff.

use crate::common::app;

fn check(path: &str, generated: &str) {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    if std::env::var("SCAFFOLD_UPDATE_CONTRACTS").is_ok() {
        std::fs::write(&full, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(
        committed == generated,
        "{path} is out of date: run `SCAFFOLD_UPDATE_CONTRACTS=1 cargo test -p scaffold-server contracts` and commit it"
    );
}

#[test]
fn openapi_document_is_committed() {
    check("openapi/openapi.json", &scaffold_rest::openapi_pretty());
}

#[test]
fn graphql_schema_is_committed() {
    let sdl = scaffold_graphql::sdl();
    assert!(sdl.contains(r#"@key(fields: "id")"#) && sdl.contains(r#"@key(fields: "slug")"#));
    check("openapi/schema.graphql", &sdl);
}

#[tokio::test]
async fn served_openapi_is_the_committed_one_and_is_3_1() {
    let app = app().await;
    let served = app.http.get("/api/v1/openapi.json").send().await.json();
    let generated: serde_json::Value = serde_json::from_str(&scaffold_rest::openapi_pretty()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(served["openapi"], "3.1.0");
    assert!(served["paths"]["/api/v1/groups"]["post"].is_object());
}

/// Every status the server can answer is in the document: a change to an archived group's
/// events and occurrences is 409 GROUP_ARCHIVED, and each of those operations lists 409.
#[tokio::test]
async fn changes_under_an_archived_group_are_409_as_the_document_says() {
    let app = crate::common::app().await;
    let owner = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write", "rsvp:write"]).await;
    let g = app.group(&owner.token, crate::common::group_named("archived-club", serde_json::json!({}))).await;
    let series = serde_json::json!({ "title": "Tea", "summary": "Weekly", "start": "2026-04-07T10:00",
        "end": "2026-04-07T12:00", "rrule": "FREQ=WEEKLY", "online_url": "https://example.org/tea" });
    let e = app.http.post("/api/v1/groups/archived-club/events").token(&owner.token).json(&series).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let gid = g["id"].as_str().unwrap();
    let res = app
        .http
        .post(&format!("/api/v1/groups/{gid}/archive"))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let occurrence = format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00");
    let res =
        app.http.put(&occurrence).token(&owner.token).json(&serde_json::json!({ "status": "cancelled" })).send().await;
    res.problem(409, "GROUP_ARCHIVED");
    app.http.delete(&occurrence).token(&owner.token).send().await.problem(409, "GROUP_ARCHIVED");
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}"))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .json(&series)
        .send()
        .await;
    res.problem(409, "GROUP_ARCHIVED");

    let doc = scaffold_rest::openapi();
    for (path, method) in [
        ("/api/v1/events/{event}/occurrences/{local_start}", "put"),
        ("/api/v1/events/{event}/occurrences/{local_start}", "delete"),
        ("/api/v1/events/{event}", "put"),
        ("/api/v1/events/{event}", "delete"),
        ("/api/v1/events/{event}/occurrences/{local_start}/rsvps/{person}/check-in", "post"),
    ] {
        assert!(doc["paths"][path][method]["responses"]["409"].is_object(), "{method} {path} lists 409");
    }
}
