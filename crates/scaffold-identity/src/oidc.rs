//! The OpenID Connect relying party for one configured provider: discovery with the issuer
//! pinned, the authorization code flow with PKCE (S256), `state` and `nonce`, the code exchange
//! with `client_secret_basic` or `private_key_jwt`, strict ID-token checks (algorithm allow-list,
//! `iss`, `aud`/`azp`, `exp`/`iat` within 60 s of skew, `nonce`), the RFC 9207 `iss` response
//! parameter, a JWKS cache refetched at most once a minute on an unknown `kid`, identity
//! assurance from `vot`/`acr`, RP-initiated logout, and bearer tokens the provider issues for
//! this service (resource-server mode).

use crate::error::{LoginError, TokenError};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EndSessionUrl, IdToken, IdTokenVerifier, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, TokenResponse,
};
use scaffold_domain::identity::AssuranceLevel;
use serde::{Deserialize, Serialize};
use std::fmt;
use tokio::sync::{OnceCell, RwLock};

/// ID tokens may be this far past `exp`, and `iat` this far in the future.
const SKEW_SECS: i64 = 60;
/// An ID token issued longer ago than this is refused (the sign-in flow itself expires sooner).
const ID_TOKEN_MAX_AGE_SECS: i64 = 600;
/// At most one JWKS refetch per this many seconds, when a token names an unknown `kid`.
const JWKS_REFETCH_SECS: i64 = 60;

/// Maps a claim value to an assurance level, e.g. `vot` = `P2` → `medium`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssuranceRule {
    /// `vot` (GOV.UK One Login) or `acr`.
    pub claim: String,
    pub value: String,
    pub level: AssuranceLevel,
}

/// How the service authenticates to the provider's token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAuth {
    ClientSecretBasic {
        secret: String,
    },
    /// A signed client assertion (RFC 7523) with an RSA (RS256) or P-256 (ES256) private key in
    /// PKCS#8 PEM. `audience` is what the assertion's `aud` names: the token endpoint (GOV.UK One
    /// Login) or the issuer.
    PrivateKeyJwt {
        private_key_pem: String,
        kid: Option<String>,
        audience_is_issuer: bool,
    },
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuth::ClientSecretBasic { .. } => f.write_str("ClientSecretBasic([redacted])"),
            ClientAuth::PrivateKeyJwt { kid, .. } => write!(f, "PrivateKeyJwt(kid: {kid:?}, [redacted])"),
        }
    }
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The short name used in URLs, e.g. `govuk`.
    pub name: String,
    pub display_name: String,
    /// The issuer identifier; discovery must return exactly this.
    pub issuer: String,
    pub client_id: String,
    pub client_auth: ClientAuth,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
    /// ID-token signing algorithms accepted, e.g. `["ES256", "RS256"]`.
    pub algorithms: Vec<String>,
    /// Extra authorization request parameters, e.g. `vtr` = `["Cl.Cm.P2"]`.
    pub auth_params: Vec<(String, String)>,
    pub assurance: Vec<AssuranceRule>,
    /// The level when no rule matches.
    pub default_assurance: AssuranceLevel,
    /// When set, access tokens this provider issues with this audience are accepted as bearer
    /// tokens (resource-server mode).
    pub access_token_audience: Option<String>,
}

/// The metadata fields this relying party reads beyond the core ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraMetadata {
    end_session_endpoint: Option<EndSessionUrl>,
    authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// ID-token claims read beyond the standard ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExtraClaims {
    #[serde(default)]
    vot: Option<String>,
}
impl AdditionalClaims for ExtraClaims {}

type ProviderIdToken =
    IdToken<ExtraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// The secrets of one sign-in, kept server-side until the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl fmt::Debug for FlowSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlowSecrets([redacted])")
    }
}

/// Where to send the browser, and what to remember.
#[derive(Debug)]
pub struct LoginStart {
    pub url: String,
    pub secrets: FlowSecrets,
}

