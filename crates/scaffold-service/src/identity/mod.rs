//! Who is calling, for the service: sign-in with OpenID Providers (flows and sessions kept in the
//! store, so any replica can finish or serve them), the service's own access tokens and their
//! signing keys, bearer tokens from providers, developer apps, self-service and rate limits.
//! Protocol work is delegated to `scaffold-identity`; this module decides what a credential
//! means (which person, which scopes) and records it.

pub mod account;
pub mod apps;
pub mod grants;
pub mod links;
pub mod login;
pub mod ratelimit;

use crate::{Service, store_error};
use chrono::{DateTime, Duration, Utc};
use scaffold_domain::codes;
use scaffold_domain::{Actor, Credential, DomainError, ErrorKind, Scope, Scopes};
use scaffold_identity::{
    AccessTokenClaims, AccessTokens, KeyMaterial, KeyRing, Provider, ProviderConfig, TokenCache, TokenError,
};
use scaffold_store::SigningKeyRecord;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::RwLock;

pub use ratelimit::{Authenticated, RateLimits, RateState};

/// The purpose under which access-token signing keys are stored.
pub const ACCESS_TOKEN_KEYS: &str = "access-token";
/// The `client_id` of access tokens a signed-in person obtains for themselves.
pub const PERSON_CLIENT_ID: &str = "scaffold-session";
/// How often a replica reloads the published keys (to see another replica's rotation).
const KEY_RELOAD_SECS: i64 = 60;

/// What a person may do when signed in (session or provider token): everything but operator
/// work and issuing or verifying attestations, which only approved apps and keys carry. Holding
/// their own attestations is the person's; a token they mint from their session carries it too.
pub fn person_scopes() -> Scopes {
    Scopes::new([
        Scope::GroupsRead,
        Scope::GroupsWrite,
        Scope::EventsRead,
        Scope::EventsWrite,
        Scope::RsvpWrite,
        Scope::AttestationsHold,
        Scope::Profile,
    ])
}

/// Identity settings.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// The service's public base URL (no trailing slash): the issuer of its access tokens, the
    /// base of callback URLs, and the origin allowed to send cookie-authenticated writes.
    pub public_url: String,
    pub providers: Vec<ProviderConfig>,
    pub access_token_lifetime_secs: i64,
    /// A PKCS#8 PEM P-256 key to sign access tokens with, instead of one created in the store.
    pub access_token_key_pem: Option<String>,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    /// How long a sign-in may take (at most ten minutes).
    pub login_flow_secs: i64,
    pub rate_limits: RateLimits,
    /// Who publishes the instance's open data (the OpenActive dataset site).
    pub publisher: Publisher,
    /// How webhooks are delivered.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// How long verifiers may cache this instance's status lists (their `ttl`), so how soon a
    /// revocation reaches them: 1 second to a day.
    pub status_list_ttl_secs: i64,
    /// The longest one read of a source or a peer may take, answer included (1 to 300 seconds).
    pub source_fetch_secs: u64,
}

/// Who publishes the instance's open data; `None` takes a default from the public address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publisher {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub logo_url: Option<String>,
    pub email: Option<String>,
    pub discussion_url: Option<String>,
    pub documentation_url: Option<String>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            providers: Vec::new(),
            access_token_lifetime_secs: 600,
            status_list_ttl_secs: 300,
            source_fetch_secs: crate::sources::FETCH_SECS,
            access_token_key_pem: None,
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 60 * 60,
            login_flow_secs: 600,
            rate_limits: RateLimits::default(),
            publisher: Publisher::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
        }
    }
}

impl IdentityConfig {
    /// The audience our access tokens are for.
    pub fn audience(&self) -> String {
        format!("{}/api", self.public_url)
    }

    pub fn callback_url(&self, provider: &str) -> String {
        format!("{}/auth/callback/{provider}", self.public_url)
    }
}

#[derive(Debug)]
struct LoadedRing {
    ring: Arc<KeyRing>,
    loaded_at: DateTime<Utc>,
}

/// The identity component of a service: configuration, providers, the key ring and caches.
#[derive(Debug)]
pub struct Identity {
    pub(crate) config: IdentityConfig,
    pub(crate) providers: BTreeMap<String, Provider>,
    pub(crate) tokens: AccessTokens,
    ring: RwLock<Option<LoadedRing>>,
    configured_key: Option<KeyMaterial>,
    cache: TokenCache<AccessTokenClaims>,
    provider_cache: TokenCache<scaffold_identity::VerifiedProviderToken>,
    rate_counters: ratelimit::Counters,
}

