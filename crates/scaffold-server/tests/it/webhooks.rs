//! Webhooks end to end: an app subscribes a receiver, a credential is revoked, and the signed
//! `attestation.revoked` delivery is verified by the reference Standard Webhooks libraries (npm
//! and PyPI, `tests/webhooks`); a receiver that fails, times out and recovers is retried with the
//! log to show it; repeated failure disables the subscription; replay sends the same id again;
//! a rotated secret overlaps; what an app may subscribe to follows its granted scopes.

use crate::attestations::{Setup, active_dbs_check_with, verifier_app};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver got, and how it answers the next requests (a status per request, then 204).
#[derive(Default)]
pub(crate) struct Receiver {
    pub(crate) got: Vec<Value>,
    pub(crate) answers: Vec<(u16, u64)>,
}

pub(crate) type Shared = Arc<Mutex<Receiver>>;

fn record(r: &mut Receiver, headers: &HeaderMap, body: String) {
    let h: serde_json::Map<String, Value> = ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"]
        .iter()
        .filter_map(|k| headers.get(*k).map(|v| ((*k).to_owned(), json!(v.to_str().unwrap_or_default()))))
        .collect();
    r.got.push(json!({ "headers": h, "body": body }));
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let (status, delay) = {
        let mut r = r.lock().unwrap();
        record(&mut r, &headers, body);
        if r.answers.is_empty() { (204, 0) } else { r.answers.remove(0) }
    };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    StatusCode::from_u16(status).unwrap()
}

/// Answers 200 with 64 MB that never needs reading.
async fn huge(
    axum::extract::State(r): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    record(&mut r.lock().unwrap(), &headers, body);
    axum::response::Response::new(axum::body::Body::from(vec![b'x'; 64 << 20]))
}

/// A receiver on loopback; its URL (`/hook`; `/huge` answers with 64 MB).
pub(crate) async fn receiver(state: Shared) -> String {
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .route("/huge", axum::routing::post(huge))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/hook")
}

