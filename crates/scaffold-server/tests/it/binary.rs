//! The `scaffold` binary as a user runs it: first start on an empty directory, restarts, graceful
//! shutdown under load, and the contract-printing commands.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_scaffold");

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    stdout: Vec<String>,
}

fn command(dir: &Path, db: Option<&str>) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env_remove("RUST_LOG").env_remove("DATABASE_URL");
    if let Some(url) = db {
        c.env("DATABASE_URL", url);
    }
    c
}

/// Starts `scaffold serve` on a free port and waits until it prints its address (and the
/// bootstrap token, on a first run).
async fn start(dir: &Path, db: Option<&str>) -> Server {
    start_with(dir, db, &[]).await
}

/// Starts `scaffold serve` with extra `SCAFFOLD_*` settings.
pub(crate) async fn start_with(dir: &Path, db: Option<&str>, env: &[(&str, &str)]) -> Server {
    start_at(dir, db, "127.0.0.1:0", env).await
}

/// Starts `scaffold serve` on `listen` with extra `SCAFFOLD_*` settings.
pub(crate) async fn start_at(dir: &Path, db: Option<&str>, listen: &str, env: &[(&str, &str)]) -> Server {
    let mut c = command(dir, db);
    c.args(["serve", "--listen", listen, "--migrate"]).stdout(Stdio::piped()).stderr(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("server exited before listening");
            stdout.push(line.clone());
            if let Some(rest) = line.strip_prefix("Community Scaffold is listening on http://") {
                return rest.trim().to_owned();
            }
        }
    })
    .await
    .unwrap();
    // The token, when printed, comes a few lines later; read what is already there.
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(300), lines.next_line()).await {
        stdout.push(line);
    }
    Server { child, addr, stdout }
}

impl Server {
    pub(crate) fn token(&self) -> Option<String> {
        self.stdout.iter().find_map(|l| l.trim().strip_prefix("scf_").map(|t| format!("scf_{t}")))
    }

    pub(crate) async fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.child);
        tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.unwrap().unwrap()
    }
}

pub(crate) fn terminate(child: &Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
}

/// A minimal HTTP/1.1 client (one request per connection).
pub(crate) async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(addr).await?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12).and_then(|c| c.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let payload = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, serde_json::from_str(payload).unwrap_or(Value::Null)))
}

pub(crate) async fn db_and_dir() -> (PathBuf, Option<String>) {
    let dir = scaffold_testkit::temp_dir();
    let db = match scaffold_testkit::StoreKind::from_env() {
        scaffold_testkit::StoreKind::Sqlite => None,
        scaffold_testkit::StoreKind::Postgres => Some(scaffold_testkit::database_url().await),
    };
    (dir, db)
}

#[tokio::test]
async fn serve_on_an_empty_directory_just_works_and_survives_a_restart() {
    let (dir, db) = db_and_dir().await;
    let server = start(&dir, db.as_deref()).await;
    if db.is_none() {
        assert!(dir.join("data/scaffold.db").exists(), "the default SQLite file is created");
    }
    let token = server.token().expect("first run prints an operator token");
    let body = json!({ "slug": "restart-club", "name": "Restart Club", "summary": "Still here after a restart" });
    let (status, created) = http(&server.addr, "POST", "/api/v1/groups", Some(&token), Some(&body)).await.unwrap();
    assert_eq!(status, 201, "{created}");
    let gql = json!({ "query": "{ group(slug: \"restart-club\") { name } }" });
    let (_, res) = http(&server.addr, "POST", "/graphql", None, Some(&gql)).await.unwrap();
    assert_eq!(res["data"]["group"]["name"], "Restart Club");
    assert!(server.stop().await.success());

    let again = start(&dir, db.as_deref()).await;
    assert_eq!(again.token(), None, "the bootstrap token is printed only once");
    let (status, read) = http(&again.addr, "GET", "/api/v1/groups/restart-club", None, None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(read["id"], created["id"]);
    let (status, _) = http(&again.addr, "GET", "/api/v1/me", Some(&token), None).await.unwrap();
    assert_eq!(status, 200, "the stored (hashed) token still works");
    assert!(again.stop().await.success());
}

#[tokio::test]
async fn sigterm_under_load_loses_no_acknowledged_write() {
    let (dir, db) = db_and_dir().await;
    let server = start(&dir, db.as_deref()).await;
    let token = server.token().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    let first_ack = std::sync::Arc::new(tokio::sync::Notify::new());
    for i in 0..60 {
        let (addr, token, first_ack) = (server.addr.clone(), token.clone(), first_ack.clone());
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 5)).await;
            let body = json!({ "slug": format!("load-{i}"), "name": format!("Load {i}"), "summary": "s" });
            let res = http(&addr, "POST", "/api/v1/groups", Some(&token), Some(&body)).await;
            if matches!(res, Ok((201, _))) {
                first_ack.notify_one();
            }
            res
        });
    }
    // Stop the server once writes are being acknowledged, while more are still arriving.
    tokio::time::timeout(Duration::from_secs(60), first_ack.notified()).await.unwrap();
    terminate(&server.child);
    let mut acknowledged = Vec::new();
    while let Some(r) = tasks.join_next().await {
        if let Ok((201, body)) = r.unwrap() {
            acknowledged.push(body["slug"].as_str().unwrap().to_owned());
        }
    }
    let mut child = server.child;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "graceful shutdown exits 0");
    assert!(!acknowledged.is_empty(), "some writes were acknowledged before the signal");

    let again = start(&dir, db.as_deref()).await;
    for slug in &acknowledged {
        let (status, _) = http(&again.addr, "GET", &format!("/api/v1/groups/{slug}"), None, None).await.unwrap();
        assert_eq!(status, 200, "acknowledged group {slug} was lost");
    }
    assert!(again.stop().await.success());
}

