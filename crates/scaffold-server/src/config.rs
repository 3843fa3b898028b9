//! Layered configuration: built-in defaults → a TOML file (`--config`, or `./scaffold.toml` when
//! present) → `SCAFFOLD_*` environment variables (`__` separates sections, e.g.
//! `SCAFFOLD_SERVER__LISTEN`; `DATABASE_URL` is also honoured) → command-line flags. Unknown keys
//! are rejected. Secrets are redacted in `Debug` and logs.

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

/// A value that must never be printed: `Debug` shows `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub graphql: GraphqlConfig,
    pub identity: IdentitySection,
    pub rate_limits: RateLimitConfig,
    pub site: SiteConfig,
    pub sources: SourcesConfig,
    pub webhooks: WebhooksConfig,
    pub cache: CacheConfig,
}

/// The public-read cache (`docs/operations.md`, "Public-read cache").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Serve anonymous public reads from memory while nothing public has changed.
    pub enabled: bool,
    /// How often the content clock is read (10 to 60,000 ms): the longest a change made through
    /// another replica may go unseen here.
    pub refresh_millis: u64,
    /// The oldest an answer may be served (1 to 3,600 s).
    pub max_age_secs: u64,
    /// The most answers kept (16 to 1,000,000).
    pub max_entries: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        let d = crate::cache::CacheSettings::default();
        Self {
            enabled: true,
            refresh_millis: u64::try_from(d.refresh.as_millis()).unwrap_or(500),
            max_age_secs: d.max_age.as_secs(),
            max_entries: d.max_entries,
        }
    }
}

impl CacheConfig {
    /// The cache's settings, when it is on.
    pub fn settings(&self) -> Option<crate::cache::CacheSettings> {
        self.enabled.then(|| crate::cache::CacheSettings {
            refresh: std::time::Duration::from_millis(self.refresh_millis),
            max_age: std::time::Duration::from_secs(self.max_age_secs),
            max_entries: self.max_entries,
        })
    }
}

/// Delivering webhooks (`docs/webhooks.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// The longest one attempt may take, answer included (1 to 60 seconds).
    pub timeout_secs: u64,
    /// The wait after a first failed attempt, doubled at each failure up to six hours (1 to 3600).
    pub retry_base_secs: u64,
    /// Failed attempts in a row after which a webhook is disabled (1 to 1000).
    pub disable_after: u32,
    /// Lets webhooks go to loopback and private addresses and over plain http: for tests and
    /// closed networks only.
    pub allow_private_targets: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        let d = scaffold_service::webhooks::WebhookSettings::default();
        Self {
            timeout_secs: d.timeout_secs,
            retry_base_secs: d.retry_base_secs,
            disable_after: d.disable_after,
            allow_private_targets: d.allow_private_targets,
        }
    }
}

/// Reading sources and peers (`docs/sources.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// The longest one read may take, answer included (1 to 300 seconds).
    pub fetch_timeout_secs: u64,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self { fetch_timeout_secs: scaffold_service::sources::FETCH_SECS }
    }
}

/// Who publishes this instance's open data, for the OpenActive dataset site. Empty values take
/// defaults from the public address (see `docs/api.md`, "Open data: OpenActive").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    pub publisher_name: String,
    /// The organisation's registered name.
    pub publisher_legal_name: String,
    pub publisher_logo_url: String,
    pub publisher_email: String,
    /// Where users of the data ask questions and report problems.
    pub discussion_url: String,
    /// Documentation for users of the data.
    pub documentation_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentitySection {
    /// The public base URL: issuer of access tokens, base of sign-in callbacks, allowed origin.
    pub public_url: String,
    /// Access-token lifetime (at most 900).
    pub access_token_lifetime_secs: i64,
    /// How long verifiers may cache the status lists (1 to 86400): how soon a revocation reaches them.
    pub status_list_ttl_secs: i64,
    /// A PKCS#8 PEM P-256 key file for signing access tokens; empty: a key created once in the store.
    pub access_token_key_file: String,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    /// Sign-in providers (OpenID Connect), as `[[identity.providers]]` tables.
    pub providers: Vec<ProviderSection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    /// For `client_secret_basic`.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// For `private_key_jwt`: a PKCS#8 PEM RSA or P-256 key file.
    #[serde(default)]
    pub private_key_file: Option<String>,
    #[serde(default)]
    pub private_key_kid: Option<String>,
    /// `token_endpoint` (GOV.UK One Login) or `issuer`.
    #[serde(default = "default_assertion_audience")]
    pub assertion_audience: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Extra authorization request parameters, e.g. `{ vtr = '["Cl.Cm.P2"]' }`.
    #[serde(default)]
    pub auth_params: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub assurance: Vec<AssuranceSection>,
    #[serde(default = "default_assurance")]
    pub default_assurance: String,
    /// Accept this provider's access tokens for this audience (resource-server mode).
    #[serde(default)]
    pub access_token_audience: Option<String>,
}

