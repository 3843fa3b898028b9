use crate::common::{app, group_named, techmates};
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateGroupInput!, $key: String) {
    createGroup(input: $input, idempotencyKey: $key) { id slug version memberCount viewerMembership { role status } }
}";

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn mutations_and_queries_share_the_service_with_rest() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let input = json!({
        "slug": "leigh-sunday-league", "name": "Leigh Sunday League", "summary": "Football for all",
        "kind": "SPORTS_CLUB", "categories": ["SPORT_PHYSICAL_ACTIVITY"], "area": { "outcode": "WN7" },
        "joinPolicy": "APPROVAL", "guidelinesTemplate": "ONLINE_CONDUCT"
    });
    let body = app.gql(Some(&ada.token), CREATE, json!({ "input": input })).await.json();
    let g = &body["data"]["createGroup"];
    assert_eq!(g["memberCount"], 1, "{body}");
    assert_eq!(g["viewerMembership"], json!({ "role": "OWNER", "status": "ACTIVE" }));
    let rest = app.http.get("/api/v1/groups/leigh-sunday-league").send().await.json();
    assert_eq!(rest["id"], g["id"]);
    assert_eq!(rest["kind"], "sports-club");
    assert_eq!(rest["join_policy"], "approval");
    assert_eq!(rest["guidelines"]["template"], "online-conduct");

    let update = "mutation($id: ID!, $v: Int!) { updateGroup(id: $id, expectedVersion: $v, input: { name: \"Leigh League\", area: null }) { name version area { outcode } } }";
    let body = app.gql(Some(&ada.token), update, json!({ "id": g["id"], "v": 1 })).await.json();
    assert_eq!(body["data"]["updateGroup"], json!({ "name": "Leigh League", "version": 2, "area": null }), "{body}");
    let stale = app.gql(Some(&ada.token), update, json!({ "id": g["id"], "v": 1 })).await.json();
    assert_eq!(code(&stale), "VERSION_MISMATCH");

    let bea = app.member("Bea").await;
    let join = "mutation($g: ID!) { joinGroup(groupId: $g) { status role person { displayName } } }";
    let body = app.gql(Some(&bea.token), join, json!({ "g": g["id"] })).await.json();
    assert_eq!(
        body["data"]["joinGroup"],
        json!({ "status": "PENDING", "role": "MEMBER", "person": { "displayName": "Bea" } })
    );
    let approve = "mutation($g: ID!, $p: ID!) { approveMember(groupId: $g, personId: $p) { status } }";
    let body = app.gql(Some(&ada.token), approve, json!({ "g": g["id"], "p": bea.id })).await.json();
    assert_eq!(body["data"]["approveMember"]["status"], "ACTIVE", "{body}");
    let members = "query($s: String) { group(slug: $s) { memberCount members(first: 10) { edges { node { role person { displayName } } } } } }";
    let body = app.gql(Some(&bea.token), members, json!({ "s": "leigh-sunday-league" })).await.json();
    assert_eq!(body["data"]["group"]["memberCount"], 2, "{body}");
    let viewer = app.gql(Some(&bea.token), "{ viewer { displayName scopes } }", json!({})).await.json();
    assert_eq!(viewer["data"]["viewer"]["displayName"], "Bea");
    let anon = app.gql(None, "{ viewer { displayName } }", json!({})).await.json();
    assert_eq!(anon["data"]["viewer"], Value::Null);
}

#[tokio::test]
async fn errors_carry_the_rest_codes() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let input = json!({ "slug": "wigan-techmates", "name": "Wigan TechMates", "summary": "Tea" });
    app.gql(Some(&ada.token), CREATE, json!({ "input": input })).await;
    let before = app.state().await;
    let dup = app.gql(Some(&ada.token), CREATE, json!({ "input": input })).await.json();
    assert_eq!(code(&dup), "GROUP_SLUG_TAKEN");
    let anon = app.gql(None, CREATE, json!({ "input": input })).await.json();
    assert_eq!(code(&anon), "UNAUTHENTICATED");
    let bad = json!({ "slug": "API", "name": "x", "summary": "ok", "area": { "outcode": "ZZ99" } });
    let invalid = app.gql(Some(&ada.token), CREATE, json!({ "input": bad })).await.json();
    assert_eq!(code(&invalid), "VALIDATION_FAILED");
    let fields: Vec<&str> = invalid["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["/slug", "/name", "/area/outcode"]);
    let res = app
        .http
        .post("/graphql")
        .header("authorization", "Bearer scf_wrong")
        .json(&json!({ "query": "{ categories }" }))
        .send()
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(code(&res.json()), "UNAUTHENTICATED");
    let res = app.http.post("/graphql").raw_json("{not json").send().await;
    assert_eq!(res.status, 400);
    assert_eq!(code(&res.json()), "BAD_REQUEST");
    assert_eq!(app.state().await, before);
}

