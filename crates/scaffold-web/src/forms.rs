//! Organiser forms after sign-in: create a group, and add an event (one-off, weekly, fortnightly
//! or monthly) to a group. Each form is a list of fields rendered by one template; a POST is
//! checked (same origin, and a form token derived from the session) and handed to the same
//! service calls as the API, whose field errors are shown next to the fields with everything
//! typed kept; success redirects (post/redirect/get), so the back button never re-sends a form.

use crate::{CSS_PATH, pages};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use scaffold_domain::event::{AccessibilityFeature, BookingMode, EventDraft, OverrideDraft, PlaceInput};
use scaffold_domain::group::{
    AreaInput, Category, GroupDraft, GroupKind, GroupPatch, GuidelineTemplate, GuidelinesInput, JoinPolicy, Visibility,
};
use scaffold_domain::rsvp::RsvpResponse;
use scaffold_domain::{Actor, DomainError, ErrorKind};
use scaffold_service::Service;
use scaffold_service::groups::GroupRef;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A form as posted: every value of every name, in order.
#[derive(Debug, Default)]
pub struct Posted(HashMap<String, Vec<String>>);

impl Posted {
    fn parse(body: &[u8]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Posted(map)
    }

    /// The field's value as sent, if it was.
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(|v| v.first()).cloned()
    }

    /// The field's value, trimmed ("" when absent).
    pub(crate) fn one(&self, name: &str) -> String {
        self.0.get(name).and_then(|v| v.first()).map(|v| v.trim().to_owned()).unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }

    fn optional(&self, name: &str) -> Option<String> {
        Some(self.one(name)).filter(|v| !v.is_empty())
    }
}

