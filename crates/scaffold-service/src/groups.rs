//! Group use cases: create (the creator becomes owner), find by id or slug, list with filters,
//! update with optimistic concurrency, archive. Visibility: private groups are invisible to
//! non-members everywhere (a private group is "not found", never "forbidden"); unlisted groups are
//! reachable directly but never listed; operators see everything.

use crate::audit::bad_cursor;
use crate::{Page, Service, page_limit, store_error, version_mismatch};
use scaffold_domain::change::ChangeType;
use scaffold_domain::codes;
use scaffold_domain::group::{Category, Group, GroupDraft, GroupPatch, GroupStatus, IdentifierScheme, OrgIdentifier};
use scaffold_domain::membership::{Membership, MembershipStatus, Role};
use scaffold_domain::{Actor, DomainError, GroupId, Outcode, PersonId, Scope};
use scaffold_store::{Cursor, GroupQuery, IdempotencyRecord, StoreError};

/// How a caller names a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    Id(GroupId),
    Slug(String),
}

/// A group as a caller sees it: with its member count and the caller's own membership.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub group: Group,
    pub member_count: i64,
    pub viewer_membership: Option<Membership>,
}

/// A client-chosen `Idempotency-Key` and a fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

impl Idempotency {
    /// Remembers the key with a SHA-256 fingerprint of the request body.
    pub fn new(key: &str, body: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(body);
        Self { key: key.to_owned(), fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect() }
    }
}

/// The outcome of a create: the group, and whether it was an idempotent replay.
#[derive(Debug)]
pub struct Created {
    pub view: GroupView,
    pub replayed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub outcode: Option<String>,
    pub category: Option<Category>,
    pub text: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub const TEXT_FILTER_MAX: usize = 100;

/// Who may make a change through `change_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owners,
    Operators,
}

fn identifier_not_found() -> DomainError {
    DomainError::not_found(codes::IDENTIFIER_NOT_FOUND, "the group has no number on that register")
}

pub(crate) fn group_not_found() -> DomainError {
    GroupId::not_found()
}

fn validate_idempotency_key(key: &str) -> Result<(), DomainError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid_field(
            "/idempotency_key",
            codes::INVALID_IDEMPOTENCY_KEY,
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        ));
    }
    Ok(())
}

/// A text filter's words (at most 8, lower-cased); over 100 characters is `TOO_LONG` at `pointer`.
pub(crate) fn text_words(pointer: &str, text: Option<&str>) -> Result<Vec<String>, DomainError> {
    match text {
        Some(t) if t.chars().count() > TEXT_FILTER_MAX => {
            Err(DomainError::invalid_field(pointer, codes::TOO_LONG, "must be at most 100 characters"))
        }
        Some(t) => Ok(t.split_whitespace().take(8).map(str::to_lowercase).collect()),
        None => Ok(Vec::new()),
    }
}

impl Service {
    /// The caller's membership of the group, if the caller is a person.
    pub(crate) async fn membership_of(&self, actor: &Actor, group: GroupId) -> Result<Option<Membership>, DomainError> {
        match actor.person_id() {
            Some(p) => self.store.membership(group, p).await.map_err(store_error),
            None => Ok(None),
        }
    }

    /// Loads a group the caller may see, with the caller's membership (see `group_access`).
    pub(crate) async fn visible_group(
        &self,
        actor: &Actor,
        r: &GroupRef,
    ) -> Result<(Group, Option<Membership>), DomainError> {
        let access = self.group_access(actor, r).await?;
        Ok((access.group, access.membership))
    }

    async fn view(&self, group: Group, viewer_membership: Option<Membership>) -> Result<GroupView, DomainError> {
        Ok(GroupView { member_count: group.member_count, group, viewer_membership })
    }