impl Identity {
    pub fn new(config: IdentityConfig) -> Result<Self, String> {
        let http = scaffold_identity::http_client()?;
        let mut providers = BTreeMap::new();
        for p in &config.providers {
            let provider = Provider::new(p.clone(), config.callback_url(&p.name), http.clone());
            if providers.insert(p.name.clone(), provider).is_some() {
                return Err(format!("two identity providers are named `{}`", p.name));
            }
        }
        if !(1..=300).contains(&config.source_fetch_secs) {
            return Err("sources.fetch_timeout_secs must be between 1 and 300".to_owned());
        }
        config.webhooks.check()?;
        if !(1..=86_400).contains(&config.status_list_ttl_secs) {
            return Err("identity.status_list_ttl_secs must be between 1 and 86400".to_owned());
        }
        let configured_key =
            config.access_token_key_pem.as_deref().map(scaffold_identity::key_from_pkcs8_pem).transpose()?;
        let tokens = AccessTokens::new(config.public_url.clone(), config.audience(), config.access_token_lifetime_secs);
        Ok(Self {
            config,
            providers,
            tokens,
            ring: RwLock::new(None),
            configured_key,
            cache: TokenCache::new(10_000),
            provider_cache: TokenCache::new(10_000),
            rate_counters: ratelimit::Counters::default(),
        })
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    pub fn providers(&self) -> impl Iterator<Item = &ProviderConfig> {
        self.providers.values().map(Provider::config)
    }
}

fn record_of(k: &KeyMaterial, now: DateTime<Utc>) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: k.kid.clone(),
        purpose: ACCESS_TOKEN_KEYS.to_owned(),
        algorithm: k.algorithm.to_owned(),
        private_der: k.private_der.clone(),
        public_jwk: k.public_jwk.to_string(),
        created_at: now,
        retired_at: None,
        publish_until: None,
    }
}

pub(crate) fn token_refused(e: &TokenError) -> DomainError {
    DomainError::new(ErrorKind::Unauthenticated, codes::INVALID_TOKEN, e.to_string())
}

impl Service {
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The key ring: loaded from the store (creating the first key once, shared by all replicas)
    /// and reloaded every minute, or at once when `force` is set.
    pub(crate) async fn key_ring(&self, force: bool) -> Result<Arc<KeyRing>, DomainError> {
        let now = self.clock.now();
        if let Some(l) = self.identity.ring.read().await.as_ref() {
            let fresh = now - l.loaded_at < Duration::seconds(KEY_RELOAD_SECS);
            let recent = now - l.loaded_at < Duration::seconds(10);
            if (fresh && !force) || recent {
                return Ok(l.ring.clone());
            }
        }
        let mut stored = self.store.signing_keys(ACCESS_TOKEN_KEYS).await.map_err(store_error)?;
        if self.identity.configured_key.is_none() && !stored.iter().any(|k| k.retired_at.is_none()) {
            let k = scaffold_identity::generate_es256().map_err(DomainError::internal)?;
            let _ = self.store.create_first_signing_key(&record_of(&k, now)).await.map_err(store_error)?;
            stored = self.store.signing_keys(ACCESS_TOKEN_KEYS).await.map_err(store_error)?;
        }
        let published: Vec<serde_json::Value> = stored
            .iter()
            .filter(|k| k.publish_until.is_none_or(|until| until > now))
            .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
            .collect();
        let active = match &self.identity.configured_key {
            Some(k) => k.clone(),
            None => {
                let r = stored
                    .iter()
                    .find(|k| k.retired_at.is_none())
                    .ok_or_else(|| DomainError::internal("no active access-token key"))?;
                KeyMaterial {
                    kid: r.kid.clone(),
                    algorithm: "ES256",
                    private_der: r.private_der.clone(),
                    public_jwk: serde_json::from_str(&r.public_jwk).map_err(DomainError::internal)?,
                }
            }
        };
        let ring = Arc::new(KeyRing::new(&active, &published).map_err(DomainError::internal)?);
        *self.identity.ring.write().await = Some(LoadedRing { ring: ring.clone(), loaded_at: now });
        Ok(ring)
    }

    /// The JWK Set published at `/.well-known/jwks.json`.
    pub async fn jwks(&self) -> Result<serde_json::Value, DomainError> {
        Ok(self.key_ring(false).await?.jwks().clone())
    }

    /// `scaffold keys rotate`: a new active access-token key; the old one stays published until
    /// every token it signed has expired. Returns the new `kid`.
    pub async fn rotate_access_token_key(&self) -> Result<String, DomainError> {
        if self.identity.configured_key.is_some() {
            return Err(DomainError::conflict(
                codes::KEY_FROM_CONFIG,
                "the access-token key comes from configuration: replace it there",
            ));
        }
        let now = self.clock.now();
        let k = scaffold_identity::generate_es256().map_err(DomainError::internal)?;
        let publish_until = now + Duration::seconds(self.identity.tokens.lifetime_secs() + 60);
        self.store.rotate_signing_key(&record_of(&k, now), now, publish_until).await.map_err(store_error)?;
        *self.identity.ring.write().await = None;
        let _ = self.key_ring(false).await?;
        Ok(k.kid)
    }

