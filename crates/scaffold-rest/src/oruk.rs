//! `/oruk`: the public directory as an Open Referral UK 3.0 read API, for directories that merge
//! records from several publishers. Each public group is an organisation providing one service
//! (the same id); its events become the service's schedules (series as iCalendar rules) and
//! locations; verified charity and company numbers become organisation identifiers (GB-CHC,
//! GB-COH). Open, no token, any origin; optional fields are left out rather than null.

use crate::RestState;
use crate::extract::QueryParams;
use crate::problem::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Offset;
use scaffold_domain::event::Event;
use scaffold_domain::group::{Category, Group, IdentifierScheme};
use scaffold_domain::{DomainError, GroupId};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// A listing's query: ORUK's `search` (or `text`, as ORUK 1.0 named it), `page` and `per_page`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    search: Option<String>,
    text: Option<String>,
    /// Services only: one of `/oruk/taxonomy_terms`.
    taxonomy_term_id: Option<String>,
    /// A UK postcode (or its outward code): groups in that district, or with `proximity`
    /// (meters) within that distance of the district's centre.
    postcode: Option<String>,
    proximity: Option<String>,
    /// Groups changed at or after this date-time (or date).
    modified_after: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The one taxonomy: the categories groups and events have.
const TAXONOMY: &str = "Community Scaffold interests";

fn taxonomy_id() -> uuid::Uuid {
    uuid::Uuid::parse_str(&derived_id(uuid::Uuid::nil(), "community-scaffold-interests")).unwrap_or_default()
}

fn term_id(c: Category) -> String {
    derived_id(taxonomy_id(), c.as_str())
}

fn term(c: Category) -> Value {
    json!({
        "id": term_id(c),
        "name": c.label(),
        "description": c.label(),
        "taxonomy": TAXONOMY,
        "taxonomy_id": taxonomy_id().to_string(),
        "term": c.as_str(),
    })
}

fn taxonomy() -> Value {
    json!({
        "id": taxonomy_id().to_string(),
        "name": TAXONOMY,
        "description": "What a community group is about: the categories people search by.",
        "version": "1",
    })
}

fn open(body: Value) -> Response {
    let mut res = Json(body).into_response();
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    res
}

fn base(s: &RestState) -> String {
    s.service.identity().config().public_url.trim_end_matches('/').to_owned()
}

/// A JSON object of the pairs whose value is not null.
fn object(pairs: Vec<(&str, Value)>) -> Value {
    let map: Map<String, Value> =
        pairs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_owned(), v)).collect();
    Value::Object(map)
}

/// A stable id for something the service has no id of its own for (an identifier, a location),
/// made from the group's or event's id and a label.
fn derived_id(owner: uuid::Uuid, label: &str) -> String {
    // The owner's id with the label folded into its random part: the same owner and label give
    // the same id, and different labels give different ones.
    let mut bytes = *owner.as_bytes();
    for (i, b) in label.bytes().enumerate() {
        bytes[8 + i % 8] = bytes[8 + i % 8].rotate_left(3) ^ b;
    }
    bytes[15] ^= u8::try_from(label.len() % 256).unwrap_or(0);
    uuid::Builder::from_bytes(bytes).with_variant(uuid::Variant::RFC4122).into_uuid().to_string()
}

fn organization(s: &RestState, g: &Group) -> Value {
    let identifiers: Vec<Value> = g
        .identifiers
        .iter()
        .filter(|i| i.verified_at.is_some())
        .map(|i| {
            let kind = match i.scheme {
                IdentifierScheme::CharityEnglandWales => "Charity Commission for England and Wales number",
                IdentifierScheme::CharityScotland => "Scottish Charity Regulator number",
                IdentifierScheme::CharityNorthernIreland => "Charity Commission for Northern Ireland number",
                IdentifierScheme::Company => "Companies House number",
            };
            let scheme = i.scheme.as_str();
            json!({
                "id": derived_id(g.id.0, scheme),
                "organization_id": g.id.to_string(),
                "identifier_scheme": scheme,
                "identifier_type": kind,
                "identifier": i.value,
            })
        })
        .collect();
    object(vec![
        ("id", json!(g.id.to_string())),
        ("name", json!(g.name)),
        ("description", json!(g.summary)),
        ("email", json!(g.contact_email)),
        ("website", g.links.first().map_or(Value::Null, |l| json!(l.url))),
        ("uri", json!(format!("{}/groups/{}", base(s), g.slug))),
        ("organization_identifiers", if identifiers.is_empty() { Value::Null } else { json!(identifiers) }),
    ])
}

/// "10:00+01:00": a local time with its offset from UTC at the event's first date.
fn time_with_offset(e: &Event, t: chrono::NaiveDateTime) -> String {
    let offset = scaffold_domain::event::instant(e.timezone, t).with_timezone(&e.timezone).offset().fix();
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    format!("{}{sign}{:02}:{:02}", t.format("%H:%M"), secs.unsigned_abs() / 3600, (secs.unsigned_abs() % 3600) / 60)
}

