//! What every resolver takes from the request: the service, the caller, and checked arguments
//! shared by several types (group ids, Relay page sizes).

use crate::error::{GqlResult, gql};
use crate::loaders::RequestData;
use async_graphql::{Context, ID};
use scaffold_domain::GroupId;
use scaffold_service::Service;

pub fn service<'a>(ctx: &Context<'a>) -> GqlResult<&'a Service> {
    ctx.data::<Service>()
}

pub fn request<'a>(ctx: &Context<'a>) -> GqlResult<&'a RequestData> {
    ctx.data::<RequestData>()
}

pub fn parse_group_id(id: &ID) -> GqlResult<GroupId> {
    GroupId::parse_or_not_found(id.as_str()).map_err(gql)
}

/// Checks a Relay `first` argument with REST's page-size rule: 1 to 100, default 20.
pub fn page_size(n: Option<i32>) -> GqlResult<u32> {
    scaffold_service::page_size("/first", n.map(i64::from)).map_err(gql)
}
