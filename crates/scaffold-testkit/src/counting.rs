//! A store wrapper that counts calls per method and passes them to a real store: for tests that
//! prove lists are resolved without one query per item (no N+1). A method can also be held
//! (its calls wait until released), for tests that prove an answer does not wait on a write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaffold_domain::EventId;
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::event::{Event, Listing};
use scaffold_domain::group::Group;
use scaffold_domain::identity::{App, Assurance, Identity};
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{ApiKeyId, AuditId, GroupId, PersonId};
use scaffold_domain::{AppId, IdentityId};
use scaffold_store::{
    ApiKey, EventStore, GroupQuery, IdempotencyRecord, IdentityStore, LoginState, MembershipChange, Session,
    SigningKeyRecord, Store, StoreResult,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn Store>,
    calls: Mutex<BTreeMap<&'static str, usize>>,
    holds: Mutex<BTreeMap<&'static str, Arc<tokio::sync::Semaphore>>>,
}

impl CountingStore {
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self { inner, calls: Mutex::default(), holds: Mutex::default() })
    }

    async fn enter(&self, name: &'static str) {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
        let held = self.holds.lock().unwrap().get(name).cloned();
        if let Some(gate) = held {
            // Closing the semaphore (release) lets every waiter through.
            let _ = gate.acquire().await;
        }
    }

    /// Calls to `name` wait from now on until [`release`](Self::release).
    pub fn hold(&self, name: &'static str) {
        self.holds.lock().unwrap().insert(name, Arc::new(tokio::sync::Semaphore::new(0)));
    }

    /// Lets waiting and future calls to `name` through.
    pub fn release(&self, name: &'static str) {
        if let Some(gate) = self.holds.lock().unwrap().remove(name) {
            gate.close();
        }
    }

    /// Calls per method since the last reset.
    pub fn calls(&self) -> BTreeMap<&'static str, usize> {
        self.calls.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        self.calls.lock().unwrap().clear();
    }
}

