//! `/api/v1/groups`: create, read, list, update, archive; and the reference lists (categories,
//! guideline templates) that forms need.

use crate::RestState;
use crate::extract::{Caller, IfMatch, JsonBody, QueryParams, SignedIn, etag, given};
use crate::problem::{ApiResult, Problem};
use crate::schema::{
    AreaBody, GroupBody, GuidelinesBody, LinkBody, Page, categories_schema, category_schema, double_option,
    join_policy_schema, kind_schema, next_link, template_schema, visibility_schema,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use scaffold_domain::codes;
use scaffold_domain::group::{
    Category, GroupDraft, GroupKind, GroupPatch, GuidelineTemplate, IdentifierScheme, JoinPolicy, Visibility,
};
use scaffold_domain::{DomainError, GroupId};
use scaffold_service::groups::{GroupFilter, GroupRef, GroupView, Idempotency};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn default_kind() -> GroupKind {
    GroupKind::CommunityGroup
}
fn default_visibility() -> Visibility {
    Visibility::Public
}
fn default_join_policy() -> JoinPolicy {
    JoinPolicy::Open
}

/// A new group. Only `slug`, `name` and `summary` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// 3–60 characters: a-z, 0-9 and single hyphens; not a reserved word.
    #[schema(example = "wigan-techmates", min_length = 3, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: String,
    #[schema(example = "Wigan TechMates", min_length = 3, max_length = 100)]
    pub name: String,
    #[schema(example = "Tea, cake and friendly help with phones and tablets", min_length = 1, max_length = 280)]
    pub summary: String,
    /// CommonMark.
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[serde(default = "default_kind")]
    #[schema(schema_with = kind_schema)]
    pub kind: GroupKind,
    #[serde(default)]
    #[schema(schema_with = categories_schema)]
    pub categories: Vec<Category>,
    pub area: Option<AreaBody>,
    #[schema(max_length = 254)]
    pub contact_email: Option<String>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub links: Vec<LinkBody>,
    #[serde(default = "default_visibility")]
    #[schema(schema_with = visibility_schema)]
    pub visibility: Visibility,
    #[serde(default = "default_join_policy")]
    #[schema(schema_with = join_policy_schema)]
    pub join_policy: JoinPolicy,
    /// Defaults to the `welcoming-space` template.
    pub guidelines: Option<GuidelinesBody>,
}

/// A change to a group: only the fields present change; `null` clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    #[schema(min_length = 3, max_length = 100)]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 280)]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    #[schema(schema_with = kind_schema)]
    pub kind: Option<GroupKind>,
    #[schema(schema_with = categories_schema)]
    pub categories: Option<Vec<Category>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AreaBody>)]
    pub area: Option<Option<AreaBody>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub contact_email: Option<Option<String>>,
    pub links: Option<Vec<LinkBody>>,
    #[schema(schema_with = visibility_schema)]
    pub visibility: Option<Visibility>,
    #[schema(schema_with = join_policy_schema)]
    pub join_policy: Option<JoinPolicy>,
    pub guidelines: Option<GuidelinesBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only groups in this outward code, e.g. `WN1`.
    pub outcode: Option<String>,
    /// Only groups in this category.
    #[param(schema_with = category_schema)]
    pub category: Option<Category>,
    /// Words that must all appear in the name or summary.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// The cursor from the previous page's `next` link.
    pub after: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

pub(crate) fn group_ref(s: &str) -> GroupRef {
    match GroupId::parse(s) {
        Some(id) => GroupRef::Id(id),
        None => GroupRef::Slug(s.to_owned()),
    }
}

/// Ids only: anything else cannot name a group.
pub(crate) fn group_id(s: &str) -> Result<GroupId, DomainError> {
    GroupId::parse_or_not_found(s)
}

/// `If-Match: *` accepts whatever version is current.
async fn current_version(
    s: &RestState,
    actor: &scaffold_domain::Actor,
    id: GroupId,
    v: Option<i64>,
) -> Result<i64, DomainError> {
    match v {
        Some(v) => Ok(v),
        None => Ok(s.service.group(actor, &GroupRef::Id(id)).await?.group.version),
    }
}

fn with_etag(status: StatusCode, view: GroupView) -> impl IntoResponse {
    let tag = etag(view.group.version);
    (status, [(header::ETAG, tag)], Json(GroupBody::from(view)))
}

