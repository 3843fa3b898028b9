//! Sign-in with OpenID Providers and browser sessions. A sign-in in progress is stored under the
//! hash of a random value held in a `__Host-` cookie, so the callback only works in the browser
//! that started it, only once, and only within the flow's lifetime. Sessions are stored under the
//! hash of their cookie value, with idle and absolute expiry, so any replica can serve them and
//! signing out ends them everywhere.

use super::person_scopes;
use crate::auth::hash_token;
use crate::{Service, store_error};
use chrono::Duration;
use scaffold_domain::codes;
use scaffold_domain::identity::{Assurance, Identity};
use scaffold_domain::person::{self, Person};
use scaffold_domain::{Actor, Credential, DomainError, ErrorKind, IdentityId, PersonId};
use scaffold_identity::FlowSecrets;
use scaffold_store::{LoginState, Session, StoreError};

/// The cookie holding the sign-in flow's browser binding.
pub const FLOW_COOKIE: &str = "__Host-scaffold-flow";
/// The session cookie.
pub const SESSION_COOKIE: &str = "__Host-scaffold-session";

/// A `Set-Cookie` value for the sign-in cookies: `__Host-` names, so Secure, `Path=/` and no
/// Domain; never readable by scripts; sent on top-level navigation from other sites (`Lax`).
pub fn cookie_header(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// Where to send the browser to sign in, and the cookie value that binds the flow to it.
#[derive(Debug)]
pub struct LoginRedirect {
    pub url: String,
    pub flow_cookie: String,
    pub max_age_secs: i64,
}

/// What the provider sent back to the callback.
#[derive(Debug, Default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A finished sign-in: the new session's cookie value and where to go next.
#[derive(Debug)]
pub struct SignedIn {
    pub person_id: PersonId,
    pub session_cookie: String,
    pub max_age_secs: i64,
    pub return_to: String,
}

fn login_error(code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorKind::Unauthenticated, code, message)
}

fn bad_flow(code: &'static str, message: &str) -> DomainError {
    DomainError::new(ErrorKind::Invalid, code, message.to_owned())
}

/// Only a local path, normalised, so that sign-in cannot be turned into an open redirect. The
/// value is resolved the way a browser would resolve it (the WHATWG URL parser drops tabs and
/// newlines, reads `\` as `/`, and removes dot segments) against a placeholder origin, and kept
/// only when it stays on that origin and its normalised path cannot be read as scheme-relative.
/// Control characters, spaces and backslashes are refused outright.
pub fn safe_return_to(r: Option<&str>) -> Option<String> {
    let r = r?;
    if r.len() > 2000 || !r.starts_with('/') || r.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return None;
    }
    let base = url::Url::parse("https://return-to.invalid/").ok()?;
    let resolved = base.join(r).ok()?;
    if resolved.origin() != base.origin() || !resolved.username().is_empty() || resolved.password().is_some() {
        return None;
    }
    let mut out = resolved.path().to_owned();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    (out.starts_with('/') && !out.starts_with("//")).then_some(out)
}

