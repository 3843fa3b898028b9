//! Apps acting for people who agree: the authorization code grant with PKCE, the consent page,
//! rotating refresh tokens and grants the person revokes. (The independent client library's run
//! is in `tests/oauth`.)

use crate::common::{TestApp, app};
use crate::pages::{form_token, post_form, signed_in};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://matchmaker.example/callback";
const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A developer's app asking for `scopes`, with its client id and secret.
async fn matchmaker(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let dev = app.person("Dev", &["profile", "groups:read"]).await;
    let body = json!({ "name": "Casserole matchmaker", "homepage": "https://matchmaker.example",
        "redirect_uris": [REDIRECT], "scopes": scopes });
    let res = app.http.post("/api/v1/apps").token(&dev.token).json(&body).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let b = res.json();
    (b["app"]["client_id"].as_str().unwrap().to_owned(), b["client_secret"].as_str().unwrap().to_owned())
}

fn authorize_url(client_id: &str, scope: &str, state: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("/oauth/authorize?{q}")
}

fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The consent form's hidden fields and the person's answer.
fn consent_form(html: &str, decision: &'static str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let (name, rest) = part.split_once('"').unwrap();
        let value = rest.split_once("value=\"").unwrap().1.split_once('"').unwrap().0;
        out.push((
            name.to_owned(),
            value.replace("&amp;", "&").replace("&#x2f;", "/").replace("&#47;", "/").replace("&#x3a;", ":"),
        ));
    }
    out.push(("decision".to_owned(), decision.to_owned()));
    out
}

async fn agree(app: &TestApp, cookie: &str, url: &str, decision: &'static str) -> Vec<(String, String)> {
    let page = app.http.get(url).header("cookie", cookie).send().await;
    assert_eq!(page.status, 200, "{}", page.text);
    let form = consent_form(&page.text, decision);
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = post_form(app, "/oauth/authorize", cookie, &refs).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let location = res.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    query_of(&location)
}

async fn token(app: &TestApp, client: &(String, String), form: &[(&str, &str)]) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.0, client.1));
    let res = app
        .http
        .post("/oauth/token")
        .header("authorization", &format!("Basic {basic}"))
        .body("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await;
    (res.status.as_u16(), res.json())
}

