//! The identity port: identities, sessions, login flows, apps and signing keys. Rate limits are
//! the dialect's (`d::add_rate_limit_hits`).

use super::d::{self, At, DbRow, Tx, for_update, to_store_error};
use super::rows::{at, at_opt, get, json, row};
use super::run::{ChangedOr, Read, Values, all, exec, insert, opt, one, update, upsert, values};
use super::{SqlStore, commit, insert_audit, insert_person, recount_members};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::identity::{App, AppGrant, Assurance, Identity};
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{AppId, GrantId, GroupId, IdentityId, PersonId, Scopes};
use scaffold_store::decode::{AppRow, assurance, redirect_uris_json};
use scaffold_store::{
    AppToken, AppTokenKind, IdentityStore, LoginState, Session, SigningKeyRecord, StoreError, StoreResult, TokenUse,
};
use sqlx::types::Json;
use uuid::Uuid;

impl Read for Identity {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => Identity {
            id = IdentityId(get(r, "identity_id")?), person_id = PersonId(get(r, "person_id")?), provider, issuer,
            subject, created_at: at, last_login_at: at
        }))
    }
}

impl Read for App {
    fn read(r: &DbRow) -> StoreResult<Self> {
        row!(r => AppRow {
            app_id, client_id, owner_person_id, name, description, homepage, redirect_uris: json, requested_scopes,
            granted_scopes, secret_hash, secret_created_at: at, status, created_at: at, updated_at: at
        })
        .into_app()
    }
}

fn scopes(r: &DbRow) -> StoreResult<Scopes> {
    let text: String = get(r, "scopes")?;
    Scopes::parse(&text).map_err(|w| scaffold_store::decode::corrupt("scope", &w))
}

impl Read for AppGrant {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(AppGrant {
            id: GrantId(get(r, "grant_id")?),
            app_id: AppId(get(r, "app_id")?),
            person_id: PersonId(get(r, "person_id")?),
            scopes: scopes(r)?,
            created_at: at(r, "created_at")?,
            updated_at: at(r, "updated_at")?,
        })
    }
}

impl Read for (AppToken, Option<At>) {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let kind: String = get(r, "kind")?;
        let token = AppToken {
            token_hash: get(r, "token_hash")?,
            grant_id: GrantId(get(r, "grant_id")?),
            kind: if kind == "code" { AppTokenKind::Code } else { AppTokenKind::Refresh },
            scopes: scopes(r)?,
            redirect_uri: get(r, "redirect_uri")?,
            code_challenge: get(r, "code_challenge")?,
            expires_at: at(r, "expires_at")?,
        };
        Ok((token, get(r, "used_at")?))
    }
}

fn token_values(t: &AppToken) -> Values {
    values! {
        token_hash: &t.token_hash, grant_id: t.grant_id.0, kind: t.kind.as_str(), scopes: t.scopes.to_string(),
        redirect_uri: &t.redirect_uri, code_challenge: &t.code_challenge, expires_at: At(t.expires_at),
    }
}

impl Read for Session {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => Session {
            session_hash, person_id = PersonId(get(r, "person_id")?), provider, id_token, created_at: at,
            last_seen_at: at, idle_expires_at: at, absolute_expires_at: at
        }))
    }
}

impl Read for SigningKeyRecord {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => SigningKeyRecord {
            kid, purpose, algorithm, private_der, public_jwk, created_at: at, retired_at: at_opt, publish_until: at_opt
        }))
    }
}

impl Read for Assurance {
    fn read(r: &DbRow) -> StoreResult<Self> {
        let level: String = get(r, "level")?;
        assurance(&level, get(r, "provider")?, get(r, "source")?, at(r, "asserted_at")?)
    }
}

impl Read for LoginState {
    fn read(r: &DbRow) -> StoreResult<Self> {
        Ok(row!(r => LoginState {
            flow_hash, provider, state, nonce, pkce_verifier,
            link_person = get::<Option<Uuid>>(r, "link_person_id")?.map(PersonId), return_to, created_at: at,
            expires_at: at
        }))
    }
}

/// An app's columns but its id.
fn app_values(a: &App) -> Values {
    values! {
        client_id: &a.client_id, owner_person_id: a.owner.0, name: &a.name, description: &a.description,
        homepage: &a.homepage, redirect_uris: Json(redirect_uris_json(a)), requested_scopes: a.requested_scopes.to_string(),
        granted_scopes: a.granted_scopes.to_string(), secret_hash: &a.secret_hash,
        secret_created_at: At(a.secret_created_at), status: a.status.as_str(), created_at: At(a.created_at),
        updated_at: At(a.updated_at),
    }
}

