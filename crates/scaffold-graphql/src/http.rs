//! The HTTP endpoint: `POST /graphql` (single or batched operations, JSON) and, when enabled,
//! GraphiQL on `GET /graphql`. The caller is resolved here, once per request, from the
//! `Authorization` header. Before execution, one parse of each document (kept by its text, and
//! handed to the engine, so a document sent again is not parsed again) checks the batch size,
//! the aliases and whether it asks for introspection (refused with a code when introspection is
//! off; run on an introspection-only schema with its own depth limit when the operation is only
//! introspection, so that the standard introspection query of GraphiQL and code generators
//! passes). After execution, every error carries `extensions.code` (the engine's own refusals
//! are given one here) and a response over the size limit is replaced by an error.

use crate::error::{coded, gql};
use crate::loaders::RequestData;
use crate::{Limits, ScaffoldSchema};
use async_graphql::parser::types::{Selection, SelectionSet};
use async_graphql::{BatchRequest, BatchResponse, Response as GqlResponse, ServerError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scaffold_domain::codes;
use scaffold_service::Service;
use std::sync::Arc;

#[derive(Clone)]
#[allow(missing_debug_implementations)]
struct GqlState {
    /// Parsed documents by their text, so that the operations a client sends again and again are
    /// parsed and shaped once.
    documents: Arc<Documents>,
    schema: ScaffoldSchema,
    /// The same types, answering introspection only, with limits fit for the standard
    /// introspection query.
    introspection: ScaffoldSchema,
    service: Service,
    limits: Limits,
}

pub fn router(schema: ScaffoldSchema, service: Service, limits: Limits) -> Router {
    let introspection = crate::introspection_schema(service.clone(), limits);
    let assets = Router::new()
        .route("/graphql/assets/{version}/{file}", get(crate::explorer::asset))
        .with_state(limits.graphiql);
    Router::new()
        .route("/graphql", get(graphiql).post(execute))
        .with_state(GqlState { documents: Arc::default(), schema, introspection, service, limits })
        .merge(assets)
}

async fn graphiql(State(s): State<GqlState>) -> Response {
    if s.limits.graphiql {
        crate::explorer::page_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], "send GraphQL operations with POST").into_response()
    }
}

fn error_response(status: StatusCode, code: &'static str, message: &str) -> Response {
    let err = coded(code, message).into_server_error(async_graphql::Pos::default());
    json(status, &BatchResponse::Single(GqlResponse::from_errors(vec![err])))
}

fn json_has_control(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => scaffold_domain::text::has_control(s),
        serde_json::Value::Array(items) => items.iter().any(json_has_control),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| scaffold_domain::text::has_control(k) || json_has_control(v))
        }
        _ => false,
    }
}

/// A control character in the document, an argument or a variable: refused before execution,
/// as REST refuses it in a path, query or body.
fn control_character_response() -> Response {
    let e = scaffold_domain::DomainError::invalid(vec![scaffold_domain::text::control_character("")]);
    let err = gql(e).into_server_error(async_graphql::Pos::default());
    json(StatusCode::BAD_REQUEST, &BatchResponse::Single(GqlResponse::from_errors(vec![err])))
}

fn json(status: StatusCode, body: &BatchResponse) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/graphql-response+json")], bytes).into_response()
}

/// Root fields that are introspection: an operation of only these runs on the introspection
/// schema.
const INTROSPECTION_FIELDS: [&str; 3] = ["__schema", "__type", "__typename"];

/// What is checked before execution, from one parse of the document.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    aliases: usize,
    /// The names of the fields at the root of every operation (through fragments).
    root_fields: std::collections::BTreeSet<String>,
    /// A fragment spreads itself, directly or through others.
    fragment_cycle: bool,
    /// A string argument holds a control character (see `scaffold_domain::text::has_control`).
    control_character: bool,
    /// Introspection that expands a type reference into more types (`fields { type { fields … } }`):
    /// its answer grows exponentially with depth.
    introspection_fans_out: bool,
}

impl Shape {
    fn asks_introspection(&self) -> bool {
        self.root_fields.iter().any(|f| f == "__schema" || f == "__type")
    }

