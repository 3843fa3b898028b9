//! Request and response bodies shared by the handlers, and OpenAPI schemas for the domain's
//! enumerations (which the domain crate defines without any OpenAPI dependency).

use chrono::{DateTime, Utc};
use scaffold_domain::codes;
use scaffold_domain::group::{
    AreaInput, Category, GroupKind, GroupStatus, GuidelineTemplate, GuidelinesInput, IdentifierScheme, JoinPolicy,
    Link, Visibility,
};
use scaffold_domain::membership::{Membership, MembershipStatus, Role};
use scaffold_service::groups::GroupView;
pub use scaffold_shapes::schema::{categories_schema, category_schema, enum_schema, event_status_schema};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, Object};
use uuid::Uuid;

pub fn kind_schema() -> Object {
    enum_schema(GroupKind::ALL.iter().map(|v| v.as_str()), "What sort of organisation the group is")
}

pub fn scopes_schema() -> utoipa::openapi::schema::Array {
    let scope = enum_schema(scaffold_domain::Scope::ALL.iter().map(|s| s.as_str()), "An OAuth-style scope");
    ArrayBuilder::new().items(scope).build()
}

pub fn visibility_schema() -> Object {
    enum_schema(
        Visibility::ALL.iter().map(|v| v.as_str()),
        "public: listed and visible to all; unlisted: visible by link only; private: members only",
    )
}

pub fn join_policy_schema() -> Object {
    enum_schema(
        JoinPolicy::ALL.iter().map(|v| v.as_str()),
        "open: join at once; approval: an organiser approves; invite: by invitation only",
    )
}

pub fn status_schema() -> Object {
    enum_schema(GroupStatus::ALL.iter().map(|v| v.as_str()), "archived groups are read-only and unlisted")
}

pub fn template_schema() -> Object {
    enum_schema(GuidelineTemplate::ALL.iter().map(|v| v.as_str()), "A shipped guidelines template")
}

pub fn scheme_schema() -> Object {
    enum_schema(
        IdentifierScheme::ALL.iter().map(|v| v.as_str()),
        "GB-CHC: Charity Commission (England and Wales); GB-SC: OSCR (Scotland); GB-NIC: Charity Commission for Northern Ireland; GB-COH: Companies House",
    )
}

pub fn role_schema() -> Object {
    enum_schema(Role::ALL.iter().map(|v| v.as_str()), "owner, organiser or member")
}

pub fn membership_status_schema() -> Object {
    enum_schema(
        MembershipStatus::ALL.iter().map(|v| v.as_str()),
        "active; pending (awaiting approval); invited (awaiting the person)",
    )
}

/// `Some(None)` for an explicit `null`, `None` when absent (with `#[serde(default)]`).
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    /// UK postcode outward code, e.g. `WN1`.
    #[schema(example = "WN1", max_length = 4, pattern = "^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?$")]
    pub outcode: String,
    /// Defaults to the outward code's centroid when omitted (give both or neither).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<AreaBody> for AreaInput {
    fn from(a: AreaBody) -> Self {
        AreaInput { outcode: a.outcode, latitude: a.latitude, longitude: a.longitude }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    #[schema(max_length = 60)]
    pub label: String,
    /// An absolute http(s) URL.
    #[schema(max_length = 2000)]
    pub url: String,
}

impl From<LinkBody> for Link {
    fn from(l: LinkBody) -> Self {
        Link { label: l.label, url: l.url }
    }
}

/// Give exactly one of `template` (a shipped template) or `custom` (CommonMark, at most 5,000
/// characters).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidelinesBody {
    #[schema(schema_with = template_schema)]
    pub template: Option<GuidelineTemplate>,
    #[schema(max_length = 5000)]
    pub custom: Option<String>,
}

impl TryFrom<GuidelinesBody> for GuidelinesInput {
    type Error = scaffold_domain::DomainError;

