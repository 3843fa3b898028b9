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

#[tokio::test]
async fn every_response_carries_the_security_headers_and_hsts_when_configured() {
    let app = app().await;
    for path in ["/api/v1/groups", "/api/v1/nothing-here", "/healthz", "/api/v1/events/calendar.ics"] {
        let res = app.http.get(path).send().await;
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"), "{path}");
        let csp = res.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(res.header("strict-transport-security").is_none(), "no HSTS unless served over TLS");
    }
    let tls = crate::common::app_with(scaffold_server::app::AppOptions {
        hsts_max_age_secs: 31_536_000,
        ..scaffold_server::app::AppOptions::default()
    })
    .await;
    let res = tls.http.get("/api/v1/groups").send().await;
    assert_eq!(res.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
}

#[tokio::test]
async fn the_graphql_explorer_is_served_from_the_binary_under_a_strict_policy() {
    let app = app().await;
    let page = app.http.get("/graphql").send().await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("http") && !csp.contains("unsafe"), "nothing external, nothing inline: {csp}");
    assert!(!page.text.contains("//unpkg") && !page.text.contains("https://"), "{}", page.text);
    let srcs: Vec<&str> = page
        .text
        .split("src=\"")
        .skip(1)
        .chain(page.text.split("href=\"").skip(1))
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(srcs.len(), 5, "{srcs:?}");
    for src in srcs {
        let res = app.http.get(src).header("accept-encoding", "gzip, br").send().await;
        assert_eq!(res.status, 200, "{src}");
        assert!(res.header("content-type").unwrap().starts_with("text/"), "{src}");
        if src.ends_with(".min.js") {
            assert_eq!(res.header("content-encoding"), Some("gzip"), "{src}");
            let plain = app.http.get(src).send().await;
            assert!(plain.header("content-encoding").is_none() && plain.text.len() > 1000, "{src}");
        }
    }
    app.http.get("/graphql/assets/graphiql-0.0.0/graphiql.min.js").send().await.problem(404, "ROUTE_NOT_FOUND");
    let limits = scaffold_graphql::Limits { graphiql: false, ..scaffold_graphql::Limits::default() };
    let off = crate::common::app_with(scaffold_server::app::AppOptions { graphql: limits, ..Default::default() }).await;
    assert_eq!(off.http.get("/graphql/assets/graphiql-3.8.3/graphiql.min.js").send().await.status, 404);
}

#[tokio::test]
async fn cors_lets_any_origin_read_and_call_with_tokens_but_never_with_credentials() {
    let app = app().await;
    for path in
        ["/openactive/session-series", "/api/v1/events/calendar.ics", "/api/v1/groups", "/.well-known/jwks.json"]
    {
        let res = app.http.get(path).header("origin", "https://council.example").send().await;
        assert_eq!(res.header("access-control-allow-origin"), Some("*"), "{path}");
        assert!(res.header("access-control-allow-credentials").is_none(), "{path}");
    }
    let res = app
        .http
        .call(axum::http::Method::OPTIONS, "/api/v1/groups")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, idempotency-key")
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.status);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert!(res.header("access-control-allow-methods").unwrap().contains("POST"));
    let allowed = res.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("idempotency-key"), "{allowed}");
    assert!(res.header("access-control-allow-credentials").is_none());
    let res = app.http.get("/api/v1/groups").header("origin", "https://app.example").send().await;
    let exposed = res.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("ratelimit-remaining") && exposed.contains("etag"), "{exposed}");
    // Operators' endpoints are not for other origins' scripts.
    for path in ["/metrics", "/readyz", "/healthz"] {
        let res = app.http.get(path).header("origin", "https://intranet-page.example").send().await;
        assert!(res.header("access-control-allow-origin").is_none(), "{path}");
    }
}

#[tokio::test]
async fn metrics_can_need_a_token_or_live_elsewhere() {
    use scaffold_server::app::{AppOptions, MetricsAccess};
    let guarded = crate::common::app_with(AppOptions {
        metrics: MetricsAccess::Token("metrics-secret-for-tests".into()),
        ..AppOptions::default()
    })
    .await;
    guarded.http.get("/metrics").send().await.problem(401, "UNAUTHENTICATED");
    guarded.http.get("/metrics").token("wrong").send().await.problem(401, "UNAUTHENTICATED");
    let res = guarded.http.get("/metrics").token("metrics-secret-for-tests").send().await;
    assert!(res.status.is_success() && res.text.contains("scaffold_http_requests"), "{}", res.text);
    let elsewhere =
        crate::common::app_with(AppOptions { metrics: MetricsAccess::Elsewhere, ..AppOptions::default() }).await;
    elsewhere.http.get("/metrics").send().await.problem(404, "ROUTE_NOT_FOUND");
}