    fn only_introspection(&self) -> bool {
        self.asks_introspection() && self.root_fields.iter().all(|f| INTROSPECTION_FIELDS.contains(&f.as_str()))
    }
}

fn root_fields(
    doc: &async_graphql::parser::types::ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
    out: &mut std::collections::BTreeSet<String>,
) {
    if depth > 16 {
        return;
    }
    for sel in &set.items {
        match &sel.node {
            Selection::Field(f) => {
                let _ = out.insert(f.node.name.node.to_string());
            }
            Selection::InlineFragment(i) => root_fields(doc, &i.node.selection_set.node, depth + 1, out),
            Selection::FragmentSpread(spread) => {
                if let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node) {
                    root_fields(doc, &frag.node.selection_set.node, depth + 1, out);
                }
            }
        }
    }
}

fn value_has_control(v: &async_graphql::Value) -> bool {
    use async_graphql::Value;
    match v {
        Value::String(s) => scaffold_domain::text::has_control(s),
        Value::Enum(n) => scaffold_domain::text::has_control(n),
        Value::List(items) => items.iter().any(value_has_control),
        Value::Object(map) => map.iter().any(|(k, v)| scaffold_domain::text::has_control(k) || value_has_control(v)),
        _ => false,
    }
}

/// Whether any argument in `set` (literal values, at any depth) holds a control character.
fn arguments_have_control(set: &SelectionSet, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    set.items.iter().any(|sel| match &sel.node {
        Selection::Field(f) => {
            f.node.arguments.iter().any(|(_, v)| {
                v.node
                    .clone()
                    .into_const_with(|_| Ok::<_, ()>(async_graphql::Value::Null))
                    .is_ok_and(|c| value_has_control(&c))
            }) || arguments_have_control(&f.node.selection_set.node, depth + 1)
        }
        Selection::InlineFragment(i) => arguments_have_control(&i.node.selection_set.node, depth + 1),
        Selection::FragmentSpread(_) => false,
    })
}

/// Fields of `__Type` reached through a reference (a field's or argument's `type`, `ofType`,
/// `interfaces`, `possibleTypes`): below them only the reference itself may be asked, as the
/// standard introspection query does (`kind`, `name`, `ofType`).
const TYPE_REFERENCES: [&str; 4] = ["type", "ofType", "interfaces", "possibleTypes"];
const TYPE_REFERENCE_FIELDS: [&str; 4] = ["kind", "name", "ofType", "__typename"];

fn fans_out(
    doc: &async_graphql::parser::types::ExecutableDocument,
    set: &SelectionSet,
    under_reference: bool,
    depth: usize,
) -> bool {
    if depth > 64 {
        return true;
    }
    set.items.iter().any(|sel| match &sel.node {
        Selection::Field(f) => {
            let name = f.node.name.node.as_str();
            (under_reference && !TYPE_REFERENCE_FIELDS.contains(&name))
                || fans_out(
                    doc,
                    &f.node.selection_set.node,
                    under_reference || TYPE_REFERENCES.contains(&name),
                    depth + 1,
                )
        }
        Selection::InlineFragment(i) => fans_out(doc, &i.node.selection_set.node, under_reference, depth + 1),
        Selection::FragmentSpread(s) => doc
            .fragments
            .get(&s.node.fragment_name.node)
            .is_some_and(|frag| fans_out(doc, &frag.node.selection_set.node, under_reference, depth + 1)),
    })
}

/// Whether an operation's introspection (`__schema`, `__type`, at its root) fans out.
fn introspection_fans_out(
    doc: &async_graphql::parser::types::ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
) -> bool {
    if depth > 16 {
        return false;
    }
    set.items.iter().any(|sel| match &sel.node {
        Selection::Field(f) if matches!(f.node.name.node.as_str(), "__schema" | "__type") => {
            fans_out(doc, &f.node.selection_set.node, false, 0)
        }
        Selection::Field(_) => false,
        Selection::InlineFragment(i) => introspection_fans_out(doc, &i.node.selection_set.node, depth + 1),
        Selection::FragmentSpread(s) => doc
            .fragments
            .get(&s.node.fragment_name.node)
            .is_some_and(|frag| introspection_fans_out(doc, &frag.node.selection_set.node, depth + 1)),
    })
}

