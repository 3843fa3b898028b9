//! OAuth-style scopes (DESIGN §5) and the set a credential carries. `admin` is the instance
//! operator's scope.

use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    GroupsRead,
    GroupsWrite,
    EventsRead,
    EventsWrite,
    RsvpWrite,
    AttestationsIssue,
    AttestationsVerify,
    /// Act as the holder of one's attestations (list, download, accept, decline, withdraw, share)
    /// through a delegated credential (an app or an access token). The person themselves needs
    /// only `profile`; see `docs/decisions.md`.
    AttestationsHold,
    Profile,
    /// Publish council notices to the groups of an area or interest.
    NoticesPublish,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::GroupsRead,
        Scope::GroupsWrite,
        Scope::EventsRead,
        Scope::EventsWrite,
        Scope::RsvpWrite,
        Scope::AttestationsIssue,
        Scope::AttestationsVerify,
        Scope::AttestationsHold,
        Scope::Profile,
        Scope::NoticesPublish,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::GroupsRead => "groups:read",
            Scope::GroupsWrite => "groups:write",
            Scope::EventsRead => "events:read",
            Scope::EventsWrite => "events:write",
            Scope::RsvpWrite => "rsvp:write",
            Scope::AttestationsIssue => "attestations:issue",
            Scope::AttestationsVerify => "attestations:verify",
            Scope::AttestationsHold => "attestations:hold",
            Scope::Profile => "profile",
            Scope::NoticesPublish => "notices:publish",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written as a space-separated string in storage and tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().collect())
    }

    pub fn all() -> Self {
        Self::new(Scope::ALL)
    }

    pub fn contains(&self, s: Scope) -> bool {
        self.0.contains(&s)
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Parses a space- or comma-separated list; returns the unknown word on failure.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split([' ', ','])
            .filter(|w| !w.is_empty())
            .map(|w| Scope::parse(w).ok_or_else(|| w.to_owned()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<_> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_name_unknown_words() {
        let s = Scopes::parse("groups:read, groups:write admin").unwrap();
        assert_eq!(s.to_string(), "groups:read groups:write admin");
        assert_eq!(Scopes::parse(&s.to_string()).unwrap(), s);
        assert_eq!(Scopes::parse("groups:read nope").unwrap_err(), "nope");
    }
}
