//! API keys: random bearer tokens, shown once and stored as SHA-256 hashes, each carrying a set
//! of scopes; the first-run operator bootstrap; and turning a presented token into an `Actor`.
//! The OIDC layer will add other credentials that resolve to the same `Actor`.

use crate::{Page, Service, store_error};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaffold_domain::codes;
use scaffold_domain::person::{self, Person};
use scaffold_domain::{Actor, ApiKeyId, Credential, DomainError, PersonId, Scope, Scopes, text};
use scaffold_store::ApiKey;
use sha2::{Digest, Sha256};
use std::fmt;

/// Tokens start with this prefix, so that secret scanners can recognise them.
pub const TOKEN_PREFIX: &str = "scf_";
pub const KEY_NAME_MAX: usize = 100;

/// A bearer token in clear. Shown once to its owner; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    fn generate() -> Result<Self, DomainError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| DomainError::internal(e.to_string()))?;
        Ok(Self(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// The token, for showing to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken([redacted])")
    }
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new key and its token, returned once.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub token: SecretToken,
}

/// A person created by an operator, with their first key.
#[derive(Debug)]
pub struct NewPerson {
    pub person: Person,
    pub issued: IssuedKey,
}

fn key_name(name: &str) -> Result<String, DomainError> {
    text::bounded("/name", name, 1, KEY_NAME_MAX, false).map_err(|e| DomainError::invalid(vec![e]))
}

fn parse_scopes(scopes: &[String]) -> Result<Scopes, DomainError> {
    let mut out = Vec::new();
    for (i, s) in scopes.iter().enumerate() {
        match Scope::parse(s) {
            Some(x) => out.push(x),
            None => {
                return Err(DomainError::invalid_field(
                    &format!("/scopes/{i}"),
                    codes::UNKNOWN_SCOPE,
                    format!("`{s}` is not a scope"),
                ));
            }
        }
    }
    Ok(Scopes::new(out))
}

