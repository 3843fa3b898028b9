//! `Group`: a community group's online presence — its page details, area, visibility, join policy
//! and guidelines — and the validation of what organisers send to create or change one.

use crate::codes;
use crate::text::{self, bounded};
use crate::{FieldError, GroupId, Outcode, Slug};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const NAME_MAX: usize = 100;
pub const SUMMARY_MAX: usize = 280;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const GUIDELINES_MAX: usize = 5_000;
pub const LINKS_MAX: usize = 10;
pub const LINK_LABEL_MAX: usize = 60;
pub const URL_MAX: usize = 2_000;
pub const CATEGORIES_MAX: usize = 5;

/// Declares a string-valued enum with its wire names, `ALL`, `as_str` and `parse`.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// What sort of organisation the group is.
    GroupKind {
        CommunityGroup = "community-group",
        Charity = "charity",
        SocialEnterprise = "social-enterprise",
        FaithGroup = "faith-group",
        SportsClub = "sports-club",
        ResidentsAssociation = "residents-association",
        MutualAid = "mutual-aid",
        PublicService = "public-service",
    }
);

wire_enum!(
    /// The fixed category taxonomy (documented in `docs/taxonomy.md`).
    Category {
        AdviceSupport = "advice-support",
        ArtsCulture = "arts-culture",
        CommunityAction = "community-action",
        DigitalInclusion = "digital-inclusion",
        Disability = "disability",
        EducationLearning = "education-learning",
        Environment = "environment",
        Faith = "faith",
        Food = "food",
        HealthWellbeing = "health-wellbeing",
        HeritageHistory = "heritage-history",
        Housing = "housing",
        LgbtqPlus = "lgbtq-plus",
        MentalHealth = "mental-health",
        OlderPeople = "older-people",
        ParentsFamilies = "parents-families",
        SportPhysicalActivity = "sport-physical-activity",
        Volunteering = "volunteering",
        YoungPeople = "young-people",
    }
);

impl Category {
    /// The category in words, for people (pages, directories).
    pub fn label(self) -> &'static str {
        match self {
            Category::AdviceSupport => "Advice and support",
            Category::ArtsCulture => "Arts and culture",
            Category::CommunityAction => "Community action",
            Category::DigitalInclusion => "Digital skills",
            Category::Disability => "Disability",
            Category::EducationLearning => "Education and learning",
            Category::Environment => "Environment",
            Category::Faith => "Faith",
            Category::Food => "Food",
            Category::HealthWellbeing => "Health and wellbeing",
            Category::HeritageHistory => "Heritage and history",
            Category::Housing => "Housing",
            Category::LgbtqPlus => "LGBTQ+",
            Category::MentalHealth => "Mental health",
            Category::OlderPeople => "Older people",
            Category::ParentsFamilies => "Parents and families",
            Category::SportPhysicalActivity => "Sport and physical activity",
            Category::Volunteering => "Volunteering",
            Category::YoungPeople => "Young people",
        }
    }
}

wire_enum!(
    /// Who can see the group: everyone and in listings; anyone with the link; members only.
    Visibility { Public = "public", Unlisted = "unlisted", Private = "private" }
);

wire_enum!(
    /// How people join: at once; after an organiser approves; only when invited.
    JoinPolicy { Open = "open", Approval = "approval", Invite = "invite" }
);

wire_enum!(
    /// Archived groups are read-only and drop out of listings.
    GroupStatus { Active = "active", Archived = "archived" }
);

wire_enum!(
    /// Community guideline templates shipped with the service.
    GuidelineTemplate {
        WelcomingSpace = "welcoming-space",
        SafeguardingFirst = "safeguarding-first",
        OnlineConduct = "online-conduct",
    }
);

impl GuidelineTemplate {
    /// The template's text (CommonMark).
    pub fn text(self) -> &'static str {
        match self {
            GuidelineTemplate::WelcomingSpace => include_str!("../guidelines/welcoming-space.md"),
            GuidelineTemplate::SafeguardingFirst => {
                include_str!("../guidelines/safeguarding-first.md")
            }
            GuidelineTemplate::OnlineConduct => include_str!("../guidelines/online-conduct.md"),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            GuidelineTemplate::WelcomingSpace => "A welcoming space",
            GuidelineTemplate::SafeguardingFirst => "Safeguarding first (groups with children or vulnerable adults)",
            GuidelineTemplate::OnlineConduct => "Online conduct",
        }
    }
}