/// A verified sign-in.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    pub issuer: String,
    pub subject: String,
    pub assurance: AssuranceLevel,
    /// What the level was derived from, e.g. `vot=P2`, or `default`.
    pub assurance_source: String,
    /// The `name` claim, when the provider sent one (a suggestion for the display name).
    pub name: Option<String>,
    /// The raw ID token, as the logout hint.
    pub id_token: String,
}

/// What the relying party reads from a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenFacts {
    pub subject: String,
    pub issuer: String,
    pub vot: Option<String>,
    pub acr: Option<String>,
    pub name: Option<String>,
}

/// A verified bearer token from a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProviderToken {
    pub issuer: String,
    pub subject: String,
    pub scope: String,
    pub expires: DateTime<Utc>,
}

/// A token issued by a provider, for the service to check (resource-server mode).
pub trait ResourceServer {
    fn accepts_issuer(&self, issuer: &str) -> bool;
}

#[derive(Debug, Clone)]
struct Jwks {
    core: CoreJsonWebKeySet,
    raw: jsonwebtoken::jwk::JwkSet,
    fetched_at: DateTime<Utc>,
}

/// A provider at run time: its configuration, discovered metadata and cached keys.
#[derive(Debug)]
pub struct Provider {
    config: ProviderConfig,
    redirect_uri: String,
    http: reqwest::Client,
    metadata: OnceCell<Metadata>,
    jwks: RwLock<Option<Jwks>>,
}

impl ResourceServer for Provider {
    fn accepts_issuer(&self, issuer: &str) -> bool {
        self.config.access_token_audience.is_some() && self.config.issuer == issuer
    }
}

macro_rules! client {
    ($self:expr, $md:expr) => {{
        let secret = match &$self.config.client_auth {
            ClientAuth::ClientSecretBasic { secret } => Some(ClientSecret::new(secret.clone())),
            ClientAuth::PrivateKeyJwt { .. } => None,
        };
        let auth_type = if secret.is_some() { AuthType::BasicAuth } else { AuthType::RequestBody };
        let redirect =
            RedirectUrl::new($self.redirect_uri.clone()).map_err(|e| LoginError::ProviderUnavailable(e.to_string()))?;
        CoreClient::from_provider_metadata($md.clone(), ClientId::new($self.config.client_id.clone()), secret)
            .set_auth_type(auth_type)
            .set_redirect_uri(redirect)
    }};
}

