//! ID-token checks against hostile input. A real provider cannot be made to sign bad tokens, so
//! this test serves discovery and a key set from an in-process HTTP server and hands the relying
//! party tokens crafted to fail one check each: every one must be refused with the check named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, unused_results)]

use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scaffold_domain::identity::AssuranceLevel;
use scaffold_identity::{ClientAuth, KeyMaterial, Provider, ProviderConfig, generate_es256};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CLIENT: &str = "rp";
const NONCE: &str = "n-0S6_WzA2Mj";

struct Op {
    issuer: String,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

async fn start_op(published: &[&KeyMaterial]) -> Op {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let keys = Arc::new(Mutex::new(published.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let discovery = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let (k, f) = (keys.clone(), fetches.clone());
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
        .route(
            "/jwks",
            get(move || {
                let (k, f) = (k.clone(), f.clone());
                async move {
                    let _ = f.fetch_add(1, Ordering::SeqCst);
                    Json(json!({ "keys": *k.lock().unwrap() }))
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Op { issuer, keys, fetches }
}

fn provider(op: &Op) -> Provider {
    let config = ProviderConfig {
        name: "hostile".into(),
        display_name: "Hostile".into(),
        issuer: op.issuer.clone(),
        client_id: CLIENT.into(),
        client_auth: ClientAuth::ClientSecretBasic { secret: "s".into() },
        scopes: vec![],
        algorithms: vec!["ES256".into()],
        auth_params: vec![],
        assurance: vec![],
        default_assurance: AssuranceLevel::Low,
        access_token_audience: None,
    };
    Provider::new(config, "http://127.0.0.1:1/cb".into(), scaffold_identity::http_client().unwrap())
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_774_690_200, 0).unwrap()
}

fn claims(op: &Op) -> Value {
    json!({
        "iss": op.issuer, "sub": "user-1", "aud": CLIENT, "nonce": NONCE,
        "iat": now().timestamp(), "exp": now().timestamp() + 300,
    })
}

fn sign(k: &KeyMaterial, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some(k.kid.clone());
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_ec_der(&k.private_der)).unwrap()
}

fn with(mut c: Value, name: &str, v: Value) -> Value {
    c[name] = v;
    c
}

async fn refused(p: &Provider, token: &str, at: DateTime<Utc>) -> String {
    match p.verify_id_token(token, NONCE, at).await {
        Ok(f) => panic!("accepted: {f:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn every_bad_id_token_is_refused_with_the_check_named() {
    let key = generate_es256().unwrap();
    let op = start_op(&[&key]).await;
    let p = provider(&op);
    let good = claims(&op);
    let facts = p.verify_id_token(&sign(&key, &good), NONCE, now()).await.unwrap();
    assert_eq!((facts.subject.as_str(), facts.issuer.as_str()), ("user-1", op.issuer.as_str()));

    let cases: Vec<(&str, String, &str)> = vec![
        ("wrong nonce", sign(&key, &with(good.clone(), "nonce", json!("other"))), "nonce"),
        (
            "missing nonce",
            sign(&key, &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("nonce");
                c
            }),
            "nonce",
        ),
        ("wrong iss", sign(&key, &with(good.clone(), "iss", json!("http://127.0.0.1:9"))), "issuer"),
        ("wrong aud", sign(&key, &with(good.clone(), "aud", json!("another-client"))), "audience"),
        ("expired", sign(&key, &with(good.clone(), "exp", json!(now().timestamp() - 61))), "expired"),
        ("issued in the future", sign(&key, &with(good.clone(), "iat", json!(now().timestamp() + 120))), "future"),
        ("azp names another client", sign(&key, &with(good.clone(), "azp", json!("other"))), "azp"),
    ];
    for (name, token, expect) in cases {
        let msg = refused(&p, &token, now()).await;
        assert!(msg.contains(expect), "{name}: {msg}");
    }

    // Within the 60 s skew an expired token still passes; beyond it, not.
    let just_expired = sign(&key, &with(good.clone(), "exp", json!(now().timestamp() - 30)));
    assert!(p.verify_id_token(&just_expired, NONCE, now()).await.is_ok());

    // Tampered payload (same signature).
    let token = sign(&key, &good);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(with(good.clone(), "sub", json!("admin")).to_string());
    let msg = refused(&p, &format!("{}.{forged}.{}", parts[0], parts[2]), now()).await;
    assert!(msg.contains("signature"), "tampered: {msg}");

    // alg none.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let body = URL_SAFE_NO_PAD.encode(good.to_string());
    let msg = refused(&p, &format!("{header}.{body}."), now()).await;
    assert!(msg.contains("none") || msg.contains("not accepted") || msg.contains("malformed"), "alg none: {msg}");

    // HS256 keyed with the provider's public key (algorithm confusion).
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(key.kid.clone());
    let hs = jsonwebtoken::encode(&h, &good, &EncodingKey::from_secret(key.public_jwk.to_string().as_bytes())).unwrap();
    let msg = refused(&p, &hs, now()).await;
    assert!(msg.contains("HS256") && msg.contains("not accepted"), "HS256: {msg}");
}

#[tokio::test]
async fn unknown_kids_refetch_the_key_set_at_most_once_a_minute() {
    let key = generate_es256().unwrap();
    let op = start_op(&[&key]).await;
    let p = provider(&op);
    let good = claims(&op);
    p.verify_id_token(&sign(&key, &good), NONCE, now()).await.unwrap();
    let after_discovery = op.fetches.load(Ordering::SeqCst);

    // The provider rotates to a key we have not seen. Within the minute: no refetch, refused.
    let rotated = generate_es256().unwrap();
    op.keys.lock().unwrap().push(rotated.public_jwk.clone());
    let token = sign(&rotated, &good);
    let msg = refused(&p, &token, now() + Duration::seconds(30)).await;
    assert!(msg.contains("unknown key"), "{msg}");
    assert_eq!(op.fetches.load(Ordering::SeqCst), after_discovery, "no refetch within a minute");

    // A minute later: one refetch finds the new key.
    let later = now() + Duration::seconds(61);
    let token = sign(&rotated, &with(good.clone(), "iat", json!(later.timestamp())));
    p.verify_id_token(&token, NONCE, later).await.unwrap();
    assert_eq!(op.fetches.load(Ordering::SeqCst), after_discovery + 1);

    // A key nobody publishes: one refetch at most, then refused.
    let stranger = generate_es256().unwrap();
    let much_later = later + Duration::seconds(61);
    let token = sign(&stranger, &with(good, "iat", json!(much_later.timestamp())));
    assert!(refused(&p, &token, much_later).await.contains("unknown key"));
    assert!(refused(&p, &token, much_later + Duration::seconds(1)).await.contains("unknown key"));
    assert_eq!(op.fetches.load(Ordering::SeqCst), after_discovery + 2, "one refetch for the stranger, not two");
}