async fn insert_signing_key(tx: &mut Tx<'_>, k: &SigningKeyRecord) -> StoreResult<()> {
    let v = values! {
        kid: &k.kid, purpose: &k.purpose, algorithm: &k.algorithm, private_der: &k.private_der,
        public_jwk: &k.public_jwk, created_at: At(k.created_at), retired_at: k.retired_at.map(At),
        publish_until: k.publish_until.map(At),
    };
    insert(&mut **tx, "signing_key", v).await
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn identity_by_subject(&self, issuer: &str, subject: &str) -> StoreResult<Option<Identity>> {
        opt(&self.pool, "select * from identity where issuer = $1 and subject = $2", (issuer, subject)).await
    }

    async fn identities_of_person(&self, person: PersonId) -> StoreResult<Vec<Identity>> {
        all(&self.pool, "select * from identity where person_id = $1 order by identity_id", (person.0,)).await
    }

    async fn create_identity(&self, person: Option<&Person>, i: &Identity, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        match person {
            Some(p) => insert_person(&mut tx, p, None, audit).await?,
            None => insert_audit(&mut tx, audit).await?,
        }
        let v = values! {
            identity_id: i.id.0, person_id: i.person_id.0, provider: &i.provider, issuer: &i.issuer,
            subject: &i.subject, created_at: At(i.created_at), last_login_at: At(i.last_login_at),
        };
        insert(&mut *tx, "identity", v).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn record_login(
        &self,
        identity: IdentityId,
        at: DateTime<Utc>,
        person: PersonId,
        a: Option<&Assurance>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        exec(&mut *tx, "update identity set last_login_at = $2 where identity_id = $1", (identity.0, At(at))).await?;
        if let Some(a) = a {
            let v = values! {
                person_id: person.0, level: a.level.as_str(), provider: &a.provider, source: &a.source,
                asserted_at: At(a.asserted_at),
            };
            upsert(&mut *tx, "person_assurance", v, "person_id").await?;
        }
        tx.commit().await.map_err(to_store_error)
    }

    async fn assurance_of(&self, person: PersonId) -> StoreResult<Option<Assurance>> {
        opt(&self.pool, "select * from person_assurance where person_id = $1", (person.0,)).await
    }

    async fn memberships_page_of(
        &self,
        person: PersonId,
        after: Option<GroupId>,
        limit: u32,
    ) -> StoreResult<Vec<Membership>> {
        let sql = "select * from membership where person_id = $1 and ($2 is null or group_id > $2)
                   order by group_id limit $3";
        all(&self.pool, sql, (person.0, after.map(|g| g.0), i64::from(limit))).await
    }

    async fn delete_person(&self, person: PersonId, pseudonym: PersonId, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Lock the person's groups as membership changes do, so that "always an owner" holds.
        let sql = concat!(
            "select group_id from community_group
             where group_id in (select group_id from membership where person_id = $1) order by group_id",
            for_update!()
        );
        exec(&mut *tx, sql, (person.0,)).await?;
        let sql = "select m.group_id from membership m join community_group g on g.group_id = m.group_id
                   where m.person_id = $1 and m.role = 'owner' and m.status = 'active' and g.status = 'active'
                     and not exists (select 1 from membership o where o.group_id = m.group_id and o.person_id <> $1
                                     and o.role = 'owner' and o.status = 'active')
                   limit 1";
        let sole: Option<Uuid> = opt(&mut *tx, sql, (person.0,)).await?;
        if sole.is_some() {
            return Err(StoreError::LastOwner);
        }
        let groups: Vec<Uuid> =
            all(&mut *tx, "delete from membership where person_id = $1 returning group_id", (person.0,)).await?;
        for g in groups {
            recount_members(&mut tx, GroupId(g)).await?;
        }
        super::attestations::end_credentials_of(&mut tx, person, audit.at).await?;
        for sql in [
            "delete from api_key where person_id = $1",
            "delete from login_state where link_person_id = $1",
            "delete from person where person_id = $1",
        ] {
            exec(&mut *tx, sql, (person.0,)).await?;
        }
        let sql = "update audit_entry set actor_person_id = $2 where actor_person_id = $1";
        exec(&mut *tx, sql, (person.0, pseudonym.0)).await?;
        let sql = "update audit_entry set target_id = $2 where target_type = 'person' and target_id = $1";
        exec(&mut *tx, sql, (person.0.to_string(), pseudonym.0.to_string())).await?;
        commit(tx, audit).await
    }

    async fn put_login_state(&self, s: &LoginState, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let v = values! {
            flow_hash: &s.flow_hash, provider: &s.provider, state: &s.state, nonce: &s.nonce,
            pkce_verifier: &s.pkce_verifier, link_person_id: s.link_person.map(|p| p.0), return_to: &s.return_to,
            created_at: At(s.created_at), expires_at: At(s.expires_at),
        };
        let Some(audit) = audit else { return insert(&self.pool, "login_state", v).await };
        let mut tx = self.begin().await?;
        insert(&mut *tx, "login_state", v).await?;
        commit(tx, audit).await
    }

    async fn take_login_state(&self, flow_hash: &[u8], now: DateTime<Utc>) -> StoreResult<Option<LoginState>> {
        let mut tx = self.begin().await?;
        let state = opt(&mut *tx, "delete from login_state where flow_hash = $1 returning *", (flow_hash,)).await?;
        exec(&mut *tx, "delete from login_state where expires_at < $1", (At(now),)).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(state)
    }

    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        // Sessions nobody came back to are cleared as new ones start.
        exec(&self.pool, "delete from session where idle_expires_at < $1", (At(s.created_at),)).await?;
        let v = values! {
            session_hash: &s.session_hash, person_id: s.person_id.0, provider: &s.provider, id_token: &s.id_token,
            created_at: At(s.created_at), last_seen_at: At(s.last_seen_at), idle_expires_at: At(s.idle_expires_at),
            absolute_expires_at: At(s.absolute_expires_at),
        };
        insert(&self.pool, "session", v).await
    }

    async fn session_by_hash(&self, h: &[u8]) -> StoreResult<Option<Session>> {
        opt(&self.pool, "select * from session where session_hash = $1", (h,)).await
    }

    async fn touch_session(&self, h: &[u8], last_seen: DateTime<Utc>, idle: DateTime<Utc>) -> StoreResult<()> {
        let sql = "update session set last_seen_at = $2, idle_expires_at = $3 where session_hash = $1";
        exec(&self.pool, sql, (h, At(last_seen), At(idle))).await?;
        Ok(())
    }

    async fn delete_session(&self, h: &[u8]) -> StoreResult<Option<Session>> {
        opt(&self.pool, "delete from session where session_hash = $1 returning *", (h,)).await
    }

    async fn signing_keys(&self, purpose: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        all(&self.pool, "select * from signing_key where purpose = $1 order by created_at, kid", (purpose,)).await
    }

    async fn create_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        d::serialise(&mut tx, d::Lock::SigningKeys).await?;
        let sql = "select count(*) from signing_key where purpose = $1 and retired_at is null";
        let active: i64 = one(&mut *tx, sql, (&key.purpose,)).await?;
        if active > 0 {
            return Ok(false);
        }
        insert_signing_key(&mut tx, key).await?;
        tx.commit().await.map_err(to_store_error)?;
        Ok(true)
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        d::serialise(&mut tx, d::Lock::SigningKeys).await?;
        exec(&mut *tx, "delete from signing_key where purpose = $1 and publish_until < $2", (&key.purpose, At(now)))
            .await?;
        let sql = "update signing_key set retired_at = $2, publish_until = $3 where purpose = $1 and retired_at is null";
        exec(&mut *tx, sql, (&key.purpose, At(now), At(publish_until))).await?;
        insert_signing_key(&mut tx, key).await?;
        tx.commit().await.map_err(to_store_error)
    }

    async fn create_app(&self, a: &App, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert(&mut *tx, "app", app_values(a).put("app_id", a.id.0)).await?;
        commit(tx, audit).await
    }

    async fn app_by_id(&self, id: AppId) -> StoreResult<Option<App>> {
        opt(&self.pool, "select * from app where app_id = $1", (id.0,)).await
    }

    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<Option<App>> {
        opt(&self.pool, "select * from app where client_id = $1", (client_id,)).await
    }

    async fn apps_of_person(&self, person: PersonId) -> StoreResult<Vec<App>> {
        all(&self.pool, "select * from app where owner_person_id = $1 order by app_id", (person.0,)).await
    }

    async fn list_apps(&self, after: Option<AppId>, limit: u32) -> StoreResult<Vec<App>> {
        let sql = "select * from app where ($1 is null or app_id > $1) order by app_id limit $2";
        all(&self.pool, sql, (after.map(|a| a.0), i64::from(limit))).await
    }

    async fn update_app(&self, a: &App, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        update(&mut *tx, "app", app_values(a).key("app_id", a.id.0)).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }

    async fn put_grant(&self, g: &AppGrant, code: &AppToken, audit: &AuditEntry) -> StoreResult<AppGrant> {
        let mut tx = self.begin().await?;
        let v = values! {
            grant_id: g.id.0, app_id: g.app_id.0, person_id: g.person_id.0, scopes: g.scopes.to_string(),
            created_at: At(g.created_at), updated_at: At(g.updated_at),
        };
        super::run::insert_new(&mut *tx, "app_grant", v).await?;
        let v = values! { scopes: g.scopes.to_string(), updated_at: At(g.updated_at) };
        update(&mut *tx, "app_grant", v.key("app_id", g.app_id.0).key("person_id", g.person_id.0)).await?;
        let sql = "select * from app_grant where app_id = $1 and person_id = $2";
        let stored: AppGrant = one(&mut *tx, sql, (g.app_id.0, g.person_id.0)).await?;
        insert(&mut *tx, "app_token", token_values(&AppToken { grant_id: stored.id, ..code.clone() })).await?;
        commit(tx, audit).await?;
        Ok(stored)
    }

    async fn grant_by_id(&self, id: GrantId) -> StoreResult<Option<AppGrant>> {
        opt(&self.pool, "select * from app_grant where grant_id = $1", (id.0,)).await
    }

    async fn grants_of_person(&self, person: PersonId) -> StoreResult<Vec<AppGrant>> {
        all(&self.pool, "select * from app_grant where person_id = $1 order by created_at, grant_id", (person.0,)).await
    }

    async fn delete_grant(&self, id: GrantId, person: PersonId, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Codes and refresh tokens go with it (`on delete cascade`).
        let sql = "delete from app_grant where grant_id = $1 and person_id = $2";
        exec(&mut *tx, sql, (id.0, person.0)).await?.changed_or(StoreError::NotFound)?;
        commit(tx, audit).await
    }

    async fn use_app_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        on_reuse: &AuditEntry,
        next: &(dyn for<'t> Fn(&'t AppToken, &'t AppGrant) -> Option<AppToken> + Send + Sync),
    ) -> StoreResult<TokenUse> {
        let mut tx = self.begin().await?;
        // Lock the grant before its token (as deleting a grant does, through its cascade), so
        // that a refresh and a revocation at once cannot deadlock.
        let sql = "select grant_id from app_token where token_hash = $1";
        let Some(grant_id) = opt::<_, Uuid>(&mut *tx, sql, (token_hash,)).await? else {
            return Ok(TokenUse::Unknown);
        };
        let sql = concat!("select * from app_grant where grant_id = $1", for_update!());
        let grant: Option<AppGrant> = opt(&mut *tx, sql, (grant_id,)).await?;
        let sql = concat!("select * from app_token where token_hash = $1", for_update!());
        let found: Option<(AppToken, Option<At>)> = opt(&mut *tx, sql, (token_hash,)).await?;
        let outcome = match (found, grant) {
            (None, _) | (_, None) => TokenUse::Unknown,
            (Some((t, Some(_))), _) => {
                exec(&mut *tx, "delete from app_grant where grant_id = $1", (t.grant_id.0,)).await?;
                insert_audit(&mut tx, on_reuse).await?;
                TokenUse::Reused
            }
            (Some((t, None)), _) if t.expires_at <= now => TokenUse::Expired,
            (Some((t, None)), Some(grant)) => match next(&t, &grant) {
                // A use that is refused (another app, a wrong verifier…) changes nothing.
                None => TokenUse::Refused,
                Some(n) => {
                    let sql = "update app_token set used_at = $2 where token_hash = $1";
                    exec(&mut *tx, sql, (token_hash, At(now))).await?;
                    insert(&mut *tx, "app_token", token_values(&AppToken { grant_id: t.grant_id, ..n })).await?;
                    TokenUse::Used(Box::new(t), Box::new(grant))
                }
            },
        };
        tx.commit().await.map_err(to_store_error)?;
        Ok(outcome)
    }

    async fn add_rate_limit_hits(&self, bucket: &str, window_start: DateTime<Utc>, hits: u64) -> StoreResult<u64> {
        d::add_rate_limit_hits(self, bucket, window_start, hits).await
    }
}
