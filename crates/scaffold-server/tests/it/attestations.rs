//! Attestation documents verifiers fetch: issuer metadata with the attestation keys (created
//! once, rotated with the old key kept published) and credential type metadata.

use crate::common::app;
use scaffold_server::app::{AppOptions, router};
use scaffold_testkit::TestClient;

#[tokio::test]
async fn issuer_metadata_publishes_one_key_created_once_and_keeps_it_after_rotation() {
    let service = scaffold_service::Service::new(scaffold_testkit::store().await, scaffold_testkit::clock());
    let http = TestClient::new(router(service.clone(), &AppOptions::default()));
    let res = http.get("/.well-known/jwt-vc-issuer").send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let first = res.json();
    assert_eq!(first["issuer"], "http://127.0.0.1:8080");
    let keys = first["jwks"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("d").is_none(), "public keys only");
    assert_eq!((keys[0]["kty"].as_str(), keys[0]["crv"].as_str()), (Some("EC"), Some("P-256")));
    assert_eq!(http.get("/.well-known/jwt-vc-issuer").send().await.json(), first, "the same key every time");
    let access = http.get("/.well-known/jwks.json").send().await.json();
    assert!(!access.to_string().contains(keys[0]["kid"].as_str().unwrap()), "one key per purpose");

    let new_kid = service.rotate_attestation_key().await.unwrap();
    let after = http.get("/.well-known/jwt-vc-issuer").send().await.json();
    let kids: Vec<&str> =
        after["jwks"]["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2, "the retired key stays published: {after}");
    assert!(kids.contains(&new_kid.as_str()) && kids.contains(&keys[0]["kid"].as_str().unwrap()));
    let (active, _) = service.attestation_keys().await.unwrap();
    assert_eq!(active.kid(), new_kid);
}

#[tokio::test]
async fn every_credential_type_has_metadata_at_its_vct() {
    let app = app().await;
    for t in ["identity-verified", "dbs-check", "role-status", "qualification"] {
        let res = app.http.get(&format!("/vct/{t}/v1")).send().await;
        assert_eq!(res.status, 200, "{}", res.text);
        let doc = res.json();
        assert_eq!(doc["vct"], format!("http://127.0.0.1:8080/vct/{t}/v1"));
        assert!(!doc["claims"].as_array().unwrap().is_empty());
    }
    let dbs = app.http.get("/vct/dbs-check/v1").send().await.json();
    let claims: Vec<&str> = dbs["claims"].as_array().unwrap().iter().map(|c| c["path"][0].as_str().unwrap()).collect();
    assert!(claims.contains(&"barred_lists") && !claims.iter().any(|c| c.contains("certificate_number")));
    app.http.get("/vct/dbs-check/v2").send().await.problem(404, "TYPE_NOT_FOUND");
    app.http.get("/vct/passport/v1").send().await.problem(404, "TYPE_NOT_FOUND");
}

const ISSUER_SCOPES: &[&str] = &["groups:read", "groups:write", "attestations:issue", "profile"];

fn dbs_claims() -> serde_json::Value {
    serde_json::json!({ "level": "enhanced", "barred_lists": ["children"], "workforce": "child",
        "certificate_issued_on": "2026-01-12", "update_service": "no_new_information",
        "original_seen_on": "2026-02-03", "decision": "suitable" })
}

fn evidence() -> serde_json::Value {
    serde_json::json!({ "checked": "original DBS certificate", "method": "seen in person", "checked_on": "2026-02-03" })
}

/// Verifies a presentation as a relying party would: issuer keys from the issuer metadata and
/// the status list from its URL, both fetched from the service.
async fn verify_online(http: &TestClient, presentation: &str) -> Result<scaffold_attest::Verified, String> {
    struct Lists(std::collections::HashMap<String, String>);
    impl scaffold_attest::StatusSource for Lists {
        fn token(&self, uri: &str) -> Option<String> {
            self.0.get(uri).cloned()
        }
    }
    let meta = http.get("/.well-known/jwt-vc-issuer").send().await.json();
    let keys = meta["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| scaffold_attest::PublicKey::from_jwk(k).unwrap())
        .collect();
    let issuers = vec![scaffold_attest::TrustedIssuer { iss: meta["issuer"].as_str().unwrap().to_owned(), keys }];
    let types = vec![scaffold_attest::TypePolicy {
        vct: "http://127.0.0.1:8080/vct/dbs-check/v1".into(),
        max_age_secs: Some(90 * 86_400),
    }];
    let jwt = scaffold_attest::Parsed::parse(presentation.split('~').next().unwrap()).unwrap();
    let uri = jwt.payload["status"]["status_list"]["uri"].as_str().unwrap().to_owned();
    let res = http.get(uri.strip_prefix("http://127.0.0.1:8080").unwrap()).send().await;
    assert_eq!(res.header("content-type"), Some("application/statuslist+jwt"));
    assert_eq!(res.header("cache-control"), Some("public, max-age=300"));
    let lists = Lists(std::collections::HashMap::from([(uri, res.text.clone())]));
    let now = scaffold_domain::Clock::now(&*scaffold_testkit::clock()).timestamp();
    let policy = scaffold_attest::Policy {
        now,
        skew_secs: 60,
        issuers: &issuers,
        types: &types,
        key_binding: Some(scaffold_attest::KeyBinding { aud: "casserole-club", nonce: "n-1", max_age_secs: 300 }),
    };
    scaffold_attest::verify(presentation, &policy, &lists).map_err(|r| r.code.to_owned())
}

/// Writes what `scaffold verify` needs: the presentation, a trust list made from the issuer
/// metadata, and the current status list in a directory.
async fn offline_kit(http: &TestClient, presentation: &str) -> std::path::PathBuf {
    let dir = scaffold_testkit::temp_dir();
    std::fs::create_dir_all(dir.join("status")).unwrap();
    std::fs::write(dir.join("presentation.txt"), presentation).unwrap();
    let meta = http.get("/.well-known/jwt-vc-issuer").send().await.json();
    let trust = serde_json::json!({ "issuers": [{ "iss": meta["issuer"], "jwks": meta["jwks"] }],
        "types": [{ "vct": "http://127.0.0.1:8080/vct/dbs-check/v1", "max_age_days": 90 }] });
    std::fs::write(dir.join("trust.json"), trust.to_string()).unwrap();
    let jwt = scaffold_attest::Parsed::parse(presentation.split('~').next().unwrap()).unwrap();
    let uri = jwt.payload["status"]["status_list"]["uri"].as_str().unwrap().to_owned();
    let token = http.get(uri.strip_prefix("http://127.0.0.1:8080").unwrap()).send().await.text;
    std::fs::write(dir.join("status/list.jwt"), token).unwrap();
    dir
}

fn offline_verify(dir: &std::path::Path, now: i64) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scaffold"))
        .arg("verify")
        .arg("--presentation")
        .arg(dir.join("presentation.txt"))
        .arg("--trust")
        .arg(dir.join("trust.json"))
        .arg("--status-dir")
        .arg(dir.join("status"))
        .args(["--aud", "casserole-club", "--nonce", "n-1", "--at", &now.to_string()])
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn an_authorised_issuer_offers_a_dbs_check_the_holder_accepts_and_shares_and_revocation_stops_it() {
    use serde_json::json;
    let app = app().await;
    let ada = app.person("Ada", ISSUER_SCOPES).await;
    let bo = app.person("Bo", &["profile"]).await;
    let g = app.group(&ada.token, crate::common::group_named("wigan-checks", json!({}))).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let authorise = |token: String| {
        let http = app.http.clone();
        async move {
            http.post("/api/v1/groups/wigan-checks/issuer-types")
                .token(&token)
                .json(&json!({ "type": "dbs-check" }))
                .send()
                .await
        }
    };
    authorise(ada.token.clone()).await.problem(403, "INSUFFICIENT_SCOPE");
    authorise(app.operator.clone()).await.problem(409, "ISSUER_NOT_VERIFIED");
    let res = app
        .http
        .put(&format!("/api/v1/groups/{gid}/identifiers/GB-CHC"))
        .token(&ada.token)
        .json(&json!({ "value": "1123456" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res =
        app.http.post(&format!("/api/v1/groups/{gid}/identifiers/GB-CHC/verify")).token(&app.operator).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = authorise(app.operator.clone()).await;
    assert_eq!(res.json()["types"], json!(["dbs-check"]), "{}", res.text);
    assert_eq!(
        app.http.get("/api/v1/groups/wigan-checks/issuer-types").send().await.json()["types"],
        json!(["dbs-check"])
    );

    // Issuing: bad input gets precise errors and changes nothing.
    let issue = |token: String, body: serde_json::Value| {
        let http = app.http.clone();
        async move { http.post("/api/v1/groups/wigan-checks/attestations").token(&token).json(&body).send().await }
    };
    let offer = |claims: serde_json::Value, days: i64| json!({ "type": "dbs-check", "subject": bo.id, "claims": claims, "evidence": evidence(), "valid_days": days });
    let before = app.state().await;
    let mut with_number = dbs_claims();
    with_number["certificate_number"] = json!("001234567890");
    let p = issue(ada.token.clone(), offer(with_number, 90)).await.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "INVALID_CLAIMS", "{p}");
    assert!(!p.to_string().contains("001234567890"), "the refused value is not echoed: {p}");
    // The number typed into another field (an enumeration, a date) is not echoed either.
    for (field, value) in
        [("level", json!("001234567890")), ("issue_date", json!("001234567890")), ("barred_lists", json!(1234567890))]
    {
        let mut wrong = dbs_claims();
        wrong[field] = value;
        let p = issue(ada.token.clone(), offer(wrong, 90)).await.problem(422, "VALIDATION_FAILED");
        assert!(!p.to_string().contains("1234567890"), "{field}: {p}");
    }
    let mut body = offer(dbs_claims(), 90);
    body["type"] = json!("001234567890");
    let p = issue(ada.token.clone(), body).await.problem(422, "VALIDATION_FAILED");
    assert!(!p.to_string().contains("1234567890"), "{p}");
    let p = issue(ada.token.clone(), offer(dbs_claims(), 91)).await.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "VALIDITY_OUT_OF_RANGE");
    let mut new_info = dbs_claims();
    new_info["update_service"] = json!("new_information");
    issue(ada.token.clone(), offer(new_info, 90)).await.problem(422, "VALIDATION_FAILED");
    let role = json!({ "type": "role-status", "subject": bo.id, "claims": { "role": "volunteer", "since": "2025-01-01" }, "evidence": evidence() });
    issue(ada.token.clone(), role).await.problem(403, "ISSUER_NOT_AUTHORISED");
    let mut to_self = offer(dbs_claims(), 90);
    to_self["subject"] = json!(ada.id);
    issue(ada.token.clone(), to_self).await.problem(409, "SELF_ISSUE");
    issue(bo.token.clone(), offer(dbs_claims(), 90)).await.problem(403, "INSUFFICIENT_SCOPE");
    assert_eq!(app.state().await, before, "nothing was recorded");

    let res = issue(ada.token.clone(), offer(dbs_claims(), 90)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let offered = res.json();
    assert_eq!(offered["state"], "offered");
    let id = offered["id"].as_str().unwrap().to_owned();

    // The holder sees the offer, and accepts it with their wallet's key.
    let mine = app.http.get("/api/v1/me/attestations").token(&bo.token).send().await.json();
    assert_eq!(mine["items"][0]["claims"]["level"], "enhanced", "{mine}");
    let path = |p: &str| format!("/api/v1/me/attestations/{id}{p}");
    app.http.get(&path("/credential")).token(&bo.token).send().await.problem(409, "ATTESTATION_STATE");
    app.http.get(&path("")).token(&ada.token).send().await.problem(404, "ATTESTATION_NOT_FOUND");
    let (wallet, _) = scaffold_attest::SigningKey::generate("bo-wallet").unwrap();
    let bad =
        app.http.post(&path("/accept")).token(&bo.token).json(&json!({ "holder_jwk": { "kty": "RSA" } })).send().await;
    assert_eq!(bad.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "INVALID_HOLDER_KEY");
    // A key that is not a point on P-256 (x = 0, y = 1) could never present: refused, not signed in.
    let off_curve = json!({ "kty": "EC", "crv": "P-256", "x": "A".repeat(43), "y": format!("{}E", "A".repeat(42)) });
    let bad = app.http.post(&path("/accept")).token(&bo.token).json(&json!({ "holder_jwk": off_curve })).send().await;
    assert_eq!(bad.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "INVALID_HOLDER_KEY");
    assert_eq!(app.http.get(&path("")).token(&bo.token).send().await.json()["state"], "offered");
    let res = app
        .http
        .post(&path("/accept"))
        .token(&bo.token)
        .json(&json!({ "holder_jwk": wallet.public().to_jwk() }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (res.json()["state"].clone(), res.json()["expires_at"].clone()),
        (json!("active"), json!("2026-06-26T09:30:00Z"))
    );
    app.http.post(&path("/accept")).token(&bo.token).json(&json!({})).send().await.problem(409, "ATTESTATION_STATE");
    let res = app.http.get(&path("/credential")).token(&bo.token).send().await;
    assert_eq!(res.header("content-type"), Some("application/dc+sd-jwt"));
    let credential = res.text.clone();

    // The holder shares two claims with the matchmaker, who verifies them online.
    let now = scaffold_domain::Clock::now(&*scaffold_testkit::clock()).timestamp();
    let binding = scaffold_attest::Binding { key: &wallet, aud: "casserole-club", nonce: "n-1", iat: now };
    let shown = scaffold_attest::present(&credential, &["level", "barred_lists"], Some(&binding)).unwrap();
    let ok = verify_online(&app.http, &shown).await.unwrap();
    let seen: Vec<&str> = ok.disclosed.iter().map(String::as_str).collect();
    assert_eq!(seen, ["barred_lists", "level"]);
    assert!(ok.claims.get("decision").is_none() && ok.status_checked && ok.key_bound);

    // The issuer revokes; the same presentation now fails as revoked.
    let revoke = |token: String, reason: &str| {
        let (http, id, reason) = (app.http.clone(), id.clone(), reason.to_owned());
        async move {
            http.post(&format!("/api/v1/attestations/{id}/revoke"))
                .token(&token)
                .json(&json!({ "reason": reason }))
                .send()
                .await
        }
    };
    revoke(bo.token.clone(), "no").await.problem(403, "INSUFFICIENT_SCOPE");
    let offline = offline_kit(&app.http, &shown).await;
    assert!(offline_verify(&offline, now).0, "valid offline before revocation");
    let res = revoke(ada.token.clone(), "New information on the Update Service").await;
    assert_eq!(res.json()["state"], "revoked", "{}", res.text);
    assert_eq!(verify_online(&app.http, &shown).await.unwrap_err(), "REVOKED");
    // The offline verifier kit, with the status list refreshed, says revoked too.
    let offline = offline_kit(&app.http, &shown).await;
    let (ok, out) = offline_verify(&offline, now);
    assert!(!ok && out.contains("REVOKED"), "{out}");
    revoke(ada.token.clone(), "again").await.problem(409, "ATTESTATION_STATE");

    // The audit log says who did what, never the claims or the evidence.
    let audit = app.http.get("/api/v1/audit?limit=100").token(&app.operator).send().await.json().to_string();
    for action in ["issuer.authorise", "attestation.issue", "attestation.accept", "attestation.revoke"] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(!audit.contains("enhanced") && !audit.contains("seen in person") && !audit.contains("Update Service"));
}

#[tokio::test]
async fn holders_decline_offers_and_withdraw_credentials() {
    use serde_json::json;
    let app = app().await;
    let ada = app.person("Ada", ISSUER_SCOPES).await;
    let bo = app.person("Bo", &["profile"]).await;
    let g = app.group(&ada.token, crate::common::group_named("quals", json!({}))).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    app.http
        .put(&format!("/api/v1/groups/{gid}/identifiers/GB-COH"))
        .token(&ada.token)
        .json(&json!({ "value": "01234567" }))
        .send()
        .await;
    app.http.post(&format!("/api/v1/groups/{gid}/identifiers/GB-COH/verify")).token(&app.operator).send().await;
    let res = app
        .http
        .post("/api/v1/groups/quals/issuer-types")
        .token(&app.operator)
        .json(&json!({ "type": "qualification" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let offer = json!({ "type": "qualification", "subject": bo.id, "evidence": evidence(),
        "claims": { "title": "Level 2 Food Hygiene", "awarding_body": "Highfield", "awarded_on": "2025-11-01" } });
    let first = app.http.post("/api/v1/groups/quals/attestations").token(&ada.token).json(&offer).send().await.json();
    let second = app.http.post("/api/v1/groups/quals/attestations").token(&ada.token).json(&offer).send().await.json();
    let path = |a: &serde_json::Value, p: &str| format!("/api/v1/me/attestations/{}{p}", a["id"].as_str().unwrap());
    let declined = app.http.post(&path(&first, "/decline")).token(&bo.token).send().await.json();
    assert_eq!(declined["state"], "declined");
    app.http
        .post(&path(&first, "/accept"))
        .token(&bo.token)
        .json(&json!({}))
        .send()
        .await
        .problem(409, "ATTESTATION_STATE");
    let active = app.http.post(&path(&second, "/accept")).token(&bo.token).json(&json!({})).send().await.json();
    assert_eq!(active["state"], "active", "{active}");
    assert_eq!(active["claims"]["title"], "Level 2 Food Hygiene");
    let credential = app.http.get(&path(&second, "/credential")).token(&bo.token).send().await.text;
    let shown = scaffold_attest::present(&credential, &["title"], None).unwrap();
    let withdrawn = app
        .http
        .post(&path(&second, "/withdraw"))
        .token(&bo.token)
        .json(&json!({ "reason": "changed my mind" }))
        .send()
        .await
        .json();
    assert_eq!(withdrawn["state"], "withdrawn");
    app.http.get(&path(&second, "/credential")).token(&bo.token).send().await.problem(409, "ATTESTATION_STATE");
    // The withdrawn credential's status bit is set.
    let jwt = scaffold_attest::Parsed::parse(shown.split('~').next().unwrap()).unwrap();
    let idx = usize::try_from(jwt.payload["status"]["status_list"]["idx"].as_u64().unwrap()).unwrap();
    let uri = jwt.payload["status"]["status_list"]["uri"].as_str().unwrap();
    let token = app.http.get(uri.strip_prefix("http://127.0.0.1:8080").unwrap()).send().await.text;
    let meta = app.http.get("/.well-known/jwt-vc-issuer").send().await.json();
    let keys: Vec<_> = meta["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| scaffold_attest::PublicKey::from_jwk(k).unwrap())
        .collect();
    let now = scaffold_domain::Clock::now(&*scaffold_testkit::clock()).timestamp();
    let list = scaffold_attest::StatusToken::verify(&token, uri, &keys, now).unwrap();
    assert_eq!(list.list.get(idx), Some(true));
    app.http.get("/status-lists/99").send().await.problem(404, "STATUS_LIST_NOT_FOUND");
    // Without a verified sign-in there is no identity credential to have.
    let res = app.http.post("/api/v1/me/attestations/identity-verified").token(&bo.token).json(&json!({})).send().await;
    res.problem(409, "NO_VERIFIED_IDENTITY");
    let p = app
        .http
        .post("/api/v1/groups/quals/issuer-types")
        .token(&app.operator)
        .json(&json!({ "type": "identity-verified" }))
        .send()
        .await;
    assert_eq!(p.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "NOT_ISSUED_BY_ORGANISATIONS");
    app.http.get("/status-lists/x").send().await.problem(404, "STATUS_LIST_NOT_FOUND");
    let mine = app.http.get("/api/v1/me/attestations").token(&bo.token).send().await.json();
    let states: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|a| a["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["withdrawn", "declined"], "newest first");
    let gql = app.gql(Some(&bo.token), "{ viewer { attestations { type state claims } } }", json!({})).await.json();
    let list = gql["data"]["viewer"]["attestations"].as_array().unwrap();
    assert_eq!(
        (list.len(), list[0]["type"].as_str(), list[0]["claims"]["title"].as_str()),
        (2, Some("qualification"), Some("Level 2 Food Hygiene")),
        "{gql}"
    );
}

pub(crate) struct Setup {
    pub(crate) http: TestClient,
    pub(crate) service: scaffold_service::Service,
    pub(crate) operator: String,
    pub(crate) clock: std::sync::Arc<scaffold_domain::FixedClock>,
    pub(crate) ada: String,
    pub(crate) bo: String,
    pub(crate) attestation: String,
}

/// Ada's verified group offers Bo a DBS check, which Bo accepts (no holder key: for sharing by code).
async fn active_dbs_check() -> Setup {
    active_dbs_check_on(scaffold_testkit::store().await).await
}

async fn active_dbs_check_on(store: std::sync::Arc<dyn scaffold_store::Store>) -> Setup {
    let clock = scaffold_testkit::clock();
    active_dbs_check_with(scaffold_service::Service::new(store, clock.clone()), clock).await
}

/// The same, on a service built by the caller (with its clock).
pub(crate) async fn active_dbs_check_with(
    service: scaffold_service::Service,
    clock: std::sync::Arc<scaffold_domain::FixedClock>,
) -> Setup {
    use serde_json::json;
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let http = TestClient::new(router(service.clone(), &AppOptions::default()));
    let person = |name: &str, scopes: &[&str]| {
        let (http, operator) = (http.clone(), operator.clone());
        let body = json!({ "display_name": name, "scopes": scopes });
        async move {
            let p = http.post("/api/v1/people").token(&operator).json(&body).send().await.json();
            (p["id"].as_str().unwrap().to_owned(), p["api_key"]["token"].as_str().unwrap().to_owned())
        }
    };
    let (_, ada) = person("Ada", ISSUER_SCOPES).await;
    let (bo_id, bo) = person("Bo", &["profile"]).await;
    let g = http
        .post("/api/v1/groups")
        .token(&ada)
        .json(&crate::common::group_named("checks", json!({})))
        .send()
        .await
        .json();
    let gid = g["id"].as_str().unwrap();
    http.put(&format!("/api/v1/groups/{gid}/identifiers/GB-CHC"))
        .token(&ada)
        .json(&json!({ "value": "1123456" }))
        .send()
        .await;
    http.post(&format!("/api/v1/groups/{gid}/identifiers/GB-CHC/verify")).token(&operator).send().await;
    http.post("/api/v1/groups/checks/issuer-types").token(&operator).json(&json!({ "type": "dbs-check" })).send().await;
    let offer = json!({ "type": "dbs-check", "subject": bo_id, "claims": dbs_claims(), "evidence": evidence() });
    let a = http.post("/api/v1/groups/checks/attestations").token(&ada).json(&offer).send().await.json();
    let attestation = a["id"].as_str().unwrap().to_owned();
    let res =
        http.post(&format!("/api/v1/me/attestations/{attestation}/accept")).token(&bo).json(&json!({})).send().await;
    assert_eq!(res.json()["state"], "active", "{}", res.text);
    Setup { http, service, operator, clock, ada, bo, attestation }
}

/// A verifier app with `attestations:verify` (approved by the operator) and its access token.
pub(crate) async fn verifier_app(s: &Setup, name: &str) -> (String, String) {
    use base64::Engine;
    use serde_json::json;
    let owner = s
        .http
        .post("/api/v1/people")
        .token(&s.operator)
        .json(&json!({ "display_name": format!("{name} owner"), "scopes": ["profile", "attestations:verify"] }))
        .send()
        .await
        .json();
    let owner_token = owner["api_key"]["token"].as_str().unwrap().to_owned();
    let res = s
        .http
        .post("/api/v1/apps")
        .token(&owner_token)
        .json(&json!({ "name": name, "scopes": ["attestations:verify"] }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let b = res.json();
    let (id, client, secret) = (
        b["app"]["id"].as_str().unwrap().to_owned(),
        b["app"]["client_id"].as_str().unwrap(),
        b["client_secret"].as_str().unwrap(),
    );
    let res = s
        .http
        .post(&format!("/api/v1/apps/{id}/approve"))
        .token(&s.operator)
        .json(&json!({ "scopes": ["attestations:verify"] }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"));
    let res = s
        .http
        .post("/oauth/token")
        .header("authorization", &format!("Basic {basic}"))
        .body("application/x-www-form-urlencoded", b"grant_type=client_credentials".to_vec())
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    (id, res.json()["access_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_verifier_app_redeems_a_share_code_and_sees_only_the_shared_claims() {
    use serde_json::json;
    let s = active_dbs_check().await;
    let (matcher_id, matcher) = verifier_app(&s, "Casserole matcher").await;
    let (_, stranger) = verifier_app(&s, "Someone else").await;
    let shares = format!("/api/v1/me/attestations/{}/shares", s.attestation);
    let create = |body: serde_json::Value| {
        let (http, bo, shares) = (s.http.clone(), s.bo.clone(), shares.clone());
        async move { http.post(&shares).token(&bo).json(&body).send().await }
    };
    let p = create(json!({ "claims": ["level", "passport"], "expires_in_days": 31 }))
        .await
        .problem(422, "VALIDATION_FAILED");
    let codes: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["UNKNOWN_CLAIM", "OUT_OF_RANGE"], "{p}");
    create(json!({ "claims": ["level"], "verifier_app": uuid::Uuid::nil() })).await.problem(404, "APP_NOT_FOUND");
    let res = create(json!({ "claims": ["level", "barred_lists"], "verifier_app": matcher_id, "max_uses": 1 })).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let code = res.json()["code"].as_str().unwrap().to_owned();
    assert!(code.len() == 12 && !code.contains(['0', 'O', '1', 'I', 'L', 'U']), "{code}");

    let redeem = |token: String, code: String| {
        let http = s.http.clone();
        async move { http.post("/api/v1/shares/redeem").token(&token).json(&json!({ "code": code })).send().await }
    };
    redeem(s.bo.clone(), code.clone()).await.problem(403, "INSUFFICIENT_SCOPE");
    redeem(stranger.clone(), code.clone()).await.problem(404, "SHARE_NOT_FOUND");
    redeem(matcher.clone(), "AAAA-BBBB-CC".into()).await.problem(404, "SHARE_NOT_FOUND");
    holder_sees(&s, &shares, "SHARE_NOT_FOR_YOU").await;
    let res = redeem(matcher.clone(), code.to_lowercase().replace('-', " ")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(body["claims"], json!({ "level": "enhanced", "barred_lists": ["children"] }), "only the shared claims");
    assert_eq!(body["type"], "dbs-check");
    // The signed result verifies with the issuer's published key and is addressed to the app.
    let meta = s.http.get("/.well-known/jwt-vc-issuer").send().await.json();
    let key = scaffold_attest::PublicKey::from_jwk(&meta["jwks"]["keys"][0]).unwrap();
    let signed = scaffold_attest::Parsed::parse(body["signed_result"].as_str().unwrap()).unwrap();
    assert!(signed.verifies_with(&key));
    assert_eq!(signed.typ(), Some("verification-result+jwt"));
    assert_eq!(signed.payload["aud"], format!("app:{matcher_id}"));
    assert_eq!(signed.payload["claims"], body["claims"]);
    redeem(matcher.clone(), code.clone()).await.problem(409, "SHARE_USED_UP");

    // The holder sees every attempt; the audit log has no claim values.
    let list = s.http.get(&shares).token(&s.bo).send().await.json();
    let results: Vec<&str> =
        list["items"][0]["redemptions"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["SHARE_USED_UP", "valid", "SHARE_NOT_FOR_YOU"], "{list}");
    assert_eq!(list["items"][0]["uses"], 1);
    let audit = s.http.get("/api/v1/audit?limit=100").token(&s.operator).send().await.json().to_string();
    assert!(audit.contains("share.redeem") && audit.contains("share.create") && !audit.contains("enhanced"));

    // Revocation: a fresh share of the revoked credential fails as revoked.
    let fresh =
        create(json!({ "claims": ["decision"], "max_uses": 5 })).await.json()["code"].as_str().unwrap().to_owned();
    let res = s
        .http
        .post(&format!("/api/v1/attestations/{}/revoke", s.attestation))
        .token(&s.ada)
        .json(&json!({ "reason": "New information" }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    redeem(matcher.clone(), fresh).await.problem(409, "ATTESTATION_REVOKED");
}

/// Waits until the holder's list of a share's redemptions shows `result` (attempts by another
/// verifier are recorded after the answer).
async fn holder_sees(s: &Setup, shares: &str, result: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let list = s.http.get(shares).token(&s.bo).send().await.json();
        if list.to_string().contains(result) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the holder never saw {result}: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A code made for another verifier is answered exactly as an unknown code: the same store
/// calls before the answer, and the answer does not wait for the holder's log to be written.
#[tokio::test]
async fn a_code_for_another_verifier_costs_the_same_as_an_unknown_code() {
    use serde_json::json;
    let store = scaffold_testkit::counting_store(scaffold_testkit::store().await);
    let s = active_dbs_check_on(store.clone()).await;
    let (matcher_id, _) = verifier_app(&s, "Casserole matcher").await;
    let (_, stranger) = verifier_app(&s, "Someone else").await;
    let shares = format!("/api/v1/me/attestations/{}/shares", s.attestation);
    let body = json!({ "claims": ["level"], "verifier_app": matcher_id });
    let code = s.http.post(&shares).token(&s.bo).json(&body).send().await.json()["code"].as_str().unwrap().to_owned();
    let redeem = |code: &str| {
        let (http, token, body) = (s.http.clone(), stranger.clone(), json!({ "code": code }));
        async move { http.post("/api/v1/shares/redeem").token(&token).json(&body).send().await }
    };
    // The holder's log is held shut: the answer must not need it. (A first attempt settles the
    // general rate limiter's counting, which is the same for both after it.)
    redeem("AAAA-BBBB-CC").await.problem(404, "SHARE_NOT_FOUND");
    store.hold("redeem_share");
    store.reset();
    let other = tokio::time::timeout(std::time::Duration::from_secs(30), redeem(&code))
        .await
        .expect("answered without waiting for the log");
    let calls = || {
        let mut c = store.calls();
        let _ = c.remove("redeem_share"); // the log write, whenever the background task reaches it
        // The rate limiter's shared counters are flushed in batches, whenever a batch is due:
        // the same for both answers, but not always inside the same window of a busy run.
        let _ = c.remove("add_rate_limit_hits");
        c
    };
    let before_other = calls();
    store.reset();
    let unknown = redeem("AAAA-BBBB-CC").await;
    assert_eq!(before_other, calls(), "the same store calls for both");
    let (a, b) = (other.problem(404, "SHARE_NOT_FOUND"), unknown.problem(404, "SHARE_NOT_FOUND"));
    assert_eq!(a, b, "the same answer");
    store.release("redeem_share");
    holder_sees(&s, &shares, "SHARE_NOT_FOR_YOU").await;
}

#[tokio::test]
async fn withdrawn_and_expired_shares_fail_with_their_own_codes() {
    use serde_json::json;
    let s = active_dbs_check().await;
    let (_, matcher) = verifier_app(&s, "Matcher").await;
    let shares = format!("/api/v1/me/attestations/{}/shares", s.attestation);
    let a = s
        .http
        .post(&shares)
        .token(&s.bo)
        .json(&json!({ "claims": ["level"], "expires_in_days": 1 }))
        .send()
        .await
        .json();
    let b = s.http.post(&shares).token(&s.bo).json(&json!({ "claims": ["level"] })).send().await.json();
    let withdraw = format!("{shares}/{}/withdraw", b["share"]["id"].as_str().unwrap());
    assert_eq!(s.http.post(&withdraw).token(&s.bo).send().await.status, 204);
    s.http.post(&withdraw).token(&s.bo).send().await.problem(409, "SHARE_WITHDRAWN");
    let redeem = |token: &str, code: &serde_json::Value| {
        let (http, token, code) = (s.http.clone(), token.to_owned(), code.as_str().unwrap().to_owned());
        async move { http.post("/api/v1/shares/redeem").token(&token).json(&json!({ "code": code })).send().await }
    };
    redeem(&matcher, &b["code"]).await.problem(409, "SHARE_WITHDRAWN");
    s.clock.advance(chrono::Duration::days(2));
    // (Access tokens last minutes: a new one after two days.)
    let (_, matcher) = verifier_app(&s, "Matcher, two days on").await;
    redeem(&matcher, &a["code"]).await.problem(409, "SHARE_EXPIRED");
    // Too many codes tried in a minute.
    let mut last = None;
    for _ in 0..30 {
        last = Some(
            s.http.post("/api/v1/shares/redeem").token(&matcher).json(&json!({ "code": "AAAA-BBBB-CC" })).send().await,
        );
    }
    let last = last.unwrap();
    last.problem(429, "RATE_LIMITED");
    // The headers describe this limit (30 codes a minute), not the general one.
    assert_eq!((last.header("ratelimit-limit"), last.header("ratelimit-remaining")), (Some("30"), Some("0")));
    let retry: i64 = last.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(last.header("ratelimit-reset"), last.header("retry-after"));
}