/// The fragments spread anywhere in `set`.
fn spreads(set: &SelectionSet, depth: usize, out: &mut Vec<String>) {
    if depth > 64 {
        return;
    }
    for sel in &set.items {
        match &sel.node {
            Selection::Field(f) => spreads(&f.node.selection_set.node, depth + 1, out),
            Selection::InlineFragment(i) => spreads(&i.node.selection_set.node, depth + 1, out),
            Selection::FragmentSpread(s) => out.push(s.node.fragment_name.node.to_string()),
        }
    }
}

/// Whether the fragments' spreads form a cycle (depth-first search with three colours).
fn has_fragment_cycle(doc: &async_graphql::parser::types::ExecutableDocument) -> bool {
    use std::collections::HashMap;
    let edges: HashMap<String, Vec<String>> = doc
        .fragments
        .iter()
        .map(|(name, f)| {
            let mut out = Vec::new();
            spreads(&f.node.selection_set.node, 0, &mut out);
            (name.to_string(), out)
        })
        .collect();
    // 1: on the current path; 2: done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn visit<'a>(n: &'a str, edges: &'a HashMap<String, Vec<String>>, state: &mut HashMap<&'a str, u8>) -> bool {
        match state.get(n) {
            Some(1) => return true,
            Some(_) => return false,
            None => {}
        }
        let _ = state.insert(n, 1);
        let cyclic = edges.get(n).is_some_and(|next| next.iter().any(|m| visit(m, edges, state)));
        let _ = state.insert(n, 2);
        cyclic
    }
    edges.keys().any(|n| visit(n, &edges, &mut state))
}

/// A document parsed, with what is checked before executing it.
#[derive(Debug)]
struct Parsed {
    shape: Shape,
    doc: async_graphql::parser::types::ExecutableDocument,
}

/// Documents parsed before, by their text: a bounded map, emptied when full. Documents over
/// [`Documents::LONGEST`] bytes are parsed every time (clients send short, fixed operations; the
/// bound keeps the cache's memory small).
#[derive(Debug, Default)]
struct Documents(std::sync::Mutex<std::collections::HashMap<Box<str>, Arc<Parsed>>>);

impl Documents {
    const CAPACITY: usize = 512;
    const LONGEST: usize = 8 * 1024;

    /// The parsed document; `Err` with the parser's message when it is not GraphQL.
    fn parse(&self, query: &str) -> Result<Arc<Parsed>, String> {
        if let Some(p) = self.0.lock().ok().and_then(|m| m.get(query).cloned()) {
            return Ok(p);
        }
        let doc = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        let parsed = Arc::new(Parsed { shape: shape(&doc), doc });
        if query.len() <= Self::LONGEST
            && let Ok(mut m) = self.0.lock()
        {
            if m.len() >= Self::CAPACITY {
                m.clear();
            }
            let _ = m.insert(query.into(), parsed.clone());
        }
        Ok(parsed)
    }
}

/// What is checked before execution, from the parsed document.
fn shape(doc: &async_graphql::parser::types::ExecutableDocument) -> Shape {
    let ops: usize = doc.operations.iter().map(|(_, op)| count_aliases(&op.node.selection_set.node, 0)).sum();
    let frags: usize = doc.fragments.values().map(|f| count_aliases(&f.node.selection_set.node, 0)).sum();
    let mut root = std::collections::BTreeSet::new();
    for (_, op) in doc.operations.iter() {
        root_fields(doc, &op.node.selection_set.node, 0, &mut root);
    }
    let control_character = doc.operations.iter().any(|(_, op)| {
        arguments_have_control(&op.node.selection_set.node, 0)
            || op
                .node
                .variable_definitions
                .iter()
                .any(|v| v.node.default_value.as_ref().is_some_and(|d| value_has_control(&d.node)))
    }) || doc.fragments.values().any(|f| arguments_have_control(&f.node.selection_set.node, 0));
    let fragment_cycle = has_fragment_cycle(doc);
    // Walking fragments follows spreads, so only when they cannot loop.
    let introspection_fans_out = !fragment_cycle
        && doc.operations.iter().any(|(_, op)| introspection_fans_out(doc, &op.node.selection_set.node, 0));
    Shape { aliases: ops + frags, root_fields: root, fragment_cycle, control_character, introspection_fans_out }
}

