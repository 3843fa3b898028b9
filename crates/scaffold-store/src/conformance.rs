//! The store conformance suite: behaviour every adapter must share. Each case takes a fresh,
//! migrated, empty store. Adapters run it with `conformance_suite!`, which makes one test per case.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)] // test code, run from test binaries

use crate::{
    ApiKey, GroupQuery, IdempotencyRecord, LoginState, MembershipChange, Session, SigningKeyRecord, Store, StoreError,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use scaffold_domain::audit::AuditEntry;
use scaffold_domain::group::{
    Area, Category, Group, GroupKind, GroupStatus, GuidelineTemplate, Guidelines, IdentifierScheme, JoinPolicy, Link,
    OrgIdentifier, Visibility,
};
use scaffold_domain::identity::{App, AppStatus, Assurance, AssuranceLevel, Identity};
use scaffold_domain::membership::{Membership, MembershipStatus, Role};
use scaffold_domain::person::Person;
use scaffold_domain::{ApiKeyId, AppId, AuditId, GroupId, IdentityId, Outcode, PersonId, Scope, Scopes, Slug};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

pub type DynStore = Arc<dyn Store>;

/// Makes one `#[tokio::test]` per conformance case; `$make` is an async expression giving a
/// fresh `Arc<dyn Store>`.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            group_round_trips_every_field,
            duplicate_slug_is_a_conflict_and_changes_nothing,
            reused_idempotency_key_is_a_conflict,
            update_checks_the_version,
            listing_respects_visibility_and_status,
            listing_filters_by_outcode_category_and_text,
            listing_pages_by_name_then_id,
            last_owner_cannot_be_removed_or_demoted,
            concurrent_demotions_keep_an_owner,
            memberships_count_and_page,
            api_keys_are_found_by_hash_and_revoked,
            audit_entries_are_written_with_changes_and_listed_newest_first,
            empty_id_lists_return_nothing,
            concurrent_bootstraps_create_one_operator,
            identities_are_keyed_by_issuer_and_subject,
            login_states_are_taken_once,
            sessions_are_touched_and_deleted,
            one_first_signing_key_and_rotation_keeps_the_old_one_published,
            apps_round_trip_and_update,
            grants_keep_one_per_app_and_person_and_tokens_are_used_once,
            rate_limit_counts_per_bucket_and_window,
            deleting_a_person_pseudonymises_the_audit_and_keeps_an_owner,
            events_round_trip_page_and_check_versions,
            concurrent_replies_never_overbook_and_the_waitlist_is_promoted,
            series_replies_are_written_with_their_dates_and_undone,
            listings_drive_search_and_the_feeds,
            a_series_that_moves_is_found_in_its_new_area_only,
            area_search_finds_exactly_the_circle_at_every_size_and_pages_across_cells,
            the_content_clock_moves_with_every_write_the_public_can_see,
            a_job_lease_is_held_by_one_replica_until_it_ends,
            attestations_are_offered_activated_and_revoked_with_their_status_bit,
            sources_import_replace_and_remove_what_they_bring,
            changes_queue_deliveries_for_matching_webhooks_taken_once,
            notices_round_trip_show_while_valid_and_are_dismissed_once,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $make.await;
                $crate::conformance::$case(store).await;
            }
        )+
    };
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 28, 9, 30, 0).single().unwrap_or_default() + Duration::microseconds(123_456)
}

fn at(offset_secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(offset_secs)
}

fn audit(action: &str, target: impl ToString) -> AuditEntry {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    AuditEntry {
        id: AuditId::new_v7(at(i64::from(n))),
        at: at(i64::from(n)),
        actor: None,
        action: action.to_owned(),
        target_type: "test".to_owned(),
        target_id: target.to_string(),
        detail: serde_json::json!({ "n": n }),
        change: None,
    }
}

pub async fn person(store: &DynStore, name: &str) -> Person {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let p = Person { id: PersonId::new_v7(at(i64::from(n))), display_name: name.to_owned(), created_at: at(0) };
    let entry = AuditEntry { target_type: "person".to_owned(), ..audit("person.create", p.id) };
    store.create_person(&p, None, &entry).await.unwrap();
    p
}

pub fn group(slug: &str, name: &str) -> Group {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Group {
        id: GroupId::new_v7(at(i64::from(n))),
        slug: Slug::parse("/slug", slug).unwrap(),
        name: name.to_owned(),
        summary: format!("{name}: tea, cake and help with phones"),
        description: Some("We meet **every Tuesday** at the library.\n\nAll welcome.".to_owned()),
        kind: GroupKind::CommunityGroup,
        categories: vec![Category::DigitalInclusion, Category::OlderPeople],
        area: Some(Area { outcode: Outcode::parse("/o", "WN1").unwrap(), latitude: 53.55104, longitude: -2.63014 }),
        contact_email: Some("hello@example.org".to_owned()),
        links: vec![Link { label: "Website".to_owned(), url: "https://example.org/a?b=c".to_owned() }],
        visibility: Visibility::Public,
        join_policy: JoinPolicy::Open,
        guidelines: Guidelines::from_template(GuidelineTemplate::SafeguardingFirst),
        member_count: 1,
        origin: None,
        identifiers: vec![
            OrgIdentifier {
                scheme: IdentifierScheme::CharityEnglandWales,
                value: "1123456".to_owned(),
                verified_at: Some(at(5)),
                verified_by: Some(PersonId::new_v7(at(1))),
            },
            OrgIdentifier {
                scheme: IdentifierScheme::Company,
                value: "01234567".to_owned(),
                verified_at: None,
                verified_by: None,
            },
        ],
        status: GroupStatus::Active,
        version: 1,
        created_at: at(10),
        updated_at: at(10),
    }
}

fn owner(g: &Group, p: &Person) -> Membership {
    Membership {
        group_id: g.id,
        person_id: p.id,
        role: Role::Owner,
        status: MembershipStatus::Active,
        created_at: at(10),
        updated_at: at(10),
    }
}

pub async fn create(store: &DynStore, g: &Group, p: &Person) {
    store.create_group(g, &owner(g, p), None, &audit("group.create", g.id)).await.unwrap();
}

fn query() -> GroupQuery {
    GroupQuery { limit: 50, ..GroupQuery::default() }
}

async fn slugs(store: &DynStore, q: &GroupQuery) -> Vec<String> {
    store.list_groups(q).await.unwrap().into_iter().map(|g| g.slug.to_string()).collect()
}

pub async fn group_round_trips_every_field(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("wigan-techmates", "Wigan TechMates");
    create(&store, &g, &p).await;
    assert_eq!(store.group_by_id(g.id).await.unwrap().as_ref(), Some(&g));
    assert_eq!(store.group_by_slug("wigan-techmates").await.unwrap().as_ref(), Some(&g));
    assert_eq!(store.group_by_slug("nope").await.unwrap(), None);
    let mut bare = group("bare-group", "Bare group");
    bare.description = None;
    bare.area = None;
    bare.contact_email = None;
    bare.links = vec![];
    bare.categories = vec![];
    bare.identifiers = vec![];
    bare.guidelines = Guidelines { template: None, text: "Be kind.".to_owned() };
    create(&store, &bare, &p).await;
    assert_eq!(store.group_by_id(bare.id).await.unwrap(), Some(bare));
    let m = store.membership(g.id, p.id).await.unwrap().unwrap();
    assert_eq!(m, owner(&g, &p));
}

pub async fn duplicate_slug_is_a_conflict_and_changes_nothing(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("casserole-club", "Casserole Club");
    create(&store, &g, &p).await;
    let again = group("casserole-club", "Another club");
    let rec = IdempotencyRecord {
        scope: p.id.to_string(),
        key: "k1".to_owned(),
        request_hash: "h".to_owned(),
        resource_id: again.id.to_string(),
        created_at: at(0),
    };
    let err = store.create_group(&again, &owner(&again, &p), Some(&rec), &audit("x", 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { constraint: "slug" }), "{err}");
    assert_eq!(store.group_by_id(again.id).await.unwrap(), None);
    assert_eq!(store.idempotency_record(&rec.scope, "k1").await.unwrap(), None, "the transaction rolled back");
    assert_eq!(store.membership(again.id, p.id).await.unwrap(), None);
}

pub async fn reused_idempotency_key_is_a_conflict(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g1 = group("first-group", "First");
    let g2 = group("second-group", "Second");
    let rec = |g: &Group| IdempotencyRecord {
        scope: p.id.to_string(),
        key: "same-key".to_owned(),
        request_hash: "h".to_owned(),
        resource_id: g.id.to_string(),
        created_at: at(0),
    };
    store.create_group(&g1, &owner(&g1, &p), Some(&rec(&g1)), &audit("x", 1)).await.unwrap();
    let err = store.create_group(&g2, &owner(&g2, &p), Some(&rec(&g2)), &audit("x", 2)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { constraint: "idempotency_key" }), "{err}");
    assert_eq!(store.idempotency_record(&p.id.to_string(), "same-key").await.unwrap(), Some(rec(&g1)));
    assert_eq!(store.group_by_id(g2.id).await.unwrap(), None);
}

