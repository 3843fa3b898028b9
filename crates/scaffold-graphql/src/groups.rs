//! Groups in GraphQL: the `Group` entity (federation keys `id` and `slug`), queries with Relay
//! connections, and the create/update/archive mutations.

use crate::context::{page_size, parse_group_id, request, service};
use crate::error::{GqlResult, coded, gql};
use crate::members::MembershipObj;
use crate::types::{
    Area, Category, GroupKind, GroupStatus, GuidelineTemplate, GuidelineTemplateInfo, Guidelines, IdentifierScheme,
    JoinPolicy, Link, OrgIdentifier, Visibility,
};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use scaffold_domain::codes;
use scaffold_domain::group::{self as g, AreaInput, GroupDraft, GroupPatch, GuidelinesInput};
use scaffold_domain::membership::Membership;
use scaffold_domain::{DomainError, GroupId};
use scaffold_service::Service;
use scaffold_service::groups::{GroupFilter, GroupRef, GroupView, Idempotency};

/// A community group, with the caller's membership when the service already looked it up (lists
/// and gets do; entities loaded by key do not, and use the loader).
#[derive(Debug, Clone)]
pub struct GroupObj(pub g::Group, Option<Option<Membership>>);

impl GroupObj {
    fn bare(g: g::Group) -> Self {
        Self(g, None)
    }

    /// A group reached through a visibility-checked load (the caller's membership is loaded
    /// when asked for).
    pub fn from_group(g: g::Group) -> Self {
        Self::bare(g)
    }
}

impl From<GroupView> for GroupObj {
    fn from(v: GroupView) -> Self {
        Self(v.group, Some(v.viewer_membership))
    }
}