    pub async fn create_group(
        &self,
        actor: &Actor,
        draft: &GroupDraft,
        idempotency: Option<Idempotency>,
    ) -> Result<Created, DomainError> {
        let person = actor.require(Scope::GroupsWrite)?;
        if let Some(i) = &idempotency {
            validate_idempotency_key(&i.key)?;
            if let Some(done) = self.replay(actor, person, i).await? {
                return Ok(done);
            }
        }
        let valid = draft.validate().map_err(DomainError::invalid)?;
        let now = self.clock.now();
        let group = Group {
            id: GroupId::new_v7(now),
            slug: valid.slug,
            name: valid.name,
            summary: valid.summary,
            description: valid.description,
            kind: valid.kind,
            categories: valid.categories,
            area: valid.area,
            contact_email: valid.contact_email,
            links: valid.links,
            visibility: valid.visibility,
            join_policy: valid.join_policy,
            guidelines: valid.guidelines,
            identifiers: Vec::new(),
            member_count: 0,
            origin: None,
            status: GroupStatus::Active,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let owner = Membership {
            group_id: group.id,
            person_id: person,
            role: Role::Owner,
            status: MembershipStatus::Active,
            created_at: now,
            updated_at: now,
        };
        let record = idempotency.as_ref().map(|i| IdempotencyRecord {
            scope: person.to_string(),
            key: i.key.clone(),
            request_hash: i.fingerprint.clone(),
            resource_id: group.id.to_string(),
            created_at: now,
        });
        let audit = self
            .audit(
                Some(person),
                "group.create",
                "group",
                group.id,
                serde_json::json!({ "slug": group.slug.as_str(), "visibility": group.visibility.as_str() }),
            )
            .with_change(self.group_change(ChangeType::GroupCreated, &group, vec![]));
        match self.store.create_group(&group, &owner, record.as_ref(), &audit).await {
            Ok(()) => Ok(Created {
                view: GroupView {
                    member_count: 1,
                    group: Group { member_count: 1, ..group },
                    viewer_membership: Some(owner),
                },
                replayed: false,
            }),
            Err(StoreError::Conflict { constraint: "slug" }) => Err(DomainError::conflict(
                codes::GROUP_SLUG_TAKEN,
                format!("the slug `{}` is already taken", group.slug),
            )),
            Err(StoreError::Conflict { constraint: "idempotency_key" }) => match &idempotency {
                Some(i) => self.replay(actor, person, i).await?.ok_or_else(|| {
                    DomainError::conflict(
                        codes::IDEMPOTENCY_KEY_IN_USE,
                        "a request with this Idempotency-Key is in progress",
                    )
                }),
                None => Err(DomainError::internal("idempotency conflict without a key")),
            },
            Err(e) => Err(store_error(e)),
        }
    }

    async fn replay(&self, actor: &Actor, person: PersonId, i: &Idempotency) -> Result<Option<Created>, DomainError> {
        let Some(rec) = self.store.idempotency_record(&person.to_string(), &i.key).await.map_err(store_error)? else {
            return Ok(None);
        };
        if rec.request_hash != i.fingerprint {
            return Err(DomainError::new(
                scaffold_domain::ErrorKind::Invalid,
                codes::IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was used with a different request",
            ));
        }
        let id = GroupId::parse(&rec.resource_id).ok_or_else(|| DomainError::internal("bad idempotency record"))?;
        let (group, m) = self.visible_group(actor, &GroupRef::Id(id)).await?;
        Ok(Some(Created { view: self.view(group, m).await?, replayed: true }))
    }

    pub async fn group(&self, actor: &Actor, r: &GroupRef) -> Result<GroupView, DomainError> {
        let (group, m) = self.visible_group(actor, r).await?;
        self.view(group, m).await
    }

    /// Groups by id that the caller may see (for federation entity resolution and loaders).
    pub async fn groups_by_ids(&self, actor: &Actor, ids: &[GroupId]) -> Result<Vec<Group>, DomainError> {
        let groups = self.store.groups_by_ids(ids).await.map_err(store_error)?;
        let memberships = match actor.person_id() {
            Some(p) => self.store.memberships_of_person(p, ids).await.map_err(store_error)?,
            None => Vec::new(),
        };
        Ok(groups
            .into_iter()
            .filter(|g| crate::access::visible(g, actor, memberships.iter().find(|m| m.group_id == g.id)))
            .collect())
    }

    /// The opaque cursor that points just after this group in listings.
    pub fn group_cursor(group: &Group) -> String {
        Cursor::encode(&(scaffold_store::sort_name(group), group.id.to_string())).0
    }

    /// The caller's memberships among the given groups (for loaders).
    pub async fn viewer_memberships(&self, actor: &Actor, ids: &[GroupId]) -> Result<Vec<Membership>, DomainError> {
        match actor.person_id() {
            Some(p) => self.store.memberships_of_person(p, ids).await.map_err(store_error),
            None => Ok(Vec::new()),
        }
    }

    pub async fn list_groups(&self, actor: &Actor, f: &GroupFilter) -> Result<Page<GroupView>, DomainError> {
        let limit = page_limit(f.limit)?;
        let outcode = f
            .outcode
            .as_deref()
            .map(|o| Outcode::parse("/outcode", o).map(|o| o.as_str().to_owned()))
            .transpose()
            .map_err(|e| DomainError::invalid(vec![e]))?;
        let text = text_words("/q", f.text.as_deref())?;
        let after = match &f.after {
            None => None,
            Some(c) => {
                let (name, id) = Cursor::decode::<(String, String)>(c).ok_or_else(bad_cursor)?;
                Some((name, GroupId::parse(&id).ok_or_else(bad_cursor)?))
            }
        };
        let q = GroupQuery {
            viewer: actor.reader(Scope::GroupsRead),
            all_visibilities: crate::access::operates_instance(actor),
            outcode,
            category: f.category,
            text,
            after,
            limit,
            ..GroupQuery::default()
        };
        let groups = self.store.list_groups(&q).await.map_err(store_error)?;
        let next = (groups.len() == limit as usize)
            .then(|| groups.last().map(|g| Cursor::encode(&(scaffold_store::sort_name(g), g.id.to_string())).0))
            .flatten();
        let ids: Vec<_> = groups.iter().map(|g| g.id).collect();
        let mine = self.viewer_memberships(actor, &ids).await?;
        let items = groups
            .into_iter()
            .map(|g| GroupView {
                member_count: g.member_count,
                viewer_membership: mine.iter().find(|m| m.group_id == g.id).cloned(),
                group: g,
            })
            .collect();
        Ok(Page { items, next })
    }

    /// Loads a group for a change by its managers: visible, active, version as expected.
    async fn group_for_change(
        &self,
        actor: &Actor,
        id: GroupId,
        expected_version: i64,
        owner_only: bool,
    ) -> Result<(PersonId, Group, Option<Membership>), DomainError> {
        actor.require(Scope::GroupsWrite)?; // 401/403 before anything is looked up
        let access = self.group_access(actor, &GroupRef::Id(id)).await?;
        let person = access.manage_group(owner_only)?;
        access.active()?;
        if access.group.version != expected_version {
            return Err(version_mismatch());
        }
        Ok((person, access.group, access.membership))
    }

    pub async fn update_group(
        &self,
        actor: &Actor,
        id: GroupId,
        patch: &GroupPatch,
        expected_version: i64,
    ) -> Result<GroupView, DomainError> {
        let (person, group, m) = self.group_for_change(actor, id, expected_version, false).await?;
        let mut changed = group.patched(patch).map_err(DomainError::invalid)?;
        if changed == group {
            return self.view(group, m).await;
        }
        changed.version = group.version + 1;
        changed.updated_at = self.clock.now();
        let audit = self
            .audit(
                Some(person),
                "group.update",
                "group",
                group.id,
                serde_json::json!({ "fields": patch.field_names(), "version": changed.version }),
            )
            .with_change(self.group_update(
                &group,
                &changed,
                patch.field_names().into_iter().map(str::to_owned).collect(),
            ));
        self.store.update_group(&changed, expected_version, &audit).await.map_err(store_error)?;
        self.view(changed, m).await
    }

    /// Applies a change to a group on behalf of its owners (or an operator, with `admin`), bumping
    /// the version. These calls name a sub-resource rather than the whole group, so they take no
    /// expected version: a concurrent change to the group is retried, not reported.
    async fn change_group(
        &self,
        actor: &Actor,
        id: GroupId,
        who: Who,
        action: &str,
        detail: serde_json::Value,
        change: impl Fn(&mut Group) -> Result<(), DomainError>,
    ) -> Result<GroupView, DomainError> {
        for _ in 0..3 {
            // 401/403 before anything is looked up.
            actor.require(if who == Who::Owners { Scope::GroupsWrite } else { Scope::Admin })?;
            let access = self.group_access(actor, &GroupRef::Id(id)).await?;
            let person = match who {
                Who::Owners => access.manage_group(true)?,
                Who::Operators => access.operate()?,
            };
            access.active()?;
            let (group, m) = (access.group, access.membership);
            let mut changed = group.clone();
            change(&mut changed)?;
            if changed == group {
                return self.view(group, m).await;
            }
            changed.version = group.version + 1;
            changed.updated_at = self.clock.now();
            let audit = self
                .audit(Some(person), action, "group", group.id, detail.clone())
                .with_change(self.group_update(&group, &changed, vec!["identifiers".to_owned()]));
            match self.store.update_group(&changed, group.version, &audit).await {
                Ok(()) => return self.view(changed, m).await,
                Err(StoreError::VersionMismatch) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(DomainError::conflict(codes::GROUP_BUSY, "the group is being changed by others: try again"))
    }

    /// Owners record a registration number; a new or changed number is unverified.
    pub async fn set_identifier(
        &self,
        actor: &Actor,
        id: GroupId,
        scheme: IdentifierScheme,
        value: &str,
    ) -> Result<GroupView, DomainError> {
        let value = scheme.normalise("/value", value).map_err(|e| DomainError::invalid(vec![e]))?;
        let detail = serde_json::json!({ "scheme": scheme.as_str(), "value": value });
        self.change_group(actor, id, Who::Owners, "group.identifier_set", detail, |g| {
            match g.identifiers.iter_mut().find(|i| i.scheme == scheme) {
                Some(existing) if existing.value == value => {}
                Some(existing) => {
                    *existing = OrgIdentifier { scheme, value: value.clone(), verified_at: None, verified_by: None };
                }
                None => {
                    g.identifiers.push(OrgIdentifier {
                        scheme,
                        value: value.clone(),
                        verified_at: None,
                        verified_by: None,
                    });
                    g.identifiers.sort_by_key(|i| i.scheme);
                }
            }
            Ok(())
        })
        .await
    }

    /// Owners remove a registration number.
    pub async fn remove_identifier(
        &self,
        actor: &Actor,
        id: GroupId,
        scheme: IdentifierScheme,
    ) -> Result<GroupView, DomainError> {
        let detail = serde_json::json!({ "scheme": scheme.as_str() });
        self.change_group(actor, id, Who::Owners, "group.identifier_remove", detail, |g| {
            let before = g.identifiers.len();
            g.identifiers.retain(|i| i.scheme != scheme);
            if g.identifiers.len() == before { Err(identifier_not_found()) } else { Ok(()) }
        })
        .await
    }

    /// An operator records that they checked a registration number against its register.
    pub async fn verify_identifier(
        &self,
        actor: &Actor,
        id: GroupId,
        scheme: IdentifierScheme,
    ) -> Result<GroupView, DomainError> {
        let by = actor.require(Scope::Admin)?;
        let now = self.clock.now();
        let detail = serde_json::json!({ "scheme": scheme.as_str() });
        self.change_group(actor, id, Who::Operators, "group.identifier_verify", detail, |g| {
            let i = g.identifiers.iter_mut().find(|i| i.scheme == scheme).ok_or_else(identifier_not_found)?;
            if i.verified_at.is_none() {
                i.verified_at = Some(now);
                i.verified_by = Some(by);
            }
            Ok(())
        })
        .await
    }

    /// Archives a group (owners and operators): it leaves listings and becomes read-only.
    pub async fn archive_group(
        &self,
        actor: &Actor,
        id: GroupId,
        expected_version: i64,
    ) -> Result<GroupView, DomainError> {
        let (person, group, m) = self.group_for_change(actor, id, expected_version, true).await?;
        let mut changed = group.clone();
        changed.status = GroupStatus::Archived;
        changed.version = group.version + 1;
        changed.updated_at = self.clock.now();
        let audit = self
            .audit(Some(person), "group.archive", "group", group.id, serde_json::json!({}))
            .with_change(self.group_change(ChangeType::GroupArchived, &changed, vec![]));
        self.store.update_group(&changed, expected_version, &audit).await.map_err(store_error)?;
        self.view(changed, m).await
    }
}
