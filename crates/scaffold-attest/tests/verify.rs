//! Verification through the public API: a valid presentation, every rejection in the
//! verification order with its code, and a property test over random claim sets and disclosure
//! subsets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::pedantic,
    unused_results
)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaffold_attest::{
    Binding, Credential, KeyBinding, NoStatus, Policy, PublicKey, SigningKey, StatusList, StatusRef, StatusSource,
    TrustedIssuer, TypePolicy, issue, present, verify,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

const ISS: &str = "https://wigan.scaffold.example";
const VCT: &str = "https://wigan.scaffold.example/vct/dbs-check/v1";
const LIST: &str = "https://wigan.scaffold.example/status-lists/1";
const NOW: i64 = 1_795_000_000;

struct Lists(HashMap<String, String>);

impl StatusSource for Lists {
    fn token(&self, uri: &str) -> Option<String> {
        self.0.get(uri).cloned()
    }
}

struct World {
    issuer: SigningKey,
    holder: SigningKey,
    trusted: Vec<TrustedIssuer>,
    types: Vec<TypePolicy>,
    list: StatusList,
}

impl World {
    fn new() -> Self {
        let (issuer, _) = SigningKey::generate("issuer-2026").unwrap();
        let (holder, _) = SigningKey::generate("holder").unwrap();
        let trusted = vec![TrustedIssuer { iss: ISS.into(), keys: vec![issuer.public()] }];
        let types = vec![TypePolicy { vct: VCT.into(), max_age_secs: Some(90 * 86_400) }];
        Self { issuer, holder, trusted, types, list: StatusList::new(131_072) }
    }

    fn credential(&self) -> Credential {
        let mut selective = Map::new();
        for (k, v) in [
            ("level", json!("enhanced")),
            ("barred_lists", json!(["children"])),
            ("workforce", json!("child")),
            ("update_service", json!("no_new_information")),
        ] {
            let _ = selective.insert(k.into(), v);
        }
        Credential {
            iss: ISS.into(),
            vct: VCT.into(),
            iat: NOW - 3600,
            nbf: Some(NOW - 3600),
            exp: NOW + 30 * 86_400,
            selective,
            holder: Some(self.holder.public()),
            status: Some(StatusRef { uri: LIST.into(), idx: 4242 }),
            decoys: 2,
            ..Credential::default()
        }
    }

    fn lists(&self) -> Lists {
        let token = self.list.sign(&self.issuer, LIST, NOW - 60, NOW + 3600, 300).unwrap();
        Lists(HashMap::from([(LIST.to_owned(), token)]))
    }

    fn policy(&self) -> Policy<'_> {
        Policy {
            now: NOW,
            skew_secs: 60,
            issuers: &self.trusted,
            types: &self.types,
            key_binding: Some(KeyBinding { aud: "casserole-matcher", nonce: "n-123", max_age_secs: 300 }),
        }
    }

    fn present(&self, issued: &str, reveal: &[&str]) -> String {
        let binding = Binding { key: &self.holder, aud: "casserole-matcher", nonce: "n-123", iat: NOW - 5 };
        present(issued, reveal, Some(&binding)).unwrap()
    }

    fn code(&self, presentation: &str) -> &'static str {
        self.code_with(presentation, &self.policy(), &self.lists())
    }

    fn code_with(&self, presentation: &str, policy: &Policy<'_>, lists: &dyn StatusSource) -> &'static str {
        verify(presentation, policy, lists).map(|_| "VALID").unwrap_or_else(|r| r.code)
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[test]
fn a_holder_discloses_two_claims_and_the_verifier_sees_exactly_those() {
    let w = World::new();
    let issued = issue(&w.issuer, &w.credential()).unwrap();
    let shown = w.present(&issued.sd_jwt, &["level", "barred_lists"]);
    let ok = verify(&shown, &w.policy(), &w.lists()).unwrap();
    assert_eq!(ok.disclosed, BTreeSet::from(["barred_lists".to_owned(), "level".to_owned()]));
    assert_eq!(ok.claims["level"], "enhanced");
    assert!(!ok.claims.contains_key("workforce") && !ok.claims.contains_key("_sd"));
    assert!(ok.key_bound && ok.status_checked);
    assert_eq!((ok.iss.as_str(), ok.vct.as_str()), (ISS, VCT));
}

#[test]
fn each_failure_is_rejected_with_its_own_code() {
    let mut w = World::new();
    let issued = issue(&w.issuer, &w.credential()).unwrap();
    let good = w.present(&issued.sd_jwt, &["level"]);
    assert_eq!(w.code(&good), "VALID");
    let jwt = good.split('~').next().unwrap().to_owned();
    let level = issued.disclosures.iter().find(|d| d.name == "level").unwrap().encoded.clone();
    let workforce = issued.disclosures.iter().find(|d| d.name == "workforce").unwrap().encoded.clone();

    // Disclosures: tampered, added by someone else, duplicated.
    let tampered = b64(&json!(["salt-salt-salt", "level", "basic"]));
    assert_eq!(w.code(&w.present(&format!("{jwt}~{tampered}~"), &["level"])), "DISCLOSURE_NOT_IN_CREDENTIAL");
    let other = issue(&w.issuer, &w.credential()).unwrap();
    let foreign = other.disclosures.iter().find(|d| d.name == "workforce").unwrap().encoded.clone();
    assert_eq!(
        w.code(&w.present(&format!("{jwt}~{level}~{foreign}~"), &["level", "workforce"])),
        "DISCLOSURE_NOT_IN_CREDENTIAL"
    );
    assert_eq!(w.code(&w.present(&format!("{jwt}~{level}~{level}~"), &["level"])), "DUPLICATE_DISCLOSURE");
    assert_eq!(w.code(&w.present(&format!("{jwt}~{workforce}~{level}~"), &["level", "workforce"])), "VALID");
    assert_eq!(w.code(&format!("{jwt}~not-base64!~")), "MALFORMED_DISCLOSURE");

    // Key binding: wrong audience, wrong nonce, stale, missing, another key, another presentation.
    let bind = |aud: &str, nonce: &str, iat: i64, key: &SigningKey| {
        present(&issued.sd_jwt, &["level"], Some(&Binding { key, aud, nonce, iat })).unwrap()
    };
    assert_eq!(w.code(&bind("someone-else", "n-123", NOW, &w.holder)), "KB_WRONG_AUD");
    assert_eq!(w.code(&bind("casserole-matcher", "n-999", NOW, &w.holder)), "KB_WRONG_NONCE");
    assert_eq!(w.code(&bind("casserole-matcher", "n-123", NOW - 3600, &w.holder)), "KB_STALE");
    assert_eq!(w.code(&bind("casserole-matcher", "n-123", NOW + 3600, &w.holder)), "KB_STALE");
    let (thief, _) = SigningKey::generate("thief").unwrap();
    assert_eq!(w.code(&bind("casserole-matcher", "n-123", NOW, &thief)), "KB_BAD_SIGNATURE");
    assert_eq!(w.code(&present(&issued.sd_jwt, &["level"], None).unwrap()), "KEY_BINDING_MISSING");
    let kb = good.rsplit('~').next().unwrap();
    assert_eq!(
        w.code(&format!("{jwt}~{level}~{workforce}~{kb}")),
        "KB_SD_HASH_MISMATCH",
        "a disclosure added after binding"
    );

    // Validity period.
    let at = |now: i64| Policy { now, ..w.policy() };
    assert_eq!(w.code_with(&good, &at(NOW + 31 * 86_400), &w.lists()), "EXPIRED");
    assert_eq!(w.code_with(&good, &at(NOW - 7200), &w.lists()), "NOT_YET_VALID");

    // Issuer and keys.
    let strangers = vec![TrustedIssuer { iss: "https://elsewhere.example".into(), keys: vec![w.issuer.public()] }];
    assert_eq!(w.code_with(&good, &Policy { issuers: &strangers, ..w.policy() }, &w.lists()), "UNTRUSTED_ISSUER");
    let (rotated, _) = SigningKey::generate("issuer-2027").unwrap();
    let rotated_only = vec![TrustedIssuer { iss: ISS.into(), keys: vec![rotated.public()] }];
    assert_eq!(w.code_with(&good, &Policy { issuers: &rotated_only, ..w.policy() }, &w.lists()), "UNKNOWN_KID");
    let (impostor, _) = SigningKey::generate("issuer-2026").unwrap();
    let forged = issue(&impostor, &w.credential()).unwrap();
    assert_eq!(w.code(&w.present(&forged.sd_jwt, &["level"])), "BAD_SIGNATURE");

    // alg none and HS256 with the public key as the secret.
    let (_, payload, _) = {
        let mut parts = jwt.split('.');
        (parts.next().unwrap(), parts.next().unwrap().to_owned(), parts.next().unwrap())
    };
    let none = format!("{}.{payload}.", b64(&json!({ "alg": "none", "typ": "dc+sd-jwt", "kid": "issuer-2026" })));
    assert_eq!(w.code(&format!("{none}~{level}~")), "ALG_NOT_ALLOWED");
    let head = b64(&json!({ "alg": "HS256", "typ": "dc+sd-jwt", "kid": "issuer-2026" }));
    let secret = serde_json::to_vec(&w.issuer.public().to_jwk()).unwrap();
    let mac = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
        format!("{head}.{payload}").as_bytes(),
    );
    let hs = format!("{head}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
    assert_eq!(w.code(&format!("{hs}~{level}~")), "ALG_NOT_ALLOWED");
    let mut header = Map::new();
    let _ = header.insert("typ".into(), json!("JWT"));
    let _ = header.insert("kid".into(), json!("issuer-2026"));
    let plain: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    let wrong_typ = w.issuer.sign(header, &plain).unwrap();
    assert_eq!(w.code(&format!("{wrong_typ}~{level}~")), "WRONG_TYP");

    // Type and freshness.
    let other_types = vec![TypePolicy { vct: "https://x.example/vct/other".into(), max_age_secs: None }];
    assert_eq!(w.code_with(&good, &Policy { types: &other_types, ..w.policy() }, &w.lists()), "UNKNOWN_VCT");
    let strict = vec![TypePolicy { vct: VCT.into(), max_age_secs: Some(600) }];
    assert_eq!(w.code_with(&good, &Policy { types: &strict, ..w.policy() }, &w.lists()), "STALE");

    // Status: unavailable, expired list, list signed by another key, revoked.
    assert_eq!(w.code_with(&good, &w.policy(), &NoStatus), "STATUS_UNAVAILABLE");
    let old = w.list.sign(&w.issuer, LIST, NOW - 7200, NOW - 3600, 300).unwrap();
    assert_eq!(w.code_with(&good, &w.policy(), &Lists(HashMap::from([(LIST.into(), old)]))), "STATUS_LIST_EXPIRED");
    let (stranger, _) = SigningKey::generate("issuer-2026").unwrap();
    let fake = w.list.sign(&stranger, LIST, NOW - 60, NOW + 3600, 300).unwrap();
    assert_eq!(w.code_with(&good, &w.policy(), &Lists(HashMap::from([(LIST.into(), fake)]))), "STATUS_LIST_INVALID");
    w.list.set(4242, true).unwrap();
    assert_eq!(w.code(&good), "REVOKED");
}

#[test]
fn a_credential_without_holder_binding_fails_a_verifier_that_requires_it() {
    let w = World::new();
    let unbound = issue(&w.issuer, &Credential { holder: None, ..w.credential() }).unwrap();
    let shown = present(&unbound.sd_jwt, &["level"], None).unwrap();
    assert_eq!(w.code(&shown), "NOT_HOLDER_BOUND");
    let relaxed = Policy { key_binding: None, ..w.policy() };
    assert_eq!(w.code_with(&shown, &relaxed, &w.lists()), "VALID");
}

/// A small deterministic generator (xorshift64*), so the property test needs no extra crate and
/// every failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_claims_and_random_subsets_round_trip_exactly() {
    let w = World::new();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    for round in 0..150 {
        let mut selective = Map::new();
        for i in 0..=rng.below(8) {
            let value = match rng.below(5) {
                0 => json!(rng.next() % 1000),
                1 => json!(format!("text-{}-\u{e9}~{}", i, rng.next())),
                2 => json!(rng.below(2) == 1),
                3 => json!([rng.below(10), "x"]),
                _ => json!({ "nested": rng.below(100) }),
            };
            let _ = selective.insert(format!("claim_{i}_{}", rng.below(1000)), value);
        }
        let credential = Credential {
            selective: selective.clone(),
            decoys: usize::try_from(rng.below(4)).unwrap(),
            ..w.credential()
        };
        let issued = issue(&w.issuer, &credential).unwrap();
        let chosen: Vec<&str> = selective.keys().filter(|_| rng.below(2) == 1).map(String::as_str).collect();
        let shown = w.present(&issued.sd_jwt, &chosen);
        let ok = verify(&shown, &w.policy(), &w.lists()).unwrap_or_else(|r| panic!("round {round}: {r:?}"));
        assert_eq!(ok.disclosed, chosen.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>(), "round {round}");
        for (name, value) in &selective {
            assert_eq!(ok.claims.get(name), chosen.contains(&name.as_str()).then_some(value), "round {round}: {name}");
        }
    }
}

#[test]
fn public_keys_round_trip_through_jwks() {
    let w = World::new();
    let jwk = w.issuer.public().to_jwk();
    assert_eq!(jwk["kid"], "issuer-2026");
    assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), w.issuer.public());
}

