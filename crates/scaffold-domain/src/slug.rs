//! `Slug`: the stable, lowercase, URL-safe name of a group (`wigan-techmates`).

use crate::FieldError;
use crate::codes;
use std::fmt;

/// Words that would collide with routes or mislead people.
pub const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "apps",
    "assets",
    "audit",
    "auth",
    "callback",
    "dashboard",
    "events",
    "feeds",
    "graphql",
    "groups",
    "health",
    "healthz",
    "help",
    "login",
    "logout",
    "me",
    "metrics",
    "new",
    "oauth",
    "operator",
    "oruk",
    "readyz",
    "root",
    "settings",
    "static",
    "status",
    "status-lists",
    "support",
    "system",
    "vct",
    "well-known",
    "www",
];

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 60;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug: 3–60 characters of `a-z`, `0-9` and single hyphens, starting and ending
    /// with a letter or digit, and not a reserved word.
    pub fn parse(pointer: &str, s: &str) -> Result<Self, FieldError> {
        let err = |code, msg: &str| Err(FieldError::new(pointer, code, msg));
        let len = s.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return err(codes::INVALID_SLUG, "must be 3 to 60 characters long");
        }
        if s.chars().any(|c| c.is_ascii_uppercase()) {
            return err(codes::INVALID_SLUG, "must be lowercase");
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return err(codes::INVALID_SLUG, "may contain only a-z, 0-9 and hyphens");
        }
        if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return err(codes::INVALID_SLUG, "hyphens must separate words (no leading, trailing or double hyphens)");
        }
        if RESERVED.contains(&s) {
            return err(codes::SLUG_RESERVED, "is a reserved word");
        }
        Ok(Self(s.to_owned()))
    }

    /// For values read back from storage, which were validated on the way in.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_slugs() {
        for s in ["wigan-techmates", "abc", "casserole-club-2", "a1b"] {
            assert!(Slug::parse("/slug", s).is_ok(), "{s}");
        }
    }

    #[test]
    fn refuses_bad_slugs_with_codes() {
        let code = |s: &str| Slug::parse("/slug", s).unwrap_err().code;
        assert_eq!(code("Wigan"), "INVALID_SLUG");
        assert_eq!(code("wigan techmates"), "INVALID_SLUG");
        assert_eq!(code("ab"), "INVALID_SLUG");
        assert_eq!(code("-abc"), "INVALID_SLUG");
        assert_eq!(code("a--b"), "INVALID_SLUG");
        assert_eq!(code("café"), "INVALID_SLUG");
        assert_eq!(code(&"a".repeat(61)), "INVALID_SLUG");
        for r in ["api", "admin", "graphql"] {
            assert_eq!(code(r), "SLUG_RESERVED");
        }
    }
}
