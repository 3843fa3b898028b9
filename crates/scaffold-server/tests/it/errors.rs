//! Bad input: each case gets a precise problem and leaves the data unchanged.

use crate::common::{app, app_with, group_named, techmates};
use scaffold_server::app::AppOptions;
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_refused_precisely() {
    let app = app().await;
    let ada = app.member("Ada").await;
    app.group(&ada.token, techmates()).await;
    let before = app.state().await;
    let post = |body: &str| app.http.post("/api/v1/groups").token(&ada.token).raw_json(body).send();

    let res = post(r#"{"slug": "x", "name": "#).await;
    res.problem(400, "MALFORMED_JSON");
    let res = post(r#"{"slug": "abc", "name": 42, "summary": "s"}"#).await;
    let b = res.problem(422, "VALIDATION_FAILED");
    assert_eq!(
        b["errors"][0],
        json!({ "pointer": "/name", "code": "INVALID_TYPE", "detail": b["errors"][0]["detail"] })
    );
    let res = post(r#"{"slug": "abc", "summary": "s"}"#).await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["pointer"], "/name");
    let res = post(r#"{"slug": "abc", "name": "Name", "summary": "s", "colour": "red"}"#).await;
    let b = res.problem(422, "VALIDATION_FAILED");
    assert_eq!(
        (b["errors"][0]["pointer"].clone(), b["errors"][0]["code"].clone()),
        (json!("/colour"), json!("UNKNOWN_FIELD"))
    );
    let res =
        post(r#"{"slug": "abc", "name": "Name", "summary": "s", "area": {"outcode": "WN1", "postcode": "WN1 1AA"}}"#)
            .await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["pointer"], "/area/postcode");
    let res = post(r#"{"slug": "abc", "name": "Name", "summary": "s", "visibility": "secret"}"#).await;
    let b = res.problem(422, "VALIDATION_FAILED");
    assert_eq!(
        (b["errors"][0]["pointer"].clone(), b["errors"][0]["code"].clone()),
        (json!("/visibility"), json!("INVALID_VALUE"))
    );
    let res = post(r#"{"slug": "abc", "name": "Name", "summary": "s", "links": [{"label": "ok", "url": 5}]}"#).await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["pointer"], "/links/0/url");
    let res = app.http.post("/api/v1/groups").token(&ada.token).body("text/plain", b"slug=abc".to_vec()).send().await;
    res.problem(415, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn field_rules_are_checked_and_all_reported() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let before = app.state().await;
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (group_named("Uppercase", json!({})), vec![("/slug", "INVALID_SLUG")]),
        (group_named("has space", json!({})), vec![("/slug", "INVALID_SLUG")]),
        (group_named("api", json!({})), vec![("/slug", "SLUG_RESERVED")]),
        (group_named("admin", json!({})), vec![("/slug", "SLUG_RESERVED")]),
        (group_named("graphql", json!({})), vec![("/slug", "SLUG_RESERVED")]),
        (group_named("ok-slug", json!({ "name": "n".repeat(101) })), vec![("/name", "TOO_LONG")]),
        (group_named("ok-slug", json!({ "summary": "s".repeat(281) })), vec![("/summary", "TOO_LONG")]),
        (group_named("ok-slug", json!({ "description": "d".repeat(10_001) })), vec![("/description", "TOO_LONG")]),
        (
            group_named("ok-slug", json!({ "area": { "outcode": "WN1 1AA" } })),
            vec![("/area/outcode", "INVALID_OUTCODE")],
        ),
        (group_named("ok-slug", json!({ "area": { "outcode": "ZZ99" } })), vec![("/area/outcode", "UNKNOWN_OUTCODE")]),
        (
            group_named("ok-slug", json!({ "area": { "outcode": "WN1", "latitude": 53.5 } })),
            vec![("/area", "INCOMPLETE_POINT")],
        ),
        (group_named("ok-slug", json!({ "contact_email": "not-an-email" })), vec![("/contact_email", "INVALID_EMAIL")]),
        (
            group_named("ok-slug", json!({ "links": [{ "label": "x", "url": "javascript:alert(1)" }] })),
            vec![("/links/0/url", "INVALID_URL")],
        ),
        (group_named("ok-slug", json!({ "categories": ["food", "food"] })), vec![("/categories", "DUPLICATE")]),
        (
            json!({ "slug": "A B", "name": "x", "summary": "" }),
            vec![("/slug", "INVALID_SLUG"), ("/name", "TOO_SHORT"), ("/summary", "REQUIRED")],
        ),
    ];
    for (body, expected) in cases {
        let res = app.http.post("/api/v1/groups").token(&ada.token).json(&body).send().await;
        let b = res.problem(422, "VALIDATION_FAILED");
        let got: Vec<(String, String)> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["pointer"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        let want: Vec<(String, String)> = expected.iter().map(|(p, c)| ((*p).to_owned(), (*c).to_owned())).collect();
        assert_eq!(got, want, "for {body}");
    }
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn duplicate_slug_is_a_conflict() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let first = app.group(&ada.token, techmates()).await;
    let before = app.state().await;
    let res = app.http.post("/api/v1/groups").token(&ada.token).json(&techmates()).send().await;
    res.problem(409, "GROUP_SLUG_TAKEN");
    assert_eq!(app.state().await, before);
    assert_eq!(app.http.get("/api/v1/groups/wigan-techmates").send().await.json()["id"], first["id"]);
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404() {
    let app = app().await;
    let ada = app.person("Ada", &["groups:read", "groups:write", "profile"]).await;
    app.http.get("/api/v1/groups/01900000-0000-7000-8000-000000000000").send().await.problem(404, "GROUP_NOT_FOUND");
    app.http.get("/api/v1/groups/no-such-group").send().await.problem(404, "GROUP_NOT_FOUND");
    app.http
        .patch("/api/v1/groups/not-a-uuid")
        .token(&ada.token)
        .header("if-match", "\"1\"")
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .problem(404, "GROUP_NOT_FOUND");
    app.http.get("/api/v1/nothing-here").send().await.problem(404, "ROUTE_NOT_FOUND");
    app.http
        .delete("/api/v1/me/api-keys/01900000-0000-7000-8000-000000000000")
        .token(&ada.token)
        .send()
        .await
        .problem(404, "API_KEY_NOT_FOUND");
}

#[tokio::test]
async fn missing_bad_and_underscoped_tokens_are_refused() {
    let app = app().await;
    let reader = app.person("Reader", &["groups:read"]).await;
    let before = app.state().await;
    let res = app.http.post("/api/v1/groups").json(&techmates()).send().await;
    res.problem(401, "UNAUTHENTICATED");
    let challenge = res.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer") && !challenge.contains("error="), "no token, no error code: {challenge}");
    for bad in ["Bearer scf_not-a-real-token", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer"] {
        let res = app.http.post("/api/v1/groups").header("authorization", bad).json(&techmates()).send().await;
        res.problem(401, "UNAUTHENTICATED");
        assert!(res.header("www-authenticate").unwrap().contains("error=\"invalid_token\""), "{bad}");
        let res = app.gql(None, "{ categories }", json!({})).await;
        assert!(res.header("www-authenticate").is_none());
        let res = app
            .http
            .post("/graphql")
            .header("authorization", bad)
            .json(&json!({ "query": "{ categories }" }))
            .send()
            .await;
        assert_eq!(res.status, 401);
        assert!(res.header("www-authenticate").unwrap().contains("error=\"invalid_token\""), "{bad}");
        // A bad token is refused even where anonymous access is allowed.
        app.http.get("/api/v1/groups").header("authorization", bad).send().await.problem(401, "UNAUTHENTICATED");
    }
    let res = app.http.post("/api/v1/groups").token(&reader.token).json(&techmates()).send().await;
    let b = res.problem(403, "INSUFFICIENT_SCOPE");
    assert!(b["detail"].as_str().unwrap().contains("groups:write"), "{b}");
    assert!(res.header("www-authenticate").unwrap().contains("insufficient_scope"));
    app.http.get("/api/v1/audit").token(&reader.token).send().await.problem(403, "INSUFFICIENT_SCOPE");
    app.http
        .post("/api/v1/people")
        .token(&reader.token)
        .json(&json!({ "display_name": "X", "scopes": [] }))
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn revoked_keys_stop_working_and_new_keys_cannot_widen_scopes() {
    let app = app().await;
    let ada = app.person("Ada", &["groups:read", "groups:write", "profile"]).await;
    // Managing keys is the account's business: a key without `profile` may not.
    let narrow = app.member("Bea").await;
    app.http.get("/api/v1/me/api-keys").token(&narrow.token).send().await.problem(403, "INSUFFICIENT_SCOPE");
    let res = app
        .http
        .post("/api/v1/me/api-keys")
        .token(&ada.token)
        .json(&json!({ "name": "wider", "scopes": ["groups:read", "admin"] }))
        .send()
        .await;
    res.problem(403, "SCOPE_NOT_HELD");
    let res = app
        .http
        .post("/api/v1/me/api-keys")
        .token(&ada.token)
        .json(&json!({ "name": "typo", "scopes": ["groups:raed"] }))
        .send()
        .await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "UNKNOWN_SCOPE");
    let res = app
        .http
        .post("/api/v1/me/api-keys")
        .token(&ada.token)
        .json(&json!({ "name": "read only", "scopes": ["groups:read"] }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let issued = res.json();
    let token = issued["token"].as_str().unwrap();
    let me = app.http.get("/api/v1/me").token(token).send().await.json();
    assert_eq!(me["scopes"], json!(["groups:read"]));
    assert_eq!(me["id"], ada.id);
    app.http.get("/api/v1/me/api-keys").token(token).send().await.problem(403, "INSUFFICIENT_SCOPE");
    let keys = app.http.get("/api/v1/me/api-keys").token(&ada.token).send().await.json();
    assert_eq!(keys["items"].as_array().unwrap().len(), 2);
    assert!(!keys.to_string().contains(token), "tokens are never listed");
    let res = app
        .http
        .delete(&format!("/api/v1/me/api-keys/{}", issued["key"]["id"].as_str().unwrap()))
        .token(&ada.token)
        .send()
        .await;
    assert_eq!(res.status, 204);
    app.http.get("/api/v1/me").token(token).send().await.problem(401, "UNAUTHENTICATED");
    // A narrow key (no `profile`) cannot manage keys, but can put itself out of use.
    let narrow = app
        .http
        .post("/api/v1/me/api-keys")
        .token(&ada.token)
        .json(&json!({ "name": "kiosk", "scopes": ["groups:read"] }))
        .send()
        .await
        .json();
    let (narrow_id, narrow_token) = (narrow["key"]["id"].as_str().unwrap(), narrow["token"].as_str().unwrap());
    let own = app.http.get("/api/v1/me/api-keys").token(&ada.token).send().await.json();
    let other = own["items"].as_array().unwrap().iter().find(|k| k["id"] != narrow_id).unwrap()["id"].clone();
    app.http
        .delete(&format!("/api/v1/me/api-keys/{}", other.as_str().unwrap()))
        .token(narrow_token)
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    let res = app.http.delete(&format!("/api/v1/me/api-keys/{narrow_id}")).token(narrow_token).send().await;
    assert_eq!(res.status, 204, "{}", res.text);
    app.http.get("/api/v1/groups").token(narrow_token).send().await.problem(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = app().await;
    app.http.get("/api/v1/groups?limit=0").send().await.problem(422, "VALIDATION_FAILED");
    app.http.get("/api/v1/groups?limit=101").send().await.problem(422, "VALIDATION_FAILED");
    app.http.get("/api/v1/groups?limit=abc").send().await.problem(422, "VALIDATION_FAILED");
    app.http.get("/api/v1/groups?outcode=NOPE1").send().await.problem(422, "VALIDATION_FAILED");
    app.http.get("/api/v1/groups?category=cooking").send().await.problem(422, "VALIDATION_FAILED");
    let b = app.http.get("/api/v1/groups?after=garbage").send().await.problem(422, "VALIDATION_FAILED");
    assert_eq!(b["errors"][0]["code"], "INVALID_CURSOR");
    let long = "x".repeat(101);
    app.http.get(&format!("/api/v1/groups?q={long}")).send().await.problem(422, "VALIDATION_FAILED");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = app_with(AppOptions { body_limit_bytes: 2_000, ..AppOptions::default() }).await;
    let ada = app.member("Ada").await;
    let before = app.state().await;
    let body = group_named("big-group", json!({ "description": "d".repeat(5_000) }));
    app.http.post("/api/v1/groups").token(&ada.token).json(&body).send().await.problem(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn idempotency_keys_must_be_printable() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let res = app
        .http
        .post("/api/v1/groups")
        .token(&ada.token)
        .header("idempotency-key", &"k".repeat(256))
        .json(&techmates())
        .send()
        .await;
    res.problem(422, "VALIDATION_FAILED");
}

#[tokio::test]
async fn errors_made_below_the_handlers_are_problems_too() {
    let app = app().await;
    let res = app.http.delete("/api/v1/groups").send().await;
    res.problem(405, "METHOD_NOT_ALLOWED");
    assert!(res.header("allow").unwrap().contains("GET"));
    app.http.get("/nowhere").send().await.problem(404, "ROUTE_NOT_FOUND");
}

/// NUL and other control characters in every kind of text input are refused with 422 (REST) or
/// a coded error (GraphQL) before anything reaches the store, on both stores alike.
#[tokio::test]
async fn control_characters_in_any_text_input_are_refused_before_the_store() {
    let app = app().await;
    let ada = app.person("Ada", &["groups:read", "groups:write", "profile"]).await;
    app.group(&ada.token, techmates()).await;
    let before = app.state().await;
    for path in [
        "/api/v1/groups?q=tea%00",
        "/api/v1/groups?q=%7F",
        "/api/v1/groups?outcode=WN1%00",
        "/api/v1/groups?%00=x",
        "/api/v1/groups/wigan%00techmates",
        "/api/v1/groups/%00/events",
        "/api/v1/groups/%C2%85/calendar.ics",
        "/api/v1/events?q=%00&outcode=WN1",
        "/api/v1/events?group=%00",
        "/api/v1/events?after=%01",
        "/api/v1/events/%00/calendar.ics",
        "/api/v1/events/calendar.ics?q=%00",
        "/openactive/session-series?afterId=%00",
        "/api/v1/me/attestations/%00",
    ] {
        let res = app.http.get(path).token(&ada.token).send().await;
        let p = res.problem(422, "VALIDATION_FAILED");
        assert_eq!(p["errors"][0]["code"], "CONTROL_CHARACTER", "{path}: {p}");
    }
    let p = app
        .http
        .post("/api/v1/groups")
        .token(&ada.token)
        .json(&json!({ "slug": "nul-group", "name": "Nul", "summary": "s", "links": [{ "label": "a\u{0}", "url": "https://x.example" }] }))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    assert_eq!(
        (p["errors"][0]["pointer"].clone(), p["errors"][0]["code"].clone()),
        (json!("/links/0/label"), json!("CONTROL_CHARACTER"))
    );
    let p = app
        .http
        .post("/api/v1/groups")
        .token(&ada.token)
        .body("application/json", br#"{"slug": "nul-group", "name": "Nul", "summary": "s", "\u0000": 1}"#.to_vec())
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "CONTROL_CHARACTER", "{p}");
    // GraphQL: in a variable, a literal argument, an entity representation, the query itself.
    for (query, variables) in [
        ("query($s: String) { group(slug: $s) { id } }", json!({ "s": "wigan\u{0}techmates" })),
        ("{ group(slug: \"wigan\\u0000techmates\") { id } }", json!({})),
        ("query($s: String = \"\\u0000\") { group(slug: $s) { id } }", json!({})),
        (
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { id } } }",
            json!({ "r": [{ "__typename": "Group", "slug": "\u{0}" }] }),
        ),
        ("{ groups(q: \"\\u0085\") { totalCount } }", json!({})),
        ("{ categories }\u{0}", json!({})),
    ] {
        let res = app.gql(None, query, variables).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        let body = res.json();
        assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION_FAILED", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["fields"][0]["code"], "CONTROL_CHARACTER", "{body}");
    }
    // The token endpoint: an unknown client, as RFC 6749 says, never a store error.
    let res = app
        .http
        .post("/oauth/token")
        .body(
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&client_id=%00&client_secret=x".to_vec(),
        )
        .send()
        .await;
    assert_eq!((res.status.as_u16(), res.json()["error"].clone()), (401, json!("invalid_client")), "{}", res.text);
    assert_eq!(app.state().await, before, "nothing changed");
    // Ordinary text still passes.
    let res = app.http.get("/api/v1/groups?q=tea%20cake").send().await;
    assert_eq!(res.status, 200);
}
