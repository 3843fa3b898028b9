//! `/api/v1/groups/{group}/…`: join, leave, the member list, invitations, approvals, roles and
//! removals.

use crate::RestState;
use crate::extract::{JsonBody, QueryParams, SignedIn, given};
use crate::groups::group_id;
use crate::problem::{ApiResult, Problem};
use crate::schema::{MembershipBody, Page, next_link, role_schema};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use scaffold_domain::codes;
use scaffold_domain::membership::Role;
use scaffold_domain::{DomainError, PersonId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

fn person_id(s: &str) -> Result<PersonId, DomainError> {
    PersonId::parse(s)
        .ok_or_else(|| DomainError::not_found(codes::MEMBERSHIP_NOT_FOUND, "that person is not a member of this group"))
}

/// Join a group
///
/// Open groups: you become a member. Approval groups: your request waits for an organiser.
/// Invite-only groups: only with an invitation. Joining again changes nothing.
#[utoipa::path(post, path = "/api/v1/groups/{group}/join", tag = "members",
    params(("group" = uuid::Uuid, Path, description = "The group's id")),
    responses(
        (status = 200, description = "Your membership (active or pending)", body = MembershipBody),
        (status = 403, description = "GROUP_INVITE_ONLY", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "GROUP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_ARCHIVED", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn join(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
) -> ApiResult<Json<MembershipBody>> {
    let m = s.service.join_group(&actor, group_id(&group)?).await?;
    Ok(Json(MembershipBody::new(m, None)))
}

/// Leave a group
///
/// Also withdraws a pending request or declines an invitation. The last owner cannot leave.
#[utoipa::path(post, path = "/api/v1/groups/{group}/leave", tag = "members",
    params(("group" = uuid::Uuid, Path, description = "The group's id")),
    responses(
        (status = 204, description = "You have left"),
        (status = 404, description = "MEMBERSHIP_NOT_FOUND", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_LAST_OWNER", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn leave(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.leave_group(&actor, group_id(&group)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// List members
///
/// Visible to the group's active members (with `groups:read`) and operators.
#[utoipa::path(get, path = "/api/v1/groups/{group}/members", tag = "members",
    params(("group" = uuid::Uuid, Path, description = "The group's id"), MemberParams),
    responses(
        (status = 200, description = "A page of memberships", body = Page<MembershipBody>),
        (status = 403, description = "GROUP_MEMBERS_ONLY", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:read"])))]
pub async fn list(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    QueryParams(p): QueryParams<MemberParams>,
) -> ApiResult<Json<Page<MembershipBody>>> {
    let id = group_id(&group)?;
    let page = s.service.list_members(&actor, id, given(p.after).as_deref(), p.limit).await?;
    let next =
        next_link(&format!("/api/v1/groups/{id}/members"), &[("limit", p.limit.map(|l| l.to_string()))], page.next);
    Ok(Json(Page {
        items: page.items.into_iter().map(|m| MembershipBody::new(m.membership, Some(m.display_name))).collect(),
        next,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub person_id: uuid::Uuid,
}

/// Invite a person
///
/// Organisers and owners. The person becomes a member when they join.
#[utoipa::path(post, path = "/api/v1/groups/{group}/invitations", tag = "members", request_body = Invitation,
    params(("group" = uuid::Uuid, Path, description = "The group's id")),
    responses(
        (status = 201, description = "The invited membership", body = MembershipBody),
        (status = 422, description = "UNKNOWN_PERSON at /person_id, or another field", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "ALREADY_MEMBER", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn invite(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(group): Path<String>,
    body: JsonBody<Invitation>,
) -> ApiResult<(StatusCode, Json<MembershipBody>)> {
    let m = s.service.invite_member(&actor, group_id(&group)?, PersonId(body.value.person_id)).await?;
    Ok((StatusCode::CREATED, Json(MembershipBody::new(m, None))))
}

/// Approve a request to join
#[utoipa::path(post, path = "/api/v1/groups/{group}/members/{person}/approve", tag = "members",
    params(("group" = uuid::Uuid, Path), ("person" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The now active membership", body = MembershipBody),
        (status = 409, description = "MEMBERSHIP_NOT_PENDING", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn approve(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, person)): Path<(String, String)>,
) -> ApiResult<Json<MembershipBody>> {
    let m = s.service.approve_member(&actor, group_id(&group)?, person_id(&person)?).await?;
    Ok(Json(MembershipBody::new(m, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    #[schema(schema_with = role_schema)]
    pub role: Role,
}

/// Change a member's role
///
/// Owners only. A group always keeps at least one owner.
#[utoipa::path(patch, path = "/api/v1/groups/{group}/members/{person}", tag = "members", request_body = RoleChange,
    params(("group" = uuid::Uuid, Path), ("person" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The changed membership", body = MembershipBody),
        (status = 403, description = "GROUP_ROLE_REQUIRED", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_LAST_OWNER or MEMBERSHIP_NOT_ACTIVE", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn change_role(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, person)): Path<(String, String)>,
    body: JsonBody<RoleChange>,
) -> ApiResult<Json<MembershipBody>> {
    let m = s.service.change_role(&actor, group_id(&group)?, person_id(&person)?, body.value.role).await?;
    Ok(Json(MembershipBody::new(m, None)))
}

/// Remove a member
///
/// Owners remove anyone; organisers remove members. Also withdraws invitations and refuses
/// requests. The last owner cannot be removed.
#[utoipa::path(delete, path = "/api/v1/groups/{group}/members/{person}", tag = "members",
    params(("group" = uuid::Uuid, Path), ("person" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "GROUP_ROLE_REQUIRED", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GROUP_LAST_OWNER", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["groups:write"])))]
pub async fn remove(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, person)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service.remove_member(&actor, group_id(&group)?, person_id(&person)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
