//! Attestation types and their claims (DESIGN §6): what each credential type says, which of its
//! claims are selectively disclosable, how long it may be valid, and — for DBS checks — the rules
//! that keep certificate content out: only check metadata and the issuer's decision, never the
//! certificate number, its content, or whether it was blank; the Update Service status only as
//! "no new information" (new information means revoking).

use crate::codes;
use crate::group::wire_enum;
use crate::{AttestationId, DomainError, FieldError, GroupId, PersonId, text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

wire_enum!(
    /// A credential type; its `vct` is `<public URL>/vct/<type>/v1`.
    AttestationType {
        IdentityVerified = "identity-verified",
        DbsCheck = "dbs-check",
        RoleStatus = "role-status",
        Qualification = "qualification",
    }
);

/// One claim of a type: its name, a label, and whether the holder may withhold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

const fn c(name: &'static str, label: &'static str, description: &'static str) -> ClaimSpec {
    ClaimSpec { name, label, description }
}

const IDENTITY_CLAIMS: &[ClaimSpec] = &[
    c("assurance_level", "Assurance level", "low, medium or high"),
    c("assurance_source", "Assurance source", "What the level came from, e.g. GOV.UK One Login vot=P2"),
    c("verified_at", "Verified on", "The date of the verification"),
];
const DBS_CLAIMS: &[ClaimSpec] = &[
    c("level", "Check level", "basic, standard or enhanced"),
    c("barred_lists", "Barred lists checked", "children and/or adults (enhanced checks only)"),
    c("workforce", "Workforce", "child, adult, or child-and-adult"),
    c("certificate_issued_on", "Certificate issued on", "The certificate's issue date"),
    c("update_service", "Update Service", "no_new_information, when checked on the Update Service"),
    c("original_seen_on", "Original seen on", "When the issuer saw the original certificate"),
    c("decision", "Decision", "The issuer's decision: suitable for the role"),
];
const ROLE_CLAIMS: &[ClaimSpec] = &[
    c("role", "Role", "e.g. volunteer, trustee, organiser"),
    c("organisation", "Organisation", "The organisation's name"),
    c("since", "Since", "The date the role began"),
];
const QUALIFICATION_CLAIMS: &[ClaimSpec] = &[
    c("title", "Qualification", "e.g. Level 2 Food Hygiene"),
    c("awarding_body", "Awarded by", "The awarding body"),
    c("awarded_on", "Awarded on", "The award date"),
];

impl AttestationType {
    /// The type's version, part of its `vct`.
    pub const VERSION: &'static str = "v1";

    /// The `vct` on an instance at `public_url`.
    pub fn vct(self, public_url: &str) -> String {
        format!("{}/vct/{}/{}", public_url.trim_end_matches('/'), self.as_str(), Self::VERSION)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::IdentityVerified => "Identity verified",
            Self::DbsCheck => "DBS check",
            Self::RoleStatus => "Role or status",
            Self::Qualification => "Qualification",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::IdentityVerified => {
                "The holder's identity was verified to a stated level of assurance by an identity provider."
            }
            Self::DbsCheck => {
                "An organisation saw the holder's original DBS certificate and recorded the check's level, \
                 barred lists and workforce, and its decision. Never the certificate number or content."
            }
            Self::RoleStatus => "The holder has a role or status with an organisation (e.g. volunteer).",
            Self::Qualification => "The holder has a qualification or completed training.",
        }
    }

    /// The longest validity an issuer may give (DBS checks: 90 days, then re-checked).
    pub fn max_validity_days(self) -> i64 {
        match self {
            Self::DbsCheck => 90,
            Self::IdentityVerified | Self::RoleStatus => 365,
            Self::Qualification => 3 * 365,
        }
    }

    /// The selectively disclosable claims.
    pub fn claims(self) -> &'static [ClaimSpec] {
        match self {
            Self::IdentityVerified => IDENTITY_CLAIMS,
            Self::DbsCheck => DBS_CLAIMS,
            Self::RoleStatus => ROLE_CLAIMS,
            Self::Qualification => QUALIFICATION_CLAIMS,
        }
    }

    /// SD-JWT VC type metadata for the type (the document served at its `vct`).
    pub fn metadata(self, public_url: &str) -> Value {
        let claims: Vec<Value> = self
            .claims()
            .iter()
            .map(|c| {
                json!({ "path": [c.name], "sd": "allowed",
                    "display": [{ "lang": "en-GB", "label": c.label, "description": c.description }] })
            })
            .collect();
        json!({
            "vct": self.vct(public_url),
            "name": self.name(),
            "description": self.description(),
            "display": [{ "lang": "en-GB", "name": self.name(), "description": self.description() }],
            "claims": claims,
        })
    }
}

