//! `Actor`: who is calling, passed to every service call. Authorisation is decided in the service
//! layer from the actor, never only in a handler. The OIDC layer will produce the same type.

use crate::codes;
use crate::{ApiKeyId, AppId, DomainError, PersonId, Scope, Scopes};

/// What the caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A personal or operator API key.
    ApiKey(ApiKeyId),
    /// An access token issued to a developer's app (acting for the app's owner).
    App(AppId),
    /// A browser session from signing in.
    Session,
    /// An access token a signed-in person obtained for their own scripts or pages.
    PersonToken,
    /// A bearer token issued by a configured OpenID Provider.
    ProviderToken,
    /// The command line or a test.
    Local,
}

impl Credential {
    /// Whether this is the person themselves: their browser session, one of their own API keys,
    /// or the command line. Everything else (an app's token, an access token, a provider's token)
    /// is delegated: it acts for the person within its scopes, and never for acts that outlive or
    /// widen a delegation.
    pub fn is_personal(self) -> bool {
        matches!(self, Credential::ApiKey(_) | Credential::Session | Credential::Local)
    }

    /// The wire name: `api_key`, `app`, `session`, `provider_token` or `local`.
    pub fn name(self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "api_key",
            Credential::App(_) => "app",
            Credential::Session => "session",
            Credential::PersonToken => "person_token",
            Credential::ProviderToken => "provider_token",
            Credential::Local => "local",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    /// A person acting through a credential.
    Person {
        person_id: PersonId,
        credential: Credential,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub scopes: Scopes,
}

impl Actor {
    pub fn anonymous() -> Self {
        Self { principal: Principal::Anonymous, scopes: Scopes::default() }
    }

    pub fn person(person_id: PersonId, credential: Credential, scopes: Scopes) -> Self {
        Self { principal: Principal::Person { person_id, credential }, scopes }
    }

    pub fn credential(&self) -> Option<Credential> {
        match self.principal {
            Principal::Person { credential, .. } => Some(credential),
            Principal::Anonymous => None,
        }
    }

    pub fn person_id(&self) -> Option<PersonId> {
        match self.principal {
            Principal::Person { person_id, .. } => Some(person_id),
            Principal::Anonymous => None,
        }
    }

    pub fn is_operator(&self) -> bool {
        self.person_id().is_some() && self.scopes.contains(Scope::Admin)
    }

    /// The person behind the call, with `scope` granted; 401 for anonymous callers, 403 (naming
    /// the scope) when the credential lacks it.
    pub fn require(&self, scope: Scope) -> Result<PersonId, DomainError> {
        let Some(id) = self.person_id() else {
            return Err(DomainError::unauthenticated("this operation needs a bearer token"));
        };
        if self.scopes.contains(scope) { Ok(id) } else { Err(DomainError::missing_scope(scope)) }
    }

    /// The person themselves (see [`Credential::is_personal`]) with `profile`: for managing apps
    /// and API keys, linking identities and deleting the account. A delegated credential gets 403
    /// `PERSON_CREDENTIAL_REQUIRED` whatever its scopes.
    pub fn require_person(&self) -> Result<PersonId, DomainError> {
        let id = self.require(Scope::Profile)?;
        match self.credential() {
            Some(c) if c.is_personal() => Ok(id),
            _ => Err(DomainError::forbidden(
                codes::PERSON_CREDENTIAL_REQUIRED,
                "only the person themselves (signed in, or with one of their API keys) may do this, not an app or token acting for them",
            )),
        }
    }

    /// The holder of attestations: the person themselves with `profile`, or a delegated
    /// credential the person granted `attestations:hold`. Holding means seeing claims, downloading
    /// the credential with every disclosure and sharing it, so `profile` alone never delegates it.
    pub fn require_holder(&self) -> Result<PersonId, DomainError> {
        match self.credential() {
            Some(c) if c.is_personal() => self.require(Scope::Profile),
            _ => self.require(Scope::AttestationsHold),
        }
    }

    /// The person, when the call is authenticated and carries `scope`; `None` otherwise. Used for
    /// reads where anonymous callers see public data only.
    pub fn reader(&self, scope: Scope) -> Option<PersonId> {
        self.person_id().filter(|_| self.scopes.contains(scope))
    }
}