    fn try_from(g: GuidelinesBody) -> Result<Self, Self::Error> {
        match (g.template, g.custom) {
            (Some(t), None) => Ok(GuidelinesInput::Template(t)),
            (None, Some(s)) => Ok(GuidelinesInput::Custom(s)),
            _ => Err(scaffold_domain::DomainError::invalid_field(
                "/guidelines",
                codes::ONE_OF,
                "give exactly one of `template` or `custom`",
            )),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuidelinesOut {
    #[schema(schema_with = template_schema)]
    pub template: Option<GuidelineTemplate>,
    /// CommonMark.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaOut {
    pub outcode: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    pub label: String,
    pub url: String,
}

/// A registration number the group gave, and whether an operator verified it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifierOut {
    #[schema(schema_with = scheme_schema)]
    pub scheme: IdentifierScheme,
    #[schema(example = "1123456")]
    pub value: String,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
}

/// The caller's own membership.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewerMembership {
    #[schema(schema_with = role_schema)]
    pub role: Role,
    #[schema(schema_with = membership_status_schema)]
    pub status: MembershipStatus,
}

/// A community group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupBody {
    pub id: Uuid,
    #[schema(example = "wigan-techmates")]
    pub slug: String,
    pub name: String,
    pub summary: String,
    /// CommonMark, as written.
    pub description: Option<String>,
    /// The description as safe HTML (raw HTML shown as text; only http, https and mailto links).
    pub description_html: Option<String>,
    #[schema(schema_with = kind_schema)]
    pub kind: GroupKind,
    #[schema(schema_with = categories_schema)]
    pub categories: Vec<Category>,
    pub area: Option<AreaOut>,
    pub contact_email: Option<String>,
    pub links: Vec<LinkOut>,
    #[schema(schema_with = visibility_schema)]
    pub visibility: Visibility,
    #[schema(schema_with = join_policy_schema)]
    pub join_policy: JoinPolicy,
    pub guidelines: GuidelinesOut,
    /// Charity and company numbers; `verified` once an operator has checked the register.
    pub identifiers: Vec<IdentifierOut>,
    #[schema(schema_with = status_schema)]
    pub status: GroupStatus,
    /// Also sent as the ETag; send it back in If-Match to change the group.
    pub version: i64,
    /// Active members.
    pub member_count: i64,
    /// The caller's membership, when they have one.
    pub viewer_membership: Option<ViewerMembership>,
    /// Where the group comes from, when it is imported (then it is read-only here).
    pub origin: Option<scaffold_shapes::OriginOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<GroupView> for GroupBody {
    fn from(v: GroupView) -> Self {
        let g = v.group;
        GroupBody {
            id: g.id.0,
            slug: g.slug.to_string(),
            name: g.name,
            summary: g.summary,
            description_html: g.description.as_deref().map(scaffold_service::render::markdown_html),
            description: g.description,
            kind: g.kind,
            categories: g.categories,
            area: g.area.map(|a| AreaOut {
                outcode: a.outcode.to_string(),
                latitude: a.latitude,
                longitude: a.longitude,
            }),
            contact_email: g.contact_email,
            links: g.links.into_iter().map(|l| LinkOut { label: l.label, url: l.url }).collect(),
            visibility: g.visibility,
            join_policy: g.join_policy,
            guidelines: GuidelinesOut { template: g.guidelines.template, text: g.guidelines.text },
            identifiers: g
                .identifiers
                .into_iter()
                .map(|i| IdentifierOut {
                    scheme: i.scheme,
                    value: i.value,
                    verified: i.verified_at.is_some(),
                    verified_at: i.verified_at,
                })
                .collect(),
            status: g.status,
            version: g.version,
            member_count: v.member_count,
            viewer_membership: v.viewer_membership.map(|m| ViewerMembership { role: m.role, status: m.status }),
            origin: g.origin.as_ref().map(scaffold_shapes::OriginOut::from),
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A membership.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipBody {
    pub group_id: Uuid,
    pub person_id: Uuid,
    /// Present in member lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[schema(schema_with = role_schema)]
    pub role: Role,
    #[schema(schema_with = membership_status_schema)]
    pub status: MembershipStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MembershipBody {
    pub fn new(m: Membership, display_name: Option<String>) -> Self {
        MembershipBody {
            group_id: m.group_id.0,
            person_id: m.person_id.0,
            display_name,
            role: m.role,
            status: m.status,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of results. `next` is the URL of the next page, absent on the last.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Builds the `next` URL from the path, the other query parameters and the cursor.
pub fn next_link(path: &str, params: &[(&str, Option<String>)], cursor: Option<String>) -> Option<String> {
    let cursor = cursor?;
    let mut q: Vec<String> =
        params.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v)))).collect();
    q.push(format!("after={}", encode(&cursor)));
    Some(format!("{path}?{}", q.join("&")))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn accessibility_feature_schema() -> Object {
    enum_schema(
        scaffold_domain::event::AccessibilityFeature::ALL.iter().map(|v| v.as_str()),
        "An accessibility feature",
    )
}

pub fn rsvp_response_schema() -> Object {
    enum_schema(scaffold_domain::rsvp::RsvpResponse::ALL.iter().map(|v| v.as_str()), "going, maybe or declined")
}

pub fn rsvp_state_schema() -> Object {
    enum_schema(
        scaffold_domain::rsvp::RsvpState::ALL.iter().map(|v| v.as_str()),
        "confirmed, waitlisted or not-attending",
    )
}