pub async fn update_checks_the_version(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("update-me", "Update me");
    create(&store, &g, &p).await;
    let mut changed = g.clone();
    changed.name = "Updated".to_owned();
    changed.categories = vec![Category::Food];
    changed.identifiers.retain(|i| i.scheme == IdentifierScheme::Company);
    changed.version = 2;
    changed.updated_at = at(99);
    store.update_group(&changed, 1, &audit("group.update", g.id)).await.unwrap();
    assert_eq!(store.group_by_id(g.id).await.unwrap(), Some(changed.clone()));
    let mut stale = changed.clone();
    stale.name = "Stale".to_owned();
    stale.version = 2;
    let err = store.update_group(&stale, 1, &audit("group.update", g.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionMismatch), "{err}");
    assert_eq!(store.group_by_id(g.id).await.unwrap(), Some(changed));
    let ghost = group("ghost-group", "Ghost");
    let err = store.update_group(&ghost, 1, &audit("group.update", ghost.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");
}

pub async fn listing_respects_visibility_and_status(store: DynStore) {
    let alice = person(&store, "Alice").await;
    let bob = person(&store, "Bob").await;
    let public = group("a-public", "A public");
    let mut unlisted = group("b-unlisted", "B unlisted");
    unlisted.visibility = Visibility::Unlisted;
    let mut private = group("c-private", "C private");
    private.visibility = Visibility::Private;
    let mut archived = group("d-archived", "D archived");
    archived.status = GroupStatus::Archived;
    for g in [&public, &unlisted, &private, &archived] {
        create(&store, g, &alice).await;
    }
    assert_eq!(slugs(&store, &query()).await, ["a-public"]);
    let as_bob = GroupQuery { viewer: Some(bob.id), ..query() };
    assert_eq!(slugs(&store, &as_bob).await, ["a-public"]);
    let as_alice = GroupQuery { viewer: Some(alice.id), ..query() };
    assert_eq!(slugs(&store, &as_alice).await, ["a-public", "b-unlisted", "c-private"]);
    let pending = Membership {
        person_id: bob.id,
        status: MembershipStatus::Pending,
        role: Role::Member,
        ..owner(&private, &bob)
    };
    store.change_membership(&MembershipChange::Put(pending), &audit("m", 1)).await.unwrap();
    assert_eq!(slugs(&store, &as_bob).await, ["a-public"], "pending members do not see private groups");
    let operator = GroupQuery { all_visibilities: true, ..query() };
    assert_eq!(slugs(&store, &operator).await, ["a-public", "b-unlisted", "c-private"]);
}

pub async fn listing_filters_by_outcode_category_and_text(store: DynStore) {
    let p = person(&store, "Ada").await;
    let wigan = group("wigan-tea", "Wigan 100% Tea_Party");
    let mut leigh = group("leigh-football", "Leigh Sunday League");
    leigh.area = Some(Area { outcode: Outcode::parse("/o", "WN7").unwrap(), latitude: 53.5, longitude: -2.5 });
    leigh.categories = vec![Category::SportPhysicalActivity];
    leigh.summary = "Football for everyone".to_owned();
    create(&store, &wigan, &p).await;
    create(&store, &leigh, &p).await;
    let by_outcode = GroupQuery { outcode: Some("WN7".to_owned()), ..query() };
    assert_eq!(slugs(&store, &by_outcode).await, ["leigh-football"]);
    let by_category = GroupQuery { category: Some(Category::DigitalInclusion), ..query() };
    assert_eq!(slugs(&store, &by_category).await, ["wigan-tea"]);
    let by_words = GroupQuery { text: vec!["sunday".to_owned(), "football".to_owned()], ..query() };
    assert_eq!(slugs(&store, &by_words).await, ["leigh-football"]);
    let wildcard = GroupQuery { text: vec!["%".to_owned()], ..query() };
    assert_eq!(slugs(&store, &wildcard).await, ["wigan-tea"], "% is matched literally");
    let underscore = GroupQuery { text: vec!["a_p".to_owned()], ..query() };
    assert_eq!(slugs(&store, &underscore).await, ["wigan-tea"], "_ is matched literally");
    let none = GroupQuery { text: vec!["x_y".to_owned()], ..query() };
    assert!(slugs(&store, &none).await.is_empty());
    // Wigan (53.551, -2.630) and Leigh (53.5, -2.5) are about 10 km apart.
    let near = |meters: f64| GroupQuery {
        near: Some(crate::Near { latitude: 53.55104, longitude: -2.63014, meters }),
        ..query()
    };
    assert_eq!(slugs(&store, &near(2_000.0)).await, ["wigan-tea"]);
    assert_eq!(slugs(&store, &near(12_000.0)).await, ["leigh-football", "wigan-tea"]);
    assert_eq!(store.count_groups(&near(2_000.0)).await.unwrap(), 1);
    let since = |t| GroupQuery { modified_after: Some(t), ..query() };
    assert_eq!(slugs(&store, &since(at(10))).await.len(), 2, "at or after");
    assert!(slugs(&store, &since(at(11))).await.is_empty());
    let local = GroupQuery { local_only: true, ..query() };
    assert_eq!(slugs(&store, &local).await.len(), 2, "no group here is imported");
}

pub async fn listing_pages_by_name_then_id(store: DynStore) {
    let p = person(&store, "Ada").await;
    let names = ["banana", "Apple", "cherry", "apple"];
    let mut groups = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let g = group(&format!("fruit-{i}"), &format!("{n} growers"));
        create(&store, &g, &p).await;
        groups.push(g);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_groups(&GroupQuery { limit: 3, after: after.clone(), ..query() }).await.unwrap();
        seen.extend(page.iter().map(|g| g.name.clone()));
        match page.last() {
            Some(last) if page.len() == 3 => after = Some((crate::sort_name(last), last.id)),
            _ => break,
        }
    }
    assert_eq!(seen, ["Apple growers", "apple growers", "banana growers", "cherry growers"]);
    // Numbered pages: an offset, and the count of all that the filters find.
    let page = store.list_groups(&GroupQuery { offset: 1, limit: 2, ..query() }).await.unwrap();
    let names: Vec<&str> = page.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["apple growers", "banana growers"]);
    assert_eq!(store.count_groups(&GroupQuery { offset: 1, limit: 2, ..query() }).await.unwrap(), 4);
    let words = GroupQuery { text: vec!["apple".to_owned()], ..query() };
    assert_eq!(store.count_groups(&words).await.unwrap(), 2);
    let past_the_end = store.list_groups(&GroupQuery { offset: 10, ..query() }).await.unwrap();
    assert!(past_the_end.is_empty());
}

pub async fn last_owner_cannot_be_removed_or_demoted(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("owned-group", "Owned");
    create(&store, &g, &p).await;
    let err = store
        .change_membership(&MembershipChange::Remove { group_id: g.id, person_id: p.id }, &audit("m", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LastOwner), "{err}");
    let demoted = Membership { role: Role::Organiser, ..owner(&g, &p) };
    let err = store.change_membership(&MembershipChange::Put(demoted), &audit("m", 2)).await.unwrap_err();
    assert!(matches!(err, StoreError::LastOwner), "{err}");
    assert_eq!(store.membership(g.id, p.id).await.unwrap(), Some(owner(&g, &p)));
    let q = person(&store, "Bea").await;
    store.change_membership(&MembershipChange::Put(owner(&g, &q)), &audit("m", 3)).await.unwrap();
    store
        .change_membership(&MembershipChange::Remove { group_id: g.id, person_id: p.id }, &audit("m", 4))
        .await
        .unwrap();
    assert_eq!(store.membership(g.id, p.id).await.unwrap(), None);
    let err = store
        .change_membership(&MembershipChange::Remove { group_id: g.id, person_id: p.id }, &audit("m", 5))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");
}

pub async fn concurrent_demotions_keep_an_owner(store: DynStore) {
    for round in 0..5 {
        let a = person(&store, "Ada").await;
        let b = person(&store, "Bea").await;
        let g = group(&format!("two-owners-{round}"), "Two owners");
        create(&store, &g, &a).await;
        store.change_membership(&MembershipChange::Put(owner(&g, &b)), &audit("m", 0)).await.unwrap();
        let demote = |p: &Person| MembershipChange::Put(Membership { role: Role::Member, ..owner(&g, p) });
        let (s1, s2) = (store.clone(), store.clone());
        let (c1, c2) = (demote(&a), demote(&b));
        let t1 = tokio::spawn(async move { s1.change_membership(&c1, &audit("m", 1)).await });
        let t2 = tokio::spawn(async move { s2.change_membership(&c2, &audit("m", 2)).await });
        let results = [t1.await.unwrap(), t2.await.unwrap()];
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "exactly one demotion wins: {results:?}");
        assert!(results.iter().any(|r| matches!(r, Err(StoreError::LastOwner))));
        let owners =
            store.list_members(g.id, None, 10).await.unwrap().into_iter().filter(|m| m.role == Role::Owner).count();
        assert_eq!(owners, 1);
    }
}

pub async fn memberships_count_and_page(store: DynStore) {
    let owner_p = person(&store, "Owner").await;
    let g = group("counted-group", "Counted");
    let other = group("other-group", "Other");
    create(&store, &g, &owner_p).await;
    create(&store, &other, &owner_p).await;
    let mut people = vec![owner_p.clone()];
    for i in 0..4 {
        let p = person(&store, &format!("Member {i}")).await;
        let status = if i == 3 { MembershipStatus::Pending } else { MembershipStatus::Active };
        let m = Membership { role: Role::Member, status, ..owner(&g, &p) };
        store.change_membership(&MembershipChange::Put(m), &audit("m", i)).await.unwrap();
        people.push(p);
    }
    let count = |id| {
        let store = store.clone();
        async move { store.group_by_id(id).await.unwrap().unwrap().member_count }
    };
    assert_eq!((count(g.id).await, count(other.id).await), (4, 1), "pending members are not counted");
    let first = store.list_members(g.id, None, 3).await.unwrap();
    let rest = store.list_members(g.id, Some(first[2].person_id), 3).await.unwrap();
    let mut all: Vec<_> = first.iter().chain(&rest).map(|m| m.person_id).collect();
    assert_eq!(all.len(), 5);
    let sorted = {
        let mut s = all.clone();
        s.sort();
        s
    };
    assert_eq!(all, sorted, "members are ordered by person id");
    all.dedup();
    assert_eq!(all.len(), 5);
    let mine = store.memberships_of_person(owner_p.id, &[g.id, other.id]).await.unwrap();
    assert_eq!(mine.len(), 2);
    let persons = store.persons_by_ids(&[people[1].id, people[2].id]).await.unwrap();
    assert_eq!(persons.len(), 2);
    store
        .change_membership(&MembershipChange::Remove { group_id: g.id, person_id: people[1].id }, &audit("m", 9))
        .await
        .unwrap();
    assert_eq!(count(g.id).await, 3, "leaving updates the count");
}