#[Object(name = "Group")]
impl GroupObj {
    /// The group's events and series, by first start. First pages of many groups load together.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, crate::events::EventObj>> {
        let first = page_size(first)?;
        let (items, next) = if after.is_none() && first <= crate::loaders::GROUP_EVENTS_PAGE {
            let mut all =
                request(ctx)?.group_events.load_one(self.0.id).await.map_err(|e| (*e).clone())?.unwrap_or_default();
            let more = all.len() > usize::try_from(first).unwrap_or(usize::MAX);
            all.truncate(usize::try_from(first).unwrap_or(usize::MAX));
            let next = more.then(|| all.last().map(Service::event_cursor)).flatten();
            (all, next)
        } else {
            let page = service(ctx)?
                .group_events(&request(ctx)?.actor, &GroupRef::Id(self.0.id), after.as_deref(), first)
                .await
                .map_err(gql)?;
            (page.items, page.next)
        };
        let mut c = Connection::new(after.is_some(), next.is_some());
        c.edges.extend(items.into_iter().map(|e| Edge::new(Service::event_cursor(&e), crate::events::EventObj(e))));
        Ok(c)
    }

    /// Council notices sent to the group and up now, newest first (`docs/webhooks.md`); the ones
    /// its organisers dismissed only with `includeDismissed`.
    #[graphql(complexity = "10 * child_complexity")]
    async fn notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_dismissed: bool,
    ) -> GqlResult<Vec<crate::notices::NoticeObj>> {
        let items = service(ctx)?
            .group_notices(&request(ctx)?.actor, &GroupRef::Id(self.0.id), include_dismissed)
            .await
            .map_err(gql)?;
        Ok(items.into_iter().map(crate::notices::NoticeObj).collect())
    }

    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn slug(&self) -> &str {
        self.0.slug.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// CommonMark.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The description as safe HTML (raw HTML shown as text; only http, https and mailto links).
    async fn description_html(&self) -> Option<String> {
        self.0.description.as_deref().map(scaffold_service::render::markdown_html)
    }
    async fn kind(&self) -> GroupKind {
        self.0.kind.into()
    }
    async fn categories(&self) -> Vec<Category> {
        self.0.categories.iter().map(|c| (*c).into()).collect()
    }
    async fn area(&self) -> Option<Area> {
        self.0.area.as_ref().map(|a| Area {
            outcode: a.outcode.to_string(),
            latitude: a.latitude,
            longitude: a.longitude,
        })
    }
    async fn contact_email(&self) -> Option<&str> {
        self.0.contact_email.as_deref()
    }
    async fn links(&self) -> Vec<Link> {
        self.0.links.iter().map(|l| Link { label: l.label.clone(), url: l.url.clone() }).collect()
    }
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    async fn join_policy(&self) -> JoinPolicy {
        self.0.join_policy.into()
    }
    async fn guidelines(&self) -> Guidelines {
        Guidelines { template: self.0.guidelines.template.map(Into::into), text: self.0.guidelines.text.clone() }
    }
    /// Charity and company numbers.
    async fn identifiers(&self) -> Vec<OrgIdentifier> {
        self.0
            .identifiers
            .iter()
            .map(|i| OrgIdentifier {
                scheme: i.scheme.into(),
                register: i.scheme.as_str().to_owned(),
                value: i.value.clone(),
                verified: i.verified_at.is_some(),
                verified_at: i.verified_at,
            })
            .collect()
    }
    async fn status(&self) -> GroupStatus {
        self.0.status.into()
    }
    /// Pass it as `expectedVersion` to change the group.
    async fn version(&self) -> i64 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Active members.
    async fn member_count(&self) -> i64 {
        self.0.member_count
    }
    /// Where the group comes from, when it is imported (then it is read-only here).
    async fn origin(&self) -> Option<scaffold_shapes::OriginOut> {
        self.0.origin.as_ref().map(scaffold_shapes::OriginOut::from)
    }
    /// The caller's membership, if any.
    async fn viewer_membership(&self, ctx: &Context<'_>) -> GqlResult<Option<MembershipObj>> {
        if let Some(m) = &self.1 {
            return Ok(m.clone().map(MembershipObj));
        }
        let r = request(ctx)?;
        Ok(r.viewer_memberships.load_one(self.0.id).await.map_err(|e| (*e).clone())?.map(MembershipObj))
    }
    /// Members: visible to the group's active members and operators.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, MembershipObj>> {
        let r = request(ctx)?;
        let page = service(ctx)?
            .list_members(&r.actor, self.0.id, after.as_deref(), Some(page_size(first)?))
            .await
            .map_err(gql)?;
        let mut c = Connection::new(after.is_some(), page.next.is_some());
        c.edges.extend(
            page.items
                .into_iter()
                .map(|m| Edge::new(Service::member_cursor(&m.membership), MembershipObj(m.membership))),
        );
        Ok(c)
    }
}

#[derive(InputObject, Debug)]
pub struct AreaIn {
    pub outcode: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(InputObject, Debug)]
pub struct LinkIn {
    pub label: String,
    pub url: String,
}

/// A new group; `guidelinesTemplate` or `customGuidelines` (not both), default WELCOMING_SPACE.
#[derive(InputObject, Debug)]
pub struct CreateGroupInput {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub kind: Option<GroupKind>,
    pub categories: Option<Vec<Category>>,
    pub area: Option<AreaIn>,
    pub contact_email: Option<String>,
    pub links: Option<Vec<LinkIn>>,
    pub visibility: Option<Visibility>,
    pub join_policy: Option<JoinPolicy>,
    pub guidelines_template: Option<GuidelineTemplate>,
    pub custom_guidelines: Option<String>,
}

/// Only the fields given change; `null` clears an optional field.
#[derive(InputObject, Debug, Default)]
pub struct UpdateGroupInput {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub description: MaybeUndefined<String>,
    pub kind: Option<GroupKind>,
    pub categories: Option<Vec<Category>>,
    pub area: MaybeUndefined<AreaIn>,
    pub contact_email: MaybeUndefined<String>,
    pub links: Option<Vec<LinkIn>>,
    pub visibility: Option<Visibility>,
    pub join_policy: Option<JoinPolicy>,
    pub guidelines_template: Option<GuidelineTemplate>,
    pub custom_guidelines: Option<String>,
}