/// The form token for a session: a hash of the session's secret cookie, so only a page served to
/// this browser can carry it.
pub(crate) fn form_token(session_cookie: &str) -> String {
    let digest = Sha256::digest(format!("scaffold-form:{session_cookie}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The signed-in person of this request, with their session cookie.
pub(crate) async fn session(service: &Service, headers: &HeaderMap) -> Option<(Actor, String)> {
    let cookies = headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let cookie =
        scaffold_service::identity::login::cookie_value(cookies, scaffold_service::identity::login::SESSION_COOKIE)?;
    let actor = service.actor_from_session(&cookie).await.ok()?;
    Some((actor, cookie))
}

/// A posted form may act only when it came from our own page in this session.
fn trusted(service: &Service, headers: &HeaderMap, posted: &Posted, cookie: &str) -> bool {
    let token = posted.one("form_token");
    crate::account::same_origin(service, headers)
        && scaffold_service::identity::constant_time_eq(token.as_bytes(), form_token(cookie).as_bytes())
}

/// A form posted by a signed-in person from our own page: who, their session, and what they
/// sent; otherwise the answer (to sign in, or refused).
pub(crate) async fn signed_post(
    service: &Service,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Actor, String, Posted), Response> {
    let (actor, cookie) = session(service, headers).await.ok_or_else(|| crate::account::see_other("/sign-in"))?;
    let posted = Posted::parse(body);
    if !trusted(service, headers, &posted, &cookie) {
        return Err(refused());
    }
    Ok((actor, cookie, posted))
}

fn refused() -> Response {
    crate::message_page(
        StatusCode::FORBIDDEN,
        "This form could not be sent",
        "It did not come from this site's own page, or your session changed. Go back, reload the page and try again.",
    )
}

/// The form's field for an error at a JSON pointer of the API's input.
fn field_of(pointer: &str, map: &[(&str, &'static str)]) -> &'static str {
    map.iter().find(|(prefix, _)| pointer.starts_with(prefix)).map_or("form", |(_, f)| f)
}

/// The service's errors by form field, or the error when it is not about the input.
fn field_errors(e: DomainError, map: &[(&str, &'static str)]) -> Result<Vec<(&'static str, String)>, DomainError> {
    if e.kind != ErrorKind::Invalid && e.kind != ErrorKind::Conflict {
        return Err(e);
    }
    if e.fields.is_empty() {
        let field = if e.code == scaffold_domain::codes::GROUP_SLUG_TAKEN { "slug" } else { "form" };
        return Ok(vec![(field, e.message)]);
    }
    Ok(e.fields.iter().map(|f| (field_of(&f.pointer, map), format!("{} ({})", f.message, f.code))).collect())
}

/// A web address's part made from a name: "Wigan TechMates!" → "wigan-techmates".
fn slug_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(60).collect::<String>().trim_end_matches('-').to_owned()
}

const GROUP_FIELDS: &[(&str, &str)] = &[
    ("/name", "name"),
    ("/slug", "slug"),
    ("/summary", "summary"),
    ("/description", "description"),
    ("/categories", "categories"),
    ("/area", "outcode"),
    ("/contact_email", "contact_email"),
    ("/join_policy", "join_policy"),
    ("/guidelines", "guidelines"),
];

fn group_form(p: &Posted, token: String, errors: Vec<(&'static str, String)>) -> pages::FormPage {
    use pages::Field;
    let template = if p.0.contains_key("guidelines") { p.one("guidelines") } else { "welcoming-space".to_owned() };
    let join = if p.0.contains_key("join_policy") { p.one("join_policy") } else { "open".to_owned() };
    let fields = vec![
        Field::text("name", "Name of the group", "For example Wigan TechMates", &p.one("name")),
        Field::text(
            "slug",
            "Web address",
            "Letters, numbers and hyphens, for the page's address (/groups/…). Leave empty to make one from the name.",
            &p.one("slug"),
        ),
        Field::text("summary", "In one line, what the group does", "Shown in search results", &p.one("summary")),
        Field::textarea(
            "description",
            "About the group",
            "Who it is for, what happens, how to find you. You can use *emphasis* and [links](https://example.org).",
            &p.one("description"),
        ),
        Field::checkboxes(
            "categories",
            "Interests (up to 5)",
            Category::ALL,
            Category::as_str,
            crate::words::category,
            &p.all("categories"),
        ),
        Field::text("outcode", "Area", "The first part of your postcode, for example WN1", &p.one("outcode")),
        Field::email("contact_email", "Contact email (shown on the page)", "Optional", &p.one("contact_email")),
        Field::radios(
            "join_policy",
            "Who can join",
            &[
                ("open", "Anyone"),
                ("approval", "Anyone, once an organiser approves"),
                ("invite", "Only people you invite"),
            ],
            &join,
        ),
        Field::radios(
            "guidelines",
            "Community guidelines",
            &[
                ("welcoming-space", "A welcoming space"),
                ("safeguarding-first", "Safeguarding first"),
                ("online-conduct", "Online conduct"),
                ("none", "None for now"),
            ],
            &template,
        ),
    ];
    pages::FormPage::new(&CSS_PATH, "Create a group", "/groups/new", "Create the group", token, fields, errors)
}

fn group_draft(p: &Posted) -> GroupDraft {
    let slug = p.optional("slug").unwrap_or_else(|| slug_from(&p.one("name")));
    GroupDraft {
        slug,
        name: p.one("name"),
        summary: p.one("summary"),
        description: p.optional("description"),
        kind: GroupKind::CommunityGroup,
        categories: p.all("categories").iter().filter_map(|c| Category::parse(c)).collect(),
        area: p.optional("outcode").map(|o| AreaInput { outcode: o, latitude: None, longitude: None }),
        contact_email: p.optional("contact_email"),
        links: Vec::new(),
        visibility: Visibility::Public,
        join_policy: JoinPolicy::parse(&p.one("join_policy")).unwrap_or(JoinPolicy::Open),
        guidelines: GuidelineTemplate::parse(&p.one("guidelines")).map(GuidelinesInput::Template),
    }
}

pub async fn new_group(State(service): State<Service>, headers: HeaderMap) -> Response {
    let Some((_, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    crate::account::private_page(pages::render(&group_form(&Posted::default(), form_token(&cookie), Vec::new())))
}

pub async fn create_group(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> Response {
    let (actor, cookie, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    match service.create_group(&actor, &group_draft(&posted), None).await {
        Ok(created) => crate::account::see_other(&format!("/groups/{}", created.view.group.slug)),
        Err(e) => match field_errors(e, GROUP_FIELDS) {
            Ok(mut errors) => {
                // A web address made from a name that is itself wrong is not a second mistake.
                if posted.one("slug").is_empty() && errors.iter().any(|(f, _)| *f == "name") {
                    errors.retain(|(f, _)| *f != "slug");
                }
                let page = group_form(&posted, form_token(&cookie), errors);
                crate::account::private_status(StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page))
            }
            Err(e) => crate::failed(&e),
        },
    }
}

const EVENT_FIELDS: &[(&str, &str)] = &[
    ("/title", "title"),
    ("/summary", "summary"),
    ("/description", "description"),
    ("/start", "date"),
    ("/end", "end_time"),
    ("/rrule", "repeats"),
    ("/place/postcode", "postcode"),
    ("/place/address", "address"),
    ("/place", "place_name"),
    ("/accessibility", "accessibility"),
    ("/booking_url", "booking_url"),
    ("/booking", "booking"),
    ("/price_pence", "price"),
];

/// Where an event form goes: adding one to a group, or changing one (with the version read).
enum EventFormFor<'a> {
    New(&'a str),
    Edit(&'a str),
}

fn event_form(to: EventFormFor<'_>, p: &Posted, token: String, errors: Vec<(&'static str, String)>) -> pages::FormPage {
    use pages::Field;
    let repeats = if p.0.contains_key("repeats") { p.one("repeats") } else { "weekly".to_owned() };
    let booking = if p.0.contains_key("booking") { p.one("booking") } else { "drop-in".to_owned() };
    let fields = vec![
        Field::text("title", "What is it called?", "For example TechMates tea party", &p.one("title")),
        Field::text("summary", "In one line, what happens", "Shown in search results", &p.one("summary")),
        Field::date("date", "Date (of the first one, for a series)", &p.one("date")),
        Field::time("start_time", "Starts at", &p.one("start_time")),
        Field::time("end_time", "Ends at", &p.one("end_time")),
        Field::radios(
            "repeats",
            "How often",
            &[
                ("never", "Once"),
                ("weekly", "Every week"),
                ("fortnightly", "Every two weeks"),
                ("monthly", "Every month, on the same weekday"),
            ],
            &repeats,
        ),
        Field::text("place_name", "Where", "The name of the place, for example Wigan Library", &p.one("place_name")),
        Field::text("address", "Street address", "Optional", &p.one("address")),
        Field::text("postcode", "Postcode", "For example WN1 1NU", &p.one("postcode")),
        Field::checkboxes(
            "accessibility",
            "Accessibility",
            AccessibilityFeature::ALL,
            AccessibilityFeature::as_str,
            crate::words::feature,
            &p.all("accessibility"),
        ),
        Field::radios(
            "booking",
            "Booking",
            &[
                ("drop-in", "Just turn up"),
                ("rsvp", "People reply so you know numbers"),
                ("external", "Book on another website"),
            ],
            &booking,
        ),
        Field::text("booking_url", "Booking website", "Only when booking is on another website", &p.one("booking_url")),
        Field::text("price", "Price in pounds", "Leave empty if it is free, for example 2.50", &p.one("price")),
        Field::textarea("description", "More about it", "Optional", &p.one("description")),
    ];
    match to {
        EventFormFor::New(slug) => {
            let action = format!("/groups/{slug}/events/new");
            pages::FormPage::new(&CSS_PATH, "Add an event", &action, "Add the event", token, fields, errors)
        }
        EventFormFor::Edit(id) => {
            let action = format!("/events/{id}/edit");
            let mut page = pages::FormPage::new(&CSS_PATH, "Change the event", &action, "Save", token, fields, errors);
            page.hidden = vec![("version", p.one("version"))];
            page
        }
    }
}

/// A rule's parts but `UNTIL`, sorted (so that `INTERVAL=2;FREQ=WEEKLY` reads as the form's
/// "every two weeks"), and its `UNTIL`.
fn rule_parts(rule: &str) -> (Vec<String>, Option<String>) {
    let mut parts: Vec<String> = Vec::new();
    let mut until = None;
    for p in rule.split(';').filter(|p| !p.is_empty()) {
        match p.strip_prefix("UNTIL=") {
            Some(u) => until = Some(u.to_owned()),
            None => parts.push(p.to_owned()),
        }
    }
    parts.sort();
    (parts, until)
}

/// The event's fields as the edit form shows them first; `None` for an event the form cannot
/// show whole (all day, or a rule other than its "how often").
fn event_as_posted(e: &scaffold_domain::event::Event) -> Option<Posted> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    let mut put = |k: &str, v: String| map.entry(k.to_owned()).or_default().push(v);
    if e.all_day {
        return None;
    }
    let repeats = match &e.recurrence {
        None => "never",
        Some(r) => {
            let (parts, _) = rule_parts(&r.rule);
            ["weekly", "fortnightly", "monthly"]
                .into_iter()
                .find(|how| rule(how, Some(e.start.date())).is_some_and(|base| rule_parts(&base).0 == parts))?
        }
    };
    put("title", e.title.clone());
    put("summary", e.summary.clone());
    put("date", e.start.format("%Y-%m-%d").to_string());
    put("start_time", e.start.format("%H:%M").to_string());
    put("end_time", e.end.format("%H:%M").to_string());
    put("repeats", repeats.to_owned());
    if let Some(place) = &e.place {
        put("place_name", place.name.clone());
        put("address", place.address.clone().unwrap_or_default());
        put("postcode", place.postcode.as_ref().map(ToString::to_string).unwrap_or_default());
    }
    for f in &e.accessibility {
        put("accessibility", f.as_str().to_owned());
    }
    put("booking", e.booking.as_str().to_owned());
    put("booking_url", e.booking_url.clone().unwrap_or_default());
    put("price", e.price_pence.map(|p| format!("{}.{:02}", p / 100, p % 100)).unwrap_or_default());
    put("description", e.description.clone().unwrap_or_default());
    put("version", e.version.to_string());
    Some(Posted(map))
}

/// What the edit form does not show is kept as the event has it: its zone, status, capacity,
/// online link, access notes, concessions, ages, interests, activities, and a series' end
/// (`UNTIL`) and taken-out dates.
fn keep_unshown(d: &mut EventDraft, e: &scaffold_domain::event::Event) {
    d.timezone = Some(e.timezone.name().to_owned());
    d.status = Some(e.status);
    d.status_reason.clone_from(&e.status_reason);
    d.online_url.clone_from(&e.online_url);
    d.accessibility_notes.clone_from(&e.accessibility_notes);
    d.capacity = e.capacity;
    d.concessions.clone_from(&e.concessions);
    (d.min_age, d.max_age) = (e.min_age, e.max_age);
    d.categories.clone_from(&e.categories);
    d.activities = e.activities.iter().map(|a| a.identifier.clone()).collect();
    if let (Some(rule), Some(r)) = (d.rrule.as_mut(), &e.recurrence) {
        if let (_, Some(until)) = rule_parts(&r.rule) {
            rule.push_str(";UNTIL=");
            rule.push_str(&until);
        }
        d.exdates = r.exdates.iter().map(|x| x.format("%Y-%m-%dT%H:%M:%S").to_string()).collect();
    }
}

/// The form to change a whole event (organisers), filled with what it has now.
pub async fn edit_event_page(State(service): State<Service>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let event = match service.event(&actor, event_id).await {
        Ok(e) => e,
        Err(e) => return crate::failed(&e),
    };
    if let Err(e) = service.can_manage_events(&actor, event.group_id).await {
        return crate::failed(&e);
    }
    match event_as_posted(&event) {
        Some(p) => crate::account::private_page(pages::render(&event_form(
            EventFormFor::Edit(&id),
            &p,
            form_token(&cookie),
            Vec::new(),
        ))),
        None => crate::message_page(
            StatusCode::CONFLICT,
            "This event cannot be changed here",
            "It lasts all day or repeats in a way this form cannot show. Change it through the API, or ask the people who run this site.",
        ),
    }
}

pub async fn edit_event(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (actor, cookie, mut posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let invalid = |posted: &Posted, errors| {
        let page = event_form(EventFormFor::Edit(&id), posted, form_token(&cookie), errors);
        crate::account::private_status(StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page))
    };
    let mut draft = match event_draft(&posted) {
        Ok(d) => d,
        Err(errors) => return invalid(&posted, errors),
    };
    match service.event(&actor, event_id).await {
        Ok(current) => keep_unshown(&mut draft, &current),
        Err(e) => return crate::failed(&e),
    }
    let version = posted.one("version").parse::<i64>().unwrap_or(-1);
    let errors = match service.replace_event(&actor, event_id, Some(version), &draft).await {
        Ok(event) => return crate::account::see_other(&format!("/events/{}", event.id)),
        Err(e) if e.kind == ErrorKind::PreconditionFailed => {
            // Someone saved first: keep what this person typed; sending it again replaces theirs.
            match service.event(&actor, event_id).await {
                Ok(now) => posted.0.insert("version".to_owned(), vec![now.version.to_string()]),
                Err(e) => return crate::failed(&e),
            };
            vec![("form", "Someone else changed this event after you opened it. Your changes are below: check the event's page, then save again to replace theirs.".to_owned())]
        }
        Err(e) => match field_errors(e, EVENT_FIELDS) {
            Ok(errors) => errors,
            Err(e) => return crate::failed(&e),
        },
    };
    invalid(&posted, errors)
}

/// The RRULE for the form's "how often", from the first date.
fn rule(repeats: &str, date: Option<NaiveDate>) -> Option<String> {
    match repeats {
        "weekly" => Some("FREQ=WEEKLY".to_owned()),
        "fortnightly" => Some("FREQ=WEEKLY;INTERVAL=2".to_owned()),
        "monthly" => {
            let d = date?;
            let nth = (d.day() - 1) / 7 + 1;
            let day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.weekday().num_days_from_monday() as usize];
            Some(if nth >= 5 {
                format!("FREQ=MONTHLY;BYDAY=-1{day}")
            } else {
                format!("FREQ=MONTHLY;BYDAY={nth}{day}")
            })
        }
        _ => None,
    }
}

/// The price in pence from "2.50", "£2", "2.5"; `Err` when it is not a price.
fn pence(text: &str) -> Result<Option<u32>, ()> {
    let t = text.trim().trim_start_matches('£');
    if t.is_empty() {
        return Ok(None);
    }
    let (pounds, pennies) = t.split_once('.').unwrap_or((t, "0"));
    let pennies = match pennies.len() {
        1 => pennies.parse::<u32>().map(|p| p * 10),
        2 => pennies.parse::<u32>(),
        _ => return Err(()),
    };
    match (pounds.parse::<u32>(), pennies) {
        (Ok(l), Ok(p)) => l.checked_mul(100).and_then(|l| l.checked_add(p)).map(Some).ok_or(()),
        _ => Err(()),
    }
}

fn event_draft(p: &Posted) -> Result<EventDraft, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let date = p.one("date");
    let first = NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok();
    if first.is_none() {
        errors.push(("date", "Enter the date as year-month-day, for example 2026-03-03".to_owned()));
    }
    for (field, label) in [("start_time", "start"), ("end_time", "end")] {
        if chrono::NaiveTime::parse_from_str(&p.one(field), "%H:%M").is_err() {
            errors.push((field, format!("Enter the {label} time as hours:minutes, for example 10:00")));
        }
    }
    let price = pence(&p.one("price")).unwrap_or_else(|()| {
        errors.push(("price", "Enter a price in pounds and pence, for example 2.50, or leave it empty".to_owned()));
        None
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    let place = p.optional("place_name").map(|name| PlaceInput {
        name,
        address: p.optional("address"),
        postcode: p.optional("postcode"),
        latitude: None,
        longitude: None,
    });
    Ok(EventDraft {
        title: p.one("title"),
        summary: p.one("summary"),
        description: p.optional("description"),
        start: format!("{date}T{}", p.one("start_time")),
        end: format!("{date}T{}", p.one("end_time")),
        place,
        accessibility: p.all("accessibility").iter().filter_map(|a| AccessibilityFeature::parse(a)).collect(),
        booking: BookingMode::parse(&p.one("booking")),
        booking_url: p.optional("booking_url"),
        price_pence: price,
        rrule: rule(&p.one("repeats"), first),
        ..EventDraft::default()
    })
}

pub async fn new_event(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    if let Err(e) = service.group(&actor, &GroupRef::Slug(slug.clone())).await {
        return crate::failed(&e);
    }
    let page = event_form(EventFormFor::New(&slug), &Posted::default(), form_token(&cookie), Vec::new());
    crate::account::private_page(pages::render(&page))
}

pub async fn create_event(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let (actor, cookie, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let invalid = |errors| {
        let page = event_form(EventFormFor::New(&slug), &posted, form_token(&cookie), errors);
        crate::account::private_status(StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page))
    };
    let draft = match event_draft(&posted) {
        Ok(d) => d,
        Err(errors) => return invalid(errors),
    };
    match service.create_event(&actor, &GroupRef::Slug(slug.clone()), &draft).await {
        Ok(event) => crate::account::see_other(&format!("/events/{}", event.id)),
        Err(e) => match field_errors(e, EVENT_FIELDS) {
            Ok(errors) => invalid(errors),
            Err(e) => crate::failed(&e),
        },
    }
}

/// The group's fields as the edit form shows them first: what the group has now.
fn group_as_posted(g: &scaffold_domain::group::Group) -> Posted {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    let mut put = |k: &str, v: String| map.entry(k.to_owned()).or_default().push(v);
    put("name", g.name.clone());
    put("summary", g.summary.clone());
    put("description", g.description.clone().unwrap_or_default());
    for c in &g.categories {
        put("categories", c.as_str().to_owned());
    }
    put("outcode", g.area.as_ref().map(|a| a.outcode.as_str().to_owned()).unwrap_or_default());
    put("contact_email", g.contact_email.clone().unwrap_or_default());
    put("join_policy", g.join_policy.as_str().to_owned());
    put("guidelines", g.guidelines.template.map_or("none", |t| t.as_str()).to_owned());
    put("version", g.version.to_string());
    Posted(map)
}

fn edit_form(slug: &str, p: &Posted, token: String, errors: Vec<(&'static str, String)>) -> pages::FormPage {
    let mut page = group_form(p, token, errors);
    // The address stays: links and posters point to it.
    page.fields.retain(|f| f.id != "slug");
    page.heading = "Edit the group's page";
    page.layout.title = page.layout.title.replace("Create a group", page.heading);
    page.submit = "Save the changes";
    page.action = format!("/groups/{slug}/edit");
    page.hidden = vec![("version", p.one("version"))];
    page
}

/// The change the edit form asks for: every field it shows, as typed.
fn group_patch(p: &Posted) -> GroupPatch {
    let draft = group_draft(p);
    GroupPatch {
        name: Some(draft.name),
        summary: Some(draft.summary),
        description: Some(draft.description),
        categories: Some(draft.categories),
        area: Some(draft.area),
        contact_email: Some(draft.contact_email),
        join_policy: Some(draft.join_policy),
        // "None for now" leaves the guidelines as they are.
        guidelines: draft.guidelines,
        ..GroupPatch::default()
    }
}

pub async fn edit_group_page(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    match service.group(&actor, &GroupRef::Slug(slug.clone())).await {
        Ok(view) => {
            let page = edit_form(&slug, &group_as_posted(&view.group), form_token(&cookie), Vec::new());
            crate::account::private_page(pages::render(&page))
        }
        Err(e) => crate::failed(&e),
    }
}

pub async fn edit_group(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let (actor, cookie, mut posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let group = match service.group(&actor, &GroupRef::Slug(slug.clone())).await {
        Ok(view) => view.group,
        Err(e) => return crate::failed(&e),
    };
    let version = posted.one("version").parse::<i64>().unwrap_or(-1);
    let errors = match service.update_group(&actor, group.id, &group_patch(&posted), version).await {
        Ok(_) => return crate::account::see_other(&format!("/groups/{slug}")),
        Err(e) if e.kind == ErrorKind::PreconditionFailed => {
            // Someone saved first: keep what this person typed, and let them send it again
            // against the version now current, knowing that it replaces the other change.
            posted.0.insert("version".to_owned(), vec![group.version.to_string()]);
            vec![("form", "Someone else changed this group's page after you opened it. Your changes are below: check the group's page, then save again to replace theirs.".to_owned())]
        }
        Err(e) => match field_errors(e, GROUP_FIELDS) {
            Ok(errors) => errors,
            Err(e) => return crate::failed(&e),
        },
    };
    let page = edit_form(&slug, &posted, form_token(&cookie), errors);
    crate::account::private_status(StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page))
}

/// A series' next dates, each with a link to change it (for the group's organisers).
pub async fn dates_page(State(service): State<Service>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some((actor, _)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    let Some(id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let now = service.now();
    match service.occurrences(&actor, id, now, now + chrono::Duration::days(crate::UPCOMING_DAYS)).await {
        Ok((event, dates)) => {
            crate::account::private_page(pages::render(&pages::DatesPage::new(&CSS_PATH, &event, &dates)))
        }
        Err(e) => crate::failed(&e),
    }
}

const DATE_FIELDS: &[(&str, &str)] = &[
    ("/reason", "reason"),
    ("/start", "new_date"),
    ("/end", "new_end"),
    ("/status", "what"),
    ("/local_start", "form"),
];

fn date_form(id: &str, local: &str, p: &Posted, token: String, errors: Vec<(&'static str, String)>) -> pages::FormPage {
    use pages::Field;
    let what = if p.0.contains_key("what") { p.one("what") } else { "cancelled".to_owned() };
    let fields = vec![
        Field::radios(
            "what",
            "What happens on this date",
            &[
                ("cancelled", "It is cancelled"),
                ("postponed", "It is postponed (a new date to follow)"),
                ("moved", "It moves to another time"),
                ("usual", "It goes ahead as usual"),
            ],
            &what,
        ),
        Field::text(
            "reason",
            "Why (shown on the page)",
            "Optional, for example: the library is closed",
            &p.one("reason"),
        ),
        Field::date("new_date", "New date (when it moves)", &p.one("new_date")),
        Field::time("new_start", "New start time (when it moves)", &p.one("new_start")),
        Field::time("new_end", "New end time (when it moves)", &p.one("new_end")),
    ];
    pages::FormPage::new(
        &CSS_PATH,
        "Change a date",
        &format!("/events/{id}/dates/{local}"),
        "Save the change",
        token,
        fields,
        errors,
    )
}

pub async fn date_page(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((id, local)): Path<(String, String)>,
) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    if let Err(e) = service.event(&actor, event_id).await {
        return crate::failed(&e);
    }
    crate::account::private_page(pages::render(&date_form(
        &id,
        &local,
        &Posted::default(),
        form_token(&cookie),
        Vec::new(),
    )))
}

pub async fn change_date(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((id, local)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (actor, cookie, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let reason = posted.optional("reason");
    let done = match posted.one("what").as_str() {
        "usual" => service.clear_occurrence(&actor, event_id, &local).await,
        what => {
            let moved = what == "moved";
            let at = |time: &str| moved.then(|| format!("{}T{}", posted.one("new_date"), posted.one(time)));
            let draft = OverrideDraft {
                status: Some(match what {
                    "postponed" => scaffold_domain::event::EventStatus::Postponed,
                    "moved" => scaffold_domain::event::EventStatus::Scheduled,
                    _ => scaffold_domain::event::EventStatus::Cancelled,
                }),
                reason,
                start: at("new_start"),
                end: at("new_end"),
                place: None,
            };
            service.set_occurrence(&actor, event_id, &local, &draft).await.map(drop)
        }
    };
    match done {
        Ok(()) => crate::account::see_other(&format!("/events/{id}/dates")),
        // Clearing a date that was never changed changes nothing: it already goes ahead.
        Err(e) if e.kind == ErrorKind::NotFound && posted.one("what") == "usual" => {
            crate::account::see_other(&format!("/events/{id}/dates"))
        }
        Err(e) => match field_errors(e, DATE_FIELDS) {
            Ok(errors) => {
                let page = date_form(&id, &local, &posted, form_token(&cookie), errors);
                crate::account::private_status(StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page))
            }
            Err(e) => crate::failed(&e),
        },
    }
}

/// A group's members and join requests, for its organisers (the service decides who may see them).
pub async fn members_page(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    let group = match service.group(&actor, &GroupRef::Slug(slug)).await {
        Ok(view) => view.group,
        Err(e) => return crate::failed(&e),
    };
    // Organisers see the council's notices to the group here; members see none of this page.
    let notices = match service.can_manage_group(&actor, group.id).await {
        Ok(()) => service.group_notices(&actor, &GroupRef::Id(group.id), false).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    match service.list_members(&actor, group.id, None, Some(100)).await {
        Ok(page) => {
            let body =
                pages::render(&pages::MembersPage::new(&CSS_PATH, &group, &page.items, &notices, form_token(&cookie)));
            crate::account::private_page(body)
        }
        Err(e) => crate::failed(&e),
    }
}

/// An organiser dismisses a council notice for the group.
pub async fn dismiss_notice(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((slug, notice)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let actor = match signed_post(&service, &headers, &body).await {
        Ok((actor, ..)) => actor,
        Err(res) => return res,
    };
    let Some(notice) = scaffold_domain::NoticeId::parse(&notice) else {
        return crate::error_page(StatusCode::NOT_FOUND);
    };
    let group = match service.group(&actor, &GroupRef::Slug(slug.clone())).await {
        Ok(view) => view.group,
        Err(e) => return crate::failed(&e),
    };
    match service.dismiss_notice(&actor, group.id, notice).await {
        Ok(()) => crate::account::see_other(&format!("/groups/{slug}/members")),
        Err(e) => crate::failed(&e),
    }
}

/// Approves a join request.
pub async fn approve(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((slug, person)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let actor = match signed_post(&service, &headers, &body).await {
        Ok((actor, ..)) => actor,
        Err(res) => return res,
    };
    let Some(person) = scaffold_domain::PersonId::parse(&person) else {
        return crate::error_page(StatusCode::NOT_FOUND);
    };
    let group = match service.group(&actor, &GroupRef::Slug(slug.clone())).await {
        Ok(view) => view.group,
        Err(e) => return crate::failed(&e),
    };
    match service.approve_member(&actor, group.id, person).await {
        Ok(_) => crate::account::see_other(&format!("/groups/{slug}/members")),
        Err(e) => crate::failed(&e),
    }
}

/// An owner changes a member's role from the members page.
pub async fn change_role(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((slug, person)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    member_action(service, headers, slug, person, body, true).await
}

/// An organiser or owner removes someone from the group (or withdraws an invitation).
pub async fn remove_member(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((slug, person)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    member_action(service, headers, slug, person, body, false).await
}

async fn member_action(
    service: Service,
    headers: HeaderMap,
    slug: String,
    person: String,
    body: Bytes,
    role: bool,
) -> Response {
    let (actor, _, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let Some(person) = scaffold_domain::PersonId::parse(&person) else {
        return crate::error_page(StatusCode::NOT_FOUND);
    };
    let group = match service.group(&actor, &GroupRef::Slug(slug.clone())).await {
        Ok(view) => view.group,
        Err(e) => return crate::failed(&e),
    };
    let done = if role {
        let Some(role) = scaffold_domain::membership::Role::parse(&posted.one("role")) else {
            return crate::message_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a role",
                "Go back and choose member, organiser or owner.",
            );
        };
        service.change_role(&actor, group.id, person, role).await.map(|_| ())
    } else {
        service.remove_member(&actor, group.id, person).await
    };
    match done {
        Ok(()) => crate::account::see_other(&format!("/groups/{slug}/members")),
        Err(e) => crate::failed(&e),
    }
}

/// What the reply page says after a reply (from the redirect's query).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Replied {
    date: String,
    state: String,
    places: usize,
    waiting: usize,
}

/// Replying to an event's dates, one at a time: "I'm coming" or "I can't come" for each.
pub async fn reply_page(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(replied): axum::extract::Query<Replied>,
) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let now = service.now();
    match service.occurrences(&actor, event_id, now, now + chrono::Duration::days(crate::UPCOMING_DAYS)).await {
        Ok((event, dates)) => {
            let said = match replied.state.as_str() {
                "confirmed" => Some(format!("You are coming on {}.", replied.date)),
                "waitlisted" => Some(format!(
                    "{} is full: you are on the waiting list, and will get a place if one comes free.",
                    replied.date
                )),
                "not-attending" => Some(format!("You are not coming on {}.", replied.date)),
                "every" => Some(match (replied.places, replied.waiting) {
                    (p, 0) => format!("You are coming to every date: you have a place on {}.", count(p, "date")),
                    (p, w) => format!(
                        "You are coming to every date: you have a place on {}, and are on the waiting list for {} (you will get a place if one comes free).",
                        count(p, "date"),
                        count(w, "date")
                    ),
                }),
                "every-undone" => Some("You are no longer coming to every date.".to_owned()),
                _ => None,
            };
            let mine = service.my_dates(&actor).await.unwrap_or_default();
            let page = pages::ReplyPage::new(&CSS_PATH, &event, &dates, &mine, form_token(&cookie), said);
            crate::account::private_page(pages::render(&page))
        }
        Err(e) => crate::failed(&e),
    }
}

pub async fn reply(
    State(service): State<Service>,
    headers: HeaderMap,
    Path((id, local)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (actor, _, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let response = match posted.one("response").as_str() {
        "declined" => RsvpResponse::Declined,
        _ => RsvpResponse::Going,
    };
    match service.rsvp(&actor, event_id, &local, response, None).await {
        Ok(r) => {
            let date = posted.one("date");
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("date", &date)
                .append_pair("state", r.state.as_str())
                .finish();
            crate::account::see_other(&format!("/events/{id}/reply?{query}"))
        }
        Err(e) => crate::failed(&e),
    }
}

/// The account page: groups, dates and the calendar feed.
pub async fn me(State(service): State<Service>, headers: HeaderMap) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    let me = match service.me(&actor).await {
        Ok(me) => me,
        Err(e) => return crate::failed(&e),
    };
    let ids: Vec<_> = me.memberships.iter().map(|m| m.group_id).collect();
    let (groups, dates, feed, grants) = match (
        service.groups_by_ids(&actor, &ids).await,
        service.my_dates(&actor).await,
        service.calendar_feed_made(&actor).await,
        service.grants(&actor).await,
    ) {
        (Ok(g), Ok(d), Ok(f), Ok(a)) => (g, d, f, a),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return crate::failed(&e),
    };
    let mut page = pages::MePage::new(&CSS_PATH, &me, &groups, &dates, feed, form_token(&cookie));
    page.apps = grants.iter().map(|(g, a)| pages::MyApp::new(g, a)).collect();
    page.stopped_webhooks = service
        .my_disabled_webhooks(&actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(app, w)| (app, w.url, w.disabled_reason.unwrap_or_default()))
        .collect();
    crate::account::private_page(pages::render(&page))
}

/// Makes a new calendar feed link (shown once, on the page this answers with, never in an
/// address) or turns the feed off.
pub async fn calendar_feed(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> Response {
    let (actor, _, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    if posted.one("action") == "off" {
        return match service.end_calendar_feed(&actor).await {
            Ok(()) => crate::account::see_other("/me"),
            Err(e) => crate::failed(&e),
        };
    }
    match service.new_calendar_feed(&actor).await {
        Ok((secret, _)) => {
            let url = format!("{}/calendars/{}.ics", crate::base(&service), secret.expose());
            crate::account::private_page(pages::render(&pages::CalendarLinkPage::new(&CSS_PATH, url)))
        }
        Err(e) => crate::failed(&e),
    }
}

fn count(n: usize, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

/// "I'm coming to every date" (or undoing it) from the reply page.
pub async fn reply_series(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (actor, _, posted) = match signed_post(&service, &headers, &body).await {
        Ok(signed) => signed,
        Err(res) => return res,
    };
    let Some(event_id) = scaffold_domain::EventId::parse(&id) else { return crate::error_page(StatusCode::NOT_FOUND) };
    let query = if posted.one("response") == "undo" {
        match service.undo_series_rsvp(&actor, event_id).await {
            Ok(()) => "state=every-undone".to_owned(),
            Err(e) => return crate::failed(&e),
        }
    } else {
        match service.rsvp_series(&actor, event_id, RsvpResponse::Going, None).await {
            Ok(r) => {
                use scaffold_domain::rsvp::RsvpState;
                let n = |s: RsvpState| r.dates.iter().filter(|(_, rsvp)| rsvp.state == s).count();
                format!("state=every&places={}&waiting={}", n(RsvpState::Confirmed), n(RsvpState::Waitlisted))
            }
            Err(e) => return crate::failed(&e),
        }
    };
    crate::account::see_other(&format!("/events/{id}/reply?{query}"))
}

/// The page that asks a signed-in person to confirm joining (or asking to join) a group.
pub async fn join_page(State(service): State<Service>, headers: HeaderMap, Path(slug): Path<String>) -> Response {
    let Some((actor, cookie)) = session(&service, &headers).await else { return crate::account::see_other("/sign-in") };
    match service.group(&actor, &GroupRef::Slug(slug)).await {
        Ok(view) => {
            crate::account::private_page(pages::render(&pages::JoinPage::new(&CSS_PATH, &view, form_token(&cookie))))
        }
        Err(e) => crate::failed(&e),
    }
}

pub async fn join(
    State(service): State<Service>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let actor = match signed_post(&service, &headers, &body).await {
        Ok((actor, ..)) => actor,
        Err(res) => return res,
    };
    let group = match service.group(&actor, &GroupRef::Slug(slug)).await {
        Ok(view) => view.group,
        Err(e) => return crate::failed(&e),
    };
    match service.join_group(&actor, group.id).await {
        Ok(_) => crate::account::see_other("/me"),
        Err(e) => crate::failed(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_prices_and_rules_from_what_people_type() {
        assert_eq!(slug_from("Wigan TechMates!"), "wigan-techmates");
        assert_eq!(slug_from("  Tea & Cake -- Club "), "tea-cake-club");
        assert_eq!(pence(""), Ok(None));
        assert_eq!(pence("£2.50"), Ok(Some(250)));
        assert_eq!(pence("2.5"), Ok(Some(250)));
        assert_eq!(pence("3"), Ok(Some(300)));
        assert_eq!(pence("two"), Err(()));
        assert_eq!(pence("1.234"), Err(()));
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(rule("monthly", d("2026-03-03")).as_deref(), Some("FREQ=MONTHLY;BYDAY=1TU"));
        assert_eq!(rule("monthly", d("2026-03-31")).as_deref(), Some("FREQ=MONTHLY;BYDAY=-1TU"));
        assert_eq!(rule("fortnightly", d("2026-03-31")).as_deref(), Some("FREQ=WEEKLY;INTERVAL=2"));
        assert_eq!(rule("never", d("2026-03-31")), None);
    }
}
