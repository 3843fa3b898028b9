//! `/api/v1/notices` and `/api/v1/groups/{group}/notices`: council notices to the groups of an
//! area or interest. Operators and publishers (`notices:publish`) post them; anyone who can see a
//! group reads the notices it is sent (also as a JSON Feed); its organisers dismiss them.

use crate::RestState;
use crate::extract::{Caller, JsonBody, QueryParams, SignedIn};
use crate::groups::{group_id, group_ref};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use scaffold_domain::notice::{Notice, NoticeDraft};
use scaffold_domain::{DomainError, NoticeId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A link in a notice.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeLink {
    #[schema(max_length = 80, example = "Warm spaces near you")]
    pub label: String,
    #[schema(max_length = 2000, example = "https://www.wigan.gov.uk/warmspaces")]
    pub url: String,
}

/// A circle around an outward code's centre.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRadius {
    #[schema(example = "WN1")]
    pub outcode: String,
    /// 0.1 to 50.
    #[schema(example = 3.0)]
    pub km: f64,
}

/// A notice to publish: for the groups in the area (outward codes or a radius) and/or of the
/// categories (both must match when both are given).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    #[schema(max_length = 120, example = "Warm spaces open this winter")]
    pub title: String,
    /// Plain text; blank lines separate paragraphs.
    #[schema(max_length = 4000)]
    pub body: String,
    #[serde(default)]
    #[schema(max_items = 5)]
    pub links: Vec<NoticeLink>,
    #[serde(default)]
    #[schema(max_items = 50, example = json!(["WN1"]))]
    pub outcodes: Vec<String>,
    pub radius: Option<NoticeRadius>,
    #[serde(default)]
    #[schema(example = json!(["older-people"]))]
    pub categories: Vec<String>,
    /// When it starts to show (now when absent).
    pub valid_from: Option<DateTime<Utc>>,
    /// When it stops showing (at most 366 days after it starts).
    pub valid_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeBody {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub links: Vec<NoticeLink>,
    pub outcodes: Vec<String>,
    pub radius: Option<NoticeRadius>,
    pub categories: Vec<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// For a group's notices: whether its organisers dismissed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dismissed: Option<bool>,
}

impl NoticeBody {
    fn of(n: Notice, dismissed: Option<bool>) -> Self {
        Self {
            id: n.id.0,
            title: n.title,
            body: n.body,
            links: n.links.into_iter().map(|l| NoticeLink { label: l.label, url: l.url }).collect(),
            outcodes: n.outcodes.iter().map(|o| o.as_str().to_owned()).collect(),
            radius: n.radius.map(|(o, km)| NoticeRadius { outcode: o.as_str().to_owned(), km }),
            categories: n.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            valid_from: n.valid_from,
            valid_until: n.valid_until,
            created_at: n.created_at,
            dismissed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    pub items: Vec<NoticeBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeListParams {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupNoticeParams {
    /// Also the notices its organisers dismissed.
    #[serde(default)]
    pub include_dismissed: bool,
}

fn notice_id(raw: &str) -> Result<NoticeId, DomainError> {
    NoticeId::parse_or_not_found(raw)
}

/// Publish a notice to groups (operators and publishers)
#[utoipa::path(post, path = "/api/v1/notices", operation_id = "publish_notice", tag = "notices", request_body = NewNotice,
    responses((status = 201, description = "Published: the groups it concerns see it, and subscribed apps are told", body = NoticeBody),
              (status = 403, description = "Needs `notices:publish` or `admin`", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "VALIDATION_FAILED", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["notices:publish"])))]
pub async fn publish(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    JsonBody { value: b, .. }: JsonBody<NewNotice>,
) -> ApiResult<impl IntoResponse> {
    let draft = NoticeDraft {
        title: b.title,
        body: b.body,
        links: b.links.into_iter().map(|l| (l.label, l.url)).collect(),
        outcodes: b.outcodes,
        radius: b.radius.map(|r| (r.outcode, r.km)),
        categories: b.categories,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
    };
    let notice = s.service.publish_notice(&actor, &draft).await?;
    let location = format!("/api/v1/notices/{}", notice.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(NoticeBody::of(notice, None))))
}

/// Every notice, newest first (operators and publishers)
#[utoipa::path(get, path = "/api/v1/notices", operation_id = "list_notices", tag = "notices", params(NoticeListParams),
    responses((status = 200, description = "Notices", body = NoticeList),
              (status = 403, description = "Needs `notices:publish` or `admin`", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["notices:publish"])))]