pub async fn api_keys_are_found_by_hash_and_revoked(store: DynStore) {
    let p = person(&store, "Ada").await;
    assert_eq!(store.count_operator_keys().await.unwrap(), 0);
    let key = ApiKey {
        id: ApiKeyId::new_v7(at(1)),
        person_id: p.id,
        name: "laptop".to_owned(),
        token_hash: vec![7; 32],
        scopes: Scopes::new([Scope::GroupsRead, Scope::Admin]),
        created_at: at(1),
        revoked_at: None,
    };
    store.create_api_key(&key, &audit("api_key.create", key.id)).await.unwrap();
    assert_eq!(store.api_key_by_hash(&[7; 32]).await.unwrap(), Some(key.clone()));
    assert_eq!(store.api_key_by_hash(&[8; 32]).await.unwrap(), None);
    assert_eq!(store.count_operator_keys().await.unwrap(), 1);
    let dup = ApiKey { id: ApiKeyId::new_v7(at(2)), ..key.clone() };
    assert!(matches!(
        store.create_api_key(&dup, &audit("api_key.create", dup.id)).await,
        Err(StoreError::Conflict { constraint: "token_hash" })
    ));
    // A row that refers to nothing (a person deleted meanwhile) is not found, on both stores.
    let orphan = ApiKey {
        id: ApiKeyId::new_v7(at(3)),
        person_id: PersonId::new_v7(at(3)),
        token_hash: vec![9; 32],
        ..key.clone()
    };
    let err = store.create_api_key(&orphan, &audit("api_key.create", orphan.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");
    assert_eq!(store.api_key_by_hash(&[9; 32]).await.unwrap(), None, "and nothing was written");
    let other = person(&store, "Bea").await;
    assert!(matches!(store.revoke_api_key(other.id, key.id, &audit("r", 1)).await, Err(StoreError::NotFound)));
    store.revoke_api_key(p.id, key.id, &audit("r", 2)).await.unwrap();
    let revoked = store.api_key_by_hash(&[7; 32]).await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(store.count_operator_keys().await.unwrap(), 0);
    assert!(matches!(store.revoke_api_key(p.id, key.id, &audit("r", 3)).await, Err(StoreError::NotFound)));
    assert_eq!(store.api_keys_of_person(p.id).await.unwrap().len(), 1);
}

pub async fn audit_entries_are_written_with_changes_and_listed_newest_first(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("audited-group", "Audited");
    create(&store, &g, &p).await;
    let all = store.list_audit(None, 100).await.unwrap();
    assert_eq!(all.len(), 2, "one entry for the person, one for the group");
    assert_eq!(all[0].action, "group.create");
    assert_eq!(all[0].target_id, g.id.to_string());
    assert!(all[0].detail.get("n").is_some());
    assert_eq!(all[1].action, "person.create");
    let older = store.list_audit(Some(all[0].id), 100).await.unwrap();
    assert_eq!(older, all[1..].to_vec());
    let failed = group("audited-group", "Duplicate");
    let _ = store.create_group(&failed, &owner(&failed, &p), None, &audit("group.create", failed.id)).await;
    assert_eq!(store.list_audit(None, 100).await.unwrap().len(), 2, "a failed change leaves no audit entry");
}

pub async fn empty_id_lists_return_nothing(store: DynStore) {
    assert!(store.groups_by_ids(&[]).await.unwrap().is_empty());
    assert!(store.persons_by_ids(&[]).await.unwrap().is_empty());
    assert!(store.memberships_of_person(PersonId::new_v7(at(0)), &[]).await.unwrap().is_empty());
    store.ping().await.unwrap();
}

pub async fn concurrent_bootstraps_create_one_operator(store: DynStore) {
    let attempt = |n: u8| {
        let store = store.clone();
        async move {
            let p = Person { id: PersonId::new_v7(at(0)), display_name: format!("Operator {n}"), created_at: at(0) };
            let key = ApiKey {
                id: ApiKeyId::new_v7(at(0)),
                person_id: p.id,
                name: "bootstrap".to_owned(),
                token_hash: vec![n; 32],
                scopes: Scopes::new([Scope::Admin, Scope::GroupsWrite]),
                created_at: at(0),
                revoked_at: None,
            };
            store.bootstrap_operator(&p, &key, &audit("person.create", p.id)).await.unwrap()
        }
    };
    let tasks: Vec<_> = (1..=4).map(|n| tokio::spawn(attempt(n))).collect();
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(created, 1, "exactly one bootstrap wins");
    assert_eq!(store.count_operator_keys().await.unwrap(), 1);
    assert!(!attempt(9).await, "later starts create nothing");
    assert_eq!(store.list_audit(None, 10).await.unwrap().len(), 1, "losers leave no audit entry");
}

fn identity(p: PersonId, issuer: &str, subject: &str) -> Identity {
    Identity {
        id: IdentityId::new_v7(at(1)),
        person_id: p,
        provider: "test".to_owned(),
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        created_at: at(1),
        last_login_at: at(1),
    }
}

pub async fn identities_are_keyed_by_issuer_and_subject(store: DynStore) {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let p = Person { id: PersonId::new_v7(at(i64::from(n))), display_name: "Ada".to_owned(), created_at: at(0) };
    let first = identity(p.id, "https://op.example", "sub-1");
    store.create_identity(Some(&p), &first, &audit("person.create", p.id)).await.unwrap();
    assert_eq!(store.persons_by_ids(&[p.id]).await.unwrap(), vec![p.clone()]);
    assert_eq!(store.identity_by_subject("https://op.example", "sub-1").await.unwrap(), Some(first.clone()));
    assert_eq!(store.identity_by_subject("https://other.example", "sub-1").await.unwrap(), None);
    // The same subject at the same issuer cannot be linked twice, to anyone.
    let q = person(&store, "Bea").await;
    let err = store
        .create_identity(None, &identity(q.id, "https://op.example", "sub-1"), &audit("identity.link", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { constraint: "identity" }), "{err}");
    let second = identity(p.id, "https://other.example", "sub-1");
    store.create_identity(None, &second, &audit("identity.link", 2)).await.unwrap();
    assert_eq!(store.identities_of_person(p.id).await.unwrap(), vec![first.clone(), second]);
    assert_eq!(store.assurance_of(p.id).await.unwrap(), None);
    let a = Assurance {
        level: AssuranceLevel::Medium,
        provider: "govuk".to_owned(),
        source: "vot=P2".to_owned(),
        asserted_at: at(30),
    };
    store.record_login(first.id, at(30), p.id, Some(&a)).await.unwrap();
    assert_eq!(store.assurance_of(p.id).await.unwrap(), Some(a.clone()));
    store.record_login(first.id, at(40), p.id, None).await.unwrap();
    assert_eq!(store.assurance_of(p.id).await.unwrap(), Some(a), "a login without a mapping keeps the last level");
    let found = store.identity_by_subject("https://op.example", "sub-1").await.unwrap().unwrap();
    assert_eq!(found.last_login_at, at(40));
}

fn login_state(hash: u8, expires: i64) -> LoginState {
    LoginState {
        flow_hash: vec![hash; 32],
        provider: "test".to_owned(),
        state: "state".to_owned(),
        nonce: "nonce".to_owned(),
        pkce_verifier: "verifier".to_owned(),
        link_person: None,
        return_to: Some("/api/v1/me".to_owned()),
        created_at: at(0),
        expires_at: at(expires),
    }
}

pub async fn login_states_are_taken_once(store: DynStore) {
    store.put_login_state(&login_state(1, 600), None).await.unwrap();
    store.put_login_state(&login_state(2, 5), None).await.unwrap();
    let taken = store.take_login_state(&[1; 32], at(10)).await.unwrap();
    assert_eq!(taken, Some(login_state(1, 600)));
    assert_eq!(store.take_login_state(&[1; 32], at(10)).await.unwrap(), None, "a flow is used at most once");
    assert_eq!(store.take_login_state(&[2; 32], at(10)).await.unwrap(), None, "expired flows are cleared");
}

pub async fn sessions_are_touched_and_deleted(store: DynStore) {
    let p = person(&store, "Ada").await;
    let s = Session {
        session_hash: vec![7; 32],
        person_id: p.id,
        provider: "test".to_owned(),
        id_token: Some("header.claims.signature".to_owned()),
        created_at: at(0),
        last_seen_at: at(0),
        idle_expires_at: at(1800),
        absolute_expires_at: at(43_200),
    };
    store.create_session(&s).await.unwrap();
    store.touch_session(&[7; 32], at(100), at(1900)).await.unwrap();
    // Starting a session later clears those that have gone idle.
    let later = Session { session_hash: vec![8; 32], created_at: at(1850), last_seen_at: at(1850), ..s.clone() };
    store.create_session(&Session { session_hash: vec![6; 32], ..s.clone() }).await.unwrap();
    store.create_session(&later).await.unwrap();
    assert_eq!(store.session_by_hash(&[6; 32]).await.unwrap(), None, "idle since at(1800)");
    let found = store.session_by_hash(&[7; 32]).await.unwrap().unwrap();
    assert_eq!((found.last_seen_at, found.idle_expires_at), (at(100), at(1900)));
    let deleted = store.delete_session(&[7; 32]).await.unwrap().unwrap();
    assert_eq!(deleted.id_token, s.id_token);
    assert_eq!(store.session_by_hash(&[7; 32]).await.unwrap(), None);
    assert_eq!(store.delete_session(&[7; 32]).await.unwrap(), None);
}

fn signing_key(kid: &str, created: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.to_owned(),
        purpose: "access-token".to_owned(),
        algorithm: "ES256".to_owned(),
        private_der: vec![1, 2, 3],
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        created_at: at(created),
        retired_at: None,
        publish_until: None,
    }
}

pub async fn one_first_signing_key_and_rotation_keeps_the_old_one_published(store: DynStore) {
    let racers: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.create_first_signing_key(&signing_key(&format!("k{i}"), 0)).await })
        })
        .collect();
    let mut created = 0;
    for r in racers {
        created += usize::from(r.await.unwrap().unwrap());
    }
    assert_eq!(created, 1, "replicas starting together create one key");
    let first = store.signing_keys("access-token").await.unwrap();
    assert_eq!(first.len(), 1);
    store.rotate_signing_key(&signing_key("k-new", 100), at(100), at(1000)).await.unwrap();
    let keys = store.signing_keys("access-token").await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!((keys[0].retired_at, keys[0].publish_until), (Some(at(100)), Some(at(1000))));
    assert_eq!(keys[1].kid, "k-new");
    assert_eq!(keys[1].retired_at, None);
    // A later rotation drops keys whose publication has ended.
    store.rotate_signing_key(&signing_key("k-newer", 2000), at(2000), at(3000)).await.unwrap();
    let kids: Vec<_> = store.signing_keys("access-token").await.unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, ["k-new", "k-newer"]);
    assert!(store.signing_keys("credential").await.unwrap().is_empty());
}

fn app(owner: PersonId, client_id: &str) -> App {
    App {
        id: AppId::new_v7(at(3)),
        client_id: client_id.to_owned(),
        owner,
        name: "Matcher".to_owned(),
        description: "Matches cooks and diners".to_owned(),
        homepage: Some("https://example.org".to_owned()),
        redirect_uris: vec!["https://example.org/cb".to_owned()],
        requested_scopes: Scopes::new([Scope::GroupsRead, Scope::AttestationsVerify]),
        granted_scopes: Scopes::new([Scope::GroupsRead]),
        secret_hash: vec![9; 32],
        secret_created_at: at(3),
        status: AppStatus::Active,
        created_at: at(3),
        updated_at: at(3),
    }
}

