//! Who is calling. This crate owns the protocols: the OpenID Connect relying party (sign-in with
//! PKCE, state and nonce, strict ID-token checks, cached provider keys, `private_key_jwt`, logout),
//! the service's own RFC 9068 access tokens and their signing keys, and bearer tokens issued by
//! configured providers. It must not know about storage or HTTP routing: the service layer keeps
//! flows, sessions and keys in the store and calls in here to create and check them.

mod access;
mod cache;
mod error;
mod http;
mod keys;
mod oidc;
mod webhooks;

pub use access::{AccessTokenClaims, AccessTokens, KeyRing, MAX_ACCESS_TOKEN_LIFETIME_SECS};
pub use cache::TokenCache;
pub use error::{LoginError, TokenError};
pub use http::{fetch_client, http_client};
pub use keys::{KeyMaterial, generate_es256, key_from_pkcs8_pem, random_token};
pub use oidc::{
    AssuranceRule, ClientAuth, FlowSecrets, IdTokenFacts, LoginStart, Provider, ProviderConfig, ResourceServer,
    VerifiedLogin, VerifiedProviderToken, check_client_key,
};
pub use webhooks::{WEBHOOK_SECRET_PREFIX, is_public_address, new_webhook_secret, webhook_client, webhook_signature};
