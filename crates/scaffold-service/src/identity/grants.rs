//! Apps acting for people who agree: the OAuth 2.0 authorization code grant with PKCE (RFC 6749
//! §4.1, RFC 7636 S256 only, RFC 9700's advice): exact redirect URIs, single-use codes that live
//! a minute, refresh tokens that rotate on every use (a second use of one deletes the grant), and
//! grants the person lists and revokes — revoking ends the app's access tokens for them at once,
//! because every such token names its grant and the grant is checked on each request.

use super::apps::IssuedToken;
use super::person_scopes;
use crate::auth::hash_token;
use crate::{Service, store_error};
use base64::Engine;
use chrono::Duration;
use scaffold_domain::identity::{App, AppGrant, AppStatus};
use scaffold_domain::{Actor, Credential, DomainError, ErrorKind, GrantId, Scope, Scopes, codes};
use scaffold_store::{AppToken, AppTokenKind, StoreError, TokenUse};
use sha2::{Digest, Sha256};

/// How long an authorization code may wait for its exchange.
pub const CODE_LIFETIME_SECS: i64 = 60;
/// How long a refresh token lives unused.
pub const REFRESH_LIFETIME_DAYS: i64 = 30;

/// A request to the authorization endpoint, as the app sent it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AuthorizeParams {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A checked authorization request: what the consent page asks the person.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub app: App,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// The redirect URI as the request named it (the token request must name the same, or
    /// none when the request named none: RFC 6749 §4.1.3).
    pub named_redirect_uri: Option<String>,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub code_challenge: String,
}

/// Why an authorization request fails.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the person and never sent on: the app or its redirect URI cannot be trusted.
    Page(DomainError),
    /// For the app at its redirect URI (RFC 6749 §4.1.2.1), named `app`.
    Redirect { redirect_uri: String, error: &'static str, description: String, state: Option<String>, app: String },
}

/// Tokens from the authorization code or refresh token grant.
#[derive(Debug)]
pub struct GrantTokens {
    pub access: IssuedToken,
    pub refresh_token: String,
}

/// What each scope lets an app do for a person, in plain words, for the consent page.
pub fn scope_words(s: Scope) -> &'static str {
    match s {
        Scope::GroupsRead => "See the private groups you belong to and their members",
        Scope::GroupsWrite => "Join and leave groups for you, and run the groups you organise",
        Scope::EventsRead => "See the events of the private groups you belong to",
        Scope::EventsWrite => "Add, change and cancel events of the groups you organise",
        Scope::RsvpWrite => "Say whether you are coming to events, and see the dates you replied to",
        Scope::AttestationsHold => {
            "See your attestations (such as a DBS check or a verified identity) with everything in them, accept them and share them with others"
        }
        Scope::Profile => "See your name and your account's id",
        Scope::AttestationsIssue => "Issue attestations",
        Scope::AttestationsVerify => "Check attestations that are shared with it",
        Scope::NoticesPublish => "Publish notices to community groups for you",
        Scope::Admin => "Run this service",
    }
}

fn invalid_grant(why: &str) -> DomainError {
    DomainError::new(ErrorKind::Invalid, codes::INVALID_GRANT, why)
}

fn grant_not_found() -> DomainError {
    GrantId::not_found()
}

/// A requested redirect URI against a registered one: the same text, except that a loopback IP
/// address (`http://127.0.0.1`, `http://[::1]`) may come with any port (RFC 8252 §7.3: a native
/// app listens on whatever port is free).
fn redirect_matches(registered: &str, requested: &str) -> bool {
    fn loopback(u: &str) -> Option<(&str, &str)> {
        let rest = u.strip_prefix("http://")?;
        let (authority, path) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
        let host = match authority.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
            _ => authority,
        };
        matches!(host, "127.0.0.1" | "[::1]").then_some((host, path))
    }
    registered == requested || loopback(registered).is_some_and(|r| loopback(requested) == Some(r))
}

