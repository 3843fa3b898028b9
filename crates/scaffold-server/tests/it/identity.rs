//! Sign-in against a real OpenID Provider (npm `oidc-provider` 9.13.3, started from
//! `tests/oidc`), apps and the client credentials grant, access tokens, rate limits and account
//! deletion, on the store `SCAFFOLD_TEST_STORE` selects. Services here run on the system clock:
//! the provider's tokens carry real times.

use scaffold_domain::SystemClock;
use scaffold_domain::identity::AssuranceLevel;
use scaffold_identity::{AssuranceRule, ClientAuth, ProviderConfig};
use scaffold_server::app::{AppOptions, router};
use scaffold_service::Service;
use scaffold_service::identity::{IdentityConfig, RateLimits};
use scaffold_testkit::{TestClient, TestResponse};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PUBLIC_URL: &str = "http://127.0.0.1:18080";
const ACCOUNT: &str = "user-123";

fn oidc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc")
}

/// A running provider; killed on drop.
pub struct Op {
    pub issuer: String,
    _child: Child,
    _dir: PathBuf,
}

async fn keygen(kind: &str) -> Value {
    let out = Command::new("node").arg(oidc_dir().join("keygen.mjs")).arg(kind).output().await.unwrap();
    assert!(out.status.success(), "keygen failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn callback(name: &str) -> String {
    format!("{PUBLIC_URL}/auth/callback/{name}")
}

/// Starts the provider with clients for `client_secret_basic` (redirecting to our provider
/// `basic_name`) and `private_key_jwt` (RSA and EC).
async fn start_op(rsa: &Value, ec: &Value, basic_name: &str) -> Op {
    assert!(
        oidc_dir().join("node_modules/oidc-provider").exists(),
        "run `npm ci` in tests/oidc first (scripts/test does)"
    );
    let dir = scaffold_testkit::temp_dir();
    let client = |id: &str, name: &str| json!({ "client_id": id, "redirect_uris": [callback(name)], "post_logout_redirect_uris": [format!("{PUBLIC_URL}/")] });
    let mut basic = client("rp-basic", basic_name);
    basic["client_secret"] = json!("basic-secret-for-tests-only");
    basic["token_endpoint_auth_method"] = json!("client_secret_basic");
    let mut jwt_rsa = client("rp-jwt-rsa", "jwt-rsa");
    jwt_rsa["token_endpoint_auth_method"] = json!("private_key_jwt");
    jwt_rsa["jwks"] = json!({ "keys": [rsa["jwk"]] });
    let mut jwt_ec = client("rp-jwt-ec", "jwt-ec");
    jwt_ec["token_endpoint_auth_method"] = json!("private_key_jwt");
    jwt_ec["jwks"] = json!({ "keys": [ec["jwk"]] });
    let api = json!({ "client_id": "api-client", "client_secret": "api-secret-for-tests-only",
        "token_endpoint_auth_method": "client_secret_basic", "grant_types": ["client_credentials"],
        "redirect_uris": [], "response_types": [] });
    let config = json!({
        "port": 0,
        "clients": [basic, jwt_rsa, jwt_ec, api],
        "account": { "sub": ACCOUNT },
        "resource": { "audience": format!("{PUBLIC_URL}/api"), "scope": "groups:read groups:write profile attestations:hold" },
    });
    let path = dir.join("op.json");
    std::fs::write(&path, config.to_string()).unwrap();
    // The provider normally says `ready` within a second; on a loaded machine a start has been
    // seen to stall, so a stalled start is killed and tried once more, and a failure reports the
    // provider's own stderr.
    for attempt in 1..=2 {
        let stderr_path = dir.join(format!("op-{attempt}.stderr"));
        let mut child = Command::new("node")
            .arg(oidc_dir().join("provider.mjs"))
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        match tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                let issuer = line.strip_prefix("ready ").unwrap().to_owned();
                // Keep reading: the provider logs to stdout, and a closed pipe would stop it.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return Op { issuer, _child: child, _dir: dir };
            }
            outcome => {
                let _ = child.kill().await;
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                eprintln!("provider start {attempt} failed ({outcome:?}); its stderr:\n{stderr}");
            }
        }
    }
    panic!("the OpenID Provider did not start (see its stderr above)");
}

