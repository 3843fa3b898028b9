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