/// The credentials a request presented, as the transports read them from HTTP.
#[derive(Debug, Default)]
pub struct Presented<'a> {
    pub authorization: Option<&'a str>,
    pub session_cookie: Option<&'a str>,
    /// Whether the request may change something (not GET/HEAD/OPTIONS).
    pub unsafe_method: bool,
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` request header.
    pub fetch_site: Option<&'a str>,
}

/// A cookie's value from `Cookie` header values.
pub fn cookie_value<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl Service {
    /// The caller behind a request: the `Authorization` header when present (never downgraded
    /// to anonymous when bad), else the session cookie. Cookie-authenticated changes must come
    /// from the service's own origin: browsers always send `Origin` on such requests, and
    /// `Sec-Fetch-Site` when they know it (defence in depth beside `SameSite=Lax`).
    pub async fn actor_from_request(&self, p: &Presented<'_>) -> Result<Actor, DomainError> {
        let Some(session) = p.session_cookie.filter(|_| p.authorization.is_none()) else {
            return self.actor_from_authorization(p.authorization).await;
        };
        if p.unsafe_method {
            let cross_origin = p.origin.is_some_and(|o| o != self.identity.config.public_url.trim_end_matches('/'));
            let cross_site = p.fetch_site.is_some_and(|f| !matches!(f, "same-origin" | "none"));
            if cross_origin || cross_site {
                return Err(DomainError::forbidden(
                    codes::CROSS_SITE_REQUEST,
                    "a cookie-authenticated change must come from this service's own pages",
                ));
            }
        }
        self.actor_from_session(session).await
    }

    fn provider(&self, name: &str) -> Result<&scaffold_identity::Provider, DomainError> {
        self.identity.providers.get(name).ok_or_else(|| {
            DomainError::not_found(codes::PROVIDER_NOT_FOUND, format!("no identity provider is called `{name}`"))
        })
    }

    /// Starts a sign-in (or, for a signed-in `actor`, linking another identity).
    pub async fn begin_login(
        &self,
        provider: &str,
        return_to: Option<&str>,
        link_for: Option<PersonId>,
    ) -> Result<LoginRedirect, DomainError> {
        let p = self.provider(provider)?;
        let now = self.clock.now();
        let start = p.begin(now).await.map_err(|e| DomainError::unavailable(e.to_string()))?;
        let flow_cookie = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        let lifetime = self.identity.config.login_flow_secs.clamp(60, 600);
        let state = LoginState {
            flow_hash: hash_token(&flow_cookie),
            provider: provider.to_owned(),
            state: start.secrets.state,
            nonce: start.secrets.nonce,
            pkce_verifier: start.secrets.pkce_verifier,
            link_person: link_for,
            return_to: safe_return_to(return_to),
            created_at: now,
            expires_at: now + Duration::seconds(lifetime),
        };
        self.store.put_login_state(&state, None).await.map_err(store_error)?;
        Ok(LoginRedirect { url: start.url, flow_cookie, max_age_secs: lifetime })
    }

    /// Finishes a sign-in from the provider's redirect. Every failure fails closed.
    pub async fn finish_login(
        &self,
        provider: &str,
        flow_cookie: Option<&str>,
        params: &CallbackParams,
    ) -> Result<SignedIn, DomainError> {
        let p = self.provider(provider)?;
        let now = self.clock.now();
        let flow_cookie = flow_cookie.ok_or_else(|| {
            bad_flow(codes::LOGIN_FLOW_MISSING, "this browser did not start a sign-in (its sign-in cookie is missing)")
        })?;
        // Taking the flow deletes it: a replayed callback finds nothing.
        let flow = self.store.take_login_state(&hash_token(flow_cookie), now).await.map_err(store_error)?.ok_or_else(
            || bad_flow(codes::LOGIN_FLOW_UNKNOWN, "the sign-in has expired or was already used: start again"),
        )?;
        if flow.expires_at <= now {
            return Err(bad_flow(codes::LOGIN_FLOW_EXPIRED, "the sign-in took too long: start again"));
        }
        if flow.provider != provider {
            return Err(bad_flow(codes::LOGIN_FLOW_MISMATCH, "the sign-in was started with another provider"));
        }
        let state = params.state.as_deref().unwrap_or_default();
        if !super::constant_time_eq(state.as_bytes(), flow.state.as_bytes()) {
            return Err(bad_flow(
                codes::LOGIN_STATE_MISMATCH,
                "the sign-in response does not belong to this browser's sign-in",
            ));
        }
        if let Some(error) = &params.error {
            let detail = params.error_description.as_deref().unwrap_or("");
            return Err(login_error(
                codes::LOGIN_DENIED,
                format!("the provider said `{error}` {detail}").trim().to_owned(),
            ));
        }
        let code =
            params.code.as_deref().ok_or_else(|| bad_flow(codes::LOGIN_CODE_MISSING, "the response has no code"))?;
        let secrets = FlowSecrets {
            state: flow.state.clone(),
            nonce: flow.nonce.clone(),
            pkce_verifier: flow.pkce_verifier.clone(),
        };
        let verified = p.finish(code, &secrets, params.iss.as_deref(), now).await.map_err(|e| match e {
            scaffold_identity::LoginError::ProviderUnavailable(m) => DomainError::unavailable(m),
            other => login_error(codes::LOGIN_FAILED, other.to_string()),
        })?;
        let assurance = Assurance {
            level: verified.assurance,
            provider: provider.to_owned(),
            source: verified.assurance_source.clone(),
            asserted_at: now,
        };
        let existing =
            self.store.identity_by_subject(&verified.issuer, &verified.subject).await.map_err(store_error)?;
        let person_id = match (existing, flow.link_person) {
            (Some(i), Some(linker)) if i.person_id != linker => {
                return Err(DomainError::conflict(
                    codes::IDENTITY_LINKED_ELSEWHERE,
                    "that identity already belongs to another account",
                ));
            }
            (Some(i), _) => {
                self.store.record_login(i.id, now, i.person_id, Some(&assurance)).await.map_err(store_error)?;
                i.person_id
            }
            (None, link) => {
                let new_person = match link {
                    Some(_) => None,
                    None => Some(Person {
                        id: PersonId::new_v7(now),
                        display_name: person::display_name("/name", verified.name.as_deref().unwrap_or(""))
                            .unwrap_or_else(|_| "New member".to_owned()),
                        created_at: now,
                    }),
                };
                let person_id =
                    link.or(new_person.as_ref().map(|p| p.id)).ok_or_else(|| DomainError::internal("no person"))?;
                let identity = Identity {
                    id: IdentityId::new_v7(now),
                    person_id,
                    provider: provider.to_owned(),
                    issuer: verified.issuer.clone(),
                    subject: verified.subject.clone(),
                    created_at: now,
                    last_login_at: now,
                };
                let (action, target_type, target) = match &new_person {
                    Some(p) => ("person.create", "person", p.id.to_string()),
                    None => ("identity.link", "identity", identity.id.to_string()),
                };
                let audit = self.audit(
                    Some(person_id),
                    action,
                    target_type,
                    target,
                    serde_json::json!({ "provider": provider }),
                );
                self.store.create_identity(new_person.as_ref(), &identity, &audit).await.map_err(|e| match e {
                    StoreError::Conflict { .. } => DomainError::conflict(
                        codes::IDENTITY_LINKED_ELSEWHERE,
                        "that identity was linked to an account a moment ago: sign in again",
                    ),
                    other => store_error(other),
                })?;
                self.store.record_login(identity.id, now, person_id, Some(&assurance)).await.map_err(store_error)?;
                person_id
            }
        };
        let return_to = flow.return_to.unwrap_or_else(|| "/api/v1/me".to_owned());
        self.start_session(person_id, provider, Some(verified.id_token), return_to).await
    }

    /// Starts a browser session for a person who has just signed in.
    pub(crate) async fn start_session(
        &self,
        person_id: PersonId,
        provider: &str,
        id_token: Option<String>,
        return_to: String,
    ) -> Result<SignedIn, DomainError> {
        let now = self.clock.now();
        let session_cookie = scaffold_identity::random_token(32).map_err(DomainError::internal)?;
        let absolute = Duration::seconds(self.identity.config.session_absolute_secs);
        let session = Session {
            session_hash: hash_token(&session_cookie),
            person_id,
            provider: provider.to_owned(),
            id_token,
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now + Duration::seconds(self.identity.config.session_idle_secs),
            absolute_expires_at: now + absolute,
        };
        self.store.create_session(&session).await.map_err(store_error)?;
        Ok(SignedIn { person_id, session_cookie, max_age_secs: absolute.num_seconds(), return_to })
    }

    /// The person behind a session cookie. Expired sessions are deleted and refused; a session in
    /// use is extended up to its absolute expiry (written at most once a minute).
    pub async fn actor_from_session(&self, cookie: &str) -> Result<Actor, DomainError> {
        let now = self.clock.now();
        let hash = hash_token(cookie);
        let expired = || login_error(codes::SESSION_EXPIRED, "your session has ended: sign in again");
        let session = self.store.session_by_hash(&hash).await.map_err(store_error)?.ok_or_else(expired)?;
        if session.idle_expires_at <= now || session.absolute_expires_at <= now {
            let _ = self.store.delete_session(&hash).await.map_err(store_error)?;
            return Err(expired());
        }
        if now - session.last_seen_at >= Duration::seconds(60) {
            let idle =
                (now + Duration::seconds(self.identity.config.session_idle_secs)).min(session.absolute_expires_at);
            self.store.touch_session(&hash, now, idle).await.map_err(store_error)?;
        }
        Ok(Actor::person(session.person_id, Credential::Session, person_scopes()))
    }

    /// Ends a session and returns where to send the browser: the provider's logout endpoint
    /// (RP-initiated logout) when it has one, else `/`.
    pub async fn logout(&self, cookie: Option<&str>) -> Result<String, DomainError> {
        let now = self.clock.now();
        let Some(cookie) = cookie else { return Ok("/".to_owned()) };
        let Some(session) = self.store.delete_session(&hash_token(cookie)).await.map_err(store_error)? else {
            return Ok("/".to_owned());
        };
        let after = format!("{}/", self.identity.config.public_url);
        match self.identity.providers.get(&session.provider) {
            Some(p) => {
                Ok(p.logout_url(session.id_token.as_deref(), &after, now).await.unwrap_or_else(|| "/".to_owned()))
            }
            None => Ok("/".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_to(Some("/api/v1/me")), Some("/api/v1/me".to_owned()));
        assert_eq!(safe_return_to(Some("/groups/a/../b?x=1#f")), Some("/groups/b?x=1".to_owned()));
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "me",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/ /evil.example",
            "/.//evil.example",
            "/%2e//evil.example",
            "/\u{0}/x",
            "/\u{2028}/x",
        ] {
            assert_eq!(safe_return_to(Some(bad)), None, "{bad:?}");
        }
    }
}