    /// A JWT bearer token: ours (an app's access token) or a configured provider's.
    pub(crate) async fn authenticate_jwt(&self, token: &str) -> Result<Actor, DomainError> {
        let now = self.clock.now();
        let issuer = unverified_issuer(token).ok_or_else(|| token_refused(&TokenError::Malformed))?;
        if issuer == self.identity.tokens.issuer() {
            let claims = match self.identity.cache.get(token, now) {
                Some(c) => c,
                None => {
                    let ring = self.key_ring(false).await?;
                    let verified = match self.identity.tokens.verify(&ring, token, now) {
                        Err(TokenError::UnknownKey) => {
                            let ring = self.key_ring(true).await?;
                            self.identity.tokens.verify(&ring, token, now)
                        }
                        other => other,
                    };
                    let c = verified.map_err(|e| token_refused(&e))?;
                    let exp = DateTime::from_timestamp(c.exp, 0).unwrap_or(now);
                    self.identity.cache.insert(token, c.clone(), exp, now);
                    c
                }
            };
            if claims.client_id == PERSON_CLIENT_ID {
                return self.person_token_actor(&claims).await;
            }
            return self.app_actor(&claims).await;
        }
        let provider = self
            .identity
            .providers
            .values()
            .find(|p| scaffold_identity::ResourceServer::accepts_issuer(*p, &issuer))
            .ok_or_else(|| token_refused(&TokenError::WrongIssuer))?;
        let verified = match self.identity.provider_cache.get(token, now) {
            Some(v) => v,
            None => {
                let v = provider.verify_access_token(token, now).await.map_err(|e| token_refused(&e))?;
                self.identity.provider_cache.insert(token, v.clone(), v.expires, now);
                v
            }
        };
        let identity = self
            .store
            .identity_by_subject(&verified.issuer, &verified.subject)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                DomainError::new(
                    ErrorKind::Unauthenticated,
                    codes::IDENTITY_NOT_LINKED,
                    "the token is valid but its subject has not signed in here yet",
                )
            })?;
        let granted = Scopes::parse(&verified.scope).unwrap_or_default();
        let scopes = Scopes::new(person_scopes().iter().filter(|s| granted.contains(*s)));
        Ok(Actor::person(identity.person_id, Credential::ProviderToken, scopes))
    }
}

impl Service {
    /// A short-lived access token for the signed-in person themselves (for their own scripts or a
    /// page calling the API with `Authorization`), from their browser session.
    pub async fn person_access_token(&self, actor: &Actor) -> Result<apps::IssuedToken, DomainError> {
        let person = actor.require(Scope::Profile)?;
        if actor.credential() != Some(Credential::Session) {
            return Err(DomainError::forbidden(
                codes::SESSION_REQUIRED,
                "sign in with a browser session to get a token",
            ));
        }
        self.issue_access_token(&person.to_string(), PERSON_CLIENT_ID, &actor.scopes, None).await
    }

    /// Signs an access token for `sub` through `client_id` with `scopes` (under `grant` when a
    /// person let the app act for them).
    pub(crate) async fn issue_access_token(
        &self,
        sub: &str,
        client_id: &str,
        scopes: &Scopes,
        grant: Option<scaffold_domain::GrantId>,
    ) -> Result<apps::IssuedToken, DomainError> {
        let now = self.clock.now();
        let ring = self.key_ring(false).await?;
        let jti = scaffold_identity::random_token(16).map_err(DomainError::internal)?;
        let (access_token, claims) = self
            .identity
            .tokens
            .issue(&ring, sub, client_id, &scopes.to_string(), grant.map(|g| g.to_string()), jti, now)
            .map_err(DomainError::internal)?;
        Ok(apps::IssuedToken { access_token, expires_in: claims.exp - claims.iat, scope: claims.scope })
    }

    async fn person_token_actor(&self, claims: &AccessTokenClaims) -> Result<Actor, DomainError> {
        let id = scaffold_domain::PersonId::parse(&claims.sub)
            .ok_or_else(|| token_refused(&TokenError::MissingClaim("sub")))?;
        if self.store.persons_by_ids(&[id]).await.map_err(store_error)?.is_empty() {
            return Err(DomainError::new(
                ErrorKind::Unauthenticated,
                codes::ACCOUNT_DELETED,
                "the account no longer exists",
            ));
        }
        let asked = Scopes::parse(&claims.scope).unwrap_or_default();
        Ok(Actor::person(
            id,
            Credential::PersonToken,
            Scopes::new(person_scopes().iter().filter(|s| asked.contains(*s))),
        ))
    }
}

/// Compares secrets without an early exit, so timing does not reveal how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `iss` claim of a JWT, unverified: only to pick the verifier.
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("iss")?.as_str().map(str::to_owned)
}
