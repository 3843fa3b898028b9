use chrono::{DateTime, Utc};
use scaffold_domain::group::{Category, Group};
use scaffold_domain::membership::Membership;
use scaffold_domain::{ApiKeyId, GroupId, PersonId, Scopes};

/// A stored API key. Only the SHA-256 of the token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub person_id: PersonId,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A remembered `Idempotency-Key`: the same key with the same request gives the same resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Whose key it is (keys are per principal).
    pub scope: String,
    pub key: String,
    /// SHA-256 (hex) of the canonical request, to refuse the key's reuse for another request.
    pub request_hash: String,
    pub resource_id: String,
    pub created_at: DateTime<Utc>,
}

/// Filters for listing groups. Lists show active groups that are public, plus those the viewer is
/// an active member of; `all_visibilities` (operators) lifts the visibility filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupQuery {
    pub viewer: Option<PersonId>,
    pub all_visibilities: bool,
    pub outcode: Option<String>,
    pub category: Option<Category>,
    /// Lower-cased words, each of which must appear in the name or summary.
    pub text: Vec<String>,
    /// Groups whose area is within this distance of a point.
    pub near: Option<Near>,
    /// Groups changed at or after this time.
    pub modified_after: Option<chrono::DateTime<chrono::Utc>>,
    /// The instance's own groups only (no imported ones).
    pub local_only: bool,
    /// Keyset cursor: (sort name, id) of the last group of the previous page.
    pub after: Option<(String, GroupId)>,
    /// Groups skipped before the page (for numbered pages; the keyset cursor is cheaper).
    pub offset: u32,
    pub limit: u32,
}

/// A point and a distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub latitude: f64,
    pub longitude: f64,
    pub meters: f64,
}

impl Near {
    /// The comparison the stores make, in plain arithmetic both databases have: the squared
    /// distance in degrees of latitude, with longitude scaled by the cosine of the point's
    /// latitude (an equirectangular approximation, well within 1 % below 200 km in Great Britain).
    /// Returns (longitude scale, squared limit).
    pub fn terms(&self) -> (f64, f64) {
        let scale = self.latitude.to_radians().cos();
        let limit = self.meters / 111_195.0;
        (scale, limit * limit)
    }
}

/// The key groups are listed by: the name folded to lower case.
pub fn sort_name(g: &Group) -> String {
    g.name.to_lowercase()
}

/// Text the `text` filter searches: name and summary, lower-cased.
pub fn search_text(g: &Group) -> String {
    format!("{} {}", g.name, g.summary).to_lowercase()
}

/// Escapes `%`, `_` and `\` for a `like … escape '\'` pattern.
pub fn like_pattern(word: &str) -> String {
    let mut s = String::with_capacity(word.len() + 2);
    s.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    /// Insert or replace the membership.
    Put(Membership),
    Remove {
        group_id: GroupId,
        person_id: PersonId,
    },
}

impl MembershipChange {
    pub fn group_id(&self) -> GroupId {
        match self {
            MembershipChange::Put(m) => m.group_id,
            MembershipChange::Remove { group_id, .. } => *group_id,
        }
    }
}