impl Provider {
    /// `redirect_uri` is this service's callback URL for the provider.
    pub fn new(config: ProviderConfig, redirect_uri: String, http: reqwest::Client) -> Self {
        Self { config, redirect_uri, http, metadata: OnceCell::new(), jwks: RwLock::new(None) }
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Discovery, once; the issuer in the document must equal the configured one (checked by
    /// openidconnect). Failures are not cached, so a provider that was down is retried.
    async fn metadata(&self, now: DateTime<Utc>) -> Result<&Metadata, LoginError> {
        self.metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.config.issuer.clone())
                    .map_err(|e| LoginError::ProviderUnavailable(e.to_string()))?;
                let md = Metadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| LoginError::ProviderUnavailable(format!("discovery failed: {e}")))?;
                let raw = fetch_raw_jwks(&self.http, md.jwks_uri().url().as_str())
                    .await
                    .map_err(LoginError::ProviderUnavailable)?;
                *self.jwks.write().await = Some(Jwks { core: md.jwks().clone(), raw, fetched_at: now });
                Ok(md)
            })
            .await
    }

    /// The cached key set; with `refresh`, refetched unless it was fetched within the last minute.
    async fn keys(&self, now: DateTime<Utc>, refresh: bool) -> Result<Option<Jwks>, String> {
        let current = self.jwks.read().await.clone();
        match current {
            Some(j) if !refresh => return Ok(Some(j)),
            Some(j) if !may_refetch(j.fetched_at, now) => return Ok(None),
            _ => {}
        }
        let md = self.metadata(now).await.map_err(|e| e.to_string())?;
        let url = md.jwks_uri().url().as_str();
        let raw = fetch_raw_jwks(&self.http, url).await?;
        let core: CoreJsonWebKeySet = serde_json::from_value(serde_json::to_value(&raw).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let fresh = Jwks { core, raw, fetched_at: now };
        *self.jwks.write().await = Some(fresh.clone());
        Ok(Some(fresh))
    }

    /// Starts a sign-in: the authorization URL with fresh `state`, `nonce` and PKCE challenge.
    pub async fn begin(&self, now: DateTime<Utc>) -> Result<LoginStart, LoginError> {
        let md = self.metadata(now).await?;
        let client = client!(self, md);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for s in &self.config.scopes {
            request = request.add_scope(Scope::new(s.clone()));
        }
        for (k, v) in &self.config.auth_params {
            request = request.add_extra_param(k.clone(), v.clone());
        }
        let (url, state, nonce) = request.url();
        Ok(LoginStart {
            url: url.to_string(),
            secrets: FlowSecrets {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        })
    }

    /// Finishes a sign-in: checks the response's `iss`, redeems the code with the PKCE verifier,
    /// and verifies the ID token. The caller has already matched `state`.
    pub async fn finish(
        &self,
        code: &str,
        secrets: &FlowSecrets,
        iss: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<VerifiedLogin, LoginError> {
        let md = self.metadata(now).await?;
        match iss {
            Some(i) if i != self.config.issuer => return Err(LoginError::IssuerMismatch),
            None if md.additional_metadata().authorization_response_iss_parameter_supported == Some(true) => {
                return Err(LoginError::IssuerMismatch);
            }
            _ => {}
        }
        let client = client!(self, md);
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginError::ProviderUnavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(secrets.pkce_verifier.clone()));
        if let ClientAuth::PrivateKeyJwt { private_key_pem, kid, audience_is_issuer } = &self.config.client_auth {
            let audience = if *audience_is_issuer {
                self.config.issuer.clone()
            } else {
                md.token_endpoint().map(|u| u.url().to_string()).unwrap_or_default()
            };
            let assertion = client_assertion(&self.config.client_id, private_key_pem, kid.as_deref(), &audience, now)?;
            request = request
                .add_extra_param("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                .add_extra_param("client_assertion", assertion);
        }
        let response = request.request_async(&self.http).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => LoginError::CodeRejected(match r.error_description() {
                Some(d) => format!("{}: {d}", r.error().as_ref()),
                None => r.error().as_ref().to_owned(),
            }),
            other => LoginError::ProviderUnavailable(other.to_string()),
        })?;
        let raw = response
            .id_token()
            .ok_or_else(|| LoginError::IdToken("the token response has no ID token".to_owned()))?
            .to_string();
        let v = self.verify_id_token(&raw, &secrets.nonce, now).await?;
        let (assurance, assurance_source) = self.assurance(v.vot.as_deref(), v.acr.as_deref());
        Ok(VerifiedLogin {
            issuer: v.issuer,
            subject: v.subject,
            assurance,
            assurance_source,
            name: v.name,
            id_token: raw,
        })
    }

    /// Verifies an ID token; on an unknown `kid`, refetches the provider's keys (at most once a
    /// minute) and tries again.
    pub async fn verify_id_token(
        &self,
        raw: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<IdTokenFacts, LoginError> {
        let token: ProviderIdToken = raw.parse().map_err(|_| LoginError::IdToken("malformed ID token".to_owned()))?;
        let algorithms = self
            .config
            .algorithms
            .iter()
            .map(|a| serde_json::from_value::<CoreJwsSigningAlgorithm>(serde_json::Value::String(a.clone())))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LoginError::IdToken(format!("bad algorithm allow-list: {e}")))?;
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|e| LoginError::ProviderUnavailable(e.to_string()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let mut refresh = false;
        loop {
            let keys = self.keys(now, refresh).await.map_err(LoginError::ProviderUnavailable)?;
            let Some(keys) = keys else {
                return Err(LoginError::IdToken(
                    "signed with an unknown key (kid), and the provider's keys were fetched less than a minute ago"
                        .to_owned(),
                ));
            };
            let verifier = IdTokenVerifier::new_public_client(
                ClientId::new(self.config.client_id.clone()),
                issuer.clone(),
                keys.core,
            )
            .set_allowed_algs(algorithms.clone())
            .set_time_fn(move || now - Duration::seconds(SKEW_SECS))
            .set_issue_time_verifier_fn(move |iat| check_iat(iat, now));
            match token.claims(&verifier, &nonce) {
                Ok(c) => {
                    check_azp(c.audiences().len(), c.authorized_party().map(|a| a.as_str()), &self.config.client_id)?;
                    return Ok(IdTokenFacts {
                        subject: c.subject().as_str().to_owned(),
                        issuer: c.issuer().as_str().to_owned(),
                        vot: c.additional_claims().vot.clone(),
                        acr: c.auth_context_ref().map(|a| a.as_str().to_owned()),
                        name: c.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
                    });
                }
                Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
                    if !refresh =>
                {
                    refresh = true;
                }
                Err(e) => return Err(LoginError::IdToken(describe(&e))),
            }
        }
    }

    fn assurance(&self, vot: Option<&str>, acr: Option<&str>) -> (AssuranceLevel, String) {
        for rule in &self.config.assurance {
            let value = match rule.claim.as_str() {
                "vot" => vot,
                "acr" => acr,
                _ => None,
            };
            if value == Some(rule.value.as_str()) {
                return (rule.level, format!("{}={}", rule.claim, rule.value));
            }
        }
        (self.config.default_assurance, "default".to_owned())
    }

    /// Where to send the browser to sign out at the provider, when it supports RP-initiated
    /// logout.
    pub async fn logout_url(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let md = self.metadata(now).await.ok()?;
        let endpoint = md.additional_metadata().end_session_endpoint.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.config.client_id.clone()));
        if let Ok(redirect) = PostLogoutRedirectUrl::new(post_logout_redirect.to_owned()) {
            request = request.set_post_logout_redirect_uri(redirect);
        }
        if let Some(hint) = id_token_hint.and_then(|h| h.parse::<ProviderIdToken>().ok()) {
            request = request.set_id_token_hint(&hint);
        }
        Some(request.http_get_url().to_string())
    }

    /// Checks a bearer token this provider issued for this service: `typ` `at+jwt`, allowed
    /// algorithm, known `kid` (one refetch a minute), signature, `iss`, `aud`, `exp`, `iat`.
    pub async fn verify_access_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedProviderToken, TokenError> {
        let audience = self.config.access_token_audience.as_deref().ok_or(TokenError::WrongIssuer)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t == "application/at+jwt") {
            return Err(TokenError::WrongType);
        }
        let alg = format!("{:?}", header.alg);
        if !self.config.algorithms.contains(&alg)
            || !matches!(header.alg, Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256 | Algorithm::EdDSA)
        {
            return Err(TokenError::DisallowedAlgorithm(alg));
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let mut refresh = false;
        let key = loop {
            let keys = self.keys(now, refresh).await.map_err(|_| TokenError::KeysUnavailable)?;
            match keys.as_ref().and_then(|k| k.raw.find(&kid)) {
                Some(jwk) => break DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)?,
                None if !refresh && keys.is_some() => refresh = true,
                None => return Err(TokenError::UnknownKey),
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?;
        let c = data.claims;
        if c.get("iss").and_then(|v| v.as_str()) != Some(self.config.issuer.as_str()) {
            return Err(TokenError::WrongIssuer);
        }
        let aud_ok = match c.get("aud") {
            Some(serde_json::Value::String(a)) => a == audience,
            Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(audience)),
            _ => false,
        };
        if !aud_ok {
            return Err(TokenError::WrongAudience);
        }
        let exp = c.get("exp").and_then(serde_json::Value::as_i64).ok_or(TokenError::MissingClaim("exp"))?;
        if now.timestamp() >= exp.saturating_add(SKEW_SECS) {
            return Err(TokenError::Expired);
        }
        if c.get("iat").and_then(serde_json::Value::as_i64).is_some_and(|iat| iat > now.timestamp() + SKEW_SECS) {
            return Err(TokenError::NotYetValid);
        }
        let subject = c.get("sub").and_then(|v| v.as_str()).ok_or(TokenError::MissingClaim("sub"))?.to_owned();
        let scope = c.get("scope").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let expires = DateTime::from_timestamp(exp, 0).ok_or(TokenError::MissingClaim("exp"))?;
        Ok(VerifiedProviderToken { issuer: self.config.issuer.clone(), subject, scope, expires })
    }
}

