//! The GraphQL transport at `/graphql`: an Apollo Federation v2 subgraph over the same service
//! calls as REST, with Relay connections, DataLoaders, `extensions.code` errors and limits on
//! depth, complexity, aliases and batch size. It must not hold business rules.

mod context;
mod error;
mod events;
mod explorer;
mod groups;
mod http;
mod loaders;
mod members;
mod notices;
mod types;

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema};
use scaffold_service::Service;

pub use http::router;

/// Limits applied to every operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub depth: usize,
    pub complexity: usize,
    pub aliases: usize,
    pub batch: usize,
    /// The largest response body, in bytes; a larger one is replaced by `RESPONSE_TOO_LARGE`.
    pub response_bytes: usize,
    /// Introspection and field suggestions (turn off in production if you wish).
    pub introspection: bool,
    /// Serve GraphiQL on `GET /graphql`.
    pub graphiql: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            depth: 12,
            complexity: 10_000,
            aliases: 30,
            batch: 10,
            response_bytes: 4 * 1024 * 1024,
            introspection: true,
            graphiql: true,
        }
    }
}

#[derive(MergedObject, Default, Debug)]
pub struct Query(groups::GroupQuery, members::ViewerQuery, events::EventQuery);

#[derive(MergedObject, Default, Debug)]
pub struct Mutation(groups::GroupMutation, members::MemberMutation, events::EventMutation);

pub type ScaffoldSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with the service as shared data.
pub fn schema(service: Service, limits: Limits) -> ScaffoldSchema {
    let mut b = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(32)
        .limit_directives(20)
        .data(service)
        .data(limits);
    if !limits.introspection {
        b = b.disable_introspection().disable_suggestions();
    }
    b.finish()
}

/// The same schema answering introspection only, for operations that ask nothing else: the
/// standard introspection query nests `ofType` deeper than operations on the data need.
pub fn introspection_schema(service: Service, limits: Limits) -> ScaffoldSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .introspection_only()
        .limit_depth(limits.depth.max(20))
        .limit_complexity(limits.complexity.max(100_000))
        .limit_recursive_depth(32)
        .data(service)
        .data(limits)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and as committed in `openapi/schema.graphql`.
pub fn sdl() -> String {
    let schema = Schema::build(Query::default(), Mutation::default(), EmptySubscription).enable_federation().finish();
    let mut s = schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive());
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