/// List groups
///
/// Public groups, plus any the caller is an active member of (with `groups:read`), ordered by
/// name. Unlisted and archived groups are never listed.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", params(ListParams),
    responses(
        (status = 200, description = "A page of groups", body = Page<GroupBody>),
        (status = 422, description = "A parameter is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = ["groups:read"])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(actor): Caller,
    QueryParams(p): QueryParams<ListParams>,
) -> ApiResult<Json<Page<GroupBody>>> {
    let (outcode, q) = (given(p.outcode), given(p.q));
    let filter = GroupFilter {
        outcode: outcode.clone(),
        category: p.category,
        text: q.clone(),
        after: given(p.after),
        limit: p.limit,
    };
    let page = s.service.list_groups(&actor, &filter).await?;
    let next = next_link(
        "/api/v1/groups",
        &[
            ("outcode", outcode),
            ("category", p.category.map(|c| c.as_str().to_owned())),
            ("q", q),
            ("limit", p.limit.map(|l| l.to_string())),
        ],
        page.next,
    );
    Ok(Json(Page { items: page.items.into_iter().map(GroupBody::from).collect(), next }))
}

/// Create a group
///
/// The caller becomes its owner. Send an `Idempotency-Key` to make retries safe: the same key
/// with the same body returns the group created the first time.
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = CreateGroup,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 printable ASCII characters; remembered per caller")),
    responses(
        (status = 201, description = "Created", body = GroupBody,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_SLUG_TAKEN", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn create(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    headers: HeaderMap,
    body: JsonBody<CreateGroup>,
) -> ApiResult<impl IntoResponse> {
    let idem = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v.to_str().map_err(|_| {
                DomainError::invalid_field(
                    "/idempotency_key",
                    codes::INVALID_IDEMPOTENCY_KEY,
                    "Idempotency-Key must be 1 to 255 printable ASCII characters",
                )
            })?;
            Some(Idempotency::new(key, &body.raw))
        }
    };
    let b = body.value;
    let draft = GroupDraft {
        slug: b.slug,
        name: b.name,
        summary: b.summary,
        description: b.description,
        kind: b.kind,
        categories: b.categories,
        area: b.area.map(Into::into),
        contact_email: b.contact_email,
        links: b.links.into_iter().map(Into::into).collect(),
        visibility: b.visibility,
        join_policy: b.join_policy,
        guidelines: b.guidelines.map(TryInto::try_into).transpose()?,
    };
    let created = s.service.create_group(&actor, &draft, idem).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/groups/{}", created.view.group.id))
        .unwrap_or(HeaderValue::from_static("/api/v1/groups"));
    let replayed = HeaderValue::from_static(if created.replayed { "true" } else { "false" });
    Ok((
        [(header::LOCATION, location), (HeaderName::from_static("idempotent-replayed"), replayed)],
        with_etag(StatusCode::CREATED, created.view),
    ))
}