fn provider(op: &Op, name: &str, client_id: &str, auth: ClientAuth) -> ProviderConfig {
    ProviderConfig {
        name: name.to_owned(),
        display_name: name.to_owned(),
        issuer: op.issuer.clone(),
        client_id: client_id.to_owned(),
        client_auth: auth,
        scopes: Vec::new(),
        algorithms: vec!["ES256".to_owned()],
        auth_params: vec![("vtr".to_owned(), r#"["Cl.Cm.P2"]"#.to_owned())],
        assurance: vec![AssuranceRule {
            claim: "vot".to_owned(),
            value: "P2".to_owned(),
            level: AssuranceLevel::Medium,
        }],
        default_assurance: AssuranceLevel::Low,
        access_token_audience: Some(format!("{PUBLIC_URL}/api")),
    }
}

pub struct IdApp {
    pub http: TestClient,
    pub service: Service,
    pub store: Arc<dyn scaffold_store::Store>,
    pub op: Op,
    pub operator: String,
}

async fn id_app_with(limits: RateLimits) -> IdApp {
    let (rsa, ec) = (keygen("rsa").await, keygen("ec").await);
    let op = start_op(&rsa, &ec, "test").await;
    let providers = vec![
        provider(
            &op,
            "test",
            "rp-basic",
            ClientAuth::ClientSecretBasic { secret: "basic-secret-for-tests-only".into() },
        ),
        provider(
            &op,
            "jwt-rsa",
            "rp-jwt-rsa",
            ClientAuth::PrivateKeyJwt {
                private_key_pem: rsa["pem"].as_str().unwrap().to_owned(),
                kid: rsa["jwk"]["kid"].as_str().map(str::to_owned),
                audience_is_issuer: false,
            },
        ),
        provider(
            &op,
            "jwt-ec",
            "rp-jwt-ec",
            ClientAuth::PrivateKeyJwt {
                private_key_pem: ec["pem"].as_str().unwrap().to_owned(),
                kid: ec["jwk"]["kid"].as_str().map(str::to_owned),
                audience_is_issuer: true,
            },
        ),
    ];
    let config = IdentityConfig {
        public_url: PUBLIC_URL.to_owned(),
        providers,
        rate_limits: limits,
        ..IdentityConfig::default()
    };
    let store = scaffold_testkit::store().await;
    let service = Service::with_identity(store.clone(), Arc::new(SystemClock), config).unwrap();
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    IdApp { http: TestClient::new(router(service.clone(), &AppOptions::default())), service, store, op, operator }
}

pub(crate) async fn id_app() -> IdApp {
    id_app_with(RateLimits { per_ip_per_minute: 0, per_app_per_minute: 0 }).await
}

/// Cookies as a browser keeps them for one host: name → (value, path).
#[derive(Default)]
struct Jar(Vec<(String, String, String)>);

impl Jar {
    fn store(&mut self, headers: &axum::http::HeaderMap) {
        for v in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let mut parts = v.split(';');
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let path = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("path"))
                .map_or("/".to_owned(), |(_, p)| p.to_owned());
            self.0.retain(|(n, _, p)| !(n == name && *p == path));
            if !value.is_empty() {
                self.0.push((name.trim().to_owned(), value.to_owned(), path));
            }
        }
    }

    fn header(&self, path: &str) -> String {
        self.0
            .iter()
            .filter(|(_, _, p)| path.starts_with(p.as_str()))
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _, _)| n == name).map(|(_, v, _)| v.clone())
    }
}

fn location(r: &TestResponse) -> String {
    r.header("location").unwrap_or_else(|| panic!("no Location: {} {}", r.status, r.text)).to_owned()
}

