//! The service's public pages: server-rendered, accessible HTML over the same service layer as
//! the APIs (no business rules here: what a page may show is what the service returns to an
//! anonymous caller). Home with a search by place, category, date and accessibility; a page per
//! group, per event and per outward code; printable A4 posters with a QR code; a group's events to
//! embed in its own website; `sitemap.xml` and `robots.txt`; the stylesheet; and HTML error pages
//! for browsers. Pages need no JavaScript; every page carries a strict CSP, an ETag
//! (answered with 304) and, for groups and events, schema.org JSON-LD and OpenGraph tags.

mod account;
mod consent;
mod forms;
mod jsonld;
mod pages;
mod words;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use chrono::{Duration, NaiveDate, TimeZone};
use scaffold_domain::event::{AccessibilityFeature, Event, Occurrence};
use scaffold_domain::event_search::SearchDraft;
use scaffold_domain::group::Category;
use scaffold_domain::group::Group;
use scaffold_domain::{Actor, DomainError, ErrorKind, EventId, codes};
use scaffold_service::Service;
use scaffold_service::groups::{GroupFilter, GroupRef, GroupView};
use scaffold_service::search::Found;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// What a page may load: its own stylesheet and nothing else (JSON-LD is data, not script).
pub(crate) const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The embeddable list of a group's events may be framed by any site, and nothing else may.
const EMBED_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors *; base-uri 'none'";
const CSS: &str = include_str!("../assets/site.css");

/// The stylesheet's path carries a hash of its content, so it can be cached for a year.
static CSS_PATH: LazyLock<String> = LazyLock::new(|| format!("/assets/site.{}.css", &digest(CSS.as_bytes())[..12]));

/// Dates a page lists ahead.
pub(crate) const UPCOMING_DAYS: i64 = 90;
const RESULTS: u32 = 20;

pub fn router(service: Service) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/groups/{slug}", get(group))
        .route("/groups/new", get(forms::new_group).post(forms::create_group))
        .route("/groups/{slug}/events/new", get(forms::new_event).post(forms::create_event))
        .route("/groups/{slug}/join", get(forms::join_page).post(forms::join))
        .route("/groups/{slug}/edit", get(forms::edit_group_page).post(forms::edit_group))
        .route("/groups/{slug}/members", get(forms::members_page))
        .route("/groups/{slug}/members/{person}/approve", axum::routing::post(forms::approve))
        .route("/groups/{slug}/members/{person}/role", axum::routing::post(forms::change_role))
        .route("/groups/{slug}/members/{person}/remove", axum::routing::post(forms::remove_member))
        .route("/groups/{slug}/notices/{notice}/dismiss", axum::routing::post(forms::dismiss_notice))
        .route("/groups/{slug}/poster", get(group_poster))
        .route("/embed/groups/{slug}", get(embed))
        .route("/events/{id}", get(event))
        .route("/events/{id}/poster", get(event_poster))
        .route("/events/{id}/dates", get(forms::dates_page))
        .route("/events/{id}/edit", get(forms::edit_event_page).post(forms::edit_event))
        .route("/events/{id}/reply", get(forms::reply_page))
        .route("/events/{id}/reply/{local}", axum::routing::post(forms::reply))
        .route("/events/{id}/reply-series", axum::routing::post(forms::reply_series))
        .route("/events/{id}/dates/{local}", get(forms::date_page).post(forms::change_date))
        .route("/places/{outcode}", get(place))
        .route("/sign-in", get(account::sign_in))
        .route("/sign-in/{token}", get(account::link_page).post(account::use_link))
        .route("/me", get(forms::me))
        .route("/me/calendar", axum::routing::post(forms::calendar_feed))
        .route("/me/grants/{id}/revoke", axum::routing::post(consent::revoke))
        .route("/oauth/authorize", get(consent::authorize_page).post(consent::authorize))
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
        .route(&CSS_PATH, get(stylesheet))
        .route("/assets/logo.svg", get(logo))
        .with_state(service)
}

fn digest(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..18])
}

/// The instance's public address, without a trailing slash.
pub(crate) fn base(service: &Service) -> String {
    service.identity().config().public_url.trim_end_matches('/').to_owned()
}