pub async fn apps_round_trip_and_update(store: DynStore) {
    let p = person(&store, "Ada").await;
    let a = app(p.id, "app_one");
    store.create_app(&a, &audit("app.create", a.id)).await.unwrap();
    assert_eq!(store.app_by_id(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.app_by_client_id("app_one").await.unwrap(), Some(a.clone()));
    let dup = App { id: AppId::new_v7(at(4)), ..a.clone() };
    let err = store.create_app(&dup, &audit("app.create", dup.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { constraint: "client_id" }), "{err}");
    let changed = App {
        granted_scopes: a.requested_scopes.clone(),
        status: AppStatus::Revoked,
        secret_hash: vec![8; 32],
        updated_at: at(50),
        ..a.clone()
    };
    store.update_app(&changed, &audit("app.revoke", a.id)).await.unwrap();
    assert_eq!(store.apps_of_person(p.id).await.unwrap(), vec![changed.clone()]);
    let b = app(p.id, "app_two");
    let b = App { id: AppId::new_v7(at(5)), ..b };
    store.create_app(&b, &audit("app.create", b.id)).await.unwrap();
    assert_eq!(store.list_apps(None, 1).await.unwrap(), vec![changed.clone()]);
    assert_eq!(store.list_apps(Some(a.id), 10).await.unwrap(), vec![b]);
    let ghost = App { id: AppId::new_v7(at(6)), ..changed };
    assert!(matches!(store.update_app(&ghost, &audit("x", 1)).await.unwrap_err(), StoreError::NotFound));
}

pub async fn grants_keep_one_per_app_and_person_and_tokens_are_used_once(store: DynStore) {
    use crate::{AppToken, AppTokenKind, TokenUse};
    use scaffold_domain::identity::AppGrant;
    use scaffold_domain::{GrantId, Scope, Scopes};
    let owner = person(&store, "Ada").await;
    let bea = person(&store, "Bea").await;
    let a = app(owner.id, "app_grants");
    store.create_app(&a, &audit("app.create", a.id)).await.unwrap();
    let grant = AppGrant {
        id: GrantId::new_v7(at(1)),
        app_id: a.id,
        person_id: bea.id,
        scopes: Scopes::new([Scope::Profile]),
        created_at: at(1),
        updated_at: at(1),
    };
    let token = |hash: &[u8], kind, expires| AppToken {
        token_hash: hash.to_vec(),
        grant_id: grant.id,
        kind,
        scopes: Scopes::new([Scope::Profile]),
        redirect_uri: Some("https://app.example/cb".into()),
        code_challenge: Some("challenge".into()),
        expires_at: at(expires),
    };
    let stored = store.put_grant(&grant, &token(b"code-1", AppTokenKind::Code, 60), &audit("grant", 1)).await.unwrap();
    assert_eq!(stored, grant);
    // Asking again replaces the scopes and keeps the grant's id.
    let wider = AppGrant {
        id: GrantId::new_v7(at(2)),
        scopes: Scopes::new([Scope::Profile, Scope::AttestationsHold]),
        updated_at: at(2),
        ..grant.clone()
    };
    let stored = store.put_grant(&wider, &token(b"code-2", AppTokenKind::Code, 60), &audit("grant", 2)).await.unwrap();
    assert_eq!((stored.id, stored.created_at, stored.scopes.clone()), (grant.id, at(1), wider.scopes.clone()));
    assert_eq!(store.grants_of_person(bea.id).await.unwrap(), vec![stored.clone()]);
    assert_eq!(store.grant_by_id(grant.id).await.unwrap(), Some(stored));

    // A code is used once; its refresh token is stored in the same step; an expired one is not used.
    let refresh = token(b"refresh-1", AppTokenKind::Refresh, 1000);
    // A use the caller refuses changes nothing: the code stays usable.
    let refuse = |_: &AppToken, _: &AppGrant| None;
    assert_eq!(
        store.use_app_token(b"code-2", at(10), &audit("grant.reuse", 9), &refuse).await.unwrap(),
        TokenUse::Refused
    );
    let then = move |_: &AppToken, _: &AppGrant| Some(refresh.clone());
    match store.use_app_token(b"code-2", at(10), &audit("grant.reuse", 9), &then).await.unwrap() {
        TokenUse::Used(t, g) => {
            assert_eq!((t.kind, t.redirect_uri.as_deref()), (AppTokenKind::Code, Some("https://app.example/cb")));
            assert_eq!(g.id, grant.id);
        }
        other => panic!("{other:?}"),
    }
    let nothing = |_: &AppToken, _: &AppGrant| None;
    assert_eq!(
        store.use_app_token(b"nothing", at(10), &audit("grant.reuse", 9), &nothing).await.unwrap(),
        TokenUse::Unknown
    );
    assert_eq!(
        store.use_app_token(b"code-1", at(100), &audit("grant.reuse", 9), &nothing).await.unwrap(),
        TokenUse::Expired
    );
    let next = token(b"refresh-2", AppTokenKind::Refresh, 2000);
    let then = move |_: &AppToken, _: &AppGrant| Some(next.clone());
    assert!(matches!(
        store.use_app_token(b"refresh-1", at(20), &audit("grant.reuse", 9), &then).await.unwrap(),
        TokenUse::Used(..)
    ));
    // A rotated refresh token used again: the grant goes, with every token under it.
    assert_eq!(
        store.use_app_token(b"refresh-1", at(30), &audit("grant.reuse", 9), &nothing).await.unwrap(),
        TokenUse::Reused
    );
    assert_eq!(store.grant_by_id(grant.id).await.unwrap(), None);
    assert_eq!(
        store.use_app_token(b"refresh-2", at(30), &audit("grant.reuse", 9), &nothing).await.unwrap(),
        TokenUse::Unknown
    );

    // Deleting: only the person's own grant.
    let again = store.put_grant(&grant, &token(b"code-3", AppTokenKind::Code, 60), &audit("grant", 3)).await.unwrap();
    let err = store.delete_grant(again.id, owner.id, &audit("grant.revoke", 4)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    store.delete_grant(again.id, bea.id, &audit("grant.revoke", 5)).await.unwrap();
    assert!(store.grants_of_person(bea.id).await.unwrap().is_empty());
    assert_eq!(
        store.use_app_token(b"code-3", at(10), &audit("grant.reuse", 9), &nothing).await.unwrap(),
        TokenUse::Unknown
    );
}

pub async fn rate_limit_counts_per_bucket_and_window(store: DynStore) {
    assert_eq!(store.add_rate_limit_hits("ip:192.0.2.1", at(0), 1).await.unwrap(), 1);
    assert_eq!(store.add_rate_limit_hits("ip:192.0.2.1", at(0), 5).await.unwrap(), 6);
    assert_eq!(store.add_rate_limit_hits("app:one", at(0), 1).await.unwrap(), 1);
    assert_eq!(store.add_rate_limit_hits("ip:192.0.2.1", at(60), 2).await.unwrap(), 2, "a new window starts afresh");
    let hits: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.add_rate_limit_hits("app:busy", at(60), 3).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for h in hits {
        seen.push(h.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=10).map(|n| n * 3).collect::<Vec<u64>>(), "concurrent additions are each counted once");
}

pub async fn deleting_a_person_pseudonymises_the_audit_and_keeps_an_owner(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("only-owner", "Only owner");
    create(&store, &g, &p).await;
    let id = identity(p.id, "https://op.example", "gone");
    store.create_identity(None, &id, &AuditEntry { actor: Some(p.id), ..audit("identity.link", 1) }).await.unwrap();
    let pseudonym = PersonId::new_v7(at(99));
    let err = store.delete_person(p.id, pseudonym, &audit("person.delete", pseudonym)).await.unwrap_err();
    assert!(matches!(err, StoreError::LastOwner), "{err}");
    assert_eq!(store.persons_by_ids(&[p.id]).await.unwrap().len(), 1, "nothing was deleted");
    let q = person(&store, "Bea").await;
    store.change_membership(&MembershipChange::Put(owner(&g, &q)), &audit("m", 1)).await.unwrap();
    let g2 = group("second-group", "Second");
    create(&store, &g2, &p).await;
    let (first, second) = if g.id < g2.id { (&g, &g2) } else { (&g2, &g) };
    assert_eq!(store.memberships_page_of(p.id, None, 1).await.unwrap(), vec![owner(first, &p)]);
    assert_eq!(store.memberships_page_of(p.id, Some(first.id), 10).await.unwrap(), vec![owner(second, &p)]);
    store.change_membership(&MembershipChange::Put(owner(&g2, &q)), &audit("m", 2)).await.unwrap();
    store.create_app(&app(p.id, "app_gone"), &audit("app.create", 1)).await.unwrap();
    store.delete_person(p.id, pseudonym, &audit("person.delete", pseudonym)).await.unwrap();
    assert!(store.persons_by_ids(&[p.id]).await.unwrap().is_empty());
    assert_eq!(store.identity_by_subject("https://op.example", "gone").await.unwrap(), None);
    assert!(store.apps_of_person(p.id).await.unwrap().is_empty());
    assert_eq!(store.membership(g.id, p.id).await.unwrap(), None);
    assert_eq!(store.group_by_id(g.id).await.unwrap().unwrap().member_count, 1);
    let log = store.list_audit(None, 100).await.unwrap();
    assert!(log.iter().all(|e| e.actor != Some(p.id) && e.target_id != p.id.to_string()));
    assert!(log.iter().any(|e| e.actor == Some(pseudonym) && e.action == "identity.link"));
    assert!(log.iter().any(|e| e.target_id == pseudonym.to_string() && e.action == "person.create"));
}

/// The listing the service would write for `e` with `overrides`, at the suite's time.
fn listing(
    e: &scaffold_domain::event::Event,
    overrides: &[scaffold_domain::event::OccurrenceOverride],
) -> scaffold_domain::event::Listing {
    e.listing(overrides, at(0)).unwrap()
}

pub fn event(group: GroupId, title: &str, start: &str) -> scaffold_domain::event::Event {
    use scaffold_domain::event::{AccessibilityFeature, BookingMode, EventDraft, PlaceInput};
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let end = chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M").unwrap() + Duration::hours(2);
    EventDraft {
        title: title.to_owned(),
        summary: "Help with phones and tablets".to_owned(),
        description: Some("Bring your **charger**.".to_owned()),
        start: start.to_owned(),
        end: end.format("%Y-%m-%dT%H:%M").to_string(),
        place: Some(PlaceInput {
            name: "Wigan Library".to_owned(),
            address: Some("The Wiend, Wigan".to_owned()),
            postcode: Some("WN1 1NU".to_owned()),
            ..PlaceInput::default()
        }),
        online_url: Some("https://example.org/join".to_owned()),
        accessibility: vec![AccessibilityFeature::StepFree, AccessibilityFeature::HearingLoop],
        accessibility_notes: Some("Lift to the first floor".to_owned()),
        capacity: Some(12),
        booking: Some(BookingMode::Rsvp),
        price_pence: Some(250),
        concessions: Some("Free for carers".to_owned()),
        min_age: Some(16),
        categories: vec![Category::DigitalInclusion],
        rrule: Some("FREQ=WEEKLY;BYDAY=TU".to_owned()),
        exdates: vec!["2026-04-14T10:00".to_owned()],
        ..EventDraft::default()
    }
    .validate(scaffold_domain::EventId::new_v7(at(i64::from(n))), group, at(0))
    .unwrap()
}

pub async fn events_round_trip_page_and_check_versions(store: DynStore) {
    let p = person(&store, "Ada").await;
    let g = group("events-group", "Events");
    create(&store, &g, &p).await;
    let a = event(g.id, "Tea party", "2026-04-07T10:00");
    let b = event(g.id, "Later", "2026-05-05T10:00");
    let c = event(g.id, "Earlier", "2026-03-03T10:00");
    for e in [&a, &b, &c] {
        store.create_event(e, &listing(e, &[]), &audit("event.create", e.id)).await.unwrap();
    }
    assert_eq!(store.event_by_id(a.id).await.unwrap(), Some(a.clone()), "every field round-trips");
    let page = store.events_of_group(g.id, None, 2).await.unwrap();
    assert_eq!(page.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), ["Earlier", "Tea party"]);
    let last = page.last().unwrap();
    let rest = store.events_of_group(g.id, Some((last.start_instant(), last.id)), 10).await.unwrap();
    assert_eq!(rest, vec![b.clone()]);
    let other = group("other-events", "Other");
    create(&store, &other, &p).await;
    let d = event(other.id, "Elsewhere", "2026-01-06T10:00");
    store.create_event(&d, &listing(&d, &[]), &audit("event.create", d.id)).await.unwrap();
    let firsts = store.first_events_of_groups(&[g.id, other.id], 1).await.unwrap();
    assert_eq!(firsts.len(), 2);
    assert!(firsts.contains(&c) && firsts.contains(&d), "the first of each group");
    assert!(store.first_events_of_groups(&[], 5).await.unwrap().is_empty());
    let mut by_ids = store.events_by_ids(&[d.id, a.id, scaffold_domain::EventId::new_v7(at(7))]).await.unwrap();
    by_ids.sort_by_key(|e| e.id);
    let mut expected = vec![a.clone(), d.clone()];
    expected.sort_by_key(|e| e.id);
    assert_eq!(by_ids, expected, "known ids, every field, unknown ones left out");
    assert!(store.events_by_ids(&[]).await.unwrap().is_empty());
    let changed = scaffold_domain::event::Event { title: "Tea party (new room)".to_owned(), version: 2, ..a.clone() };
    store.update_event(&changed, 1, &listing(&changed, &[]), &audit("event.update", a.id)).await.unwrap();
    let err = store.update_event(&changed, 1, &listing(&changed, &[]), &audit("event.update", a.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionMismatch), "{err}");
    let ghost = event(g.id, "Ghost", "2026-04-07T10:00");
    assert!(matches!(
        store.update_event(&ghost, 1, &listing(&ghost, &[]), &audit("x", 1)).await.unwrap_err(),
        StoreError::NotFound
    ));
    assert_eq!(store.event_by_id(a.id).await.unwrap(), Some(changed));

    // Changes to single occurrences: set, replace, list, remove.
    use scaffold_domain::event::{EventStatus, OverrideDraft, PlaceInput};
    let cancel = OverrideDraft {
        status: Some(EventStatus::Cancelled),
        reason: Some("Closed".to_owned()),
        ..OverrideDraft::default()
    }
    .validate(&a, "2026-04-21T10:00")
    .unwrap();
    let elsewhere = OverrideDraft {
        start: Some("2026-04-29T14:00".to_owned()),
        end: Some("2026-04-29T15:30".to_owned()),
        place: Some(PlaceInput {
            name: "Town Hall".to_owned(),
            postcode: Some("WN1 1YN".to_owned()),
            ..PlaceInput::default()
        }),
        ..OverrideDraft::default()
    }
    .validate(&a, "2026-04-28T10:00")
    .unwrap();
    let before = store.event_by_id(a.id).await.unwrap().unwrap().version;
    store
        .put_override(
            a.id,
            before,
            &elsewhere,
            at(5),
            &listing(&a, std::slice::from_ref(&elsewhere)),
            &audit("occurrence.set", a.id),
        )
        .await
        .unwrap();
    store
        .put_override(
            a.id,
            before + 1,
            &cancel,
            at(6),
            &listing(&a, &[cancel.clone(), elsewhere.clone()]),
            &audit("occurrence.set", a.id),
        )
        .await
        .unwrap();
    assert_eq!(store.overrides_of(a.id).await.unwrap(), vec![cancel.clone(), elsewhere.clone()]);
    let uncancelled = scaffold_domain::event::OccurrenceOverride { status: EventStatus::Postponed, ..cancel.clone() };
    store
        .put_override(
            a.id,
            before + 2,
            &uncancelled,
            at(7),
            &listing(&a, &[uncancelled.clone(), elsewhere.clone()]),
            &audit("occurrence.set", a.id),
        )
        .await
        .unwrap();
    assert_eq!(store.overrides_of(a.id).await.unwrap()[0], uncancelled, "set replaces");
    // A listing made from an older series is refused: the change waits for a fresh read.
    let stale = store
        .delete_override(
            a.id,
            before + 2,
            elsewhere.local_start,
            at(8),
            &listing(&a, std::slice::from_ref(&uncancelled)),
            &audit("occurrence.clear", a.id),
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::VersionMismatch), "{stale}");
    assert_eq!(store.overrides_of(a.id).await.unwrap().len(), 2, "nothing changed");
    store
        .delete_override(
            a.id,
            before + 3,
            elsewhere.local_start,
            at(8),
            &listing(&a, std::slice::from_ref(&uncancelled)),
            &audit("occurrence.clear", a.id),
        )
        .await
        .unwrap();
    let err = store
        .delete_override(
            a.id,
            before + 4,
            elsewhere.local_start,
            at(8),
            &listing(&a, std::slice::from_ref(&uncancelled)),
            &audit("occurrence.clear", a.id),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");
    assert_eq!(store.overrides_of(a.id).await.unwrap(), vec![uncancelled]);
    // Each change to one occurrence (four above; the refused removal is not one) moves the series
    // on: calendars see a new SEQUENCE and DTSTAMP.
    let series = store.event_by_id(a.id).await.unwrap().unwrap();
    assert_eq!((series.version, series.updated_at), (before + 4, at(8)));
}

/// An event whose place moves to another area (Wigan to London) is found around its new place and
/// no longer around the old one: the listing's cells move with it.
pub async fn a_series_that_moves_is_found_in_its_new_area_only(store: DynStore) {
    use crate::OccurrenceQuery;
    let p = person(&store, "Ada").await;
    let g = group("moving-group", "Moving");
    create(&store, &g, &p).await;
    let e = event(g.id, "Tea party", "2026-04-07T10:00");
    store.create_event(&e, &listing(&e, &[]), &audit("event.create", e.id)).await.unwrap();
    let around = |area: scaffold_domain::event_search::Area| OccurrenceQuery {
        from: at(0),
        to: at(0) + Duration::days(30),
        area: Some(area),
        limit: 100,
        ..OccurrenceQuery::default()
    };
    let wigan = scaffold_domain::event_search::Area { lat: 53.55, lon: -2.65, radius_km: 15.0 };
    let london = scaffold_domain::event_search::Area { lat: 51.5, lon: -0.1, radius_km: 12.0 };
    assert_eq!(store.search_occurrences(&around(wigan)).await.unwrap().len(), 2, "7 and 21 April");
    assert!(store.search_occurrences(&around(london)).await.unwrap().is_empty());
    let mut moved = e.clone();
    moved.place = Some(scaffold_domain::event::Place {
        name: "Somerset House".to_owned(),
        address: None,
        postcode: Some("WC2R 1LA".to_owned()),
        outcode: scaffold_domain::Outcode::parse("/place/postcode", "WC2R").ok(),
        latitude: Some(51.5111),
        longitude: Some(-0.1174),
    });
    moved.version = e.version + 1;
    moved.updated_at = at(5);
    store.update_event(&moved, e.version, &listing(&moved, &[]), &audit("event.update", e.id)).await.unwrap();
    assert_eq!(store.search_occurrences(&around(london)).await.unwrap().len(), 2, "found where it is now");
    assert!(store.search_occurrences(&around(wigan)).await.unwrap().is_empty(), "and no longer where it was");
}

/// Events scattered round Wigan (some on cell edges): an area search returns exactly the
/// occurrences within the circle, by start, whichever way the store reads it (fine cells, whole
/// degrees, or no cells for the largest circles), and keyset pages across cells lose nothing.
pub async fn area_search_finds_exactly_the_circle_at_every_size_and_pages_across_cells(store: DynStore) {
    use crate::OccurrenceQuery;
    use scaffold_domain::event_search::Area;
    let p = person(&store, "Ada").await;
    let g = group("scattered", "Scattered");
    create(&store, &g, &p).await;
    let centre = (53.5448, -2.6318);
    // Deterministic scatter out to about 90 km, and points on cell edges near the centre.
    let mut points: Vec<(f64, f64)> = (0..48u32)
        .map(|i| {
            let angle = f64::from(i) * 2.399_963;
            let reach = 0.8 * (f64::from(i % 12) + 0.5) / 12.0 * if i % 3 == 0 { 1.0 } else { 0.15 };
            (centre.0 + reach * angle.sin(), centre.1 + 1.6 * reach * angle.cos())
        })
        .collect();
    points.extend([(53.5, -2.6318), (53.6, -2.6), (53.5448, -2.7), (53.0, -3.0), (54.0, -2.0)]);
    for (n, (lat, lon)) in points.iter().enumerate() {
        let mut e = event(g.id, &format!("Point {n}"), &format!("2026-04-{:02}T{:02}:00", 6 + n % 7, 8 + n % 10));
        e.recurrence = None;
        e.place = Some(scaffold_domain::event::Place {
            name: format!("Hall {n}"),
            address: None,
            postcode: None,
            outcode: None,
            latitude: Some(*lat),
            longitude: Some(*lon),
        });
        store.create_event(&e, &listing(&e, &[]), &audit("event.create", e.id)).await.unwrap();
    }
    let window =
        OccurrenceQuery { from: at(0), to: at(0) + Duration::days(30), limit: 1000, ..OccurrenceQuery::default() };
    let everything = store.search_occurrences(&window).await.unwrap();
    assert_eq!(everything.len(), points.len());
    let key = |(e, o): &(scaffold_domain::event::Event, scaffold_domain::event::ListedOccurrence)| {
        (o.start, e.id, o.local_start)
    };
    for radius_km in [0.5, 3.0, 5.0, 9.0, 20.0, 40.0, 150.0] {
        let area = Area { lat: centre.0, lon: centre.1, radius_km };
        let expected: Vec<_> = everything
            .iter()
            .filter(|(_, o)| area.distance_km(o.latitude.unwrap(), o.longitude.unwrap()) <= radius_km)
            .map(key)
            .collect();
        let q = OccurrenceQuery { area: Some(area), ..window.clone() };
        let found: Vec<_> = store.search_occurrences(&q).await.unwrap().iter().map(key).collect();
        assert_eq!(found, expected, "{radius_km} km ({:?})", crate::area::cover(&area).cells);
        // Pages of three, each from the last one's position, give the same list.
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = store.search_occurrences(&OccurrenceQuery { limit: 3, after, ..q.clone() }).await.unwrap();
            paged.extend(page.iter().map(key));
            match page.last() {
                Some(last) if page.len() == 3 => after = Some(key(last)),
                _ => break,
            }
        }
        assert_eq!(paged, expected, "{radius_km} km in pages of three");
    }
}