/// Get a group by id or slug
///
/// Private groups are visible only to their members (others get 404).
#[utoipa::path(get, path = "/api/v1/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "The group's id or slug")),
    responses(
        (status = 200, description = "The group", body = GroupBody, headers(("ETag" = String))),
        (status = 404, description = "GROUP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = ["groups:read"])))]
pub async fn get(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(group): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let view = s.service.group(&actor, &group_ref(&group)).await?;
    Ok(with_etag(StatusCode::OK, view))
}

/// Update a group
///
/// Organisers and owners. Needs `If-Match` with the current ETag.
#[utoipa::path(patch, path = "/api/v1/groups/{group}", tag = "groups", request_body = UpdateGroup,
    params(("group" = uuid::Uuid, Path, description = "The group's id"),
        ("If-Match" = String, Header, description = "The ETag you read, e.g. \"3\" (or * for any version)")),
    responses(
        (status = 200, description = "The updated group", body = GroupBody, headers(("ETag" = String))),
        (status = 403, description = "Not an organiser", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "GROUP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "VERSION_MISMATCH", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "PRECONDITION_REQUIRED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn update(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    IfMatch(version): IfMatch,
    body: JsonBody<UpdateGroup>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    let patch = GroupPatch {
        name: b.name,
        summary: b.summary,
        description: b.description,
        kind: b.kind,
        categories: b.categories,
        area: b.area.map(|a| a.map(Into::into)),
        contact_email: b.contact_email,
        links: b.links.map(|l| l.into_iter().map(Into::into).collect()),
        visibility: b.visibility,
        join_policy: b.join_policy,
        guidelines: b.guidelines.map(TryInto::try_into).transpose()?,
    };
    let id = group_id(&group)?;
    let version = current_version(&s, &actor, id, version).await?;
    let view = s.service.update_group(&actor, id, &patch, version).await?;
    Ok(with_etag(StatusCode::OK, view))
}

/// Archive a group
///
/// Owners only. The group becomes read-only and leaves listings. Needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/groups/{group}/archive", tag = "groups",
    params(("group" = uuid::Uuid, Path, description = "The group's id"),
        ("If-Match" = String, Header, description = "The ETag you read (or * for any version)")),
    responses(
        (status = 200, description = "The archived group", body = GroupBody, headers(("ETag" = String))),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "VERSION_MISMATCH", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "PRECONDITION_REQUIRED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn archive(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<impl IntoResponse> {
    let id = group_id(&group)?;
    let version = current_version(&s, &actor, id, version).await?;
    let view = s.service.archive_group(&actor, id, version).await?;
    Ok(with_etag(StatusCode::OK, view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryBody {
    #[schema(schema_with = category_schema)]
    pub id: Category,
}

/// The category taxonomy
#[utoipa::path(get, path = "/api/v1/categories", tag = "groups",
    responses((status = 200, description = "Every category a group or event can have", body = Vec<CategoryBody>)),
    security(()))]
pub async fn categories() -> Json<Vec<CategoryBody>> {
    Json(Category::ALL.iter().map(|c| CategoryBody { id: *c }).collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateBody {
    #[schema(schema_with = template_schema)]
    pub id: GuidelineTemplate,
    pub title: String,
    /// CommonMark.
    pub text: String,
}

/// Community guideline templates
#[utoipa::path(get, path = "/api/v1/guideline-templates", tag = "groups",
    responses((status = 200, description = "The shipped templates", body = Vec<TemplateBody>)),
    security(()))]
pub async fn guideline_templates() -> Json<Vec<TemplateBody>> {
    Json(
        GuidelineTemplate::ALL
            .iter()
            .map(|t| TemplateBody { id: *t, title: t.title().to_owned(), text: t.text().to_owned() })
            .collect(),
    )
}

fn scheme(s: &str) -> Result<IdentifierScheme, DomainError> {
    IdentifierScheme::parse(s)
        .ok_or_else(|| DomainError::not_found(codes::IDENTIFIER_SCHEME_UNKNOWN, "use GB-CHC, GB-SC, GB-NIC or GB-COH"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierValue {
    /// The registration number; spaces and case are normalised.
    #[schema(example = "1123456", min_length = 1, max_length = 20)]
    pub value: String,
}

/// Record a charity or company number
///
/// Owners. A new or changed number is unverified until an operator verifies it.
#[utoipa::path(put, path = "/api/v1/groups/{group}/identifiers/{scheme}", tag = "groups", request_body = IdentifierValue,
    params(("group" = uuid::Uuid, Path), ("scheme" = String, Path, description = "GB-CHC, GB-SC, GB-NIC or GB-COH")),
    responses(
        (status = 200, description = "The group", body = GroupBody, headers(("ETag" = String))),
        (status = 403, description = "GROUP_ROLE_REQUIRED", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn set_identifier(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, sch)): Path<(String, String)>,
    body: JsonBody<IdentifierValue>,
) -> ApiResult<impl IntoResponse> {
    let view = s.service.set_identifier(&actor, group_id(&group)?, scheme(&sch)?, &body.value.value).await?;
    Ok(with_etag(StatusCode::OK, view))
}

/// Remove a charity or company number
#[utoipa::path(delete, path = "/api/v1/groups/{group}/identifiers/{scheme}", tag = "groups",
    params(("group" = uuid::Uuid, Path), ("scheme" = String, Path)),
    responses(
        (status = 200, description = "The group", body = GroupBody, headers(("ETag" = String))),
        (status = 403, description = "GROUP_ROLE_REQUIRED", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn remove_identifier(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, sch)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let view = s.service.remove_identifier(&actor, group_id(&group)?, scheme(&sch)?).await?;
    Ok(with_etag(StatusCode::OK, view))
}

/// Verify a charity or company number
///
/// Operators (`admin`), after checking the public register.
#[utoipa::path(post, path = "/api/v1/groups/{group}/identifiers/{scheme}/verify", tag = "operators",
    params(("group" = uuid::Uuid, Path), ("scheme" = String, Path)),
    responses(
        (status = 200, description = "The group", body = GroupBody, headers(("ETag" = String))),
        (status = 403, description = "INSUFFICIENT_SCOPE", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"])))]
pub async fn verify_identifier(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, sch)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let view = s.service.verify_identifier(&actor, group_id(&group)?, scheme(&sch)?).await?;
    Ok(with_etag(StatusCode::OK, view))
}