/// The group's guidelines: the template they came from (if any) and the text agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guidelines {
    pub template: Option<GuidelineTemplate>,
    pub text: String,
}

impl Default for Guidelines {
    fn default() -> Self {
        Guidelines::from_template(GuidelineTemplate::WelcomingSpace)
    }
}

impl Guidelines {
    pub fn from_template(t: GuidelineTemplate) -> Self {
        Self { template: Some(t), text: t.text().to_owned() }
    }

    pub fn custom(pointer: &str, text: &str) -> Result<Self, FieldError> {
        Ok(Self { template: None, text: bounded(pointer, text, 1, GUIDELINES_MAX, true)? })
    }
}

/// Where the group is: an outward code and a point (given, or the district centroid).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub outcode: Outcode,
    pub latitude: f64,
    pub longitude: f64,
}

impl Area {
    pub fn new(pointer: &str, outcode: &str, point: Option<(f64, f64)>) -> Result<Self, Vec<FieldError>> {
        let outcode = Outcode::parse(&format!("{pointer}/outcode"), outcode).map_err(|e| vec![e])?;
        let (latitude, longitude) = match point {
            Some((lat, lon)) => {
                let mut errs = Vec::new();
                if !(49.0..=61.0).contains(&lat) {
                    errs.push(FieldError::new(
                        format!("{pointer}/latitude"),
                        codes::OUT_OF_RANGE,
                        "must be within the UK (49 to 61)",
                    ));
                }
                if !(-9.0..=2.5).contains(&lon) {
                    errs.push(FieldError::new(
                        format!("{pointer}/longitude"),
                        codes::OUT_OF_RANGE,
                        "must be within the UK (-9 to 2.5)",
                    ));
                }
                if !errs.is_empty() {
                    return Err(errs);
                }
                (lat, lon)
            }
            None => outcode.centroid().ok_or_else(|| {
                vec![FieldError::new(format!("{pointer}/outcode"), codes::UNKNOWN_OUTCODE, "has no known location")]
            })?,
        };
        Ok(Self { outcode, latitude, longitude })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub slug: Slug,
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub kind: GroupKind,
    pub categories: Vec<Category>,
    pub area: Option<Area>,
    pub contact_email: Option<String>,
    pub links: Vec<Link>,
    pub visibility: Visibility,
    pub join_policy: JoinPolicy,
    pub guidelines: Guidelines,
    /// Registration numbers (one per register), sorted by scheme.
    pub identifiers: Vec<OrgIdentifier>,
    /// Active members. Maintained by the store in the transaction of every membership change;
    /// never written through `update_group`.
    pub member_count: i64,
    pub status: GroupStatus,
    /// Where the group comes from, when it is imported (read-only here).
    pub origin: Option<crate::source::Origin>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

wire_enum!(
    /// Registers of UK organisations, named by their org-id.guide prefixes.
    IdentifierScheme {
        CharityEnglandWales = "GB-CHC",
        CharityScotland = "GB-SC",
        CharityNorthernIreland = "GB-NIC",
        Company = "GB-COH",
    }
);

impl IdentifierScheme {
    /// Normalises a registration number for this register, or explains what it should look like.
    pub fn normalise(self, pointer: &str, raw: &str) -> Result<String, FieldError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let digits =
            |s: &str, min: usize, max: usize| s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
        let (ok, value, hint) = match self {
            IdentifierScheme::CharityEnglandWales => {
                (digits(&compact, 6, 8), compact.clone(), "a Charity Commission number of 6 to 8 digits, e.g. 1123456")
            }
            IdentifierScheme::CharityScotland => {
                let ok = compact.strip_prefix("SC").is_some_and(|d| digits(d, 6, 6));
                (ok, compact.clone(), "an OSCR number: SC and 6 digits, e.g. SC012345")
            }
            IdentifierScheme::CharityNorthernIreland => {
                let d = compact.strip_prefix("NIC").unwrap_or(&compact);
                (
                    digits(d, 6, 6),
                    d.to_owned(),
                    "a Charity Commission for Northern Ireland number of 6 digits, e.g. 100123",
                )
            }
            IdentifierScheme::Company => {
                let padded = if digits(&compact, 1, 8) { format!("{compact:0>8}") } else { compact.clone() };
                let b = padded.as_bytes();
                let ok = b.len() == 8
                    && (padded.bytes().all(|c| c.is_ascii_digit())
                        || (b[..2].iter().all(u8::is_ascii_uppercase) && b[2..].iter().all(u8::is_ascii_digit)));
                (ok, padded, "a Companies House number: 8 digits, or 2 letters and 6 digits, e.g. 01234567 or SC123456")
            }
        };
        if ok { Ok(value) } else { Err(FieldError::new(pointer, codes::INVALID_IDENTIFIER, format!("must be {hint}"))) }
    }
}

/// A registration number the group claims, and whether an operator has verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgIdentifier {
    pub scheme: IdentifierScheme,
    pub value: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<crate::PersonId>,
}