fn guidelines(t: Option<GuidelineTemplate>, custom: Option<String>) -> GqlResult<Option<GuidelinesInput>> {
    match (t, custom) {
        (None, None) => Ok(None),
        (Some(t), None) => Ok(Some(GuidelinesInput::Template(t.into()))),
        (None, Some(c)) => Ok(Some(GuidelinesInput::Custom(c))),
        (Some(_), Some(_)) => Err(gql(DomainError::invalid_field(
            "/guidelines",
            codes::ONE_OF,
            "give guidelinesTemplate or customGuidelines, not both",
        ))),
    }
}

fn area(a: AreaIn) -> AreaInput {
    AreaInput { outcode: a.outcode, latitude: a.latitude, longitude: a.longitude }
}

fn links(l: Vec<LinkIn>) -> Vec<g::Link> {
    l.into_iter().map(|l| g::Link { label: l.label, url: l.url }).collect()
}

fn maybe<T, U>(m: MaybeUndefined<T>, f: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(f(v))),
    }
}

#[derive(Default, Debug)]
pub struct GroupQuery;

#[Object]
impl GroupQuery {
    /// A group by id or slug; null when it does not exist or is hidden from you.
    async fn group(&self, ctx: &Context<'_>, id: Option<ID>, slug: Option<String>) -> GqlResult<Option<GroupObj>> {
        let r = match (id, slug) {
            (Some(id), None) => match GroupId::parse(id.as_str()) {
                Some(id) => GroupRef::Id(id),
                None => return Ok(None),
            },
            (None, Some(slug)) => GroupRef::Slug(slug),
            _ => return Err(coded(codes::VALIDATION_FAILED, "give exactly one of `id` or `slug`")),
        };
        match service(ctx)?.group(&request(ctx)?.actor, &r).await {
            Ok(v) => Ok(Some(v.into())),
            Err(e) if e.code == codes::GROUP_NOT_FOUND => Ok(None),
            Err(e) => Err(gql(e)),
        }
    }

    /// Listed groups (public, plus yours), ordered by name.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        outcode: Option<String>,
        category: Option<Category>,
        #[graphql(desc = "words that must all appear in the name or summary")] q: Option<String>,
    ) -> GqlResult<Connection<String, GroupObj>> {
        let filter = GroupFilter {
            outcode,
            category: category.map(Into::into),
            text: q,
            after: after.clone(),
            limit: Some(page_size(first)?),
        };
        let page = service(ctx)?.list_groups(&request(ctx)?.actor, &filter).await.map_err(gql)?;
        let mut c = Connection::new(after.is_some(), page.next.is_some());
        c.edges.extend(page.items.into_iter().map(|v| Edge::new(Service::group_cursor(&v.group), GroupObj::from(v))));
        Ok(c)
    }

    /// The category taxonomy.
    async fn categories(&self) -> Vec<Category> {
        g::Category::ALL.iter().map(|c| (*c).into()).collect()
    }

    /// Shipped community guideline templates.
    async fn guideline_templates(&self) -> Vec<GuidelineTemplateInfo> {
        g::GuidelineTemplate::ALL
            .iter()
            .map(|t| GuidelineTemplateInfo { id: (*t).into(), title: t.title().to_owned(), text: t.text().to_owned() })
            .collect()
    }

    #[graphql(entity)]
    async fn find_group_by_id(&self, ctx: &Context<'_>, #[graphql(key)] id: ID) -> GqlResult<Option<GroupObj>> {
        let Some(id) = GroupId::parse(id.as_str()) else { return Ok(None) };
        Ok(request(ctx)?.groups.load_one(id).await.map_err(|e| (*e).clone())?.map(GroupObj::bare))
    }

    #[graphql(entity)]
    async fn find_group_by_slug(&self, ctx: &Context<'_>, #[graphql(key)] slug: String) -> GqlResult<Option<GroupObj>> {
        match service(ctx)?.group(&request(ctx)?.actor, &GroupRef::Slug(slug)).await {
            Ok(v) => Ok(Some(v.into())),
            Err(e) if e.code == codes::GROUP_NOT_FOUND => Ok(None),
            Err(e) => Err(gql(e)),
        }
    }
}

