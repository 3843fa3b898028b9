//! Why a token or a sign-in was refused. Messages are safe to show to the caller: they name the
//! failed check, never a secret or a token.

use std::fmt;

/// A bearer token failed a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS, or its parts do not decode.
    Malformed,
    /// The `typ` header is not `at+jwt`.
    WrongType,
    /// The algorithm is not on the allow-list (this includes `none` and HMAC).
    DisallowedAlgorithm(String),
    /// No published key has the token's `kid`.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    WrongIssuer,
    WrongAudience,
    Expired,
    /// Issued in the future (beyond the allowed clock skew).
    NotYetValid,
    /// A claim is missing or has the wrong type.
    MissingClaim(&'static str),
    /// The provider's keys could not be fetched.
    KeysUnavailable,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("the token is not a well-formed JWT"),
            TokenError::WrongType => f.write_str("the token's `typ` is not `at+jwt`"),
            TokenError::DisallowedAlgorithm(a) => write!(f, "the token's algorithm `{a}` is not accepted"),
            TokenError::UnknownKey => f.write_str("the token was signed with an unknown key"),
            TokenError::BadSignature => f.write_str("the token's signature does not verify"),
            TokenError::WrongIssuer => f.write_str("the token was issued by an untrusted issuer"),
            TokenError::WrongAudience => f.write_str("the token is not meant for this service (audience)"),
            TokenError::Expired => f.write_str("the token has expired"),
            TokenError::NotYetValid => f.write_str("the token is not valid yet"),
            TokenError::MissingClaim(c) => write!(f, "the token lacks a valid `{c}` claim"),
            TokenError::KeysUnavailable => f.write_str("the token issuer's keys are unavailable"),
        }
    }
}

impl std::error::Error for TokenError {}

/// A sign-in failed. Every variant fails closed: no session is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// The provider could not be reached or answered nonsense (discovery, keys, token endpoint).
    ProviderUnavailable(String),
    /// The provider refused the code (wrong PKCE verifier, replayed or expired code, bad client
    /// authentication).
    CodeRejected(String),
    /// The authorisation response's `iss` does not name the provider the flow started with
    /// (RFC 9207), or is missing where the provider promises it.
    IssuerMismatch,
    /// The provider answered the authorisation request with an error.
    Denied(String),
    /// The ID token failed a check.
    IdToken(String),
    /// The client assertion for `private_key_jwt` could not be made.
    ClientAuth(String),
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::ProviderUnavailable(m) => write!(f, "the identity provider is unavailable: {m}"),
            LoginError::CodeRejected(m) => write!(f, "the identity provider refused the sign-in code: {m}"),
            LoginError::IssuerMismatch => f.write_str("the sign-in response came from another issuer (iss mismatch)"),
            LoginError::Denied(m) => write!(f, "the identity provider did not sign you in: {m}"),
            LoginError::IdToken(m) => write!(f, "the ID token was refused: {m}"),
            LoginError::ClientAuth(m) => write!(f, "client authentication could not be prepared: {m}"),
        }
    }
}

impl std::error::Error for LoginError {}
