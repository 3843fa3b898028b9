//! The Open Referral UK read API: every endpoint's answers validated against the ORUK schemas
//! (tests/oruk/schemas) by an independent validator (PyPI `jsonschema`, from tests/oruk;
//! `scripts/test` sets `SCAFFOLD_TEST_ORUK_PYTHON`), and the ORUK paging rules.

use crate::common::{TestApp, app, group_named};
use serde_json::{Value, json};

/// The validator's errors for `doc` against one of the copied schemas (empty when valid).
fn oruk_errors(schema: &str, doc: &Value) -> Vec<Value> {
    let python = std::env::var("SCAFFOLD_TEST_ORUK_PYTHON").expect(
        "SCAFFOLD_TEST_ORUK_PYTHON must name a Python with tests/oruk/requirements.txt installed (scripts/test sets it)",
    );
    let dir = scaffold_testkit::temp_dir();
    let file = dir.join("doc.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oruk/validate.py");
    let out = std::process::Command::new(python).arg(script).arg(schema).arg(&file).output().unwrap();
    assert!(out.status.success(), "the validator failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn valid(schema: &str, doc: &Value) {
    let errors = oruk_errors(schema, doc);
    assert!(errors.is_empty(), "{schema}: {errors:?}\n{doc}");
}

/// The ORUK paging members, consistent with each other.
fn paged(body: &Value, total: u64, page: u64, per_page: u64) {
    let size = body["contents"].as_array().unwrap().len() as u64;
    let pages = total.div_ceil(per_page);
    assert_eq!(body["total_items"], total, "{body}");
    assert_eq!(body["total_pages"], pages, "{body}");
    assert_eq!(body["page_number"], page, "{body}");
    assert_eq!(body["size"], size, "{body}");
    assert_eq!(body["first_page"], page == 1, "{body}");
    assert_eq!(body["last_page"], page >= pages, "{body}");
    assert_eq!(body["empty"], size == 0, "{body}");
}

async fn get(app: &TestApp, path: &str) -> Value {
    let res = app.http.get(path).send().await;
    assert_eq!(res.status, 200, "{path}: {}", res.text);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"), "{path}");
    res.json()
}

#[tokio::test]
async fn the_directory_speaks_open_referral_uk_and_passes_its_schemas() {
    let app = app().await;
    let owner = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write"]).await;
    let g = app.group(&owner.token, crate::common::techmates()).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let ids = format!("/api/v1/groups/{gid}/identifiers/GB-CHC");
    app.http.put(&ids).token(&owner.token).json(&json!({ "value": "1123456" })).send().await;
    app.http.post(&format!("{ids}/verify")).token(&app.operator).send().await;
    for slug in ["allotment-friends", "book-circle", "choir-practice"] {
        app.group(&owner.token, group_named(slug, json!({}))).await;
    }
    app.group(&owner.token, group_named("hidden-club", json!({ "visibility": "private" }))).await;
    let series = json!({
        "title": "TechMates tea party", "summary": "Help with phones",
        "start": "2026-04-07T10:00", "end": "2026-04-07T12:00", "rrule": "FREQ=WEEKLY;INTERVAL=2",
        "place": { "name": "Wigan Library", "address": "The Wiend", "postcode": "WN1 1NU" },
        "accessibility": ["step-free", "hearing-loop"], "price_pence": 150
    });
    let res = app.http.post(&format!("/api/v1/groups/{gid}/events")).token(&owner.token).json(&series).send().await;
    assert_eq!(res.status, 201, "{}", res.text);

    let about = get(&app, "/oruk/").await;
    valid("api_details.json", &about);
    assert_eq!(about["version"], "HSDS-UK-3.0");

    // Organisations: public groups only, in numbered pages.
    let all = get(&app, "/oruk/organizations?per_page=2").await;
    paged(&all, 4, 1, 2);
    for item in all["contents"].as_array().unwrap() {
        valid("organization_list.json", item);
    }
    let last = get(&app, "/oruk/organizations?per_page=2&page=2").await;
    paged(&last, 4, 2, 2);
    let beyond = get(&app, "/oruk/organizations?per_page=2&page=9").await;
    paged(&beyond, 4, 9, 2);
    let names: Vec<&str> = [&all, &last]
        .iter()
        .flat_map(|p| p["contents"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()))
        .collect();
    assert!(!names.iter().any(|n| n.contains("hidden")), "{names:?}");
    let org = get(&app, &format!("/oruk/organizations/{gid}")).await;
    valid("organization.json", &org);
    assert_eq!(org["organization_identifiers"][0]["identifier_scheme"], "GB-CHC", "{org}");
    assert_eq!(org["organization_identifiers"][0]["identifier"], "1123456");
    assert!(org.as_object().unwrap().values().all(|v| !v.is_null()), "no nulls: {org}");

    // Services: the series as a schedule, its place as a location, its price as a cost option.
    let found = get(&app, "/oruk/services?search=techmates").await;
    paged(&found, 1, 1, 50);
    valid("service_list.json", &found["contents"][0]);
    let text = get(&app, "/oruk/services?text=techmates").await;
    assert_eq!(text["total_items"], 1, "ORUK 1.0's `text` works too");
    let svc = get(&app, &format!("/oruk/services/{gid}")).await;
    valid("service.json", &svc);
    let schedule = &svc["schedules"][0];
    assert_eq!(
        (schedule["freq"].clone(), schedule["interval"].clone(), schedule["byday"].clone()),
        (json!("WEEKLY"), json!(2), json!("TU")),
        "{svc}"
    );
    assert_eq!(
        (schedule["opens_at"].clone(), schedule["closes_at"].clone()),
        (json!("10:00+01:00"), json!("12:00+01:00"))
    );
    assert_eq!(svc["service_at_locations"][0]["location"]["name"], "Wigan Library");
    assert_eq!(svc["cost_options"][0]["amount"], 1.5);
    assert_eq!(svc["organization"]["id"], gid.as_str());

    // The categories as a taxonomy; services found by one of its terms, and linked to theirs.
    let taxonomies = get(&app, "/oruk/taxonomies").await;
    paged(&taxonomies, 1, 1, 50);
    valid("taxonomy.json", &taxonomies["contents"][0]);
    let terms = get(&app, "/oruk/taxonomy_terms?per_page=100").await;
    let list = terms["contents"].as_array().unwrap();
    paged(&terms, list.len() as u64, 1, 100);
    for t in list {
        valid("taxonomy_term.json", t);
    }
    let digital = list.iter().find(|t| t["term"] == "digital-inclusion").unwrap();
    assert_eq!(digital["name"], "Digital skills");
    let term_id = digital["id"].as_str().unwrap();
    let by_term = get(&app, &format!("/oruk/services?taxonomy_term_id={term_id}")).await;
    paged(&by_term, 1, 1, 50);
    assert_eq!(by_term["contents"][0]["id"], gid.as_str());
    assert!(svc["attributes"].as_array().unwrap().iter().any(|a| a["taxonomy_term_id"] == term_id), "{svc}");
    let unknown = "/oruk/services?taxonomy_term_id=00000000-0000-0000-0000-000000000000";
    app.http.get(unknown).send().await.problem(422, "VALIDATION_FAILED");

    // Faults: problems, and nothing private.
    let private = app.http.get("/api/v1/groups/hidden-club").token(&owner.token).send().await.json();
    let hidden = private["id"].as_str().unwrap();
    app.http.get(&format!("/oruk/services/{hidden}")).send().await.problem(404, "GROUP_NOT_FOUND");
    app.http.get("/oruk/services/not-an-id").send().await.problem(404, "GROUP_NOT_FOUND");
    app.http.get("/oruk/services?per_page=500").send().await.problem(422, "VALIDATION_FAILED");
    app.http.get("/oruk/services?page=0").send().await.problem(422, "VALIDATION_FAILED");
    app.http.get("/oruk/services?colour=red").send().await.problem(422, "VALIDATION_FAILED");
    let long = format!("/oruk/services?search={}", "tea+".repeat(40));
    let p = app.http.get(&long).send().await.problem(422, "VALIDATION_FAILED");
    assert_eq!(p["errors"][0]["code"], "TOO_LONG", "{p}");
}

#[tokio::test]
async fn services_are_found_by_postcode_proximity_and_time_of_change_and_bad_filters_are_refused() {
    let (app, clock) = crate::common::app_with_clock(scaffold_server::app::AppOptions::default()).await;
    let owner = app.person("Ada", &["groups:read", "groups:write"]).await;
    // WN1 (Wigan), WN7 (Leigh, about 10 km away), M1 (Manchester, about 25 km).
    for (slug, outcode) in [("wigan-tea", "WN1"), ("leigh-tea", "WN7"), ("city-tea", "M1")] {
        app.group(&owner.token, group_named(slug, json!({ "area": { "outcode": outcode } }))).await;
    }
    clock.advance(chrono::Duration::hours(2));
    app.group(&owner.token, group_named("new-tea", json!({ "area": { "outcode": "WN1" } }))).await;
    let names = |body: &Value| -> Vec<String> {
        body["contents"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&get(&app, "/oruk/services?postcode=wn11ns").await), ["Group new-tea", "Group wigan-tea"]);
    let body = get(&app, "/oruk/services?postcode=WN1%201NS").await;
    assert_eq!(names(&body), ["Group new-tea", "Group wigan-tea"], "the postcode's district");
    paged(&body, 2, 1, 50);
    let body = get(&app, "/oruk/services?postcode=wn1+1ns&proximity=15000").await;
    assert_eq!(names(&body), ["Group leigh-tea", "Group new-tea", "Group wigan-tea"]);
    for item in body["contents"].as_array().unwrap() {
        valid("service_list.json", item);
    }
    let body = get(&app, "/oruk/organizations?postcode=WN1&proximity=40000&per_page=2&page=2").await;
    paged(&body, 4, 2, 2);
    let after = (scaffold_domain::Clock::now(&*clock) - chrono::Duration::minutes(30)).to_rfc3339();
    let body = get(&app, &format!("/oruk/services?modified_after={}", after.replace('+', "%2B"))).await;
    assert_eq!(names(&body), ["Group new-tea"]);
    for (query, pointer) in [
        ("postcode=XX99", "/postcode"),
        ("postcode=WN1&proximity=-5", "/proximity"),
        ("postcode=WN1&proximity=999999", "/proximity"),
        ("proximity=100", "/postcode"),
        ("modified_after=yesterday", "/modified_after"),
    ] {
        let res = app.http.get(&format!("/oruk/services?{query}")).send().await;
        assert_eq!(res.status, 422, "{query}: {}", res.text);
        assert_eq!(res.json()["errors"][0]["pointer"], pointer, "{query}: {}", res.text);
    }
}
