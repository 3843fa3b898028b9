//! Standard Webhooks on the sending side: secrets (`whsec_` and base64 of random bytes), the
//! `webhook-signature` value (`v1,` and base64 of HMAC-SHA256 over `id.timestamp.body`), and the
//! client that delivers: no redirects, a timeout, and, unless allowed (tests on loopback), no
//! private, loopback or link-local addresses, checked after name resolution so that a name that
//! resolves inward is refused too (SSRF).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and base64 of 32 random bytes.
pub fn new_webhook_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    Ok(format!("{WEBHOOK_SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The signature of one delivery with one secret: `v1,<base64>`.
pub fn webhook_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let raw = secret.strip_prefix(WEBHOOK_SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(raw).map_err(|_| "the webhook secret is not base64".to_owned())?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    Ok(format!("v1,{}", STANDARD.encode(ctx.sign().as_ref())))
}

/// Whether an address is one a webhook may be sent to: not loopback, private, link-local,
/// unspecified, multicast, shared (100.64/10), documentation or unique-local.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] == 0
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // Addresses that carry an IPv4 one: NAT64 (64:ff9b::/96), 6to4 (2002::/16) and the
            // deprecated IPv4-compatible form (::a.b.c.d): the IPv4 address decides.
            let embedded = |hi: u16, lo: u16| {
                let ([a, b], [c, d]) = (hi.to_be_bytes(), lo.to_be_bytes());
                std::net::Ipv4Addr::new(a, b, c, d)
            };
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                return is_public_address(IpAddr::V4(embedded(seg[6], seg[7])));
            }
            if seg[0] == 0x2002 {
                return is_public_address(IpAddr::V4(embedded(seg[1], seg[2])));
            }
            if seg[..6] == [0, 0, 0, 0, 0, 0] && !(seg[6] == 0 && seg[7] <= 1) {
                return is_public_address(IpAddr::V4(embedded(seg[6], seg[7])));
            }
            let first = seg[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Resolves names and keeps only public addresses.
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public_address(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The delivering client: no redirects, `timeout` for the whole exchange, and public addresses
/// only unless `allow_private`. (An address written in the URL bypasses name resolution: check it
/// with [`is_public_address`] before sending.)
pub fn webhook_client(timeout: Duration, allow_private: bool) -> Result<reqwest::Client, String> {
    let mut b = crate::http::builder(reqwest::redirect::Policy::none(), timeout)?
        // No proxy from the environment: a proxy would resolve names itself, past the guard.
        .no_proxy()
        .user_agent("Community-Scaffold-Webhooks/1");
    if !allow_private {
        b = b.dns_resolver(Arc::new(PublicOnly));
    }
    b.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks specification.
        let sig = webhook_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn inward_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public_address(a.parse().unwrap()), "{a}");
        }
        for a in ["81.2.69.160", "2a00:1450:4009:81b::200e"] {
            assert!(is_public_address(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn secrets_are_prefixed_base64_of_32_bytes() {
        let s = new_webhook_secret().unwrap();
        let raw = s.strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(raw).unwrap().len(), 32);
    }
}