#[async_trait]
impl Store for CountingStore {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.enter("ping").await;
        self.inner.ping().await
    }
    async fn create_person(&self, p: &Person, k: Option<&ApiKey>, a: &AuditEntry) -> StoreResult<()> {
        self.enter("create_person").await;
        self.inner.create_person(p, k, a).await
    }
    async fn persons_by_ids(&self, ids: &[PersonId]) -> StoreResult<Vec<Person>> {
        self.enter("persons_by_ids").await;
        self.inner.persons_by_ids(ids).await
    }
    async fn create_api_key(&self, k: &ApiKey, a: &AuditEntry) -> StoreResult<()> {
        self.enter("create_api_key").await;
        self.inner.create_api_key(k, a).await
    }
    async fn api_key_by_hash(&self, h: &[u8]) -> StoreResult<Option<ApiKey>> {
        self.enter("api_key_by_hash").await;
        self.inner.api_key_by_hash(h).await
    }
    async fn api_keys_of_person(&self, p: PersonId) -> StoreResult<Vec<ApiKey>> {
        self.enter("api_keys_of_person").await;
        self.inner.api_keys_of_person(p).await
    }
    async fn revoke_api_key(&self, p: PersonId, k: ApiKeyId, a: &AuditEntry) -> StoreResult<()> {
        self.enter("revoke_api_key").await;
        self.inner.revoke_api_key(p, k, a).await
    }
    async fn count_operator_keys(&self) -> StoreResult<i64> {
        self.enter("count_operator_keys").await;
        self.inner.count_operator_keys().await
    }
    async fn bootstrap_operator(&self, p: &Person, k: &ApiKey, a: &AuditEntry) -> StoreResult<bool> {
        self.enter("bootstrap_operator").await;
        self.inner.bootstrap_operator(p, k, a).await
    }
    async fn create_group(
        &self,
        g: &Group,
        o: &Membership,
        i: Option<&IdempotencyRecord>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("create_group").await;
        self.inner.create_group(g, o, i, a).await
    }
    async fn group_by_id(&self, id: GroupId) -> StoreResult<Option<Group>> {
        self.enter("group_by_id").await;
        self.inner.group_by_id(id).await
    }
    async fn group_by_slug(&self, s: &str) -> StoreResult<Option<Group>> {
        self.enter("group_by_slug").await;
        self.inner.group_by_slug(s).await
    }
    async fn groups_by_ids(&self, ids: &[GroupId]) -> StoreResult<Vec<Group>> {
        self.enter("groups_by_ids").await;
        self.inner.groups_by_ids(ids).await
    }
    async fn list_groups(&self, q: &GroupQuery) -> StoreResult<Vec<Group>> {
        self.enter("list_groups").await;
        self.inner.list_groups(q).await
    }
    async fn update_group(&self, g: &Group, v: i64, a: &AuditEntry) -> StoreResult<()> {
        self.enter("update_group").await;
        self.inner.update_group(g, v, a).await
    }
    async fn membership(&self, g: GroupId, p: PersonId) -> StoreResult<Option<Membership>> {
        self.enter("membership").await;
        self.inner.membership(g, p).await
    }
    async fn memberships_of_person(&self, p: PersonId, gs: &[GroupId]) -> StoreResult<Vec<Membership>> {
        self.enter("memberships_of_person").await;
        self.inner.memberships_of_person(p, gs).await
    }
    async fn list_members(&self, g: GroupId, after: Option<PersonId>, limit: u32) -> StoreResult<Vec<Membership>> {
        self.enter("list_members").await;
        self.inner.list_members(g, after, limit).await
    }
    async fn change_membership(&self, c: &MembershipChange, a: &AuditEntry) -> StoreResult<()> {
        self.enter("change_membership").await;
        self.inner.change_membership(c, a).await
    }
    async fn idempotency_record(&self, s: &str, k: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.enter("idempotency_record").await;
        self.inner.idempotency_record(s, k).await
    }
    async fn list_audit(&self, before: Option<AuditId>, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        self.enter("list_audit").await;
        self.inner.list_audit(before, limit).await
    }
}