wire_enum!(
    /// The level of a DBS check.
    DbsLevel { Basic = "basic", Standard = "standard", Enhanced = "enhanced" }
);
wire_enum!(
    /// A barred list checked with an enhanced check.
    BarredList { Children = "children", Adults = "adults" }
);
wire_enum!(
    /// The workforce the check was for.
    Workforce { Child = "child", Adult = "adult", ChildAndAdult = "child-and-adult" }
);
wire_enum!(
    /// What the Update Service said. Only "no new information" can be attested: new information
    /// means the check no longer stands, and the attestation is revoked.
    UpdateService { NoNewInformation = "no_new_information" }
);
wire_enum!(
    /// The issuer's decision on the check.
    DbsDecision { Suitable = "suitable" }
);

/// A DBS check as an issuer records it. Unknown fields are refused, so a certificate number or
/// certificate content cannot be sent by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbsCheck {
    pub level: DbsLevel,
    #[serde(default)]
    pub barred_lists: Vec<BarredList>,
    pub workforce: Workforce,
    pub certificate_issued_on: NaiveDate,
    pub update_service: Option<UpdateService>,
    pub original_seen_on: NaiveDate,
    pub decision: DbsDecision,
}

impl DbsCheck {
    /// Checks the rules and gives the credential's claims.
    pub fn claims(&self, today: NaiveDate) -> Result<Map<String, Value>, DomainError> {
        let mut errors = Vec::new();
        if !self.barred_lists.is_empty() && self.level != DbsLevel::Enhanced {
            errors.push(FieldError::new(
                "/barred_lists",
                codes::BARRED_LISTS_NEED_ENHANCED,
                "barred lists are checked with enhanced checks only",
            ));
        }
        let mut lists = self.barred_lists.clone();
        lists.sort_unstable();
        lists.dedup();
        if self.certificate_issued_on > today {
            errors.push(FieldError::new("/certificate_issued_on", codes::IN_THE_FUTURE, "must not be in the future"));
        }
        if self.original_seen_on > today {
            errors.push(FieldError::new("/original_seen_on", codes::IN_THE_FUTURE, "must not be in the future"));
        }
        if self.original_seen_on < self.certificate_issued_on {
            errors.push(FieldError::new(
                "/original_seen_on",
                codes::BEFORE_ISSUE,
                "the original cannot have been seen before it was issued",
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let mut claims = Map::new();
        let _ = claims.insert("level".into(), json!(self.level.as_str()));
        if !lists.is_empty() {
            let _ = claims.insert("barred_lists".into(), json!(lists.iter().map(|l| l.as_str()).collect::<Vec<_>>()));
        }
        let _ = claims.insert("workforce".into(), json!(self.workforce.as_str()));
        let _ = claims.insert("certificate_issued_on".into(), json!(self.certificate_issued_on.to_string()));
        if let Some(u) = self.update_service {
            let _ = claims.insert("update_service".into(), json!(u.as_str()));
        }
        let _ = claims.insert("original_seen_on".into(), json!(self.original_seen_on.to_string()));
        let _ = claims.insert("decision".into(), json!(self.decision.as_str()));
        Ok(claims)
    }
}

/// How the issuer checked what it attests: recorded with the issuance, never put in the
/// credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// What was checked, e.g. "original DBS certificate".
    pub checked: String,
    /// How, e.g. "seen in person".
    pub method: String,
    pub checked_on: NaiveDate,
}

impl Evidence {
    pub fn validate(&self, today: NaiveDate) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        for (pointer, value) in [("/evidence/checked", &self.checked), ("/evidence/method", &self.method)] {
            if let Err(e) = text::bounded(pointer, value, 3, 200, false) {
                errors.push(e);
            }
        }
        if self.checked_on > today {
            errors.push(FieldError::new("/evidence/checked_on", codes::IN_THE_FUTURE, "must not be in the future"));
        }
        if errors.is_empty() { Ok(()) } else { Err(DomainError::invalid(errors)) }
    }
}

wire_enum!(
    /// Where an attestation stands. Offered: waiting for the person to accept it; active: signed
    /// and held; declined by the person; revoked by the issuer; withdrawn by the holder.
    AttestationState {
        Offered = "offered",
        Active = "active",
        Declined = "declined",
        Revoked = "revoked",
        Withdrawn = "withdrawn",
    }
);

/// A role or status with an organisation, as an issuer records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleStatus {
    pub role: String,
    pub since: NaiveDate,
}

