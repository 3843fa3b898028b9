//! The one mapping from `DomainError` to GraphQL errors: `extensions.code` carries the same codes
//! as REST, and validation failures list their fields. Internal causes are logged, not returned.

use async_graphql::{Error, ErrorExtensions};
use scaffold_domain::{DomainError, ErrorKind};

pub fn gql(e: DomainError) -> Error {
    if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) {
        tracing::error!(code = e.code, error = ?e.source.as_ref().map(ToString::to_string), "graphql request failed");
    }
    let fields: Vec<_> = e
        .fields
        .iter()
        .map(|f| serde_json::json!({ "pointer": f.pointer, "code": f.code, "message": f.message }))
        .collect();
    Error::new(e.message.clone()).extend_with(|_, ext| {
        ext.set("code", e.code);
        if !fields.is_empty() {
            ext.set("fields", async_graphql::Value::from_json(serde_json::Value::Array(fields)).unwrap_or_default());
        }
    })
}

pub type GqlResult<T> = Result<T, Error>;

/// An error with a code, for problems found in the transport itself.
pub fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, ext| ext.set("code", code))
}
