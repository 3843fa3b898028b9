//! Community Scaffold attestations: IETF SD-JWT VCs (`typ: dc+sd-jwt`) with selectively
//! disclosable claims and decoy digests, optional holder binding (`cnf.jwk`, key-binding JWTs),
//! and IETF Token Status Lists for revocation. ES256 only, on aws-lc-rs. No database, no HTTP:
//! a verifier can use this crate on its own, offline, from a trust list and cached status lists.
//!
//! - [`issue`] and [`present`] make credentials and presentations;
//! - [`verify()`] checks a presentation in a fixed order and says exactly why it fails;
//! - [`StatusList`] and [`StatusToken`] make and check status list tokens.

pub mod codes;
mod jws;
mod sdjwt;
mod status;
mod verify;

pub use jws::{Parsed, PublicKey, SigningKey};
pub use sdjwt::{Binding, Credential, Disclosure, Issued, KB_TYP, Split, StatusRef, TYP, issue, present};
pub use status::{MIN_ENTRIES, StatusList, StatusToken, StatusTokenError};
pub use verify::{
    KeyBinding, NoStatus, Policy, Rejection, StatusLookupError, StatusSource, TrustedIssuer, TypePolicy, Verified,
    verify,
};

/// What went wrong making or reading a token (verification failures are [`Rejection`]s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Malformed(&'static str),
    Key(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Malformed(m) => write!(f, "malformed: {m}"),
            Error::Key(m) => write!(f, "key: {m}"),
        }
    }
}

impl std::error::Error for Error {}
