use crate::common::{app, group_named, techmates};
use serde_json::json;

#[tokio::test]
async fn created_group_reads_back_through_rest_and_graphql() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let created = app.group(&ada.token, techmates()).await;
    assert_eq!(created["slug"], "wigan-techmates");
    assert_eq!(created["version"], 1);
    assert_eq!(created["member_count"], 1);
    assert_eq!(created["viewer_membership"]["role"], "owner");
    assert_eq!(created["area"]["outcode"], "WN1");
    assert_eq!(created["area"]["latitude"], 53.55104, "the outward code's centroid");
    assert_eq!(created["guidelines"]["template"], "welcoming-space");
    let id = created["id"].as_str().unwrap();

    for path in [format!("/api/v1/groups/{id}"), "/api/v1/groups/wigan-techmates".to_owned()] {
        let res = app.http.get(&path).send().await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.header("etag"), Some("\"1\""));
        let body = res.json();
        assert_eq!(body["name"], "Wigan TechMates");
        assert_eq!(body["viewer_membership"], serde_json::Value::Null, "anonymous readers have no membership");
    }

    let res = app
        .gql(
            None,
            "query($slug: String) { group(slug: $slug) { id name memberCount categories area { outcode } } }",
            json!({ "slug": "wigan-techmates" }),
        )
        .await;
    let body = res.json();
    assert_eq!(body["data"]["group"]["id"], id, "{body}");
    assert_eq!(body["data"]["group"]["memberCount"], 1);
    assert_eq!(body["data"]["group"]["categories"], json!(["DIGITAL_INCLUSION", "OLDER_PEOPLE"]));
}

#[tokio::test]
async fn listing_filters_and_pages_with_next_links() {
    let app = app().await;
    let ada = app.member("Ada").await;
    for (slug, outcode, cat) in [
        ("alpha-walkers", "WN1", "health-wellbeing"),
        ("bravo-knitters", "WN1", "arts-culture"),
        ("charlie-coders", "M1", "digital-inclusion"),
        ("delta-gardeners", "WN1", "environment"),
    ] {
        app.group(&ada.token, group_named(slug, json!({ "area": { "outcode": outcode }, "categories": [cat] }))).await;
    }
    let slugs = |v: &serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|g| g["slug"].as_str().unwrap().to_owned()).collect()
    };
    let wn1 = app.http.get("/api/v1/groups?outcode=wn1").send().await.json();
    assert_eq!(slugs(&wn1), ["alpha-walkers", "bravo-knitters", "delta-gardeners"]);
    let cat = app.http.get("/api/v1/groups?category=digital-inclusion").send().await.json();
    assert_eq!(slugs(&cat), ["charlie-coders"]);
    let text = app.http.get("/api/v1/groups?q=group%20KNITTERS").send().await.json();
    assert_eq!(slugs(&text), ["bravo-knitters"]);

    let first = app.http.get("/api/v1/groups?outcode=WN1&limit=2").send().await.json();
    assert_eq!(slugs(&first), ["alpha-walkers", "bravo-knitters"]);
    let next = first["next"].as_str().unwrap();
    assert!(next.starts_with("/api/v1/groups?outcode=WN1&limit=2&after="), "{next}");
    let second = app.http.get(next).send().await.json();
    assert_eq!(slugs(&second), ["delta-gardeners"]);
    assert_eq!(second["next"], serde_json::Value::Null);
}