/// Group, membership and event writes move the content clock on; reads do not.
pub async fn the_content_clock_moves_with_every_write_the_public_can_see(store: DynStore) {
    let start = store.content_clock().await.unwrap();
    let p = person(&store, "Ada").await;
    let g = group("clocked", "Clocked");
    create(&store, &g, &p).await;
    let after_group = store.content_clock().await.unwrap();
    assert!(after_group > start, "{start} -> {after_group}");
    let _ = store.group_by_slug("clocked").await.unwrap();
    assert_eq!(store.content_clock().await.unwrap(), after_group, "a read leaves it");
    let e = event(g.id, "Tea party", "2026-04-07T10:00");
    store.create_event(&e, &listing(&e, &[]), &audit("event.create", e.id)).await.unwrap();
    assert!(store.content_clock().await.unwrap() > after_group);
}

/// One replica holds a job's lease until it ends; the holder may renew it; another takes it after.
pub async fn a_job_lease_is_held_by_one_replica_until_it_ends(store: DynStore) {
    let hour = Duration::hours(1);
    assert!(store.take_job_lease("listings", "a", at(0), at(0) + hour).await.unwrap());
    assert!(!store.take_job_lease("listings", "b", at(10), at(10) + hour).await.unwrap(), "held by a");
    assert!(store.take_job_lease("other", "b", at(10), at(10) + hour).await.unwrap(), "per job");
    assert!(store.take_job_lease("listings", "a", at(20), at(20) + hour).await.unwrap(), "a renews");
    let later = at(20) + hour;
    assert!(store.take_job_lease("listings", "b", later, later + hour).await.unwrap(), "ended: b takes it");
    assert!(!store.take_job_lease("listings", "a", later, later + hour).await.unwrap());
    // Replicas racing for it: exactly one wins.
    let next = later + hour;
    let tries = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(
            async move { store.take_job_lease("listings", &format!("r{i}"), next, next + hour).await.unwrap() },
        )
    });
    let mut won = 0;
    for t in tries {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

pub async fn concurrent_replies_never_overbook_and_the_waitlist_is_promoted(store: DynStore) {
    use scaffold_domain::rsvp::{Rsvp, RsvpResponse, RsvpState, allocate};
    let owner = person(&store, "Ada").await;
    let g = group("rsvp-group", "Replies");
    create(&store, &g, &owner).await;
    let e = event(g.id, "Tea party", "2026-04-07T10:00");
    store.create_event(&e, &listing(&e, &[]), &audit("event.create", e.id)).await.unwrap();
    let occurrence = e.start;
    let mut people = Vec::new();
    for i in 0..8 {
        people.push(person(&store, &format!("Guest {i}")).await);
    }
    let reply = |p: PersonId, response: RsvpResponse, n: i64| Rsvp {
        event_id: e.id,
        occurrence,
        person_id: p,
        response,
        party_size: 1,
        state: RsvpState::NotAttending,
        waitlisted_at: None,
        created_at: at(n),
        updated_at: at(n),
        checked_in_at: None,
        from_series: false,
    };
    let tasks: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let store = store.clone();
            let r = reply(p.id, RsvpResponse::Going, i64::try_from(i).unwrap());
            tokio::spawn(async move {
                let (event_id, occurrence) = (r.event_id, r.occurrence);
                let decide = move |_, current: &[Rsvp], _: &[_]| allocate(Some(3), current, r.clone(), at(100));
                let keep = crate::SeriesChange::Keep;
                store.change_rsvps(event_id, &[occurrence], keep, &decide, &audit("rsvp.set", 1)).await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let all = store.rsvps_of(e.id, occurrence).await.unwrap();
    let count = |s: RsvpState, list: &[Rsvp]| list.iter().filter(|r| r.state == s).count();
    assert_eq!((count(RsvpState::Confirmed, &all), count(RsvpState::Waitlisted, &all)), (3, 5), "{all:?}");
    assert_eq!(store.max_confirmed_seats(e.id).await.unwrap(), 3);
    assert_eq!(store.occurrences_with_waitlist(e.id).await.unwrap(), vec![occurrence]);
    // The first three listed are the confirmed ones, then the queue in order.
    assert!(all[..3].iter().all(|r| r.state == RsvpState::Confirmed));
    let head = all[3].person_id;
    // A confirmed guest declines: the head of the queue is promoted in the same transaction.
    let leaving = reply(all[0].person_id, RsvpResponse::Declined, 50);
    let decide = move |_, current: &[Rsvp], _: &[_]| allocate(Some(3), current, leaving.clone(), at(200));
    let keep = crate::SeriesChange::Keep;
    let changed = store.change_rsvps(e.id, &[occurrence], keep, &decide, &audit("rsvp.set", 2)).await.unwrap();
    assert_eq!(changed.len(), 2);
    assert_eq!((changed[1].person_id, changed[1].state), (head, RsvpState::Confirmed));
    let all = store.rsvps_of(e.id, occurrence).await.unwrap();
    assert_eq!(count(RsvpState::Confirmed, &all), 3);
    store.check_in(e.id, occurrence, head, at(300), &audit("rsvp.check_in", 3)).await.unwrap();
    let waiting = all.iter().find(|r| r.state == RsvpState::Waitlisted).unwrap().person_id;
    let err = store.check_in(e.id, occurrence, waiting, at(300), &audit("rsvp.check_in", 4)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "only confirmed replies check in");
    let all = store.rsvps_of(e.id, occurrence).await.unwrap();
    assert_eq!(all.iter().find(|r| r.person_id == head).unwrap().checked_in_at, Some(at(300)));
}

pub async fn series_replies_are_written_with_their_dates_and_undone(store: DynStore) {
    use crate::SeriesChange;
    use scaffold_domain::rsvp::{Rsvp, RsvpResponse, RsvpState, SeriesRsvp, allocate};
    let owner = person(&store, "Ada").await;
    let guest = person(&store, "Bea").await;
    let g = group("series-group", "Series");
    create(&store, &g, &owner).await;
    let e = event(g.id, "Weekly tea", "2026-04-07T10:00");
    store.create_event(&e, &listing(&e, &[]), &audit("event.create", e.id)).await.unwrap();
    let dates: Vec<chrono::NaiveDateTime> = (0..3).map(|w| e.start + Duration::weeks(w)).collect();
    let standing = SeriesRsvp {
        event_id: e.id,
        person_id: guest.id,
        response: RsvpResponse::Going,
        party_size: 2,
        created_at: at(1),
        updated_at: at(1),
    };
    let reply = move |occurrence, response| Rsvp {
        event_id: e.id,
        occurrence,
        person_id: guest.id,
        response,
        party_size: 2,
        state: RsvpState::NotAttending,
        waitlisted_at: None,
        created_at: at(1),
        updated_at: at(1),
        checked_in_at: None,
        from_series: true,
    };
    let decide = move |o, current: &[Rsvp], standing: &[SeriesRsvp]| {
        assert_eq!(standing.len(), 1, "the standing reply, as just set, under the lock");
        allocate(Some(3), current, reply(o, RsvpResponse::Going), at(1))
    };
    let put = SeriesChange::Put(&standing);
    let written = store.change_rsvps(e.id, &dates, put, &decide, &audit("rsvp.series_set", 1)).await.unwrap();
    assert_eq!(written.len(), 3);
    assert!(written.iter().all(|r| r.from_series && r.state == RsvpState::Confirmed), "{written:?}");
    assert_eq!(store.series_rsvps_of(e.id).await.unwrap(), vec![standing.clone()]);
    assert_eq!(store.series_rsvps_of_person(guest.id).await.unwrap(), vec![standing.clone()]);
    let mine = store.rsvps_of_person(guest.id, dates[1], 10).await.unwrap();
    assert_eq!(mine.iter().map(|r| r.occurrence).collect::<Vec<_>>(), dates[1..].to_vec(), "from the given date on");
    assert!(mine.iter().all(|r| r.from_series && r.party_size == 2));
    // Setting it again replaces it and keeps one row per date.
    let again = SeriesRsvp { party_size: 1, updated_at: at(2), ..standing.clone() };
    let put = SeriesChange::Put(&again);
    store.change_rsvps(e.id, &dates, put, &decide, &audit("rsvp.series_set", 2)).await.unwrap();
    assert_eq!(store.series_rsvps_of(e.id).await.unwrap(), vec![again]);
    assert_eq!(store.rsvps_of_person(guest.id, dates[0], 10).await.unwrap().len(), 3);
    // Removing it: the rows written with it go in the same transaction.
    let decline = move |o, current: &[Rsvp], _: &[SeriesRsvp]| {
        allocate(Some(3), current, reply(o, RsvpResponse::Declined), at(3))
    };
    let remove = SeriesChange::Remove(guest.id);
    store.change_rsvps(e.id, &dates, remove, &decline, &audit("rsvp.series_undo", 3)).await.unwrap();
    assert!(store.series_rsvps_of(e.id).await.unwrap().is_empty());
    let mine = store.rsvps_of_person(guest.id, dates[0], 10).await.unwrap();
    assert!(mine.iter().all(|r| r.state == RsvpState::NotAttending), "{mine:?}");
    let remove = SeriesChange::Remove(guest.id);
    let err = store.change_rsvps(e.id, &dates, remove, &decline, &audit("rsvp.series_undo", 4)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "nothing to remove: {err:?}");
    // Calendar feeds: one secret per person, found by its hash, replaced, then removed.
    assert_eq!(store.calendar_feed_made(guest.id).await.unwrap(), None);
    assert!(!store.set_calendar_feed(guest.id, Some(b"first"), at(5), &audit("feed", 5)).await.unwrap());
    assert_eq!(store.calendar_feed_owner(b"first").await.unwrap(), Some(guest.id));
    assert!(store.set_calendar_feed(guest.id, Some(b"second"), at(6), &audit("feed", 6)).await.unwrap());
    assert_eq!(store.calendar_feed_owner(b"first").await.unwrap(), None, "the old secret stops working");
    assert_eq!(store.calendar_feed_made(guest.id).await.unwrap(), Some(at(6)));
    assert!(store.set_calendar_feed(guest.id, None, at(7), &audit("feed", 7)).await.unwrap());
    assert_eq!(store.calendar_feed_owner(b"second").await.unwrap(), None);
}

pub async fn listings_drive_search_and_the_feeds(store: DynStore) {
    use crate::{OccurrenceQuery, SessionFeedItem};
    use scaffold_domain::activity::Activity;
    use scaffold_domain::event::{EventStatus, OverrideDraft};
    let p = person(&store, "Ada").await;
    let g = group("listed-group", "Listed");
    create(&store, &g, &p).await;
    let mut hidden = group("hidden-group", "Hidden");
    hidden.visibility = Visibility::Private;
    create(&store, &hidden, &p).await;
    let mut walk = event(g.id, "Tea party walk", "2026-04-07T10:00");
    walk.activities = vec![Activity::find("Walking").unwrap()];
    let mut plain = event(g.id, "Coffee morning", "2026-04-08T10:00");
    plain.recurrence = None;
    let secret = event(hidden.id, "Committee", "2026-04-07T18:00");
    for e in [&walk, &plain, &secret] {
        store.create_event(e, &listing(e, &[]), &audit("event.create", e.id)).await.unwrap();
    }
    // Around WN1; the first four weeks (the walk skips 14 April).
    let base = OccurrenceQuery {
        from: at(0),
        to: at(0) + Duration::days(30),
        area: Some(scaffold_domain::event_search::Area { lat: 53.55, lon: -2.65, radius_km: 15.0 }),
        limit: 100,
        ..OccurrenceQuery::default()
    };
    let titles = |found: &[(scaffold_domain::event::Event, scaffold_domain::event::ListedOccurrence)]| {
        found.iter().map(|(e, o)| format!("{} {}", e.title, o.local_start.format("%m-%d"))).collect::<Vec<_>>()
    };
    let found = store.search_occurrences(&base).await.unwrap();
    assert_eq!(
        titles(&found),
        ["Tea party walk 04-07", "Coffee morning 04-08", "Tea party walk 04-21"],
        "by start; the excluded week is not listed; the private group's event is hidden"
    );
    let member = OccurrenceQuery { viewer: Some(p.id), ..base.clone() };
    assert_eq!(store.search_occurrences(&member).await.unwrap().len(), 6, "members see their private group's events");
    let first = OccurrenceQuery { limit: 1, ..base.clone() };
    let page = store.search_occurrences(&first).await.unwrap();
    let (e, o) = &page[0];
    let next = OccurrenceQuery { after: Some((o.start, e.id, o.local_start)), ..base.clone() };
    assert_eq!(titles(&store.search_occurrences(&next).await.unwrap())[0], "Coffee morning 04-08", "keyset paging");
    let check = |q: OccurrenceQuery, n: usize| {
        let store = store.clone();
        async move { assert_eq!(store.search_occurrences(&q).await.unwrap().len(), n, "{q:?}") }
    };
    let london = scaffold_domain::event_search::Area { lat: 51.5, lon: -0.1, radius_km: 12.0 };
    check(OccurrenceQuery { area: Some(london), ..base.clone() }, 0).await;
    check(OccurrenceQuery { feature: Some("step-free".into()), ..base.clone() }, 3).await;
    check(OccurrenceQuery { feature: Some("bsl".into()), ..base.clone() }, 0).await;
    check(OccurrenceQuery { category: Some("digital-inclusion".into()), ..base.clone() }, 3).await;
    check(OccurrenceQuery { category: Some("sport".into()), ..base.clone() }, 0).await;
    check(OccurrenceQuery { words: vec!["walk".into(), "tea".into()], ..base.clone() }, 2).await;
    check(OccurrenceQuery { words: vec!["walking".into()], ..base.clone() }, 2).await;
    check(OccurrenceQuery { words: vec!["%".into()], ..base.clone() }, 0).await;
    check(OccurrenceQuery { group: Some(hidden.id), viewer: Some(p.id), ..base.clone() }, 3).await;

    // Feeds: only events with an activity and a place, in public groups, are published; the others
    // never appear.
    let series = store.series_feed(None, 100).await.unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    assert!(series.windows(2).all(|w| (w[0].modified, w[0].id) < (w[1].modified, w[1].id)));
    let published: Vec<_> = series.iter().filter_map(|i| i.data.as_ref()).collect();
    assert_eq!(published.len(), 1);
    assert_eq!((published[0].0.id, published[0].1.slug.as_str()), (walk.id, "listed-group"));
    let sessions = store.sessions_feed(None, 1000).await.unwrap();
    let key = |i: &SessionFeedItem| (i.modified, i.event_id, i.local_start);
    assert!(sessions.windows(2).all(|w| key(&w[0]) < key(&w[1])), "ordered by (modified, id)");
    let of = |list: &[SessionFeedItem], id, day: &str| {
        list.iter().find(|i| i.event_id == id && i.local_start.format("%Y-%m-%d").to_string() == day).cloned()
    };
    let april7 = of(&sessions, walk.id, "2026-04-07").unwrap();
    assert!(april7.data.is_some());
    assert!(of(&sessions, plain.id, "2026-04-08").is_none(), "no activity: never in the feed");
    assert!(sessions.iter().all(|i| i.event_id == walk.id && i.data.is_some()), "{sessions:?}");
    let last = sessions.last().map(key).unwrap();
    assert!(store.sessions_feed(Some(last), 10).await.unwrap().is_empty(), "the end of the feed");
    let after_first = store.sessions_feed(Some(key(&sessions[0])), 1).await.unwrap();
    assert_eq!(key(&after_first[0]), key(&sessions[1]), "the exact after-query");

    // Cancelling one week: it leaves search and gets a new change number; the others keep theirs.
    let cancel = OverrideDraft { status: Some(EventStatus::Cancelled), ..OverrideDraft::default() }
        .validate(&walk, "2026-04-21T10:00")
        .unwrap();
    store
        .put_override(walk.id, 1, &cancel, at(10), &listing(&walk, std::slice::from_ref(&cancel)), &audit("o", 1))
        .await
        .unwrap();
    check(base.clone(), 2).await;
    let changes = store.sessions_feed(Some(last), 100).await.unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].data.as_ref().unwrap().status, EventStatus::Cancelled);
    let last = key(&changes[0]);
    // Excluding a week in the series: that occurrence becomes a tombstone.
    let mut fewer = walk.clone();
    fewer
        .recurrence
        .as_mut()
        .unwrap()
        .exdates
        .push(chrono::NaiveDate::from_ymd_opt(2026, 4, 28).unwrap().and_hms_opt(10, 0, 0).unwrap());
    fewer.version = 3;
    fewer.updated_at = at(15);
    store.update_event(&fewer, 2, &listing(&fewer, std::slice::from_ref(&cancel)), &audit("e", 2)).await.unwrap();
    let changes = store.sessions_feed(Some(last), 100).await.unwrap();
    assert_eq!(changes.len(), 1, "only the removed week changed: {changes:?}");
    assert_eq!((changes[0].local_start.format("%m-%d").to_string(), changes[0].data.is_none()), ("04-28".into(), true));
    let series = store.series_feed(None, 100).await.unwrap();
    assert_eq!(series.last().unwrap().id, walk.id, "the updated event moves to the end of the feed");

    // The group goes private: its events and occurrences are republished as deleted.
    let before = store.series_feed(None, 100).await.unwrap().last().unwrap().modified;
    let mut private = store.group_by_id(g.id).await.unwrap().unwrap();
    private.visibility = Visibility::Private;
    private.version += 1;
    store.update_group(&private, private.version - 1, &audit("g", 3)).await.unwrap();
    let after = store.series_feed(Some((before, walk.id)), 100).await.unwrap();
    assert!(after.len() == 1 && after.iter().all(|i| i.data.is_none()), "{after:?}");
    check(base.clone(), 0).await;

    // Deleting an event leaves tombstones, which are purged after a while.
    store.delete_event(walk.id, at(20), &audit("event.delete", 4)).await.unwrap();
    assert!(matches!(store.delete_event(walk.id, at(20), &audit("x", 5)).await.unwrap_err(), StoreError::NotFound));
    assert_eq!(store.event_by_id(walk.id).await.unwrap(), None);
    let series = store.series_feed(None, 100).await.unwrap();
    let gone = series.iter().find(|i| i.id == walk.id).unwrap();
    assert!(gone.data.is_none());
    let sessions = store.sessions_feed(None, 1000).await.unwrap();
    assert!(sessions.iter().filter(|i| i.event_id == walk.id).all(|i| i.data.is_none()));
    check(OccurrenceQuery { viewer: Some(p.id), ..base.clone() }, 4).await;
    assert_eq!(store.purge_tombstones(at(15)).await.unwrap(), 0, "tombstones newer than the cut-off stay");
    assert!(store.purge_tombstones(at(21)).await.unwrap() > 1);
    assert!(store.series_feed(None, 100).await.unwrap().iter().all(|i| i.id != walk.id));
    // An event that was never published leaves no trace in the feeds when deleted.
    store.delete_event(plain.id, at(30), &audit("event.delete", 6)).await.unwrap();
    assert!(store.series_feed(None, 100).await.unwrap().is_empty());
    assert!(store.sessions_feed(None, 1000).await.unwrap().iter().all(|i| i.event_id != plain.id));

    // Series whose listing ends soon are found for the daily job; a stale version is not relisted.
    let due = store.events_to_relist(at(0) + Duration::days(400), 10).await.unwrap();
    assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), vec![secret.id], "series only");
    let later = at(0) + Duration::days(30);
    let relisted = secret.listing(&[], later).unwrap();
    assert!(!store.relist_event(secret.id, 7, &relisted, later).await.unwrap());
    assert!(store.relist_event(secret.id, 1, &relisted, later).await.unwrap());
    assert!(store.events_to_relist(at(0) + Duration::days(365), 10).await.unwrap().is_empty());
}

