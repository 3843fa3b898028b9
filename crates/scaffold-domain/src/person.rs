//! `Person`: someone who uses the service. Keyed by id, never by e-mail; identities from OpenID
//! Providers are linked to a person in the identity layer.

use crate::{FieldError, PersonId, text};
use chrono::{DateTime, Utc};

pub const DISPLAY_NAME_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

pub fn display_name(pointer: &str, s: &str) -> Result<String, FieldError> {
    text::bounded(pointer, s, 1, DISPLAY_NAME_MAX, false)
}