/// Guidelines as sent by a client: a template name or custom text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuidelinesInput {
    Template(GuidelineTemplate),
    Custom(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AreaInput {
    pub outcode: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Unvalidated input for a new group, as the transports receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDraft {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub kind: GroupKind,
    pub categories: Vec<Category>,
    pub area: Option<AreaInput>,
    pub contact_email: Option<String>,
    pub links: Vec<Link>,
    pub visibility: Visibility,
    pub join_policy: JoinPolicy,
    pub guidelines: Option<GuidelinesInput>,
}

/// A change to a group. `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub description: Option<Option<String>>,
    pub kind: Option<GroupKind>,
    pub categories: Option<Vec<Category>>,
    pub area: Option<Option<AreaInput>>,
    pub contact_email: Option<Option<String>>,
    pub links: Option<Vec<Link>>,
    pub visibility: Option<Visibility>,
    pub join_policy: Option<JoinPolicy>,
    pub guidelines: Option<GuidelinesInput>,
}

impl GroupPatch {
    /// Names of the fields the patch sets, for the audit log.
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! f { ($($n:ident),*) => { $(if self.$n.is_some() { v.push(stringify!($n)); })* } }
        f!(
            name,
            summary,
            description,
            kind,
            categories,
            area,
            contact_email,
            links,
            visibility,
            join_policy,
            guidelines
        );
        v
    }
}

/// Collects field errors from several checks.
#[derive(Default)]
struct Checks(Vec<FieldError>);

impl Checks {
    fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    fn take_many<T>(&mut self, r: Result<T, Vec<FieldError>>) -> Option<T> {
        r.map_err(|e| self.0.extend(e)).ok()
    }
}

fn categories(v: &[Category]) -> Result<Vec<Category>, FieldError> {
    if v.len() > CATEGORIES_MAX {
        return Err(FieldError::new("/categories", codes::TOO_MANY, format!("at most {CATEGORIES_MAX} categories")));
    }
    let mut out = v.to_vec();
    out.sort();
    out.dedup();
    if out.len() != v.len() {
        return Err(FieldError::new("/categories", codes::DUPLICATE, "categories must not repeat"));
    }
    Ok(out)
}

