//! Apps for community developers: registration by a signed-in person, operator approval of the
//! scopes that need it, secrets shown once and stored hashed (rotatable), revocation, and the
//! client credentials grant that turns an app's secret into a short-lived access token carrying
//! only granted scopes.

use super::token_refused;
use crate::auth::hash_token;
use crate::{Page, Service, store_error};
use scaffold_domain::codes;
use scaffold_domain::identity::{App, AppDraft, AppStatus, initial_grant, needs_approval};
use scaffold_domain::{Actor, AppId, Credential, DomainError, ErrorKind, Scope, Scopes};
use scaffold_identity::{AccessTokenClaims, TokenError};
use std::fmt;

pub const CLIENT_SECRET_PREFIX: &str = "scs_";

/// A client secret in clear, shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    fn generate() -> Result<Self, DomainError> {
        let t = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        Ok(Self(format!("{CLIENT_SECRET_PREFIX}{t}")))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// An app with its secret, returned once on registration and on rotation.
#[derive(Debug)]
pub struct AppWithSecret {
    pub app: App,
    pub client_secret: ClientSecret,
}

/// An access token from the client credentials grant.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

fn app_not_found() -> DomainError {
    AppId::not_found()
}

/// The failures of the token endpoint, with their RFC 6749 `error` names.
pub fn oauth_error_name(code: &str) -> &'static str {
    match code {
        codes::INVALID_CLIENT => "invalid_client",
        codes::INVALID_SCOPE => "invalid_scope",
        codes::UNSUPPORTED_GRANT_TYPE => "unsupported_grant_type",
        codes::UNAUTHORIZED_CLIENT => "unauthorized_client",
        codes::INVALID_GRANT => "invalid_grant",
        _ => "invalid_request",
    }
}

