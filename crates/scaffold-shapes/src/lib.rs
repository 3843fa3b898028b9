//! Shapes both transports send and take, where their names and types agree: one struct derives
//! serde and utoipa (REST, snake_case) and async-graphql (GraphQL, camelCase), so the two cannot
//! drift. Shapes that differ by design (REST's status strings against GraphQL's enums, Relay
//! connections) stay in their transport.

use scaffold_domain::activity::Activity;
use scaffold_domain::event::{Place, PlaceInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A place, as written.
#[derive(Debug, Deserialize, Serialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
#[graphql(name = "PlaceInput")]
pub struct PlaceBody {
    #[schema(max_length = 200, example = "Wigan Library")]
    pub name: String,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    /// A UK postcode; its outward code gives the coordinates when they are not given.
    #[schema(example = "WN1 1NU")]
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<PlaceBody> for PlaceInput {
    fn from(p: PlaceBody) -> Self {
        PlaceInput {
            name: p.name,
            address: p.address,
            postcode: p.postcode,
            latitude: p.latitude,
            longitude: p.longitude,
        }
    }
}

/// Where an event or one of its dates happens.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Place")]
pub struct PlaceOut {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    /// The postcode's outward code (the district), which places it on the map.
    pub outcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<&Place> for PlaceOut {
    fn from(p: &Place) -> Self {
        PlaceOut {
            name: p.name.clone(),
            address: p.address.clone(),
            postcode: p.postcode.clone(),
            outcode: p.outcode.as_ref().map(|o| o.as_str().to_owned()),
            latitude: p.latitude,
            longitude: p.longitude,
        }
    }
}

/// An OpenActive Activity List concept.
#[derive(Debug, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Activity")]
pub struct ActivityOut {
    /// The concept's id, e.g. `https://openactive.io/activity-list#<identifier>`.
    pub id: String,
    pub pref_label: String,
}

impl From<&Activity> for ActivityOut {
    fn from(a: &Activity) -> Self {
        ActivityOut { id: a.id(), pref_label: a.pref_label.clone() }
    }
}