#[tokio::test]
async fn connections_page_forward_with_cursors() {
    let app = app().await;
    let ada = app.member("Ada").await;
    for slug in ["aa-group", "bb-group", "cc-group"] {
        app.group(&ada.token, group_named(slug, json!({}))).await;
    }
    let q = "query($after: String) { groups(first: 2, after: $after) { edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } }";
    let page1 = app.gql(None, q, json!({ "after": null })).await.json();
    let c = &page1["data"]["groups"];
    assert_eq!(c["edges"].as_array().unwrap().len(), 2, "{page1}");
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let page2 = app.gql(None, q, json!({ "after": c["pageInfo"]["endCursor"] })).await.json();
    let slugs: Vec<&str> = page2["data"]["groups"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["cc-group"]);
    assert_eq!(page2["data"]["groups"]["pageInfo"]["hasNextPage"], false);
    let too_many = app.gql(None, "{ groups(first: 500) { edges { cursor } } }", json!({})).await.json();
    assert_eq!(code(&too_many), "VALIDATION_FAILED");
}

#[tokio::test]
async fn federation_entities_resolve_by_id_and_slug() {
    let app = app().await;
    let ada = app.member("Ada").await;
    let g = app.group(&ada.token, techmates()).await;
    let sdl = app.gql(None, "{ _service { sdl } }", json!({})).await.json();
    let sdl = sdl["data"]["_service"]["sdl"].as_str().unwrap();
    assert!(sdl.contains(r#"type Group @key(fields: "id") @key(fields: "slug")"#), "{sdl}");
    assert!(sdl.contains("https://specs.apollo.dev/federation/v2"), "federation v2 link");
    let q = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { id slug name } } }";
    let reps = json!([{ "__typename": "Group", "id": g["id"] }, { "__typename": "Group", "slug": "wigan-techmates" }]);
    let body = app.gql(None, q, json!({ "r": reps })).await.json();
    let e = body["data"]["_entities"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(e.len(), 2);
    assert!(e.iter().all(|x| x["name"] == "Wigan TechMates" && x["id"] == g["id"]), "{body}");
}

#[tokio::test]
async fn depth_complexity_alias_and_batch_limits_hold() {
    let app = app().await;
    let ok = app
        .gql(None, "{ group(slug: \"x\") { members { edges { node { person { id } } } } } }", json!({}))
        .await
        .json();
    assert_eq!(ok["data"]["group"], Value::Null, "an ordinary depth runs: {ok}");
    let nested = format!(
        "{{ group(slug: \"x\") {} id {} }}",
        "{ events(first: 1) { edges { node { group ".repeat(3),
        "} } } }".repeat(3)
    );
    let body = app.gql(None, &nested, json!({})).await.json();
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    assert!(body["data"].is_null(), "{body}");
    // Introspection has its own, deeper limit, but not an endless one.
    let nested = format!(
        "{{ __schema {{ types {{ fields {{ type {} name {} }} }} }} }}",
        "{ ofType ".repeat(40),
        "}".repeat(40)
    );
    let body = app.gql(None, &nested, json!({})).await.json();
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    // Introspection that expands types from type references grows exponentially: refused.
    let fan = format!("{{ __schema {{ types {} name {} }} }}", "{ fields { type ".repeat(5), "} }".repeat(5));
    let res = app.gql(None, &fan, json!({})).await;
    let body = res.json();
    assert_eq!((res.status.as_u16(), code(&body)), (400, "QUERY_TOO_COMPLEX"), "{body}");
    let aliases: String = (0..31).map(|i| format!("a{i}: categories ")).collect();
    let body = app.gql(None, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(body.status, 400);
    assert_eq!(code(&body.json()), "TOO_MANY_ALIASES");
    let complex = "{ groups(first: 100) { edges { node { members(first: 100) { edges { node { person { id displayName } } } } } } } }";
    let body = app.gql(None, complex, json!({})).await.json();
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let cycle = "{ ...A } fragment A on Query { categories ...B } fragment B on Query { ...A }";
    let res = app.gql(None, cycle, json!({})).await;
    let body = res.json();
    assert_eq!((res.status.as_u16(), code(&body)), (400, "FRAGMENT_CYCLE"), "{body}");
    let body = app.gql(None, "{ group(slug: \"x\") { nope } }", json!({})).await.json();
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let res = app.gql(None, "{ group(slug: ", json!({})).await;
    let body = res.json();
    assert_eq!((res.status.as_u16(), code(&body)), (400, "GRAPHQL_PARSE_FAILED"));
    let batch: Vec<Value> = (0..11).map(|_| json!({ "query": "{ categories }" })).collect();
    let res = app.http.post("/graphql").json(&Value::Array(batch)).send().await;
    assert_eq!(res.status, 400);
    assert_eq!(code(&res.json()), "BATCH_TOO_LARGE");
    let batch: Vec<Value> = (0..2).map(|_| json!({ "query": "{ categories }" })).collect();
    let res = app.http.post("/graphql").json(&Value::Array(batch)).send().await;
    assert_eq!(res.json().as_array().unwrap().len(), 2, "small batches run");
}

/// The query that GraphiQL and code generators send (graphql-js 16 `getIntrospectionQuery` with
/// every option) is answered in full.
#[tokio::test]
async fn the_standard_introspection_query_is_answered() {
    let app = app().await;
    let query = include_str!("../data/introspection.graphql");
    let body = app.gql(None, query, json!({})).await.json();
    assert!(body["errors"].is_null(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Group"), "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

/// A year of a daily series for every event of every group found: refused before it runs,
/// with a code, whoever asks.
#[tokio::test]
async fn list_fields_are_costed_and_a_cost_bomb_is_refused() {
    let app = app().await;
    let owner = app.person("Ada", &["groups:read", "groups:write", "events:read", "events:write"]).await;
    app.group(&owner.token, group_named("daily-club", json!({ "area": { "outcode": "WN1" } }))).await;
    let daily = json!({ "title": "Daily walk", "summary": "Every day", "start": "2026-03-28T10:00",
        "end": "2026-03-28T11:00", "rrule": "FREQ=DAILY", "place": { "name": "Park", "postcode": "WN1 1NU" } });
    let res = app.http.post("/api/v1/groups/daily-club/events").token(&owner.token).json(&daily).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let bomb = "{ searchEvents(first: 100, outcode: \"WN1\") { edges { node { event { group { events(first: 100) {
        edges { node { occurrences(from: \"2026-03-28T00:00:00Z\", to: \"2027-03-28T00:00:00Z\") {
        start end localStart status } } } } } } } } } }";
    let body = app.gql(None, bomb, json!({})).await.json();
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body["data"].is_null());
    // What a calendar page asks (a year of one event, a quarter of a group's events) still runs.
    let year = "{ group(slug: \"daily-club\") { events { edges { node {
        occurrences(from: \"2026-03-28T00:00:00Z\", to: \"2027-03-28T00:00:00Z\") { start } } } } } }";
    let body = app.gql(None, year, json!({})).await.json();
    assert!(body["errors"].is_null(), "{body}");
    let occ = &body["data"]["group"]["events"]["edges"][0]["node"]["occurrences"];
    assert_eq!(occ.as_array().unwrap().len(), 365, "{body}");
}

