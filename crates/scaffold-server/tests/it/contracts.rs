//! The committed contracts match the code. Run with `SCAFFOLD_UPDATE_CONTRACTS=1` to rewrite them
//! after an intended change, and review the diff.

use crate::common::app;

fn check(path: &str, generated: &str) {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    if std::env::var("SCAFFOLD_UPDATE_CONTRACTS").is_ok() {
        std::fs::write(&full, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(
        committed == generated,
        "{path} is out of date: run `SCAFFOLD_UPDATE_CONTRACTS=1 cargo test -p scaffold-server contracts` and commit it"
    );
}

#[test]
fn openapi_document_is_committed() {
    check("openapi/openapi.json", &scaffold_rest::openapi_pretty());
}

#[test]
fn graphql_schema_is_committed() {
    let sdl = scaffold_graphql::sdl();
    assert!(sdl.contains(r#"@key(fields: "id")"#) && sdl.contains(r#"@key(fields: "slug")"#));
    check("openapi/schema.graphql", &sdl);
}

#[tokio::test]
async fn served_openapi_is_the_committed_one_and_is_3_1() {
    let app = app().await;
    let served = app.http.get("/api/v1/openapi.json").send().await.json();
    let generated: serde_json::Value = serde_json::from_str(&scaffold_rest::openapi_pretty()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(served["openapi"], "3.1.0");
    assert!(served["paths"]["/api/v1/groups"]["post"].is_object());
}

/// Every status the server can answer is in the document: a change to an archived group's
/// events and occurrences is 409 GROUP_ARCHIVED, and each of those operations lists 409.
#[tokio::test]
async fn changes_under_an_archived_group_are_409_as_the_document_says() {
    let app = crate::common::app().await;
    let owner = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write", "rsvp:write"]).await;
    let g = app.group(&owner.token, crate::common::group_named("archived-club", serde_json::json!({}))).await;
    let series = serde_json::json!({ "title": "Tea", "summary": "Weekly", "start": "2026-04-07T10:00",
        "end": "2026-04-07T12:00", "rrule": "FREQ=WEEKLY", "online_url": "https://example.org/tea" });
    let e = app.http.post("/api/v1/groups/archived-club/events").token(&owner.token).json(&series).send().await.json();
    let id = e["id"].as_str().unwrap().to_owned();
    let gid = g["id"].as_str().unwrap();
    let res = app
        .http
        .post(&format!("/api/v1/groups/{gid}/archive"))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let occurrence = format!("/api/v1/events/{id}/occurrences/2026-04-14T10:00");
    let res =
        app.http.put(&occurrence).token(&owner.token).json(&serde_json::json!({ "status": "cancelled" })).send().await;
    res.problem(409, "GROUP_ARCHIVED");
    app.http.delete(&occurrence).token(&owner.token).send().await.problem(409, "GROUP_ARCHIVED");
    let res = app
        .http
        .put(&format!("/api/v1/events/{id}"))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .json(&series)
        .send()
        .await;
    res.problem(409, "GROUP_ARCHIVED");

    let doc = scaffold_rest::openapi();
    for (path, method) in [
        ("/api/v1/events/{event}/occurrences/{local_start}", "put"),
        ("/api/v1/events/{event}/occurrences/{local_start}", "delete"),
        ("/api/v1/events/{event}", "put"),
        ("/api/v1/events/{event}", "delete"),
        ("/api/v1/events/{event}/occurrences/{local_start}/rsvps/{person}/check-in", "post"),
    ] {
        assert!(doc["paths"][path][method]["responses"]["409"].is_object(), "{method} {path} lists 409");
    }
}

/// `docs/api.md`'s table of error codes is the catalogue (`scaffold-domain/src/codes.rs`).
#[test]
fn the_error_code_table_is_the_catalogue() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let begin = doc.find("<!-- codes:begin").expect("docs/api.md has the codes:begin marker");
    let begin = begin + doc[begin..].find("-->").unwrap() + 3;
    let end = doc.find("<!-- codes:end -->").expect("docs/api.md has the codes:end marker");
    let generated = format!("\n{}", scaffold_domain::codes::markdown_table());
    if std::env::var("SCAFFOLD_UPDATE_CONTRACTS").is_ok() {
        std::fs::write(&path, format!("{}{generated}{}", &doc[..begin], &doc[end..])).unwrap();
        return;
    }
    assert!(
        doc[begin..end] == generated,
        "docs/api.md's code table is out of date: run `SCAFFOLD_UPDATE_CONTRACTS=1 cargo test -p scaffold-server contracts`"
    );
}

/// The Rust sources outside test modules, with comments dropped: (file, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(&crates).unwrap() {
        let src = c.unwrap().path().join("src");
        if src.is_dir() {
            walk(&src, &mut files);
        }
    }
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String =
                text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
            (f.display().to_string(), code)
        })
        .collect()
}

