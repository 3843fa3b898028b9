//! Two instances of the real binary on loopback federate: each adds the other as a peer, their
//! public sessions are mirrored both ways with their origin, an edit and a deletion on one side
//! reach the other after a sync, a credential issued by one is verified by a verifier of the
//! other (only for the types it trusts), revocation on the issuing side is seen once the status
//! list's `ttl` has passed, and removing the peer ends the trust and the mirror at once.

use crate::binary::{Server, db_and_dir, start_at};
use scaffold_attest::{Binding, SigningKey, present};
use serde_json::{Value, json};
use std::time::Duration;

struct Instance {
    server: Server,
    dir: std::path::PathBuf,
    db: Option<String>,
    base: String,
    operator: String,
    http: reqwest::Client,
}

impl Instance {
    async fn start(name: &str, ttl: &str) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let (dir, db) = db_and_dir().await;
        let listen = format!("127.0.0.1:{port}");
        let server = start_at(
            &dir,
            db.as_deref(),
            &listen,
            &[
                ("SCAFFOLD_IDENTITY__PUBLIC_URL", base.as_str()),
                ("SCAFFOLD_IDENTITY__STATUS_LIST_TTL_SECS", ttl),
                ("SCAFFOLD_SITE__PUBLISHER_NAME", name),
            ],
        )
        .await;
        let operator = server.token().expect("a first run prints the operator's token");
        Instance {
            server,
            dir,
            db,
            base,
            operator,
            http: scaffold_identity::fetch_client(0, Duration::from_secs(60)).unwrap(),
        }
    }

    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        self.call_if(method, path, token, body, "\"1\"").await
    }

    /// With this `If-Match` on PUT and DELETE.
    async fn call_if(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        version: &str,
    ) -> (u16, Value) {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        if method == "PUT" || method == "DELETE" {
            req = req.header("if-match", version);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn ok(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, token, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    async fn person(&self, name: &str, scopes: &[&str]) -> (String, String) {
        let p = self
            .ok("POST", "/api/v1/people", Some(&self.operator), Some(json!({ "display_name": name, "scopes": scopes })))
            .await;
        (p["id"].as_str().unwrap().to_owned(), p["api_key"]["token"].as_str().unwrap().to_owned())
    }

    /// A public group with a weekly session that names an OpenActive activity.
    async fn session(&self, token: &str, slug: &str, title: &str, activity: &str) -> String {
        self.ok(
            "POST",
            "/api/v1/groups",
            Some(token),
            Some(json!({ "slug": slug, "name": format!("{title} club"), "summary": "Weekly, all welcome" })),
        )
        .await;
        let e =
            self.ok("POST", &format!("/api/v1/groups/{slug}/events"), Some(token), Some(event(title, activity))).await;
        e["id"].as_str().unwrap().to_owned()
    }

    /// Reads the peer's mirrors (its sessions, its directory) now; the sessions' health.
    async fn sync_peer(&self, peer: &Value) -> Value {
        let mut health = Vec::new();
        for source in peer["sources"].as_array().unwrap() {
            let path = format!("/api/v1/sources/{}/sync", source.as_str().unwrap());
            health.push(self.ok("POST", &path, Some(&self.operator), None).await["health"].clone());
        }
        health.swap_remove(0)
    }

    /// The groups mirrored from a peer's directory, by name, with the origin each shows.
    async fn entries(&self) -> Vec<(String, String)> {
        let groups = self.ok("GET", "/api/v1/groups?q=club", None, None).await;
        groups["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| !g["origin"].is_null())
            .map(|g| (g["name"].as_str().unwrap().to_owned(), g["origin"]["source_name"].as_str().unwrap().to_owned()))
            .collect()
    }

    /// The titles of the sessions mirrored from a peer, with the origin each shows.
    async fn mirrored(&self, peer: &Value) -> Vec<(String, String)> {
        let source = peer["sources"][0].as_str().unwrap();
        let s = self.ok("GET", &format!("/api/v1/sources/{source}"), Some(&self.operator), None).await;
        let group = s["listed_under"].as_str().unwrap();
        let events = self.ok("GET", &format!("/api/v1/groups/{group}/events"), None, None).await;
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["title"].as_str().unwrap().to_owned(), e["origin"]["source_name"].as_str().unwrap().to_owned()))
            .collect()
    }
}

fn event(title: &str, activity: &str) -> Value {
    json!({ "title": title, "summary": "All welcome", "start": "2027-01-05T10:00", "end": "2027-01-05T11:00",
        "rrule": "FREQ=WEEKLY;BYDAY=TU", "exdates": ["2027-01-12T10:00"], "activities": [activity],
        "place": { "name": "Mesnes Park", "postcode": "WN1 1RG" } })
}

#[tokio::test]
async fn two_instances_mirror_each_others_sessions_and_verify_each_others_credentials() {
    let wigan = Instance::start("Wigan Scaffold", "2").await;
    let leigh = Instance::start("Leigh Scaffold", "300").await;

    // Each runs a session of its own.
    let (_, ada) = wigan
        .person("Ada", &["groups:read", "groups:write", "events:read", "events:write", "attestations:issue", "profile"])
        .await;
    let walk = wigan.session(&ada, "wigan-walkers", "Health walk", "Walking").await;
    let (_, cy) = leigh.person("Cy", &["groups:read", "groups:write", "events:read", "events:write"]).await;
    leigh.session(&cy, "leigh-swimmers", "Morning swim", "Swimming").await;

    // A credential from Wigan: a DBS check for Bo, bound to Bo's wallet key.
    let (bo_id, bo) = wigan.person("Bo", &["profile"]).await;
    let g = wigan.ok("GET", "/api/v1/groups/wigan-walkers", None, None).await;
    let gid = g["id"].as_str().unwrap();
    wigan
        .ok("PUT", &format!("/api/v1/groups/{gid}/identifiers/GB-CHC"), Some(&ada), Some(json!({ "value": "1123456" })))
        .await;
    wigan.ok("POST", &format!("/api/v1/groups/{gid}/identifiers/GB-CHC/verify"), Some(&wigan.operator), None).await;
    wigan
        .ok(
            "POST",
            "/api/v1/groups/wigan-walkers/issuer-types",
            Some(&wigan.operator),
            Some(json!({ "type": "dbs-check" })),
        )
        .await;
    let claims = json!({ "level": "enhanced", "barred_lists": ["children"], "workforce": "child",
        "certificate_issued_on": "2026-01-12", "update_service": "no_new_information",
        "original_seen_on": "2026-02-03", "decision": "suitable" });
    let evidence =
        json!({ "checked": "original DBS certificate", "method": "seen in person", "checked_on": "2026-02-03" });
    let offer = wigan
        .ok(
            "POST",
            "/api/v1/groups/wigan-walkers/attestations",
            Some(&ada),
            Some(json!({ "type": "dbs-check", "subject": bo_id, "claims": claims, "evidence": evidence })),
        )
        .await;
    let attestation = offer["id"].as_str().unwrap().to_owned();
    let (wallet, _) = SigningKey::generate("bo-wallet").unwrap();
    wigan
        .ok(
            "POST",
            &format!("/api/v1/me/attestations/{attestation}/accept"),
            Some(&bo),
            Some(json!({ "holder_jwk": wallet.public().to_jwk() })),
        )
        .await;
    let (_, credential) =
        wigan.call("GET", &format!("/api/v1/me/attestations/{attestation}/credential"), Some(&bo), None).await;
    let credential = credential.as_str().unwrap().to_owned();
    let now = scaffold_domain::Clock::now(&scaffold_domain::SystemClock).timestamp();
    let binding = Binding { key: &wallet, aud: "casserole-matcher", nonce: "n-1", iat: now };
    let shown = present(&credential, &["level", "decision"], Some(&binding)).unwrap();
    let (_, verifier) = leigh.person("Casserole matcher", &["attestations:verify"]).await;
    let verify = |body: Value| {
        let leigh = &leigh;
        let verifier = verifier.clone();
        async move { leigh.call("POST", "/api/v1/presentations/verify", Some(&verifier), Some(body)).await }
    };
    let presented = json!({ "presentation": shown, "audience": "casserole-matcher", "nonce": "n-1" });
    let (status, res) = verify(presented.clone()).await;
    assert_eq!((status, res["code"].as_str()), (422, Some("PRESENTATION_INVALID")), "not trusted yet: {res}");
    assert!(res["detail"].as_str().unwrap().contains("UNTRUSTED_ISSUER"), "{res}");

    // Leigh adds Wigan, trusting its DBS checks; Wigan adds Leigh for its listings only.
    let bad = leigh
        .call(
            "POST",
            "/api/v1/peers",
            Some(&leigh.operator),
            Some(json!({ "base_url": wigan.base, "trust": ["passport"] })),
        )
        .await;
    assert_eq!(bad.0, 422, "{}", bad.1);
    let plain = leigh
        .call("POST", "/api/v1/peers", Some(&leigh.operator), Some(json!({ "base_url": "http://wigan.example" })))
        .await;
    assert_eq!(
        (plain.0, plain.1["errors"][0]["code"].as_str()),
        (422, Some("INVALID_URL")),
        "keys over https only: {}",
        plain.1
    );
    let unreachable = leigh
        .call("POST", "/api/v1/peers", Some(&leigh.operator), Some(json!({ "base_url": "http://127.0.0.1:9" })))
        .await;
    assert_eq!(
        (unreachable.0, unreachable.1["errors"][0]["code"].as_str()),
        (422, Some("PEER_UNREACHABLE")),
        "{}",
        unreachable.1
    );
    let wigan_at_leigh = leigh
        .ok(
            "POST",
            "/api/v1/peers",
            Some(&leigh.operator),
            Some(json!({ "base_url": wigan.base, "trust": ["dbs-check"] })),
        )
        .await;
    assert_eq!(wigan_at_leigh["name"], "Wigan Scaffold", "named after the peer's dataset: {wigan_at_leigh}");
    let leigh_at_wigan =
        wigan.ok("POST", "/api/v1/peers", Some(&wigan.operator), Some(json!({ "base_url": leigh.base }))).await;

    // Listings both ways, with their origin.
    let h = leigh.sync_peer(&wigan_at_leigh).await;
    assert_eq!(h["outcome"], "ok", "{h}");
    assert_eq!(leigh.mirrored(&wigan_at_leigh).await, [("Health walk".to_owned(), "Wigan Scaffold".to_owned())]);
    assert_eq!(wigan_at_leigh["sources"].as_array().unwrap().len(), 2, "its sessions and its directory");
    assert_eq!(
        leigh.entries().await,
        [("Health walk club".to_owned(), "Wigan Scaffold".to_owned())],
        "its groups, from /oruk"
    );
    wigan.sync_peer(&leigh_at_wigan).await;
    assert_eq!(wigan.mirrored(&leigh_at_wigan).await, [("Morning swim".to_owned(), "Leigh Scaffold".to_owned())]);
    let found = leigh
        .ok(
            "GET",
            "/api/v1/events?outcode=WN1&radius_km=5&from=2027-01-01T00:00:00Z&to=2027-01-20T00:00:00Z",
            None,
            None,
        )
        .await;
    assert!(found.to_string().contains("Health walk"), "found in Leigh's search: {found}");
    // Nothing echoes back: Wigan's mirror of Leigh holds only Leigh's own session.
    wigan.sync_peer(&leigh_at_wigan).await;
    assert_eq!(wigan.mirrored(&leigh_at_wigan).await.len(), 1);

    // An edit and a deletion at Wigan reach Leigh after a sync.
    let mut changed = event("Health walk (longer route)", "Walking");
    changed["exdates"] = json!([]);
    wigan.ok("PUT", &format!("/api/v1/events/{walk}"), Some(&ada), Some(changed)).await;
    leigh.sync_peer(&wigan_at_leigh).await;
    assert_eq!(leigh.mirrored(&wigan_at_leigh).await[0].0, "Health walk (longer route)");

    // Leigh's verifier checks Bo's credential from Wigan.
    let (status, res) = verify(presented.clone()).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!((res["type"].as_str(), res["issuer"].as_str()), (Some("dbs-check"), Some(wigan.base.as_str())));
    assert_eq!(res["claims"], json!({ "level": "enhanced", "decision": "suitable" }), "only what Bo showed");
    assert_eq!(res["status_checked"], true);
    let (status, res) = verify(json!({ "presentation": shown, "audience": "someone-else", "nonce": "n-1" })).await;
    assert!(status == 422 && res["detail"].as_str().unwrap().contains("KB_WRONG_AUD"), "{res}");
    // The trust list for offline verifiers names both instances.
    let trust = leigh.ok("GET", "/api/v1/trust-list", None, None).await;
    let issuers: Vec<&str> = trust["issuers"].as_array().unwrap().iter().map(|i| i["iss"].as_str().unwrap()).collect();
    assert_eq!(issuers, [leigh.base.as_str(), wigan.base.as_str()]);
    let mut export = std::process::Command::new(env!("CARGO_BIN_EXE_scaffold"));
    export.current_dir(&leigh.dir).env_remove("DATABASE_URL").env("SCAFFOLD_IDENTITY__PUBLIC_URL", &leigh.base);
    if let Some(url) = &leigh.db {
        export.env("DATABASE_URL", url);
    }
    let out = export.args(["verify", "--export-trust-list"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported, trust, "the command line exports the same trust list");

    // Wigan rotates its attestation key: Leigh trusts the new one after its next sync.
    let mut rotate = std::process::Command::new(env!("CARGO_BIN_EXE_scaffold"));
    rotate.current_dir(&wigan.dir).env_remove("DATABASE_URL");
    if let Some(url) = &wigan.db {
        rotate.env("DATABASE_URL", url);
    }
    let out = rotate.args(["keys", "rotate", "--purpose", "attestation"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let keys = |t: &Value| t["issuers"][1]["jwks"]["keys"].as_array().map(Vec::len);
    assert_eq!(keys(&leigh.ok("GET", "/api/v1/trust-list", None, None).await), Some(1));
    leigh.sync_peer(&wigan_at_leigh).await;
    assert_eq!(keys(&leigh.ok("GET", "/api/v1/trust-list", None, None).await), Some(2), "the old and the new key");

    // Revoked at Wigan: Leigh sees it once the status list's ttl (2 s here) has passed.
    wigan
        .ok(
            "POST",
            &format!("/api/v1/attestations/{attestation}/revoke"),
            Some(&ada),
            Some(json!({ "reason": "New information" })),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (status, res) = verify(presented.clone()).await;
    assert!(status == 422 && res["detail"].as_str().unwrap().contains("REVOKED"), "{res}");

    let (status, _) = wigan.call_if("DELETE", &format!("/api/v1/events/{walk}"), Some(&ada), None, "\"2\"").await;
    assert_eq!(status, 204);
    leigh.sync_peer(&wigan_at_leigh).await;
    assert!(leigh.mirrored(&wigan_at_leigh).await.is_empty(), "the deletion reached Leigh");

    // Removing the peer ends the trust and the mirror at once.
    let id = wigan_at_leigh["id"].as_str().unwrap();
    leigh.ok("DELETE", &format!("/api/v1/peers/{id}"), Some(&leigh.operator), None).await;
    let (status, res) = verify(presented).await;
    assert!(status == 422 && res["detail"].as_str().unwrap().contains("UNTRUSTED_ISSUER"), "{res}");
    let source = wigan_at_leigh["sources"][0].as_str().unwrap();
    assert_eq!(leigh.call("GET", &format!("/api/v1/sources/{source}"), Some(&leigh.operator), None).await.0, 404);
    assert!(leigh.entries().await.is_empty(), "its directory entries went with it");
    assert!(wigan.server.stop().await.success());
    assert!(leigh.server.stop().await.success());
}
