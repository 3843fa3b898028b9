//! `DomainError`: the single error type of the service, with a kind (which decides the HTTP
//! status and the GraphQL code family), a stable machine-readable `code`, a human message, field
//! errors for validation failures, and an optional internal source that is logged, never shown.

use crate::codes;
use std::fmt;

/// What went wrong, broadly. Transports map each kind to one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    /// The request was understood but its content is not acceptable (validation).
    Invalid,
    /// A precondition on the resource's version failed.
    PreconditionFailed,
    /// A precondition header is required but missing.
    PreconditionRequired,
    Unauthenticated,
    Forbidden,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// The HTTP status of the kind, as the code catalogue names it.
    pub fn status(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "404",
            ErrorKind::Conflict => "409",
            ErrorKind::Invalid => "422",
            ErrorKind::PreconditionFailed => "412",
            ErrorKind::PreconditionRequired => "428",
            ErrorKind::Unauthenticated => "401",
            ErrorKind::Forbidden => "403",
            ErrorKind::RateLimited => "429",
            ErrorKind::Unavailable | ErrorKind::Internal => "500, 503",
        }
    }
}

/// One invalid field: a JSON pointer into the request, a code and a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        debug_assert_eq!(
            crate::codes::status_of(code),
            Some("422 field"),
            "{code} is not a field code of the catalogue"
        );
        Self { pointer: pointer.into(), code, message: message.into() }
    }

    /// The same error placed under a parent pointer (`/area` + `/outcode`).
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        self.pointer = format!("{parent}{}", self.pointer);
        self
    }
}

/// The limit a `RateLimited` error hit, for the transports' `RateLimit-*` and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitInfo {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the limit's window resets.
    pub reset_secs: i64,
}

/// The error every use case returns.
pub struct DomainError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// For `RateLimited`: which limit, so that the answer describes it (not the general one).
    pub rate_limit: Option<RateLimitInfo>,
}

impl DomainError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(crate::codes::allows(code, kind.status()), "{code} is not catalogued under {}", kind.status());
        Self { kind, code, message: message.into(), fields: Vec::new(), source: None, rate_limit: None }
    }

    /// Too many requests against a limit of the use case's own (not the general per-client one).
    pub fn rate_limited(code: &'static str, message: impl Into<String>, limit: RateLimitInfo) -> Self {
        Self { rate_limit: Some(limit), ..Self::new(ErrorKind::RateLimited, code, message) }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, codes::UNAUTHENTICATED, message)
    }

    /// A validation failure with one or more field errors.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.message),
            _ => format!("{} fields are invalid", fields.len()),
        };
        Self { fields, ..Self::new(ErrorKind::Invalid, codes::VALIDATION_FAILED, message) }
    }

    pub fn invalid_field(pointer: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(pointer, code, message)])
    }

    /// An internal failure: the source goes to the log, the client sees only the code.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorKind::Internal, codes::INTERNAL, "an internal error occurred")
        }
    }

    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorKind::Unavailable, codes::UNAVAILABLE, "the service is temporarily unavailable")
        }
    }

    /// Error codes the scopes check produces name the missing scope.
    pub fn missing_scope(scope: crate::Scope) -> Self {
        Self::forbidden(codes::INSUFFICIENT_SCOPE, format!("this operation needs the `{scope}` scope"))
    }
}

impl fmt::Debug for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DomainError")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("fields", &self.fields)
            .field("source", &self.source.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DomainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
