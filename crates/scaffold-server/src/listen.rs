//! The HTTP/1.1 connection loop, in place of `axum::serve`, so that a connection's life is
//! bounded: request headers (and the wait for the next request on a kept-alive connection) must
//! arrive within `header_read_timeout`; a response the client stops reading is abandoned after
//! `write_timeout`; at most `max_connections` are open at once, and at most
//! `max_connections_per_client` from one address (an IPv6 /64), more being closed as soon as they
//! are accepted, so the process never runs out of file descriptors, the kernel's queue never
//! fills with connections nobody will serve, and one client cannot take every place; and on
//! shutdown, in-flight requests get at most `grace` to finish before the process exits. It owns
//! sockets only: every request goes to the router.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The bounds on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time allowed for a request's headers, counted from the moment the connection is ready
    /// for a request (so it also closes idle kept-alive connections).
    pub header_read_timeout: Duration,
    /// Connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6: one /64); 0 means no limit.
    pub max_connections_per_client: usize,
    /// How long a response may wait for the client to read it.
    pub write_timeout: Duration,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_client: 256,
            write_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(20),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains for at most `limits.grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = Arc::new(PerClient::new(limits.max_connections_per_client));
    let refused = AtomicU64::new(0);
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    let _ = http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors or memory, or a connection reset before it was
                    // accepted: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(client_place) = per_client.take(peer.ip()) else {
            drop(stream);
            let n = refused.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(
                    max_connections_per_client = limits.max_connections_per_client,
                    refused = n + 1,
                    "one client has too many open connections: closing its new ones at once"
                );
            }
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            let n = refused.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    refused = n + 1,
                    "too many open connections: closing new ones at once"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            let _ = req.extensions_mut().insert(ConnectInfo(peer));
            req.map(axum::body::Body::new)
        });
        let io = TokioIo::new(WriteDeadline::new(stream, limits.write_timeout));
        let conn = http.serve_connection(io, TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
            drop(client_place);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(open, grace_secs = limits.grace.as_secs(), "shutting down: finishing in-flight requests");
    if tokio::time::timeout(limits.grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("the grace period ended with connections still open; closing them");
    }
    Ok(())
}

/// Open connections per client address (an IPv4 address, or an IPv6 /64).
#[derive(Debug)]
struct PerClient {
    max: usize,
    open: std::sync::Mutex<std::collections::HashMap<[u16; 4], usize>>,
}

/// One client's place; given back when dropped.
#[derive(Debug)]
struct ClientPlace {
    clients: Option<Arc<PerClient>>,
    key: [u16; 4],
}

impl PerClient {
    fn new(max: usize) -> Self {
        Self { max, open: std::sync::Mutex::default() }
    }

    fn key(ip: std::net::IpAddr) -> [u16; 4] {
        match ip.to_canonical() {
            std::net::IpAddr::V4(v4) => {
                let o = v4.octets();
                [0, 0, u16::from_be_bytes([o[0], o[1]]), u16::from_be_bytes([o[2], o[3]])]
            }
            std::net::IpAddr::V6(v6) => {
                let s = v6.segments();
                [s[0] | 0x8000, s[1], s[2], s[3]]
            }
        }
    }

    fn take(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<ClientPlace> {
        let key = Self::key(ip);
        if self.max == 0 {
            return Some(ClientPlace { clients: None, key });
        }
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(ClientPlace { clients: Some(self.clone()), key })
    }
}

impl Drop for ClientPlace {
    fn drop(&mut self) {
        if let Some(clients) = &self.clients {
            let mut open = clients.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(n) = open.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    let _ = open.remove(&self.key);
                }
            }
        }
    }
}

/// A stream whose writes fail with `TimedOut` once one has waited `limit` for the peer to make
/// room (a client that stopped reading); steady progress, however slow, keeps it open.
#[derive(Debug)]
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    waiting: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, limit: Duration) -> Self {
        Self { inner, limit, waiting: None }
    }

    /// The outcome of a write or flush: pending starts (or goes on with) the wait and fails once
    /// it is over; anything else ends the wait.
    fn watch<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        poll: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        if poll.is_ready() {
            self.waiting = None;
            return poll;
        }
        let limit = self.limit;
        let wait = self.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if wait.as_mut().poll(cx).is_ready() { Poll::Ready(Err(timed_out())) } else { Poll::Pending }
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading the response")
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_client_that_stops_reading_times_the_write_out_and_a_slow_one_does_not() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut w = WriteDeadline::new(ours, Duration::from_millis(50));
        let err = w.write_all(&[0u8; 4096]).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        // A reader that keeps reading, slowly, is served in full.
        let (ours, mut theirs2) = tokio::io::duplex(64);
        let mut w = WriteDeadline::new(ours, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0u8; 64];
            while let Ok(n) = theirs2.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&chunk[..n]);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            got.len()
        });
        w.write_all(&[1u8; 2048]).await.unwrap();
        w.shutdown().await.unwrap();
        drop(w);
        assert_eq!(reader.await.unwrap(), 2048);
        let _ = theirs.read(&mut [0u8; 1]).await;
    }

    #[test]
    fn clients_are_counted_by_address_or_ipv6_slash_64() {
        let c = Arc::new(PerClient::new(2));
        let a: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let (p1, p2) = (c.take(a).unwrap(), c.take(a).unwrap());
        assert!(c.take(a).is_none(), "a third from one address is refused");
        assert!(c.take("192.0.2.2".parse().unwrap()).is_some(), "another address is not");
        drop(p1);
        assert!(c.take(a).is_some(), "a place comes back when a connection ends");
        drop(p2);
        let v6 = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let _q = (c.take(v6("2001:db8:1:2::1")).unwrap(), c.take(v6("2001:db8:1:2::ffff")).unwrap());
        assert!(c.take(v6("2001:db8:1:2:3::9")).is_none(), "the same /64");
        assert!(c.take(v6("2001:db8:1:3::1")).is_some());
        assert!(Arc::new(PerClient::new(0)).take(a).is_some(), "0: no limit");
    }
}