fn links(v: &[Link]) -> Result<Vec<Link>, Vec<FieldError>> {
    if v.len() > LINKS_MAX {
        return Err(vec![FieldError::new("/links", codes::TOO_MANY, format!("at most {LINKS_MAX} links"))]);
    }
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for (i, l) in v.iter().enumerate() {
        let label = bounded(&format!("/links/{i}/label"), &l.label, 1, LINK_LABEL_MAX, false);
        let url = text::http_url(&format!("/links/{i}/url"), &l.url, URL_MAX);
        match (label, url) {
            (Ok(label), Ok(url)) => out.push(Link { label, url }),
            (a, b) => errs.extend(a.err().into_iter().chain(b.err())),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

fn area(a: &AreaInput) -> Result<Area, Vec<FieldError>> {
    let point = match (a.latitude, a.longitude) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        (None, None) => None,
        _ => {
            return Err(vec![FieldError::new(
                "/area",
                codes::INCOMPLETE_POINT,
                "give both latitude and longitude, or neither",
            )]);
        }
    };
    Area::new("/area", &a.outcode, point)
}

fn guidelines(g: &GuidelinesInput) -> Result<Guidelines, FieldError> {
    match g {
        GuidelinesInput::Template(t) => Ok(Guidelines::from_template(*t)),
        GuidelinesInput::Custom(text) => Guidelines::custom("/guidelines/custom", text),
    }
}

fn optional<T>(v: Option<&String>, f: impl FnOnce(&str) -> Result<T, FieldError>) -> Result<Option<T>, FieldError> {
    match v.map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(s) => f(s).map(Some),
    }
}

/// A validated new group, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidGroup {
    pub slug: Slug,
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub kind: GroupKind,
    pub categories: Vec<Category>,
    pub area: Option<Area>,
    pub contact_email: Option<String>,
    pub links: Vec<Link>,
    pub visibility: Visibility,
    pub join_policy: JoinPolicy,
    pub guidelines: Guidelines,
}

impl GroupDraft {
    /// Validates every field, reporting all problems at once.
    pub fn validate(&self) -> Result<ValidGroup, Vec<FieldError>> {
        let mut c = Checks::default();
        let slug = c.take(Slug::parse("/slug", self.slug.trim()));
        let name = c.take(bounded("/name", &self.name, 3, NAME_MAX, false));
        let summary = c.take(bounded("/summary", &self.summary, 1, SUMMARY_MAX, false));
        let description =
            c.take(optional(self.description.as_ref(), |s| bounded("/description", s, 1, DESCRIPTION_MAX, true)));
        let categories = c.take(categories(&self.categories));
        let area = c.take_many(self.area.as_ref().map(area).transpose());
        let contact_email = c.take(optional(self.contact_email.as_ref(), |s| text::email("/contact_email", s)));
        let links = c.take_many(links(&self.links));
        let guidelines = c.take(self.guidelines.as_ref().map(guidelines).transpose());
        match (slug, name, summary, description, categories, area, contact_email, links, guidelines) {
            (
                Some(slug),
                Some(name),
                Some(summary),
                Some(description),
                Some(categories),
                Some(area),
                Some(contact_email),
                Some(links),
                Some(guidelines),
            ) if c.0.is_empty() => Ok(ValidGroup {
                slug,
                name,
                summary,
                description,
                kind: self.kind,
                categories,
                area,
                contact_email,
                links,
                visibility: self.visibility,
                join_policy: self.join_policy,
                guidelines: guidelines.unwrap_or_default(),
            }),
            _ => Err(c.0),
        }
    }
}

