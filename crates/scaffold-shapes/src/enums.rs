//! The domain's enumerations as both transports show them: GraphQL enums (`STEP_FREE`) that read
//! and write the domain's wire names in JSON (`step-free`), converting both ways.

/// Declares an enum mirroring a domain enum: a GraphQL enum, serde through the domain type (so
/// REST keeps the domain's wire names), and conversions both ways.
macro_rules! shared_enum {
    ($(#[$meta:meta])* $gql:ident = $name:literal => $dom:path { $($v:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
        #[graphql(name = $name)]
        pub enum $gql { $($v),+ }

        impl serde::Serialize for $gql {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serde::Serialize::serialize(&<$dom>::from(*self), s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $gql {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$dom as serde::Deserialize>::deserialize(d).map(Self::from)
            }
        }

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

shared_enum!(
    /// The fixed category taxonomy.
    Category = "Category" => scaffold_domain::group::Category {
        AdviceSupport, ArtsCulture, CommunityAction, DigitalInclusion, Disability, EducationLearning, Environment,
        Faith, Food, HealthWellbeing, HeritageHistory, Housing, LgbtqPlus, MentalHealth, OlderPeople, ParentsFamilies,
        SportPhysicalActivity, Volunteering, YoungPeople
    }
);
shared_enum!(
    /// Whether an event is going ahead.
    EventStatus = "EventStatus" => scaffold_domain::event::EventStatus { Scheduled, Cancelled, Postponed }
);
shared_enum!(
    /// How people book an event.
    BookingMode = "BookingMode" => scaffold_domain::event::BookingMode { DropIn, Rsvp, External }
);
shared_enum!(
    /// Structured accessibility features.
    AccessibilityFeature = "AccessibilityFeature" => scaffold_domain::event::AccessibilityFeature {
        StepFree, AccessibleToilet, HearingLoop, AccessibleParking, QuietSpace, SignLanguage, LargePrint,
        AssistanceDogsWelcome, Seating, ChangingPlaces
    }
);
shared_enum!(
    /// What sort of organisation a group is.
    GroupKind = "GroupKind" => scaffold_domain::group::GroupKind {
        CommunityGroup, Charity, SocialEnterprise, FaithGroup, SportsClub, ResidentsAssociation, MutualAid, PublicService
    }
);
shared_enum!(
    /// PUBLIC: listed, visible to all. UNLISTED: by link only. PRIVATE: members only.
    Visibility = "Visibility" => scaffold_domain::group::Visibility { Public, Unlisted, Private }
);
shared_enum!(
    /// OPEN: join at once. APPROVAL: an organiser approves. INVITE: by invitation only.
    JoinPolicy = "JoinPolicy" => scaffold_domain::group::JoinPolicy { Open, Approval, Invite }
);
shared_enum!(GroupStatus = "GroupStatus" => scaffold_domain::group::GroupStatus { Active, Archived });
shared_enum!(
    /// A shipped community guidelines template.
    GuidelineTemplate = "GuidelineTemplate" => scaffold_domain::group::GuidelineTemplate { WelcomingSpace, SafeguardingFirst, OnlineConduct }
);
shared_enum!(
    /// CHARITY_ENGLAND_WALES (GB-CHC), CHARITY_SCOTLAND (GB-SC), CHARITY_NORTHERN_IRELAND (GB-NIC), COMPANY (GB-COH).
    IdentifierScheme = "IdentifierScheme" => scaffold_domain::group::IdentifierScheme {
        CharityEnglandWales, CharityScotland, CharityNorthernIreland, Company
    }
);
shared_enum!(Role = "Role" => scaffold_domain::membership::Role { Owner, Organiser, Member });
shared_enum!(MembershipStatus = "MembershipStatus" => scaffold_domain::membership::MembershipStatus { Active, Pending, Invited });
shared_enum!(
    /// What a person said about an occurrence.
    RsvpResponse = "RsvpResponse" => scaffold_domain::rsvp::RsvpResponse { Going, Maybe, Declined }
);
shared_enum!(
    /// What a reply holds.
    RsvpState = "RsvpState" => scaffold_domain::rsvp::RsvpState { Confirmed, Waitlisted, NotAttending }
);
