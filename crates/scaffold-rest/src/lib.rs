//! The REST transport under `/api/v1`: thin handlers that parse, call the service and map the
//! result, plus the OpenAPI 3.1 document generated from the same code (utoipa). Errors are RFC
//! 9457 problem details. It must not hold business rules or talk to storage.

mod apps;
mod attestations;
mod audit;
mod auth;
mod calendars;
mod events;
mod extract;
mod groups;
mod ical;
mod members;
mod my_dates;
mod notices;
mod occurrences;
mod openactive;
mod oruk;
mod peers;
mod people;
mod problem;
mod rsvps;
mod schema;
mod search;
mod sources;
mod spec;
mod webhooks;

use axum::Router;
use axum::routing::{get, patch, post};
use scaffold_service::Service;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use openactive::dataset_document;
pub use problem::{ApiError, Problem, problem_response};

/// What every handler gets: the service.
#[derive(Debug, Clone)]
pub struct RestState {
    pub service: Service,
}

/// The `/api/v1` routes, ready to nest into the application.
pub fn router(service: Service) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route("/api/v1/groups/{group}", get(groups::get).patch(groups::update))
        .route("/api/v1/groups/{group}/archive", post(groups::archive))
        .route(
            "/api/v1/groups/{group}/identifiers/{scheme}",
            axum::routing::put(groups::set_identifier).delete(groups::remove_identifier),
        )
        .route("/api/v1/groups/{group}/identifiers/{scheme}/verify", post(groups::verify_identifier))
        .route("/api/v1/groups/{group}/join", post(members::join))
        .route("/api/v1/groups/{group}/notices", get(notices::of_group))
        .route("/api/v1/groups/{group}/notices/feed", get(notices::feed))
        .route("/api/v1/groups/{group}/notices/{notice}/dismiss", post(notices::dismiss))
        .route("/api/v1/notices", get(notices::list).post(notices::publish))
        .route("/api/v1/notices/{notice}", get(notices::get))
        .route("/api/v1/groups/{group}/leave", post(members::leave))
        .route("/api/v1/groups/{group}/members", get(members::list))
        .route("/api/v1/groups/{group}/invitations", post(members::invite))
        .route("/api/v1/groups/{group}/members/{person}", patch(members::change_role).delete(members::remove))
        .route("/api/v1/groups/{group}/members/{person}/approve", post(members::approve))
        .route("/api/v1/groups/{group}/events", get(events::list).post(events::create))
        .route("/api/v1/events", get(search::search))
        .route("/api/v1/events/calendar.ics", get(search::calendar))
        .route("/api/v1/events/{event}", get(events::get).put(events::replace).delete(events::delete))
        .route("/api/v1/events/{event}/calendar.ics", get(calendars::event_calendar))
        .route("/api/v1/groups/{group}/calendar.ics", get(calendars::group_calendar))
        .route("/api/v1/events/{event}/occurrences", get(occurrences::occurrences))
        .route(
            "/api/v1/events/{event}/occurrences/{local_start}",
            axum::routing::put(occurrences::set_occurrence).delete(occurrences::clear_occurrence),
        )
        .route("/api/v1/events/{event}/occurrences/{local_start}/rsvp", axum::routing::put(rsvps::rsvp))
        .route("/api/v1/events/{event}/occurrences/{local_start}/rsvps", get(rsvps::replies))
        .route("/api/v1/events/{event}/occurrences/{local_start}/rsvps/{person}/check-in", post(rsvps::check_in))
        .route(
            "/api/v1/events/{event}/series-rsvp",
            get(rsvps::get_series).put(rsvps::put_series).delete(rsvps::delete_series),
        )
        .route("/api/v1/me/dates", get(my_dates::dates))
        .route(
            "/api/v1/me/calendar-feed",
            get(my_dates::get_feed).post(my_dates::create_feed).delete(my_dates::delete_feed),
        )
        .route("/calendars/{file}", get(my_dates::feed))
        .route("/oruk", get(oruk::about))
        .route("/oruk/", get(oruk::about))
        .route("/oruk/organizations", get(oruk::organizations))
        .route("/oruk/organizations/{id}", get(oruk::organization_one))
        .route("/oruk/services", get(oruk::services))
        .route("/oruk/services/{id}", get(oruk::service_one))
        .route("/oruk/taxonomies", get(oruk::taxonomies))
        .route("/oruk/taxonomy_terms", get(oruk::taxonomy_terms))
        .route("/openactive", get(openactive::dataset))
        .route("/openactive/session-series", get(openactive::series))
        .route("/openactive/scheduled-sessions", get(openactive::sessions))
        .route("/api/v1/categories", get(groups::categories))
        .route("/api/v1/guideline-templates", get(groups::guideline_templates))
        .route("/api/v1/me", get(people::me).delete(people::delete_me))
        .route("/api/v1/sources", get(sources::list).post(sources::create))
        .route("/api/v1/sources/{source}", get(sources::get).delete(sources::delete))
        .route("/api/v1/sources/{source}/sync", post(sources::sync))
        .route("/api/v1/peers", get(peers::list).post(peers::create))
        .route("/api/v1/peers/{peer}", get(peers::get).delete(peers::delete))
        .route("/api/v1/presentations/verify", post(attestations::verify_presentation))
        .route("/api/v1/trust-list", get(peers::trust_list))
        .route("/api/v1/apps", get(apps::list).post(apps::register))
        .route("/api/v1/apps/{app}", get(apps::get).delete(apps::revoke))
        .route("/api/v1/apps/{app}/approve", post(apps::approve))
        .route("/api/v1/apps/{app}/secret", post(apps::rotate_secret))
        .route("/api/v1/apps/{app}/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/v1/apps/{app}/webhooks/{webhook}", get(webhooks::get).delete(webhooks::delete))
        .route("/api/v1/apps/{app}/webhooks/{webhook}/secret", post(webhooks::rotate))
        .route("/api/v1/apps/{app}/webhooks/{webhook}/enable", post(webhooks::enable))
        .route("/api/v1/apps/{app}/webhooks/{webhook}/disable", post(webhooks::disable))
        .route("/api/v1/apps/{app}/webhooks/{webhook}/deliveries", get(webhooks::deliveries))
        .route("/api/v1/apps/{app}/webhooks/{webhook}/deliveries/{change}/replay", post(webhooks::replay))
        .route("/auth/providers", get(auth::providers))
        .route("/auth/login/{provider}", get(auth::login))
        .route("/auth/link/{provider}", get(auth::link))
        .route("/auth/callback/{provider}", get(auth::callback))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/token", post(auth::person_token))
        .route("/oauth/token", post(auth::token))
        .route("/.well-known/oauth-authorization-server", get(auth::metadata))
        .route("/api/v1/me/grants", get(apps::grants))
        .route("/api/v1/me/grants/{grant}", axum::routing::delete(apps::revoke_grant))
        .route("/.well-known/jwks.json", get(auth::jwks))
        .route("/.well-known/jwt-vc-issuer", get(attestations::issuer_metadata))
        .route("/vct/{type}/{version}", get(attestations::type_metadata))
        .route("/status-lists/{n}", get(attestations::status_list))
        .route("/api/v1/groups/{group}/issuer-types", get(attestations::issuer_types).post(attestations::authorise))
        .route("/api/v1/groups/{group}/attestations", post(attestations::issue))
        .route("/api/v1/me/attestations", get(attestations::mine))
        .route("/api/v1/me/attestations/identity-verified", post(attestations::attest_identity))
        .route("/api/v1/me/attestations/{id}", get(attestations::one))
        .route("/api/v1/me/attestations/{id}/accept", post(attestations::accept))
        .route("/api/v1/me/attestations/{id}/decline", post(attestations::decline))
        .route("/api/v1/me/attestations/{id}/withdraw", post(attestations::withdraw))
        .route("/api/v1/me/attestations/{id}/credential", get(attestations::credential))
        .route("/api/v1/attestations/{id}/revoke", post(attestations::revoke))
        .route("/api/v1/me/attestations/{id}/shares", get(attestations::shares).post(attestations::create_share))
        .route("/api/v1/me/attestations/{id}/shares/{share}/withdraw", post(attestations::withdraw_share))
        .route("/api/v1/shares/redeem", post(attestations::redeem))
        .route("/api/v1/me/memberships", get(people::my_memberships))
        .route("/api/v1/me/api-keys", get(people::list_keys).post(people::create_key))
        .route("/api/v1/me/api-keys/{key}", axum::routing::delete(people::revoke_key))
        .route("/api/v1/people", post(people::create_person))
        .route("/api/v1/sign-in-links", post(people::create_sign_in_link))
        .route("/api/v1/audit", get(audit::list))
        .fallback(problem::not_found_route)
        .with_state(RestState { service })
}