/// String literals shaped like error codes (`SOME_CODE`).
fn code_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in text.split('"').skip(1).step_by(2) {
        let shaped = piece.len() >= 4
            && piece.contains('_')
            && !piece.starts_with('_')
            && !piece.ends_with('_')
            && piece.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if shaped {
            out.push(piece.to_owned());
        }
    }
    out
}

/// Every code the code uses is in the catalogue (or the verifier's rejection list), written as
/// its constant; every catalogued code is used. Upper-case strings that are not codes (variable
/// names of the environment) are named here.
#[test]
fn every_code_is_catalogued_and_every_catalogued_code_is_used() {
    const NOT_CODES: &[&str] =
        &["CARGO_MANIFEST_DIR", "OUT_DIR", "DATABASE_URL", "SCAFFOLD_TEST_STORE", "SCAFFOLD_TEST_PG_URL"];
    let catalogued = |c: &str| scaffold_domain::codes::is_known(c) || scaffold_attest::codes::ALL.contains(&c);
    let mut uncatalogued = Vec::new();
    let mut literal = Vec::new();
    let sources = sources();
    for (file, text) in &sources {
        if file.ends_with("codes.rs") {
            continue;
        }
        // OpenAPI response descriptions name codes in attributes, which take only literals.
        let mut rest = text.clone();
        for described in text.split("description = \"").skip(1) {
            let code = described.split('"').next().unwrap_or_default();
            if code_literals(&format!("\"{code}\"")).len() == 1 {
                if !catalogued(code) {
                    uncatalogued.push(format!("{file}: {code}"));
                }
                rest = rest.replace(&format!("description = \"{code}\""), "");
            }
        }
        for code in code_literals(&rest) {
            if NOT_CODES.contains(&code.as_str()) || code.starts_with("SCAFFOLD_") {
                continue;
            }
            if catalogued(&code) {
                literal.push(format!("{file}: \"{code}\" (use codes::{code})"));
            } else {
                uncatalogued.push(format!("{file}: {code}"));
            }
        }
    }
    assert!(uncatalogued.is_empty(), "codes missing from scaffold-domain/src/codes.rs: {uncatalogued:#?}");
    assert!(literal.is_empty(), "codes written as literals: {literal:#?}");
    let all: String = sources.iter().filter(|(f, _)| !f.ends_with("codes.rs")).map(|(_, t)| t.as_str()).collect();
    for section in scaffold_domain::codes::CATALOGUE {
        for (code, _) in section.codes {
            // Id types name their not-found code in `id_type!` (scaffold-domain/src/ids.rs).
            let used = all.contains(&format!("codes::{code}")) || all.contains(&format!(", {code}, \""));
            assert!(used, "{code} is catalogued but never used");
        }
    }
    let verifiers =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/verifiers.md"))
            .unwrap();
    for code in scaffold_attest::codes::ALL {
        assert!(all.contains(&format!("codes::{code}")), "{code} is listed but never used");
        assert!(verifiers.contains(&format!("`{code}`")), "{code} is not explained in docs/verifiers.md");
    }
}