pub async fn list(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    QueryParams(q): QueryParams<NoticeListParams>,
) -> ApiResult<Json<NoticeList>> {
    let limit = scaffold_service::page_limit(q.limit)?;
    let items = s.service.notices(&actor, limit).await?;
    Ok(Json(NoticeList { items: items.into_iter().map(|n| NoticeBody::of(n, None)).collect() }))
}

/// One notice
#[utoipa::path(get, path = "/api/v1/notices/{notice}", operation_id = "get_notice", tag = "notices",
    params(("notice" = String, Path, description = "Notice id")),
    responses((status = 200, description = "The notice", body = NoticeBody),
              (status = 404, description = "NOTICE_NOT_FOUND", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(notice): Path<String>,
) -> ApiResult<Json<NoticeBody>> {
    Ok(Json(NoticeBody::of(s.service.notice(&actor, notice_id(&notice)?).await?, None)))
}

/// The notices a group is sent, newest first
#[utoipa::path(get, path = "/api/v1/groups/{group}/notices", operation_id = "list_group_notices", tag = "notices",
    params(("group" = String, Path, description = "Group id or slug"), GroupNoticeParams),
    responses((status = 200, description = "The notices up now that concern the group", body = NoticeList),
              (status = 404, description = "GROUP_NOT_FOUND", body = Problem, content_type = "application/problem+json")))]
pub async fn of_group(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(group): Path<String>,
    QueryParams(q): QueryParams<GroupNoticeParams>,
) -> ApiResult<Json<NoticeList>> {
    let items = s.service.group_notices(&actor, &group_ref(&group), q.include_dismissed).await?;
    Ok(Json(NoticeList { items: items.into_iter().map(|n| NoticeBody::of(n.notice, Some(n.dismissed))).collect() }))
}

/// Dismiss a notice for a group (organisers and owners)
#[utoipa::path(post, path = "/api/v1/groups/{group}/notices/{notice}/dismiss", operation_id = "dismiss_group_notice", tag = "notices",
    params(("group" = String, Path, description = "Group id"), ("notice" = String, Path, description = "Notice id")),
    responses((status = 204, description = "Dismissed for the group"),
              (status = 403, description = "Organisers and owners only", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "GROUP_NOT_FOUND, NOTICE_NOT_FOUND", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = ["groups:write"])))]
pub async fn dismiss(
    State(s): State<RestState>,
    SignedIn(actor): SignedIn,
    Path((group, notice)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service.dismiss_notice(&actor, group_id(&group)?, notice_id(&notice)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's notices as a JSON Feed 1.1 (for feed readers)
#[utoipa::path(get, path = "/api/v1/groups/{group}/notices/feed", operation_id = "group_notices_feed", tag = "notices",
    params(("group" = String, Path, description = "Group id or slug")),
    responses((status = 200, description = "JSON Feed 1.1", content_type = "application/feed+json", body = serde_json::Value),
              (status = 404, description = "GROUP_NOT_FOUND", body = Problem, content_type = "application/problem+json")))]
pub async fn feed(
    State(s): State<RestState>,
    Caller(actor): Caller,
    Path(group): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let r = group_ref(&group);
    let view = s.service.group(&actor, &r).await?;
    let items = s.service.group_notices(&actor, &r, false).await?;
    let base = s.service.identity().config().public_url.trim_end_matches('/').to_owned();
    let g = &view.group;
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": format!("Notices for {}", g.name),
        "home_page_url": format!("{base}/groups/{}", g.slug),
        "feed_url": format!("{base}/api/v1/groups/{}/notices/feed", g.slug),
        "language": "en-GB",
        "items": items.iter().map(|n| {
            let n = &n.notice;
            let mut text = n.body.clone();
            for l in &n.links {
                text.push_str(&format!("\n\n{}: {}", l.label, l.url));
            }
            serde_json::json!({
                "id": format!("urn:uuid:{}", n.id),
                "url": format!("{base}/api/v1/notices/{}", n.id),
                "title": n.title,
                "content_text": text,
                "date_published": n.valid_from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "_scaffold": { "valid_until": n.valid_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) },
            })
        }).collect::<Vec<_>>(),
    });
    Ok(([(header::CONTENT_TYPE, "application/feed+json")], Json(feed)))
}
