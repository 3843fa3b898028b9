//! Presentations verified per second per core: a holder-bound DBS credential with four
//! selectively disclosable claims (two disclosed), a key-binding JWT and a status list check —
//! three ES256 signature checks and a status list decompression per presentation. The baseline,
//! measured in the same run, is one bare ES256 signature check, so the ratio shows what the
//! SD-JWT machinery adds on top of the cryptography. A status list verified before (as the service
//! keeps them) saves one signature check and the decompression. Run: `cargo bench -p scaffold-attest`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::pedantic, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scaffold_attest::{
    Binding, Credential, KeyBinding, Parsed, Policy, PublicKey, SigningKey, StatusList, StatusLookupError, StatusRef,
    StatusSource, StatusToken, TrustedIssuer, TypePolicy, issue, present, verify,
};
use serde_json::{Map, json};
use std::hint::black_box;
use std::sync::Arc;

const ISS: &str = "https://wigan.scaffold.example";
const VCT: &str = "https://wigan.scaffold.example/vct/dbs-check/v1";
const LIST: &str = "https://wigan.scaffold.example/status-lists/1";
const NOW: i64 = 1_795_000_000;

struct One(String);

impl StatusSource for One {
    fn token(&self, _uri: &str) -> Option<String> {
        Some(self.0.clone())
    }
}

/// A list verified before (as the service keeps peers' lists within their `ttl`, and reads its
/// own from the store).
struct Kept(Arc<StatusList>);

impl StatusSource for Kept {
    fn token(&self, _uri: &str) -> Option<String> {
        None
    }

    fn list(&self, _uri: &str, _keys: &[PublicKey], _now: i64) -> Result<Arc<StatusList>, StatusLookupError> {
        Ok(self.0.clone())
    }
}

fn bench(c: &mut Criterion) {
    let (issuer, _) = SigningKey::generate("issuer").unwrap();
    let (holder, _) = SigningKey::generate("holder").unwrap();
    let mut selective = Map::new();
    for (k, v) in [
        ("level", json!("enhanced")),
        ("barred_lists", json!(["children"])),
        ("workforce", json!("child")),
        ("update_service", json!("no_new_information")),
    ] {
        let _ = selective.insert(k.into(), v);
    }
    let credential = Credential {
        iss: ISS.into(),
        vct: VCT.into(),
        iat: NOW - 3600,
        exp: NOW + 86_400,
        selective,
        holder: Some(holder.public()),
        status: Some(StatusRef { uri: LIST.into(), idx: 4242 }),
        decoys: 2,
        ..Credential::default()
    };
    let issued = issue(&issuer, &credential).unwrap();
    let binding = Binding { key: &holder, aud: "matcher", nonce: "n", iat: NOW };
    let shown = present(&issued.sd_jwt, &["level", "barred_lists"], Some(&binding)).unwrap();
    let status = One(StatusList::new(131_072).sign(&issuer, LIST, NOW, NOW + 3600, 300).unwrap());
    let issuers = vec![TrustedIssuer { iss: ISS.into(), keys: vec![issuer.public()] }];
    let types = vec![TypePolicy { vct: VCT.into(), max_age_secs: None }];
    let policy = Policy {
        now: NOW,
        skew_secs: 60,
        issuers: &issuers,
        types: &types,
        key_binding: Some(KeyBinding { aud: "matcher", nonce: "n", max_age_secs: 300 }),
    };
    assert!(verify(&shown, &policy, &status).is_ok());
    let jwt = shown.split('~').next().unwrap().to_owned();
    let key = issuer.public();

    let mut g = c.benchmark_group("attest");
    let _ = g.throughput(Throughput::Elements(1));
    let _ = g.bench_function("baseline: one ES256 signature check", |b| {
        b.iter(|| black_box(Parsed::parse(black_box(&jwt)).unwrap().verifies_with(&key)));
    });
    let _ = g.bench_function("verify a presentation (KB-JWT, status list)", |b| {
        b.iter(|| black_box(verify(black_box(&shown), &policy, &status).is_ok()));
    });
    let kept = Kept(Arc::new(StatusToken::verify(&status.0, LIST, &[issuer.public()], NOW).unwrap().list));
    assert!(verify(&shown, &policy, &kept).is_ok());
    let _ = g.bench_function("verify a presentation (KB-JWT, status list verified before)", |b| {
        b.iter(|| black_box(verify(black_box(&shown), &policy, &kept).is_ok()));
    });
    let no_status = Policy { key_binding: None, ..policy.clone() };
    let unlisted = issue(&issuer, &Credential { status: None, holder: None, ..credential.clone() }).unwrap();
    let plain_unlisted = present(&unlisted.sd_jwt, &["level", "barred_lists"], None).unwrap();
    assert!(verify(&plain_unlisted, &no_status, &status).is_ok());
    let _ = g.bench_function("verify a presentation (no KB-JWT, no status)", |b| {
        b.iter(|| black_box(verify(black_box(&plain_unlisted), &no_status, &status).is_ok()));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