#[tokio::test]
async fn a_response_over_the_size_limit_is_refused_with_a_code() {
    use scaffold_server::app::AppOptions;
    let limits = scaffold_graphql::Limits { response_bytes: 2_000, ..scaffold_graphql::Limits::default() };
    let app = crate::common::app_with(AppOptions { graphql: limits, ..AppOptions::default() }).await;
    let small = app.gql(None, "{ categories }", json!({})).await.json();
    assert!(small["errors"].is_null(), "{small}");
    let big = app.gql(None, "{ categories guidelineTemplates { id title text } }", json!({})).await.json();
    assert_eq!(code(&big), "RESPONSE_TOO_LARGE", "{big}");
    assert!(big["data"].is_null());
}

/// The number of store calls for a list query must not grow with the number of groups.
#[tokio::test]
async fn lists_resolve_related_data_without_a_query_per_item() {
    use scaffold_server::app::{AppOptions, router};
    use scaffold_testkit::TestClient;
    let store = scaffold_testkit::counting_store(scaffold_testkit::store().await);
    let service = scaffold_service::Service::new(store.clone(), scaffold_testkit::clock());
    let operator = service.bootstrap_operator().await.unwrap().unwrap();
    let http = TestClient::new(router(service, &AppOptions::default()));
    let q =
        json!({ "query": "{ groups(first: 50) { edges { node { slug memberCount viewerMembership { role } } } } }" });
    let entities = json!({
        "query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Group { slug memberCount viewerMembership { role } } } }"
    });
    let mut per_size = Vec::new();
    for n in [2, 8] {
        let mut ids = Vec::new();
        while ids.len() < n {
            let i = ids.len() + per_size.len() * 100;
            let res = http
                .post("/api/v1/groups")
                .token(operator.expose())
                .json(&group_named(&format!("group-{i:03}"), json!({})))
                .send()
                .await;
            ids.push(res.json()["id"].clone());
        }
        store.reset();
        let body = http.post("/graphql").token(operator.expose()).json(&q).send().await.json();
        assert!(body["errors"].is_null(), "{body}");
        let list_calls = store.calls();
        store.reset();
        let reps: Vec<Value> = ids.iter().map(|id| json!({ "__typename": "Group", "id": id })).collect();
        let mut ask = entities.clone();
        ask["variables"] = json!({ "r": reps });
        let body = http.post("/graphql").token(operator.expose()).json(&ask).send().await.json();
        assert_eq!(body["data"]["_entities"].as_array().unwrap().len(), n, "{body}");
        per_size.push((list_calls, store.calls()));
    }
    assert_eq!(per_size[0], per_size[1], "store calls grew with the number of groups: {per_size:?}");
    // A page of groups: one list query and one for the caller's memberships.
    assert_eq!(per_size[1].0.get("list_groups"), Some(&1), "{per_size:?}");
    assert_eq!(per_size[1].0.get("memberships_of_person"), Some(&1), "{per_size:?}");
    // Entities: one batch load (which checks visibility against the caller's memberships) and one
    // batch for `viewerMembership`.
    assert_eq!(per_size[1].1.get("groups_by_ids"), Some(&1), "{per_size:?}");
    assert_eq!(per_size[1].1.get("memberships_of_person"), Some(&2), "{per_size:?}");
}