fn default_assertion_audience() -> String {
    "token_endpoint".to_owned()
}

fn default_algorithms() -> Vec<String> {
    vec!["ES256".to_owned(), "RS256".to_owned()]
}

fn default_assurance() -> String {
    "low".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssuranceSection {
    /// `vot` or `acr`.
    pub claim: String,
    pub value: String,
    /// `none`, `low`, `medium` or `high`.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Requests per minute per client IP (0: off).
    pub per_ip_per_minute: u32,
    /// Requests per minute per app (0: off).
    pub per_app_per_minute: u32,
    /// Take the client IP from the last `X-Forwarded-For` entry (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
}

impl Default for IdentitySection {
    fn default() -> Self {
        let d = scaffold_service::identity::IdentityConfig::default();
        Self {
            public_url: d.public_url,
            access_token_lifetime_secs: d.access_token_lifetime_secs,
            status_list_ttl_secs: d.status_list_ttl_secs,
            access_token_key_file: String::new(),
            session_idle_secs: d.session_idle_secs,
            session_absolute_secs: d.session_absolute_secs,
            providers: Vec::new(),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let d = scaffold_service::identity::RateLimits::default();
        Self {
            per_ip_per_minute: d.per_ip_per_minute,
            per_app_per_minute: d.per_app_per_minute,
            trust_forwarded_for: false,
        }
    }
}

impl Config {
    /// The service's identity settings, reading key files.
    pub fn identity(&self) -> Result<scaffold_service::identity::IdentityConfig, String> {
        use scaffold_domain::identity::AssuranceLevel;
        use scaffold_identity::{AssuranceRule, ClientAuth, ProviderConfig};
        let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"));
        let level = |name: &str, l: &str| {
            AssuranceLevel::parse(l).ok_or_else(|| format!("provider {name}: `{l}` is not an assurance level"))
        };
        let mut providers = Vec::new();
        for p in &self.identity.providers {
            let client_auth = match (&p.client_secret, &p.private_key_file) {
                (Some(secret), None) => ClientAuth::ClientSecretBasic { secret: secret.expose().to_owned() },
                (None, Some(file)) => ClientAuth::PrivateKeyJwt {
                    private_key_pem: {
                        let pem = read(file)?;
                        scaffold_identity::check_client_key(&pem).map_err(|e| format!("{file}: {e}"))?;
                        pem
                    },
                    kid: p.private_key_kid.clone(),
                    audience_is_issuer: match p.assertion_audience.as_str() {
                        "issuer" => true,
                        "token_endpoint" => false,
                        other => return Err(format!("provider {}: assertion_audience `{other}`", p.name)),
                    },
                },
                _ => return Err(format!("provider {}: set exactly one of client_secret and private_key_file", p.name)),
            };
            if !p.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || p.name.is_empty() {
                return Err(format!("provider name `{}` must be letters, digits and hyphens", p.name));
            }
            let mut assurance = Vec::new();
            for a in &p.assurance {
                assurance.push(AssuranceRule {
                    claim: a.claim.clone(),
                    value: a.value.clone(),
                    level: level(&p.name, &a.level)?,
                });
            }
            providers.push(ProviderConfig {
                name: p.name.clone(),
                display_name: if p.display_name.is_empty() { p.name.clone() } else { p.display_name.clone() },
                issuer: p.issuer.clone(),
                client_id: p.client_id.clone(),
                client_auth,
                scopes: p.scopes.clone(),
                algorithms: p.algorithms.clone(),
                auth_params: p.auth_params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                assurance,
                default_assurance: level(&p.name, &p.default_assurance)?,
                access_token_audience: p.access_token_audience.clone(),
            });
        }
        let key = match self.identity.access_token_key_file.as_str() {
            "" => None,
            path => {
                let pem = read(path)?;
                scaffold_identity::key_from_pkcs8_pem(&pem).map_err(|e| format!("{path}: {e}"))?;
                Some(pem)
            }
        };
        Ok(scaffold_service::identity::IdentityConfig {
            public_url: self.identity.public_url.trim_end_matches('/').to_owned(),
            providers,
            access_token_lifetime_secs: self.identity.access_token_lifetime_secs,
            status_list_ttl_secs: self.identity.status_list_ttl_secs,
            source_fetch_secs: self.sources.fetch_timeout_secs,
            webhooks: scaffold_service::webhooks::WebhookSettings {
                timeout_secs: self.webhooks.timeout_secs,
                retry_base_secs: self.webhooks.retry_base_secs,
                disable_after: self.webhooks.disable_after,
                allow_private_targets: self.webhooks.allow_private_targets,
            },
            access_token_key_pem: key,
            session_idle_secs: self.identity.session_idle_secs,
            session_absolute_secs: self.identity.session_absolute_secs,
            login_flow_secs: 600,
            rate_limits: scaffold_service::identity::RateLimits {
                per_ip_per_minute: self.rate_limits.per_ip_per_minute,
                per_app_per_minute: self.rate_limits.per_app_per_minute,
            },
            publisher: {
                let given = |s: &String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
                scaffold_service::identity::Publisher {
                    name: given(&self.site.publisher_name),
                    legal_name: given(&self.site.publisher_legal_name),
                    logo_url: given(&self.site.publisher_logo_url),
                    email: given(&self.site.publisher_email),
                    discussion_url: given(&self.site.discussion_url),
                    documentation_url: given(&self.site.documentation_url),
                }
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Requests taking longer are answered 503.
    pub request_timeout_secs: u64,
    /// A request's headers must arrive within this time, counted from when the connection is
    /// ready for a request (so idle kept-alive connections close after it too).
    pub header_read_timeout_secs: u64,
    /// Connections open at once (also kept below the process's file-descriptor limit); more are
    /// closed as soon as they are accepted.
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 /64); 0: no limit. Behind a
    /// proxy every connection comes from the proxy: raise it or set 0.
    pub max_connections_per_client: usize,
    /// A response the client stops reading for this long is abandoned.
    pub write_timeout_secs: u64,
    /// After SIGTERM or Ctrl-C, how long in-flight requests may take before the process exits.
    pub shutdown_grace_secs: u64,
    /// `Strict-Transport-Security` max-age, for instances served over TLS (behind a proxy that
    /// terminates it); 0 sends none.
    pub hsts_max_age_secs: u64,
    /// Serve `/metrics` only on this address (e.g. `127.0.0.1:9090`) instead of the main one;
    /// empty: on the main address.
    pub metrics_listen: String,
    /// Require `Authorization: Bearer <token>` for `/metrics` on the main address; empty: open.
    pub metrics_token: Secret,
    /// How many replicas share the database (SQLite allows only one).
    pub replicas: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`. May hold a password: never logged.
    pub url: Secret,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info,scaffold=debug` (`RUST_LOG` overrides it).
    pub filter: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlConfig {
    pub introspection: bool,
    pub graphiql: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_batch: usize,
    /// The largest GraphQL response body, in bytes.
    pub max_response_bytes: usize,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/scaffold.db";

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            max_connections: 4096,
            max_connections_per_client: 256,
            write_timeout_secs: 30,
            shutdown_grace_secs: 20,
            hsts_max_age_secs: 0,
            metrics_listen: String::new(),
            metrics_token: Secret::new(""),
            replicas: 1,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: Secret::new(DEFAULT_DATABASE_URL), max_connections: 10 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, filter: "info".to_owned() }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        let l = scaffold_graphql::Limits::default();
        Self {
            introspection: l.introspection,
            graphiql: l.graphiql,
            max_depth: l.depth,
            max_complexity: l.complexity,
            max_aliases: l.aliases,
            max_batch: l.batch,
            max_response_bytes: l.response_bytes,
        }
    }
}

impl GraphqlConfig {
    pub fn limits(&self) -> scaffold_graphql::Limits {
        scaffold_graphql::Limits {
            depth: self.max_depth,
            complexity: self.max_complexity,
            aliases: self.max_aliases,
            batch: self.max_batch,
            response_bytes: self.max_response_bytes,
            introspection: self.introspection,
            graphiql: self.graphiql,
        }
    }
}

/// Flag values that override everything else; `None` leaves a setting alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// Loads the configuration. `env` is the process environment (a parameter, so tests can pass
/// their own).
pub fn load(file: Option<&Path>, env: &[(String, String)], flags: &Overrides) -> Result<Config, String> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) if !path.exists() => return Err(format!("config file {} does not exist", path.display())),
        Some(path) => fig = fig.merge(Toml::file_exact(path)),
        None if Path::new("scaffold.toml").exists() => fig = fig.merge(Toml::file_exact("scaffold.toml")),
        None => {}
    }
    // SCAFFOLD_SECTION__KEY=value, minus the test harness's own SCAFFOLD_TEST_* variables. Values
    // are typed as figment types environment values (numbers, booleans, strings).
    for (k, v) in env {
        let Some(name) = k.strip_prefix("SCAFFOLD_") else { continue };
        if name.starts_with("TEST_") {
            continue;
        }
        let key = name.to_ascii_lowercase().replace("__", ".");
        let value: figment::value::Value = v.parse().unwrap_or_else(|never: std::convert::Infallible| match never {});
        fig = fig.merge(Serialized::default(&key, value));
    }
    if let Some((_, url)) = env.iter().find(|(k, _)| k == "DATABASE_URL") {
        fig = fig.merge(Serialized::default("database.url", url));
    }
    if let Some(v) = flags.listen {
        fig = fig.merge(Serialized::default("server.listen", v));
    }
    if let Some(v) = &flags.database_url {
        fig = fig.merge(Serialized::default("database.url", v));
    }
    if let Some(v) = flags.log_format {
        fig = fig.merge(Serialized::default("log.format", v));
    }
    let config: Config = fig.extract().map_err(|e| {
        // figment's messages name the key and where it came from; values are not included.
        e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
    })?;
    if config.database.url.expose().starts_with("sqlite:") && config.server.replicas > 1 {
        return Err("SQLite serves one replica only: use PostgreSQL for server.replicas > 1".to_owned());
    }
    let c = &config.cache;
    if !(10..=60_000).contains(&c.refresh_millis) {
        return Err("cache.refresh_millis must be between 10 and 60000".to_owned());
    }
    if !(1..=3600).contains(&c.max_age_secs) {
        return Err("cache.max_age_secs must be between 1 and 3600".to_owned());
    }
    if !(16..=1_000_000).contains(&c.max_entries) {
        return Err("cache.max_entries must be between 16 and 1000000".to_owned());
    }
    let s = &config.server;
    if !s.metrics_listen.is_empty() && s.metrics_listen.parse::<SocketAddr>().is_err() {
        return Err(format!("server.metrics_listen `{}` is not an address like 127.0.0.1:9090", s.metrics_listen));
    }
    for (key, value) in [
        ("server.request_timeout_secs", s.request_timeout_secs),
        ("server.header_read_timeout_secs", s.header_read_timeout_secs),
        ("server.write_timeout_secs", s.write_timeout_secs),
        ("server.max_connections", u64::try_from(s.max_connections).unwrap_or(u64::MAX)),
        ("server.body_limit_bytes", u64::try_from(s.body_limit_bytes).unwrap_or(u64::MAX)),
    ] {
        if value == 0 {
            return Err(format!("{key} must be at least 1"));
        }
    }
    Ok(config)
}

/// The database URL with any password replaced, for logs.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:[redacted]@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_need_no_setup() {
        let c = load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database.url.expose(), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("scaffold-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("scaffold.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"127.0.0.1:9000\"\nrequest_timeout_secs = 5\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let c =
            load(Some(&file), &env(&[("SCAFFOLD_SERVER__LISTEN", "127.0.0.1:9001")]), &Overrides::default()).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:9001", "environment beats file");
        assert_eq!(c.server.request_timeout_secs, 5, "file beats defaults");
        assert_eq!(c.log.format, LogFormat::Json);
        let flags = Overrides { listen: Some("127.0.0.1:9002".parse().unwrap()), ..Overrides::default() };
        let c = load(Some(&file), &env(&[("SCAFFOLD_SERVER__LISTEN", "127.0.0.1:9001")]), &flags).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:9002", "flags beat environment");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = std::env::temp_dir().join(format!("scaffold-config-u-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("scaffold.toml");
        std::fs::write(&file, "[server]\nlisten_on = \"127.0.0.1:9000\"\n").unwrap();
        let err = load(Some(&file), &[], &Overrides::default()).unwrap_err();
        assert!(err.contains("listen_on"), "{err}");
        let err = load(None, &env(&[("SCAFFOLD_SERVR__LISTEN", "x")]), &Overrides::default()).unwrap_err();
        assert!(err.contains("servr"), "{err}");
    }

    #[test]
    fn test_harness_variables_are_not_config() {
        assert!(load(None, &env(&[("SCAFFOLD_TEST_STORE", "postgres")]), &Overrides::default()).is_ok());
    }

    #[test]
    fn sqlite_refuses_replicas() {
        let err = load(None, &env(&[("SCAFFOLD_SERVER__REPLICAS", "2")]), &Overrides::default()).unwrap_err();
        assert!(err.contains("one replica"), "{err}");
    }

    #[test]
    fn secrets_are_redacted() {
        let c =
            load(None, &env(&[("DATABASE_URL", "postgres://app:hunter2@db/scaffold")]), &Overrides::default()).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(redacted_url(c.database.url.expose()), "postgres://app:[redacted]@db/scaffold");
        assert_eq!(redacted_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}

#[cfg(test)]
mod example {
    #[test]
    fn the_example_file_lists_every_key_with_its_default() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scaffold.example.toml");
        let c = super::load(Some(&path), &[], &super::Overrides::default()).unwrap();
        assert_eq!(c, super::Config::default());
        let text = std::fs::read_to_string(path).unwrap();
        let defaults = toml_keys(&serde_json::to_value(super::Config::default()).unwrap());
        for key in defaults {
            assert!(text.contains(&format!("\n{key} = ")), "scaffold.example.toml lacks {key}");
        }
    }

    /// Every TOML example in docs/identity.md is valid configuration, and becomes valid identity
    /// settings once its key files exist.
    #[test]
    fn the_identity_guide_examples_are_valid_configuration() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/identity.md");
        let text = std::fs::read_to_string(docs).unwrap();
        let dir = std::env::temp_dir().join(format!("scaffold-docs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key.pem");
        // One Login takes RSA keys; a P-256 key goes through the same PKCS#8 PEM path.
        let der = scaffold_identity::generate_es256().unwrap().private_der;
        use base64::Engine;
        let pem = base64::engine::general_purpose::STANDARD.encode(der);
        std::fs::write(&key, format!("-----BEGIN PRIVATE KEY-----\n{pem}\n-----END PRIVATE KEY-----\n")).unwrap();
        let blocks: Vec<&str> = text.split("```toml\n").skip(1).filter_map(|b| b.split("```").next()).collect();
        assert!(blocks.len() >= 2, "the guide has its TOML examples");
        let mut providers = 0;
        for (i, block) in blocks.iter().enumerate() {
            let block = block.replace("/run/secrets/govuk-one-login.pem", key.to_str().unwrap());
            let file = dir.join(format!("example-{i}.toml"));
            std::fs::write(&file, &block).unwrap();
            let c = super::load(Some(&file), &[], &super::Overrides::default())
                .unwrap_or_else(|e| panic!("example {i} is not valid configuration: {e}\n{block}"));
            let identity = c.identity().unwrap_or_else(|e| panic!("example {i}: {e}"));
            providers += identity.providers.len();
        }
        assert_eq!(providers, 2);
    }

    #[test]
    fn a_provider_needs_exactly_one_client_authentication() {
        let dir = std::env::temp_dir().join(format!("scaffold-prov-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("scaffold.toml");
        let base = "[[identity.providers]]\nname = \"x\"\nissuer = \"https://op.example\"\nclient_id = \"rp\"\n";
        std::fs::write(&file, base).unwrap();
        let c = super::load(Some(&file), &[], &super::Overrides::default()).unwrap();
        assert!(c.identity().unwrap_err().contains("exactly one"));
        std::fs::write(&file, format!("{base}client_secret = \"s\"\ndefault_assurance = \"sky-high\"\n")).unwrap();
        let c = super::load(Some(&file), &[], &super::Overrides::default()).unwrap();
        assert!(c.identity().unwrap_err().contains("not an assurance level"));
        assert!(!format!("{c:?}").contains("\"s\""), "the client secret is redacted");
    }

    fn toml_keys(v: &serde_json::Value) -> Vec<String> {
        v.as_object()
            .into_iter()
            .flat_map(|sections| sections.values())
            .filter_map(|s| s.as_object())
            .flat_map(|s| s.keys().cloned())
            .collect()
    }
}
