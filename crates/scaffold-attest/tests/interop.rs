//! Interop with two independent SD-JWT VC implementations (`tests/attest`): npm
//! `@sd-jwt/sd-jwt-vc` 0.19.0 and PyPI `sd-jwt` 0.10.4 verify what we issue (chosen disclosures and
//! a key-binding JWT) and reject it when tampered; we verify what they issue with a key we trust.
//! Needs `npm ci` in `tests/attest` and `SCAFFOLD_TEST_ATTEST_PYTHON` naming a Python with
//! `tests/attest/requirements.txt` installed (`scripts/test` sets both up).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::pedantic,
    unused_results
)]

use scaffold_attest::{
    Binding, Credential, KeyBinding, NoStatus, Policy, SigningKey, TrustedIssuer, TypePolicy, issue, present, verify,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const ISS: &str = "https://wigan.scaffold.example";
const VCT: &str = "https://wigan.scaffold.example/vct/dbs-check/v1";
const NOW: i64 = 1_795_000_000;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/attest")
}

/// Runs one of the harness scripts with `input` on stdin and returns its JSON output.
fn run(peer: &str, script: &str, input: &Value) -> Value {
    let mut cmd = match peer {
        "node" => {
            assert!(
                dir().join("node_modules/@sd-jwt/sd-jwt-vc").exists(),
                "run `npm ci` in tests/attest (scripts/test does)"
            );
            let mut c = Command::new("node");
            let _ = c.arg(dir().join(format!("{script}.mjs")));
            c
        }
        _ => {
            let python = std::env::var("SCAFFOLD_TEST_ATTEST_PYTHON").expect(
                "SCAFFOLD_TEST_ATTEST_PYTHON must name a Python with tests/attest/requirements.txt installed (scripts/test sets it)",
            );
            let mut c = Command::new(python);
            let _ = c.arg(dir().join(format!("{script}.py")));
            c
        }
    };
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{peer} {script}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn private_jwk(der: &[u8], public: &Value) -> Value {
    // The harness needs the private scalar `d`: PKCS#8 for P-256 from aws-lc-rs ends with the
    // public key, and the 32-byte private key follows the `04 20` OCTET STRING header.
    let at = der.windows(2).position(|w| w == [0x04, 0x20]).unwrap() + 2;
    let d = &der[at..at + 32];
    let mut jwk = public.clone();
    jwk["d"] = json!(base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, d));
    jwk
}

fn claims() -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in [
        ("level", json!("enhanced")),
        ("barred_lists", json!(["children"])),
        ("workforce", json!("child")),
        ("decision", json!("suitable")),
    ] {
        let _ = m.insert(k.into(), v);
    }
    m
}

#[test]
fn the_npm_and_python_libraries_verify_what_we_issue_and_reject_tampering() {
    let (issuer, _) = SigningKey::generate("issuer-2026").unwrap();
    let (holder, _) = SigningKey::generate("holder").unwrap();
    let credential = Credential {
        iss: ISS.into(),
        vct: VCT.into(),
        iat: NOW - 3600,
        nbf: Some(NOW - 3600),
        exp: NOW + 86_400,
        selective: claims(),
        holder: Some(holder.public()),
        decoys: 3,
        ..Credential::default()
    };
    let issued = issue(&issuer, &credential).unwrap();
    let binding = Binding { key: &holder, aud: "casserole-matcher", nonce: "n-42", iat: NOW - 5 };
    let shown = present(&issued.sd_jwt, &["level", "barred_lists"], Some(&binding)).unwrap();
    for peer in ["node", "python"] {
        let input = |presentation: &str, aud: &str, nonce: &str| {
            json!({ "presentation": presentation, "issuer_jwk": issuer.public().to_jwk(), "aud": aud,
                "nonce": nonce, "now": NOW, "require_kb": true })
        };
        let out = run(peer, "verify", &input(&shown, "casserole-matcher", "n-42"));
        assert_eq!(out["valid"], true, "{peer}: {out}");
        assert_eq!(out["claims"]["level"], "enhanced", "{peer}");
        assert_eq!(out["claims"]["barred_lists"], json!(["children"]), "{peer}");
        assert!(out["claims"].get("workforce").is_none(), "{peer}: only the chosen claims");
        assert_eq!(out["claims"]["iss"], ISS, "{peer}");
        for (what, presentation, aud, nonce) in [
            ("wrong audience", shown.clone(), "someone-else", "n-42"),
            ("wrong nonce", shown.clone(), "casserole-matcher", "n-43"),
            (
                "tampered disclosure",
                shown.replacen('~', "~WyJzYWx0IiwibGV2ZWwiLCJiYXNpYyJd~", 1),
                "casserole-matcher",
                "n-42",
            ),
        ] {
            let out = run(peer, "verify", &input(&presentation, aud, nonce));
            assert_eq!(out["valid"], false, "{peer} accepted a presentation with a {what}: {out}");
        }
    }
}

#[test]
fn we_verify_what_the_npm_and_python_libraries_issue() {
    let (issuer, issuer_der) = SigningKey::generate("peer-issuer").unwrap();
    let (holder, holder_der) = SigningKey::generate("peer-holder").unwrap();
    let issuer_jwk = private_jwk(&issuer_der, &issuer.public().to_jwk());
    let holder_jwk = private_jwk(&holder_der, &holder.public().to_jwk());
    let issuers = vec![TrustedIssuer { iss: ISS.into(), keys: vec![issuer.public()] }];
    let types = vec![TypePolicy { vct: VCT.into(), max_age_secs: None }];
    let policy = Policy {
        now: NOW,
        skew_secs: 60,
        issuers: &issuers,
        types: &types,
        key_binding: Some(KeyBinding { aud: "casserole-matcher", nonce: "n-7", max_age_secs: 300 }),
    };
    for peer in ["node", "python"] {
        let out = run(
            peer,
            "issue",
            &json!({ "issuer_jwk": issuer_jwk, "holder_jwk": holder_jwk, "iss": ISS, "vct": VCT, "iat": NOW - 60,
                "exp": NOW + 3600, "claims": claims(), "reveal": ["level", "decision"], "aud": "casserole-matcher",
                "nonce": "n-7", "kb_iat": NOW - 2, "decoys": 2 }),
        );
        let presentation = out["presentation"].as_str().unwrap();
        let ok = verify(presentation, &policy, &NoStatus).unwrap_or_else(|r| panic!("{peer}: {r:?}"));
        assert_eq!(ok.disclosed, BTreeSet::from(["decision".to_owned(), "level".to_owned()]), "{peer}");
        assert_eq!(ok.claims["level"], "enhanced", "{peer}");
        assert!(ok.key_bound, "{peer}");
        let wrong = Policy {
            key_binding: Some(KeyBinding { aud: "other", nonce: "n-7", max_age_secs: 300 }),
            ..policy.clone()
        };
        assert_eq!(verify(presentation, &wrong, &NoStatus).unwrap_err().code, "KB_WRONG_AUD", "{peer}");
    }
}