#[tokio::test]
async fn introspection_and_graphiql_can_be_turned_off() {
    use scaffold_server::app::AppOptions;
    let on = app().await;
    assert!(on.http.get("/graphql").send().await.text.contains("graphiql"));
    let body = on.gql(None, "{ __schema { queryType { name } } }", json!({})).await.json();
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");

    let limits =
        scaffold_graphql::Limits { introspection: false, graphiql: false, ..scaffold_graphql::Limits::default() };
    let off = crate::common::app_with(AppOptions { graphql: limits, ..AppOptions::default() }).await;
    assert_eq!(off.http.get("/graphql").send().await.status, 405);
    for q in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Group\") { name } }",
        "{ categories ...F } fragment F on Query { __schema { types { name } } }",
    ] {
        let res = off.gql(None, q, json!({})).await;
        assert_eq!(res.status, 400, "{}", res.text);
        assert_eq!(code(&res.json()), "INTROSPECTION_DISABLED", "{q}");
    }
    let body = off.gql(None, "{ _service { sdl } }", json!({})).await.json();
    assert!(
        body["data"]["_service"]["sdl"].as_str().is_some_and(|s| s.contains("@key")),
        "gateways still get the SDL: {body}"
    );
    let body = off.gql(None, "{ categories }", json!({})).await.json();
    assert!(body["data"]["categories"].is_array(), "ordinary queries still run: {body}");
}

/// The same bad request gets the same code on both transports: a page size outside 1–100 is
/// `VALIDATION_FAILED` with the field code `OUT_OF_RANGE` (at `/limit` in REST, `/first` in
/// GraphQL), and an unknown group is `GROUP_NOT_FOUND`.
#[tokio::test]
async fn the_same_failure_has_the_same_code_over_rest_and_graphql() {
    let app = app().await;
    let ada = app.member("Ada").await;
    app.group(&ada.token, techmates()).await;
    for size in [0, 101] {
        let rest = app.http.get(&format!("/api/v1/groups?limit={size}")).send().await;
        let rest = rest.problem(422, "VALIDATION_FAILED");
        assert_eq!(
            (rest["errors"][0]["pointer"].as_str(), rest["errors"][0]["code"].as_str()),
            (Some("/limit"), Some("OUT_OF_RANGE"))
        );
        let gql = app
            .gql(None, "query($n: Int) { groups(first: $n) { edges { node { id } } } }", json!({ "n": size }))
            .await
            .json();
        assert_eq!(code(&gql), "VALIDATION_FAILED", "{gql}");
        let field = &gql["errors"][0]["extensions"]["fields"][0];
        assert_eq!(
            (field["pointer"].as_str(), field["code"].as_str()),
            (Some("/first"), Some("OUT_OF_RANGE")),
            "{gql}"
        );
    }
    // An unknown group: REST answers 404, GraphQL's mutation fails with the same code (a
    // lookup such as `group(id:)` answers null, as GraphQL lookups do).
    let missing = "00000000-0000-7000-8000-000000000000";
    app.http
        .post(&format!("/api/v1/groups/{missing}/join"))
        .token(&ada.token)
        .send()
        .await
        .problem(404, "GROUP_NOT_FOUND");
    let gql = app
        .gql(Some(&ada.token), "mutation($id: ID!) { joinGroup(groupId: $id) { status } }", json!({ "id": missing }))
        .await
        .json();
    assert_eq!(code(&gql), "GROUP_NOT_FOUND", "{gql}");
}
