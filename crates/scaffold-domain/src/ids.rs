//! Identifier newtypes. All are UUIDv7, generated in the application, so that ids sort by
//! creation time in both stores.

use crate::{DomainError, codes};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// One counter for the process, so that ids made within the same millisecond (or under a fixed
/// test clock) stay monotonic.
static CONTEXT: std::sync::LazyLock<std::sync::Mutex<uuid::ContextV7>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(uuid::ContextV7::new()));

fn v7(at: chrono::DateTime<chrono::Utc>) -> Uuid {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(&*CONTEXT, secs, at.timestamp_subsec_nanos());
    Uuid::new_v7(ts)
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $code:ident, $missing:literal) => {
        id_type!($(#[$m])* $name);

        impl $name {
            /// The answer for an id that names nothing the caller may see.
            pub fn not_found() -> DomainError {
                DomainError::not_found(codes::$code, $missing)
            }

            /// Parses an id from a path or an argument: text that is no id is not found, like an
            /// id that names nothing.
            pub fn parse_or_not_found(s: &str) -> Result<Self, DomainError> {
                Self::parse(s).ok_or_else(Self::not_found)
            }
        }
    };
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id; ids made in the same millisecond still sort in creation order.
            pub fn new_v7(at: chrono::DateTime<chrono::Utc>) -> Self {
                Self(v7(at))
            }

            pub fn parse(s: &str) -> Option<Self> {
                Uuid::parse_str(s).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(/// A community group.
    GroupId, GROUP_NOT_FOUND, "no such group");
id_type!(/// A person (a resident, organiser, or operator).
    PersonId, PERSON_NOT_FOUND, "no such person");
id_type!(/// An API key.
    ApiKeyId, API_KEY_NOT_FOUND, "you have no live key with that id");
id_type!(/// An audit log entry.
    AuditId);
id_type!(/// An identity at an OpenID Provider, linked to a person.
    IdentityId);
id_type!(/// A community developer's registered app.
    AppId, APP_NOT_FOUND, "there is no app with that id that you can see");
id_type!(/// An event (a one-off or a series) run by a group.
    EventId, EVENT_NOT_FOUND, "there is no event with that id that you can see");
id_type!(/// An attestation (a credential offered to or held by a person).
    AttestationId, ATTESTATION_NOT_FOUND, "there is no attestation with that id that you can see");
id_type!(/// A holder's share of some claims of an attestation with verifiers.
    ShareId, SHARE_NOT_FOUND, "there is no such share");
id_type!(/// One redemption of a share by a verifier.
    RedemptionId);
id_type!(/// A person's consent to an app acting for them with some scopes.
    GrantId, GRANT_NOT_FOUND, "you have given no app access with that id");
id_type!(/// A place listings are imported from (an iCalendar URL, an RPDE feed, an ORUK API).
    SourceId, SOURCE_NOT_FOUND, "there is no source with that id");
id_type!(/// Another instance this one mirrors and may trust.
    PeerId);
id_type!(/// One domain change in the outbox (the `webhook-id` of its deliveries).
    ChangeId);
id_type!(/// A council notice to the groups of an area or interest.
    NoticeId, NOTICE_NOT_FOUND, "there is no notice with that id");
id_type!(/// An app's webhook subscription.
    WebhookId, WEBHOOK_NOT_FOUND, "there is no webhook with that id that you can see");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_at_the_same_instant_are_ordered() {
        let at = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000);
        let ids: Vec<_> = (0..1000).map(|_| AuditId::new_v7(at)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