#[tokio::test]
async fn update_needs_the_current_version() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let g = app.group(&ada.token, techmates()).await;
    let path = format!("/api/v1/groups/{}", g["id"].as_str().unwrap());

    let res = app
        .http
        .patch(&path)
        .token(&ada.token)
        .header("if-match", "\"1\"")
        .json(&json!({ "summary": "Now on Thursdays too", "description": null, "visibility": "unlisted" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag"), Some("\"2\""));
    let body = res.json();
    assert_eq!(body["summary"], "Now on Thursdays too");
    assert_eq!(body["description"], serde_json::Value::Null, "null clears");
    assert_eq!(body["name"], "Wigan TechMates", "absent fields stay");

    let before = app.state().await;
    let stale = app
        .http
        .patch(&path)
        .token(&ada.token)
        .header("if-match", "\"1\"")
        .json(&json!({ "name": "Stale" }))
        .send()
        .await;
    stale.problem(412, "VERSION_MISMATCH");
    let missing = app.http.patch(&path).token(&ada.token).json(&json!({ "name": "No precondition" })).send().await;
    missing.problem(428, "PRECONDITION_REQUIRED");
    assert_eq!(app.state().await, before);
    assert_eq!(app.http.get(&path).send().await.json()["summary"], "Now on Thursdays too");
}

#[tokio::test]
async fn archiving_is_for_owners_and_freezes_the_group() {
    let app = app().await;
    let owner = app.member("Owner").await;
    let organiser = app.member("Organiser").await;
    let g = app.group(&owner.token, techmates()).await;
    let id = g["id"].as_str().unwrap();
    app.http.post(&format!("/api/v1/groups/{id}/join")).token(&organiser.token).send().await;
    let promote = app
        .http
        .patch(&format!("/api/v1/groups/{id}/members/{}", organiser.id))
        .token(&owner.token)
        .json(&json!({ "role": "organiser" }))
        .send()
        .await;
    assert_eq!(promote.status, 200, "{}", promote.text);

    let res = app
        .http
        .post(&format!("/api/v1/groups/{id}/archive"))
        .token(&organiser.token)
        .header("if-match", "\"1\"")
        .send()
        .await;
    res.problem(403, "GROUP_ROLE_REQUIRED");
    let res = app
        .http
        .post(&format!("/api/v1/groups/{id}/archive"))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["status"], "archived");

    let listed = app.http.get("/api/v1/groups").send().await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "archived groups are not listed");
    assert_eq!(app.http.get(&format!("/api/v1/groups/{id}")).send().await.status, 200, "but can still be read");
    let res = app
        .http
        .patch(&format!("/api/v1/groups/{id}"))
        .token(&owner.token)
        .header("if-match", "\"2\"")
        .json(&json!({ "name": "Revived" }))
        .send()
        .await;
    res.problem(409, "GROUP_ARCHIVED");
}

#[tokio::test]
async fn idempotency_key_replays_the_first_result() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let send = |body: serde_json::Value, key: &str| {
        app.http.post("/api/v1/groups").token(&ada.token).header("idempotency-key", key).json(&body).send()
    };
    let first = send(techmates(), "create-techmates-1").await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), Some("false"));
    let again = send(techmates(), "create-techmates-1").await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["id"], first.json()["id"]);

    let before = app.state().await;
    let other = send(group_named("another-group", json!({})), "create-techmates-1").await;
    other.problem(422, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(app.state().await, before);

    let bob = app.member("Bob").await;
    let res = app
        .http
        .post("/api/v1/groups")
        .token(&bob.token)
        .header("idempotency-key", "create-techmates-1")
        .json(&group_named("bobs-group", json!({})))
        .send()
        .await;
    assert_eq!(res.status, 201, "keys are per caller: {}", res.text);
}

