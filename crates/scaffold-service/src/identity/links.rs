//! One-time sign-in links, for instances without an OpenID Provider (the embedded default) and
//! for inviting someone who has none: an operator asks for a link for a person (new or existing);
//! the link holds a random token, stored only as its hash, that starts one ordinary browser
//! session once, within its lifetime. A link is kept as a pending sign-in (`LoginState`) whose
//! provider is `LINK_PROVIDER`, a name no configured provider can have; taking it deletes it.

use super::login::SignedIn;
use crate::auth::hash_token;
use crate::{Service, store_error};
use chrono::{DateTime, Duration, Utc};
use scaffold_domain::person::{self, Person};
use scaffold_domain::{Actor, DomainError, ErrorKind, FieldError, PersonId, Scope, codes};
use scaffold_store::LoginState;

/// The provider name of sessions started by a link (configured names are letters, digits and
/// hyphens only).
pub const LINK_PROVIDER: &str = "link:invite";
/// How long a link works unless the operator says otherwise.
pub const DEFAULT_MINUTES: i64 = 60;
/// The longest a link may work.
pub const MAX_MINUTES: i64 = 7 * 24 * 60;
/// Where a link's path starts; the token follows.
pub const LINK_PATH: &str = "/sign-in/";

/// Who the link is for.
#[derive(Debug, Clone)]
pub enum Invitee {
    Person(PersonId),
    /// A new person with this display name.
    New(String),
}

/// A link as shown once to the operator who asked for it.
#[derive(Debug, Clone)]
pub struct SignInLink {
    pub url: String,
    pub person_id: PersonId,
    pub expires_at: DateTime<Utc>,
}

fn unusable() -> DomainError {
    DomainError::new(
        ErrorKind::Invalid,
        codes::SIGN_IN_LINK_UNUSABLE,
        "this sign-in link is unknown, was already used or has expired: ask for a new one",
    )
}

impl Service {
    /// An operator (or the command line, `by` = `None`) asks for a sign-in link for a person.
    pub async fn invite_sign_in(
        &self,
        by: Option<&Actor>,
        who: &Invitee,
        minutes: Option<i64>,
    ) -> Result<SignInLink, DomainError> {
        let by = match by {
            Some(actor) => Some(actor.require(Scope::Admin)?),
            None => None,
        };
        let minutes = minutes.unwrap_or(DEFAULT_MINUTES);
        if !(1..=MAX_MINUTES).contains(&minutes) {
            return Err(DomainError::invalid(vec![FieldError::new(
                "/expires_in_minutes",
                codes::OUT_OF_RANGE,
                format!("a link works for 1 to {MAX_MINUTES} minutes"),
            )]));
        }
        let now = self.clock.now();
        let person_id = match who {
            Invitee::Person(id) => {
                if self.store.persons_by_ids(&[*id]).await.map_err(store_error)?.is_empty() {
                    return Err(PersonId::not_found());
                }
                *id
            }
            Invitee::New(name) => {
                let display_name =
                    person::display_name("/display_name", name).map_err(|e| DomainError::invalid(vec![e]))?;
                let person = Person { id: PersonId::new_v7(now), display_name, created_at: now };
                let audit =
                    self.audit(by, "person.create", "person", person.id, serde_json::json!({ "by": "sign-in link" }));
                self.store.create_person(&person, None, &audit).await.map_err(store_error)?;
                person.id
            }
        };
        let token = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        let expires_at = now + Duration::minutes(minutes);
        let state = LoginState {
            flow_hash: hash_token(&token),
            provider: LINK_PROVIDER.to_owned(),
            state: String::new(),
            nonce: String::new(),
            pkce_verifier: String::new(),
            link_person: Some(person_id),
            return_to: Some("/me".to_owned()),
            created_at: now,
            expires_at,
        };
        let audit = self.audit(
            by,
            "person.sign_in_link",
            "person",
            person_id,
            serde_json::json!({ "expires_at": expires_at.to_rfc3339() }),
        );
        self.store.put_login_state(&state, Some(&audit)).await.map_err(store_error)?;
        let base = self.identity.config.public_url.trim_end_matches('/');
        Ok(SignInLink { url: format!("{base}{LINK_PATH}{token}"), person_id, expires_at })
    }

    /// Uses a sign-in link: once, within its lifetime, it starts a browser session.
    pub async fn sign_in_with_link(&self, token: &str) -> Result<SignedIn, DomainError> {
        let now = self.clock.now();
        let state =
            self.store.take_login_state(&hash_token(token), now).await.map_err(store_error)?.ok_or_else(unusable)?;
        let person_id = match (state.provider.as_str(), state.link_person) {
            (LINK_PROVIDER, Some(p)) if state.expires_at > now => p,
            _ => return Err(unusable()),
        };
        self.start_session(person_id, LINK_PROVIDER, None, state.return_to.unwrap_or_else(|| "/me".to_owned())).await
    }
}
