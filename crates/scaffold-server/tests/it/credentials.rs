//! Who may act as the person: the complete credential kind × scope × endpoint matrix for the
//! account's own business (apps, API keys, linking identities, deleting the account) and for
//! holding attestations, through REST and GraphQL, with a real OpenID Provider for the session,
//! the person's own access token and the provider's token.
//!
//! The rules under test (`Actor::require_person`, `Actor::require_holder`):
//! - managing apps and API keys, linking identities, deleting the account: the person themselves
//!   (session or personal API key) with `profile`, never a delegated credential;
//! - holding attestations: the person themselves with `profile`, or a delegated credential (an
//!   app, an access token, a provider's token) carrying `attestations:hold`; `profile` alone
//!   never delegates it;
//! - reading one's memberships: `profile`, whatever the credential.

use crate::identity::{Browser, IdApp, client_credentials, id_app};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Person,
    Holder,
    Profile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Session,
    PersonToken,
    ApiKey,
    App,
    ProviderToken,
}

impl Kind {
    fn personal(self) -> bool {
        matches!(self, Kind::Session | Kind::ApiKey)
    }
}

struct Credential {
    kind: Kind,
    scopes: Vec<&'static str>,
    /// `Authorization` or `Cookie` header.
    header: Option<(&'static str, String)>,
}

/// What the matrix expects: `None` when allowed, else the status and code of the refusal.
fn expected(rule: Rule, c: &Credential) -> Option<(u16, &'static str)> {
    if c.kind == Kind::Anonymous {
        return Some((401, "UNAUTHENTICATED"));
    }
    let has = |s: &str| c.scopes.contains(&s);
    match rule {
        Rule::Profile if has("profile") => None,
        Rule::Person if has("profile") && c.kind.personal() => None,
        Rule::Person if has("profile") => Some((403, "PERSON_CREDENTIAL_REQUIRED")),
        Rule::Holder if c.kind.personal() && has("profile") => None,
        Rule::Holder if !c.kind.personal() && has("attestations:hold") => None,
        _ => Some((403, "INSUFFICIENT_SCOPE")),
    }
}

const PERSON_SCOPES: &[&str] =
    &["groups:read", "groups:write", "events:read", "events:write", "rsvp:write", "attestations:hold", "profile"];

/// The scope sets each delegable credential is tried with.
const SCOPE_SETS: &[&[&str]] =
    &[&["groups:read"], &["profile"], &["attestations:hold"], &["profile", "attestations:hold"]];

async fn call(app: &IdApp, c: &Credential, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut req = match method {
        "GET" => app.http.get(path),
        "POST" => app.http.post(path),
        "DELETE" => app.http.delete(path),
        other => panic!("{other}"),
    };
    if let Some((name, value)) = &c.header {
        req = req.header(name, value);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await;
    let body = if res.text.is_empty() { Value::Null } else { serde_json::from_str(&res.text).unwrap_or(Value::Null) };
    (res.status.as_u16(), body)
}

async fn provider_token(app: &IdApp, scopes: &[&str]) -> String {
    let http = scaffold_identity::http_client().unwrap();
    let res = http
        .post(format!("{}/token", app.op.issuer))
        .basic_auth("api-client", Some("api-secret-for-tests-only"))
        .form(&[("grant_type", "client_credentials"), ("scope", &scopes.join(" "))])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// Links the provider's client-credentials subject to `person`, as a sign-in would.
async fn link_provider_subject(app: &IdApp, person: &str) {
    let epoch = chrono::DateTime::UNIX_EPOCH;
    let identity = scaffold_domain::identity::Identity {
        id: scaffold_domain::IdentityId::new_v7(epoch),
        person_id: scaffold_domain::PersonId::parse(person).unwrap(),
        provider: "test".into(),
        issuer: app.op.issuer.clone(),
        subject: "api-client".into(),
        created_at: epoch,
        last_login_at: epoch,
    };
    let audit = scaffold_domain::audit::AuditEntry {
        id: scaffold_domain::AuditId::new_v7(epoch),
        at: epoch,
        actor: None,
        action: "identity.link".into(),
        target_type: "person".into(),
        target_id: person.to_owned(),
        detail: json!({}),
        change: None,
    };
    app.store.create_identity(None, &identity, &audit).await.unwrap();
}

#[tokio::test]
async fn only_the_person_manages_the_account_and_only_holders_hold() {
    let app = id_app().await;
    let mut browser = Browser::default();
    assert_eq!(browser.sign_in(&app, "test").await.status, 303);
    let session =
        Credential { kind: Kind::Session, scopes: PERSON_SCOPES.to_vec(), header: Some(("cookie", browser.session())) };
    let (_, me) = call(&app, &session, "GET", "/api/v1/me", None).await;
    let person = me["id"].as_str().unwrap().to_owned();

    // What the rows act on: a group the person alone owns (so that an allowed account deletion is
    // refused with 409 rather than carried out), an identity credential with a share, two apps
    // to rotate and revoke, a key to revoke.
    let (status, _) = call(&app, &session, "POST", "/api/v1/groups", Some(&crate::common::techmates())).await;
    assert_eq!(status, 201);
    let (status, credential) =
        call(&app, &session, "POST", "/api/v1/me/attestations/identity-verified", Some(&json!({}))).await;
    assert_eq!(status, 201, "{credential}");
    let attestation = credential["id"].as_str().unwrap().to_owned();
    let shares = format!("/api/v1/me/attestations/{attestation}/shares");
    let (status, share) = call(&app, &session, "POST", &shares, Some(&json!({ "claims": ["assurance_level"] }))).await;
    assert_eq!(status, 201, "{share}");
    let share = share["share"]["id"].as_str().unwrap().to_owned();
    let target_app = |name: &str| json!({ "name": name, "scopes": ["groups:read"] });
    let (_, rotated) = call(&app, &session, "POST", "/api/v1/apps", Some(&target_app("Rotated"))).await;
    let (_, revoked) = call(&app, &session, "POST", "/api/v1/apps", Some(&target_app("Revoked"))).await;
    let (rotated, revoked) = (rotated["app"]["id"].as_str().unwrap(), revoked["app"]["id"].as_str().unwrap());
    let (_, key) =
        call(&app, &session, "POST", "/api/v1/me/api-keys", Some(&json!({ "name": "spare", "scopes": [] }))).await;
    let spare_key = key["key"]["id"].as_str().unwrap().to_owned();

    // Every credential kind, each delegable one with every scope set.
    let mut credentials = vec![Credential { kind: Kind::Anonymous, scopes: vec![], header: None }];
    let (status, token) = call(&app, &session, "POST", "/auth/token", None).await;
    assert_eq!(status, 200);
    let bearer = |t: &str| Some(("authorization", format!("Bearer {t}")));
    credentials.push(Credential {
        kind: Kind::PersonToken,
        scopes: PERSON_SCOPES.to_vec(),
        header: bearer(token["access_token"].as_str().unwrap()),
    });
    link_provider_subject(&app, &person).await;
    for scopes in SCOPE_SETS {
        let body = json!({ "name": format!("key {scopes:?}"), "scopes": scopes });
        let (status, key) = call(&app, &session, "POST", "/api/v1/me/api-keys", Some(&body)).await;
        assert_eq!(status, 201, "{key}");
        credentials.push(Credential {
            kind: Kind::ApiKey,
            scopes: scopes.to_vec(),
            header: bearer(key["token"].as_str().unwrap()),
        });
        let body = json!({ "name": format!("app {scopes:?}"), "scopes": scopes,
            "redirect_uris": [crate::oauth::TEST_REDIRECT] });
        let (status, registered) = call(&app, &session, "POST", "/api/v1/apps", Some(&body)).await;
        assert_eq!(status, 201, "{registered}");
        let (client_id, secret) =
            (registered["app"]["client_id"].as_str().unwrap(), registered["client_secret"].as_str().unwrap());
        // Holding attestations is given only by the person's consent, never to the app itself.
        let token = if scopes.contains(&"attestations:hold") {
            let client = (client_id.to_owned(), secret.to_owned());
            let origin = "http://127.0.0.1:18080";
            let tokens =
                crate::oauth::consented_tokens(&app.http, origin, &browser.session(), &client, &scopes.join(" ")).await;
            tokens["access_token"].as_str().unwrap().to_owned()
        } else {
            client_credentials(&app, client_id, secret, Some(&scopes.join(" "))).await
        };
        credentials.push(Credential { kind: Kind::App, scopes: scopes.to_vec(), header: bearer(&token) });
        let token = provider_token(&app, scopes).await;
        credentials.push(Credential { kind: Kind::ProviderToken, scopes: scopes.to_vec(), header: bearer(&token) });
    }
    credentials.push(session);

    let one = format!("/api/v1/me/attestations/{attestation}");
    let rows: Vec<(Rule, &str, String, Option<Value>)> = vec![
        (Rule::Person, "GET", "/api/v1/apps".into(), None),
        (Rule::Person, "POST", "/api/v1/apps".into(), Some(target_app("Another"))),
        (Rule::Person, "GET", format!("/api/v1/apps/{rotated}"), None),
        (Rule::Person, "POST", format!("/api/v1/apps/{rotated}/secret"), None),
        (Rule::Person, "DELETE", format!("/api/v1/apps/{revoked}"), None),
        (Rule::Person, "GET", "/api/v1/me/api-keys".into(), None),
        (Rule::Person, "POST", "/api/v1/me/api-keys".into(), Some(json!({ "name": "more", "scopes": [] }))),
        (Rule::Person, "DELETE", format!("/api/v1/me/api-keys/{spare_key}"), None),
        (Rule::Person, "GET", "/auth/link/test".into(), None),
        (Rule::Person, "DELETE", "/api/v1/me".into(), None),
        (Rule::Holder, "GET", "/api/v1/me/attestations".into(), None),
        (Rule::Holder, "GET", one.clone(), None),
        (Rule::Holder, "GET", format!("{one}/credential"), None),
        (Rule::Holder, "POST", format!("{one}/accept"), Some(json!({}))),
        (Rule::Holder, "POST", format!("{one}/decline"), None),
        (Rule::Holder, "GET", shares.clone(), None),
        (Rule::Holder, "POST", shares.clone(), Some(json!({ "claims": ["assurance_level"] }))),
        (Rule::Holder, "POST", format!("{shares}/{share}/withdraw"), None),
        (Rule::Holder, "POST", format!("{one}/withdraw"), Some(json!({}))),
        (Rule::Holder, "POST", "/api/v1/me/attestations/identity-verified".into(), Some(json!({}))),
        (Rule::Profile, "GET", "/api/v1/me/memberships".into(), None),
    ];
    let mut failures = Vec::new();
    for c in &credentials {
        for (rule, method, path, body) in &rows {
            let (status, got) = call(&app, c, method, path, body.as_ref()).await;
            let ok = match expected(*rule, c) {
                None => !matches!(status, 401 | 403) && status < 500,
                Some((s, code)) => status == s && got["code"] == code,
            };
            if !ok {
                failures.push(format!(
                    "{:?} {:?} {method} {path}: expected {:?}, got {status} {got}",
                    c.kind,
                    c.scopes,
                    expected(*rule, c)
                ));
            }
        }
        for (rule, field) in [(Rule::Person, "apps { id }"), (Rule::Holder, "attestations { id }")] {
            let body = json!({ "query": format!("{{ viewer {{ id {field} }} }}") });
            let (status, got) = call(&app, c, "POST", "/graphql", Some(&body)).await;
            let ok = match (expected(rule, c), c.kind) {
                (_, Kind::Anonymous) => status == 200 && got["data"]["viewer"].is_null(),
                (None, _) => status == 200 && got["errors"].is_null() && got["data"]["viewer"]["id"] == person,
                (Some((_, code)), _) => status == 200 && got["errors"][0]["extensions"]["code"] == code,
            };
            if !ok {
                failures.push(format!("{:?} {:?} GraphQL viewer {{ {field} }}: got {status} {got}", c.kind, c.scopes));
            }
        }
    }
    assert!(failures.is_empty(), "{} cells of the matrix failed:\n{}", failures.len(), failures.join("\n"));

    // What an app with `profile` sees of the account is who it acts for, never the person's apps.
    let app_with_profile = credentials.iter().find(|c| c.kind == Kind::App && c.scopes == ["profile"]).unwrap();
    let (_, me) = call(&app, app_with_profile, "GET", "/api/v1/me", None).await;
    assert_eq!((me["id"].as_str(), me["apps"].clone()), (Some(person.as_str()), json!([])), "{me}");
}