#[async_trait]
impl IdentityStore for CountingStore {
    async fn memberships_page_of(
        &self,
        person: PersonId,
        after: Option<GroupId>,
        limit: u32,
    ) -> StoreResult<Vec<Membership>> {
        self.enter("memberships_page_of").await;
        self.inner.memberships_page_of(person, after, limit).await
    }
    async fn identity_by_subject(&self, issuer: &str, subject: &str) -> StoreResult<Option<Identity>> {
        self.enter("identity_by_subject").await;
        self.inner.identity_by_subject(issuer, subject).await
    }
    async fn identities_of_person(&self, person: PersonId) -> StoreResult<Vec<Identity>> {
        self.enter("identities_of_person").await;
        self.inner.identities_of_person(person).await
    }
    async fn create_identity(
        &self,
        person: Option<&Person>,
        identity: &Identity,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("create_identity").await;
        self.inner.create_identity(person, identity, audit).await
    }
    async fn record_login(
        &self,
        identity: IdentityId,
        at: DateTime<Utc>,
        person: PersonId,
        assurance: Option<&Assurance>,
    ) -> StoreResult<()> {
        self.enter("record_login").await;
        self.inner.record_login(identity, at, person, assurance).await
    }
    async fn assurance_of(&self, person: PersonId) -> StoreResult<Option<Assurance>> {
        self.enter("assurance_of").await;
        self.inner.assurance_of(person).await
    }
    async fn delete_person(&self, person: PersonId, pseudonym: PersonId, audit: &AuditEntry) -> StoreResult<()> {
        self.enter("delete_person").await;
        self.inner.delete_person(person, pseudonym, audit).await
    }
    async fn put_login_state(&self, state: &LoginState) -> StoreResult<()> {
        self.enter("put_login_state").await;
        self.inner.put_login_state(state).await
    }
    async fn take_login_state(&self, flow_hash: &[u8], now: DateTime<Utc>) -> StoreResult<Option<LoginState>> {
        self.enter("take_login_state").await;
        self.inner.take_login_state(flow_hash, now).await
    }
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        self.enter("create_session").await;
        self.inner.create_session(session).await
    }
    async fn session_by_hash(&self, session_hash: &[u8]) -> StoreResult<Option<Session>> {
        self.enter("session_by_hash").await;
        self.inner.session_by_hash(session_hash).await
    }
    async fn touch_session(
        &self,
        session_hash: &[u8],
        last_seen_at: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.enter("touch_session").await;
        self.inner.touch_session(session_hash, last_seen_at, idle_expires_at).await
    }
    async fn delete_session(&self, session_hash: &[u8]) -> StoreResult<Option<Session>> {
        self.enter("delete_session").await;
        self.inner.delete_session(session_hash).await
    }
    async fn signing_keys(&self, purpose: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        self.enter("signing_keys").await;
        self.inner.signing_keys(purpose).await
    }
    async fn create_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        self.enter("create_first_signing_key").await;
        self.inner.create_first_signing_key(key).await
    }
    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.enter("rotate_signing_key").await;
        self.inner.rotate_signing_key(key, now, publish_until).await
    }
    async fn create_app(&self, app: &App, audit: &AuditEntry) -> StoreResult<()> {
        self.enter("create_app").await;
        self.inner.create_app(app, audit).await
    }
    async fn app_by_id(&self, id: AppId) -> StoreResult<Option<App>> {
        self.enter("app_by_id").await;
        self.inner.app_by_id(id).await
    }
    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<Option<App>> {
        self.enter("app_by_client_id").await;
        self.inner.app_by_client_id(client_id).await
    }
    async fn apps_of_person(&self, person: PersonId) -> StoreResult<Vec<App>> {
        self.enter("apps_of_person").await;
        self.inner.apps_of_person(person).await
    }
    async fn list_apps(&self, after: Option<AppId>, limit: u32) -> StoreResult<Vec<App>> {
        self.enter("list_apps").await;
        self.inner.list_apps(after, limit).await
    }
    async fn update_app(&self, app: &App, audit: &AuditEntry) -> StoreResult<()> {
        self.enter("update_app").await;
        self.inner.update_app(app, audit).await
    }
    async fn add_rate_limit_hits(&self, bucket: &str, window_start: DateTime<Utc>, hits: u64) -> StoreResult<u64> {
        self.enter("add_rate_limit_hits").await;
        self.inner.add_rate_limit_hits(bucket, window_start, hits).await
    }
}

