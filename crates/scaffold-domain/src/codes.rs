//! Every error code the service returns, in one catalogue: REST problem documents (`code`, and
//! `errors[].code` for fields), GraphQL errors (`extensions.code`) and the verifier's results use
//! these constants, and `docs/api.md`'s code table is generated from `CATALOGUE` (a test checks
//! that the table is current and that no code is used without being listed here). Codes are
//! stable: add new ones, never rename.

/// A group of codes that share an HTTP status (or a place in the response).
#[derive(Debug)]
pub struct Section {
    /// The status, or where the code appears.
    pub status: &'static str,
    pub title: &'static str,
    pub codes: &'static [(&'static str, &'static str)],
}

macro_rules! catalogue {
    ($( $status:literal $title:literal { $( $code:ident : $meaning:literal ),* $(,)? } )*) => {
        $( $( pub const $code: &str = stringify!($code); )* )*

        /// The catalogue, in the order of `docs/api.md`'s table.
        pub const CATALOGUE: &[Section] = &[
            $( Section { status: $status, title: $title, codes: &[ $( ($code, $meaning) ),* ] } ),*
        ];
    };
}

catalogue! {
    "400" "Refused before it runs" {
        MALFORMED_JSON: "the body is not JSON",
        UNREADABLE_BODY: "the body could not be read",
        HTTP_ERROR: "the request is not valid HTTP for this route",
        BAD_REQUEST: "not a GraphQL request",
        GRAPHQL_PARSE_FAILED: "the GraphQL document does not parse",
        BATCH_TOO_LARGE: "too many operations in one GraphQL batch",
        TOO_MANY_ALIASES: "too many aliases in one GraphQL document",
        FRAGMENT_CYCLE: "GraphQL fragments that spread each other",
        INTROSPECTION_DISABLED: "`__schema` or `__type` while introspection is off",
    }
    "400, 401 token" "The token endpoint (`POST /oauth/token`), as RFC 6749 errors with a problem document's members" {
        INVALID_REQUEST: "a malformed request (`invalid_request`, 400)",
        INVALID_SCOPE: "a scope the app was not granted (`invalid_scope`, 400)",
        UNSUPPORTED_GRANT_TYPE: "`client_credentials`, `authorization_code` and `refresh_token` only (`unsupported_grant_type`, 400)",
        INVALID_GRANT: "a code or refresh token that is unknown, used, expired, revoked, for another app or redirect URI, or whose PKCE verifier does not match (`invalid_grant`, 400)",
        UNAUTHORIZED_CLIENT: "the app may not use this grant (`unauthorized_client`, 400)",
        INVALID_CLIENT: "unknown app or wrong secret (`invalid_client`, 401)",
    }
    "401" "Who is calling is not known (with `WWW-Authenticate`)" {
        UNAUTHENTICATED: "no credential, or one that is not valid",
        INVALID_TOKEN: "an access token that is malformed, expired or not ours",
        ACCOUNT_DELETED: "the account behind the credential was deleted",
        IDENTITY_NOT_LINKED: "a provider's token for an identity linked to no account",
        LOGIN_DENIED: "the OpenID Provider refused the sign-in",
        LOGIN_FAILED: "the sign-in could not be completed with the OpenID Provider",
        SESSION_EXPIRED: "the session ended; sign in again",
    }
    "403" "Known, but not allowed" {
        INSUFFICIENT_SCOPE: "the credential lacks the scope named in the message",
        PERSON_CREDENTIAL_REQUIRED: "only the person themselves (a session or their own key), not an app acting for them",
        SESSION_REQUIRED: "only a signed-in session may do this",
        CROSS_SITE_REQUEST: "a sign-in request from another site",
        GROUP_ROLE_REQUIRED: "the group's organisers or owners only",
        GROUP_INVITE_ONLY: "the group is invite-only",
        GROUP_MEMBERS_ONLY: "the group's members only",
        SCOPE_NOT_HELD: "a key cannot carry a scope its owner does not hold",
        ISSUER_NOT_AUTHORISED: "the group may not issue this type of attestation",
    }
    "404" "Not found (or not visible to the caller)" {
        ROUTE_NOT_FOUND: "no such route",
        NOT_FOUND: "the resource does not exist",
        GROUP_NOT_FOUND: "no such group",
        MEMBERSHIP_NOT_FOUND: "no such membership",
        PERSON_NOT_FOUND: "no such person",
        API_KEY_NOT_FOUND: "no live key with that id",
        APP_NOT_FOUND: "no app with that id that the caller can see",
        IDENTIFIER_NOT_FOUND: "the group has no number on that register",
        IDENTIFIER_SCHEME_UNKNOWN: "no such register",
        EVENT_NOT_FOUND: "no such event",
        RSVP_NOT_FOUND: "no such reply",
        GRANT_NOT_FOUND: "no app acts for you under that grant",
        SERIES_RSVP_NOT_FOUND: "you have no reply to the whole series of this event",
        CALENDAR_FEED_NOT_FOUND: "no such calendar feed (its link was replaced or turned off)",
        OCCURRENCE_NOT_CHANGED: "that date of the series has no change to undo",
        PROVIDER_NOT_FOUND: "no such OpenID Provider",
        ATTESTATION_NOT_FOUND: "no such attestation",
        SHARE_NOT_FOUND: "no such share",
        STATUS_LIST_NOT_FOUND: "no such status list",
        TYPE_NOT_FOUND: "no such attestation type",
        SOURCE_NOT_FOUND: "no such source",
        PEER_NOT_FOUND: "no such peer",
        WEBHOOK_NOT_FOUND: "no such webhook",
        NOTICE_NOT_FOUND: "no such notice",
        DELIVERY_NOT_FOUND: "the webhook has no delivery of that change",
    }
    "405" "Method not allowed (with `Allow`)" {
        METHOD_NOT_ALLOWED: "the route does not take this method",
    }
    "409" "Conflicts with the current state" {
        CONFLICT: "a resource with the same key already exists",
        GROUP_SLUG_TAKEN: "another group has this slug",
        GROUP_LAST_OWNER: "the group would be left without an owner",
        ACCOUNT_OWNS_GROUPS: "the account is the last owner of a group",
        GROUP_ARCHIVED: "the group is archived",
        GROUP_BUSY: "the group kept changing while this was saved: try again",
        ALREADY_MEMBER: "the person already has a membership of this group",
        MEMBERSHIP_NOT_PENDING: "the membership is not waiting for approval",
        MEMBERSHIP_NOT_ACTIVE: "only active members can be given a role",
        IDEMPOTENCY_KEY_IN_USE: "a request with this key is still running",
        EVENT_BUSY: "the series kept changing while a date was changed: try again",
        CAPACITY_BELOW_ATTENDANCE: "the capacity is below the places already confirmed",
        BOOKING_EXTERNAL: "the event is booked elsewhere",
        OCCURRENCE_NOT_SCHEDULED: "that date is cancelled or postponed",
        OCCURRENCE_PAST: "that date has started",
        NO_UPCOMING_DATES: "the event has no upcoming dates to reply to",
        APP_REVOKED: "the app is revoked (401 for a token of a revoked app)",
        IDENTITY_LINKED_ELSEWHERE: "the identity is linked to another account",
        KEY_FROM_CONFIG: "the key comes from the configuration and cannot be rotated here",
        ATTESTATION_STATE: "the attestation is not in a state that allows this",
        SELF_ISSUE: "no one issues an attestation to themselves",
        ISSUER_NOT_VERIFIED: "the issuing group's charity or company number is not verified",
        NO_VERIFIED_IDENTITY: "the account has no identity verified by a provider",
        SHARE_WITHDRAWN: "the share was withdrawn",
        SHARE_EXPIRED: "the share has expired",
        SHARE_USED_UP: "the share was redeemed as often as allowed",
        SHARE_NOT_FOR_YOU: "the share is for another verifier",
        ATTESTATION_REVOKED: "the attestation behind the share was revoked",
        ATTESTATION_EXPIRED: "the attestation behind the share has expired",
        ATTESTATION_INVALID: "the attestation behind the share no longer verifies",
        IMPORTED_READ_ONLY: "the group or event is imported from a source: change it where it comes from",
        SOURCE_EXISTS: "a source of this kind and URL is already added",
        PEER_EXISTS: "a peer with this base URL is already added",
        WEBHOOK_DISABLED: "the webhook is disabled: enable it first",
    }
    "412" "Precondition failed" {
        VERSION_MISMATCH: "`If-Match` names a version that is no longer current",
    }
    "413" "Too large" {
        PAYLOAD_TOO_LARGE: "the body is over the limit",
    }
    "415" "Unsupported media type" {
        UNSUPPORTED_MEDIA_TYPE: "the body is not `application/json`",
    }
    "422" "Not acceptable as sent" {
        VALIDATION_FAILED: "one or more fields are invalid: see `errors` (REST) or `extensions.fields` (GraphQL)",
        IDEMPOTENCY_KEY_REUSED: "the key was used for a different request",
        PRESENTATION_INVALID: "the presentation does not verify: the verifier's code is in the detail (docs/verifiers.md)",
        LOGIN_FLOW_MISSING: "the sign-in cookie is missing",
        LOGIN_FLOW_UNKNOWN: "the sign-in is unknown or was used",
        LOGIN_FLOW_EXPIRED: "the sign-in took too long",
        LOGIN_FLOW_MISMATCH: "the sign-in came back from another provider",
        LOGIN_STATE_MISMATCH: "the sign-in's state does not match",
        LOGIN_CODE_MISSING: "the provider sent no code",
        SIGN_IN_LINK_UNUSABLE: "the sign-in link is unknown, was used or has expired",
    }
    "422 field" "Field codes, in `errors[]` of `VALIDATION_FAILED`" {
        REQUIRED: "missing",
        UNKNOWN_FIELD: "not a field of this input",
        INVALID_TYPE: "the wrong JSON type",
        INVALID_VALUE: "not one of the allowed values",
        INVALID: "not readable as this field",
        TOO_SHORT: "too short (or blank)",
        TOO_LONG: "too long",
        TOO_MANY: "too many items",
        DUPLICATE: "an item given twice",
        ONE_OF: "give exactly one of these",
        CONTROL_CHARACTER: "control characters are not allowed",
        OUT_OF_RANGE: "outside the allowed range (page sizes: 1 to 100)",
        INVALID_SLUG: "not a slug: 3 to 60 lower-case letters, digits and single hyphens",
        PEER_UNREACHABLE: "the instance's issuer metadata or dataset could not be read there (the message says why)",
        UNKNOWN_PERSON: "no person has this id (an invitation's `person_id`)",
        UNKNOWN_CHANGE_TYPE: "not a change type (docs/webhooks.md lists them)",
        SCOPE_NOT_GRANTED: "the app is not granted the scope this needs",
        PRIVATE_ADDRESS: "the URL's host is a private, loopback or link-local address",
        SLUG_RESERVED: "a reserved word",
        INVALID_OUTCODE: "not an outward code",
        UNKNOWN_OUTCODE: "not a known UK postcode district",
        INVALID_POSTCODE: "not a UK postcode",
        INCOMPLETE_POINT: "latitude and longitude go together",
        INVALID_COORDINATES: "not a point in the UK",
        INVALID_EMAIL: "not an e-mail address",
        INVALID_URL: "not an http(s) URL",
        INVALID_IDENTIFIER: "not a number on that register",
        INVALID_REDIRECT_URI: "not an allowed redirect URI",
        UNKNOWN_SCOPE: "not a scope",
        NOT_REQUESTED: "a scope the app did not ask for",
        INVALID_CURSOR: "not a cursor this list gave",
        INVALID_PARAMETER: "a query parameter that cannot be read",
        INVALID_IDEMPOTENCY_KEY: "`Idempotency-Key` must be 1 to 255 printable ASCII characters",
        INVALID_FEED_POSITION: "not a position in this feed",
        AREA_REQUIRED: "a radius needs a centre",
        AREA_TWICE: "an outward code or a point, not both",
        RADIUS_OUT_OF_RANGE: "the radius is 0.1 to 50 km",
        DATE_RANGE_EMPTY: "`to` is not after `from`",
        DATE_RANGE_TOO_LONG: "the window is too long",
        DATE_RANGE_OUTSIDE_LISTINGS: "outside the dates the service lists",
        WINDOW_OUT_OF_RANGE: "the window is at most 366 days",
        END_BEFORE_START: "the end is not after the start",
        START_AND_END: "start and end go together",
        INVALID_LOCAL_TIME: "not a local date and time",
        INVALID_TIMEZONE: "not an IANA time zone",
        INVALID_RRULE: "not a recurrence rule the service takes",
        RRULE_FREQUENCY: "weekly or monthly series only",
        NOT_A_SERIES: "the event does not repeat",
        OCCURRENCE_NOT_IN_SERIES: "not a date of this series",
        PLACE_OR_ONLINE: "a place, an online link, or both",
        PARTY_SIZE_OUT_OF_RANGE: "1 to 10 people, and at most the capacity",
        UNKNOWN_FORMAT: "not a format this list offers",
        UNKNOWN_ACTIVITY: "not an activity of the OpenActive list",
        INVALID_CLAIMS: "the claims do not fit the attestation type",
        INVALID_HOLDER_KEY: "not a public P-256 key",
        UNKNOWN_CLAIM: "not a claim of this attestation",
        VALIDITY_OUT_OF_RANGE: "outside the type's validity",
        BARRED_LISTS_NEED_ENHANCED: "barred lists go with enhanced checks only",
        BEFORE_ISSUE: "before the certificate was issued",
        IN_THE_FUTURE: "a date in the future",
        NOT_ISSUED_BY_ORGANISATIONS: "this type is not issued by groups",
    }
    "428" "Precondition required" {
        PRECONDITION_REQUIRED: "a change needs `If-Match` with the current version",
    }
    "429" "Too many requests (with `Retry-After` and `RateLimit` headers)" {
        RATE_LIMITED: "over the limit for this caller",
    }
    "500, 503" "Our side: never with internal detail; the cause is logged with the request id (`x-request-id`)" {
        INTERNAL: "an internal error",
        UNAVAILABLE: "a service the request needs is unavailable: try again",
        STORE_UNAVAILABLE: "the database is unavailable: try again",
        NOT_READY: "the server is starting or stopping",
    }
    "GraphQL 200" "Refused by GraphQL validation (no `data`), or a response over the limit" {
        QUERY_TOO_DEEP: "nested deeper than allowed",
        QUERY_TOO_COMPLEX: "more fields than allowed",
        GRAPHQL_VALIDATION_FAILED: "unknown fields, wrong argument types and the like",
        RESPONSE_TOO_LARGE: "the answer is larger than `graphql.max_response_bytes`",
    }
    "verifier" "Results of the verifier (API `verify`, `scaffold verify`) beside the credential checks of `docs/verifiers.md`" {
        HOLDER_NOT_CHECKED: "the credential is holder-bound but no key binding was checked",
        KB_NONCE_REUSED: "the nonce was used by an earlier presentation",
    }
}

