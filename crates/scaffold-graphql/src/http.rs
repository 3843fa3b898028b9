//! The HTTP endpoint: `POST /graphql` (single or batched operations, JSON) and, when enabled,
//! GraphiQL on `GET /graphql`. The caller is resolved here, once per request, from the
//! `Authorization` header; alias and batch limits are checked before execution.

use crate::error::{coded, gql};
use crate::loaders::RequestData;
use crate::{Limits, ScaffoldSchema};
use async_graphql::parser::types::{Selection, SelectionSet};
use async_graphql::{BatchRequest, BatchResponse, Response as GqlResponse, ServerError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use scaffold_service::Service;

#[derive(Clone)]
#[allow(missing_debug_implementations)]
struct GqlState {
    schema: ScaffoldSchema,
    service: Service,
    limits: Limits,
}

pub fn router(schema: ScaffoldSchema, service: Service, limits: Limits) -> Router {
    Router::new().route("/graphql", get(graphiql).post(execute)).with_state(GqlState { schema, service, limits })
}

async fn graphiql(State(s): State<GqlState>) -> Response {
    if s.limits.graphiql {
        Html(async_graphql::http::GraphiQLSource::build().endpoint("/graphql").finish()).into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], "send GraphQL operations with POST").into_response()
    }
}

fn error_response(status: StatusCode, code: &'static str, message: &str) -> Response {
    let err = coded(code, message).into_server_error(async_graphql::Pos::default());
    json(status, &BatchResponse::Single(GqlResponse::from_errors(vec![err])))
}

fn json(status: StatusCode, body: &BatchResponse) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/graphql-response+json")], bytes).into_response()
}

fn count_aliases(set: &SelectionSet, depth: usize) -> usize {
    if depth > 64 {
        return 0;
    }
    set.items
        .iter()
        .map(|sel| match &sel.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node, depth + 1)
            }
            Selection::InlineFragment(i) => count_aliases(&i.node.selection_set.node, depth + 1),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Aliases in the whole document (operations and fragments).
fn aliases(query: &str) -> Option<usize> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let ops: usize = doc.operations.iter().map(|(_, op)| count_aliases(&op.node.selection_set.node, 0)).sum();
    let frags: usize = doc.fragments.values().map(|f| count_aliases(&f.node.selection_set.node, 0)).sum();
    Some(ops + frags)
}

async fn execute(
    State(s): State<GqlState>,
    done: Option<axum::Extension<scaffold_service::identity::Authenticated>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    let requests = match &batch {
        BatchRequest::Single(r) => std::slice::from_ref(r),
        BatchRequest::Batch(rs) => rs.as_slice(),
    };
    if requests.len() > s.limits.batch {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BATCH_TOO_LARGE",
            &format!("at most {} operations per batch", s.limits.batch),
        );
    }
    if requests.iter().any(|r| aliases(&r.query).unwrap_or(0) > s.limits.aliases) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "TOO_MANY_ALIASES",
            &format!("at most {} aliases per operation", s.limits.aliases),
        );
    }
    let resolved = match done {
        Some(axum::Extension(a)) => Ok(a.0),
        None => caller(&s.service, &headers).await,
    };
    let actor = match resolved {
        Ok(a) => a,
        Err(e) => {
            let status = if e.kind == scaffold_domain::ErrorKind::Forbidden {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNAUTHORIZED
            };
            let err: ServerError = gql(e).into_server_error(async_graphql::Pos::default());
            return json(status, &BatchResponse::Single(GqlResponse::from_errors(vec![err])));
        }
    };
    let data = RequestData::new(&s.service, actor);
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(r.data(data)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(
            rs.into_iter().map(|r| r.data(RequestData::new(&s.service, data.actor.clone()))).collect(),
        ),
    };
    json(StatusCode::OK, &s.schema.execute_batch(batch).await)
}

/// The caller: the `Authorization` header, or the session cookie (same-origin only, as for REST).
async fn caller(
    service: &Service,
    headers: &HeaderMap,
) -> Result<scaffold_domain::Actor, scaffold_domain::DomainError> {
    use scaffold_service::identity::login::{Presented, SESSION_COOKIE, cookie_value};
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if headers.get(header::AUTHORIZATION).is_some() && text("authorization").is_none() {
        return Err(scaffold_domain::DomainError::unauthenticated("the Authorization header is not text"));
    }
    let session = cookie_value(headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()), SESSION_COOKIE);
    let presented = Presented {
        authorization: text("authorization"),
        session_cookie: session.as_deref(),
        unsafe_method: true,
        origin: text("origin"),
        fetch_site: text("sec-fetch-site"),
    };
    service.actor_from_request(&presented).await
}

#[cfg(test)]
mod tests {
    use super::aliases;

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        assert_eq!(aliases("{ a: groups { totalCount } b: categories }"), Some(2));
        assert_eq!(aliases("query { ...F } fragment F on Query { x: categories y: categories }"), Some(2));
        assert_eq!(aliases("{ categories }"), Some(0));
        assert_eq!(aliases("{"), None);
    }
}