/// A qualification, as an issuer records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub title: String,
    pub awarding_body: String,
    pub awarded_on: NaiveDate,
}

/// An attestation as stored: what the issuer attests about the person, the evidence, and,
/// once the person accepted it, the signed credential and its status list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    pub id: AttestationId,
    pub attestation_type: AttestationType,
    pub subject: PersonId,
    /// The issuing group; `None` for identity-verified credentials (issued by the instance).
    pub issuer_group: Option<GroupId>,
    pub issued_by: PersonId,
    pub state: AttestationState,
    /// The credential's selectively disclosable claims.
    pub claims: Map<String, Value>,
    pub evidence: Evidence,
    pub valid_days: i64,
    /// The SD-JWT VC with all its disclosures (for the holder), once accepted.
    pub credential: Option<String>,
    /// Status list number and index, once accepted.
    pub status: Option<(i64, i64)>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A request to issue, as the transports receive it: the claims are checked against the type.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueDraft {
    pub attestation_type: AttestationType,
    pub subject: PersonId,
    pub claims: Value,
    pub evidence: Evidence,
    pub valid_days: Option<i64>,
}

impl IssueDraft {
    /// The credential's claims (per the type's rules) and its validity in days.
    pub fn check(&self, organisation: &str, today: NaiveDate) -> Result<(Map<String, Value>, i64), DomainError> {
        let mut errors = Vec::new();
        if let Err(e) = self.evidence.validate(today) {
            errors.extend(e.fields);
        }
        let max = self.attestation_type.max_validity_days();
        let valid_days = self.valid_days.unwrap_or(max);
        if !(1..=max).contains(&valid_days) {
            errors.push(FieldError::new(
                "/valid_days",
                codes::VALIDITY_OUT_OF_RANGE,
                format!("a {} attestation is valid for 1 to {max} days", self.attestation_type),
            ));
        }
        let parse_error = |e: serde_json::Error| {
            FieldError::new("/claims", codes::INVALID_CLAIMS, text::without_values(&e.to_string()))
        };
        let claims = match self.attestation_type {
            AttestationType::DbsCheck => match serde_json::from_value::<DbsCheck>(self.claims.clone()) {
                Ok(check) => check
                    .claims(today)
                    .map_err(|e| errors.extend(e.fields.into_iter().map(|f| f.under("/claims"))))
                    .ok(),
                Err(e) => {
                    errors.push(parse_error(e));
                    None
                }
            },
            AttestationType::RoleStatus => match serde_json::from_value::<RoleStatus>(self.claims.clone()) {
                Ok(r) => {
                    if let Err(e) = text::bounded("/claims/role", &r.role, 2, 100, false) {
                        errors.push(e);
                    }
                    if r.since > today {
                        errors.push(FieldError::new(
                            "/claims/since",
                            codes::IN_THE_FUTURE,
                            "must not be in the future",
                        ));
                    }
                    let mut m = Map::new();
                    let _ = m.insert("role".into(), json!(r.role.trim()));
                    let _ = m.insert("organisation".into(), json!(organisation));
                    let _ = m.insert("since".into(), json!(r.since.to_string()));
                    Some(m)
                }
                Err(e) => {
                    errors.push(parse_error(e));
                    None
                }
            },
            AttestationType::Qualification => match serde_json::from_value::<Qualification>(self.claims.clone()) {
                Ok(q) => {
                    for (p, v) in [("/claims/title", &q.title), ("/claims/awarding_body", &q.awarding_body)] {
                        if let Err(e) = text::bounded(p, v, 2, 200, false) {
                            errors.push(e);
                        }
                    }
                    if q.awarded_on > today {
                        errors.push(FieldError::new(
                            "/claims/awarded_on",
                            codes::IN_THE_FUTURE,
                            "must not be in the future",
                        ));
                    }
                    let mut m = Map::new();
                    let _ = m.insert("title".into(), json!(q.title.trim()));
                    let _ = m.insert("awarding_body".into(), json!(q.awarding_body.trim()));
                    let _ = m.insert("awarded_on".into(), json!(q.awarded_on.to_string()));
                    Some(m)
                }
                Err(e) => {
                    errors.push(parse_error(e));
                    None
                }
            },
            AttestationType::IdentityVerified => {
                errors.push(FieldError::new(
                    "/type",
                    codes::NOT_ISSUED_BY_ORGANISATIONS,
                    "identity-verified attestations come from the person's sign-in assurance, not from an organisation",
                ));
                None
            }
        };
        match claims {
            Some(c) if errors.is_empty() => Ok((c, valid_days)),
            _ => Err(DomainError::invalid(errors)),
        }
    }
}