/// A schedule from an event: a one-off date, or a weekly or monthly series as its iCalendar
/// parts (other rules are described in words only).
fn schedule(service: GroupId, e: &Event) -> Value {
    let mut pairs = vec![
        ("id", json!(e.id.to_string())),
        ("service_id", json!(service.to_string())),
        ("description", json!(e.title)),
        ("valid_from", json!(e.start.format("%Y-%m-%d").to_string())),
        ("dtstart", json!(e.start.format("%Y-%m-%d").to_string())),
        (
            "attending_type",
            json!(match (&e.place, &e.online_url) {
                (Some(_), Some(_)) => "in person or online",
                (None, Some(_)) => "online",
                _ => "in person",
            }),
        ),
    ];
    if !e.all_day {
        pairs.push(("opens_at", json!(time_with_offset(e, e.start))));
        pairs.push(("closes_at", json!(time_with_offset(e, e.end))));
    }
    match &e.recurrence {
        None => pairs.push(("valid_to", json!(e.end.format("%Y-%m-%d").to_string()))),
        Some(r) => {
            for part in r.rule.split(';') {
                match part.split_once('=') {
                    Some(("FREQ", f @ ("WEEKLY" | "MONTHLY"))) => pairs.push(("freq", json!(f))),
                    Some(("INTERVAL", n)) => {
                        if let Ok(n) = n.parse::<u32>() {
                            pairs.push(("interval", json!(n)));
                        }
                    }
                    Some(("BYDAY", d)) => pairs.push(("byday", json!(d))),
                    Some(("BYMONTHDAY", d)) => pairs.push(("bymonthday", json!(d))),
                    Some(("UNTIL", u)) if u.len() >= 8 => {
                        pairs.push(("valid_to", json!(format!("{}-{}-{}", &u[0..4], &u[4..6], &u[6..8]))));
                    }
                    _ => {}
                }
            }
            if r.rule.contains("FREQ=WEEKLY") && !r.rule.contains("BYDAY=") {
                use chrono::Datelike;
                let day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][e.start.weekday().num_days_from_monday() as usize];
                pairs.push(("byday", json!(day)));
            }
        }
    }
    object(pairs)
}

/// A location from an event's place (events without one are online only).
fn location(e: &Event) -> Option<Value> {
    let place = e.place.as_ref()?;
    let mut description = place.address.clone().unwrap_or_default();
    if let Some(p) = &place.postcode {
        if !description.is_empty() {
            description.push_str(", ");
        }
        description.push_str(&p.to_string());
    }
    let accessibility: Vec<Value> = e
        .accessibility
        .iter()
        .map(|f| json!({ "id": derived_id(e.id.0, f.as_str()), "description": f.as_str() }))
        .collect();
    Some(object(vec![
        ("id", json!(derived_id(e.id.0, "location"))),
        ("location_type", json!("physical")),
        ("name", json!(place.name)),
        ("description", if description.is_empty() { Value::Null } else { json!(description) }),
        ("latitude", json!(place.latitude)),
        ("longitude", json!(place.longitude)),
        ("accessibility", if accessibility.is_empty() { Value::Null } else { json!(accessibility) }),
    ]))
}

/// A service as listed (`full` = false) or whole, with its organisation, schedules, locations
/// and cost options.
fn service(s: &RestState, g: &Group, events: &[Event], full: bool) -> Value {
    let mut pairs = vec![
        ("id", json!(g.id.to_string())),
        ("organization_id", json!(g.id.to_string())),
        ("name", json!(g.name)),
        ("description", json!(g.description.clone().unwrap_or_else(|| g.summary.clone()))),
        ("url", json!(format!("{}/groups/{}", base(s), g.slug))),
        ("email", json!(g.contact_email)),
        ("status", json!("active")),
        ("last_modified", json!(g.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
    ];
    if full {
        let schedules: Vec<Value> = events.iter().map(|e| schedule(g.id, e)).collect();
        let at_locations: Vec<Value> = events
            .iter()
            .filter_map(|e| {
                location(e).map(|l| {
                    json!({
                        "id": derived_id(e.id.0, "service_at_location"),
                        "service_id": g.id.to_string(),
                        "location_id": l["id"].clone(),
                        "location": l,
                    })
                })
            })
            .collect();
        let costs: Vec<Value> = events
            .iter()
            .filter_map(|e| e.price_pence.map(|p| (e, p)))
            .map(|(e, p)| {
                json!({
                    "id": derived_id(e.id.0, "cost"),
                    "service_id": g.id.to_string(),
                    "option": e.title,
                    "amount": f64::from(p) / 100.0,
                    "amount_description": "GBP",
                })
            })
            .collect();
        let attributes: Vec<Value> = g
            .categories
            .iter()
            .map(|c| {
                json!({
                    "id": derived_id(g.id.0, c.as_str()),
                    "link_id": g.id.to_string(),
                    "link_type": "service",
                    "taxonomy_term_id": term_id(*c),
                    "taxonomy_term": term(*c),
                })
            })
            .collect();
        if !attributes.is_empty() {
            pairs.push(("attributes", json!(attributes)));
        }
        pairs.push(("organization", organization(s, g)));
        pairs.push(("schedules", json!(schedules)));
        pairs.push(("service_at_locations", json!(at_locations)));
        if !costs.is_empty() {
            pairs.push(("cost_options", json!(costs)));
        }
    }
    object(pairs)
}

/// An ORUK page: the paging members and `contents`.
fn page(contents: Vec<Value>, total: u64, page: u32, per_page: u32) -> Value {
    let total_pages = total.div_ceil(u64::from(per_page));
    json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": contents.len(),
        "first_page": page == 1,
        "last_page": u64::from(page) >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    })
}