/// The code for an error the engine raised without one (validation, limits, coercion).
fn engine_code(message: &str) -> &'static str {
    if message == "Query is too complex." {
        codes::QUERY_TOO_COMPLEX
    } else if message == "Query is nested too deep." || message.starts_with("The recursion depth of the query") {
        codes::QUERY_TOO_DEEP
    } else if message.starts_with("Cannot spread fragment") {
        codes::FRAGMENT_CYCLE
    } else {
        codes::GRAPHQL_VALIDATION_FAILED
    }
}

/// Gives every error without `extensions.code` one.
fn code_errors(res: &mut GqlResponse) {
    for e in &mut res.errors {
        let has_code = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if !has_code {
            let code = engine_code(&e.message);
            e.extensions.get_or_insert_with(Default::default).set("code", code);
        }
    }
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
                codes::BAD_REQUEST,
                &format!(
                    "the body is not a GraphQL request: {}",
                    scaffold_domain::text::without_values(&e.to_string())
                ),
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
            codes::BATCH_TOO_LARGE,
            &format!("at most {} operations per batch", s.limits.batch),
        );
    }
    let mut parsed = Vec::with_capacity(requests.len());
    for r in requests {
        let variables = serde_json::to_value(&r.variables).unwrap_or_default();
        if scaffold_domain::text::has_control(&r.query)
            || r.operation_name.as_deref().is_some_and(scaffold_domain::text::has_control)
            || json_has_control(&variables)
        {
            return control_character_response();
        }
        let document = match s.documents.parse(&r.query) {
            Ok(document) => document,
            Err(e) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    codes::GRAPHQL_PARSE_FAILED,
                    &format!("the query is not valid GraphQL: {e}"),
                );
            }
        };
        let shape = &document.shape;
        if shape.control_character {
            return control_character_response();
        }
        if shape.fragment_cycle {
            return error_response(StatusCode::BAD_REQUEST, codes::FRAGMENT_CYCLE, "a fragment spreads itself");
        }
        if shape.aliases > s.limits.aliases {
            return error_response(
                StatusCode::BAD_REQUEST,
                codes::TOO_MANY_ALIASES,
                &format!("at most {} aliases per operation", s.limits.aliases),
            );
        }
        if shape.introspection_fans_out {
            return error_response(
                StatusCode::BAD_REQUEST,
                codes::QUERY_TOO_COMPLEX,
                "introspection may expand a type reference only by kind, name and ofType",
            );
        }
        if shape.asks_introspection() && !s.limits.introspection {
            return error_response(
                StatusCode::BAD_REQUEST,
                codes::INTROSPECTION_DISABLED,
                "introspection is turned off on this instance",
            );
        }
        parsed.push(document);
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
            let mut res = json(status, &BatchResponse::Single(GqlResponse::from_errors(vec![err])));
            if status == StatusCode::UNAUTHORIZED {
                // A credential was presented (a missing one is an anonymous caller) and refused.
                let _ = res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static(r#"Bearer realm="community-scaffold", error="invalid_token""#),
                );
            }
            return res;
        }
    };
    let (single, requests) = match batch {
        BatchRequest::Single(r) => (true, vec![r]),
        BatchRequest::Batch(rs) => (false, rs),
    };
    let mut responses = Vec::with_capacity(parsed.len());
    for (r, document) in requests.into_iter().zip(&parsed) {
        let mut r = r.data(RequestData::new(&s.service, actor.clone()));
        r.set_parsed_query(document.doc.clone());
        let schema = if document.shape.only_introspection() { &s.introspection } else { &s.schema };
        let mut res = schema.execute(r).await;
        code_errors(&mut res);
        responses.push(res);
    }
    let body = if single {
        BatchResponse::Single(responses.into_iter().next().unwrap_or_default())
    } else {
        BatchResponse::Batch(responses)
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    if bytes.len() > s.limits.response_bytes {
        return error_response(
            StatusCode::OK,
            codes::RESPONSE_TOO_LARGE,
            &format!("the response would be over {} bytes: ask for fewer items or fields", s.limits.response_bytes),
        );
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/graphql-response+json")], bytes).into_response()
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
    use super::{Documents, Shape, engine_code};
    use std::sync::Arc;

    fn shape(query: &str) -> Result<Shape, String> {
        let doc = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        Ok(super::shape(&doc))
    }

    #[test]
    fn documents_are_parsed_once_by_text_bounded_and_failures_are_not_kept() {
        let docs = Documents::default();
        let a = docs.parse("{ categories }").unwrap();
        assert!(Arc::ptr_eq(&a, &docs.parse("{ categories }").unwrap()), "the same text is parsed once");
        assert!(!Arc::ptr_eq(&a, &docs.parse("{ categories  }").unwrap()), "other text is parsed");
        assert!(docs.parse("{").is_err());
        assert_eq!(docs.0.lock().unwrap().len(), 2, "a failure is not kept");
        let long = format!("{{ categories {} }}", " ".repeat(Documents::LONGEST));
        assert!(!Arc::ptr_eq(&docs.parse(&long).unwrap(), &docs.parse(&long).unwrap()), "long texts are not kept");
        for i in 0..Documents::CAPACITY + 10 {
            docs.parse(&format!("{{ c{i}: categories }}")).unwrap();
        }
        assert!(docs.0.lock().unwrap().len() <= Documents::CAPACITY);
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let aliases = |q: &str| shape(q).ok().map(|s| s.aliases);
        assert_eq!(aliases("{ a: groups { totalCount } b: categories }"), Some(2));
        assert_eq!(aliases("query { ...F } fragment F on Query { x: categories y: categories }"), Some(2));
        assert_eq!(aliases("{ categories }"), Some(0));
        assert_eq!(aliases("{"), None);
    }

    #[test]
    fn introspection_is_found_through_fragments() {
        let s = shape("query { ...F } fragment F on Query { ... on Query { __schema { types { name } } } }").unwrap();
        assert!(s.asks_introspection() && s.only_introspection());
        let s = shape("{ __typename categories }").unwrap();
        assert!(!s.asks_introspection() && !s.only_introspection());
        let s = shape("{ __type(name: \"Group\") { name } groups { totalCount } }").unwrap();
        assert!(s.asks_introspection() && !s.only_introspection());
        // A fragment cycle does not loop here, and is found.
        assert!(shape("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }").unwrap().fragment_cycle);
        assert!(
            shape("{ ...A } fragment A on Query { g: group { ...B } } fragment B on Group { x: events { ...A } }")
                .unwrap()
                .fragment_cycle
        );
        assert!(
            !shape("{ ...A ...B } fragment A on Query { ...B } fragment B on Query { categories }")
                .unwrap()
                .fragment_cycle
        );
    }

    #[test]
    fn introspection_that_expands_type_references_is_found() {
        let standard = include_str!("../../scaffold-server/tests/data/introspection.graphql");
        assert!(!shape(standard).unwrap().introspection_fans_out, "the standard query is fine");
        for bad in [
            "{ __schema { types { fields { type { fields { name } } } } } }",
            "{ __type(name: \"Group\") { fields { type { ofType { fields { name } } } } } }",
            "{ __schema { types { interfaces { fields { name } } } } }",
            "query { ...F } fragment F on Query { __schema { types { possibleTypes { ...G } } } } fragment G on __Type { enumValues { name } }",
        ] {
            assert!(shape(bad).unwrap().introspection_fans_out, "{bad}");
        }
        // Data fields named `type` are not introspection.
        assert!(!shape("{ viewer { attestations { type claims } } }").unwrap().introspection_fans_out);
    }

    #[test]
    fn the_engines_refusals_get_codes() {
        assert_eq!(engine_code("Query is too complex."), "QUERY_TOO_COMPLEX");
        assert_eq!(engine_code("Query is nested too deep."), "QUERY_TOO_DEEP");
        assert_eq!(engine_code("The recursion depth of the query cannot be greater than `32`"), "QUERY_TOO_DEEP");
        assert_eq!(engine_code("Cannot spread fragment \"A\" within itself via \"B\""), "FRAGMENT_CYCLE");
        assert_eq!(engine_code("Unknown field \"nope\" on type \"Query\"."), "GRAPHQL_VALIDATION_FAILED");
    }
}