/// What every page may do: load its stylesheet, post forms to this site, and send its address
/// as the referrer to this site only. (Under `no-referrer`, browsers send `Origin: null` with a
/// form, and a form could not be told from another site's.)
fn page_policy(h: &mut HeaderMap) {
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

/// A response with a strong ETag over its body, answered with 304 when the client has it.
fn cached(headers: &HeaderMap, content_type: &'static str, body: String, cache: &'static str) -> Response {
    let etag = format!("\"{}\"", digest(body.as_bytes()));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    crate::page_policy(h);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

/// A page: revalidated on every use (it changes as groups change), cheap when unchanged.
fn html(headers: &HeaderMap, body: String) -> Response {
    cached(headers, "text/html; charset=utf-8", body, "no-cache")
}

/// An HTML error page with its status, for browsers (the API answers problem+json).
pub fn error_page(status: StatusCode) -> Response {
    let (title, detail): (&str, &str) = match status {
        StatusCode::NOT_FOUND => {
            ("Page not found", "There is no page at this address. It may have moved or been removed.")
        }
        StatusCode::TOO_MANY_REQUESTS => ("Too many requests", "Please wait a minute and try again."),
        s if s.is_server_error() => ("Something went wrong", "The page could not be shown. Please try again shortly."),
        _ => ("This page could not be shown", "Please check the address and try again."),
    };
    message_page(status, title, detail)
}

/// A page that only says what happened, with its status.
fn message_page(status: StatusCode, title: &str, detail: &str) -> Response {
    message_page_onward(status, title, detail, None)
}

/// A message page whose link goes on to `onward` (words, address).
fn message_page_onward(status: StatusCode, title: &str, detail: &str, onward: Option<(String, String)>) -> Response {
    let page = pages::ErrorPage {
        layout: pages::Layout::plain(title, &CSS_PATH),
        title: title.to_owned(),
        detail: detail.to_owned(),
        onward,
    };
    let mut res = (status, pages::render(&page)).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    crate::page_policy(h);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A service error as a page: what is not found (or hidden) is 404; the rest keeps its status.
fn failed(e: &DomainError) -> Response {
    let status = e.kind.status().parse().ok().and_then(|s| StatusCode::from_u16(s).ok());
    error_page(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

/// The dataset site for the OpenActive feeds, from their dataset description (JSON-LD).
pub fn dataset_site(headers: &HeaderMap, doc: &serde_json::Value) -> Response {
    html(headers, pages::render(&pages::DatasetPage::new(&CSS_PATH, doc)))
}

/// The default publisher logo of the open data.
async fn logo() -> Response {
    let mut res = include_str!("../assets/logo.svg").into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    res
}

async fn stylesheet() -> Response {
    let mut res = CSS.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    res
}

/// The home page's search, as typed: every field is kept to show again beside its error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchForm {
    place: String,
    category: String,
    accessibility: String,
    date: String,
    q: String,
}

impl SearchForm {
    fn is_empty(&self) -> bool {
        [&self.place, &self.category, &self.accessibility, &self.date, &self.q].iter().all(|v| v.trim().is_empty())
    }

    /// The search it asks for, and the errors by form field of what could not be read.
    fn draft(&self) -> (SearchDraft, Vec<(&'static str, String)>) {
        let mut errors = Vec::new();
        let mut draft = SearchDraft::default();
        let place = self.place.trim();
        if !place.is_empty() {
            // A full postcode is searched by its outward code (the part before the space).
            let outward = place.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            let outward = if place.split_whitespace().count() == 1 && outward.len() > 4 {
                outward[..outward.len() - 3].to_owned()
            } else {
                outward
            };
            draft.outcode = Some(outward);
        }
        if !self.category.is_empty() {
            match Category::parse(&self.category) {
                Some(c) => draft.category = Some(c),
                None => errors.push(("category", "Choose a category from the list".to_owned())),
            }
        }
        if !self.accessibility.is_empty() {
            match AccessibilityFeature::parse(&self.accessibility) {
                Some(f) => draft.accessibility = Some(f),
                None => errors.push(("accessibility", "Choose an accessibility need from the list".to_owned())),
            }
        }
        if !self.date.trim().is_empty() {
            match NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d") {
                Ok(d) => {
                    let day = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                    let from = chrono_tz::Europe::London.from_local_datetime(&day).earliest().map(|t| t.to_utc());
                    draft.from = from;
                    draft.to = from.map(|f| f + Duration::days(1));
                }
                Err(_) => errors.push(("date", "Enter a date as year-month-day, for example 2026-03-31".to_owned())),
            }
        }
        let q = self.q.trim();
        if !q.is_empty() {
            draft.q = Some(q.to_owned());
        }
        (draft, errors)
    }
}

/// Where a search error belongs on the form.
fn form_field(pointer: &str) -> &'static str {
    match pointer {
        "/outcode" | "/lat" | "/lon" | "/radius_km" => "place",
        "/from" | "/to" => "date",
        "/category" => "category",
        "/accessibility" => "accessibility",
        _ => "q",
    }
}

fn service_errors(e: &DomainError) -> Vec<(&'static str, String)> {
    if e.fields.is_empty() {
        return vec![("q", e.message.clone())];
    }
    e.fields
        .iter()
        .map(|f| {
            let message = match f.code {
                codes::UNKNOWN_OUTCODE | codes::INVALID_OUTCODE => {
                    "Enter a UK postcode or the first part of one, for example WN1 or WN1 1NU".to_owned()
                }
                codes::DATE_RANGE_OUTSIDE_LISTINGS | codes::DATE_RANGE_TOO_LONG => {
                    "Choose a date from today to a year ahead".to_owned()
                }
                _ => f.message.clone(),
            };
            (form_field(&f.pointer), message)
        })
        .collect()
}

async fn home(State(service): State<Service>, headers: HeaderMap, Query(form): Query<SearchForm>) -> Response {
    let actor = Actor::anonymous();
    let searched = !form.is_empty();
    let found = match form.draft() {
        (draft, errors) if errors.is_empty() => {
            service.search_events(&actor, &draft, None, None, RESULTS).await.map_err(|e| service_errors(&e))
        }
        // Every mistake at once: what the form could not read, and what the search's own checks
        // find in the rest.
        (draft, mut errors) => {
            if let Err(e) = draft.validate(service.now()) {
                let read: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
                let more: Vec<_> = service_errors(&e).into_iter().filter(|(f, _)| !read.contains(f)).collect();
                errors.extend(more);
            }
            Err(errors)
        }
    };
    let (results, errors) = match found {
        Ok(page) => (page.items, Vec::new()),
        Err(errors) => (Vec::new(), errors),
    };
    let results = pages::dates(&results);
    let page = pages::Home::new(&base(&service), &CSS_PATH, form_values(&form), searched, results, errors);
    html(&headers, pages::render(&page))
}

fn form_values(f: &SearchForm) -> pages::SearchValues {
    pages::SearchValues {
        place: f.place.clone(),
        category: f.category.clone(),
        accessibility: f.accessibility.clone(),
        date: f.date.clone(),
        q: f.q.clone(),
    }
}

/// A group as an anonymous caller sees it, with its occurrences in the next days.
async fn load_group(service: &Service, slug: String) -> Result<(GroupView, Vec<Found>), Response> {
    let actor = Actor::anonymous();
    let view = service.group(&actor, &GroupRef::Slug(slug)).await.map_err(|e| failed(&e))?;
    let upcoming = SearchDraft { to: Some(service.now() + Duration::days(UPCOMING_DAYS)), ..SearchDraft::default() };
    let found = service.dates_of_group(&actor, &view, &upcoming, RESULTS).await.map_err(|e| failed(&e))?;
    Ok((view, found))
}

/// An event as an anonymous caller sees it, with its group and its dates in the next days.
async fn load_event(service: &Service, id: &str) -> Result<(Event, Group, Vec<Occurrence>), Response> {
    let actor = Actor::anonymous();
    let id = EventId::parse(id).ok_or_else(|| error_page(StatusCode::NOT_FOUND))?;
    let event = service.event(&actor, id).await.map_err(|e| failed(&e))?;
    let group = service.group(&actor, &GroupRef::Id(event.group_id)).await.map_err(|e| failed(&e))?.group;
    let now = service.now();
    let dates =
        service.occurrences_of(&event, now, now + Duration::days(UPCOMING_DAYS)).await.map_err(|e| failed(&e))?;
    Ok((event, group, dates))
}

async fn group(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    match load_group(&service, slug).await {
        Ok((view, found)) => {
            html(&headers, pages::render(&pages::GroupPage::new(&base(&service), &CSS_PATH, &view, &found)))
        }
        Err(res) => res,
    }
}

async fn group_poster(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    match load_group(&service, slug).await {
        Ok((view, found)) => {
            html(&headers, pages::render(&pages::Poster::for_group(&base(&service), &CSS_PATH, &view, &found)))
        }
        Err(res) => res,
    }
}

/// A group's upcoming events for its own website, in an iframe: the only page that may be framed.
async fn embed(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    match load_group(&service, slug).await {
        Ok((view, found)) => {
            let mut res = html(&headers, pages::render(&pages::Embed::new(&base(&service), &CSS_PATH, &view, &found)));
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(EMBED_POLICY));
            res
        }
        Err(res) => res,
    }
}

async fn event(State(service): State<Service>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match load_event(&service, &id).await {
        Ok((e, g, dates)) => {
            html(&headers, pages::render(&pages::EventPage::new(&base(&service), &CSS_PATH, &e, &g, &dates)))
        }
        Err(res) => res,
    }
}

async fn event_poster(State(service): State<Service>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match load_event(&service, &id).await {
        Ok((e, g, dates)) => {
            html(&headers, pages::render(&pages::Poster::for_event(&base(&service), &CSS_PATH, &e, &g, &dates)))
        }
        Err(res) => res,
    }
}

async fn place(State(service): State<Service>, headers: HeaderMap, Path(outcode): Path<String>) -> Response {
    let actor = Actor::anonymous();
    let outcode = outcode.to_ascii_uppercase();
    let draft = SearchDraft { outcode: Some(outcode.clone()), ..SearchDraft::default() };
    // An outward code the service does not know is not a page.
    let found = match service.search_events(&actor, &draft, None, None, RESULTS).await {
        Ok(page) => page.items,
        Err(e) if e.kind == ErrorKind::Invalid => return error_page(StatusCode::NOT_FOUND),
        Err(e) => return failed(&e),
    };
    let filter = GroupFilter { outcode: Some(outcode.clone()), limit: Some(100), ..GroupFilter::default() };
    let groups = match service.list_groups(&actor, &filter).await {
        Ok(page) => page.items,
        Err(e) => return failed(&e),
    };
    let page = pages::PlacePage::new(&base(&service), &CSS_PATH, &outcode, &groups, pages::dates(&found));
    html(&headers, pages::render(&page))
}

async fn robots(State(service): State<Service>, headers: HeaderMap) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /api/\nDisallow: /auth/\nDisallow: /oauth/\nDisallow: /graphql\n\nSitemap: {}/sitemap.xml\n",
        base(&service)
    );
    cached(&headers, "text/plain; charset=utf-8", body, "public, max-age=3600")
}

