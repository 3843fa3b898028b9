//! The HTTP clients: for talking to OpenID Providers (no redirects followed: a discovery or token
//! response must come from the configured URL; short timeouts) and for reading public feeds. Both
//! use rustls with aws-lc-rs and the web PKI roots.

use std::sync::Arc;
use std::time::Duration;

pub fn http_client() -> Result<reqwest::Client, String> {
    client(reqwest::redirect::Policy::none(), Duration::from_secs(10))
}

/// The client for reading public feeds (sources and peers): the same TLS, at most `redirects`
/// redirects (a loop is an error), and `timeout` for the whole exchange.
pub fn fetch_client(redirects: usize, timeout: Duration) -> Result<reqwest::Client, String> {
    client(reqwest::redirect::Policy::limited(redirects), timeout)
}

fn client(redirects: reqwest::redirect::Policy, timeout: Duration) -> Result<reqwest::Client, String> {
    builder(redirects, timeout)?.build().map_err(|e| e.to_string())
}

/// Every client's start: rustls with aws-lc-rs and the web PKI roots, `redirects`, 5 seconds (at
/// most `timeout`) to connect and `timeout` for the whole exchange.
pub(crate) fn builder(
    redirects: reqwest::redirect::Policy,
    timeout: Duration,
) -> Result<reqwest::ClientBuilder, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(redirects)
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout))
}