pub async fn attestations_are_offered_activated_and_revoked_with_their_status_bit(store: DynStore) {
    use crate::STATUS_LIST_BYTES;
    use scaffold_domain::AttestationId;
    use scaffold_domain::attestation::{Attestation, AttestationState, AttestationType, Evidence};
    let owner = person(&store, "Ada").await;
    let holder = person(&store, "Bo").await;
    let g = group("issuers", "Issuers");
    create(&store, &g, &owner).await;
    assert!(store.issuer_types(g.id).await.unwrap().is_empty());
    store.authorise_issuer(g.id, AttestationType::DbsCheck, at(1), &audit("issuer.authorise", 1)).await.unwrap();
    store.authorise_issuer(g.id, AttestationType::DbsCheck, at(2), &audit("issuer.authorise", 2)).await.unwrap();
    assert_eq!(store.issuer_types(g.id).await.unwrap(), vec![AttestationType::DbsCheck], "authorising twice is one");
    let offer = |n: i64| {
        let mut claims = serde_json::Map::new();
        let _ = claims.insert("level".into(), serde_json::json!("enhanced"));
        Attestation {
            id: AttestationId::new_v7(at(n)),
            attestation_type: AttestationType::DbsCheck,
            subject: holder.id,
            issuer_group: Some(g.id),
            issued_by: owner.id,
            state: AttestationState::Offered,
            claims,
            evidence: Evidence {
                checked: "original certificate".into(),
                method: "seen in person".into(),
                checked_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            },
            valid_days: 90,
            credential: None,
            status: None,
            issued_at: None,
            expires_at: None,
            reason: None,
            created_at: at(n),
            updated_at: at(n),
        }
    };
    let (a, b) = (offer(10), offer(20));
    store.create_attestation(&a, &audit("attestation.issue", 3)).await.unwrap();
    store.create_attestation(&b, &audit("attestation.issue", 4)).await.unwrap();
    assert_eq!(store.attestation_by_id(a.id).await.unwrap(), Some(a.clone()), "every field round-trips");
    let mine = store.attestations_of_person(holder.id).await.unwrap();
    assert_eq!(mine.iter().map(|x| x.id).collect::<Vec<_>>(), vec![b.id, a.id], "newest first");

    let expires = at(30) + Duration::days(90);
    store
        .activate_attestation(a.id, "jwt~d~", (1, 4242), at(30), expires, &audit("attestation.accept", 5))
        .await
        .unwrap();
    let err = store.activate_attestation(a.id, "jwt~d~", (1, 4243), at(31), expires, &audit("x", 6)).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionMismatch), "only offered ones activate: {err}");
    let err = store.activate_attestation(b.id, "jwt~e~", (1, 4242), at(32), expires, &audit("x", 7)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { constraint: "attestation_status" }),
        "one credential per entry: {err}"
    );
    assert_eq!(
        store.attestation_by_id(b.id).await.unwrap().unwrap().state,
        AttestationState::Offered,
        "nothing changed"
    );
    let active = store.attestation_by_id(a.id).await.unwrap().unwrap();
    assert_eq!(
        (active.state, active.status, active.credential.as_deref()),
        (AttestationState::Active, Some((1, 4242)), Some("jwt~d~"))
    );
    let (bits, _) = store.status_list(1).await.unwrap().unwrap();
    assert_eq!(bits.len(), STATUS_LIST_BYTES);
    assert!(bits.iter().all(|b| *b == 0));
    assert_eq!(store.status_list(2).await.unwrap(), None);

    store
        .end_attestation(
            a.id,
            AttestationState::Active,
            AttestationState::Revoked,
            Some("new information"),
            at(40),
            &audit("attestation.revoke", 8),
        )
        .await
        .unwrap();
    let (bits, changed) = store.status_list(1).await.unwrap().unwrap();
    assert_eq!((bits[4242 / 8], changed), (1 << (4242 % 8), at(40)), "the bit is set in the same transaction");
    let err = store
        .end_attestation(a.id, AttestationState::Active, AttestationState::Withdrawn, None, at(41), &audit("x", 9))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionMismatch));
    store
        .end_attestation(
            b.id,
            AttestationState::Offered,
            AttestationState::Declined,
            None,
            at(42),
            &audit("attestation.decline", 10),
        )
        .await
        .unwrap();
    let ended = store.attestation_by_id(a.id).await.unwrap().unwrap();
    assert_eq!((ended.state, ended.reason.as_deref()), (AttestationState::Revoked, Some("new information")));
    assert_eq!(store.attestation_by_id(b.id).await.unwrap().unwrap().state, AttestationState::Declined);

    // Deleting the holder's account sets the status bits of their active credentials first.
    let c = offer(50);
    store.create_attestation(&c, &audit("attestation.issue", 11)).await.unwrap();
    store
        .activate_attestation(c.id, "jwt~f~", (1, 999), at(51), expires, &audit("attestation.accept", 12))
        .await
        .unwrap();
    let pseudonym = PersonId::new_v7(at(60));
    store.delete_person(holder.id, pseudonym, &audit("person.delete", 13)).await.unwrap();
    let (bits, _) = store.status_list(1).await.unwrap().unwrap();
    assert_eq!(bits[999 / 8] & (1 << (999 % 8)), 1 << (999 % 8), "the deleted person's credential is revoked");
    assert_eq!(store.attestation_by_id(c.id).await.unwrap(), None, "and their attestations are gone");
}

