//! `scaffold verify`: the real binary checks a presentation offline from a trust list file and a
//! directory of cached status lists, prints the decision, and exits 0 only when it is valid.

use scaffold_attest::{Binding, Credential, SigningKey, StatusList, StatusRef, issue, present};
use serde_json::{Map, json};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_scaffold");
const ISS: &str = "https://wigan.scaffold.example";
const VCT: &str = "https://wigan.scaffold.example/vct/dbs-check/v1";
const LIST: &str = "https://wigan.scaffold.example/status-lists/1";
const NOW: i64 = 1_795_000_000;

fn run(dir: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["verify", "--presentation"])
        .arg(dir.join("presentation.txt"))
        .arg("--trust")
        .arg(dir.join("trust.json"))
        .arg("--status-dir")
        .arg(dir.join("status"))
        .args(["--at", &NOW.to_string()])
        .args(extra)
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_verifier_kit_checks_offline_and_reports_revocation() {
    let dir = scaffold_testkit::temp_dir();
    std::fs::create_dir_all(dir.join("status")).unwrap();
    let (issuer, _) = SigningKey::generate("issuer-2026").unwrap();
    let (holder, _) = SigningKey::generate("holder").unwrap();
    let mut selective = Map::new();
    let _ = selective.insert("level".into(), json!("enhanced"));
    let _ = selective.insert("workforce".into(), json!("child"));
    let credential = Credential {
        iss: ISS.into(),
        vct: VCT.into(),
        iat: NOW - 86_400,
        exp: NOW + 30 * 86_400,
        selective,
        holder: Some(holder.public()),
        status: Some(StatusRef { uri: LIST.into(), idx: 77 }),
        decoys: 2,
        ..Credential::default()
    };
    let issued = issue(&issuer, &credential).unwrap();
    let binding = Binding { key: &holder, aud: "casserole-matcher", nonce: "n-1", iat: NOW - 10 };
    let shown = present(&issued.sd_jwt, &["level"], Some(&binding)).unwrap();
    std::fs::write(dir.join("presentation.txt"), &shown).unwrap();
    let trust = json!({ "issuers": [{ "iss": ISS, "jwks": { "keys": [issuer.public().to_jwk()] } }],
        "types": [{ "vct": VCT, "max_age_days": 90 }] });
    std::fs::write(dir.join("trust.json"), trust.to_string()).unwrap();
    let mut list = StatusList::new(scaffold_attest::MIN_ENTRIES);
    std::fs::write(dir.join("status/1.jwt"), list.sign(&issuer, LIST, NOW - 60, NOW + 3600, 300).unwrap()).unwrap();

    let (ok, out) = run(&dir, &["--aud", "casserole-matcher", "--nonce", "n-1"]);
    assert!(ok, "{out}");
    assert!(out.starts_with("VALID") && out.contains("level: \"enhanced\"") && !out.contains("workforce"), "{out}");
    assert!(out.contains("key binding checked") && out.contains("not revoked"), "{out}");

    // Without --aud and --nonce a holder-bound credential is refused, unless the verifier says
    // explicitly that it checks the holder another way.
    let (ok, out) = run(&dir, &[]);
    assert!(!ok && out.starts_with("INVALID") && out.contains("HOLDER_NOT_CHECKED"), "{out}");
    let (ok, out) = run(&dir, &["--skip-holder-check"]);
    assert!(ok && out.contains("holder:   NOT checked (--skip-holder-check)"), "{out}");
    let (ok, out) = run(&dir, &["--skip-holder-check", "--aud", "casserole-matcher", "--nonce", "n-1"]);
    assert!(!ok && out.contains("cannot be used with"), "{out}");

    let (ok, out) = run(&dir, &["--aud", "someone-else", "--nonce", "n-1"]);
    assert!(!ok && out.contains("KB_WRONG_AUD"), "{out}");
    let (ok, out) = run(&dir, &["--aud", "casserole-matcher", "--nonce", "n-2"]);
    assert!(!ok && out.contains("KB_WRONG_NONCE"), "{out}");

    // With a log of accepted nonces, the same presentation is accepted once.
    let log = dir.join("nonces.txt").display().to_string();
    let (ok, out) = run(&dir, &["--aud", "casserole-matcher", "--nonce", "n-1", "--seen-nonces", &log]);
    assert!(ok, "{out}");
    let (ok, out) = run(&dir, &["--aud", "casserole-matcher", "--nonce", "n-1", "--seen-nonces", &log]);
    assert!(!ok && out.contains("KB_NONCE_REUSED"), "a replayed presentation is refused: {out}");

    list.set(77, true).unwrap();
    // A cache that keeps history: the newest list (by iat) is the one that counts.
    std::fs::write(dir.join("status/0-newer.jwt"), list.sign(&issuer, LIST, NOW - 30, NOW + 3600, 300).unwrap())
        .unwrap();
    let (ok, out) = run(&dir, &["--aud", "casserole-matcher", "--nonce", "n-1"]);
    assert!(!ok, "{out}");
    assert!(out.starts_with("INVALID") && out.contains("REVOKED"), "{out}");

    std::fs::write(dir.join("trust.json"), "{\"issuers\": []}").unwrap();
    let (ok, out) = run(&dir, &[]);
    assert!(!ok && out.contains("is not a trust list"), "{out}");
}