#[tokio::test]
async fn a_person_lets_an_app_act_for_them_with_pkce_and_takes_it_back() {
    let app = app().await;
    let client = matchmaker(&app, &["profile", "rsvp:write", "attestations:hold"]).await;
    let scope = "profile attestations:hold";

    // By itself the app cannot hold its owner's attestations.
    let (status, body) =
        token(&app, &client, &[("grant_type", "client_credentials"), ("scope", "attestations:hold")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");

    // Not signed in: to the sign-in page, which comes back here.
    let url = authorize_url(&client.0, scope, "xyz-state");
    let res = app.http.get(&url).send().await;
    assert_eq!(res.status, 303);
    let to = res.header("location").unwrap();
    assert!(to.starts_with("/sign-in?return_to=%2Foauth%2Fauthorize%3F"), "{to}");

    let bea = signed_in(&app, "Bea").await;
    let page = app.http.get(&url).header("cookie", &bea).send().await;
    assert!(page.text.contains("Let Casserole matchmaker act for you?"), "{}", page.text);
    assert!(page.text.contains("See your attestations (such as a DBS check"), "scopes in plain words");
    assert!(page.text.contains("<strong>matchmaker.example</strong>"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains(&format!("form-action 'self' {REDIRECT}")), "{csp}");
    // A forged form is refused.
    assert_eq!(
        post_form(&app, "/oauth/authorize", &bea, &[("form_token", "forged"), ("decision", "allow")]).await.status,
        403
    );

    // "Don't allow" goes back with access_denied and the state.
    let answer = agree(&app, &bea, &url, "deny").await;
    assert_eq!(param(&answer, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&answer, "state").as_deref(), Some("xyz-state"));

    let answer = agree(&app, &bea, &url, "allow").await;
    assert_eq!(param(&answer, "state").as_deref(), Some("xyz-state"));
    assert_eq!(param(&answer, "iss").as_deref(), Some("http://127.0.0.1:8080"));
    let code = param(&answer, "code").unwrap();

    // A wrong verifier, or another app holding the code: refused, and the code is not spent.
    let exchange = |code: String, verifier: &'static str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let form = exchange(code.clone(), "another-verifier-that-is-long-enough-012345678");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = token(&app, &client, &refs).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let thief = matchmaker(&app, &["profile"]).await;
    let form = exchange(code.clone(), VERIFIER);
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = token(&app, &thief, &refs).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    // The right verifier: tokens that act for Bea, not for the app's owner.
    let (status, tokens) = token(&app, &client, &refs).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, body) = token(&app, &client, &refs).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a code is used once: {body}");
    let (status, _) = token(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(status, 400, "a replayed code withdraws what it gave");
    let code = param(&agree(&app, &bea, &url, "allow").await, "code").unwrap();
    let form = exchange(code, VERIFIER);
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, tokens) = token(&app, &client, &refs).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        (tokens["token_type"].as_str(), tokens["scope"].as_str()),
        (Some("Bearer"), Some("attestations:hold profile"))
    );
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let me = app.http.get("/api/v1/me").token(&access).send().await.json();
    assert_eq!((me["display_name"].as_str(), me["credential"].as_str()), (Some("Bea"), Some("app")), "{me}");
    assert_eq!(app.http.get("/api/v1/me/attestations").token(&access).send().await.status, 200);
    // Only what Bea agreed to: no replies, no account management.
    app.http.get("/api/v1/me/dates").token(&access).send().await.problem(403, "INSUFFICIENT_SCOPE");
    app.http.get("/api/v1/me/api-keys").token(&access).send().await.problem(403, "PERSON_CREDENTIAL_REQUIRED");

    // Refresh tokens rotate; the old one used again withdraws the grant. A refresh that asks for
    // more is refused and spends nothing.
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &first), ("scope", "rsvp:write")])
            .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    let (status, next) =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &first), ("scope", "profile")]).await;
    assert_eq!((status, next["scope"].as_str()), (200, Some("profile")), "{next}");
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (status, wide) = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &second)]).await;
    assert_eq!(
        (status, wide["scope"].as_str()),
        (200, Some("attestations:hold profile")),
        "the grant's scopes stay: {wide}"
    );
    let third = wide["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    app.http.get("/api/v1/me").token(&access).send().await.problem(401, "INVALID_TOKEN");
    let audit = app.http.get("/api/v1/audit?limit=100").token(&app.operator).send().await.text;
    assert!(audit.contains("grant.token_reused"), "a reuse is audited: {audit}");
    let (status, _) = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &third)]).await;
    assert_eq!(status, 400, "the whole grant went");

    // Agree again, then take it back from the account page: the token stops at once.
    let code = param(&agree(&app, &bea, &url, "allow").await, "code").unwrap();
    let form = exchange(code, VERIFIER);
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, tokens) = token(&app, &client, &refs).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.http.get("/api/v1/me").token(&access).send().await.status, 200);
    let me_page = app.http.get("/me").header("cookie", &bea).send().await.text;
    assert!(me_page.contains("Stop Casserole matchmaker acting for me"), "{me_page}");
    let action = me_page.split("action=\"/me/grants/").nth(1).unwrap().split('"').next().unwrap();
    let res = post_form(&app, &format!("/me/grants/{action}"), &bea, &[("form_token", &form_token(&me_page))]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    app.http.get("/api/v1/me").token(&access).send().await.problem(401, "INVALID_TOKEN");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(status, 400);
    assert!(
        app.http.get("/me").header("cookie", &bea).send().await.text.contains("You have not let any app act for you.")
    );
}

