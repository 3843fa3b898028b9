//! The release-shaped binary under hostile and careless clients, on the store the run selects:
//! half-open and idle connections, more connections than allowed, bodies declared larger than the
//! limit, shutdown with a half-sent request, high-cardinality methods and client addresses, GraphQL
//! cost bombs and control characters in every kind of text input. Each test checks that the server
//! keeps answering `/healthz` and that its memory and open descriptors stay bounded. Deadlines
//! below only stop a hung test; nothing asserts how fast anything is.

use crate::binary::{Server, db_and_dir, http, start_with, terminate};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's resident memory, in KiB.
fn rss_kib(server: &Server) -> u64 {
    let pid = server.child.id().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The server's open file descriptors.
fn open_fds(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.child.id().unwrap())).unwrap().count()
}

/// Reads one HTTP/1.1 response (status, headers, body by Content-Length) from a kept-alive
/// connection.
async fn read_response(s: &mut TcpStream) -> std::io::Result<(u16, String, String)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head.get(9..12).and_then(|c| c.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).await?;
    Ok((status, head, String::from_utf8_lossy(&body).into_owned()))
}

/// `/healthz` on a new connection answers 200.
async fn healthy(addr: &str) -> bool {
    let attempt = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
        read_response(&mut s).await
    };
    matches!(tokio::time::timeout(Duration::from_secs(10), attempt).await, Ok(Ok((200, _, _))))
}

/// Waits until the server closes `s` (end of file or reset); false if it is still open at the
/// deadline.
async fn closed_by_server(s: &mut TcpStream, deadline: tokio::time::Instant) -> bool {
    let mut sink = [0u8; 512];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut sink)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn server(env: &[(&str, &str)]) -> Server {
    let (dir, db) = db_and_dir().await;
    let mut all = vec![("SCAFFOLD_RATE_LIMITS__PER_IP_PER_MINUTE", "0")];
    all.extend_from_slice(env);
    start_with(&dir, db.as_deref(), &all).await
}

#[tokio::test]
async fn half_open_connections_are_capped_and_closed_and_the_server_keeps_answering() {
    let server =
        server(&[("SCAFFOLD_SERVER__HEADER_READ_TIMEOUT_SECS", "2"), ("SCAFFOLD_SERVER__MAX_CONNECTIONS", "200")])
            .await;
    assert!(healthy(&server.addr).await);
    let (rss_before, fds_before) = (rss_kib(&server), open_fds(&server));
    // Three times the cap, each stopping half-way through its headers.
    let mut held = Vec::new();
    for _ in 0..600 {
        let Ok(mut s) = TcpStream::connect(&server.addr).await else { continue };
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
        held.push(s);
    }
    assert!(held.len() >= 400, "the test opened its connections ({})", held.len());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fds = open_fds(&server);
    assert!(fds <= fds_before + 200 + 8, "open descriptors stay under the cap: {fds_before} → {fds}");
    // The server closes every one of them (the ones over the cap at once, the others when their
    // header time runs out), then answers as before.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for s in &mut held {
        assert!(closed_by_server(s, deadline).await, "a half-open connection was never closed");
    }
    assert!(healthy(&server.addr).await, "/healthz answers after the flood");
    let grown = rss_kib(&server).saturating_sub(rss_before);
    assert!(grown < 64 * 1024, "memory grew by {grown} KiB");
    assert!(server.stop().await.success());
}

