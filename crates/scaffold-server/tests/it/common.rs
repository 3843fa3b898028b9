//! The test application and helpers shared by the integration tests.

use scaffold_server::app::{AppOptions, router};
use scaffold_service::Service;
use scaffold_testkit::{TestClient, TestResponse};
use serde_json::{Value, json};

pub struct TestApp {
    pub http: TestClient,
    pub operator: String,
}

pub async fn app() -> TestApp {
    app_with(AppOptions::default()).await
}

pub async fn app_with(options: AppOptions) -> TestApp {
    app_with_clock(options).await.0
}

/// The test app and its fixed clock, for tests that move time on.
pub async fn app_with_clock(options: AppOptions) -> (TestApp, std::sync::Arc<scaffold_domain::FixedClock>) {
    let (app, _, clock) = app_parts(options).await;
    (app, clock)
}

/// The test app, its service (for the background jobs) and its fixed clock.
pub async fn app_parts(options: AppOptions) -> (TestApp, Service, std::sync::Arc<scaffold_domain::FixedClock>) {
    let clock = scaffold_testkit::clock();
    let service = Service::new(scaffold_testkit::store().await, clock.clone());
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    (TestApp { http: TestClient::new(router(service.clone(), &options)), operator }, service, clock)
}

/// A person created by the operator, with a key carrying `scopes`.
pub struct Person {
    pub id: String,
    pub token: String,
}

pub const MEMBER_SCOPES: &[&str] = &["groups:read", "groups:write"];

impl TestApp {
    pub async fn person(&self, name: &str, scopes: &[&str]) -> Person {
        let res = self
            .http
            .post("/api/v1/people")
            .token(&self.operator)
            .json(&json!({ "display_name": name, "scopes": scopes }))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let body = res.json();
        Person {
            id: body["id"].as_str().unwrap().to_owned(),
            token: body["api_key"]["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn member(&self, name: &str) -> Person {
        self.person(name, MEMBER_SCOPES).await
    }

    /// Creates a group and returns its body.
    pub async fn group(&self, token: &str, body: Value) -> Value {
        let res = self.http.post("/api/v1/groups").token(token).json(&body).send().await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.json()
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> TestResponse {
        let mut call = self.http.post("/graphql");
        if let Some(t) = token {
            call = call.token(t);
        }
        call.json(&json!({ "query": query, "variables": variables })).send().await
    }

    /// Everything observable that a failed request must not change: the audit log length and
    /// every group the operator can see.
    pub async fn state(&self) -> (usize, Value) {
        let audit = self.http.get("/api/v1/audit?limit=100").token(&self.operator).send().await.json();
        let groups = self.http.get("/api/v1/groups?limit=100").token(&self.operator).send().await.json();
        (audit["items"].as_array().unwrap().len(), groups["items"].clone())
    }
}

pub fn techmates() -> Value {
    json!({
        "slug": "wigan-techmates",
        "name": "Wigan TechMates",
        "summary": "Tea, cake and friendly help with phones and tablets",
        "description": "We meet **every Tuesday** at Wigan Library.",
        "categories": ["digital-inclusion", "older-people"],
        "area": { "outcode": "WN1" },
        "contact_email": "techmates@example.org",
        "links": [{ "label": "Library", "url": "https://example.org/library" }]
    })
}

pub fn group_named(slug: &str, extra: Value) -> Value {
    let mut body = json!({ "slug": slug, "name": format!("Group {slug}"), "summary": "A test group" });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}
