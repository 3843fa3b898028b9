//! Council notices end to end: a council posts a notice to WN1 and the WN1 groups, and only they,
//! see it (REST, GraphQL, the notices feed); radius and category targeting; who may publish and
//! dismiss; subscribed apps are told with a signed `notice.published`.

use crate::common::{app_parts, group_named};
use crate::webhooks::{Shared, receiver};
use serde_json::{Value, json};

fn notice(extra: Value) -> Value {
    let mut n = json!({
        "title": "Warm spaces open this winter",
        "body": "Libraries in the town centre stay open until 8pm.\n\nBring a friend.",
        "links": [{ "label": "Warm spaces", "url": "https://www.wigan.gov.uk/warmspaces" }],
        "valid_until": "2026-12-31T00:00:00Z",
    });
    for (k, v) in extra.as_object().unwrap() {
        n[k] = v.clone();
    }
    n
}

#[tokio::test]
async fn a_notice_to_wn1_reaches_the_wn1_groups_and_only_them() {
    let (app, service, _) = app_parts(Default::default()).await;
    let ada = app.member("Ada").await;
    let wn1 = app
        .group(&ada.token, group_named("wn1-lunch", json!({ "area": { "outcode": "WN1" }, "categories": ["food"] })))
        .await;
    let wn2 = app
        .group(&ada.token, group_named("wn2-walks", json!({ "area": { "outcode": "WN2" }, "categories": ["food"] })))
        .await;
    let far = app.group(&ada.token, group_named("m1-club", json!({ "area": { "outcode": "M1" } }))).await;

    // Who may publish: operators and holders of `notices:publish`; a notice names whom it is for.
    app.http
        .post("/api/v1/notices")
        .token(&ada.token)
        .json(&notice(json!({ "outcodes": ["WN1"] })))
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    let council = app.person("Wigan Council", &["notices:publish"]).await;
    let before = app.state().await;
    let res = app.http.post("/api/v1/notices").token(&council.token).json(&notice(json!({}))).send().await;
    let p = res.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["pointer"], "/outcodes", "{p}");
    let res = app
        .http
        .post("/api/v1/notices")
        .token(&council.token)
        .json(&notice(json!({ "outcodes": ["WN1", "nowhere!"], "radius": { "outcode": "WN1", "km": 99 } })))
        .send()
        .await;
    let p = res.problem(422, "VALIDATION_FAILED");
    let pointers: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/outcodes/1", "/radius/km"]);
    assert_eq!(app.state().await, before, "a refused notice changes nothing");

    // An app subscribed to notices in WN1 is told.
    let state = Shared::default();
    let url = receiver(state.clone()).await;
    let dev = app.person("Dev", &["profile", "groups:read"]).await;
    let a = app
        .http
        .post("/api/v1/apps")
        .token(&dev.token)
        .json(&json!({ "name": "Town app", "scopes": ["groups:read"] }))
        .send()
        .await
        .json();
    let app_id = a["app"]["id"].as_str().unwrap();
    // (Loopback targets are refused by default: this test's service allows none, so it reads the queue.)
    let res = app
        .http
        .post(&format!("/api/v1/apps/{app_id}/webhooks"))
        .token(&dev.token)
        .json(&json!({ "url": url, "types": ["notice.published"], "outcodes": ["WN1"] }))
        .send()
        .await;
    res.problem(422, "VALIDATION_FAILED");

    let res = app
        .http
        .post("/api/v1/notices")
        .token(&council.token)
        .json(&notice(json!({ "outcodes": ["wn1"] })))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let published = res.json();
    let id = published["id"].as_str().unwrap();
    assert_eq!(published["outcodes"], json!(["WN1"]));

    let ids = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect()
    };
    let of = |g: &Value| format!("/api/v1/groups/{}/notices", g["id"].as_str().unwrap());
    let seen = app.http.get(&of(&wn1)).send().await.json();
    assert_eq!(ids(&seen), [id], "{seen}");
    assert_eq!(seen["items"][0]["dismissed"], false);
    assert!(ids(&app.http.get(&of(&wn2)).send().await.json()).is_empty(), "WN2 is not sent a WN1 notice");
    assert!(ids(&app.http.get(&of(&far)).send().await.json()).is_empty());
    let gql = app
        .gql(None, "{ a: group(slug: \"wn1-lunch\") { notices { id title links { url } } } b: group(slug: \"wn2-walks\") { notices { id } } }", json!({}))
        .await
        .json();
    assert_eq!(gql["data"]["a"]["notices"][0]["id"], id, "{gql}");
    assert_eq!(gql["data"]["b"]["notices"], json!([]), "{gql}");
    let feed = app.http.get("/api/v1/groups/wn1-lunch/notices/feed").send().await;
    assert_eq!(feed.header("content-type"), Some("application/feed+json"));
    let feed = feed.json();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["items"][0]["title"], "Warm spaces open this winter");
    assert!(feed["items"][0]["content_text"].as_str().unwrap().contains("https://www.wigan.gov.uk/warmspaces"));

    // A radius, and categories with an area (both must match).
    let near = app
        .http
        .post("/api/v1/notices")
        .token(&app.operator)
        .json(&notice(json!({ "radius": { "outcode": "WN1", "km": 4 }, "title": "Roadworks near the centre" })))
        .send()
        .await
        .json();
    let food_wn2 = app
        .http
        .post("/api/v1/notices")
        .token(&app.operator)
        .json(&notice(
            json!({ "outcodes": ["WN2"], "categories": ["older-people"], "title": "For older people in WN2" }),
        ))
        .send()
        .await
        .json();
    assert!(ids(&app.http.get(&of(&wn1)).send().await.json()).contains(&near["id"].as_str().unwrap().to_owned()));
    assert!(!ids(&app.http.get(&of(&far)).send().await.json()).contains(&near["id"].as_str().unwrap().to_owned()));
    assert!(
        !ids(&app.http.get(&of(&wn2)).send().await.json()).contains(&food_wn2["id"].as_str().unwrap().to_owned()),
        "a food group is not an older people's group"
    );

    // Organisers dismiss a notice for their group; members may not; it is audited.
    let bo = app.member("Bo").await;
    app.http.post(&format!("/api/v1/groups/{}/join", wn1["id"].as_str().unwrap())).token(&bo.token).send().await;
    let dismiss = |token: String| {
        let (http, path) = (app.http.clone(), format!("{}/{id}/dismiss", of(&wn1)));
        async move { http.post(&path).token(&token).send().await }
    };
    dismiss(bo.token.clone()).await.problem(403, "GROUP_ROLE_REQUIRED");
    assert_eq!(dismiss(ada.token.clone()).await.status, 204);
    assert_eq!(dismiss(ada.token.clone()).await.status, 204, "dismissing again changes nothing");
    let now_seen = app.http.get(&of(&wn1)).send().await.json();
    assert!(!ids(&now_seen).contains(&id.to_owned()), "{now_seen}");
    let all = app.http.get(&format!("{}?include_dismissed=true", of(&wn1))).send().await.json();
    let mine = all["items"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap();
    assert_eq!(mine["dismissed"], true);
    let wn2_path = format!("{}/{id}/dismiss", of(&wn2));
    app.http.post(&wn2_path).token(&ada.token).send().await.problem(404, "NOTICE_NOT_FOUND");
    let audit = app.http.get("/api/v1/audit?limit=100").token(&app.operator).send().await.json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "notice.dismiss").count(), 1);
    assert_eq!(actions.iter().filter(|a| **a == "notice.publish").count(), 3);

    // A notice that starts later is not public before it starts (publishers see it).
    let later = app
        .http
        .post("/api/v1/notices")
        .token(&council.token)
        .json(&notice(json!({ "outcodes": ["WN1"], "valid_from": "2026-12-20T00:00:00Z", "title": "From the 20th" })))
        .send()
        .await
        .json();
    let later_path = format!("/api/v1/notices/{}", later["id"].as_str().unwrap());
    app.http.get(&later_path).send().await.problem(404, "NOTICE_NOT_FOUND");
    assert_eq!(app.http.get(&later_path).token(&council.token).send().await.status, 200);
    assert!(!ids(&app.http.get(&of(&wn1)).send().await.json()).contains(&later["id"].as_str().unwrap().to_owned()));

    // Publishers list them; anyone reads one.
    let listed = app.http.get("/api/v1/notices").token(&council.token).send().await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
    app.http.get("/api/v1/notices").token(&ada.token).send().await.problem(403, "INSUFFICIENT_SCOPE");
    assert_eq!(
        app.http.get(&format!("/api/v1/notices/{id}")).send().await.json()["title"],
        "Warm spaces open this winter"
    );
    app.http.get(&format!("/api/v1/notices/{}", uuid::Uuid::nil())).send().await.problem(404, "NOTICE_NOT_FOUND");
    drop(service);
}