/// Follows the provider's redirects (login and consent are automatic) until it sends the browser
/// back to us; returns our callback path with its query.
async fn through_op(start: &str, op_jar: &mut Jar) -> String {
    let http = scaffold_identity::http_client().unwrap();
    let mut url = start.to_owned();
    for _ in 0..10 {
        let path = url.split_once("://").map(|(_, r)| r.split_once('/').map_or("/", |(_, p)| p)).unwrap_or("/");
        let res = http
            .get(&url)
            .header("cookie", op_jar.header(&format!("/{path}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e:?}"));
        op_jar.store(res.headers());
        assert_eq!(res.status(), 303, "provider answered {} at {url}", res.status());
        let next = res.headers()["location"].to_str().unwrap().to_owned();
        let next = if next.starts_with('/') {
            format!("{}{next}", url.split('/').take(3).collect::<Vec<_>>().join("/"))
        } else {
            next
        };
        if let Some(ours) = next.strip_prefix(PUBLIC_URL) {
            return ours.to_owned();
        }
        url = next;
    }
    panic!("the provider never redirected back");
}

/// A browser: our cookies and the provider's.
#[derive(Default)]
pub(crate) struct Browser {
    ours: Jar,
    op: Jar,
}

impl Browser {
    async fn start(&mut self, app: &IdApp, provider: &str) -> String {
        self.start_returning_to(app, provider, "/api/v1/me").await
    }

    /// Starts a sign-in with `return_to` given as it would appear in the query string.
    async fn start_returning_to(&mut self, app: &IdApp, provider: &str, return_to: &str) -> String {
        let res = app.http.get(&format!("/auth/login/{provider}?return_to={return_to}")).send().await;
        assert_eq!(res.status, 303, "{}", res.text);
        self.ours.store(&res.headers);
        let set = res.header("set-cookie").unwrap();
        assert!(
            set.starts_with("__Host-scaffold-flow=")
                && set.contains("Secure")
                && set.contains("HttpOnly")
                && set.contains("SameSite=Lax")
                && set.contains("Path=/"),
            "{set}"
        );
        location(&res)
    }

    async fn callback(&mut self, app: &IdApp, path: &str) -> TestResponse {
        let res = app.http.get(path).header("cookie", &self.ours.header("/")).send().await;
        self.ours.store(&res.headers);
        res
    }

    pub(crate) async fn sign_in(&mut self, app: &IdApp, provider: &str) -> TestResponse {
        let to_op = self.start(app, provider).await;
        let back = through_op(&to_op, &mut self.op).await;
        self.callback(app, &back).await
    }

    pub(crate) fn session(&self) -> String {
        format!("__Host-scaffold-session={}", self.ours.get("__Host-scaffold-session").expect("signed in"))
    }
}

async fn me(app: &IdApp, cookie: &str) -> TestResponse {
    app.http.get("/api/v1/me").header("cookie", cookie).send().await
}

#[tokio::test]
async fn a_new_user_signs_in_registers_an_app_and_its_token_stops_when_revoked() {
    let app = id_app().await;
    let mut browser = Browser::default();
    let res = browser.sign_in(&app, "test").await;
    assert_eq!(res.status, 303, "{}", res.text);
    assert_eq!(location(&res), "/api/v1/me");
    let me_res = me(&app, &browser.session()).await;
    assert_eq!(me_res.status, 200, "{}", me_res.text);
    let body = me_res.json();
    assert_eq!(body["credential"], "session");
    assert_eq!(body["identities"][0]["issuer"], app.op.issuer);
    assert_eq!(body["identities"][0]["subject"], ACCOUNT);
    assert_eq!(body["assurance"]["level"], "medium", "vot P2 maps to medium");
    assert_eq!(body["assurance"]["source"], "vot=P2");

    // The same account through GraphQL with the session cookie.
    let res = app
        .http
        .post("/graphql")
        .header("cookie", &browser.session())
        .json(&json!({ "query": "{ viewer { id credential assurance { level source } identities { issuer subject } } }" }))
        .send()
        .await;
    let viewer = &res.json()["data"]["viewer"];
    assert_eq!(viewer["id"], body["id"], "{}", res.text);
    assert_eq!(viewer["assurance"]["level"], "medium");
    assert_eq!(viewer["identities"][0]["subject"], ACCOUNT);
    let res = app
        .http
        .post("/graphql")
        .header("cookie", &browser.session())
        .header("origin", "https://evil.example")
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["extensions"]["code"], "CROSS_SITE_REQUEST");

    // A short-lived token for the person's own scripts.
    let res = app.http.post("/auth/token").header("cookie", &browser.session()).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let person_token = res.json()["access_token"].as_str().unwrap().to_owned();
    let who = app.http.get("/api/v1/me").token(&person_token).send().await.json();
    assert_eq!((who["id"].clone(), who["credential"].clone()), (body["id"].clone(), json!("person_token")));
    app.http.post("/auth/token").token(&person_token).send().await.problem(403, "SESSION_REQUIRED");

    // An identity-verified credential from the sign-in's assurance (vot=P2 → medium).
    let res = app
        .http
        .post("/api/v1/me/attestations/identity-verified")
        .header("cookie", &browser.session())
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let credential = res.json();
    assert_eq!(
        (credential["state"].clone(), credential["type"].clone()),
        (json!("active"), json!("identity-verified"))
    );
    assert_eq!(credential["claims"]["assurance_level"], "medium");
    assert_eq!(credential["claims"]["assurance_source"], "test vot=P2");
    assert!(credential["issuer_group_id"].is_null(), "the instance issues it");
    let again = app
        .http
        .post("/api/v1/me/attestations/identity-verified")
        .header("cookie", &browser.session())
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    let mine = app.http.get("/api/v1/me/attestations").header("cookie", &browser.session()).send().await.json();
    let states: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|a| a["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["active", "withdrawn"], "a new identity credential replaces the previous one");

    // Register an app with the session (no Origin header, as curl sends).
    let res = app
        .http
        .post("/api/v1/apps")
        .header("cookie", &browser.session())
        .json(&json!({ "name": "Casserole matcher", "scopes": ["groups:read", "groups:write", "attestations:verify"] }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let created = res.json();
    assert_eq!(created["app"]["granted_scopes"], json!(["groups:read", "groups:write"]), "attestations need approval");
    let (client_id, secret) =
        (created["app"]["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let app_id = created["app"]["id"].as_str().unwrap();

    let token = client_credentials(&app, client_id, secret, None).await;
    let res = app.http.post("/api/v1/groups").token(&token).json(&crate::common::techmates()).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let who = app.http.get("/api/v1/me").token(&token).send().await.json();
    assert_eq!((who["id"].clone(), who["credential"].clone()), (body["id"].clone(), json!("app")));

    // A cross-site write with the session cookie is refused.
    let res = app
        .http
        .delete(&format!("/api/v1/apps/{app_id}"))
        .header("cookie", &browser.session())
        .header("origin", "https://evil.example")
        .send()
        .await;
    res.problem(403, "CROSS_SITE_REQUEST");
    let res = app.http.delete(&format!("/api/v1/apps/{app_id}")).header("cookie", &browser.session()).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["status"], "revoked");
    let res = app.http.post("/api/v1/groups").token(&token).json(&crate::common::techmates()).send().await;
    res.problem(401, "APP_REVOKED");
    let res = token_request(&app, client_id, secret, "grant_type=client_credentials").await;
    oauth_problem(&res, 401, "INVALID_CLIENT");

    // Logout ends the session here and sends the browser to the provider's end-session endpoint.
    let res = app.http.post("/auth/logout").header("cookie", &browser.session()).send().await;
    assert_eq!(res.status, 303);
    assert!(location(&res).starts_with(&format!("{}/session/end?", app.op.issuer)), "{}", location(&res));
    assert!(location(&res).contains("id_token_hint="));
    me(&app, &browser.session()).await.problem(401, "SESSION_EXPIRED");
}

#[tokio::test]
async fn private_key_jwt_with_rsa_and_ec_keys_signs_in_the_same_person() {
    let app = id_app().await;
    let mut browser = Browser::default();
    for provider in ["jwt-rsa", "jwt-ec", "test"] {
        let res = browser.sign_in(&app, provider).await;
        assert_eq!(res.status, 303, "{provider}: {}", res.text);
    }
    let body = me(&app, &browser.session()).await.json();
    assert_eq!(body["identities"].as_array().unwrap().len(), 1, "one (issuer, sub), one person: {body}");
}

#[tokio::test]
async fn sign_in_callbacks_fail_closed() {
    let app = id_app().await;
    let mut browser = Browser::default();
    let to_op = browser.start(&app, "test").await;
    let back = through_op(&to_op, &mut browser.op).await;

    // No flow cookie: another browser cannot use the code.
    app.http.get(&back).send().await.problem(422, "LOGIN_FLOW_MISSING");
    // Wrong state: refused, and the flow is used up.
    let wrong_state = replace_param(&back, "state", "forged-state-value");
    let flow = browser.ours.header("/");
    browser.callback(&app, &wrong_state).await.problem(422, "LOGIN_STATE_MISMATCH");
    app.http.get(&back).header("cookie", &flow).send().await.problem(422, "LOGIN_FLOW_UNKNOWN");

    // Replay of a successful callback.
    let mut browser = Browser::default();
    let to_op = browser.start(&app, "test").await;
    let back = through_op(&to_op, &mut browser.op).await;
    let flow = browser.ours.header("/");
    assert_eq!(browser.callback(&app, &back).await.status, 303);
    app.http.get(&back).header("cookie", &flow).send().await.problem(422, "LOGIN_FLOW_UNKNOWN");

    // Mix-up: the response names another issuer (RFC 9207).
    let mut browser = Browser::default();
    let to_op = browser.start(&app, "test").await;
    let back = through_op(&to_op, &mut browser.op).await;
    let res = browser.callback(&app, &replace_param(&back, "iss", "http%3A%2F%2F127.0.0.1%3A1")).await;
    let p = res.problem(401, "LOGIN_FAILED");
    assert!(p["detail"].as_str().unwrap().contains("iss"), "{p}");

    // Code injection: a code from another flow, with this flow's state and cookie. PKCE binds the
    // code to the flow that asked for it, so the provider refuses it.
    let mut victim = Browser::default();
    let victim_back = through_op(&victim.start(&app, "test").await, &mut victim.op).await;
    let mut attacker = Browser::default();
    let attacker_back = through_op(&attacker.start(&app, "test").await, &mut attacker.op).await;
    let injected = replace_param(&attacker_back, "code", &param(&victim_back, "code"));
    let res = attacker.callback(&app, &injected).await;
    let p = res.problem(401, "LOGIN_FAILED");
    assert!(p["detail"].as_str().unwrap().contains("invalid_grant"), "{p}");

    // The provider reports an error instead of a code.
    let mut browser = Browser::default();
    let to_op = browser.start(&app, "test").await;
    let state = param(&to_op, "state");
    let res = browser.callback(&app, &format!("/auth/callback/test?error=access_denied&state={state}")).await;
    res.problem(401, "LOGIN_DENIED");
    app.http.get("/auth/login/nope").send().await.problem(404, "PROVIDER_NOT_FOUND");
}

#[tokio::test]
async fn sign_in_returns_only_to_a_normalised_local_path() {
    let app = id_app().await;
    for (return_to, expected) in [
        ("%2Fgroups%2Fa%2F..%2Fb%3Fx%3D1", "/groups/b?x=1"),
        // Backslash, scheme-relative, dot segments, encoded or not: browsers read each as another
        // host, so the sign-in returns to the default page instead.
        ("%2F%5Cevil.example", "/api/v1/me"),
        ("/%5C/evil.example", "/api/v1/me"),
        ("//evil.example", "/api/v1/me"),
        ("%2F%2Fevil.example", "/api/v1/me"),
        ("/.//evil.example", "/api/v1/me"),
        ("https://evil.example/", "/api/v1/me"),
    ] {
        let mut browser = Browser::default();
        let to_op = browser.start_returning_to(&app, "test", return_to).await;
        let back = through_op(&to_op, &mut browser.op).await;
        let res = browser.callback(&app, &back).await;
        assert_eq!(res.status, 303, "{return_to}: {}", res.text);
        assert_eq!(location(&res), expected, "{return_to}");
    }
    // Tab, newline and NUL (which browsers drop, turning `/\t/evil` into `//evil`) are refused
    // before a sign-in starts.
    for return_to in ["%2F%09%2Fevil.example%2Fphish", "%2F%0A%2Fevil.example", "%2F%00x"] {
        let res = app.http.get(&format!("/auth/login/test?return_to={return_to}")).send().await;
        assert_eq!(res.problem(422, "VALIDATION_FAILED")["errors"][0]["code"], "CONTROL_CHARACTER");
    }
}

/// Token endpoint errors are RFC 6749 JSON that also carries the problem members.
fn oauth_problem(res: &TestResponse, status: u16, code: &str) -> Value {
    assert_eq!(res.status, status, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error"].is_string() && body["type"].is_string(), "{body}");
    body
}

fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap().to_owned()
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let q: Vec<String> = query
        .split('&')
        .map(|kv| if kv.starts_with(&format!("{name}=")) { format!("{name}={value}") } else { kv.to_owned() })
        .collect();
    format!("{path}?{}", q.join("&"))
}

async fn token_request(app: &IdApp, client_id: &str, secret: &str, form: &str) -> TestResponse {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    app.http
        .post("/oauth/token")
        .header("authorization", &format!("Basic {basic}"))
        .body("application/x-www-form-urlencoded", form.as_bytes().to_vec())
        .send()
        .await
}

pub(crate) async fn client_credentials(app: &IdApp, client_id: &str, secret: &str, scope: Option<&str>) -> String {
    let form = match scope {
        Some(s) => format!("grant_type=client_credentials&scope={}", s.replace(' ', "+")),
        None => "grant_type=client_credentials".to_owned(),
    };
    let res = token_request(app, client_id, secret, &form).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() <= 900);
    body["access_token"].as_str().unwrap().to_owned()
}

async fn register(app: &IdApp, token: &str, scopes: &[&str]) -> (String, String, String) {
    let res =
        app.http.post("/api/v1/apps").token(token).json(&json!({ "name": "Test app", "scopes": scopes })).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let b = res.json();
    (
        b["app"]["id"].as_str().unwrap().to_owned(),
        b["app"]["client_id"].as_str().unwrap().to_owned(),
        b["client_secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn app_tokens_carry_only_granted_scopes_and_bad_tokens_are_refused() {
    let app = id_app().await;
    let (id, client_id, secret) = register(&app, &app.operator, &["groups:read", "attestations:verify"]).await;
    // Asking for a scope not granted.
    let res = token_request(&app, &client_id, &secret, "grant_type=client_credentials&scope=groups:write").await;
    let p = oauth_problem(&res, 400, "INVALID_SCOPE");
    assert_eq!(p["error"], "invalid_scope");
    oauth_problem(
        &token_request(&app, &client_id, "scs_wrong", "grant_type=client_credentials").await,
        401,
        "INVALID_CLIENT",
    );
    oauth_problem(
        &token_request(&app, &client_id, &secret, "grant_type=password").await,
        400,
        "UNSUPPORTED_GRANT_TYPE",
    );

    let token = client_credentials(&app, &client_id, &secret, None).await;
    let res = app.http.post("/api/v1/groups").token(&token).json(&crate::common::techmates()).send().await;
    let p = res.problem(403, "INSUFFICIENT_SCOPE");
    assert!(p["detail"].as_str().unwrap().contains("groups:write"), "{p}");

    // An operator approves the attestation scope; new tokens carry it.
    let res = app
        .http
        .post(&format!("/api/v1/apps/{id}/approve"))
        .token(&app.operator)
        .json(&json!({ "scopes": ["attestations:verify"] }))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let token = client_credentials(&app, &client_id, &secret, Some("attestations:verify")).await;
    let who = app.http.get("/api/v1/me").token(&token).send().await.json();
    assert_eq!(who["scopes"], json!(["attestations:verify"]));

    // The published key set verifies our tokens (independently of the service).
    let jwks = app.http.get("/.well-known/jwks.json").send().await.json();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[format!("{PUBLIC_URL}/api")]);
    v.set_issuer(&[PUBLIC_URL]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &v).unwrap().claims;
    assert_eq!(claims["client_id"], client_id);

    // Tampered and foreign tokens.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    app.http.get("/api/v1/me").token(&parts.join(".")).send().await.problem(401, "INVALID_TOKEN");
    app.http.get("/api/v1/me").token("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.").send().await.problem(401, "INVALID_TOKEN");

    // Rotation: old tokens keep working, new ones use the new key, both keys are published.
    let old_kid = header.kid.unwrap();
    let new_kid = app.service.rotate_access_token_key().await.unwrap();
    assert_ne!(old_kid, new_kid);
    assert_eq!(app.http.get("/api/v1/me").token(&token).send().await.status, 200);
    let fresh = client_credentials(&app, &client_id, &secret, None).await;
    assert_eq!(jsonwebtoken::decode_header(&fresh).unwrap().kid.unwrap(), new_kid);
    let kids: Vec<String> = app.http.get("/.well-known/jwks.json").send().await.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid), "{kids:?}");

    // Rotating the secret: the old one stops working at once.
    let res = app.http.post(&format!("/api/v1/apps/{id}/secret")).token(&app.operator).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let new_secret = res.json()["client_secret"].as_str().unwrap().to_owned();
    oauth_problem(
        &token_request(&app, &client_id, &secret, "grant_type=client_credentials").await,
        401,
        "INVALID_CLIENT",
    );
    client_credentials(&app, &client_id, &new_secret, None).await;
}

#[tokio::test]
async fn provider_access_tokens_are_accepted_for_linked_identities() {
    let app = id_app().await;
    // The provider's client credentials token names the client as its subject; link that subject.
    let http = scaffold_identity::http_client().unwrap();
    let res = http
        .post(format!("{}/token", app.op.issuer))
        .basic_auth("api-client", Some("api-secret-for-tests-only"))
        .form(&[("grant_type", "client_credentials"), ("scope", "groups:read groups:write")])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    app.http.get("/api/v1/me").token(&token).send().await.problem(401, "IDENTITY_NOT_LINKED");
    let person = scaffold_domain::person::Person {
        id: scaffold_domain::PersonId::new_v7(chrono::DateTime::UNIX_EPOCH),
        display_name: "Service user".to_owned(),
        created_at: chrono::DateTime::UNIX_EPOCH,
    };
    let store = &app.store;
    let identity = scaffold_domain::identity::Identity {
        id: scaffold_domain::IdentityId::new_v7(chrono::DateTime::UNIX_EPOCH),
        person_id: person.id,
        provider: "test".into(),
        issuer: app.op.issuer.clone(),
        subject: "api-client".into(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        last_login_at: chrono::DateTime::UNIX_EPOCH,
    };
    let audit = scaffold_domain::audit::AuditEntry {
        id: scaffold_domain::AuditId::new_v7(chrono::DateTime::UNIX_EPOCH),
        at: chrono::DateTime::UNIX_EPOCH,
        actor: None,
        action: "person.create".into(),
        target_type: "person".into(),
        target_id: person.id.to_string(),
        detail: json!({}),
        change: None,
    };
    store.create_identity(Some(&person), &identity, &audit).await.unwrap();
    let who = app.http.get("/api/v1/me").token(&token).send().await;
    assert_eq!(who.status, 200, "{}", who.text);
    assert_eq!(who.json()["credential"], "provider_token");
    assert_eq!(who.json()["scopes"], json!(["groups:read", "groups:write"]));
}

#[tokio::test]
async fn rate_limits_answer_429_with_headers() {
    let app = id_app_with(RateLimits { per_ip_per_minute: 3, per_app_per_minute: 0 }).await;
    for remaining in [2, 1, 0] {
        let res = app.http.get("/api/v1/categories").send().await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("ratelimit-limit"), Some("3"));
        assert_eq!(res.header("ratelimit-remaining"), Some(remaining.to_string().as_str()));
        assert!(res.header("ratelimit-reset").unwrap().parse::<i64>().unwrap() >= 1);
    }
    let res = app.http.get("/api/v1/categories").send().await;
    res.problem(429, "RATE_LIMITED");
    assert!(res.header("retry-after").unwrap().parse::<i64>().unwrap() >= 1);
    assert_eq!(app.http.get("/healthz").send().await.status, 200, "health checks are not limited");
}

#[tokio::test]
async fn per_app_limits_count_the_apps_requests() {
    let app = id_app_with(RateLimits { per_ip_per_minute: 0, per_app_per_minute: 2 }).await;
    let (_, client_id, secret) = register(&app, &app.operator, &["groups:read"]).await;
    let token = client_credentials(&app, &client_id, &secret, None).await;
    for _ in 0..2 {
        assert_eq!(app.http.get("/api/v1/me").token(&token).send().await.status, 200);
    }
    app.http.get("/api/v1/me").token(&token).send().await.problem(429, "RATE_LIMITED");
    assert_eq!(
        app.http.get("/api/v1/me").token(&app.operator).send().await.status,
        200,
        "other callers are not limited"
    );
}

#[tokio::test]
async fn deleting_an_account_removes_personal_data_and_keeps_a_pseudonymous_audit() {
    let app = id_app().await;
    let mut browser = Browser::default();
    assert_eq!(browser.sign_in(&app, "test").await.status, 303);
    let cookie = browser.session();
    let person = me(&app, &cookie).await.json()["id"].as_str().unwrap().to_owned();
    let res = app.http.post("/api/v1/groups").header("cookie", &cookie).json(&crate::common::techmates()).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let group = res.json()["id"].as_str().unwrap().to_owned();
    app.http.delete("/api/v1/me").header("cookie", &cookie).send().await.problem(409, "ACCOUNT_OWNS_GROUPS");
    let res = app
        .http
        .post(&format!("/api/v1/groups/{group}/archive"))
        .header("cookie", &cookie)
        .header("if-match", "*")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(app.http.delete("/api/v1/me").header("cookie", &cookie).send().await.status, 204);
    me(&app, &cookie).await.problem(401, "SESSION_EXPIRED");
    let audit = app.http.get("/api/v1/audit?limit=100").token(&app.operator).send().await.json();
    let text = audit.to_string();
    assert!(!text.contains(&person), "the audit log no longer names the person");
    assert!(text.contains("person.delete"));
    // Signing in again makes a new, empty account.
    let mut again = Browser::default();
    assert_eq!(again.sign_in(&app, "test").await.status, 303);
    let body = me(&app, &again.session()).await.json();
    assert_ne!(body["id"], person);
    assert_eq!(body["memberships"], json!([]));
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_expiry() {
    use chrono::Duration;
    use scaffold_service::auth::hash_token;
    let store = scaffold_testkit::store().await;
    let clock = scaffold_testkit::clock();
    let service = Service::with_identity(
        store.clone(),
        clock.clone(),
        IdentityConfig { session_idle_secs: 600, session_absolute_secs: 3600, ..IdentityConfig::default() },
    )
    .unwrap();
    let app = TestClient::new(router(service, &AppOptions::default()));
    let now = scaffold_domain::Clock::now(&*clock);
    let person = scaffold_domain::person::Person {
        id: scaffold_domain::PersonId::new_v7(now),
        display_name: "Ada".into(),
        created_at: now,
    };
    let audit = scaffold_domain::audit::AuditEntry {
        id: scaffold_domain::AuditId::new_v7(now),
        at: now,
        actor: None,
        action: "person.create".into(),
        target_type: "person".into(),
        target_id: person.id.to_string(),
        detail: json!({}),
        change: None,
    };
    store.create_person(&person, None, &audit).await.unwrap();
    let session = |cookie: &str| scaffold_store::Session {
        session_hash: hash_token(cookie),
        person_id: person.id,
        provider: "test".into(),
        id_token: None,
        created_at: now,
        last_seen_at: now,
        idle_expires_at: now + Duration::seconds(600),
        absolute_expires_at: now + Duration::seconds(3600),
    };
    store.create_session(&session("kept-busy")).await.unwrap();
    store.create_session(&session("left-idle")).await.unwrap();
    let me = |c: &str| app.get("/api/v1/me").header("cookie", &format!("__Host-scaffold-session={c}")).send();
    // Use keeps a session alive past its first idle deadline...
    for _ in 0..5 {
        clock.advance(Duration::seconds(500));
        assert_eq!(me("kept-busy").await.status, 200);
    }
    // ...while one left alone has ended.
    me("left-idle").await.problem(401, "SESSION_EXPIRED");
    // Nothing outlives the absolute expiry.
    clock.advance(Duration::seconds(1200));
    me("kept-busy").await.problem(401, "SESSION_EXPIRED");
    me("never-issued").await.problem(401, "SESSION_EXPIRED");
}

#[tokio::test]
async fn graphql_mutations_check_app_scopes_like_rest() {
    let app = id_app().await;
    let (_, client_id, secret) = register(&app, &app.operator, &["groups:read"]).await;
    let token = client_credentials(&app, &client_id, &secret, None).await;
    let res = app
        .http
        .post("/graphql")
        .token(&token)
        .json(&json!({
            "query": "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }",
            "variables": { "input": { "slug": "via-graphql", "name": "Via GraphQL", "summary": "x" } }
        }))
        .send()
        .await;
    let err = &res.json()["errors"][0];
    assert_eq!(err["extensions"]["code"], "INSUFFICIENT_SCOPE", "{}", res.text);
    assert!(err["message"].as_str().unwrap().contains("groups:write"));
}

#[tokio::test]
async fn a_person_links_a_second_identity_and_signs_in_with_either() {
    let (rsa, ec) = (keygen("rsa").await, keygen("ec").await);
    let (op1, op2) = (start_op(&rsa, &ec, "test").await, start_op(&rsa, &ec, "second").await);
    let basic = || ClientAuth::ClientSecretBasic { secret: "basic-secret-for-tests-only".into() };
    let config = IdentityConfig {
        public_url: PUBLIC_URL.to_owned(),
        providers: vec![provider(&op1, "test", "rp-basic", basic()), provider(&op2, "second", "rp-basic", basic())],
        rate_limits: RateLimits { per_ip_per_minute: 0, per_app_per_minute: 0 },
        ..IdentityConfig::default()
    };
    let service = Service::with_identity(scaffold_testkit::store().await, Arc::new(SystemClock), config).unwrap();
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let app = IdApp {
        http: TestClient::new(router(service.clone(), &AppOptions::default())),
        store: scaffold_testkit::store().await,
        service,
        op: op1,
        operator,
    };
    let mut browser = Browser::default();
    assert_eq!(browser.sign_in(&app, "test").await.status, 303);
    let person = me(&app, &browser.session()).await.json()["id"].clone();

    // Link the identity at the second provider (its cookies are the provider's own).
    let res = app.http.get("/auth/link/second?return_to=/api/v1/me").header("cookie", &browser.session()).send().await;
    assert_eq!(res.status, 303, "{}", res.text);
    browser.ours.store(&res.headers);
    let back = through_op(&location(&res), &mut Jar::default()).await;
    let res = browser.callback(&app, &back).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let body = me(&app, &browser.session()).await.json();
    let issuers: Vec<&str> =
        body["identities"].as_array().unwrap().iter().map(|i| i["issuer"].as_str().unwrap()).collect();
    assert_eq!(issuers, [app.op.issuer.as_str(), op2.issuer.as_str()]);
    assert_eq!(body["id"], person);

    // Signing in with the second provider alone reaches the same person.
    let mut other = Browser::default();
    assert_eq!(other.sign_in(&app, "second").await.status, 303);
    assert_eq!(me(&app, &other.session()).await.json()["id"], person);

    // Someone else cannot link an identity that is already linked.
    let res = app
        .http
        .post("/api/v1/people")
        .token(&app.operator)
        .json(&json!({ "display_name": "Bea", "scopes": ["groups:read", "profile"] }))
        .send()
        .await;
    let bea = res.json()["api_key"]["token"].as_str().unwrap().to_owned();
    let res = app.http.get("/auth/link/second").token(&bea).send().await;
    assert_eq!(res.status, 303, "{}", res.text);
    let mut bea_browser = Browser::default();
    bea_browser.ours.store(&res.headers);
    let back = through_op(&location(&res), &mut Jar::default()).await;
    bea_browser.callback(&app, &back).await.problem(409, "IDENTITY_LINKED_ELSEWHERE");
}

/// Tokens signed with the service's real key but wrong in one claim or header each: refused over
/// HTTP with the failed check named.
#[tokio::test]
async fn forged_access_tokens_are_refused_for_the_right_reason() {
    let app = id_app().await;
    let (_, client_id, secret) = register(&app, &app.operator, &["groups:read"]).await;
    let good = client_credentials(&app, &client_id, &secret, None).await;
    let keys = app.store.signing_keys("access-token").await.unwrap();
    let key = keys.iter().find(|k| k.retired_at.is_none()).unwrap();
    let encoding = jsonwebtoken::EncodingKey::from_ec_der(&key.private_der);
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(good.split('.').nth(1).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    let forge = |typ: &str, change: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        change(&mut c);
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.typ = Some(typ.to_owned());
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&h, &c, &encoding).unwrap()
    };
    let now = scaffold_domain::Clock::now(&SystemClock).timestamp();
    let cases: Vec<(&str, String, &str)> = vec![
        ("wrong typ", forge("JWT", &|_| {}), "typ"),
        ("wrong audience", forge("at+jwt", &|c| c["aud"] = json!("https://elsewhere.example/api")), "audience"),
        ("expired", forge("at+jwt", &|c| c["exp"] = json!(now - 1)), "expired"),
        ("issued in the future", forge("at+jwt", &|c| c["iat"] = json!(now + 3600)), "not valid yet"),
        ("wrong issuer", forge("at+jwt", &|c| c["iss"] = json!("https://evil.example")), "issuer"),
    ];
    assert_eq!(app.http.get("/api/v1/me").token(&forge("at+jwt", &|_| {})).send().await.status, 200, "control");
    for (name, token, words) in cases {
        let p = app.http.get("/api/v1/me").token(&token).send().await.problem(401, "INVALID_TOKEN");
        assert!(p["detail"].as_str().unwrap().contains(words), "{name}: {p}");
    }
}

#[tokio::test]
async fn my_memberships_are_paged_beyond_the_first_fifty() {
    let app = crate::common::app().await;
    for i in 0..52 {
        app.group(&app.operator, crate::common::group_named(&format!("mine-{i:02}"), json!({}))).await;
    }
    let me = app.http.get("/api/v1/me").token(&app.operator).send().await.json();
    assert_eq!(me["memberships"].as_array().unwrap().len(), 50);
    let next = me["memberships_next"].as_str().unwrap().to_owned();
    let rest = app.http.get(&next).token(&app.operator).send().await.json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert!(rest["next"].is_null());
    let first = app.http.get("/api/v1/me/memberships?limit=20").token(&app.operator).send().await.json();
    let mut seen: Vec<String> =
        first["items"].as_array().unwrap().iter().map(|m| m["group_id"].as_str().unwrap().to_owned()).collect();
    let mut url = first["next"].as_str().map(str::to_owned);
    while let Some(u) = url {
        let page = app.http.get(&u).token(&app.operator).send().await.json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|m| m["group_id"].as_str().unwrap().to_owned()));
        url = page["next"].as_str().map(str::to_owned);
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted), (52, seen.clone()), "every membership once, in order");
    app.http
        .get("/api/v1/me/memberships?after=nope")
        .token(&app.operator)
        .send()
        .await
        .problem(422, "VALIDATION_FAILED");
}

#[tokio::test]
async fn an_access_token_key_from_configuration_signs_and_is_not_rotated_in_the_store() {
    use base64::Engine;
    let key = scaffold_identity::generate_es256().unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&key.private_der)
    );
    let store = scaffold_testkit::store().await;
    let config = IdentityConfig { access_token_key_pem: Some(pem), ..IdentityConfig::default() };
    let service = Service::with_identity(store.clone(), scaffold_testkit::clock(), config).unwrap();
    let jwks = service.jwks().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], key.kid);
    assert!(store.signing_keys("access-token").await.unwrap().is_empty(), "nothing is created in the store");
    let err = service.rotate_access_token_key().await.unwrap_err();
    assert_eq!(err.code, "KEY_FROM_CONFIG");
}
