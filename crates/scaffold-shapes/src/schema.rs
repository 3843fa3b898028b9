//! OpenAPI schemas for the domain's enumerations as REST writes them (the domain crate has no
//! OpenAPI dependency): strings with their allowed values.

use scaffold_domain::event::{AccessibilityFeature, BookingMode, EventStatus};
use scaffold_domain::group::Category;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};

/// A string that takes one of `values`.
pub fn enum_schema(values: impl IntoIterator<Item = &'static str>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .description(Some(description))
        .build()
}

pub fn category_schema() -> Object {
    enum_schema(Category::ALL.iter().map(|v| v.as_str()), "A category from the fixed taxonomy (GET /api/v1/categories)")
}

pub fn categories_schema() -> Array {
    ArrayBuilder::new().items(category_schema()).max_items(Some(5)).build()
}

pub fn event_status_schema() -> Object {
    enum_schema(EventStatus::ALL.iter().map(|v| v.as_str()), "scheduled, cancelled or postponed")
}

pub fn booking_schema() -> Object {
    enum_schema(
        BookingMode::ALL.iter().map(|v| v.as_str()),
        "drop-in: just turn up; rsvp: reply here; external: book at booking_url",
    )
}

pub fn accessibility_schema() -> Array {
    let feature = enum_schema(AccessibilityFeature::ALL.iter().map(|v| v.as_str()), "An accessibility feature");
    ArrayBuilder::new().items(feature).build()
}
