//! Listings imported from elsewhere: the sources an operator adds (an iCalendar URL, an OpenActive
//! RPDE feed, an Open Referral UK API), their health, and the origin every imported group and event
//! carries. Imported items are read-only here: they change where they come from.

use crate::attestation::AttestationType;
use crate::group::wire_enum;
use crate::{DomainError, FieldError, PeerId, SourceId, codes, text};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const NAME_MAX: usize = 100;
pub const URL_MAX: usize = 2_000;
/// Item problems kept in a health record (the first ones of a run).
pub const PROBLEMS_KEPT: usize = 20;
/// How often a healthy source is read.
pub const SYNC_EVERY_MINUTES: i64 = 60;
/// The longest wait after failures (the wait doubles with each failure up to this).
pub const BACKOFF_MAX_MINUTES: i64 = 24 * 60;

wire_enum!(
    /// What a source speaks.
    SourceKind {
        Ical = "ical",
        Rpde = "rpde",
        Oruk = "oruk",
    }
);

wire_enum!(
    /// How a source's last run went.
    RunOutcome {
        Never = "never",
        Ok = "ok",
        Unchanged = "unchanged",
        Failed = "failed",
    }
);

/// Where an imported group or event comes from: shown on every surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: SourceId,
    /// The source's name, as the operator gave it.
    pub source_name: String,
    /// The item's id at its origin (an iCalendar UID, an RPDE item id, an ORUK id).
    pub key: String,
    /// The item's own page at its origin, when it has one.
    pub url: Option<String>,
    /// When the source last listed the item.
    pub seen_at: DateTime<Utc>,
}

/// Conditional-GET validators and, for RPDE, where to read on from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The RPDE `next` URL to read from on the next run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One item a run skipped, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProblem {
    /// The item's id at the source (or its position when it has none).
    pub item: String,
    pub message: String,
}

/// A source's health record, for operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHealth {
    pub outcome: RunOutcome,
    /// What happened, in words an operator understands.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<DateTime<Utc>>,
    pub added: u32,
    pub changed: u32,
    pub removed: u32,
    pub skipped: u32,
    /// The first problems of the last run.
    pub problems: Vec<ItemProblem>,
    pub consecutive_failures: u32,
}

impl Default for SourceHealth {
    fn default() -> Self {
        SourceHealth {
            outcome: RunOutcome::Never,
            message: "not read yet".to_owned(),
            last_run_at: None,
            last_success_at: None,
            added: 0,
            changed: 0,
            removed: 0,
            skipped: 0,
            problems: Vec::new(),
            consecutive_failures: 0,
        }
    }
}

/// A source an operator added.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: SourceId,
    pub kind: SourceKind,
    pub url: String,
    pub name: String,
    /// The peer instance the source mirrors, when it was added for one.
    pub peer_id: Option<PeerId>,
    pub state: SourceState,
    pub health: SourceHealth,
    pub next_run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl Source {
    /// When to run next after a run that ended with this many failures in a row: the interval,
    /// doubled for each failure, at most a day.
    pub fn next_run(now: DateTime<Utc>, failures: u32) -> DateTime<Utc> {
        let factor = 1_i64 << failures.min(10);
        now + Duration::minutes((SYNC_EVERY_MINUTES * factor).min(BACKOFF_MAX_MINUTES))
    }

    /// The origin of an item of this source.
    pub fn origin(&self, key: impl Into<String>, url: Option<String>, seen_at: DateTime<Utc>) -> Origin {
        Origin { source: self.id, source_name: self.name.clone(), key: key.into(), url, seen_at }
    }
}

/// Another instance this one mirrors (through sources it added for it) and, for the attestation
/// types the operator chose, trusts as an issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub id: PeerId,
    /// The peer's public URL, without a trailing slash.
    pub base_url: String,
    pub name: String,
    /// The issuer the peer's metadata names (its credentials' `iss`).
    pub issuer: String,
    /// The peer's issuer keys (a JWK Set) as discovered.
    pub jwks: serde_json::Value,
    /// The attestation types accepted from the peer.
    pub trusted_types: Vec<AttestationType>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an operator sends to add a source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceDraft {
    pub kind: String,
    pub url: String,
    pub name: String,
}

impl SourceDraft {
    /// Checks the draft: a known kind, an http(s) URL (`webcal://` is read as `https://`), a name.
    pub fn validate(&self) -> Result<(SourceKind, String, String), DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let kind = SourceKind::parse(&self.kind)
            .ok_or_else(|| FieldError::new("/kind", codes::INVALID_VALUE, "must be one of ical, rpde, oruk"));
        // The limit counts what was sent, spaces around it included.
        let url = if self.url.chars().count() > URL_MAX {
            Err(FieldError::new("/url", codes::TOO_LONG, format!("must be at most {URL_MAX} characters")))
        } else {
            text::http_url("/url", &webcal_to_https(&self.url), URL_MAX)
        };
        let name = text::bounded("/name", &self.name, 1, NAME_MAX, false);
        match (kind, url, name) {
            (Ok(k), Ok(u), Ok(n)) => Ok((k, u, n)),
            (k, u, n) => {
                errors.extend(k.err());
                errors.extend(u.err());
                errors.extend(n.err());
                Err(DomainError::invalid(errors))
            }
        }
    }
}

/// `webcal://host/path` is how calendars are offered for subscription; it is read over https.
pub fn webcal_to_https(url: &str) -> String {
    let trimmed = url.trim();
    match trimmed.get(..9) {
        Some(scheme) if scheme.eq_ignore_ascii_case("webcal://") => format!("https://{}", &trimmed[9..]),
        _ => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_day() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(Source::next_run(now, 0) - now, Duration::minutes(60));
        assert_eq!(Source::next_run(now, 1) - now, Duration::minutes(120));
        assert_eq!(Source::next_run(now, 3) - now, Duration::minutes(480));
        assert_eq!(Source::next_run(now, 5) - now, Duration::minutes(1440));
        assert_eq!(Source::next_run(now, 40) - now, Duration::minutes(1440));
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let ok = SourceDraft { kind: "ical".into(), url: "webcal://example.org/c.ics".into(), name: "Library".into() };
        assert_eq!(ok.validate().ok().map(|v| v.1), Some("https://example.org/c.ics".to_owned()));
        let bad = SourceDraft { kind: "rss".into(), url: "ftp://x".into(), name: String::new() };
        let err = bad.validate().err().map(|e| e.fields.iter().map(|f| f.pointer.clone()).collect::<Vec<_>>());
        assert_eq!(err, Some(vec!["/kind".to_owned(), "/url".to_owned(), "/name".to_owned()]));
    }
}
