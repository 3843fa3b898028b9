//! The identity part of the storage port: identities and assurance, sign-in flows in progress,
//! browser sessions, token-signing keys, developer apps and rate-limit counters. Everything here
//! is shared by all replicas through the store, so any replica can finish a sign-in another
//! started, serve a session, or verify a token another signed.

use crate::StoreResult;
use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::identity::{App, AppGrant, Assurance, Identity};
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{AppId, GrantId, GroupId, IdentityId, PersonId};

/// An authorization code or a refresh token of a grant, stored under the SHA-256 of its value.
#[derive(Clone, PartialEq, Eq)]
pub struct AppToken {
    pub token_hash: Vec<u8>,
    pub grant_id: GrantId,
    pub kind: AppTokenKind,
    /// What the token may carry (at most the grant's scopes).
    pub scopes: scaffold_domain::Scopes,
    /// A code's redirect URI and PKCE S256 challenge.
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppToken")
            .field("grant_id", &self.grant_id)
            .field("kind", &self.kind)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppTokenKind {
    Code,
    Refresh,
}

impl AppTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppTokenKind::Code => "code",
            AppTokenKind::Refresh => "refresh",
        }
    }
}

/// What using a code or refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// Unused and unexpired: now used. With its grant.
    Used(Box<AppToken>, Box<AppGrant>),
    /// Used before: its grant is deleted.
    Reused,
    /// Refused by the caller's check; nothing changed.
    Refused,
    Expired,
    Unknown,
}

/// A sign-in in progress, stored under the SHA-256 of the value of the browser's `__Host-` cookie.
/// Taken (read and deleted) exactly once by the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginState {
    pub flow_hash: Vec<u8>,
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Set when a signed-in person is linking another identity.
    pub link_person: Option<PersonId>,
    pub return_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LoginState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginState")
            .field("provider", &self.provider)
            .field("link_person", &self.link_person)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A browser session, stored under the SHA-256 of its cookie value.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub session_hash: Vec<u8>,
    pub person_id: PersonId,
    pub provider: String,
    /// The provider's ID token, kept only as the hint for RP-initiated logout.
    pub id_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub idle_expires_at: DateTime<Utc>,
    pub absolute_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("person_id", &self.person_id)
            .field("provider", &self.provider)
            .field("idle_expires_at", &self.idle_expires_at)
            .field("absolute_expires_at", &self.absolute_expires_at)
            .finish_non_exhaustive()
    }
}

/// A signing key. The private half is PKCS#8 DER; retired keys stay published until
/// `publish_until`, when everything they signed has expired.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// What the key signs, e.g. `access-token`. One active key per purpose.
    pub purpose: String,
    pub algorithm: String,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub publish_until: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("purpose", &self.purpose)
            .field("algorithm", &self.algorithm)
            .field("private_der", &"[redacted]")
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