#[async_trait]
impl EventStore for CountingStore {
    async fn events_by_ids(&self, ids: &[EventId]) -> StoreResult<Vec<Event>> {
        self.enter("events_by_ids").await;
        self.inner.events_by_ids(ids).await
    }
    async fn create_event(&self, e: &Event, l: &Listing, a: &AuditEntry) -> StoreResult<()> {
        self.enter("create_event").await;
        self.inner.create_event(e, l, a).await
    }
    async fn event_by_id(&self, id: EventId) -> StoreResult<Option<Event>> {
        self.enter("event_by_id").await;
        self.inner.event_by_id(id).await
    }
    async fn events_of_group(
        &self,
        group: GroupId,
        after: Option<(DateTime<Utc>, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        self.enter("events_of_group").await;
        self.inner.events_of_group(group, after, limit).await
    }
    async fn first_events_of_groups(&self, groups: &[GroupId], per_group: u32) -> StoreResult<Vec<Event>> {
        self.enter("first_events_of_groups").await;
        self.inner.first_events_of_groups(groups, per_group).await
    }
    async fn put_override(
        &self,
        event: EventId,
        expected_version: i64,
        change: &scaffold_domain::event::OccurrenceOverride,
        at: DateTime<Utc>,
        l: &Listing,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("put_override").await;
        self.inner.put_override(event, expected_version, change, at, l, a).await
    }
    async fn delete_override(
        &self,
        event: EventId,
        expected_version: i64,
        local_start: chrono::NaiveDateTime,
        at: DateTime<Utc>,
        l: &Listing,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("delete_override").await;
        self.inner.delete_override(event, expected_version, local_start, at, l, a).await
    }
    async fn overrides_of(&self, event: EventId) -> StoreResult<Vec<scaffold_domain::event::OccurrenceOverride>> {
        self.enter("overrides_of").await;
        self.inner.overrides_of(event).await
    }
    async fn overrides_of_events(
        &self,
        events: &[EventId],
    ) -> StoreResult<Vec<(EventId, scaffold_domain::event::OccurrenceOverride)>> {
        self.enter("overrides_of_events").await;
        self.inner.overrides_of_events(events).await
    }
    async fn change_rsvps(
        &self,
        event: EventId,
        occurrence: chrono::NaiveDateTime,
        decide: &(dyn for<'r> Fn(&'r [scaffold_domain::rsvp::Rsvp]) -> Vec<scaffold_domain::rsvp::Rsvp> + Send + Sync),
        a: &AuditEntry,
    ) -> StoreResult<Vec<scaffold_domain::rsvp::Rsvp>> {
        self.enter("change_rsvps").await;
        self.inner.change_rsvps(event, occurrence, decide, a).await
    }
    async fn rsvps_of(
        &self,
        event: EventId,
        occurrence: chrono::NaiveDateTime,
    ) -> StoreResult<Vec<scaffold_domain::rsvp::Rsvp>> {
        self.enter("rsvps_of").await;
        self.inner.rsvps_of(event, occurrence).await
    }
    async fn check_in(
        &self,
        event: EventId,
        occurrence: chrono::NaiveDateTime,
        person: PersonId,
        at: DateTime<Utc>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("check_in").await;
        self.inner.check_in(event, occurrence, person, at, a).await
    }
    async fn occurrences_with_waitlist(&self, event: EventId) -> StoreResult<Vec<chrono::NaiveDateTime>> {
        self.enter("occurrences_with_waitlist").await;
        self.inner.occurrences_with_waitlist(event).await
    }
    async fn max_confirmed_seats(&self, event: EventId) -> StoreResult<u32> {
        self.enter("max_confirmed_seats").await;
        self.inner.max_confirmed_seats(event).await
    }
    async fn update_event(&self, e: &Event, expected_version: i64, l: &Listing, a: &AuditEntry) -> StoreResult<()> {
        self.enter("update_event").await;
        self.inner.update_event(e, expected_version, l, a).await
    }
    async fn delete_event(&self, event: EventId, at: DateTime<Utc>, a: &AuditEntry) -> StoreResult<()> {
        self.enter("delete_event").await;
        self.inner.delete_event(event, at, a).await
    }
    async fn events_to_relist(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Event>> {
        self.enter("events_to_relist").await;
        self.inner.events_to_relist(before, limit).await
    }
    async fn relist_event(&self, event: EventId, version: i64, l: &Listing, at: DateTime<Utc>) -> StoreResult<bool> {
        self.enter("relist_event").await;
        self.inner.relist_event(event, version, l, at).await
    }
    async fn purge_tombstones(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.enter("purge_tombstones").await;
        self.inner.purge_tombstones(before).await
    }
    async fn search_occurrences(
        &self,
        q: &scaffold_store::OccurrenceQuery,
    ) -> StoreResult<Vec<(Event, scaffold_domain::event::ListedOccurrence)>> {
        self.enter("search_occurrences").await;
        self.inner.search_occurrences(q).await
    }
    async fn series_feed(
        &self,
        after: Option<(i64, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<scaffold_store::SeriesFeedItem>> {
        self.enter("series_feed").await;
        self.inner.series_feed(after, limit).await
    }
    async fn sessions_feed(
        &self,
        after: Option<(i64, EventId, chrono::NaiveDateTime)>,
        limit: u32,
    ) -> StoreResult<Vec<scaffold_store::SessionFeedItem>> {
        self.enter("sessions_feed").await;
        self.inner.sessions_feed(after, limit).await
    }
}

#[async_trait]
impl scaffold_store::AttestationStore for CountingStore {
    async fn authorise_issuer(
        &self,
        group: GroupId,
        kind: scaffold_domain::attestation::AttestationType,
        at: DateTime<Utc>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("authorise_issuer").await;
        self.inner.authorise_issuer(group, kind, at, a).await
    }
    async fn issuer_types(&self, group: GroupId) -> StoreResult<Vec<scaffold_domain::attestation::AttestationType>> {
        self.enter("issuer_types").await;
        self.inner.issuer_types(group).await
    }
    async fn create_attestation(
        &self,
        x: &scaffold_domain::attestation::Attestation,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("create_attestation").await;
        self.inner.create_attestation(x, a).await
    }
    async fn attestation_by_id(
        &self,
        id: scaffold_domain::AttestationId,
    ) -> StoreResult<Option<scaffold_domain::attestation::Attestation>> {
        self.enter("attestation_by_id").await;
        self.inner.attestation_by_id(id).await
    }
    async fn attestations_of_person(
        &self,
        person: PersonId,
    ) -> StoreResult<Vec<scaffold_domain::attestation::Attestation>> {
        self.enter("attestations_of_person").await;
        self.inner.attestations_of_person(person).await
    }
    async fn activate_attestation(
        &self,
        id: scaffold_domain::AttestationId,
        credential: &str,
        status: (i64, i64),
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("activate_attestation").await;
        self.inner.activate_attestation(id, credential, status, issued_at, expires_at, a).await
    }
    async fn end_attestation(
        &self,
        id: scaffold_domain::AttestationId,
        from: scaffold_domain::attestation::AttestationState,
        to: scaffold_domain::attestation::AttestationState,
        reason: Option<&str>,
        at: DateTime<Utc>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("end_attestation").await;
        self.inner.end_attestation(id, from, to, reason, at, a).await
    }
    async fn status_list(&self, list: i64) -> StoreResult<Option<(Vec<u8>, DateTime<Utc>)>> {
        self.enter("status_list").await;
        self.inner.status_list(list).await
    }
    async fn create_share(&self, share: &scaffold_domain::attestation::Share, a: &AuditEntry) -> StoreResult<()> {
        self.enter("create_share").await;
        self.inner.create_share(share, a).await
    }
    async fn share_by_code_hash(&self, hash: &[u8]) -> StoreResult<Option<scaffold_domain::attestation::Share>> {
        self.enter("share_by_code_hash").await;
        self.inner.share_by_code_hash(hash).await
    }
    async fn shares_of_attestation(
        &self,
        attestation: scaffold_domain::AttestationId,
    ) -> StoreResult<Vec<scaffold_domain::attestation::Share>> {
        self.enter("shares_of_attestation").await;
        self.inner.shares_of_attestation(attestation).await
    }
    async fn redemptions_of_shares(
        &self,
        shares: &[scaffold_domain::ShareId],
    ) -> StoreResult<Vec<scaffold_domain::attestation::Redemption>> {
        self.enter("redemptions_of_shares").await;
        self.inner.redemptions_of_shares(shares).await
    }
    async fn redeem_share(
        &self,
        r: &scaffold_domain::attestation::Redemption,
        counts: bool,
        a: &AuditEntry,
    ) -> StoreResult<bool> {
        self.enter("redeem_share").await;
        self.inner.redeem_share(r, counts, a).await
    }
    async fn withdraw_share(
        &self,
        share: scaffold_domain::ShareId,
        at: DateTime<Utc>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.enter("withdraw_share").await;
        self.inner.withdraw_share(share, at, a).await
    }
}
