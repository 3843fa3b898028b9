//! GraphQL mirrors of the domain's enumerations (the domain has no GraphQL dependency), and small
//! output types.

use async_graphql::{Enum, SimpleObject};
use scaffold_domain::group as g;
use scaffold_domain::membership as m;
pub use scaffold_shapes::{AccessibilityFeature, Category};

/// Declares a GraphQL enum mirroring a domain enum, with conversions both ways (those REST shares
/// are in `scaffold-shapes`).
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $gql:ident = $name:literal => $dom:path { $($v:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
        #[graphql(name = $name)]
        pub enum $gql { $($v),+ }

        impl From<$dom> for $gql {
            fn from(v: $dom) -> Self {
                use $dom as D;
                match v { $(D::$v => $gql::$v),+ }
            }
        }

        impl From<$gql> for $dom {
            fn from(v: $gql) -> Self {
                use $dom as D;
                match v { $($gql::$v => D::$v),+ }
            }
        }
    };
}

mirror_enum!(
    /// What sort of organisation a group is.
    GroupKind = "GroupKind" => g::GroupKind {
        CommunityGroup, Charity, SocialEnterprise, FaithGroup, SportsClub, ResidentsAssociation, MutualAid, PublicService
    }
);
mirror_enum!(
    /// PUBLIC: listed, visible to all. UNLISTED: by link only. PRIVATE: members only.
    Visibility = "Visibility" => g::Visibility { Public, Unlisted, Private }
);
mirror_enum!(
    /// OPEN: join at once. APPROVAL: an organiser approves. INVITE: by invitation only.
    JoinPolicy = "JoinPolicy" => g::JoinPolicy { Open, Approval, Invite }
);
mirror_enum!(GroupStatus = "GroupStatus" => g::GroupStatus { Active, Archived });
mirror_enum!(
    /// A shipped community guidelines template.
    GuidelineTemplate = "GuidelineTemplate" => g::GuidelineTemplate { WelcomingSpace, SafeguardingFirst, OnlineConduct }
);
mirror_enum!(
    /// CHARITY_ENGLAND_WALES (GB-CHC), CHARITY_SCOTLAND (GB-SC), CHARITY_NORTHERN_IRELAND (GB-NIC), COMPANY (GB-COH).
    IdentifierScheme = "IdentifierScheme" => g::IdentifierScheme {
        CharityEnglandWales, CharityScotland, CharityNorthernIreland, Company
    }
);
mirror_enum!(Role = "Role" => m::Role { Owner, Organiser, Member });
mirror_enum!(MembershipStatus = "MembershipStatus" => m::MembershipStatus { Active, Pending, Invited });

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

mirror_enum!(
    /// What a person said about an occurrence.
    RsvpResponse = "RsvpResponse" => scaffold_domain::rsvp::RsvpResponse { Going, Maybe, Declined }
);
mirror_enum!(
    /// What a reply holds.
    RsvpState = "RsvpState" => scaffold_domain::rsvp::RsvpState { Confirmed, Waitlisted, NotAttending }
);
