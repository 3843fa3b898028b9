//! The Community Scaffold domain: entities, validated value types, the one error type and the
//! clock. It owns the rules that do not depend on storage or transport; it must not know about
//! HTTP, GraphQL or SQL.

pub mod activity;
pub mod actor;
pub mod attestation;
pub mod audit;
pub mod change;
pub mod clock;
pub mod codes;
pub mod error;
pub mod event;
pub mod event_search;
pub mod group;
pub mod identity;
pub mod ids;
pub mod membership;
pub mod notice;
pub mod outcode;
pub mod person;
pub mod rsvp;
pub mod scope;
pub mod slug;
pub mod source;
pub mod text;
pub mod webhook;

pub use actor::{Actor, Credential, Principal};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{DomainError, ErrorKind, FieldError, RateLimitInfo};
pub use ids::{
    ApiKeyId, AppId, AttestationId, AuditId, ChangeId, EventId, GrantId, GroupId, IdentityId, NoticeId, PeerId,
    PersonId, RedemptionId, ShareId, SourceId, WebhookId,
};
pub use outcode::Outcode;
pub use scope::{Scope, Scopes};
pub use slug::Slug;