async fn listing(s: &RestState, q: &Listing) -> Result<scaffold_service::oruk::NumberedPage<Group>, DomainError> {
    let text = q.search.as_deref().or(q.text.as_deref());
    let category = match &q.taxonomy_term_id {
        None => None,
        Some(id) => Some(Category::ALL.iter().copied().find(|c| term_id(*c) == *id).ok_or_else(|| {
            DomainError::invalid_field(
                "/taxonomy_term_id",
                scaffold_domain::codes::INVALID_VALUE,
                "not one of /oruk/taxonomy_terms",
            )
        })?),
    };
    s.service
        .directory_groups(&scaffold_service::oruk::DirectoryQuery {
            text,
            category,
            postcode: q.postcode.as_deref(),
            proximity: q.proximity.as_deref(),
            modified_after: q.modified_after.as_deref(),
            page: q.page.unwrap_or(1),
            per_page: q.per_page.unwrap_or(50),
        })
        .await
}

/// A numbered page of a short fixed list.
fn fixed_page(all: Vec<Value>, q: &Listing) -> Result<Value, DomainError> {
    let (page_number, per_page) = (q.page.unwrap_or(1), q.per_page.unwrap_or(50));
    if page_number == 0 || per_page == 0 || per_page > scaffold_service::oruk::ORUK_MAX_PER_PAGE {
        return Err(DomainError::invalid_field(
            "/page",
            scaffold_domain::codes::OUT_OF_RANGE,
            "pages are numbered from 1; per_page is 1 to 100",
        ));
    }
    let total = all.len() as u64;
    let skip = usize::try_from(u64::from(page_number - 1) * u64::from(per_page)).unwrap_or(usize::MAX);
    let contents = all.into_iter().skip(skip).take(per_page as usize).collect();
    Ok(page(contents, total, page_number, per_page))
}

pub async fn taxonomies(QueryParams(q): QueryParams<Listing>) -> ApiResult<Response> {
    Ok(open(fixed_page(vec![taxonomy()], &q)?))
}

pub async fn taxonomy_terms(QueryParams(q): QueryParams<Listing>) -> ApiResult<Response> {
    Ok(open(fixed_page(Category::ALL.iter().map(|c| term(*c)).collect(), &q)?))
}

/// `GET /oruk/`: what this API is.
pub async fn about() -> Response {
    open(json!({
        "version": "HSDS-UK-3.0",
        "profile": "https://openreferraluk.org/",
        "openapi_url": "https://openreferraluk.org/specifications/3.0/openapi.json",
    }))
}

pub async fn organizations(State(s): State<RestState>, QueryParams(q): QueryParams<Listing>) -> ApiResult<Response> {
    let p = listing(&s, &q).await?;
    let contents = p.items.iter().map(|g| organization(&s, g)).collect();
    Ok(open(page(contents, p.total, p.page, p.per_page)))
}

pub async fn organization_one(State(s): State<RestState>, Path(id): Path<String>) -> ApiResult<Response> {
    let (g, events) = s.service.directory_group(GroupId::parse_or_not_found(&id)?).await?;
    let mut org = organization(&s, &g);
    org["services"] = json!([service(&s, &g, &events, false)]);
    Ok(open(org))
}

pub async fn services(State(s): State<RestState>, QueryParams(q): QueryParams<Listing>) -> ApiResult<Response> {
    let p = listing(&s, &q).await?;
    let contents = p.items.iter().map(|g| service(&s, g, &[], false)).collect();
    Ok(open(page(contents, p.total, p.page, p.per_page)))
}

pub async fn service_one(State(s): State<RestState>, Path(id): Path<String>) -> ApiResult<Response> {
    let (g, events) = s.service.directory_group(GroupId::parse_or_not_found(&id)?).await?;
    Ok(open(service(&s, &g, &events, true)))
}
