//! Two replicas of the real binary on one PostgreSQL behind a real reverse proxy (Debian's
//! haproxy, round robin, adding `X-Forwarded-For`), each request on a new connection so that
//! consecutive requests go to different replicas. Keys, idempotency, sessions, the public-read
//! cache, rate limits and the listing job's lease behave as with one replica. PostgreSQL only:
//! SQLite serves one replica (the configuration refuses more).

use crate::binary::{Server, db_and_dir, start_with};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Answer {
    status: u16,
    head: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// One request on a new connection, with extra headers.
async fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Answer {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    Answer { status, head: head.to_owned(), body: serde_json::from_str(payload).unwrap_or(Value::Null) }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn two_replicas_behind_haproxy_behave_as_one() {
    let (dir, Some(url)) = db_and_dir().await else {
        eprintln!("PostgreSQL only: SQLite serves one replica");
        return;
    };
    let env = [
        ("SCAFFOLD_SERVER__REPLICAS", "2"),
        ("SCAFFOLD_RATE_LIMITS__TRUST_FORWARDED_FOR", "true"),
        ("SCAFFOLD_RATE_LIMITS__PER_IP_PER_MINUTE", "60"),
        ("SCAFFOLD_CACHE__REFRESH_MILLIS", "300"),
    ];
    let a = start_with(&dir, Some(&url), &env).await;
    let b = start_with(&dir, Some(&url), &env).await;
    let operator = a.token().or_else(|| b.token()).expect("one replica created the operator");
    assert!(a.token().is_none() || b.token().is_none(), "the operator is created once");
    let port = free_port();
    let proxy = format!("127.0.0.1:{port}");
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  maxconn 512\ndefaults\n  mode http\n  option forwardfor\n  timeout connect 2s\n  \
             timeout client 30s\n  timeout server 30s\nfrontend scaffold\n  bind {proxy}\n  default_backend replicas\n\
             backend replicas\n  balance roundrobin\n  server a {}\n  server b {}\n",
            a.addr, b.addr
        ),
    )
    .unwrap();
    let mut haproxy = tokio::process::Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("haproxy (Debian: apt-get install haproxy; scripts/test installs it)");
    for _ in 0..100 {
        if TcpStream::connect(&proxy).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bearer = format!("Bearer {operator}");
    let auth = [("Authorization", bearer.as_str())];
    let mut requests = 0;

    // Keys: the operator's key works on both replicas.
    for _ in 0..4 {
        let me = call(&proxy, "GET", "/api/v1/me", &auth, None).await;
        assert_eq!(me.status, 200, "{:?}", me.body);
        requests += 1;
    }

    // Idempotency: the same key sent twice (to each replica) creates one group.
    let key = [("Authorization", bearer.as_str()), ("Idempotency-Key", "replicas-create-1")];
    let group = json!({ "slug": "replicated-tea", "name": "Replicated tea", "summary": "Tea, twice" });
    let first = call(&proxy, "POST", "/api/v1/groups", &key, Some(&group)).await;
    let second = call(&proxy, "POST", "/api/v1/groups", &key, Some(&group)).await;
    requests += 2;
    assert_eq!((first.status, second.status), (201, 201), "{:?} {:?}", first.body, second.body);
    assert_eq!(first.body["id"], second.body["id"], "the second answer is the first, replayed");
    let listed = call(&proxy, "GET", "/api/v1/groups?q=replicated", &auth, None).await;
    requests += 1;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1), "{:?}", listed.body);

    // Sessions: signed in through one replica, recognised by both.
    let link = call(&proxy, "POST", "/api/v1/sign-in-links", &auth, Some(&json!({ "display_name": "Bea" }))).await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let path = link.body["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:8080").to_owned();
    let signed =
        call(&proxy, "POST", &path, &[("Accept", "text/html"), ("Origin", "http://127.0.0.1:8080")], None).await;
    requests += 2;
    assert_eq!(signed.status, 303);
    let cookie = signed.header("set-cookie").unwrap();
    let session = cookie.split(';').next().unwrap().to_owned();
    for _ in 0..4 {
        let me = call(&proxy, "GET", "/api/v1/me", &[("Cookie", &session)], None).await;
        requests += 1;
        assert_eq!((me.status, me.body["display_name"].as_str()), (200, Some("Bea")));
    }

    // The cache: read on both, renamed through one, seen on both within the refresh.
    for _ in 0..4 {
        let read = call(&proxy, "GET", "/api/v1/groups/replicated-tea", &[], None).await;
        requests += 1;
        assert_eq!(read.body["name"], "Replicated tea");
    }
    let id = first.body["id"].as_str().unwrap();
    let renamed = call(
        &proxy,
        "PATCH",
        &format!("/api/v1/groups/{id}"),
        &[("Authorization", bearer.as_str()), ("If-Match", "\"1\"")],
        Some(&json!({ "name": "Renamed tea" })),
    )
    .await;
    requests += 1;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..4 {
        let read = call(&proxy, "GET", "/api/v1/groups/replicated-tea", &[], None).await;
        requests += 1;
        assert_eq!(read.body["name"], "Renamed tea", "both replicas serve the change");
    }

    // The listing job: one replica holds its lease.
    let pg = sqlx::PgPool::connect(&url).await.unwrap();
    let (leases, holders): (i64, i64) =
        sqlx::query_as("select count(*), count(distinct holder) from job_lease where name = 'listings'")
            .fetch_one(&pg)
            .await
            .unwrap();
    assert_eq!((leases, holders), (1, 1));

    // Rate limits: one budget of 60 a minute for this client across both replicas (each replica
    // adds its count to the shared one at least every 250 ms), not 60 each.
    #[allow(clippy::disallowed_methods)] // the real binaries' windows follow the wall clock
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 45 {
        // Not across a window's end.
        tokio::time::sleep(Duration::from_secs(u64::try_from(61 - second).unwrap())).await;
        requests = 0;
    }
    let mut allowed = 0;
    for _ in 0..120 {
        let res = call(&proxy, "GET", "/api/v1/categories", &[], None).await;
        assert!(res.status == 200 || res.status == 429, "{}", res.status);
        allowed += usize::from(res.status == 200);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(allowed + requests <= 60 + 20, "{allowed} allowed after {requests}: the replicas share one budget");
    assert!(allowed > 0);

    haproxy.kill().await.unwrap();
    for s in [a, b] {
        assert!(Server::stop(s).await.success());
    }
}