/// Runs a reference library's verifier on recorded deliveries: one result per delivery.
pub(crate) fn verify_with_references(got: &[Value], secret: &str) -> Vec<(Value, Value)> {
    let dir = std::env::temp_dir().join(format!("scaffold-webhooks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("deliveries.json");
    std::fs::write(&file, serde_json::to_vec(got).unwrap()).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/webhooks");
    let python = std::env::var("SCAFFOLD_TEST_WEBHOOKS_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let run = |program: &str, script: &str| -> Vec<Value> {
        let out = std::process::Command::new(program).current_dir(&root).arg(script).arg(&file).arg(secret).output();
        let out = out.unwrap_or_else(|e| panic!("{program} {script}: {e} (scripts/test installs tests/webhooks)"));
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let node = run("node", "verify.mjs");
    let py = run(&python, "verify.py");
    assert_eq!(node.len(), got.len());
    assert_eq!(py.len(), got.len());
    node.into_iter().zip(py).collect()
}

/// Parses delivered bodies back with the contract compiled by protoc and the reference protobuf
/// runtime (`tests/webhooks/parse.py`): one result per body.
pub(crate) fn parse_with_protoc(got: &[Value]) -> Vec<Value> {
    let dir = std::env::temp_dir().join(format!("scaffold-webhooks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bodies.json");
    let bodies: Vec<&Value> = got.iter().map(|g| &g["body"]).collect();
    std::fs::write(&file, serde_json::to_vec(&bodies).unwrap()).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var("SCAFFOLD_TEST_WEBHOOKS_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = std::process::Command::new(python)
        .arg(root.join("tests/webhooks/parse.py"))
        .arg(root.join("proto"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "parse.py: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

async fn setup() -> Setup {
    let clock = scaffold_testkit::clock();
    let config = scaffold_service::identity::IdentityConfig {
        webhooks: scaffold_service::webhooks::WebhookSettings {
            timeout_secs: 1,
            retry_base_secs: 10,
            disable_after: 4,
            allow_private_targets: true,
        },
        ..Default::default()
    };
    let service =
        scaffold_service::Service::with_identity(scaffold_testkit::store().await, clock.clone(), config).unwrap();
    active_dbs_check_with(service, clock).await
}

/// The issuer revokes the setup's attestation.
async fn revoke(s: &Setup, reason: &str) {
    let path = format!("/api/v1/attestations/{}/revoke", s.attestation);
    let res = s.http.post(&path).token(&s.ada).json(&json!({ "reason": reason })).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
}

async fn deliver(s: &Setup) -> usize {
    let client = s.service.webhook_client().unwrap();
    s.service.deliver_webhooks(&client).await.unwrap()
}

async fn subscribe(s: &Setup, app: &str, token: &str, body: Value) -> Value {
    let res = s.http.post(&format!("/api/v1/apps/{app}/webhooks")).token(token).json(&body).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()
}

#[tokio::test]
async fn a_verifier_hears_of_a_revocation_signed_as_the_reference_libraries_expect() {
    let s = setup().await;
    let (app, token) = verifier_app(&s, "Casserole matcher").await;
    let state = Shared::default();
    let url = receiver(state.clone()).await;

    // What an app may subscribe to follows its granted scopes and the delivery rules.
    let bad = s
        .http
        .post(&format!("/api/v1/apps/{app}/webhooks"))
        .token(&token)
        .json(&json!({ "url": url, "types": ["attestation.revoked", "group.updated", "nonsense"] }))
        .send()
        .await;
    let p = bad.problem(422, "VALIDATION_FAILED");
    let codes: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, [("/types/1", "SCOPE_NOT_GRANTED"), ("/types/2", "UNKNOWN_CHANGE_TYPE")]);
    assert!(
        s.http.get(&format!("/api/v1/apps/{app}/webhooks")).token(&token).send().await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "a refused subscription leaves nothing behind"
    );
    // Another person's key cannot see or add this app's webhooks.
    s.http
        .post(&format!("/api/v1/apps/{app}/webhooks"))
        .token(&s.ada)
        .json(&json!({ "url": url, "types": ["attestation.revoked"] }))
        .send()
        .await
        .problem(404, "APP_NOT_FOUND");

    // A filter that concerns only some of the types named would drop the others: refused.
    let mixed = json!({ "url": url, "types": ["attestation.revoked"], "outcodes": ["WN1"] });
    let res = s.http.post(&format!("/api/v1/apps/{app}/webhooks")).token(&token).json(&mixed).send().await;
    assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["pointer"], "/outcodes");

    let created = subscribe(
        &s,
        &app,
        &token,
        json!({ "url": url, "types": ["attestation.revoked"], "attestation_types": ["dbs-check"] }),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let hook = created["id"].as_str().unwrap().to_owned();
    let read = s.http.get(&format!("/api/v1/apps/{app}/webhooks/{hook}")).token(&token).send().await;
    assert!(read.json().get("secret").is_none(), "the secret is shown once: {}", read.text);

    // The issuer revokes; the delivery is queued in the same transaction and sent by the worker.
    revoke(&s, "New information on the Update Service").await;
    assert_eq!(deliver(&s).await, 1);
    let got = state.lock().unwrap().got.clone();
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "attestation.revoked");
    assert_eq!(body["data"]["attestation"]["attestationId"], s.attestation.as_str());
    assert_eq!(body["data"]["attestation"]["attestationType"], "dbs-check");
    assert!(body["data"]["attestation"]["statusListUri"].as_str().unwrap().contains("/status-lists/"));
    assert_eq!(body["id"], got[0]["headers"]["webhook-id"]);
    let text = got[0]["body"].as_str().unwrap();
    for personal in ["Bo", "claims", "evidence", "reason", "Update Service"] {
        assert!(!text.contains(personal), "a change carries no {personal}: {text}");
    }

    // Both reference libraries accept it; a tampered body and a wrong secret are refused.
    let mut tampered = got[0].clone();
    tampered["body"] = json!(text.replace("revoked", "restored"));
    let checked = verify_with_references(&[got[0].clone(), tampered], &secret);
    for (node, py) in &checked[..1] {
        assert_eq!((node["ok"].as_bool(), py["ok"].as_bool()), (Some(true), Some(true)), "{node} {py}");
        assert_eq!(node["payload"], body);
        assert_eq!(py["payload"], body);
    }
    assert_eq!((checked[1].0["ok"].as_bool(), checked[1].1["ok"].as_bool()), (Some(false), Some(false)));
    let wrong = verify_with_references(&got, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert_eq!((wrong[0].0["ok"].as_bool(), wrong[0].1["ok"].as_bool()), (Some(false), Some(false)));

    // The contract compiled by protoc reads the body back, and prints the same canonical JSON.
    let parsed = parse_with_protoc(&got);
    assert_eq!(parsed[0]["ok"], true, "{parsed:?}");
    let mut extra = got[0].clone();
    extra["body"] = json!(text.replacen('{', r#"{"unknownField":1,"#, 1));
    assert_eq!(parse_with_protoc(&[extra])[0]["ok"], false, "a field outside the contract is refused");

    // The log says delivered; nothing is sent twice.
    let log = s.http.get(&format!("/api/v1/apps/{app}/webhooks/{hook}/deliveries")).token(&token).send().await.json();
    assert_eq!(log["items"][0]["state"], "delivered", "{log}");
    assert_eq!(log["items"][0]["last_status"], 204);
    assert_eq!(deliver(&s).await, 0);

    // Replay sends the same id again; after a rotation both secrets sign for a while.
    let change = body["id"].as_str().unwrap();
    let res = s
        .http
        .post(&format!("/api/v1/apps/{app}/webhooks/{hook}/deliveries/{change}/replay"))
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    let rotated = s.http.post(&format!("/api/v1/apps/{app}/webhooks/{hook}/secret")).token(&token).send().await.json();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(deliver(&s).await, 1);
    let got = state.lock().unwrap().got.clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["headers"]["webhook-id"], got[0]["headers"]["webhook-id"], "a replay keeps the id");
    for key in [&secret, &new_secret] {
        let checked = verify_with_references(&got[1..], key);
        assert_eq!((checked[0].0["ok"].as_bool(), checked[0].1["ok"].as_bool()), (Some(true), Some(true)));
    }
    s.http
        .post(&format!("/api/v1/apps/{app}/webhooks/{hook}/deliveries/{}/replay", uuid::Uuid::nil()))
        .token(&token)
        .send()
        .await
        .problem(404, "DELIVERY_NOT_FOUND");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_logged_and_disabled_then_recovers() {
    let s = setup().await;
    let (app, token) = verifier_app(&s, "Flaky matcher").await;
    let state = Shared::default();
    let url = receiver(state.clone()).await;
    let hook = subscribe(&s, &app, &token, json!({ "url": url, "types": ["attestation.revoked"] })).await;
    let hook = hook["id"].as_str().unwrap().to_owned();
    // A receiver that answers with a huge body is delivered to without reading it.
    let huge_url = url.replace("/hook", "/huge");
    let big = subscribe(&s, &app, &token, json!({ "url": huge_url, "types": ["attestation.revoked"] })).await;
    // It fails, then does not answer in time, then redirects, then fails: four in a row disable it.
    state.lock().unwrap().answers = vec![(500, 0), (204, 2_500), (302, 0), (500, 0)];
    revoke(&s, "The role ended").await;
    let log_of = || {
        let (http, token, path) = (s.http.clone(), token.clone(), format!("/api/v1/apps/{app}/webhooks/{hook}"));
        async move { http.get(&format!("{path}/deliveries")).token(&token).send().await.json()["items"][0].clone() }
    };
    assert_eq!(deliver(&s).await, 2);
    let big_log = s
        .http
        .get(&format!("/api/v1/apps/{app}/webhooks/{}/deliveries", big["id"].as_str().unwrap()))
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(big_log["items"][0]["state"], "delivered", "{big_log}");
    assert!(
        big_log["items"][0]["last_latency_ms"].as_u64().unwrap() < 1_000,
        "the 64 MB answer is not read: {big_log}"
    );
    s.http.delete(&format!("/api/v1/apps/{app}/webhooks/{}", big["id"].as_str().unwrap())).token(&token).send().await;
    let first = log_of().await;
    assert_eq!(
        (first["state"].as_str(), first["attempts"].as_u64(), first["last_status"].as_u64()),
        (Some("pending"), Some(1), Some(500))
    );
    assert_eq!(first["last_error"], "the endpoint answered 500 Internal Server Error");
    assert_eq!(deliver(&s).await, 0, "not due before its backoff");
    let mut waits = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..3 {
        let log = log_of().await;
        errors.push(log["last_error"].as_str().unwrap_or_default().to_owned());
        let next: chrono::DateTime<chrono::Utc> = log["next_attempt_at"].as_str().unwrap().parse().unwrap();
        let last: chrono::DateTime<chrono::Utc> = log["last_attempt_at"].as_str().unwrap().parse().unwrap();
        waits.push((next - last).num_milliseconds());
        s.clock.advance(next - last + chrono::Duration::milliseconds(1));
        assert_eq!(deliver(&s).await, 1);
    }
    errors.push(log_of().await["last_error"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        errors[1..],
        [
            "no answer within 1 s".to_owned(),
            "the endpoint answered 302 Found: redirects are not followed".to_owned(),
            "the endpoint answered 500 Internal Server Error".to_owned()
        ],
    );
    assert!(waits[0] >= 10_000 && waits[0] <= 12_000, "{waits:?}");
    assert!(waits[1] >= 20_000 && waits[1] <= 24_000, "doubles, with at most a fifth of jitter: {waits:?}");
    let log = log_of().await;
    assert_eq!(log["attempts"], 4);
    let hook_now = s.http.get(&format!("/api/v1/apps/{app}/webhooks/{hook}")).token(&token).send().await.json();
    assert_eq!(hook_now["status"], "disabled", "{hook_now}");
    assert!(hook_now["disabled_reason"].as_str().unwrap().contains("4 failed attempts in a row"), "{hook_now}");
    // The owner is told on their account page.
    let owner = s.http.get(&format!("/api/v1/apps/{app}")).token(&s.operator).send().await.json()["owner"].clone();
    let link =
        s.http.post("/api/v1/sign-in-links").token(&s.operator).json(&json!({ "person_id": owner })).send().await;
    let path = link.json()["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:8080").to_owned();
    let res = s.http.post(&path).header("origin", "http://127.0.0.1:8080").send().await;
    let cookie = res.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let me = s.http.get("/me").header("cookie", &cookie).send().await.text;
    assert!(
        me.contains("Your apps&#x27; webhooks that stopped") || me.contains("Your apps' webhooks that stopped"),
        "{me}"
    );
    assert!(me.contains("4 failed attempts in a row"), "{me}");
    let attempts = state.lock().unwrap().got.len();
    assert_eq!(attempts, 5, "four to the failing endpoint, one to the huge one");
    s.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(deliver(&s).await, 0, "a disabled webhook is not sent to");
    s.http
        .post(&format!("/api/v1/apps/{app}/webhooks/{hook}/deliveries/{}/replay", log["change_id"].as_str().unwrap()))
        .token(&token)
        .send()
        .await
        .problem(409, "WEBHOOK_DISABLED");

    // The owner fixes the endpoint and enables it: the waiting delivery goes through.
    let res = s.http.post(&format!("/api/v1/apps/{app}/webhooks/{hook}/enable")).token(&token).send().await;
    assert_eq!(res.json()["status"], "active", "{}", res.text);
    assert_eq!(deliver(&s).await, 1);
    let log = log_of().await;
    assert_eq!((log["state"].as_str(), log["last_status"].as_u64()), (Some("delivered"), Some(204)), "{log}");
    let got = state.lock().unwrap().got.clone();
    let ids: std::collections::BTreeSet<String> =
        got.iter().map(|g| g["headers"]["webhook-id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same id");
}

#[tokio::test]
async fn endpoints_on_private_addresses_are_refused_unless_allowed() {
    // The default settings: https to public addresses only.
    let s = active_dbs_check_with(
        scaffold_service::Service::new(scaffold_testkit::store().await, scaffold_testkit::clock()),
        scaffold_testkit::clock(),
    )
    .await;
    let (app, token) = verifier_app(&s, "Careful matcher").await;
    for (url, code) in [
        ("http://hooks.example/x", "INVALID_URL"),
        ("https://127.0.0.1/hook", "PRIVATE_ADDRESS"),
        ("https://10.0.0.8/hook", "PRIVATE_ADDRESS"),
        ("https://[::1]/hook", "PRIVATE_ADDRESS"),
        ("https://169.254.169.254/latest", "PRIVATE_ADDRESS"),
        ("https://localhost/hook", "PRIVATE_ADDRESS"),
    ] {
        let res = s
            .http
            .post(&format!("/api/v1/apps/{app}/webhooks"))
            .token(&token)
            .json(&json!({ "url": url, "types": ["attestation.revoked"] }))
            .send()
            .await;
        let p = res.problem(422, "VALIDATION_FAILED");
        assert_eq!(p["errors"][0]["code"], code, "{url}: {p}");
    }
    // A name that resolves inward is refused when sent to (checked after resolution, so a public
    // name pointed at a private address later is refused too); allowed, the same request arrives.
    let url = receiver(Shared::default()).await.replace("127.0.0.1", "localhost");
    let allowed = scaffold_identity::webhook_client(Duration::from_secs(2), true).unwrap();
    assert_eq!(allowed.post(&url).send().await.unwrap().status(), 204);
    let guarded = scaffold_identity::webhook_client(Duration::from_secs(2), false).unwrap();
    let err = guarded.post(&url).send().await.unwrap_err();
    let mut cause: &dyn std::error::Error = &err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    assert!(cause.to_string().contains("resolves to no public address"), "{err:?}");
}

/// The real binary is killed (SIGKILL) with deliveries queued and in flight, then started again:
/// every change reaches the receiver, each id accepted at least once (at-least-once, de-duplicated
/// on `webhook-id`), none lost.
#[tokio::test]
async fn deliveries_survive_a_kill_and_restart_of_the_binary() {
    use crate::binary::{db_and_dir, http, start_with};
    let state = Shared::default();
    let url = receiver(state.clone()).await;
    // The receiver is down at first: every attempt fails slowly, so some are in flight at the kill.
    state.lock().unwrap().answers = vec![(503, 300); 1_000];
    let env = [
        ("SCAFFOLD_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("SCAFFOLD_WEBHOOKS__TIMEOUT_SECS", "1"),
        ("SCAFFOLD_WEBHOOKS__RETRY_BASE_SECS", "1"),
    ];
    let (dir, db) = db_and_dir().await;
    let mut server = start_with(&dir, db.as_deref(), &env).await;
    let token = server.token().unwrap();
    let app = json!({ "name": "Listings mirror", "scopes": ["groups:read"] });
    let (status, app) = http(&server.addr, "POST", "/api/v1/apps", Some(&token), Some(&app)).await.unwrap();
    assert_eq!(status, 201, "{app}");
    let app = app["app"]["id"].as_str().unwrap().to_owned();
    let hook = json!({ "url": url, "types": ["group.created"] });
    let path = format!("/api/v1/apps/{app}/webhooks");
    let (status, hook) = http(&server.addr, "POST", &path, Some(&token), Some(&hook)).await.unwrap();
    assert_eq!(status, 201, "{hook}");
    let mut expected = std::collections::BTreeSet::new();
    for n in 0..12 {
        let g = crate::common::group_named(&format!("killed-{n}"), json!({}));
        let (status, g) = http(&server.addr, "POST", "/api/v1/groups", Some(&token), Some(&g)).await.unwrap();
        assert_eq!(status, 201, "{g}");
        expected.insert(g["id"].as_str().unwrap().to_owned());
    }
    // Wait for attempts to be under way, then kill -9.
    tokio::time::timeout(Duration::from_secs(30), async {
        while state.lock().unwrap().got.len() < 3 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    server.child.start_kill().unwrap();
    let _ = server.child.wait().await;
    let before = state.lock().unwrap().got.len();
    state.lock().unwrap().answers.clear();

    let server = start_with(&dir, db.as_deref(), &env).await;
    let accepted = || {
        let r = state.lock().unwrap();
        // Requests after the restart are answered 204; earlier ones were refused.
        r.got[before..]
            .iter()
            .filter_map(|g| serde_json::from_str::<Value>(g["body"].as_str().unwrap()).ok())
            .filter_map(|b| b["data"]["group"]["groupId"].as_str().map(str::to_owned))
            .collect::<std::collections::BTreeSet<_>>()
    };
    let seen = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let seen = accepted();
            if seen == expected {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(seen.ok().as_ref(), Some(&expected), "every change is delivered after the restart");
    // The receiver has them all; the log says so once each outcome is recorded.
    let log_path = format!("{path}/{}/deliveries?limit=100", hook["id"].as_str().unwrap());
    let mut states = Vec::new();
    for _ in 0..100 {
        let (_, log) = http(&server.addr, "GET", &log_path, Some(&token), None).await.unwrap();
        states = log["items"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap().to_owned()).collect();
        if states.iter().all(|s| s == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(states, vec!["delivered"; 12]);
    assert!(server.stop().await.success());
}

/// Two replicas of the binary on one database (PostgreSQL in CI's second pass, one SQLite file in
/// the first) share the queue: every change reaches the receiver exactly once.
#[tokio::test]
async fn two_replicas_deliver_each_change_once() {
    use crate::binary::{db_and_dir, http, start_with};
    let state = Shared::default();
    let url = receiver(state.clone()).await;
    let env = [("SCAFFOLD_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")];
    let (dir, db) = db_and_dir().await;
    let a = start_with(&dir, db.as_deref(), &env).await;
    let token = a.token().unwrap();
    let b = start_with(&dir, db.as_deref(), &env).await;
    let app = json!({ "name": "Listings mirror", "scopes": ["groups:read"] });
    let (_, app) = http(&a.addr, "POST", "/api/v1/apps", Some(&token), Some(&app)).await.unwrap();
    let path = format!("/api/v1/apps/{}/webhooks", app["app"]["id"].as_str().unwrap());
    let hook = json!({ "url": url, "types": ["group.created", "group.updated"] });
    let (status, hook) = http(&b.addr, "POST", &path, Some(&token), Some(&hook)).await.unwrap();
    assert_eq!(status, 201, "{hook}");
    let mut expected = std::collections::BTreeSet::new();
    for n in 0..30 {
        let at = if n % 2 == 0 { &a.addr } else { &b.addr };
        let g = crate::common::group_named(&format!("replica-{n}"), json!({}));
        let (status, g) = http(at, "POST", "/api/v1/groups", Some(&token), Some(&g)).await.unwrap();
        assert_eq!(status, 201, "{g}");
        expected.insert(g["id"].as_str().unwrap().to_owned());
    }
    let ids = || -> Vec<String> {
        state
            .lock()
            .unwrap()
            .got
            .iter()
            .filter_map(|g| serde_json::from_str::<Value>(g["body"].as_str().unwrap()).ok())
            .map(|b| b["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    tokio::time::timeout(Duration::from_secs(60), async {
        while ids().len() < expected.len() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap();
    // Both workers keep polling a while longer: nothing more may arrive.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = ids();
    let distinct: std::collections::BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!((got.len(), distinct.len()), (30, 30), "each change once, by two replicas");
    assert!(a.stop().await.success());
    assert!(b.stop().await.success());
}

#[tokio::test]
async fn an_expiry_is_announced_once_to_verifiers() {
    let s = setup().await;
    let (app, token) = verifier_app(&s, "Expiry watcher").await;
    let state = Shared::default();
    let url = receiver(state.clone()).await;
    subscribe(&s, &app, &token, json!({ "url": url, "types": ["attestation.expired", "attestation.revoked"] })).await;
    assert_eq!(s.service.announce_expiries(100).await.unwrap(), 0, "nothing has expired yet");
    s.clock.advance(chrono::Duration::days(4_000));
    assert_eq!(s.service.announce_expiries(100).await.unwrap(), 1);
    assert_eq!(s.service.announce_expiries(100).await.unwrap(), 0, "announced once");
    assert_eq!(deliver(&s).await, 1);
    let got = state.lock().unwrap().got.clone();
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "attestation.expired");
    assert_eq!(body["data"]["attestation"]["attestationId"], s.attestation.as_str());
    // Revoking it now is still told as a revocation; it is not announced as expired again.
    revoke(&s, "The role ended").await;
    assert_eq!(deliver(&s).await, 1);
    let last: Value = serde_json::from_str(state.lock().unwrap().got[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(last["type"], "attestation.revoked");
    assert_eq!(s.service.announce_expiries(100).await.unwrap(), 0);
}