#[derive(Default, Debug)]
pub struct GroupMutation;

#[Object]
impl GroupMutation {
    /// Creates a group; you become its owner. Needs `groups:write`.
    async fn create_group(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupInput,
        #[graphql(desc = "retries with the same key and input return the same group")] idempotency_key: Option<String>,
    ) -> GqlResult<GroupObj> {
        let draft = GroupDraft {
            slug: input.slug,
            name: input.name,
            summary: input.summary,
            description: input.description,
            kind: input.kind.map_or(g::GroupKind::CommunityGroup, Into::into),
            categories: input.categories.unwrap_or_default().into_iter().map(Into::into).collect(),
            area: input.area.map(area),
            contact_email: input.contact_email,
            links: links(input.links.unwrap_or_default()),
            visibility: input.visibility.map_or(g::Visibility::Public, Into::into),
            join_policy: input.join_policy.map_or(g::JoinPolicy::Open, Into::into),
            guidelines: guidelines(input.guidelines_template, input.custom_guidelines)?,
        };
        let idem = idempotency_key.map(|k| Idempotency::new(&k, format!("graphql:{draft:?}").as_bytes()));
        let created = service(ctx)?.create_group(&request(ctx)?.actor, &draft, idem).await.map_err(gql)?;
        Ok(created.view.into())
    }

    /// Changes a group (organisers and owners). `expectedVersion` is the version you read.
    async fn update_group(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        input: UpdateGroupInput,
    ) -> GqlResult<GroupObj> {
        let patch = GroupPatch {
            name: input.name,
            summary: input.summary,
            description: maybe(input.description, |d| d),
            kind: input.kind.map(Into::into),
            categories: input.categories.map(|c| c.into_iter().map(Into::into).collect()),
            area: maybe(input.area, area),
            contact_email: maybe(input.contact_email, |e| e),
            links: input.links.map(links),
            visibility: input.visibility.map(Into::into),
            join_policy: input.join_policy.map(Into::into),
            guidelines: guidelines(input.guidelines_template, input.custom_guidelines)?,
        };
        let view = service(ctx)?
            .update_group(&request(ctx)?.actor, parse_group_id(&id)?, &patch, expected_version)
            .await
            .map_err(gql)?;
        Ok(view.into())
    }

    /// Records a charity or company number (owners); unverified until an operator verifies it.
    async fn set_group_identifier(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        scheme: IdentifierScheme,
        value: String,
    ) -> GqlResult<GroupObj> {
        let view = service(ctx)?
            .set_identifier(&request(ctx)?.actor, parse_group_id(&group_id)?, scheme.into(), &value)
            .await
            .map_err(gql)?;
        Ok(view.into())
    }

    /// Removes a charity or company number (owners).
    async fn remove_group_identifier(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        scheme: IdentifierScheme,
    ) -> GqlResult<GroupObj> {
        let view = service(ctx)?
            .remove_identifier(&request(ctx)?.actor, parse_group_id(&group_id)?, scheme.into())
            .await
            .map_err(gql)?;
        Ok(view.into())
    }

    /// Marks a charity or company number verified (operators, `admin`).
    async fn verify_group_identifier(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
        scheme: IdentifierScheme,
    ) -> GqlResult<GroupObj> {
        let view = service(ctx)?
            .verify_identifier(&request(ctx)?.actor, parse_group_id(&group_id)?, scheme.into())
            .await
            .map_err(gql)?;
        Ok(view.into())
    }

    /// Archives a group (owners): read-only and unlisted from then on.
    async fn archive_group(&self, ctx: &Context<'_>, id: ID, expected_version: i64) -> GqlResult<GroupObj> {
        let view = service(ctx)?
            .archive_group(&request(ctx)?.actor, parse_group_id(&id)?, expected_version)
            .await
            .map_err(gql)?;
        Ok(view.into())
    }
}