#[tokio::test]
async fn private_groups_are_invisible_to_non_members_everywhere() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let bob = app.member("Bob").await;
    let private = app.group(&ada.token, group_named("secret-supper", json!({ "visibility": "private" }))).await;
    let unlisted = app.group(&ada.token, group_named("quiet-corner", json!({ "visibility": "unlisted" }))).await;
    let pid = private["id"].as_str().unwrap();

    for token in [None, Some(bob.token.as_str())] {
        let mut call = app.http.get(&format!("/api/v1/groups/{pid}"));
        if let Some(t) = token {
            call = call.token(t);
        }
        call.send().await.problem(404, "GROUP_NOT_FOUND");
        let mut call = app.http.get("/api/v1/groups");
        if let Some(t) = token {
            call = call.token(t);
        }
        assert_eq!(call.send().await.json()["items"].as_array().unwrap().len(), 0, "neither is listed");
        let q = "query($id: ID) { group(id: $id) { name } groups { edges { node { slug } } } }";
        let body = app.gql(token, q, json!({ "id": pid })).await.json();
        assert_eq!(body["data"]["group"], serde_json::Value::Null, "{body}");
        assert_eq!(body["data"]["groups"]["edges"], json!([]));
        let e = app
            .gql(
                token,
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { name } } }",
                json!({ "r": [{ "__typename": "Group", "id": pid }] }),
            )
            .await
            .json();
        assert_ne!(e["data"]["_entities"][0]["name"], "Group secret-supper", "{e}");
    }
    // Bob cannot join a private group he cannot see.
    app.http.post(&format!("/api/v1/groups/{pid}/join")).token(&bob.token).send().await.problem(404, "GROUP_NOT_FOUND");

    let res = app.http.get("/api/v1/groups/quiet-corner").send().await;
    assert_eq!(res.status, 200, "unlisted groups are reachable by slug");
    assert_eq!(res.json()["id"], unlisted["id"]);

    let listed = app.http.get("/api/v1/groups").token(&ada.token).send().await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "members see their own private and unlisted groups");
    assert_eq!(app.http.get(&format!("/api/v1/groups/{pid}")).token(&ada.token).send().await.status, 200);
}

#[tokio::test]
async fn guidelines_come_from_templates_or_custom_text() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let templates = app.http.get("/api/v1/guideline-templates").send().await.json();
    assert_eq!(templates.as_array().unwrap().len(), 3);
    let safeguarding = templates.as_array().unwrap().iter().find(|t| t["id"] == "safeguarding-first").unwrap();
    let g = app
        .group(&ada.token, group_named("safe-club", json!({ "guidelines": { "template": "safeguarding-first" } })))
        .await;
    assert_eq!(g["guidelines"]["text"], safeguarding["text"]);
    let g = app
        .group(&ada.token, group_named("own-rules", json!({ "guidelines": { "custom": "Be kind. Bring biscuits." } })))
        .await;
    assert_eq!(g["guidelines"], json!({ "template": null, "text": "Be kind. Bring biscuits." }));
    let res = app
        .http
        .post("/api/v1/groups")
        .token(&ada.token)
        .json(&group_named("both-rules", json!({ "guidelines": { "template": "online-conduct", "custom": "x" } })))
        .send()
        .await;
    let body = res.problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["pointer"], "/guidelines");
    let cats = app.http.get("/api/v1/categories").send().await.json();
    assert!(cats.as_array().unwrap().iter().any(|c| c["id"] == "digital-inclusion"));
}