impl Service {
    /// A signed-in person registers an app. Scopes that need no approval are granted at once.
    /// App management is for the person themselves, never for an app or token acting for them.
    pub async fn register_app(&self, actor: &Actor, draft: &AppDraft) -> Result<AppWithSecret, DomainError> {
        let owner = actor.require_person()?;
        let v = draft.validate()?;
        let now = self.clock.now();
        let secret = ClientSecret::generate()?;
        let client_id = format!("app_{}", scaffold_identity::random_token(12).map_err(DomainError::internal)?);
        let app = App {
            id: AppId::new_v7(now),
            client_id,
            owner,
            name: v.name,
            description: v.description,
            homepage: v.homepage,
            redirect_uris: v.redirect_uris,
            granted_scopes: initial_grant(&v.scopes),
            requested_scopes: v.scopes,
            secret_hash: hash_token(secret.expose()),
            secret_created_at: now,
            status: AppStatus::Active,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit(
            Some(owner),
            "app.create",
            "app",
            app.id,
            serde_json::json!({ "requested": app.requested_scopes.to_string(), "granted": app.granted_scopes.to_string() }),
        );
        self.store.create_app(&app, &audit).await.map_err(store_error)?;
        Ok(AppWithSecret { app, client_secret: secret })
    }

    /// The caller's own apps; operators may list every app.
    pub async fn apps(
        &self,
        actor: &Actor,
        all: bool,
        after: Option<AppId>,
        limit: u32,
    ) -> Result<Page<App>, DomainError> {
        let person = actor.require_person()?;
        let items = if all {
            if !actor.is_operator() {
                return Err(DomainError::missing_scope(Scope::Admin));
            }
            self.store.list_apps(after, limit).await.map_err(store_error)?
        } else {
            self.store.apps_of_person(person).await.map_err(store_error)?
        };
        let next = (all && items.len() == usize::try_from(limit).unwrap_or(usize::MAX))
            .then(|| items.last().map(|a| a.id.to_string()))
            .flatten();
        Ok(Page { items, next })
    }

    /// One live app, to its owner or an operator. A revoked app is gone (404); it stays in its
    /// owner's list, with its status, as a record.
    pub async fn app(&self, actor: &Actor, id: AppId) -> Result<App, DomainError> {
        let app = self.app_any_status(actor, id).await?;
        if app.status == AppStatus::Revoked {
            return Err(app_not_found());
        }
        Ok(app)
    }

    async fn app_any_status(&self, actor: &Actor, id: AppId) -> Result<App, DomainError> {
        let person = actor.require_person()?;
        let app = self.store.app_by_id(id).await.map_err(store_error)?.ok_or_else(app_not_found)?;
        if app.owner != person && !actor.is_operator() {
            return Err(app_not_found());
        }
        Ok(app)
    }

    /// An operator grants requested scopes that need approval.
    pub async fn approve_app_scopes(&self, actor: &Actor, id: AppId, scopes: &[String]) -> Result<App, DomainError> {
        let by = actor.require(Scope::Admin)?;
        actor.require_person()?;
        let mut app = self.store.app_by_id(id).await.map_err(store_error)?.ok_or_else(app_not_found)?;
        let mut add = Vec::new();
        for (i, s) in scopes.iter().enumerate() {
            match Scope::parse(s) {
                Some(x) if app.requested_scopes.contains(x) && needs_approval(x) => add.push(x),
                _ => {
                    return Err(DomainError::invalid_field(
                        &format!("/scopes/{i}"),
                        codes::NOT_REQUESTED,
                        format!("`{s}` is not a scope this app requested that needs approval"),
                    ));
                }
            }
        }
        if app.status != AppStatus::Active {
            return Err(DomainError::conflict(codes::APP_REVOKED, "the app has been revoked"));
        }
        app.granted_scopes = Scopes::new(app.granted_scopes.iter().chain(add.iter().copied()));
        app.updated_at = self.clock.now();
        let audit = self.audit(
            Some(by),
            "app.approve",
            "app",
            app.id,
            serde_json::json!({ "granted": app.granted_scopes.to_string() }),
        );
        self.store.update_app(&app, &audit).await.map_err(store_error)?;
        Ok(app)
    }

    /// The owner replaces the app's secret; the old one stops working at once.
    pub async fn rotate_app_secret(&self, actor: &Actor, id: AppId) -> Result<AppWithSecret, DomainError> {
        let mut app = self.owned_app(actor, id).await?;
        if app.status != AppStatus::Active {
            return Err(DomainError::conflict(codes::APP_REVOKED, "the app has been revoked"));
        }
        let secret = ClientSecret::generate()?;
        let now = self.clock.now();
        app.secret_hash = hash_token(secret.expose());
        app.secret_created_at = now;
        app.updated_at = now;
        let audit = self.audit(actor.person_id(), "app.rotate_secret", "app", app.id, serde_json::json!({}));
        self.store.update_app(&app, &audit).await.map_err(store_error)?;
        Ok(AppWithSecret { app, client_secret: secret })
    }

    /// The owner or an operator revokes an app: its secret and every token it holds stop working.
    pub async fn revoke_app(&self, actor: &Actor, id: AppId) -> Result<App, DomainError> {
        let mut app = self.app_any_status(actor, id).await?;
        if app.status == AppStatus::Revoked {
            return Ok(app);
        }
        app.status = AppStatus::Revoked;
        app.updated_at = self.clock.now();
        let audit = self.audit(actor.person_id(), "app.revoke", "app", app.id, serde_json::json!({}));
        self.store.update_app(&app, &audit).await.map_err(store_error)?;
        Ok(app)
    }

    async fn owned_app(&self, actor: &Actor, id: AppId) -> Result<App, DomainError> {
        let person = actor.require_person()?;
        let app = self.store.app_by_id(id).await.map_err(store_error)?.ok_or_else(app_not_found)?;
        if app.owner != person {
            return Err(app_not_found());
        }
        Ok(app)
    }

    /// The app behind a client id and secret (`INVALID_CLIENT` otherwise, the same answer for
    /// an unknown app, a wrong secret and a revoked app).
    pub(crate) async fn authenticate_client(&self, client_id: &str, client_secret: &str) -> Result<App, DomainError> {
        let invalid_client =
            || DomainError::new(ErrorKind::Unauthenticated, codes::INVALID_CLIENT, "unknown client or wrong secret");
        // No client id has a control character or is that long: unknown, without asking the store.
        if client_id.len() > 100 || scaffold_domain::text::has_control(client_id) {
            return Err(invalid_client());
        }
        let app = self.store.app_by_client_id(client_id).await.map_err(store_error)?.ok_or_else(invalid_client)?;
        let presented = hash_token(client_secret);
        if !super::constant_time_eq(&presented, &app.secret_hash) || app.status != AppStatus::Active {
            return Err(invalid_client());
        }
        Ok(app)
    }

    /// The client credentials grant (RFC 6749 §4.4): an access token for the app, acting for its
    /// owner, with the requested scopes (all granted ones when none are named). Holding the
    /// owner's attestations is never among them: a person grants that only through consent (the
    /// authorization code grant).
    pub async fn client_credentials(
        &self,
        client_id: &str,
        client_secret: &str,
        scope: Option<&str>,
    ) -> Result<IssuedToken, DomainError> {
        let app = self.authenticate_client(client_id, client_secret).await?;
        let own = own_scopes(&app);
        let scopes = match scope {
            None => own,
            Some(s) => {
                let asked = Scopes::parse(s).map_err(|w| {
                    DomainError::new(ErrorKind::Invalid, codes::INVALID_SCOPE, format!("`{w}` is not a scope"))
                })?;
                if let Some(missing) = asked.iter().find(|x| !own.contains(*x)) {
                    let why = if missing == Scope::AttestationsHold {
                        "`attestations:hold` is given by a person through consent (the authorization code grant), not to the app itself".to_owned()
                    } else {
                        format!("the app has not been granted `{missing}`")
                    };
                    return Err(DomainError::new(ErrorKind::Invalid, codes::INVALID_SCOPE, why));
                }
                asked
            }
        };
        self.issue_access_token(&app.owner.to_string(), &app.client_id, &scopes, None).await
    }

    /// The caller behind one of our access tokens: under a person's grant, that person with the
    /// token's scopes that the grant and the app still hold (refused once the grant is revoked);
    /// otherwise the app's owner with the token's scopes the app still holds for itself. Refused
    /// once the app is revoked.
    pub(crate) async fn app_actor(&self, claims: &AccessTokenClaims) -> Result<Actor, DomainError> {
        let app = self
            .store
            .app_by_client_id(&claims.client_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| token_refused(&TokenError::MissingClaim("client_id")))?;
        if app.status != AppStatus::Active {
            return Err(DomainError::new(ErrorKind::Unauthenticated, codes::APP_REVOKED, "the app has been revoked"));
        }
        let asked = Scopes::parse(&claims.scope).unwrap_or_default();
        let Some(gid) = &claims.gid else {
            let own = own_scopes(&app);
            let scopes = Scopes::new(asked.iter().filter(|s| own.contains(*s)));
            return Ok(Actor::person(app.owner, Credential::App(app.id), scopes));
        };
        let grant = match scaffold_domain::GrantId::parse(gid) {
            Some(id) => self.store.grant_by_id(id).await.map_err(store_error)?,
            None => None,
        };
        let Some(grant) = grant.filter(|g| g.app_id == app.id) else {
            return Err(DomainError::new(
                ErrorKind::Unauthenticated,
                codes::INVALID_TOKEN,
                "the person has withdrawn the app's access",
            ));
        };
        let scopes = Scopes::new(asked.iter().filter(|s| grant.scopes.contains(*s) && app.granted_scopes.contains(*s)));
        Ok(Actor::person(grant.person_id, Credential::App(app.id), scopes))
    }
}

/// What an app may do for its owner by itself: its granted scopes but holding attestations.
fn own_scopes(app: &App) -> Scopes {
    Scopes::new(app.granted_scopes.iter().filter(|s| *s != Scope::AttestationsHold))
}
