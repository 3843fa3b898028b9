//! `/api/v1/sources`: operators add the calendars and feeds listings are imported from, read each
//! source's health, read one now, and remove it (with everything it brought).

use crate::RestState;
use crate::extract::{JsonBody, SignedIn};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::source::{Source, SourceDraft};
use scaffold_domain::{DomainError, SourceId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One item a run skipped, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemOut {
    /// The item's id at the source (or its position when it has none).
    pub item: String,
    pub message: String,
}

/// How the source's last run went.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    /// `never`, `ok`, `unchanged` (the source answered 304 Not Modified) or `failed`.
    #[schema(example = "ok")]
    pub outcome: String,
    /// What happened, in words.
    pub message: String,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub added: u32,
    pub changed: u32,
    pub removed: u32,
    pub skipped: u32,
    /// The first problems of the last run (at most 20).
    pub problems: Vec<ProblemOut>,
    /// Failed runs in a row; each doubles the wait before the next (at most a day).
    pub consecutive_failures: u32,
}

/// A source of imported listings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceBody {
    pub id: Uuid,
    /// `ical`, `rpde` or `oruk`.
    #[schema(example = "ical")]
    pub kind: String,
    pub url: String,
    pub name: String,
    /// The id of the group its events are listed under (`/api/v1/groups/{id}`).
    pub listed_under: Option<Uuid>,
    /// The peer instance it mirrors, when it was added for one.
    pub peer_id: Option<Uuid>,
    pub health: HealthOut,
    pub next_run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

fn body(s: Source, group: Option<Uuid>) -> SourceBody {
    let h = s.health;
    SourceBody {
        id: s.id.0,
        kind: s.kind.as_str().to_owned(),
        url: s.url,
        name: s.name,
        listed_under: group,
        peer_id: s.peer_id.map(|p| p.0),
        health: HealthOut {
            outcome: h.outcome.as_str().to_owned(),
            message: h.message,
            last_run_at: h.last_run_at,
            last_success_at: h.last_success_at,
            added: h.added,
            changed: h.changed,
            removed: h.removed,
            skipped: h.skipped,
            problems: h.problems.into_iter().map(|p| ProblemOut { item: p.item, message: p.message }).collect(),
            consecutive_failures: h.consecutive_failures,
        },
        next_run_at: s.next_run_at,
        created_at: s.created_at,
    }
}

async fn with_group(s: &RestState, source: Source) -> Result<SourceBody, DomainError> {
    // A directory's organisations are groups of their own; calendars and feeds list under one.
    let group = match source.kind {
        scaffold_domain::source::SourceKind::Oruk => None,
        _ => s.service.source_group(source.id).await?.map(|g| g.id.0),
    };
    Ok(body(source, group))
}

/// What a source speaks: `ical`, an iCalendar (RFC 5545) URL (`webcal://` is read over https);
/// `rpde`, an OpenActive RPDE feed of SessionSeries; `oruk`, an Open Referral UK 3.0 API (its
/// base URL), whose organisations become directory entries.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum NewSourceKind {
    #[serde(rename = "ical")]
    Ical,
    #[serde(rename = "rpde")]
    Rpde,
    #[serde(rename = "oruk")]
    Oruk,
}

/// A source to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    pub kind: NewSourceKind,
    #[schema(max_length = 2000, example = "https://calendar.example.gov.uk/libraries.ics")]
    pub url: String,
    /// Shown as the origin of everything it brings.
    #[schema(max_length = 100, example = "Wigan Libraries")]
    pub name: String,
}

/// The sources, with their health.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    pub items: Vec<SourceBody>,
}

fn source_id(raw: &str) -> Result<SourceId, DomainError> {
    SourceId::parse_or_not_found(raw)
}

/// Add a source (operators)
#[utoipa::path(post, path = "/api/v1/sources", operation_id = "create_source", tag = "operators", request_body = NewSource,
    responses((status = 201, description = "Added; it is read within a minute, then hourly", body = SourceBody),
              (status = 403, description = "Needs the admin scope", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "SOURCE_EXISTS", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn create(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value: b, .. }: JsonBody<NewSource>,
) -> ApiResult<impl IntoResponse> {
    let kind = match b.kind {
        NewSourceKind::Ical => "ical",
        NewSourceKind::Rpde => "rpde",
        NewSourceKind::Oruk => "oruk",
    };
    let draft = SourceDraft { kind: kind.to_owned(), url: b.url, name: b.name };
    let source = s.service.add_source(&actor, &draft).await?;
    let location = format!("/api/v1/sources/{}", source.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(with_group(&s, source).await?)))
}

/// The sources and their health (operators)
#[utoipa::path(get, path = "/api/v1/sources", operation_id = "list_sources", tag = "operators",
    responses((status = 200, description = "Every source", body = SourceList),
              (status = 403, description = "Needs the admin scope", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn list(State(s): State<RestState>, SignedIn(actor): SignedIn) -> ApiResult<Json<SourceList>> {
    let mut items = Vec::new();
    for source in s.service.sources(&actor).await? {
        items.push(with_group(&s, source).await?);
    }
    Ok(Json(SourceList { items }))
}

/// One source and its health (operators)
#[utoipa::path(get, path = "/api/v1/sources/{source}", operation_id = "get_source", tag = "operators",
    params(("source" = String, Path, description = "Source id")),
    responses((status = 200, description = "The source", body = SourceBody),
              (status = 404, description = "SOURCE_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn get(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(source): Path<String>,
) -> ApiResult<Json<SourceBody>> {
    let id = source_id(&source)?;
    Ok(Json(with_group(&s, s.service.source(&actor, id).await?).await?))
}

/// Read a source now (operators)
#[utoipa::path(post, path = "/api/v1/sources/{source}/sync", operation_id = "sync_source", tag = "operators",
    params(("source" = String, Path, description = "Source id")),
    responses((status = 200, description = "The source after the run, with its health", body = SourceBody),
              (status = 404, description = "SOURCE_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn sync(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(source): Path<String>,
) -> ApiResult<Json<SourceBody>> {
    let id = source_id(&source)?;
    Ok(Json(with_group(&s, s.service.sync_source(&actor, id).await?).await?))
}

/// Remove a source and everything it brought (operators)
#[utoipa::path(delete, path = "/api/v1/sources/{source}", operation_id = "delete_source", tag = "operators",
    params(("source" = String, Path, description = "Source id")),
    responses((status = 204, description = "Removed, with its groups and events"),
              (status = 404, description = "SOURCE_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path(source): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_source(&actor, source_id(&source)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