async fn output(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = command(dir, None);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().await.unwrap()
}

#[tokio::test]
async fn contract_commands_print_the_committed_files() {
    let dir = scaffold_testkit::temp_dir();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = output(&dir, &["openapi"], &[]).await;
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        std::fs::read_to_string(root.join("openapi/openapi.json")).unwrap()
    );
    let out = output(&dir, &["graphql-schema"], &[]).await;
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        std::fs::read_to_string(root.join("openapi/schema.graphql")).unwrap()
    );
    for cmd in [&["--help"][..], &["serve", "--help"], &["migrate", "--help"], &["token", "create", "--help"]] {
        let out = output(&dir, cmd, &[]).await;
        assert!(out.status.success(), "{cmd:?}");
        assert!(String::from_utf8(out.stdout).unwrap().contains("Usage:"));
    }
}

#[tokio::test]
async fn token_create_makes_a_working_scoped_key() {
    let (dir, db) = db_and_dir().await;
    let url = db.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("cli.db").display()));
    let out = output(&dir, &["migrate", "--database-url", &url], &[]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = output(
        &dir,
        &["token", "create", "--name", "Ada", "--scope", "groups:read,groups:write", "--database-url", &url],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let token = text.lines().find_map(|l| l.strip_prefix("token:").map(|t| t.trim().to_owned())).unwrap();
    let rotated = output(&dir, &["keys", "rotate", "--purpose", "attestation", "--database-url", &url], &[]).await;
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    assert!(String::from_utf8_lossy(&rotated.stdout).starts_with("new attestation key: attest-"));
    let bad = output(&dir, &["token", "create", "--scope", "groups:raed", "--database-url", &url], &[]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope `groups:raed`"));

    let invited = output(&dir, &["invite", "--name", "Bea", "--minutes", "30", "--database-url", &url], &[]).await;
    assert!(invited.status.success(), "{}", String::from_utf8_lossy(&invited.stderr));
    let text = String::from_utf8(invited.stdout).unwrap();
    let link = text.lines().find_map(|l| l.strip_prefix("link:").map(|t| t.trim().to_owned())).unwrap();
    let link = link.strip_prefix("http://127.0.0.1:8080").expect("on the configured public address").to_owned();

    let server = start(&dir, Some(&url)).await;
    let (status, me) = http(&server.addr, "GET", "/api/v1/me", Some(&token), None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(me["display_name"], "Ada");
    assert_eq!(me["scopes"], json!(["groups:read", "groups:write"]));
    let (status, _) = http(&server.addr, "POST", &link, None, None).await.unwrap();
    assert_eq!(status, 303, "the link printed by `invite` signs Bea in");
    let (status, _) = http(&server.addr, "POST", &link, None, None).await.unwrap();
    assert_eq!(status, 410, "once");
    assert!(server.stop().await.success());
}

#[tokio::test]
async fn bad_configuration_stops_the_server_with_a_clear_message() {
    let dir = scaffold_testkit::temp_dir();
    let out = output(&dir, &["serve"], &[("SCAFFOLD_SERVR__LISTEN", "127.0.0.1:1")]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("servr"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = output(&dir, &["serve", "--config", "missing.toml"], &[]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = output(&dir, &["serve", "--database-url", "mysql://x"], &[]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite:// or postgres://"));
}
