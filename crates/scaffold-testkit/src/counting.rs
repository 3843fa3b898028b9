//! A store wrapper that counts calls per method and passes them to a real store: for tests that
//! prove lists are resolved without one query per item (no N+1).

use async_trait::async_trait;
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::group::Group;
use scaffold_domain::membership::Membership;
use scaffold_domain::person::Person;
use scaffold_domain::{ApiKeyId, AuditId, GroupId, PersonId};
use scaffold_store::{ApiKey, GroupQuery, IdempotencyRecord, MembershipChange, Store, StoreResult};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn Store>,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

impl CountingStore {
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self { inner, calls: Mutex::default() })
    }

    fn count(&self, name: &'static str) {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
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
        self.count("ping");
        self.inner.ping().await
    }
    async fn create_person(&self, p: &Person, k: Option<&ApiKey>, a: &AuditEntry) -> StoreResult<()> {
        self.count("create_person");
        self.inner.create_person(p, k, a).await
    }
    async fn persons_by_ids(&self, ids: &[PersonId]) -> StoreResult<Vec<Person>> {
        self.count("persons_by_ids");
        self.inner.persons_by_ids(ids).await
    }
    async fn create_api_key(&self, k: &ApiKey, a: &AuditEntry) -> StoreResult<()> {
        self.count("create_api_key");
        self.inner.create_api_key(k, a).await
    }
    async fn api_key_by_hash(&self, h: &[u8]) -> StoreResult<Option<ApiKey>> {
        self.count("api_key_by_hash");
        self.inner.api_key_by_hash(h).await
    }
    async fn api_keys_of_person(&self, p: PersonId) -> StoreResult<Vec<ApiKey>> {
        self.count("api_keys_of_person");
        self.inner.api_keys_of_person(p).await
    }
    async fn revoke_api_key(&self, p: PersonId, k: ApiKeyId, a: &AuditEntry) -> StoreResult<()> {
        self.count("revoke_api_key");
        self.inner.revoke_api_key(p, k, a).await
    }
    async fn count_operator_keys(&self) -> StoreResult<i64> {
        self.count("count_operator_keys");
        self.inner.count_operator_keys().await
    }
    async fn bootstrap_operator(&self, p: &Person, k: &ApiKey, a: &AuditEntry) -> StoreResult<bool> {
        self.count("bootstrap_operator");
        self.inner.bootstrap_operator(p, k, a).await
    }
    async fn create_group(
        &self,
        g: &Group,
        o: &Membership,
        i: Option<&IdempotencyRecord>,
        a: &AuditEntry,
    ) -> StoreResult<()> {
        self.count("create_group");
        self.inner.create_group(g, o, i, a).await
    }
    async fn group_by_id(&self, id: GroupId) -> StoreResult<Option<Group>> {
        self.count("group_by_id");
        self.inner.group_by_id(id).await
    }
    async fn group_by_slug(&self, s: &str) -> StoreResult<Option<Group>> {
        self.count("group_by_slug");
        self.inner.group_by_slug(s).await
    }
    async fn groups_by_ids(&self, ids: &[GroupId]) -> StoreResult<Vec<Group>> {
        self.count("groups_by_ids");
        self.inner.groups_by_ids(ids).await
    }
    async fn list_groups(&self, q: &GroupQuery) -> StoreResult<Vec<Group>> {
        self.count("list_groups");
        self.inner.list_groups(q).await
    }
    async fn update_group(&self, g: &Group, v: i64, a: &AuditEntry) -> StoreResult<()> {
        self.count("update_group");
        self.inner.update_group(g, v, a).await
    }
    async fn membership(&self, g: GroupId, p: PersonId) -> StoreResult<Option<Membership>> {
        self.count("membership");
        self.inner.membership(g, p).await
    }
    async fn memberships_of_person(&self, p: PersonId, gs: &[GroupId]) -> StoreResult<Vec<Membership>> {
        self.count("memberships_of_person");
        self.inner.memberships_of_person(p, gs).await
    }
    async fn list_members(&self, g: GroupId, after: Option<PersonId>, limit: u32) -> StoreResult<Vec<Membership>> {
        self.count("list_members");
        self.inner.list_members(g, after, limit).await
    }
    async fn change_membership(&self, c: &MembershipChange, a: &AuditEntry) -> StoreResult<()> {
        self.count("change_membership");
        self.inner.change_membership(c, a).await
    }
    async fn idempotency_record(&self, s: &str, k: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.count("idempotency_record");
        self.inner.idempotency_record(s, k).await
    }
    async fn list_audit(&self, before: Option<AuditId>, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        self.count("list_audit");
        self.inner.list_audit(before, limit).await
    }
}