fn may_refetch(fetched_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - fetched_at >= Duration::seconds(JWKS_REFETCH_SECS)
}

fn check_iat(iat: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if iat > now + Duration::seconds(SKEW_SECS) {
        Err("the ID token was issued in the future".to_owned())
    } else if iat < now - Duration::seconds(ID_TOKEN_MAX_AGE_SECS) {
        Err("the ID token was issued too long ago".to_owned())
    } else {
        Ok(())
    }
}

/// OpenID Connect Core §3.1.3.7 items 4–5, which openidconnect leaves to the client.
fn check_azp(audiences: usize, azp: Option<&str>, client_id: &str) -> Result<(), LoginError> {
    match azp {
        Some(a) if a != client_id => {
            Err(LoginError::IdToken("the authorized party (azp) is another client".to_owned()))
        }
        None if audiences > 1 => Err(LoginError::IdToken("several audiences but no authorized party (azp)".to_owned())),
        _ => Ok(()),
    }
}

fn describe(e: &ClaimsVerificationError) -> String {
    match e {
        ClaimsVerificationError::SignatureVerification(s) => match s {
            SignatureVerificationError::NoMatchingKey => "signed with an unknown key (kid)".to_owned(),
            SignatureVerificationError::DisallowedAlg(a) | SignatureVerificationError::UnsupportedAlg(a) => {
                format!("algorithm {a} is not accepted")
            }
            SignatureVerificationError::NoSignature => "the ID token is not signed (alg none)".to_owned(),
            SignatureVerificationError::CryptoError(_) => "the signature does not verify".to_owned(),
            other => format!("signature check failed: {other}"),
        },
        ClaimsVerificationError::Expired(m) => format!("expired or issued at a bad time: {m}"),
        ClaimsVerificationError::InvalidAudience(_) => "the audience (aud) is not this service".to_owned(),
        ClaimsVerificationError::InvalidIssuer(_) => "the issuer (iss) is not the configured provider".to_owned(),
        ClaimsVerificationError::InvalidNonce(_) => "the nonce is missing or does not match this sign-in".to_owned(),
        other => other.to_string(),
    }
}