/// The catalogue as the Markdown table in `docs/api.md`.
pub fn markdown_table() -> String {
    let mut out = String::from("| status | code | meaning |\n|---|---|---|\n");
    for s in CATALOGUE {
        out.push_str(&format!("| **{}** | | {} |\n", s.status, s.title));
        for (code, meaning) in s.codes {
            out.push_str(&format!("| | `{code}` | {meaning} |\n"));
        }
    }
    out
}

/// Codes that are also returned with a second status, beside their section's.
const ALSO: &[(&str, &str)] = &[(APP_REVOKED, "401")];

/// May `code` be returned with `status` (a kind's status, as `ErrorKind::status` names it)?
/// Sections whose status is not a single kind's (the token endpoint's) take any.
pub fn allows(code: &str, status: &str) -> bool {
    const KINDS: &[&str] = &["404", "409", "422", "412", "428", "401", "403", "429", "500, 503"];
    match status_of(code) {
        None => false,
        Some(s) => s == status || !KINDS.contains(&s) || ALSO.contains(&(code, status)),
    }
}

/// The section (status) a code is catalogued under.
pub fn status_of(code: &str) -> Option<&'static str> {
    CATALOGUE.iter().find(|s| s.codes.iter().any(|(c, _)| *c == code)).map(|s| s.status)
}

/// Is this a code of the catalogue?
pub fn is_known(code: &str) -> bool {
    CATALOGUE.iter().any(|s| s.codes.iter().any(|(c, _)| *c == code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_listed_once_and_named_as_it_reads() {
        let mut seen = std::collections::BTreeSet::new();
        for s in CATALOGUE {
            for (code, meaning) in s.codes {
                assert!(seen.insert(*code), "{code} twice");
                assert!(code.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{code}");
                assert!(!meaning.is_empty(), "{code}");
            }
        }
        assert!(is_known(GROUP_NOT_FOUND) && !is_known("GROUP_GONE"));
    }
}