/// The claims of an identity-verified credential, from the person's sign-in assurance; `None`
/// when no level of assurance was asserted.
pub fn identity_claims(a: &crate::identity::Assurance) -> Option<Map<String, Value>> {
    if a.level == crate::identity::AssuranceLevel::None {
        return None;
    }
    let mut m = Map::new();
    let _ = m.insert("assurance_level".into(), json!(a.level.as_str()));
    let _ = m.insert("assurance_source".into(), json!(format!("{} {}", a.provider, a.source)));
    let _ = m.insert("verified_at".into(), json!(a.asserted_at.date_naive().to_string()));
    Some(m)
}

/// Share codes: 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), about
/// 49 bits of entropy, shown as `XXXX-XXXX-XX`.
pub mod share_code {
    const ALPHABET: &[u8; 30] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
    pub const LENGTH: usize = 10;

    /// A code from random bytes (one byte per character; rejection sampling keeps it uniform).
    pub fn generate(mut random: impl FnMut() -> u8) -> String {
        let mut code = String::with_capacity(LENGTH + 2);
        let mut n = 0;
        while n < LENGTH {
            let b = random();
            // 240 = 8 × 30: bytes above it would favour the first characters.
            if b < 240 {
                if n == 4 || n == 8 {
                    code.push('-');
                }
                code.push(char::from(ALPHABET[usize::from(b % 30)]));
                n += 1;
            }
        }
        code
    }