async fn openapi_json() -> axum::Json<serde_json::Value> {
    axum::Json(openapi())
}

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or scf_ API key")
                    .description(Some("An API key (`scf_…`), an access token from `/oauth/token`, or a configured provider's access token. Browsers may use the session cookie instead."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("An app's `client_id` and `client_secret`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "__Host-scaffold-session",
                    "The session cookie set by signing in (`/auth/login/{provider}`).",
                ),
            )),
        );
    }
}

/// Documents the errors any operation can answer with, so that clients (and schema-based testers)
/// see every status the service really sends: 401 for a bad token anywhere; 404 where a path names
/// a resource; 422 where there are parameters or a body; 400, 413 and 415 where there is a body;
/// 500 and 503 always.
struct StandardErrors;

impl utoipa::Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The OAuth token endpoint documents its own (RFC 6749) errors.
            if path == "/oauth/token" {
                continue;
            }
            let has_path_params = path.contains('{');
            // Changes under a group (its events and their occurrences too) are refused once the
            // group is archived.
            let under_group = path.contains("{group}") || path.contains("{event}");
            for (changes, op) in [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (true, &mut item.delete),
            ]
            .into_iter()
            .filter_map(|(c, op)| op.as_mut().map(|op| (c, op)))
            {
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let mut add = |status: &str, description: &str| {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description).into());
                };
                add("401", "The bearer token is missing (where one is needed) or not valid");
                if changes && under_group {
                    add(
                        "409",
                        "GROUP_ARCHIVED: the group is archived and can no longer be changed (or another conflict: see the code)",
                    );
                }
                add("429", "Too many requests: see `RateLimit-*` and `Retry-After`");
                if has_path_params {
                    add("404", "No such resource, or it is hidden from you");
                }
                if has_params || has_body {
                    add("422", "A parameter or field is invalid; `errors` lists each with a JSON pointer");
                }
                if has_body {
                    add("400", "The body is not valid JSON");
                    add("413", "The body is too large");
                    add("415", "The body is not application/json");
                }
                add("500", "An internal error (logged with the request id; no detail is returned)");
                add("503", "The store is unavailable or the request timed out");
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Community Scaffold API",
        description = "Groups, memberships, events and apps for community groups (attestations to come). \
            Errors are RFC 9457 problem details with a stable `code`. Public data needs no token; \
            everything else takes `Authorization: Bearer <token>` with the scopes each operation names.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    paths(
        groups::list,
        groups::create,
        groups::get,
        groups::update,
        groups::archive,
        groups::set_identifier,
        groups::remove_identifier,
        groups::verify_identifier,
        groups::categories,
        groups::guideline_templates,
        members::join,
        members::leave,
        members::list,
        members::invite,
        members::approve,
        members::change_role,
        members::remove,
        people::me,
        people::delete_me,
        people::my_memberships,
        events::create,
        events::list,
        search::search,
        search::calendar,
        events::delete,
        events::get,
        events::replace,
        occurrences::occurrences,
        occurrences::set_occurrence,
        occurrences::clear_occurrence,
        calendars::event_calendar,
        calendars::group_calendar,
        rsvps::rsvp,
        rsvps::replies,
        rsvps::check_in,
        rsvps::put_series,
        rsvps::get_series,
        rsvps::delete_series,
        my_dates::dates,
        my_dates::create_feed,
        my_dates::get_feed,
        my_dates::delete_feed,
        my_dates::feed,
        openactive::dataset,
        openactive::series,
        openactive::sessions,
        apps::register,
        apps::list,
        apps::get,
        apps::approve,
        apps::rotate_secret,
        apps::revoke,
        notices::publish,
        notices::list,
        notices::get,
        notices::of_group,
        notices::dismiss,
        notices::feed,
        webhooks::create,
        webhooks::list,
        webhooks::get,
        webhooks::delete,
        webhooks::rotate,
        webhooks::enable,
        webhooks::disable,
        webhooks::deliveries,
        webhooks::replay,
        auth::token,
        auth::metadata,
        apps::grants,
        apps::revoke_grant,
        auth::person_token,
        auth::jwks,
        attestations::issuer_metadata,
        attestations::type_metadata,
        attestations::status_list,
        attestations::authorise,
        attestations::issuer_types,
        attestations::issue,
        attestations::mine,
        attestations::one,
        attestations::accept,
        attestations::decline,
        attestations::withdraw,
        attestations::credential,
        attestations::revoke,
        attestations::create_share,
        attestations::shares,
        attestations::withdraw_share,
        attestations::redeem,
        attestations::attest_identity,
        people::list_keys,
        people::create_key,
        people::revoke_key,
        people::create_person,
        people::create_sign_in_link,
        audit::list,
        sources::create,
        sources::list,
        sources::get,
        sources::sync,
        sources::delete,
        peers::create,
        peers::list,
        peers::get,
        peers::delete,
        attestations::verify_presentation,
        peers::trust_list,
    ),
    modifiers(&Security, &StandardErrors),
    tags(
        (name = "groups", description = "A community group's online presence"),
        (name = "members", description = "Joining, leaving, roles"),
        (name = "people", description = "The caller, their API keys, and operator onboarding"),
        (name = "operators", description = "Instance operation"),
        (name = "events", description = "Events and series a group runs, and their occurrences"),
        (name = "attestations", description = "Credentials (SD-JWT VC): issuer metadata and credential types"),
        (name = "open data", description = "OpenActive RPDE feeds (SessionSeries, ScheduledSession) and their dataset document"),
        (name = "apps", description = "Apps for community developers, the OAuth token endpoint and the published keys"),
        (name = "notices", description = "Council notices to the groups of an area or interest"),
        (name = "webhooks", description = "Changes pushed to apps, signed as Standard Webhooks (docs/webhooks.md)"),
    )
)]
struct ApiDoc;

/// The OpenAPI document, as served and as committed in `openapi/openapi.json`: what utoipa
/// derives from the handlers, with the text rules of [`spec`] written in.
pub fn openapi() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    spec::apply(&mut doc);
    doc
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn openapi_pretty() -> String {
    let mut s = serde_json::to_string_pretty(&openapi()).unwrap_or_default();
    s.push('\n');
    s
}