#[tokio::test]
async fn bad_authorization_requests_are_shown_or_sent_back_and_grant_nothing() {
    let app = app().await;
    let client = matchmaker(&app, &["profile", "attestations:verify"]).await;
    let bea = signed_in(&app, "Bea").await;
    let get = |url: String| {
        let http = app.http.clone();
        let bea = bea.clone();
        async move { http.get(&url).header("cookie", &bea).send().await }
    };
    // Unknown app or unregistered redirect URI: a page, never a redirect.
    let res = get(authorize_url("app_unknown", "profile", "s")).await;
    assert_eq!(res.status, 400);
    assert!(
        res.text.contains("This app&#39;s request cannot be used")
            || res.text.contains("This app's request cannot be used"),
        "{}",
        res.text
    );
    let evil =
        authorize_url(&client.0, "profile", "s").replace("matchmaker.example%2Fcallback", "evil.example%2Fcallback");
    let res = get(evil).await;
    assert_eq!((res.status.as_u16(), res.header("location")), (400, None));
    // Everything else goes back to the app with an error.
    // Every other fault is shown too (no automatic redirect: anyone can register an app), with a
    // link back to the app that carries the error.
    let back = |res: &scaffold_testkit::TestResponse| {
        assert_eq!((res.status.as_u16(), res.header("location")), (400, None), "{}", res.text);
        let at = res.text.find("Go back to Casserole matchmaker").expect("a link back");
        let start = res.text[..at].rfind("href=\"").unwrap() + 6;
        let href =
            res.text[start..start + res.text[start..].find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
        assert!(href.starts_with(REDIRECT) && href.contains("state="), "{href}");
        query_of(&href)
    };
    let res =
        get(authorize_url(&client.0, "profile", "s")
            .replace("code_challenge_method=S256", "code_challenge_method=plain"))
        .await;
    assert_eq!(param(&back(&res), "error").as_deref(), Some("invalid_request"));
    let res = get(authorize_url(&client.0, "profile", "s").replace("response_type=code", "response_type=token")).await;
    assert_eq!(param(&back(&res), "error").as_deref(), Some("unsupported_response_type"));
    // A scope the app did not register, and one no person can give (verifying is the app's own).
    for scope in ["profile groups:write", "attestations:verify", "made:up"] {
        let res = get(authorize_url(&client.0, scope, "s")).await;
        assert_eq!(param(&back(&res), "error").as_deref(), Some("invalid_scope"), "{scope}");
        assert_eq!(param(&back(&res), "state").as_deref(), Some("s"));
    }
    // The token endpoint: grant types and missing fields.
    let (status, body) = token(&app, &client, &[("grant_type", "password")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body) = token(&app, &client, &[("grant_type", "authorization_code"), ("code", "x")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let (status, body) = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", "nope")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let wrong = (client.0.clone(), "scs_wrong".to_owned());
    let (status, body) = token(&app, &wrong, &[("grant_type", "refresh_token"), ("refresh_token", "nope")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    // An app with one redirect URI may leave it out of the request, and then out of the exchange.
    let url = authorize_url(&client.0, "profile", "s").replace(&format!("&redirect_uri={}", urlenc(REDIRECT)), "");
    assert!(!url.contains("redirect_uri"));
    let page = get(url).await;
    let form = consent_form(&page.text, "allow");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = post_form(&app, "/oauth/authorize", &bea, &refs).await;
    let location = res.header("location").unwrap_or_default().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let code = param(&query_of(&location), "code").unwrap();
    let other_uri = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://matchmaker.example/other"),
        ("code_verifier", VERIFIER),
    ];
    let (status, _) = token(&app, &client, &other_uri).await;
    assert_eq!(status, 400, "only the app's one redirect URI may be named");
    let with_uri = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = token(&app, &client, &with_uri).await;
    assert_eq!(status, 200, "the app's one redirect URI may be named: {body}");
    let code = param(
        &query_of(
            get(authorize_url(&client.0, "profile", "t").replace(&format!("&redirect_uri={}", urlenc(REDIRECT)), ""))
                .await
                .header("location")
                .unwrap_or("?"),
        ),
        "code",
    );
    assert_eq!(code, None, "no code without the person's answer");
    let page =
        get(authorize_url(&client.0, "profile", "u").replace(&format!("&redirect_uri={}", urlenc(REDIRECT)), "")).await;
    let form = consent_form(&page.text, "allow");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = post_form(&app, "/oauth/authorize", &bea, &refs).await;
    let code = param(&query_of(res.header("location").unwrap()), "code").unwrap();
    let without = [("grant_type", "authorization_code"), ("code", &code), ("code_verifier", VERIFIER)];
    let (status, body) = token(&app, &client, &without).await;
    assert_eq!(status, 200, "{body}");
    let grant = app.http.get("/api/v1/me/grants").header("cookie", &bea).send().await.json();
    let id = grant["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.http
            .delete(&format!("/api/v1/me/grants/{id}"))
            .header("cookie", &bea)
            .header("origin", "http://127.0.0.1:8080")
            .send()
            .await
            .status,
        204
    );

    let grants = app.http.get("/api/v1/me/grants").header("cookie", &bea).send().await;
    assert_eq!(grants.status, 200, "{}", grants.text);
    assert_eq!(grants.json()["items"], json!([]));
    let meta = app.http.get("/.well-known/oauth-authorization-server").send().await.json();
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_endpoint"], "http://127.0.0.1:8080/oauth/authorize");
}

/// Tokens from `client` for the person signed in with `cookie`, who agrees on the consent page
/// (the authorization code grant with PKCE), on an app served at `origin`.
pub async fn consented_tokens(
    http: &scaffold_testkit::TestClient,
    origin: &str,
    cookie: &str,
    client: &(String, String),
    scope: &str,
) -> Value {
    let page = http.get(&authorize_url(&client.0, scope, "s")).header("cookie", cookie).send().await;
    assert_eq!(page.status, 200, "{}", page.text);
    let form = consent_form(&page.text, "allow");
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let res = http
        .post("/oauth/authorize")
        .header("cookie", cookie)
        .header("origin", origin)
        .body("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await;
    assert_eq!(res.status, 303, "{}", res.text);
    let code = param(&query_of(res.header("location").unwrap()), "code").expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", client.0.as_str()),
        ("client_secret", client.1.as_str()),
    ];
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let res = http.post("/oauth/token").body("application/x-www-form-urlencoded", body.into_bytes()).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

/// The redirect URI apps in tests register.
pub const TEST_REDIRECT: &str = REDIRECT;
