//! Small GraphQL output types. The mirrors of the domain's enumerations live in `scaffold-shapes`.

use async_graphql::SimpleObject;
pub use scaffold_shapes::{
    AccessibilityFeature, Category, GroupKind, GroupStatus, GuidelineTemplate, IdentifierScheme, JoinPolicy,
    MembershipStatus, Role, RsvpResponse, RsvpState, Visibility,
};

#[derive(SimpleObject, Debug, Clone)]
pub struct Area {
    /// UK postcode outward code, e.g. WN1.
    pub outcode: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// A charity or company number the group gave; `verified` once an operator checked the register.
#[derive(SimpleObject, Debug, Clone)]
pub struct OrgIdentifier {
    pub scheme: IdentifierScheme,
    /// The org-id.guide prefix, e.g. GB-CHC.
    pub register: String,
    pub value: String,
    pub verified: bool,
    pub verified_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Guidelines {
    pub template: Option<GuidelineTemplate>,
    /// CommonMark.
    pub text: String,
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "GuidelineTemplateInfo")]
pub struct GuidelineTemplateInfo {
    pub id: GuidelineTemplate,
    pub title: String,
    pub text: String,
}