/// The PKCE S256 check: the verifier (43 to 128 unreserved characters) hashes to the challenge.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && super::constant_time_eq(hashed.as_bytes(), challenge.as_bytes())
}

impl Service {
    /// Checks an authorization request. An unknown or revoked app, or a redirect URI the app did
    /// not register (compared exactly), is shown to the person; every other fault goes back to
    /// the app.
    pub async fn check_authorize(&self, p: &AuthorizeParams) -> Result<AuthorizeRequest, AuthorizeError> {
        let page = |code, message: &str| AuthorizeError::Page(DomainError::new(ErrorKind::Invalid, code, message));
        if p.client_id.is_empty() || p.client_id.len() > 100 || scaffold_domain::text::has_control(&p.client_id) {
            return Err(page(codes::INVALID_CLIENT, "the app that sent you here is not known"));
        }
        let app = self
            .store
            .app_by_client_id(&p.client_id)
            .await
            .map_err(|e| AuthorizeError::Page(store_error(e)))?
            .filter(|a| a.status == AppStatus::Active)
            .ok_or_else(|| page(codes::INVALID_CLIENT, "the app that sent you here is not known"))?;
        let redirect_uri = match (&p.redirect_uri, app.redirect_uris.as_slice()) {
            (Some(r), registered) if registered.iter().any(|x| redirect_matches(x, r)) => r.clone(),
            (None, [only]) => only.clone(),
            _ => {
                return Err(page(
                    codes::INVALID_REQUEST,
                    "the app sent you here with an address to return to that it has not registered",
                ));
            }
        };
        let back = |error, description: &str| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: p.state.clone(),
            app: app.name.clone(),
        };
        if p.response_type != "code" {
            return Err(back("unsupported_response_type", "only response_type=code is supported"));
        }
        let challenge = match (&p.code_challenge, p.code_challenge_method.as_deref()) {
            (Some(c), Some("S256")) if c.len() == 43 => c.clone(),
            _ => {
                return Err(back(
                    "invalid_request",
                    "PKCE is required: code_challenge with code_challenge_method=S256",
                ));
            }
        };
        let allowed = Scopes::new(app.granted_scopes.iter().filter(|s| person_scopes().contains(*s)));
        let scopes = match p.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => allowed,
            Some(s) => {
                let asked = Scopes::parse(s).map_err(|w| back("invalid_scope", &format!("`{w}` is not a scope")))?;
                if let Some(x) = asked.iter().find(|x| !allowed.contains(*x)) {
                    return Err(back("invalid_scope", &format!("the app may not ask people for `{x}`")));
                }
                asked
            }
        };
        if scopes.iter().next().is_none() {
            return Err(back("invalid_scope", "the app may not ask people for any scope"));
        }
        Ok(AuthorizeRequest {
            app,
            redirect_uri,
            named_redirect_uri: p.redirect_uri.clone(),
            scopes,
            state: p.state.clone(),
            code_challenge: challenge,
        })
    }

    /// The signed-in person agrees: their grant to the app is set to the request's scopes and a
    /// code for the app is returned.
    pub async fn approve_authorize(&self, actor: &Actor, req: &AuthorizeRequest) -> Result<String, DomainError> {
        let person = actor.require_person()?;
        if actor.credential() != Some(Credential::Session) {
            return Err(DomainError::forbidden(codes::SESSION_REQUIRED, "agree to an app from a signed-in browser"));
        }
        if let Some(x) = req.scopes.iter().find(|s| !actor.scopes.contains(*s)) {
            return Err(DomainError::missing_scope(x));
        }
        let now = self.clock.now();
        let code = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        let grant = AppGrant {
            id: GrantId::new_v7(now),
            app_id: req.app.id,
            person_id: person,
            scopes: req.scopes.clone(),
            created_at: now,
            updated_at: now,
        };
        let token = AppToken {
            token_hash: hash_token(&code),
            grant_id: grant.id,
            kind: AppTokenKind::Code,
            scopes: req.scopes.clone(),
            redirect_uri: req.named_redirect_uri.clone(),
            code_challenge: Some(req.code_challenge.clone()),
            expires_at: now + Duration::seconds(CODE_LIFETIME_SECS),
        };
        let audit = self.audit(
            Some(person),
            "grant.set",
            "app",
            req.app.id,
            serde_json::json!({ "scopes": req.scopes.to_string() }),
        );
        self.store.put_grant(&grant, &token, &audit).await.map_err(store_error)?;
        Ok(code)
    }

    /// The audit entry written when a used code or refresh token comes back (its grant is
    /// withdrawn: a sign that it was stolen).
    fn reuse_audit(&self, app: &App) -> scaffold_domain::audit::AuditEntry {
        self.audit(None, "grant.token_reused", "app", app.id, serde_json::json!({ "withdrawn": true }))
    }

    fn refresh_token(&self, scopes: &Scopes) -> Result<(String, AppToken), DomainError> {
        let value = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        let token = AppToken {
            token_hash: hash_token(&value),
            grant_id: GrantId(uuid::Uuid::nil()),
            kind: AppTokenKind::Refresh,
            scopes: scopes.clone(),
            redirect_uri: None,
            code_challenge: None,
            expires_at: self.clock.now() + Duration::days(REFRESH_LIFETIME_DAYS),
        };
        Ok((value, token))
    }

    /// The authorization code grant: the app exchanges a code, with the PKCE verifier and the
    /// same redirect URI, for an access token and a refresh token.
    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &str,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: &str,
    ) -> Result<GrantTokens, DomainError> {
        let app = self.authenticate_client(client_id, client_secret).await?;
        let (refresh, next) = self.refresh_token(&Scopes::default())?;
        let (app_id, registered) = (app.id, app.redirect_uris.clone());
        let (named, verifier) = (redirect_uri.map(str::to_owned), verifier.to_owned());
        let next = move |t: &AppToken, g: &AppGrant| {
            // The token request names the redirect URI the authorization request named; when that
            // named none (the app has one), it may name none or that one.
            let redirect_ok = match (&t.redirect_uri, &named) {
                (Some(a), Some(b)) => a == b,
                (None, None) => true,
                (None, Some(b)) => registered.len() == 1 && registered[0] == *b,
                (Some(_), None) => false,
            };
            let valid = t.kind == AppTokenKind::Code
                && g.app_id == app_id
                && redirect_ok
                && t.code_challenge.as_deref().is_some_and(|c| pkce_matches(&verifier, c));
            valid.then(|| AppToken { scopes: t.scopes.clone(), ..next.clone() })
        };
        let reuse = self.reuse_audit(&app);
        match self.store.use_app_token(&hash_token(code), self.clock.now(), &reuse, &next).await.map_err(store_error)? {
            TokenUse::Used(t, g) => {
                let access =
                    self.issue_access_token(&g.person_id.to_string(), &app.client_id, &t.scopes, Some(g.id)).await?;
                Ok(GrantTokens { access, refresh_token: refresh })
            }
            TokenUse::Refused => Err(invalid_grant(
                "the code is for another app or redirect URI, or the code_verifier does not match its challenge",
            )),
            TokenUse::Reused => Err(invalid_grant("the code was used before: the access it gave is withdrawn")),
            TokenUse::Expired | TokenUse::Unknown => Err(invalid_grant("the code is unknown or has expired")),
        }
    }

    /// The refresh token grant: a new access token and a new refresh token (the old one stops
    /// working; using it again withdraws the grant). `scope` may narrow what the token carries.
    pub async fn refresh_grant(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<GrantTokens, DomainError> {
        let app = self.authenticate_client(client_id, client_secret).await?;
        let narrowed = match scope {
            Some(s) => Some(Scopes::parse(s).map_err(|w| {
                DomainError::new(ErrorKind::Invalid, codes::INVALID_SCOPE, format!("`{w}` is not a scope"))
            })?),
            None => None,
        };
        let (value, next) = self.refresh_token(&Scopes::default())?;
        let app_id = app.id;
        let asked = narrowed.clone();
        // The next refresh token keeps the grant's scopes (RFC 6749 §6): only this access token
        // is narrowed.
        let next = move |t: &AppToken, g: &AppGrant| {
            let fits = asked.as_ref().is_none_or(|a| a.is_subset(&t.scopes));
            (t.kind == AppTokenKind::Refresh && g.app_id == app_id && fits)
                .then(|| AppToken { scopes: t.scopes.clone(), ..next.clone() })
        };
        let reuse = self.reuse_audit(&app);
        match self
            .store
            .use_app_token(&hash_token(refresh_token), self.clock.now(), &reuse, &next)
            .await
            .map_err(store_error)?
        {
            TokenUse::Used(t, g) => {
                let carried = narrowed.unwrap_or_else(|| t.scopes.clone());
                let scopes = Scopes::new(carried.iter().filter(|s| g.scopes.contains(*s)));
                let access =
                    self.issue_access_token(&g.person_id.to_string(), &app.client_id, &scopes, Some(g.id)).await?;
                Ok(GrantTokens { access, refresh_token: value })
            }
            TokenUse::Refused if narrowed.is_some() => Err(DomainError::new(
                ErrorKind::Invalid,
                codes::INVALID_SCOPE,
                "a refresh can only narrow the scopes, or the refresh token is for another app",
            )),
            TokenUse::Refused => Err(invalid_grant("the refresh token is for another app")),
            TokenUse::Reused => {
                Err(invalid_grant("the refresh token was used before: the person's grant to the app is withdrawn"))
            }
            TokenUse::Expired | TokenUse::Unknown => Err(invalid_grant("the refresh token is unknown or has expired")),
        }
    }

    /// The apps the caller has let act for them, with their grants.
    pub async fn grants(&self, actor: &Actor) -> Result<Vec<(AppGrant, App)>, DomainError> {
        let person = actor.require_person()?;
        let grants = self.store.grants_of_person(person).await.map_err(store_error)?;
        let mut out = Vec::with_capacity(grants.len());
        for g in grants {
            if let Some(app) = self.store.app_by_id(g.app_id).await.map_err(store_error)? {
                out.push((g, app));
            }
        }
        Ok(out)
    }

    /// The caller withdraws an app's access: its tokens for them stop working at once.
    pub async fn revoke_grant(&self, actor: &Actor, id: GrantId) -> Result<(), DomainError> {
        let person = actor.require_person()?;
        let audit = self.audit(Some(person), "grant.revoke", "grant", id, serde_json::json!({}));
        self.store.delete_grant(id, person, &audit).await.map_err(|e| match e {
            StoreError::NotFound => grant_not_found(),
            other => store_error(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_may_use_any_port_and_nothing_else_changes() {
        assert!(redirect_matches("https://app.example/cb", "https://app.example/cb"));
        assert!(!redirect_matches("https://app.example/cb", "https://app.example/cb/"));
        assert!(!redirect_matches("https://app.example:8443/cb", "https://app.example:9443/cb"));
        assert!(redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1:53124/cb"));
        assert!(redirect_matches("http://127.0.0.1:8080/cb", "http://127.0.0.1:53124/cb"));
        assert!(redirect_matches("http://[::1]/cb", "http://[::1]:6000/cb"));
        assert!(!redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1:53124/other"));
        assert!(!redirect_matches("http://127.0.0.1/cb", "http://127.0.0.2:53124/cb"));
        assert!(!redirect_matches("http://localhost/cb", "http://localhost:53124/cb"), "a name, not a loopback IP");
        assert!(!redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1@evil.example/cb"));
        assert!(!redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb"));
    }

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSx0KZ7M"));
    }
}
