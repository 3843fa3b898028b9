//! Identities, identity assurance and developer apps. People are keyed by `(issuer, subject)` at
//! their OpenID Providers, never by e-mail; a person may link several identities. Apps belong to a
//! person and call the API with the scopes an operator granted. Token and protocol handling lives
//! in `scaffold-identity`; this module holds only the entities and their validation.

use crate::codes;
use crate::group::wire_enum;
use crate::{AppId, DomainError, FieldError, IdentityId, PersonId, Scope, Scopes, text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

wire_enum!(
    /// How sure we are that a person is who they say they are, as asserted by their provider.
    AssuranceLevel {
        None = "none",
        Low = "low",
        Medium = "medium",
        High = "high",
    }
);

/// The assurance a provider asserted at a sign-in: the level, what it was derived from (for
/// example `vot=P2` from GOV.UK One Login), and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub level: AssuranceLevel,
    pub provider: String,
    pub source: String,
    pub asserted_at: DateTime<Utc>,
}

/// A person's identity at an OpenID Provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: IdentityId,
    pub person_id: PersonId,
    /// The configured provider's name (e.g. `govuk`).
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
}

wire_enum!(
    /// Whether an app may still obtain and use tokens.
    AppStatus {
        Active = "active",
        Revoked = "revoked",
    }
);

/// A community developer's app. Its client secret is stored as a SHA-256 hash only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub client_id: String,
    pub owner: PersonId,
    pub name: String,
    pub description: String,
    pub homepage: Option<String>,
    pub redirect_uris: Vec<String>,
    /// What the developer asked for.
    pub requested_scopes: Scopes,
    /// What tokens may carry: requested scopes that need no approval, plus approved ones.
    pub granted_scopes: Scopes,
    pub secret_hash: Vec<u8>,
    pub secret_created_at: DateTime<Utc>,
    pub status: AppStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A person's consent to an app acting for them with `scopes` (one per app and person; asking
/// again replaces the scopes). Deleting it ends the app's tokens for the person at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGrant {
    pub id: crate::GrantId,
    pub app_id: AppId,
    pub person_id: PersonId,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const APP_NAME_MAX: usize = 100;
pub const APP_DESCRIPTION_MAX: usize = 2000;
pub const REDIRECT_URIS_MAX: usize = 10;

/// Scopes an operator must approve before an app's tokens may carry them.
pub fn needs_approval(scope: Scope) -> bool {
    matches!(scope, Scope::AttestationsIssue | Scope::AttestationsVerify | Scope::NoticesPublish | Scope::Admin)
}

/// Scopes an app may ask for at all (`admin` is for operators' own keys only).
pub fn requestable(scope: Scope) -> bool {
    scope != Scope::Admin
}

/// The scopes granted at registration: everything requested that needs no approval.
pub fn initial_grant(requested: &Scopes) -> Scopes {
    Scopes::new(requested.iter().filter(|s| !needs_approval(*s)))
}

/// A registration request, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppDraft {
    pub name: String,
    pub description: String,
    pub homepage: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

/// The checked parts of an [`AppDraft`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidApp {
    pub name: String,
    pub description: String,
    pub homepage: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
}

impl AppDraft {
    /// Checks every field and reports every problem at once.
    pub fn validate(&self) -> Result<ValidApp, DomainError> {
        let mut errors = Vec::new();
        let name = text::bounded("/name", &self.name, 1, APP_NAME_MAX, false).map_err(|e| errors.push(e)).ok();
        let description = text::bounded("/description", &self.description, 0, APP_DESCRIPTION_MAX, true)
            .map_err(|e| errors.push(e))
            .ok();
        let homepage = match &self.homepage {
            None => Some(None),
            Some(h) => text::http_url("/homepage", h, 500).map(Some).map_err(|e| errors.push(e)).ok(),
        };
        if self.redirect_uris.len() > REDIRECT_URIS_MAX {
            errors.push(FieldError::new("/redirect_uris", codes::TOO_MANY, format!("at most {REDIRECT_URIS_MAX}")));
        }
        let mut redirect_uris = Vec::new();
        for (i, u) in self.redirect_uris.iter().enumerate() {
            match redirect_uri(&format!("/redirect_uris/{i}"), u) {
                Ok(u) => redirect_uris.push(u),
                Err(e) => errors.push(e),
            }
        }
        let mut scopes = Vec::new();
        for (i, s) in self.scopes.iter().enumerate() {
            match Scope::parse(s).filter(|s| requestable(*s)) {
                Some(s) => scopes.push(s),
                None => errors.push(FieldError::new(
                    format!("/scopes/{i}"),
                    codes::UNKNOWN_SCOPE,
                    format!("`{s}` is not a scope an app can request"),
                )),
            }
        }
        if self.scopes.is_empty() {
            errors.push(FieldError::new("/scopes", codes::REQUIRED, "ask for at least one scope"));
        }
        match (name, description, homepage) {
            (Some(name), Some(description), Some(homepage)) if errors.is_empty() => {
                Ok(ValidApp { name, description, homepage, redirect_uris, scopes: Scopes::new(scopes) })
            }
            _ => Err(DomainError::invalid(errors)),
        }
    }
}

/// A redirect URI: absolute `https`, or `http` on a loopback host (RFC 8252 native apps); no
/// fragment.
fn redirect_uri(pointer: &str, s: &str) -> Result<String, FieldError> {
    let bad = || FieldError::new(pointer, codes::INVALID_REDIRECT_URI, "must be an https URL (or http on localhost)");
    if s.len() > 500 || s.contains('#') || s.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if let Some(r) = s.strip_prefix("http://") {
        let host = r.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return Err(bad());
        }
        r
    } else {
        return Err(bad());
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AppDraft {
        AppDraft {
            name: "Casserole matcher".into(),
            description: "Matches cooks with diners".into(),
            homepage: Some("https://example.org".into()),
            redirect_uris: vec!["https://example.org/cb".into(), "http://127.0.0.1:8080/cb".into()],
            scopes: vec!["groups:read".into(), "attestations:verify".into()],
        }
    }

    #[test]
    fn valid_draft_grants_only_scopes_without_approval() {
        let v = draft().validate().unwrap();
        assert_eq!(v.scopes.to_string(), "groups:read attestations:verify");
        assert_eq!(initial_grant(&v.scopes).to_string(), "groups:read");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let d = AppDraft {
            name: String::new(),
            homepage: Some("ftp://x".into()),
            redirect_uris: vec!["http://evil.example/cb".into(), "https://ok.example/cb#frag".into()],
            scopes: vec!["admin".into(), "nope".into()],
            ..draft()
        };
        let e = d.validate().unwrap_err();
        let pointers: Vec<_> = e.fields.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/name", "/homepage", "/redirect_uris/0", "/redirect_uris/1", "/scopes/0", "/scopes/1"]);
    }
}