    /// The code as typed (any case, with or without dashes and spaces) in canonical form; `None`
    /// when it cannot be a code.
    pub fn normalize(typed: &str) -> Option<String> {
        let code: String = typed.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
        (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
    }
}

/// The longest a share may last.
pub const SHARE_MAX_DAYS: i64 = 30;
/// The most times a share may be redeemed.
pub const SHARE_MAX_USES: i64 = 100;

/// A holder's consented share: which claims of which attestation, for which verifier app (or
/// any), until when, how many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub id: crate::ShareId,
    pub attestation: AttestationId,
    /// SHA-256 of the canonical code; the code itself is shown once.
    pub code_hash: Vec<u8>,
    pub claims: Vec<String>,
    pub verifier_app: Option<crate::AppId>,
    pub max_uses: i64,
    pub uses: i64,
    pub expires_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One redemption of a share: who redeemed it and what they were told.
#[derive(Debug, Clone, PartialEq)]
pub struct Redemption {
    pub id: crate::RedemptionId,
    pub share: crate::ShareId,
    pub verifier: PersonId,
    pub app: Option<crate::AppId>,
    /// `valid`, or the reason it was not (e.g. `REVOKED`).
    pub result: String,
    pub redeemed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn check() -> DbsCheck {
        DbsCheck {
            level: DbsLevel::Enhanced,
            barred_lists: vec![BarredList::Children, BarredList::Children],
            workforce: Workforce::Child,
            certificate_issued_on: day("2026-01-10"),
            update_service: Some(UpdateService::NoNewInformation),
            original_seen_on: day("2026-02-01"),
            decision: DbsDecision::Suitable,
        }
    }

    #[test]
    fn a_dbs_check_gives_only_metadata_and_the_decision() {
        let claims = check().claims(day("2026-03-01")).unwrap();
        let names: Vec<&str> = claims.keys().map(String::as_str).collect();
        let allowed: Vec<&str> = AttestationType::DbsCheck.claims().iter().map(|c| c.name).collect();
        assert!(names.iter().all(|n| allowed.contains(n)), "{names:?}");
        assert_eq!(claims["barred_lists"], json!(["children"]), "deduplicated");
        assert_eq!(claims["update_service"], "no_new_information");
    }

    #[test]
    fn certificate_numbers_and_new_information_cannot_be_recorded() {
        let mut v = serde_json::to_value(check()).unwrap();
        v["certificate_number"] = json!("001234567890");
        assert!(serde_json::from_value::<DbsCheck>(v).is_err(), "unknown fields are refused");
        let mut v = serde_json::to_value(check()).unwrap();
        v["update_service"] = json!("new_information");
        assert!(serde_json::from_value::<DbsCheck>(v).is_err(), "only no_new_information");
        let mut v = serde_json::to_value(check()).unwrap();
        v["blank"] = json!(true);
        assert!(serde_json::from_value::<DbsCheck>(v).is_err());
    }

    #[test]
    fn inconsistent_checks_are_reported_together() {
        let bad = DbsCheck {
            level: DbsLevel::Basic,
            certificate_issued_on: day("2026-05-01"),
            original_seen_on: day("2026-04-01"),
            ..check()
        };
        let e = bad.claims(day("2026-03-01")).unwrap_err();
        let codes: Vec<&str> = e.fields.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["BARRED_LISTS_NEED_ENHANCED", "IN_THE_FUTURE", "IN_THE_FUTURE", "BEFORE_ISSUE"]);
    }

    #[test]
    fn share_codes_are_typable_and_normalised() {
        let mut n = 0u8;
        let code = share_code::generate(|| {
            n = n.wrapping_add(37);
            n
        });
        assert_eq!(code.len(), 12);
        assert_eq!(code.matches('-').count(), 2);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L', 'U']));
        let canonical = share_code::normalize(&code).unwrap();
        assert_eq!(share_code::normalize(&code.to_lowercase().replace('-', " ")), Some(canonical.clone()));
        assert_eq!(share_code::normalize("ABCD-EFGH-J0"), None, "a look-alike");
        assert_eq!(share_code::normalize("ABCD"), None);
        // 30^10 codes: more than 2^49.
        assert!(30f64.powi(10).log2() > 49.0);
    }

    #[test]
    fn every_type_has_metadata_and_a_bounded_validity() {
        for t in AttestationType::ALL {
            let m = t.metadata("https://wigan.example/");
            assert_eq!(m["vct"], format!("https://wigan.example/vct/{}/v1", t.as_str()));
            assert_eq!(m["claims"].as_array().unwrap().len(), t.claims().len());
            assert!(t.max_validity_days() <= 3 * 365);
        }
        assert_eq!(AttestationType::DbsCheck.max_validity_days(), 90);
    }
}
