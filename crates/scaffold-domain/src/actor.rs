//! `Actor`: who is calling, passed to every service call. Authorisation is decided in the service
//! layer from the actor, never only in a handler. The OIDC layer will produce the same type.

use crate::{ApiKeyId, DomainError, PersonId, Scope, Scopes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    /// A person acting through a credential (API key today; OIDC sessions and tokens later).
    Person {
        person_id: PersonId,
        key_id: Option<ApiKeyId>,
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

    pub fn person(person_id: PersonId, key_id: Option<ApiKeyId>, scopes: Scopes) -> Self {
        Self { principal: Principal::Person { person_id, key_id }, scopes }
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

    /// The person, when the call is authenticated and carries `scope`; `None` otherwise. Used for
    /// reads where anonymous callers see public data only.
    pub fn reader(&self, scope: Scope) -> Option<PersonId> {
        self.person_id().filter(|_| self.scopes.contains(scope))
    }
}
