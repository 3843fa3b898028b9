use crate::common::{app, techmates};
use serde_json::json;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = app().await;
    let res = app.http.get("/healthz").send().await;
    assert_eq!((res.status.as_u16(), res.json()), (200, json!({ "status": "ok" })));
    let ready = app.http.get("/readyz").send().await;
    assert_eq!(ready.status, 200);
    let expected = match scaffold_testkit::StoreKind::from_env() {
        scaffold_testkit::StoreKind::Sqlite => "sqlite",
        scaffold_testkit::StoreKind::Postgres => "postgres",
    };
    assert_eq!(ready.json()["store"], expected);
    app.http.get("/api/v1/groups").send().await;
    let metrics = app.http.get("/metrics").send().await.text;
    assert!(
        metrics.contains(r#"scaffold_http_requests_total{method="GET",route="/api/v1/groups",status="200"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("scaffold_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn metric_labels_come_from_a_closed_set_whatever_the_clients_send() {
    let app = app().await;
    for i in 0..500 {
        let method = axum::http::Method::from_bytes(format!("X{i:04}").as_bytes()).unwrap();
        let res = app.http.call(method, &format!("/api/v1/groups/no-such-{i}")).send().await;
        assert!(res.status.is_client_error(), "{}", res.status);
        app.http.get(&format!("/nowhere/{i}")).send().await;
    }
    let metrics = app.http.get("/metrics").send().await.text;
    let series: Vec<&str> = metrics.lines().filter(|l| l.starts_with("scaffold_http_requests_total{")).collect();
    for l in &series {
        let method = l.split("method=\"").nth(1).and_then(|r| r.split('"').next()).unwrap();
        assert!(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"].contains(&method), "{l}");
        assert!(!l.contains("no-such") && !l.contains("nowhere"), "raw paths are never labels: {l}");
    }
    assert!(series.len() <= 4, "a thousand odd requests make a handful of series: {series:#?}");
    assert!(
        metrics.contains(r#"method="other",route="unmatched""#)
            || metrics.contains(r#"method="other",route="/api/v1/groups/{group}""#),
        "{metrics}"
    );
}

#[tokio::test]
async fn request_ids_are_made_or_propagated() {
    let app = app().await;
    let res = app.http.get("/healthz").send().await;
    assert_eq!(res.header("x-request-id").map(str::len), Some(36), "a UUID is made");
    let res = app.http.get("/healthz").header("x-request-id", "trace-me-123").send().await;
    assert_eq!(res.header("x-request-id"), Some("trace-me-123"));
}

#[tokio::test]
async fn every_mutation_is_audited_for_operators() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let g = app.group(&ada.token, techmates()).await;
    let id = g["id"].as_str().unwrap();
    app.http
        .patch(&format!("/api/v1/groups/{id}"))
        .token(&ada.token)
        .header("if-match", "\"1\"")
        .json(&json!({ "summary": "Changed" }))
        .send()
        .await;
    let bea = app.member("Bea").await;
    app.http.post(&format!("/api/v1/groups/{id}/join")).token(&bea.token).send().await;
    let log = app.http.get("/api/v1/audit").token(&app.operator).send().await.json();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["membership.join", "person.create", "group.update", "group.create", "person.create", "person.create"]
    );
    let update = &log["items"][2];
    assert_eq!(update["actor"], ada.id);
    assert_eq!(update["target_id"], id);
    assert_eq!(update["detail"], json!({ "fields": ["summary"], "version": 2 }));
    assert!(!log.to_string().contains("scf_"), "no tokens in the audit log");
    let page = app.http.get("/api/v1/audit?limit=2").token(&app.operator).send().await.json();
    let next = app.http.get(page["next"].as_str().unwrap()).token(&app.operator).send().await.json();
    assert_eq!(next["items"][0]["action"], "group.update");
}