pub async fn sources_import_replace_and_remove_what_they_bring(store: DynStore) {
    use crate::{ImportRun, ImportedEvent};
    use scaffold_domain::SourceId;
    use scaffold_domain::event::{EventStatus, OverrideDraft};
    use scaffold_domain::source::{RunOutcome, Source, SourceHealth, SourceKind, SourceState};
    let source = Source {
        id: SourceId::new_v7(at(0)),
        kind: SourceKind::Ical,
        url: "https://council.example/events.ics".to_owned(),
        name: "Council events".to_owned(),
        peer_id: None,
        state: SourceState::default(),
        health: SourceHealth::default(),
        next_run_at: at(0),
        created_at: at(0),
        version: 1,
    };
    let mut holder = group("imported-council", "Council events");
    holder.origin = Some(source.origin("", Some(source.url.clone()), at(0)));
    holder.member_count = 0;
    store.create_source(&source, std::slice::from_ref(&holder), &audit("source.create", source.id)).await.unwrap();
    let again = Source { id: SourceId::new_v7(at(1)), ..source.clone() };
    let dup = store.create_source(&again, &[], &audit("source.create", again.id)).await;
    assert!(matches!(dup, Err(StoreError::Conflict { constraint: "source" })), "{dup:?}");
    assert_eq!(store.sources().await.unwrap(), vec![source.clone()]);
    assert_eq!(store.imported_groups(source.id).await.unwrap(), vec![holder.clone()], "the group and its origin");

    // Due now: one claim takes it, the next finds nothing due.
    let claimed = store.claim_due_source(at(5), at(600)).await.unwrap().unwrap();
    assert_eq!(claimed.next_run_at, at(600));
    assert!(store.claim_due_source(at(5), at(600)).await.unwrap().is_none());

    let mut series = event(holder.id, "Tea party", "2026-04-07T10:00");
    series.origin = Some(source.origin("uid-1@council", Some("https://council.example/e/1".to_owned()), at(10)));
    let cancel = OverrideDraft { status: Some(EventStatus::Cancelled), ..OverrideDraft::default() }
        .validate(&series, "2026-04-21T10:00")
        .unwrap();
    let mut one_off = event(holder.id, "Fair", "2026-04-09T10:00");
    one_off.recurrence = None;
    one_off.origin = Some(source.origin("uid-2@council", None, at(10)));
    let imported = |e: &scaffold_domain::event::Event, o: Vec<scaffold_domain::event::OccurrenceOverride>| {
        ImportedEvent { listing: listing(e, &o), event: e.clone(), overrides: o }
    };
    let health = SourceHealth { outcome: RunOutcome::Ok, added: 2, ..SourceHealth::default() };
    let run = ImportRun {
        source: source.id,
        expected_version: 1,
        state: SourceState { etag: Some("\"v1\"".to_owned()), ..SourceState::default() },
        health: health.clone(),
        next_run_at: at(3600),
        groups: Vec::new(),
        removed_groups: Vec::new(),
        events: vec![imported(&series, vec![cancel.clone()]), imported(&one_off, Vec::new())],
        removed_events: Vec::new(),
        all_seen_at: Some(at(10)),
        at: at(10),
    };
    store.apply_import(&run, None).await.unwrap();
    let mut got = store.imported_events(source.id).await.unwrap();
    got.sort_by_key(|e| e.start);
    assert_eq!(got, vec![series.clone(), one_off.clone()], "every field and the origin round-trip");
    assert_eq!(store.overrides_of(series.id).await.unwrap(), vec![cancel]);
    let after = store.source_by_id(source.id).await.unwrap().unwrap();
    assert_eq!((after.version, after.health, after.state.etag.as_deref()), (2, health, Some("\"v1\"")));
    let stale = store.apply_import(&run, None).await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch)), "a run that started before another writes nothing");

    // The next run changes the series (its changed date goes), removes the one-off, sees the rest.
    let mut renamed = series.clone();
    renamed.title = "Tea party (new room)".to_owned();
    renamed.version = 2;
    let run2 = ImportRun {
        expected_version: 2,
        events: vec![imported(&renamed, Vec::new())],
        removed_events: vec![one_off.id],
        all_seen_at: Some(at(20)),
        at: at(20),
        ..run.clone()
    };
    store.apply_import(&run2, Some(&audit("source.sync", source.id))).await.unwrap();
    let got = store.imported_events(source.id).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "Tea party (new room)");
    assert_eq!(got[0].origin.as_ref().map(|o| o.seen_at), Some(at(20)), "marked seen by the run");
    assert!(store.overrides_of(series.id).await.unwrap().is_empty());
    assert_eq!(store.event_by_id(one_off.id).await.unwrap(), None);

    // Removing the source removes its group and events; an unknown one is not found.
    store.delete_source(source.id, at(30), &audit("source.delete", source.id)).await.unwrap();
    assert_eq!(store.event_by_id(series.id).await.unwrap(), None);
    assert_eq!(store.group_by_id(holder.id).await.unwrap(), None);
    assert!(store.sources().await.unwrap().is_empty());
    let gone = store.delete_source(source.id, at(31), &audit("source.delete", source.id)).await;
    assert!(matches!(gone, Err(StoreError::NotFound)));
}