#[test]
fn hostile_times_fail_closed() {
    let w = World::new();
    let issued = issue(&w.issuer, &w.credential()).unwrap();
    // A key-binding JWT from the far past cannot wrap the age check around.
    let ancient = present(
        &issued.sd_jwt,
        &["level"],
        Some(&Binding { key: &w.holder, aud: "casserole-matcher", nonce: "n-123", iat: i64::MIN }),
    )
    .unwrap();
    assert_eq!(w.code(&ancient), "KB_STALE");
    // A non-integer nbf is malformed, not ignored.
    let jwt = issued.sd_jwt.split('~').next().unwrap();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    payload["nbf"] = json!("tomorrow");
    let mut header = Map::new();
    let _ = header.insert("typ".into(), json!("dc+sd-jwt"));
    let _ = header.insert("kid".into(), json!("issuer-2026"));
    let odd = w.issuer.sign(header, &payload).unwrap();
    let relaxed = Policy { key_binding: None, ..w.policy() };
    assert_eq!(w.code_with(&format!("{odd}~"), &relaxed, &w.lists()), "MALFORMED");
}

/// Pieces that make up SD-JWT presentations, for building hostile ones.
fn sd_jwt_like() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::strategy::Strategy as _;
    let pieces = proptest::sample::select(vec![
        "eyJ",
        "hbGciOiJFUzI1NiJ9",
        "e30",
        "W10",
        "bnVsbA",
        ".",
        "~",
        "~~",
        "AAAA",
        "_-",
        "=",
        "%",
        " ",
        "\u{e9}",
        "eyJhbGciOiJub25lIn0",
        "eyJ0eXAiOiJkYytzZC1qd3QifQ",
    ]);
    proptest::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Anything a client sends as a presentation is refused with a code, never a panic.
    #[test]
    fn any_text_is_refused_without_panicking(raw in proptest::prelude::any::<String>(), shaped in sd_jwt_like()) {
        let w = World::new();
        for p in [raw.as_str(), shaped.as_str()] {
            let _ = scaffold_attest::Parsed::parse(p);
            proptest::prop_assert!(verify(p, &w.policy(), &w.lists()).is_err(), "{p:?} verified");
        }
    }

    /// Changing any one character of a valid presentation makes it fail.
    #[test]
    fn any_one_character_changed_is_refused(at in 0usize..10_000, with in proptest::sample::select(vec!['A', 'z', '0', '-', '_', '.', '~', 'x'])) {
        let w = World::new();
        let issued = issue(&w.issuer, &w.credential()).unwrap();
        let shown = w.present(&issued.sd_jwt, &["level", "workforce"]);
        proptest::prop_assert!(verify(&shown, &w.policy(), &w.lists()).is_ok());
        let i = at % shown.len();
        let mut chars: Vec<char> = shown.chars().collect();
        proptest::prop_assume!(chars[i] != with);
        chars[i] = with;
        let changed: String = chars.into_iter().collect();
        proptest::prop_assert!(verify(&changed, &w.policy(), &w.lists()).is_err(), "changed at {i} to {with:?} and still valid");
    }
}

