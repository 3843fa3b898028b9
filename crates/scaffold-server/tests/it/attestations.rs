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