port! {
pub trait IdentityStore: [Send + Sync] {
    async fn identity_by_subject(&self, issuer: &str, subject: &str) -> StoreResult<Option<Identity>>;
    async fn identities_of_person(&self, person: PersonId) -> StoreResult<Vec<Identity>>;
    /// Inserts the identity, and first the person when one is given (a first sign-in).
    /// `Conflict { constraint: "identity" }` when the `(issuer, subject)` is linked already.
    async fn create_identity(
        &self,
        person: Option<&Person>,
        identity: &Identity,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Records a sign-in: the identity's last login time and, when given, the person's assurance.
    async fn record_login(
        &self,
        identity: IdentityId,
        at: DateTime<Utc>,
        person: PersonId,
        assurance: Option<&Assurance>,
    ) -> StoreResult<()>;
    async fn assurance_of(&self, person: PersonId) -> StoreResult<Option<Assurance>>;
    /// A person's memberships (any status) in group id order, after `after`, for their own view.
    async fn memberships_page_of(
        &self,
        person: PersonId,
        after: Option<GroupId>,
        limit: u32,
    ) -> StoreResult<Vec<Membership>>;
    /// Deletes a person and everything personal: identities, assurance, sessions, keys, apps and
    /// memberships. Audit entries keep `pseudonym` in place of the person's id.
    /// `LastOwner` when the person is the only owner of an active group.
    async fn delete_person(&self, person: PersonId, pseudonym: PersonId, audit: &AuditEntry) -> StoreResult<()>;

    /// Stores a sign-in in progress, with the audit entry of an operator's sign-in link.
    async fn put_login_state(&self, state: &LoginState, audit: Option<&AuditEntry>) -> StoreResult<()>;
    /// Reads and deletes a sign-in in progress, so that it is used at most once. Expired flows are
    /// deleted as a side effect.
    async fn take_login_state(&self, flow_hash: &[u8], now: DateTime<Utc>) -> StoreResult<Option<LoginState>>;

    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn session_by_hash(&self, session_hash: &[u8]) -> StoreResult<Option<Session>>;
    async fn touch_session(
        &self,
        session_hash: &[u8],
        last_seen_at: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes a session and returns it (for the logout hint).
    async fn delete_session(&self, session_hash: &[u8]) -> StoreResult<Option<Session>>;

    /// Every key of a purpose: the active one and retired ones still published.
    async fn signing_keys(&self, purpose: &str) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Inserts `key` as the active key unless the purpose has one; returns whether it did. Replicas
    /// starting together create one key.
    async fn create_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// Retires the active key of the purpose (published until `publish_until`) and makes `key`
    /// active, in one transaction. Deletes keys whose publication has ended.
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
    ) -> StoreResult<()>;

    async fn create_app(&self, app: &App, audit: &AuditEntry) -> StoreResult<()>;
    async fn app_by_id(&self, id: AppId) -> StoreResult<Option<App>>;
    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<Option<App>>;
    async fn apps_of_person(&self, person: PersonId) -> StoreResult<Vec<App>>;
    /// Apps in id order after `after`, for operators.
    async fn list_apps(&self, after: Option<AppId>, limit: u32) -> StoreResult<Vec<App>>;
    /// Writes the app's mutable fields (scopes, secret, status, description…). `NotFound` when absent.
    async fn update_app(&self, app: &App, audit: &AuditEntry) -> StoreResult<()>;

    /// Sets the person's grant to the app (keeping the id and creation time of one that exists,
    /// replacing its scopes) and stores `code` under it; returns the grant as stored.
    async fn put_grant(&self, grant: &AppGrant, code: &AppToken, audit: &AuditEntry) -> StoreResult<AppGrant>;
    async fn grant_by_id(&self, id: GrantId) -> StoreResult<Option<AppGrant>>;
    async fn grants_of_person(&self, person: PersonId) -> StoreResult<Vec<AppGrant>>;
    /// Deletes the person's grant with its codes and refresh tokens; `NotFound` when they have
    /// no such grant.
    async fn delete_grant(&self, id: GrantId, person: PersonId, audit: &AuditEntry) -> StoreResult<()>;
    /// Uses a code or refresh token once: when `next` accepts it (giving the refresh token that
    /// follows), marks it used and stores that in the same transaction; when `next` refuses it
    /// (`None`: another app, a wrong verifier), changes nothing and answers `Refused`. A token
    /// used before deletes its grant (a replayed code or a stolen refresh token), recording
    /// `on_reuse`: `Reused`.
    async fn use_app_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        on_reuse: &AuditEntry,
        next: &(dyn for<'t> Fn(&'t AppToken, &'t AppGrant) -> Option<AppToken> + Send + Sync),
    ) -> StoreResult<TokenUse>;

    /// Adds `hits` to `bucket`'s fixed window starting at `window_start` and returns the total so
    /// far in that window, across every replica. Counters of earlier windows are discarded.
    async fn add_rate_limit_hits(&self, bucket: &str, window_start: DateTime<Utc>, hits: u64) -> StoreResult<u64>;
}
}