/// Every public group, its place and its events (first ones first).
async fn sitemap(State(service): State<Service>, headers: HeaderMap) -> Response {
    let actor = Actor::anonymous();
    let base = base(&service);
    let mut urls = vec![format!("{base}/")];
    let mut places = std::collections::BTreeSet::new();
    let mut after = None;
    loop {
        let filter = GroupFilter { after: after.clone(), limit: Some(100), ..GroupFilter::default() };
        let page = match service.list_groups(&actor, &filter).await {
            Ok(p) => p,
            Err(e) => return failed(&e),
        };
        let ids: Vec<_> = page.items.iter().map(|v| v.group.id).collect();
        for v in &page.items {
            urls.push(format!("{base}/groups/{}", v.group.slug));
            if let Some(a) = &v.group.area {
                places.insert(a.outcode.as_str().to_owned());
            }
        }
        match service.first_events_of_groups(&actor, &ids, 50).await {
            Ok(events) => urls.extend(events.iter().map(|e| format!("{base}/events/{}", e.id))),
            Err(e) => return failed(&e),
        }
        match page.next {
            Some(n) if urls.len() < 45_000 => after = Some(n),
            _ => break,
        }
    }
    urls.extend(places.iter().map(|p| format!("{base}/places/{p}")));
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for u in urls {
        xml.push_str(&format!("  <url><loc>{}</loc></url>\n", pages::xml_escape(&u)));
    }
    xml.push_str("</urlset>\n");
    cached(&headers, "application/xml; charset=utf-8", xml, "public, max-age=300")
}