impl Group {
    /// Applies a patch to a copy of the group, validating every changed field.
    pub fn patched(&self, p: &GroupPatch) -> Result<Group, Vec<FieldError>> {
        let mut c = Checks::default();
        let mut g = self.clone();
        if let Some(v) = &p.name {
            g.name = c.take(bounded("/name", v, 3, NAME_MAX, false)).unwrap_or_default();
        }
        if let Some(v) = &p.summary {
            g.summary = c.take(bounded("/summary", v, 1, SUMMARY_MAX, false)).unwrap_or_default();
        }
        if let Some(v) = &p.description {
            g.description = c
                .take(optional(v.as_ref(), |s| bounded("/description", s, 1, DESCRIPTION_MAX, true)))
                .unwrap_or_default();
        }
        if let Some(v) = p.kind {
            g.kind = v;
        }
        if let Some(v) = &p.categories {
            g.categories = c.take(categories(v)).unwrap_or_default();
        }
        if let Some(v) = &p.area {
            g.area = c.take_many(v.as_ref().map(area).transpose()).flatten();
        }
        if let Some(v) = &p.contact_email {
            g.contact_email = c.take(optional(v.as_ref(), |s| text::email("/contact_email", s))).unwrap_or_default();
        }
        if let Some(v) = &p.links {
            g.links = c.take_many(links(v)).unwrap_or_default();
        }
        if let Some(v) = p.visibility {
            g.visibility = v;
        }
        if let Some(v) = p.join_policy {
            g.join_policy = v;
        }
        if let Some(v) = &p.guidelines
            && let Some(gl) = c.take(guidelines(v))
        {
            g.guidelines = gl;
        }
        if c.0.is_empty() { Ok(g) } else { Err(c.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> GroupDraft {
        GroupDraft {
            slug: "wigan-techmates".into(),
            name: "Wigan TechMates".into(),
            summary: "Tea, cake and help with phones and tablets.".into(),
            description: None,
            kind: GroupKind::CommunityGroup,
            categories: vec![Category::DigitalInclusion],
            area: Some(AreaInput { outcode: "wn1".into(), latitude: None, longitude: None }),
            contact_email: None,
            links: vec![],
            visibility: Visibility::Public,
            join_policy: JoinPolicy::Open,
            guidelines: None,
        }
    }

    #[test]
    fn a_valid_draft_gets_centroid_and_default_guidelines() {
        let g = draft().validate().unwrap();
        let area = g.area.unwrap();
        assert_eq!(area.outcode.as_str(), "WN1");
        assert_eq!((area.latitude, area.longitude), (53.55104, -2.63014));
        assert_eq!(g.guidelines.template, Some(GuidelineTemplate::WelcomingSpace));
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let mut d = draft();
        d.slug = "API".into();
        d.name = "x".repeat(101);
        d.summary = "s".repeat(281);
        d.links = vec![Link { label: "site".into(), url: "ftp://x".into() }];
        d.area = Some(AreaInput { outcode: "ZZ9".into(), latitude: None, longitude: None });
        let errs = d.validate().unwrap_err();
        let pointers: Vec<_> = errs.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/slug", "/name", "/summary", "/area/outcode", "/links/0/url"]);
    }

    #[test]
    fn identifiers_are_normalised_per_register() {
        let n = |s: IdentifierScheme, v: &str| s.normalise("/value", v).map_err(|e| e.code);
        assert_eq!(n(IdentifierScheme::CharityEnglandWales, " 1123 456 "), Ok("1123456".into()));
        assert_eq!(n(IdentifierScheme::CharityEnglandWales, "12345"), Err("INVALID_IDENTIFIER"));
        assert_eq!(n(IdentifierScheme::CharityScotland, "sc012345"), Ok("SC012345".into()));
        assert_eq!(n(IdentifierScheme::CharityScotland, "012345"), Err("INVALID_IDENTIFIER"));
        assert_eq!(n(IdentifierScheme::CharityNorthernIreland, "NIC100123"), Ok("100123".into()));
        assert_eq!(n(IdentifierScheme::Company, "1234567"), Ok("01234567".into()));
        assert_eq!(n(IdentifierScheme::Company, "sc123456"), Ok("SC123456".into()));
        assert_eq!(n(IdentifierScheme::Company, "S1234567"), Err("INVALID_IDENTIFIER"));
        assert_eq!(n(IdentifierScheme::Company, "123456789"), Err("INVALID_IDENTIFIER"));
    }

    #[test]
    fn templates_are_distinct_and_non_empty() {
        let texts: std::collections::HashSet<_> = GuidelineTemplate::ALL.iter().map(|t| t.text()).collect();
        assert_eq!(texts.len(), 3);
        assert!(texts.iter().all(|t| t.len() > 100));
    }

    #[test]
    fn patch_can_clear_optional_fields_and_validates_changes() {
        let g0 = draft().validate().unwrap();
        let group = Group {
            id: crate::GroupId(uuid::Uuid::nil()),
            slug: g0.slug,
            name: g0.name,
            summary: g0.summary,
            description: Some("hello".into()),
            kind: g0.kind,
            categories: g0.categories,
            area: g0.area,
            contact_email: None,
            links: vec![],
            visibility: g0.visibility,
            join_policy: g0.join_policy,
            guidelines: g0.guidelines,
            identifiers: vec![],
            member_count: 1,
            origin: None,
            status: GroupStatus::Active,
            version: 1,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        let p = GroupPatch { description: Some(None), area: Some(None), ..Default::default() };
        let g = group.patched(&p).unwrap();
        assert_eq!((g.description, g.area), (None, None));
        let bad = GroupPatch { summary: Some(String::new()), ..Default::default() };
        assert_eq!(group.patched(&bad).unwrap_err()[0].code, "REQUIRED");
    }
}