impl Service {
    /// Resolves an `Authorization` header: none is an anonymous caller; anything but a valid
    /// `Bearer` token is refused (a bad token never silently downgrades to anonymous).
    pub async fn actor_from_authorization(&self, header: Option<&str>) -> Result<Actor, DomainError> {
        let Some(h) = header else { return Ok(Actor::anonymous()) };
        let token = h
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or_else(|| DomainError::unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        self.authenticate(token).await
    }

    /// Resolves a bearer token. Unknown and revoked tokens are refused alike.
    pub async fn authenticate(&self, bearer: &str) -> Result<Actor, DomainError> {
        let refused = || DomainError::unauthenticated("the bearer token is not valid");
        if !bearer.starts_with(TOKEN_PREFIX) && bearer.matches('.').count() == 2 && bearer.len() <= 8192 {
            return self.authenticate_jwt(bearer).await;
        }
        if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 200 {
            return Err(refused());
        }
        match self.store.api_key_by_hash(&hash_token(bearer)).await.map_err(store_error)? {
            Some(k) if k.revoked_at.is_none() => Ok(Actor::person(k.person_id, Credential::ApiKey(k.id), k.scopes)),
            _ => Err(refused()),
        }
    }

    fn new_key(&self, person_id: PersonId, name: String, scopes: Scopes) -> Result<IssuedKey, DomainError> {
        let token = SecretToken::generate()?;
        let now = self.clock.now();
        let key = ApiKey {
            id: ApiKeyId::new_v7(now),
            person_id,
            name,
            token_hash: hash_token(token.expose()),
            scopes,
            created_at: now,
            revoked_at: None,
        };
        Ok(IssuedKey { key, token })
    }

    async fn insert_person(
        &self,
        by: Option<PersonId>,
        display_name: &str,
        key_name_: &str,
        scopes: Scopes,
    ) -> Result<NewPerson, DomainError> {
        let display_name =
            person::display_name("/display_name", display_name).map_err(|e| DomainError::invalid(vec![e]))?;
        let key_name_ = key_name(key_name_)?;
        let now = self.clock.now();
        let person = Person { id: PersonId::new_v7(now), display_name, created_at: now };
        let issued = self.new_key(person.id, key_name_, scopes)?;
        let audit = self.audit(
            by,
            "person.create",
            "person",
            person.id,
            serde_json::json!({ "api_key_id": issued.key.id.to_string(), "scopes": issued.key.scopes.to_string() }),
        );
        self.store.create_person(&person, Some(&issued.key), &audit).await.map_err(store_error)?;
        Ok(NewPerson { person, issued })
    }

    /// On first run, creates the operator and returns their token; `None` when an operator key
    /// already exists (checked atomically in the store, so concurrent replicas create one).
    pub async fn bootstrap_operator(&self) -> Result<Option<SecretToken>, DomainError> {
        if self.store.count_operator_keys().await.map_err(store_error)? > 0 {
            return Ok(None);
        }
        let now = self.clock.now();
        let person = Person { id: PersonId::new_v7(now), display_name: "Operator".to_owned(), created_at: now };
        let issued = self.new_key(person.id, "first-run bootstrap".to_owned(), Scopes::all())?;
        let audit = self.audit(
            None,
            "person.create",
            "person",
            person.id,
            serde_json::json!({ "api_key_id": issued.key.id.to_string(), "scopes": issued.key.scopes.to_string(), "bootstrap": true }),
        );
        let created = self.store.bootstrap_operator(&person, &issued.key, &audit).await.map_err(store_error)?;
        Ok(created.then_some(issued.token))
    }

    /// Creates a person and their first key from the command line (`scaffold token create`).
    pub async fn create_person_from_cli(
        &self,
        display_name: &str,
        key_name: &str,
        scopes: Scopes,
    ) -> Result<NewPerson, DomainError> {
        self.insert_person(None, display_name, key_name, scopes).await
    }

    /// An operator creates a person with a first key (until people sign in with OpenID Connect).
    pub async fn create_person(
        &self,
        actor: &Actor,
        display_name: &str,
        key_name: &str,
        scopes: &[String],
    ) -> Result<NewPerson, DomainError> {
        let by = actor.require(Scope::Admin)?;
        let scopes = parse_scopes(scopes)?;
        self.insert_person(Some(by), display_name, key_name, scopes).await
    }

    pub async fn person(&self, actor: &Actor) -> Result<(Person, Scopes), DomainError> {
        let Some(id) = actor.person_id() else {
            return Err(DomainError::unauthenticated("this operation needs a bearer token"));
        };
        let mut found = self.store.persons_by_ids(&[id]).await.map_err(store_error)?;
        let person = found.pop().ok_or_else(|| DomainError::unauthenticated("the person no longer exists"))?;
        Ok((person, actor.scopes.clone()))
    }

    /// The caller creates another key for themselves, with at most the scopes they hold now. API
    /// keys outlive tokens and apps: only the person themselves manages them (see
    /// [`Actor::require_person`]).
    pub async fn create_own_key(&self, actor: &Actor, name: &str, scopes: &[String]) -> Result<IssuedKey, DomainError> {
        let person = actor.require_person()?;
        let name = key_name(name)?;
        let scopes = parse_scopes(scopes)?;
        if !scopes.is_subset(&actor.scopes) {
            return Err(DomainError::forbidden(
                codes::SCOPE_NOT_HELD,
                "a new key may carry only scopes that the calling key has",
            ));
        }
        let issued = self.new_key(person, name, scopes)?;
        let audit = self.audit(
            Some(person),
            "api_key.create",
            "api_key",
            issued.key.id,
            serde_json::json!({ "scopes": issued.key.scopes.to_string() }),
        );
        self.store.create_api_key(&issued.key, &audit).await.map_err(store_error)?;
        Ok(issued)
    }

    pub async fn own_keys(&self, actor: &Actor) -> Result<Page<ApiKey>, DomainError> {
        let person = actor.require_person()?;
        let items = self.store.api_keys_of_person(person).await.map_err(store_error)?;
        Ok(Page { items, next: None })
    }

    /// Revokes one of the caller's keys. A key may always revoke itself, whatever its scopes (a
    /// narrow key that leaked can be put out of use by whoever holds it).
    pub async fn revoke_own_key(&self, actor: &Actor, key: ApiKeyId) -> Result<(), DomainError> {
        let person = match (actor.credential(), actor.person_id()) {
            (Some(Credential::ApiKey(own)), Some(person)) if own == key => person,
            _ => actor.require_person()?,
        };
        let audit = self.audit(Some(person), "api_key.revoke", "api_key", key, serde_json::json!({}));
        self.store.revoke_api_key(person, key, &audit).await.map_err(|e| match e {
            scaffold_store::StoreError::NotFound => ApiKeyId::not_found(),
            other => store_error(other),
        })
    }

    /// People by id (their display names), for loaders: signed-in callers only, who meet people
    /// through member lists and replies, which need a bearer token too.
    pub async fn persons(&self, actor: &Actor, ids: &[PersonId]) -> Result<Vec<Person>, DomainError> {
        if actor.person_id().is_none() {
            return Err(DomainError::unauthenticated("people's names need a bearer token"));
        }
        self.store.persons_by_ids(ids).await.map_err(store_error)
    }
}