#[tokio::test]
async fn if_match_star_accepts_the_current_version_and_empty_filters_are_ignored() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let g = app.group(&ada.token, techmates()).await;
    let path = format!("/api/v1/groups/{}", g["id"].as_str().unwrap());
    let res = app
        .http
        .patch(&path)
        .token(&ada.token)
        .header("if-match", "*")
        .json(&json!({ "name": "Any version" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag"), Some("\"2\""));
    app.http
        .patch(&path)
        .token(&ada.token)
        .header("if-match", "")
        .json(&json!({ "name": "Empty precondition" }))
        .send()
        .await
        .problem(428, "PRECONDITION_REQUIRED");
    let listed = app.http.get("/api/v1/groups?outcode=&q=&after=&limit=5").send().await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn owners_record_charity_numbers_and_operators_verify_them() {
    let app = app().await;
    let owner = app.member("Owner").await;
    let organiser = app.member("Organiser").await;
    let g = app.group(&owner.token, techmates()).await;
    let id = g["id"].as_str().unwrap();
    assert_eq!(g["identifiers"], json!([]));
    app.http.post(&format!("/api/v1/groups/{id}/join")).token(&organiser.token).send().await;
    app.http
        .patch(&format!("/api/v1/groups/{id}/members/{}", organiser.id))
        .token(&owner.token)
        .json(&json!({ "role": "organiser" }))
        .send()
        .await;
    let path = |scheme: &str| format!("/api/v1/groups/{id}/identifiers/{scheme}");

    let before = app.state().await;
    app.http
        .put(&path("GB-CHC"))
        .token(&organiser.token)
        .json(&json!({ "value": "1123456" }))
        .send()
        .await
        .problem(403, "GROUP_ROLE_REQUIRED");
    let b = app
        .http
        .put(&path("GB-CHC"))
        .token(&owner.token)
        .json(&json!({ "value": "12-34" }))
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
    assert_eq!(b["errors"][0]["code"], "INVALID_IDENTIFIER");
    app.http
        .put(&path("GB-XYZ"))
        .token(&owner.token)
        .json(&json!({ "value": "1" }))
        .send()
        .await
        .problem(404, "IDENTIFIER_SCHEME_UNKNOWN");
    app.http
        .post(&format!("{}/verify", path("GB-CHC")))
        .token(&app.operator)
        .send()
        .await
        .problem(404, "IDENTIFIER_NOT_FOUND");
    assert_eq!(app.state().await, before);

    let res = app.http.put(&path("GB-CHC")).token(&owner.token).json(&json!({ "value": "1123 456" })).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag"), Some("\"2\""), "the version moves");
    assert_eq!(
        res.json()["identifiers"],
        json!([{ "scheme": "GB-CHC", "value": "1123456", "verified": false, "verified_at": null }])
    );
    let res = app.http.put(&path("GB-COH")).token(&owner.token).json(&json!({ "value": "sc123456" })).send().await;
    assert_eq!(res.json()["identifiers"][1]["value"], "SC123456");

    app.http
        .post(&format!("{}/verify", path("GB-CHC")))
        .token(&owner.token)
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    let res = app.http.post(&format!("{}/verify", path("GB-CHC"))).token(&app.operator).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let ids = res.json()["identifiers"].clone();
    assert_eq!(ids[0]["verified"], true);
    assert!(ids[0]["verified_at"].is_string());
    assert_eq!(ids[1]["verified"], false);

    // Changing a verified number makes it unverified again; the same number keeps the verification.
    let same =
        app.http.put(&path("GB-CHC")).token(&owner.token).json(&json!({ "value": "1123456" })).send().await.json();
    assert_eq!(same["identifiers"][0]["verified"], true);
    let changed =
        app.http.put(&path("GB-CHC")).token(&owner.token).json(&json!({ "value": "1999999" })).send().await.json();
    assert_eq!(changed["identifiers"][0]["verified"], false);
    let removed = app.http.delete(&path("GB-COH")).token(&owner.token).send().await.json();
    assert_eq!(removed["identifiers"].as_array().unwrap().len(), 1);
    app.http.delete(&path("GB-COH")).token(&owner.token).send().await.problem(404, "IDENTIFIER_NOT_FOUND");

    let q = "query($s: String) { group(slug: $s) { identifiers { scheme register value verified } } }";
    let body = app.gql(None, q, json!({ "s": "wigan-techmates" })).await.json();
    assert_eq!(
        body["data"]["group"]["identifiers"],
        json!([{ "scheme": "CHARITY_ENGLAND_WALES", "register": "GB-CHC", "value": "1999999", "verified": false }])
    );
    let verify = "mutation($g: ID!) { verifyGroupIdentifier(groupId: $g, scheme: CHARITY_ENGLAND_WALES) { identifiers { verified } } }";
    let body = app.gql(Some(&app.operator), verify, json!({ "g": id })).await.json();
    assert_eq!(body["data"]["verifyGroupIdentifier"]["identifiers"][0]["verified"], true, "{body}");
    let log = app.http.get("/api/v1/audit?limit=3").token(&app.operator).send().await.json();
    assert_eq!(log["items"][0]["action"], "group.identifier_verify");
}