#[tokio::test]
async fn subscribed_apps_are_told_of_a_notice_to_their_area() {
    let clock = scaffold_testkit::clock();
    let config = scaffold_service::identity::IdentityConfig {
        webhooks: scaffold_service::webhooks::WebhookSettings { allow_private_targets: true, ..Default::default() },
        ..Default::default()
    };
    let service = scaffold_service::Service::with_identity(scaffold_testkit::store().await, clock, config).unwrap();
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let http = scaffold_testkit::TestClient::new(scaffold_server::app::router(service.clone(), &Default::default()));
    let state = Shared::default();
    let url = receiver(state.clone()).await;
    let a = http
        .post("/api/v1/apps")
        .token(&operator)
        .json(&json!({ "name": "Town app", "scopes": ["groups:read"] }))
        .send()
        .await
        .json();
    let app_id = a["app"]["id"].as_str().unwrap();
    for outcode in ["WN1", "WN2"] {
        let res = http
            .post(&format!("/api/v1/apps/{app_id}/webhooks"))
            .token(&operator)
            .json(&json!({ "url": format!("{url}?{outcode}"), "types": ["notice.published"], "outcodes": [outcode] }))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let res = http.post("/api/v1/notices").token(&operator).json(&notice(json!({ "outcodes": ["WN1"] }))).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let client = service.webhook_client().unwrap();
    assert_eq!(service.deliver_webhooks(&client).await.unwrap(), 1, "only the WN1 subscription");
    let got = state.lock().unwrap().got.clone();
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "notice.published");
    assert_eq!(body["data"]["notice"]["outcodes"], json!(["WN1"]));
    assert_eq!(body["data"]["notice"]["title"], "Warm spaces open this winter");
    assert_eq!(crate::webhooks::parse_with_protoc(&got)[0]["ok"], true);
}