fn change(t: scaffold_domain::change::ChangeType, group: Option<&Group>, n: i64) -> scaffold_domain::change::Change {
    scaffold_domain::change::Change {
        id: scaffold_domain::ChangeId::new_v7(at(n)),
        at: at(n),
        change_type: t,
        group_id: group.map(|g| g.id),
        outcode: group.and_then(|g| g.area.as_ref()).map(|a| a.outcode.as_str().to_owned()),
        categories: vec!["food".to_owned()],
        attestation_type: None,
        published: true,
        data: serde_json::json!({ "group": { "groupId": "x" } }),
    }
}

pub async fn changes_queue_deliveries_for_matching_webhooks_taken_once(store: DynStore) {
    use crate::Attempt;
    use scaffold_domain::WebhookId;
    use scaffold_domain::change::ChangeType;
    use scaffold_domain::webhook::{DeliveryState, Webhook, WebhookFilter, WebhookSecret, WebhookStatus};

    let p = person(&store, "Dev").await;
    let a = app(p.id, "hooks");
    store.create_app(&a, &audit("app.create", a.id)).await.unwrap();
    let hook = |n: i64, filter: WebhookFilter| Webhook {
        id: WebhookId::new_v7(at(n)),
        app_id: a.id,
        url: format!("https://hooks.example/{n}"),
        filter,
        secret: WebhookSecret("whsec_AAAA".to_owned()),
        previous_secret: Some((WebhookSecret("whsec_BBBB".to_owned()), at(99_999))),
        status: WebhookStatus::Active,
        disabled_reason: None,
        consecutive_failures: 0,
        created_at: at(n),
        updated_at: at(n),
    };
    let g = group("wn1-food", "Food");
    let all_groups = hook(10, WebhookFilter { types: vec![ChangeType::GroupUpdated], ..WebhookFilter::default() });
    let area = g.area.as_ref().map(|x| x.outcode.as_str().to_owned()).unwrap_or_default();
    let in_area = hook(
        11,
        WebhookFilter { types: vec![ChangeType::GroupUpdated], outcodes: vec![area], ..WebhookFilter::default() },
    );
    let elsewhere = hook(
        12,
        WebhookFilter {
            types: vec![ChangeType::GroupUpdated],
            outcodes: vec!["ZZ9".to_owned()],
            ..WebhookFilter::default()
        },
    );
    let other_type = hook(13, WebhookFilter { types: vec![ChangeType::EventCreated], ..WebhookFilter::default() });
    for w in [&all_groups, &in_area, &elsewhere, &other_type] {
        store.create_webhook(w, &audit("webhook.create", w.id)).await.unwrap();
    }
    assert_eq!(store.webhook_by_id(in_area.id).await.unwrap().as_ref(), Some(&in_area), "round trip");
    assert_eq!(store.webhooks_of_app(a.id).await.unwrap().len(), 4);

    // A change written with its audit entry is queued for the matching subscriptions only.
    let c = change(ChangeType::GroupUpdated, Some(&g), 20);
    let entry = audit("group.update", g.id).with_change(c.clone());
    store
        .create_person(
            &Person { id: PersonId::new_v7(at(20)), display_name: "x".to_owned(), created_at: at(0) },
            None,
            &entry,
        )
        .await
        .unwrap();
    // An unpublished change is recorded and queued for no one.
    let hidden = scaffold_domain::change::Change { published: false, ..change(ChangeType::GroupUpdated, Some(&g), 21) };
    let entry = audit("group.update", g.id).with_change(hidden);
    store
        .create_person(
            &Person { id: PersonId::new_v7(at(21)), display_name: "y".to_owned(), created_at: at(0) },
            None,
            &entry,
        )
        .await
        .unwrap();

    // A webhook the worker is busy with is left alone.
    let others = store.claim_deliveries(at(30), at(90), 10, &[all_groups.id, in_area.id]).await.unwrap();
    assert!(others.is_empty(), "only busy webhooks have due deliveries");
    let due = store.claim_deliveries(at(30), at(90), 10, &[]).await.unwrap();
    let mut got: Vec<WebhookId> = due.iter().map(|d| d.webhook.id).collect();
    got.sort();
    assert_eq!(got, vec![all_groups.id, in_area.id]);
    assert!(due.iter().all(|d| d.change == c && d.attempt == 1), "the change comes back whole");
    assert!(
        store.claim_deliveries(at(31), at(90), 10, &[]).await.unwrap().is_empty(),
        "leased: nobody takes them again"
    );

    // A failure is retried later; a success ends it; failures in a row disable the subscription.
    let fail = |w: WebhookId, t: i64, retry: Option<i64>| Attempt {
        webhook: w,
        change: c.id,
        number: 1,
        at: at(t),
        status: Some(500),
        latency_ms: 12,
        error: Some("the endpoint answered 500".to_owned()),
        retry_at: retry.map(at),
    };
    assert!(
        !store.record_attempt(&fail(all_groups.id, 32, Some(40)), 2, "r", &audit("webhook.disable", 1)).await.unwrap()
    );
    let ok = Attempt { status: Some(204), error: None, retry_at: None, ..fail(in_area.id, 33, None) };
    assert!(!store.record_attempt(&ok, 2, "r", &audit("webhook.disable", 1)).await.unwrap());
    let log = store.deliveries(in_area.id, None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].state, log[0].last_status, log[0].delivered_at),
        (DeliveryState::Delivered, Some(204), Some(at(33)))
    );

    let again = store.claim_deliveries(at(41), at(100), 10, &[]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].webhook.id, again[0].attempt), (all_groups.id, 2));
    // An outcome from an attempt that no longer holds the delivery is not recorded.
    let stale = fail(all_groups.id, 42, None);
    assert!(!store.record_attempt(&stale, 2, "stale", &audit("webhook.disable", 1)).await.unwrap());
    assert_eq!(store.deliveries(all_groups.id, None, 10).await.unwrap()[0].state, DeliveryState::Pending);
    let second = Attempt { number: 2, ..fail(all_groups.id, 42, None) };
    let reason = "Disabled: it kept failing";
    assert!(store.record_attempt(&second, 2, reason, &audit("webhook.disable", 1)).await.unwrap());
    let disabled = store.webhook_by_id(all_groups.id).await.unwrap().unwrap();
    assert_eq!(disabled.status, WebhookStatus::Disabled);
    assert_eq!(disabled.disabled_reason.as_deref(), Some("Disabled: it kept failing"));
    let log = store.deliveries(all_groups.id, None, 10).await.unwrap();
    assert_eq!((log[0].state, log[0].attempts), (DeliveryState::Failed, 2));

    // Replay makes it due again; a disabled subscription's deliveries wait until it is enabled.
    store.replay_delivery(all_groups.id, c.id, at(50), &audit("webhook.replay", 1)).await.unwrap();
    assert!(store.claim_deliveries(at(51), at(100), 10, &[]).await.unwrap().is_empty(), "disabled");
    let enabled = Webhook { status: WebhookStatus::Active, consecutive_failures: 0, updated_at: at(52), ..disabled };
    store.update_webhook(&enabled, &audit("webhook.enable", 1)).await.unwrap();
    let due = store.claim_deliveries(at(53), at(100), 10, &[]).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempt, 1, "a replay starts its attempts again");
    let missing = store.replay_delivery(other_type.id, c.id, at(54), &audit("webhook.replay", 1)).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound), "{missing}");

    store.delete_webhook(all_groups.id, &audit("webhook.delete", 1)).await.unwrap();
    assert!(store.deliveries(all_groups.id, None, 10).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_webhook(all_groups.id, &audit("webhook.delete", 1)).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn notices_round_trip_show_while_valid_and_are_dismissed_once(store: DynStore) {
    use scaffold_domain::NoticeId;
    use scaffold_domain::notice::Notice;
    let p = person(&store, "Council").await;
    let g = group("wn1-lunch", "Lunch club");
    let owner = Membership {
        group_id: g.id,
        person_id: p.id,
        role: Role::Owner,
        status: MembershipStatus::Active,
        created_at: at(0),
        updated_at: at(0),
    };
    store.create_group(&g, &owner, None, &audit("group.create", g.id)).await.unwrap();
    let n = |k: i64, from: i64, until: i64| Notice {
        id: NoticeId::new_v7(at(k)),
        title: format!("Notice {k}"),
        body: "Line one.\n\nLine two.".to_owned(),
        links: vec![Link { label: "More".to_owned(), url: "https://example.org/more".to_owned() }],
        outcodes: vec![Outcode::parse("", "WN1").unwrap(), Outcode::parse("", "WN2").unwrap()],
        radius: Some((Outcode::parse("", "WN1").unwrap(), 2.5)),
        categories: vec![Category::Food],
        valid_from: at(from),
        valid_until: at(until),
        published_by: p.id,
        created_at: at(k),
    };
    let (past, now, later) = (n(1, 0, 10), n(2, 0, 1000), n(3, 500, 1000));
    for x in [&past, &now, &later] {
        store.create_notice(x, &audit("notice.publish", x.id)).await.unwrap();
    }
    assert_eq!(store.notice_by_id(now.id).await.unwrap().as_ref(), Some(&now), "round trip");
    assert_eq!(store.current_notices(at(100)).await.unwrap(), vec![now.clone()]);
    assert_eq!(store.current_notices(at(600)).await.unwrap(), vec![later.clone(), now.clone()], "newest first");
    assert_eq!(store.notices(2).await.unwrap().len(), 2);
    store.dismiss_notice(now.id, g.id, at(101), &audit("notice.dismiss", now.id)).await.unwrap();
    store.dismiss_notice(now.id, g.id, at(102), &audit("notice.dismiss", now.id)).await.unwrap();
    assert_eq!(store.dismissed_notices(g.id).await.unwrap(), vec![now.id]);
    let dismissals =
        store.list_audit(None, 100).await.unwrap().into_iter().filter(|e| e.action == "notice.dismiss").count();
    assert_eq!(dismissals, 1, "dismissing again writes nothing");
}