async fn fetch_raw_jwks(http: &reqwest::Client, url: &str) -> Result<jsonwebtoken::jwk::JwkSet, String> {
    let response = http.get(url).send().await.map_err(|e| format!("fetching the provider's keys failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("the provider's key set answered {}", response.status()));
    }
    let value: serde_json::Value = response.json().await.map_err(|e| format!("the provider's key set: {e}"))?;
    // Keep the keys jsonwebtoken understands; skip others (e.g. encryption keys) rather than fail.
    let keys: Vec<serde_json::Value> = value
        .get("keys")
        .and_then(|k| k.as_array())
        .map(|ks| {
            ks.iter()
                .filter(|k| serde_json::from_value::<jsonwebtoken::jwk::Jwk>((*k).clone()).is_ok())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    serde_json::from_value(serde_json::json!({ "keys": keys })).map_err(|e| e.to_string())
}

/// Checks that a `private_key_jwt` key is a usable P-256 or RSA private key (PKCS#8 PEM), so that
/// a bad key stops the server at start rather than failing every sign-in.
pub fn check_client_key(pem: &str) -> Result<&'static str, String> {
    if EncodingKey::from_ec_pem(pem.as_bytes()).is_ok() {
        return Ok("ES256");
    }
    EncodingKey::from_rsa_pem(pem.as_bytes())
        .map(|_| "RS256")
        .map_err(|_| "the private key is neither a P-256 nor an RSA key in PEM".to_owned())
}

/// An RFC 7523 client assertion: `iss` = `sub` = client id, `aud`, a random `jti`, one minute.
fn client_assertion(
    client_id: &str,
    pem: &str,
    kid: Option<&str>,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<String, LoginError> {
    let (key, alg) = match EncodingKey::from_ec_pem(pem.as_bytes()) {
        Ok(k) => (k, Algorithm::ES256),
        Err(_) => (
            EncodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|_| LoginError::ClientAuth("the private key is neither P-256 nor RSA PEM".to_owned()))?,
            Algorithm::RS256,
        ),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let jti = crate::keys::random_token(16).map_err(LoginError::ClientAuth)?;
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": audience, "jti": jti,
        "iat": now.timestamp(), "exp": now.timestamp() + 60,
    });
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| LoginError::ClientAuth(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_774_690_200 + s, 0).unwrap()
    }

    #[test]
    fn assurance_follows_the_first_matching_rule_else_the_default() {
        let config = ProviderConfig {
            name: "p".into(),
            display_name: "P".into(),
            issuer: "https://op.example".into(),
            client_id: "rp".into(),
            client_auth: ClientAuth::ClientSecretBasic { secret: "s".into() },
            scopes: vec![],
            algorithms: vec!["ES256".into()],
            auth_params: vec![],
            assurance: vec![
                AssuranceRule { claim: "vot".into(), value: "P2".into(), level: AssuranceLevel::Medium },
                AssuranceRule { claim: "acr".into(), value: "urn:loa:high".into(), level: AssuranceLevel::High },
            ],
            default_assurance: AssuranceLevel::Low,
            access_token_audience: None,
        };
        let p = Provider::new(config, "https://rp.example/cb".into(), crate::http_client().unwrap());
        assert_eq!(p.assurance(Some("P2"), None), (AssuranceLevel::Medium, "vot=P2".to_owned()));
        assert_eq!(
            p.assurance(Some("P0"), Some("urn:loa:high")),
            (AssuranceLevel::High, "acr=urn:loa:high".to_owned())
        );
        assert_eq!(p.assurance(Some("P0"), None), (AssuranceLevel::Low, "default".to_owned()));
    }

    #[test]
    fn keys_are_refetched_at_most_once_a_minute() {
        assert!(!may_refetch(at(0), at(59)));
        assert!(may_refetch(at(0), at(60)));
    }

    #[test]
    fn issue_time_allows_one_minute_of_skew_and_ten_minutes_of_age() {
        assert!(check_iat(at(60), at(0)).is_ok());
        assert!(check_iat(at(61), at(0)).unwrap_err().contains("future"));
        assert!(check_iat(at(-600), at(0)).is_ok());
        assert!(check_iat(at(-601), at(0)).unwrap_err().contains("too long ago"));
    }

    #[test]
    fn azp_must_name_this_client_when_present_or_when_several_audiences() {
        assert!(check_azp(1, None, "rp").is_ok());
        assert!(check_azp(2, Some("rp"), "rp").is_ok());
        assert!(check_azp(2, None, "rp").is_err());
        assert!(check_azp(1, Some("other"), "rp").is_err());
    }
}