#[tokio::test]
async fn idle_kept_alive_connections_are_closed() {
    let server = server(&[("SCAFFOLD_SERVER__HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (status, head, _) = read_response(&mut s).await.unwrap();
    assert_eq!(status, 200, "{head}");
    assert!(!head.to_ascii_lowercase().contains("connection: close"), "kept alive: {head}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    assert!(closed_by_server(&mut s, deadline).await, "an idle connection is closed after the header time");
    assert!(server.stop().await.success());
}

#[tokio::test]
async fn a_body_declared_larger_than_the_limit_is_refused_at_once() {
    // A long request timeout: waiting for the body would show up as the test's deadline, not 503.
    let server = server(&[("SCAFFOLD_SERVER__REQUEST_TIMEOUT_SECS", "600")]).await;
    let token = server.token().unwrap();
    for path in ["/api/v1/groups", "/graphql", "/oauth/token"] {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{{"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let (status, head, body) =
            tokio::time::timeout(Duration::from_secs(30), read_response(&mut s)).await.unwrap().unwrap();
        assert_eq!(status, 413, "{path}: {head}{body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], "PAYLOAD_TOO_LARGE");
    }
    assert!(healthy(&server.addr).await);
    assert!(server.stop().await.success());
}

#[tokio::test]
async fn shutdown_with_a_half_sent_request_ends_within_the_grace_period() {
    // Headers may take five minutes; the grace period is one second: only the grace period can
    // end the process before the test's deadline.
    let server =
        server(&[("SCAFFOLD_SERVER__HEADER_READ_TIMEOUT_SECS", "300"), ("SCAFFOLD_SERVER__SHUTDOWN_GRACE_SECS", "1")])
            .await;
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(b"POST /api/v1/groups HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    terminate(&server.child);
    let mut child = server.child;
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("the server exited").unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn thousands_of_made_up_methods_add_no_metric_series() {
    let server = server(&[]).await;
    let rss_before = rss_kib(&server);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let addr = server.addr.clone();
        tasks.spawn(async move {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            for i in 0..1500 {
                let req = format!("M{worker}X{i:05} /api/v1/groups HTTP/1.1\r\nHost: x\r\n\r\n");
                s.write_all(req.as_bytes()).await.unwrap();
                let (status, _, _) = read_response(&mut s).await.unwrap();
                assert!((400..500).contains(&status), "{status}");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let (_, _, metrics) = read_response(&mut s).await.unwrap();
    assert!(metrics.len() < 32 * 1024, "/metrics is {} bytes", metrics.len());
    assert!(!metrics.contains("M0X"), "no method as sent is a label");
    assert!(healthy(&server.addr).await);
    let grown = rss_kib(&server).saturating_sub(rss_before);
    assert!(grown < 32 * 1024, "memory grew by {grown} KiB");
    assert!(server.stop().await.success());
}

#[tokio::test]
async fn twenty_thousand_client_addresses_keep_limits_working_and_memory_bounded() {
    let server = server(&[
        ("SCAFFOLD_RATE_LIMITS__PER_IP_PER_MINUTE", "3"),
        ("SCAFFOLD_RATE_LIMITS__TRUST_FORWARDED_FOR", "true"),
    ])
    .await;
    let rss_before = rss_kib(&server);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4u32 {
        let addr = server.addr.clone();
        tasks.spawn(async move {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            for i in 0..5000u32 {
                let n = worker * 5000 + i;
                let req = format!(
                    "GET /api/v1/categories HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.{}.{}.{}\r\n\r\n",
                    n >> 16,
                    (n >> 8) & 255,
                    n & 255
                );
                s.write_all(req.as_bytes()).await.unwrap();
                let (status, _, _) = read_response(&mut s).await.unwrap();
                assert_eq!(status, 200, "a new client is not limited");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    // A client after the flood is still limited exactly.
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        s.write_all(b"GET /api/v1/categories HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n")
            .await
            .unwrap();
        statuses.push(read_response(&mut s).await.unwrap().0);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    assert!(healthy(&server.addr).await);
    let grown = rss_kib(&server).saturating_sub(rss_before);
    assert!(grown < 48 * 1024, "memory grew by {grown} KiB");
    assert!(server.stop().await.success());
}

/// A TCP proxy to PostgreSQL that the test can cut and restore, to stand for a database outage
/// of the slow kind: open connections are reset, new ones are accepted and never answered (as
/// when a host stops answering), so that a client would wait for its own timeouts.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, list) = (cut.clone(), conns.clone());
        tokio::spawn(async move {
            let mut black_hole = Vec::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if c.load(Ordering::SeqCst) {
                    black_hole.push(client);
                    continue;
                }
                black_hole.clear();
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                list.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { addr, cut, conns }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn get(addr: &str, path: &str) -> (u16, Value) {
    http(addr, "GET", path, None, None).await.unwrap()
}

async fn wait_for(addr: &str, path: &str, status: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while get(addr, path).await.0 != status {
        assert!(tokio::time::Instant::now() < deadline, "{path} never answered {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// During a database outage the server answers at once (503, a circuit opened by its own pings)
/// instead of holding every request for the pool's timeout, keeps answering /healthz, and serves
/// again when the database is back. PostgreSQL only: SQLite is a file in the same process.
#[tokio::test]
async fn a_database_outage_is_answered_at_once_and_recovered_from() {
    if scaffold_testkit::StoreKind::from_env() != scaffold_testkit::StoreKind::Postgres {
        return;
    }
    let url = scaffold_testkit::postgres_url().await;
    let (scheme_user, rest) = url.split_once('@').unwrap();
    let (host, db) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host.to_owned()).await;
    let via_proxy = format!("{scheme_user}@{}/{db}", proxy.addr);
    let dir = scaffold_testkit::temp_dir();
    let server = start_with(&dir, Some(&via_proxy), &[("SCAFFOLD_RATE_LIMITS__PER_IP_PER_MINUTE", "0")]).await;
    assert_eq!(get(&server.addr, "/api/v1/groups").await.0, 200);

    proxy.cut();
    wait_for(&server.addr, "/readyz", 503).await;
    let (status, body) = get(&server.addr, "/api/v1/groups").await;
    assert_eq!((status, body["code"].as_str()), (503, Some("STORE_UNAVAILABLE")), "{body}");
    assert_eq!(get(&server.addr, "/healthz").await.0, 200, "the process itself is healthy");

    proxy.restore();
    wait_for(&server.addr, "/readyz", 200).await;
    wait_for(&server.addr, "/api/v1/groups", 200).await;
    assert!(server.stop().await.success());
}

async fn post_json(addr: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    http(addr, "POST", path, token, Some(body)).await.unwrap()
}

/// Nested lists, deep nesting, fragment cycles, alias floods and huge batches against a group
/// with a daily series: each refused with a code, and the server's memory barely moves.
#[tokio::test]
async fn graphql_cost_bombs_are_refused_and_memory_stays_bounded() {
    let server = server(&[]).await;
    let token = server.token().unwrap();
    let group = serde_json::json!({ "slug": "daily", "name": "Daily", "summary": "s", "area": { "outcode": "WN1" } });
    assert_eq!(post_json(&server.addr, "/api/v1/groups", Some(&token), &group).await.0, 201);
    let daily = serde_json::json!({ "title": "Walk", "summary": "Daily", "start": "2026-12-01T10:00", "end": "2026-12-01T11:00",
        "rrule": "FREQ=DAILY", "place": { "name": "Park", "postcode": "WN1 1NU" } });
    assert_eq!(post_json(&server.addr, "/api/v1/groups/daily/events", Some(&token), &daily).await.0, 201);
    let rss_before = rss_kib(&server);
    let year =
        "occurrences(from: \"2026-12-01T00:00:00Z\", to: \"2027-12-01T00:00:00Z\") { start end localStart status }";
    let bombs = [
        (
            format!(
                "{{ searchEvents(first: 100, outcode: \"WN1\") {{ edges {{ node {{ event {{ group {{ events(first: 100) {{ edges {{ node {{ {year} }} }} }} }} }} }} }} }} }}"
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            format!(
                "{{ groups(first: 100) {{ edges {{ node {{ events(first: 100) {{ edges {{ node {{ {year} }} }} }} }} }} }} }}"
            ),
            "QUERY_TOO_COMPLEX",
        ),
        (
            format!(
                "{{ group(slug: \"daily\") {} id {} }}",
                "{ events(first: 1) { edges { node { group ".repeat(6),
                "} } } }".repeat(6)
            ),
            "QUERY_TOO_DEEP",
        ),
        ("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned(), "FRAGMENT_CYCLE"),
        (
            format!("{{ __schema {{ types {} name {} }} }}", "{ fields { type ".repeat(9), "} }".repeat(9)),
            "QUERY_TOO_COMPLEX",
        ),
        (
            format!(
                "{{ {} }}",
                (0..500).map(|i| format!("a{i}: groups(first: 100) {{ totalCount }}")).collect::<Vec<_>>().join(" ")
            ),
            "TOO_MANY_ALIASES",
        ),
    ];
    for round in 0..20 {
        for (query, code) in &bombs {
            let (status, body) =
                post_json(&server.addr, "/graphql", None, &serde_json::json!({ "query": query })).await;
            assert!(status == 200 || status == 400, "{status}");
            assert_eq!(body["errors"][0]["extensions"]["code"], *code, "round {round}: {body}");
            assert!(body["data"].is_null());
        }
    }
    let batch: Vec<Value> = (0..1000).map(|_| serde_json::json!({ "query": "{ categories }" })).collect();
    let (status, body) = post_json(&server.addr, "/graphql", None, &Value::Array(batch)).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (400, Some("BATCH_TOO_LARGE")));
    assert!(healthy(&server.addr).await);
    let grown = rss_kib(&server).saturating_sub(rss_before);
    assert!(grown < 48 * 1024, "memory grew by {grown} KiB");
    assert!(server.stop().await.success());
}

/// NUL and other control characters in every kind of input, on the real binary and store: never
/// a 5xx, and the server keeps answering.
#[tokio::test]
async fn control_characters_everywhere_get_clean_refusals() {
    let server = server(&[]).await;
    let token = server.token().unwrap();
    for path in [
        "/api/v1/groups?q=%00",
        "/api/v1/groups/%00",
        "/api/v1/events?group=%00&q=%01",
        "/api/v1/events/%00/calendar.ics",
        "/api/v1/groups/%00/calendar.ics",
        "/openactive/scheduled-sessions?afterTimestamp=%00",
        "/auth/login/%00",
        "/status-lists/%00",
        "/vct/%00/v1",
    ] {
        let (status, body) = get(&server.addr, path).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("VALIDATION_FAILED")), "{path}: {body}");
    }
    let bodies = [
        ("/api/v1/groups", serde_json::json!({ "slug": "x\u{0}", "name": "N", "summary": "S" })),
        (
            "/graphql",
            serde_json::json!({ "query": "query($s: String) { group(slug: $s) { id } }", "variables": { "s": "\u{0}" } }),
        ),
        ("/graphql", serde_json::json!({ "query": "{ group(slug: \"\\u0000\") { id } }" })),
    ];
    for (path, body) in &bodies {
        let (status, answer) = post_json(&server.addr, path, Some(&token), body).await;
        assert!((400..500).contains(&status), "{path}: {status} {answer}");
    }
    assert!(healthy(&server.addr).await);
    assert!(server.stop().await.success());
}

/// One address cannot take every connection: past its share its new connections are closed at
/// once, while another address is still served.
#[tokio::test]
async fn one_client_cannot_take_every_connection() {
    let server = server(&[
        ("SCAFFOLD_SERVER__MAX_CONNECTIONS_PER_CLIENT", "20"),
        ("SCAFFOLD_SERVER__HEADER_READ_TIMEOUT_SECS", "60"),
    ])
    .await;
    let port: u16 = server.addr.rsplit(':').next().unwrap().parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The 21st from 127.0.0.1 is closed at once.
    let mut extra = TcpStream::connect(&server.addr).await.unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    assert!(closed_by_server(&mut extra, deadline).await, "the extra connection was served");
    // Another address (127.0.0.2, also loopback) is served.
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    other.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut s = other.connect(format!("127.0.0.1:{port}").parse().unwrap()).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let (status, _, _) = tokio::time::timeout(Duration::from_secs(30), read_response(&mut s)).await.unwrap().unwrap();
    assert_eq!(status, 200);
    drop(held);
    // The server frees the places as it sees the connections end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !healthy(&server.addr).await {
        assert!(tokio::time::Instant::now() < deadline, "places come back when connections end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(server.stop().await.success());
}