/// A source may answer with a list it verified before (or holds as the issuer): that list decides,
/// for the URI the credential names only, and it is asked with the credential issuer's keys.
#[test]
fn a_list_kept_by_the_source_decides_for_its_uri_only() {
    use scaffold_attest::StatusLookupError;
    use std::sync::{Arc, Mutex};
    struct Kept(Arc<StatusList>, Mutex<Vec<(String, usize)>>);
    impl StatusSource for Kept {
        fn token(&self, _uri: &str) -> Option<String> {
            None
        }
        fn list(&self, uri: &str, keys: &[PublicKey], _now: i64) -> Result<Arc<StatusList>, StatusLookupError> {
            self.1.lock().unwrap().push((uri.to_owned(), keys.len()));
            if uri == LIST { Ok(self.0.clone()) } else { Err(StatusLookupError::Unavailable) }
        }
    }
    let w = World::new();
    let issued = issue(&w.issuer, &w.credential()).unwrap();
    let shown = w.present(&issued.sd_jwt, &["level"]);
    let mut revoked = StatusList::new(131_072);
    revoked.set(4242, true).unwrap();
    let good = Kept(Arc::new(w.list.clone()), Mutex::default());
    assert_eq!(w.code_with(&shown, &w.policy(), &good), "VALID");
    assert_eq!(*good.1.lock().unwrap(), [(LIST.to_owned(), 1)], "asked once, with the issuer's key");
    assert_eq!(w.code_with(&shown, &w.policy(), &Kept(Arc::new(revoked), Mutex::default())), "REVOKED");
    let elsewhere =
        issue(&w.issuer, &Credential { status: Some(StatusRef { uri: format!("{LIST}0"), idx: 1 }), ..w.credential() })
            .unwrap();
    let shown = w.present(&elsewhere.sd_jwt, &["level"]);
    assert_eq!(w.code_with(&shown, &w.policy(), &good), "STATUS_UNAVAILABLE");
}
