//! The pages' templates (askama, checked when the crate compiles) and what they show, worked
//! out here so that templates only lay it out.

use crate::{jsonld, words};
use askama::Template;
use scaffold_domain::event::{AccessibilityFeature, Event, EventStatus, Occurrence, Place};
use scaffold_domain::group::{Category, Group};
use scaffold_service::groups::GroupView;
use scaffold_service::render::markdown_html_under;
use scaffold_service::search::Found;

const SITE: &str = "Community Scaffold";
/// Dates an event page lists.
const NEXT_DATES: usize = 10;

/// A template rendered to a string. Rendering writes into a `String`, which cannot fail; a
/// template that did would show as an empty page rather than half of one.
pub fn render(t: &impl Template) -> String {
    t.render().unwrap_or_default()
}

/// Text safe inside XML (the sitemap).
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// What every page has in its head: title, description, canonical address, OpenGraph and
/// JSON-LD.
#[derive(Debug)]
pub struct Layout {
    pub title: String,
    pub description: String,
    pub canonical: Option<String>,
    pub og_type: &'static str,
    pub jsonld: Option<String>,
    pub css: String,
}

impl Layout {
    pub fn plain(title: &str, css: &str) -> Self {
        Layout {
            title: format!("{title} – {SITE}"),
            description: String::new(),
            canonical: None,
            og_type: "website",
            jsonld: None,
            css: css.to_owned(),
        }
    }

    /// A poster: not for search engines (the page it points to is).
    fn poster(title: &str, url: &str, css: &str) -> Self {
        Layout::plain(&format!("Poster: {title}"), css).with_canonical(url)
    }

    fn with_canonical(mut self, url: &str) -> Self {
        self.canonical = Some(url.to_owned());
        self
    }

    fn page(title: &str, description: &str, canonical: String, og_type: &'static str, css: &str) -> Self {
        Layout {
            title: format!("{title} – {SITE}"),
            description: description.to_owned(),
            canonical: Some(canonical),
            og_type,
            jsonld: None,
            css: css.to_owned(),
        }
    }
}

#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub title: String,
    pub detail: String,
    /// A way on: (words, address), instead of the link to the home page.
    pub onward: Option<(String, String)>,
}

/// One date in a list: an occurrence of an event, with its group.
#[derive(Debug)]
pub struct DateLine {
    pub title: String,
    pub url: String,
    pub when: String,
    pub place: Option<String>,
    /// "Cancelled" or "Postponed", with the reason when given.
    pub off: Option<String>,
}

/// The found occurrences as date lines.
pub fn dates(found: &[Found]) -> Vec<DateLine> {
    found
        .iter()
        .map(|f| {
            let o = &f.occurrence;
            let place = o.place.as_ref().or(f.event.place.as_ref());
            DateLine {
                title: f.event.title.clone(),
                url: format!("/events/{}", f.event.id),
                when: words::local_range(o.start, o.end, f.event.timezone, f.event.all_day),
                place: place.map(|p| p.name.clone()),
                off: off(o.status, o.reason.as_deref()),
            }
        })
        .collect()
}

fn off(status: EventStatus, reason: Option<&str>) -> Option<String> {
    let word = match status {
        EventStatus::Scheduled => return None,
        EventStatus::Cancelled => "Cancelled",
        EventStatus::Postponed => "Postponed",
    };
    Some(match reason {
        Some(r) => format!("{word}: {r}"),
        None => word.to_owned(),
    })
}

/// A choice in a `<select>`.
#[derive(Debug)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn choices<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    chosen: &str,
) -> Vec<Choice> {
    all.iter().map(|t| Choice { value: value(*t), label: label(*t), selected: value(*t) == chosen }).collect()
}

/// The search form's fields as typed.
#[derive(Debug, Default)]
pub struct SearchValues {
    pub place: String,
    pub category: String,
    pub accessibility: String,
    pub date: String,
    pub q: String,
}

/// An error in a form: the field it belongs to and what to do.
#[derive(Debug)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct Home {
    pub layout: Layout,
    pub values: SearchValues,
    pub categories: Vec<Choice>,
    pub features: Vec<Choice>,
    pub searched: bool,
    pub results: Vec<DateLine>,
    pub errors: Vec<FieldProblem>,
}

impl Home {
    pub fn new(
        base: &str,
        css: &str,
        values: SearchValues,
        searched: bool,
        results: Vec<DateLine>,
        errors: Vec<(&'static str, String)>,
    ) -> Self {
        let title = if errors.is_empty() { "Find groups and events near you" } else { "Error: find groups and events" };
        Home {
            layout: Layout::page(
                title,
                "Community groups, clubs and events near you: search by place, interest, date and access needs.",
                format!("{base}/"),
                "website",
                css,
            ),
            categories: choices(Category::ALL, Category::as_str, words::category, &values.category),
            features: choices(
                AccessibilityFeature::ALL,
                AccessibilityFeature::as_str,
                words::feature,
                &values.accessibility,
            ),
            values,
            searched,
            results,
            errors: errors.into_iter().map(|(field, message)| FieldProblem { field, message }).collect(),
        }
    }

    /// The error for a field, if any (shown next to it).
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

#[derive(Debug, Template)]
#[template(path = "group.html")]
pub struct GroupPage {
    pub layout: Layout,
    pub name: String,
    pub summary: String,
    pub kind: &'static str,
    pub description_html: Option<String>,
    pub categories: Vec<&'static str>,
    pub outcode: Option<String>,
    pub contact_email: Option<String>,
    pub links: Vec<(String, String)>,
    pub join: &'static str,
    /// Imported: where from (the source's name and the original page).
    pub origin: Option<(String, Option<String>)>,
    /// Whether people can ask to join from the page (not by invitation only).
    pub join_open: bool,
    pub join_url: String,
    pub guidelines_html: String,
    /// "Registered charity (England and Wales) 1123456", for numbers an operator verified.
    pub verified: Vec<String>,
    pub members: i64,
    pub events: Vec<EventLine>,
    pub calendar_url: String,
    pub poster_url: String,
    /// The iframe to paste into the group's own website.
    pub embed_snippet: String,
}

/// One event in a group's list: a series once, with its next date.
#[derive(Debug)]
pub struct EventLine {
    pub title: String,
    pub url: String,
    /// "Every Tuesday, 10:00 to 12:00", or the one date.
    pub when: String,
    /// The next date of a series.
    pub next: Option<String>,
    pub place: Option<String>,
}

/// The found occurrences as one line per event, in the order of their next dates.
fn events(found: &[Found]) -> Vec<EventLine> {
    let mut seen = std::collections::HashSet::new();
    found
        .iter()
        .filter(|f| seen.insert(f.event.id))
        .map(|f| {
            let (e, o) = (&f.event, &f.occurrence);
            let date = words::local_range(o.start, o.end, e.timezone, e.all_day);
            let (when, next) = match &e.recurrence {
                Some(r) => (words::series(&r.rule, e.start, e.end, e.all_day), Some(date)),
                None => (date, None),
            };
            EventLine {
                title: e.title.clone(),
                url: format!("/events/{}", e.id),
                when,
                next,
                place: o.place.as_ref().or(e.place.as_ref()).map(|p| p.name.clone()),
            }
        })
        .collect()
}

impl GroupPage {
    pub fn new(base: &str, css: &str, view: &GroupView, found: &[Found]) -> Self {
        let g = &view.group;
        let url = format!("{base}/groups/{}", g.slug);
        let mut layout = Layout::page(&g.name, &g.summary, url.clone(), "website", css);
        layout.jsonld = Some(jsonld::organization(g, &url, base, found));
        GroupPage {
            layout,
            name: g.name.clone(),
            summary: g.summary.clone(),
            kind: words::kind(g.kind),
            description_html: g.description.as_deref().map(|d| markdown_html_under(d, 2)),
            categories: g.categories.iter().map(|c| words::category(*c)).collect(),
            outcode: g.area.as_ref().map(|a| a.outcode.as_str().to_owned()),
            contact_email: g.contact_email.clone(),
            links: g.links.iter().map(|l| (l.label.clone(), l.url.clone())).collect(),
            join: words::how_to_join(g.join_policy),
            join_open: g.join_policy != scaffold_domain::group::JoinPolicy::Invite && g.origin.is_none(),
            origin: g.origin.as_ref().map(|o| (o.source_name.clone(), o.url.clone())),
            join_url: format!("/groups/{}/join", g.slug),
            guidelines_html: markdown_html_under(&g.guidelines.text, 2),
            verified: verified(g),
            members: view.member_count,
            events: events(found),
            calendar_url: format!("/api/v1/groups/{}/calendar.ics", g.slug),
            poster_url: format!("/groups/{}/poster", g.slug),
            embed_snippet: format!(
                "<iframe src=\"{base}/embed/groups/{}\" title=\"Events of {}\" width=\"100%\" height=\"420\" style=\"border:0\"></iframe>",
                g.slug,
                g.name.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
            ),
        }
    }
}

fn verified(g: &Group) -> Vec<String> {
    g.identifiers
        .iter()
        .filter(|i| i.verified_at.is_some())
        .map(|i| format!("{} {}", words::register(i.scheme), i.value))
        .collect()
}

/// A place as the pages show it, with a map link.
#[derive(Debug)]
pub struct PlaceLines {
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub map_url: Option<String>,
}

fn place_lines(p: &Place) -> PlaceLines {
    let map_url = match (p.latitude, p.longitude, &p.postcode) {
        (_, _, Some(pc)) => Some(format!("https://www.openstreetmap.org/search?query={}", pc.replace(' ', "%20"))),
        (Some(lat), Some(lon), None) => {
            Some(format!("https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=16/{lat:.5}/{lon:.5}"))
        }
        _ => None,
    };
    PlaceLines { name: p.name.clone(), address: p.address.clone(), postcode: p.postcode.clone(), map_url }
}

/// One date on an event page.
#[derive(Debug)]
pub struct OccurrenceLine {
    pub when: String,
    /// Cancelled, postponed or moved, in words.
    pub note: Option<String>,
    pub off: bool,
    /// Held somewhere else than the event's usual place.
    pub elsewhere: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "event.html")]
pub struct EventPage {
    pub layout: Layout,
    pub title: String,
    pub summary: String,
    pub description_html: Option<String>,
    pub group_name: String,
    pub group_url: String,
    /// The whole event is cancelled or postponed.
    pub status_note: Option<String>,
    /// "Every Tuesday, 10:00 to 12:00", or the one date.
    pub when: String,
    pub zone: String,
    pub dates: Vec<OccurrenceLine>,
    pub place: Option<PlaceLines>,
    pub online_url: Option<String>,
    pub accessibility: Vec<&'static str>,
    pub accessibility_notes: Option<String>,
    pub booking: &'static str,
    pub booking_url: Option<String>,
    pub cost: String,
    pub ages: Option<String>,
    pub calendar_url: String,
    pub poster_url: String,
    pub series: bool,
    pub dates_url: String,
    pub edit_url: String,
    /// People reply here (not for events booked elsewhere or imported).
    pub replies: bool,
    /// Imported: where from (the source's name and the original page); it is changed there.
    pub origin: Option<(String, Option<String>)>,
    pub reply_url: String,
}

impl EventPage {
    pub fn new(base: &str, css: &str, e: &Event, group: &Group, dates: &[Occurrence]) -> Self {
        let url = format!("{base}/events/{}", e.id);
        let mut layout = Layout::page(&e.title, &e.summary, url.clone(), "article", css);
        let group_url = format!("/groups/{}", group.slug);
        layout.jsonld = Some(jsonld::event(e, group, &url, &format!("{base}{group_url}"), dates.first()));
        let when = match &e.recurrence {
            Some(r) => words::series(&r.rule, e.start, e.end, e.all_day),
            None => match dates.first() {
                Some(o) => words::local_range(o.start, o.end, e.timezone, e.all_day),
                None => "No upcoming dates".to_owned(),
            },
        };
        EventPage {
            layout,
            title: e.title.clone(),
            summary: e.summary.clone(),
            description_html: e.description.as_deref().map(|d| markdown_html_under(d, 2)),
            group_name: group.name.clone(),
            group_url,
            status_note: off(e.status, e.status_reason.as_deref()),
            when,
            zone: format!("Times are local to {}.", e.timezone.name().replace('_', " ")),
            dates: dates
                .iter()
                .take(NEXT_DATES)
                .map(|o| OccurrenceLine {
                    when: words::local_range(o.start, o.end, e.timezone, e.all_day),
                    note: off(o.status, o.reason.as_deref())
                        .or_else(|| o.moved.then(|| "Moved from its usual time".to_owned())),
                    off: o.status != EventStatus::Scheduled,
                    elsewhere: o.place.as_ref().map(|p| format!("At {}", p.name)),
                })
                .collect(),
            place: e.place.as_ref().map(place_lines),
            online_url: e.online_url.clone(),
            accessibility: e.accessibility.iter().map(|f| words::feature(*f)).collect(),
            accessibility_notes: e.accessibility_notes.clone(),
            booking: words::booking(e.booking),
            booking_url: e.booking_url.clone(),
            cost: words::cost(e),
            ages: match (e.min_age, e.max_age) {
                (Some(a), Some(b)) => Some(format!("Ages {a} to {b}")),
                (Some(a), None) => Some(format!("Ages {a} and over")),
                (None, Some(b)) => Some(format!("Ages up to {b}")),
                (None, None) => None,
            },
            calendar_url: format!("/api/v1/events/{}/calendar.ics", e.id),
            poster_url: format!("/events/{}/poster", e.id),
            series: e.recurrence.is_some(),
            dates_url: format!("/events/{}/dates", e.id),
            edit_url: format!("/events/{}/edit", e.id),
            replies: e.booking != scaffold_domain::event::BookingMode::External && e.origin.is_none(),
            origin: e.origin.as_ref().map(|o| (o.source_name.clone(), o.url.clone())),
            reply_url: format!("/events/{}/reply", e.id),
        }
    }
}

/// A group in a directory list.
#[derive(Debug)]
pub struct GroupLine {
    pub name: String,
    pub url: String,
    pub summary: String,
}

#[derive(Debug, Template)]
#[template(path = "place.html")]
pub struct PlacePage {
    pub layout: Layout,
    pub outcode: String,
    pub groups: Vec<GroupLine>,
    pub dates: Vec<DateLine>,
}

impl PlacePage {
    pub fn new(base: &str, css: &str, outcode: &str, groups: &[GroupView], dates: Vec<DateLine>) -> Self {
        let title = format!("Groups and events in {outcode}");
        let description = format!("Community groups based in the {outcode} postcode district and events near it.");
        PlacePage {
            layout: Layout::page(&title, &description, format!("{base}/places/{outcode}"), "website", css),
            outcode: outcode.to_owned(),
            groups: groups
                .iter()
                .map(|v| GroupLine {
                    name: v.group.name.clone(),
                    url: format!("/groups/{}", v.group.slug),
                    summary: v.group.summary.clone(),
                })
                .collect(),
            dates,
        }
    }
}

/// A QR code for `url`, as inline SVG that says what it is to screen readers.
fn qr_svg(url: &str, label: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else { return String::new() };
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build();
    let svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest);
    let label = askama::filters::escape(label, askama::filters::Html).map(|l| l.to_string()).unwrap_or_default();
    svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"qr\" "), 1)
}

/// A printable A4 poster for a noticeboard: what, when, where, the next dates and a QR code to
/// the page.
#[derive(Debug, Template)]
#[template(path = "poster.html")]
pub struct Poster {
    pub layout: Layout,
    pub title: String,
    pub summary: String,
    pub run_by: Option<String>,
    pub lines: Vec<String>,
    pub dates: Vec<String>,
    pub qr_svg: String,
    pub url: String,
}

/// Dates a poster lists.
const POSTER_DATES: usize = 6;

impl Poster {
    pub fn for_group(base: &str, css: &str, view: &GroupView, found: &[Found]) -> Self {
        let g = &view.group;
        let url = format!("{base}/groups/{}", g.slug);
        let mut lines: Vec<String> =
            events(found).into_iter().take(3).map(|e| format!("{}: {}", e.title, e.when)).collect();
        if let Some(email) = &g.contact_email {
            lines.push(format!("Contact: {email}"));
        }
        Poster {
            layout: Layout::poster(&g.name, &url, css),
            title: g.name.clone(),
            summary: g.summary.clone(),
            run_by: None,
            lines,
            dates: dates(found).into_iter().filter(|d| d.off.is_none()).take(POSTER_DATES).map(|d| d.when).collect(),
            qr_svg: qr_svg(&url, &format!("QR code for {url}")),
            url,
        }
    }

    pub fn for_event(base: &str, css: &str, e: &Event, group: &Group, dates: &[Occurrence]) -> Self {
        let page = EventPage::new(base, css, e, group, dates);
        let url = format!("{base}/events/{}", e.id);
        let mut lines = vec![page.when];
        if let Some(p) = &page.place {
            let mut at = p.name.clone();
            for part in [&p.address, &p.postcode].into_iter().flatten() {
                at.push_str(", ");
                at.push_str(part);
            }
            lines.push(at);
        }
        if !page.accessibility.is_empty() {
            lines.push(page.accessibility.join(" · "));
        }
        lines.push(format!("{}. {}", page.cost, page.booking));
        Poster {
            layout: Layout::poster(&e.title, &url, css),
            title: e.title.clone(),
            summary: e.summary.clone(),
            run_by: Some(group.name.clone()),
            lines,
            dates: page.dates.into_iter().filter(|d| !d.off).take(POSTER_DATES).map(|d| d.when).collect(),
            qr_svg: qr_svg(&url, &format!("QR code for {url}")),
            url,
        }
    }
}

/// A group's upcoming events, to show in an iframe on the group's own website.
#[derive(Debug, Template)]
#[template(path = "embed.html")]
pub struct Embed {
    pub layout: Layout,
    pub name: String,
    pub group_url: String,
    pub events: Vec<EventLine>,
}

impl Embed {
    pub fn new(base: &str, css: &str, view: &GroupView, found: &[Found]) -> Self {
        let g = &view.group;
        let mut events = events(found);
        for e in &mut events {
            e.url = format!("{base}{}", e.url);
        }
        Embed {
            layout: Layout::plain(&format!("Events of {}", g.name), css),
            name: g.name.clone(),
            group_url: format!("{base}/groups/{}", g.slug),
            events,
        }
    }
}

/// The page a sign-in link opens: one button, so that a link preview cannot use the link.
#[derive(Debug, Template)]
#[template(path = "sign_in_link.html")]
pub struct SignInLinkPage {
    pub layout: Layout,
    pub action: String,
}

impl SignInLinkPage {
    pub fn new(css: &str, token: &str) -> Self {
        // The token goes back in the form's address only if it could be one (URL-safe base64).
        let safe: String = token.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect();
        SignInLinkPage { layout: Layout::plain("Sign in", css), action: format!("/sign-in/{safe}") }
    }
}

#[derive(Debug, Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    /// (name, where to start) of each configured OpenID Provider.
    pub providers: Vec<(String, String)>,
}

impl SignInPage {
    pub fn new(css: &str, providers: Vec<(String, String)>) -> Self {
        SignInPage { layout: Layout::plain("Sign in", css), providers }
    }
}

/// A group the signed-in person belongs to.
#[derive(Debug)]
pub struct MyGroup {
    pub name: String,
    pub url: String,
    pub role: &'static str,
    pub pending: bool,
    /// Where an organiser adds an event, for owners and organisers.
    pub add_event_url: Option<String>,
    /// Where they edit the group's page.
    pub edit_url: Option<String>,
    /// Where they see members and approve requests.
    pub members_url: Option<String>,
}

/// A date the signed-in person replied to.
#[derive(Debug)]
pub struct MyDateLine {
    pub title: String,
    pub url: String,
    pub when: String,
    pub state: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "me.html")]
pub struct MePage {
    pub layout: Layout,
    pub name: String,
    pub groups: Vec<MyGroup>,
    pub dates: Vec<MyDateLine>,
    /// Events the person comes to every date of.
    pub every: Vec<(String, String)>,
    /// When the calendar feed link was made, if there is one.
    pub feed_made: Option<String>,
    /// Apps the person lets act for them.
    pub apps: Vec<MyApp>,
    /// The person's apps' webhooks that were disabled: (app, endpoint, why).
    pub stopped_webhooks: Vec<(String, String, String)>,
    pub form_token: String,
}

/// An app the signed-in person lets act for them.
#[derive(Debug)]
pub struct MyApp {
    pub name: String,
    pub can: Vec<&'static str>,
    pub since: String,
    pub revoke: String,
}

impl MyApp {
    pub fn new(g: &scaffold_domain::identity::AppGrant, a: &scaffold_domain::identity::App) -> Self {
        MyApp {
            name: a.name.clone(),
            can: g.scopes.iter().map(scaffold_service::identity::grants::scope_words).collect(),
            since: g.created_at.with_timezone(&chrono_tz::Europe::London).format("%-d %B %Y").to_string(),
            revoke: format!("/me/grants/{}/revoke", g.id),
        }
    }
}

/// The consent page: what an app asks to do for the person, in plain words.
#[derive(Debug, Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub layout: Layout,
    pub app: String,
    pub homepage: Option<String>,
    pub redirect_host: String,
    pub can: Vec<&'static str>,
    pub hidden: Vec<(&'static str, String)>,
    pub form_token: String,
}

impl ConsentPage {
    pub fn new(
        css: &str,
        req: &scaffold_service::identity::grants::AuthorizeRequest,
        hidden: Vec<(&'static str, String)>,
        form_token: String,
    ) -> Self {
        let redirect_host = req
            .redirect_uri
            .split_once("://")
            .map_or(req.redirect_uri.as_str(), |(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest))
            .to_owned();
        ConsentPage {
            layout: Layout::plain(&format!("Let {} act for you?", req.app.name), css),
            app: req.app.name.clone(),
            homepage: req.app.homepage.clone(),
            redirect_host,
            can: req.scopes.iter().map(scaffold_service::identity::grants::scope_words).collect(),
            hidden,
            form_token,
        }
    }
}

/// The dates the account page lists.
const MY_DATES_SHOWN: usize = 12;

impl MePage {
    pub fn new(
        css: &str,
        me: &scaffold_service::identity::account::Me,
        groups: &[Group],
        mine: &scaffold_service::my_dates::MyDates,
        feed: Option<chrono::DateTime<chrono::Utc>>,
        form_token: String,
    ) -> Self {
        use scaffold_domain::membership::{MembershipStatus, Role};
        use scaffold_domain::rsvp::RsvpState;
        let groups = me
            .memberships
            .iter()
            .filter_map(|m| {
                let g = groups.iter().find(|g| g.id == m.group_id)?;
                Some(MyGroup {
                    name: g.name.clone(),
                    url: format!("/groups/{}", g.slug),
                    role: match m.role {
                        Role::Owner => "Owner",
                        Role::Organiser => "Organiser",
                        Role::Member => "Member",
                    },
                    pending: m.status != MembershipStatus::Active,
                    add_event_url: (m.status == MembershipStatus::Active && m.role != Role::Member)
                        .then(|| format!("/groups/{}/events/new", g.slug)),
                    edit_url: (m.status == MembershipStatus::Active && m.role != Role::Member)
                        .then(|| format!("/groups/{}/edit", g.slug)),
                    members_url: (m.status == MembershipStatus::Active && m.role != Role::Member)
                        .then(|| format!("/groups/{}/members", g.slug)),
                })
            })
            .collect();
        let dates = mine
            .dates
            .iter()
            .take(MY_DATES_SHOWN)
            .map(|d| MyDateLine {
                title: d.event.title.clone(),
                url: format!("/events/{}", d.event.id),
                when: words::local_range(d.occurrence.start, d.occurrence.end, d.event.timezone, d.event.all_day),
                state: match (d.occurrence.status, d.rsvp.state) {
                    (EventStatus::Cancelled, _) => "Cancelled",
                    (EventStatus::Postponed, _) => "Postponed",
                    (_, RsvpState::Confirmed) => "You have a place",
                    (_, RsvpState::Waitlisted) => "On the waiting list",
                    (_, RsvpState::NotAttending) => "You said maybe",
                },
            })
            .collect();
        let every = mine.series.iter().map(|(e, _)| (e.title.clone(), format!("/events/{}/reply", e.id))).collect();
        let feed_made = feed.map(|t| t.with_timezone(&chrono_tz::Europe::London).format("%-d %B %Y").to_string());
        MePage {
            layout: Layout::plain("Your account", css),
            name: me.person.display_name.clone(),
            groups,
            dates,
            every,
            feed_made,
            apps: Vec::new(),
            stopped_webhooks: Vec::new(),
            form_token,
        }
    }
}

/// The calendar feed link, shown once just after it is made.
#[derive(Debug, Template)]
#[template(path = "calendar_link.html")]
pub struct CalendarLinkPage {
    pub layout: Layout,
    pub url: String,
    pub webcal: String,
}

impl CalendarLinkPage {
    pub fn new(css: &str, url: String) -> Self {
        let webcal = format!("webcal://{}", url.split_once("://").map_or(url.as_str(), |(_, rest)| rest));
        CalendarLinkPage { layout: Layout::plain("Your calendar link", css), url, webcal }
    }
}

/// One field of a form, with what was typed and its error.
#[derive(Debug)]
pub struct Field {
    pub id: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// `text`, `email`, `date`, `time`, `textarea`, `checkboxes` or `radios`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    pub error: Option<String>,
}

impl Field {
    fn input(kind: &'static str, id: &'static str, label: &'static str, hint: &'static str, value: &str) -> Self {
        Field { id, label, hint, kind, value: value.to_owned(), options: Vec::new(), error: None }
    }

    pub fn text(id: &'static str, label: &'static str, hint: &'static str, value: &str) -> Self {
        Self::input("text", id, label, hint, value)
    }

    pub fn email(id: &'static str, label: &'static str, hint: &'static str, value: &str) -> Self {
        Self::input("email", id, label, hint, value)
    }

    pub fn textarea(id: &'static str, label: &'static str, hint: &'static str, value: &str) -> Self {
        Self::input("textarea", id, label, hint, value)
    }

    pub fn date(id: &'static str, label: &'static str, value: &str) -> Self {
        Self::input("date", id, label, "", value)
    }

    pub fn time(id: &'static str, label: &'static str, value: &str) -> Self {
        Self::input("time", id, label, "", value)
    }

    pub fn checkboxes<T: Copy>(
        id: &'static str,
        label: &'static str,
        all: &[T],
        value: impl Fn(T) -> &'static str,
        name: impl Fn(T) -> &'static str,
        chosen: &[String],
    ) -> Self {
        let options = all
            .iter()
            .map(|t| Choice { value: value(*t), label: name(*t), selected: chosen.iter().any(|c| c == value(*t)) })
            .collect();
        Field { options, ..Self::input("checkboxes", id, label, "", "") }
    }

    pub fn radios(id: &'static str, label: &'static str, all: &[(&'static str, &'static str)], chosen: &str) -> Self {
        let options = all.iter().map(|(v, l)| Choice { value: v, label: l, selected: *v == chosen }).collect();
        Field { options, ..Self::input("radios", id, label, "", "") }
    }
}

/// A form page: its fields, with an error summary linking to the fields that need attention.
#[derive(Debug, Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub layout: Layout,
    pub heading: &'static str,
    pub action: String,
    pub submit: &'static str,
    pub form_token: String,
    /// Hidden values sent back with the form (name, value).
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<Field>,
    /// Errors that belong to no field (or to the form as a whole), and every field's, in order.
    pub summary: Vec<FieldProblem>,
}

impl FormPage {
    pub fn new(
        css: &str,
        heading: &'static str,
        action: &str,
        submit: &'static str,
        form_token: String,
        mut fields: Vec<Field>,
        errors: Vec<(&'static str, String)>,
    ) -> Self {
        let mut summary = Vec::new();
        // In the order of the form, so the summary reads like the page.
        let mut errors = errors;
        errors.sort_by_key(|(field, _)| fields.iter().position(|f| f.id == *field).unwrap_or(usize::MAX));
        for (field, message) in errors {
            match fields.iter_mut().find(|f| f.id == field) {
                Some(f) => {
                    if f.error.is_none() {
                        f.error = Some(message.clone());
                    }
                    summary.push(FieldProblem { field: f.id, message: format!("{}: {message}", f.label) });
                }
                None => summary.push(FieldProblem { field: "main", message }),
            }
        }
        let title = if summary.is_empty() { heading.to_owned() } else { format!("Error: {heading}") };
        FormPage {
            layout: Layout::plain(&title, css),
            heading,
            action: action.to_owned(),
            submit,
            form_token,
            hidden: Vec::new(),
            fields,
            summary,
        }
    }
}

/// Joining a group: what it means, its guidelines, and one button.
#[derive(Debug, Template)]
#[template(path = "join.html")]
pub struct JoinPage {
    pub layout: Layout,
    pub name: String,
    pub group_url: String,
    pub action: String,
    pub form_token: String,
    /// `None` when the group takes members by invitation only.
    pub button: Option<&'static str>,
    pub how: &'static str,
    /// Already a member (or waiting for approval).
    pub already: Option<&'static str>,
    pub guidelines_html: String,
}

impl JoinPage {
    pub fn new(css: &str, view: &GroupView, form_token: String) -> Self {
        use scaffold_domain::group::JoinPolicy;
        use scaffold_domain::membership::MembershipStatus;
        let g = &view.group;
        let already = view.viewer_membership.as_ref().and_then(|m| match m.status {
            MembershipStatus::Active => Some("You are a member of this group."),
            MembershipStatus::Pending => Some("You have asked to join: an organiser will approve your request."),
            _ => None,
        });
        JoinPage {
            layout: Layout::plain(&format!("Join {}", g.name), css),
            name: g.name.clone(),
            group_url: format!("/groups/{}", g.slug),
            action: format!("/groups/{}/join", g.slug),
            form_token,
            button: match g.join_policy {
                JoinPolicy::Open => Some("Join the group"),
                JoinPolicy::Approval => Some("Ask to join"),
                JoinPolicy::Invite => None,
            },
            how: words::how_to_join(g.join_policy),
            already,
            guidelines_html: markdown_html_under(&g.guidelines.text, 2),
        }
    }
}

/// The OpenActive dataset site: the dataset described for people, and in JSON-LD for machines.
#[derive(Debug, Template)]
#[template(path = "dataset.html")]
pub struct DatasetPage {
    pub layout: Layout,
    pub name: String,
    pub description: String,
    pub publisher: String,
    pub licence: String,
    pub feeds: Vec<(String, String)>,
    pub documentation: String,
    pub discussion: String,
    pub email: Option<String>,
    pub citation: String,
}

impl DatasetPage {
    pub fn new(css: &str, doc: &serde_json::Value) -> Self {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let name = text(&doc["name"]);
        let mut layout = Layout::page(&name, &text(&doc["description"]), text(&doc["url"]), "website", css);
        layout.jsonld = Some(jsonld::script_json(doc));
        DatasetPage {
            layout,
            description: text(&doc["description"]),
            publisher: text(&doc["publisher"]["name"]),
            licence: text(&doc["license"]),
            feeds: doc["distribution"]
                .as_array()
                .map(|d| d.iter().map(|f| (text(&f["name"]), text(&f["contentUrl"]))).collect())
                .unwrap_or_default(),
            documentation: text(&doc["documentation"]),
            discussion: text(&doc["discussionUrl"]),
            email: doc["publisher"]["email"].as_str().map(str::to_owned),
            // The activity list's licence asks for this; the dataset site shows it (schema.org's
            // `citation` is not part of OpenActive's dataset model, and its validator refuses it).
            citation: scaffold_domain::activity::ATTRIBUTION.to_owned(),
            name,
        }
    }
}

/// A date of a series, for its organisers: how it stands, and where to change it.
#[derive(Debug)]
pub struct DateChoice {
    pub when: String,
    pub note: Option<String>,
    pub change_url: String,
}

#[derive(Debug, Template)]
#[template(path = "event_dates.html")]
pub struct DatesPage {
    pub layout: Layout,
    pub title: String,
    pub event_url: String,
    pub dates: Vec<DateChoice>,
}

impl DatesPage {
    pub fn new(css: &str, e: &Event, dates: &[Occurrence]) -> Self {
        DatesPage {
            layout: Layout::plain(&format!("Dates of {}", e.title), css),
            title: e.title.clone(),
            event_url: format!("/events/{}", e.id),
            dates: dates
                .iter()
                .map(|o| DateChoice {
                    when: words::local_range(o.start, o.end, e.timezone, e.all_day),
                    note: off(o.status, o.reason.as_deref())
                        .or_else(|| o.moved.then(|| "Moved from its usual time".to_owned())),
                    change_url: format!("/events/{}/dates/{}", e.id, o.local_start.format("%Y-%m-%dT%H:%M")),
                })
                .collect(),
        }
    }
}

/// A member as organisers see them.
#[derive(Debug)]
pub struct MemberLine {
    pub name: String,
    pub role: &'static str,
    /// Where to approve a join request.
    pub approve_url: Option<String>,
    pub invited: bool,
    /// The person's id in form field ids.
    pub key: String,
    /// Where to change their role and where to remove them.
    pub role_url: String,
    pub remove_url: String,
    /// `owner`, `organiser` or `member`.
    pub role_value: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "members.html")]
pub struct MembersPage {
    pub layout: Layout,
    pub name: String,
    pub group_url: String,
    pub form_token: String,
    pub requests: Vec<MemberLine>,
    pub members: Vec<MemberLine>,
    /// Council notices sent to the group, for its organisers.
    pub notices: Vec<NoticeLine>,
}

/// A council notice on the organisers' page.
#[derive(Debug)]
pub struct NoticeLine {
    pub key: String,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub links: Vec<(String, String)>,
    /// "Until 6 January 2027".
    pub until: String,
    pub dismiss_url: String,
}

impl MembersPage {
    pub fn new(
        css: &str,
        g: &Group,
        list: &[scaffold_service::members::MemberView],
        notices: &[scaffold_service::notices::GroupNotice],
        form_token: String,
    ) -> Self {
        use scaffold_domain::membership::{MembershipStatus, Role};
        let line = |v: &scaffold_service::members::MemberView| MemberLine {
            name: v.display_name.clone(),
            role: match v.membership.role {
                Role::Owner => "Owner",
                Role::Organiser => "Organiser",
                Role::Member => "Member",
            },
            approve_url: (v.membership.status == MembershipStatus::Pending)
                .then(|| format!("/groups/{}/members/{}/approve", g.slug, v.membership.person_id)),
            invited: v.membership.status == MembershipStatus::Invited,
            key: v.membership.person_id.to_string(),
            role_url: format!("/groups/{}/members/{}/role", g.slug, v.membership.person_id),
            remove_url: format!("/groups/{}/members/{}/remove", g.slug, v.membership.person_id),
            role_value: v.membership.role.as_str(),
        };
        MembersPage {
            layout: Layout::plain(&format!("Members of {}", g.name), css),
            name: g.name.clone(),
            group_url: format!("/groups/{}", g.slug),
            form_token,
            requests: list.iter().filter(|v| v.membership.status == MembershipStatus::Pending).map(line).collect(),
            members: list.iter().filter(|v| v.membership.status != MembershipStatus::Pending).map(line).collect(),
            notices: notices
                .iter()
                .map(|n| {
                    let n = &n.notice;
                    NoticeLine {
                        key: n.id.to_string(),
                        title: n.title.clone(),
                        paragraphs: n
                            .body
                            .split("\n\n")
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned)
                            .collect(),
                        links: n.links.iter().map(|l| (l.label.clone(), l.url.clone())).collect(),
                        until: format!(
                            "Until {}",
                            n.valid_until.with_timezone(&chrono_tz::Europe::London).format("%-d %B %Y")
                        ),
                        dismiss_url: format!("/groups/{}/notices/{}/dismiss", g.slug, n.id),
                    }
                })
                .collect(),
        }
    }
}

/// A date a person can reply to, with their reply so far.
#[derive(Debug)]
pub struct ReplyDate {
    pub when: String,
    pub action: String,
    pub mine: Option<&'static str>,
}

/// Replying to every date of a series at once.
#[derive(Debug)]
pub struct SeriesChoice {
    pub action: String,
    /// The person has replied to every date already (and can undo it).
    pub standing: bool,
}

#[derive(Debug, Template)]
#[template(path = "reply.html")]
pub struct ReplyPage {
    pub layout: Layout,
    pub title: String,
    pub event_url: String,
    pub form_token: String,
    pub said: Option<String>,
    pub series: Option<SeriesChoice>,
    pub dates: Vec<ReplyDate>,
}

impl ReplyPage {
    pub fn new(
        css: &str,
        e: &Event,
        dates: &[Occurrence],
        mine: &scaffold_service::my_dates::MyDates,
        form_token: String,
        said: Option<String>,
    ) -> Self {
        use scaffold_domain::rsvp::{RsvpResponse, RsvpState};
        let reply_to = |o: &Occurrence| {
            let r = mine.dates.iter().find(|d| d.event.id == e.id && d.occurrence.local_start == o.local_start)?;
            Some(match (r.rsvp.response, r.rsvp.state) {
                (_, RsvpState::Confirmed) => "You have a place",
                (_, RsvpState::Waitlisted) => "You are on the waiting list",
                (RsvpResponse::Maybe, _) => "You said maybe",
                _ => return None,
            })
        };
        ReplyPage {
            layout: Layout::plain(&format!("Reply: {}", e.title), css),
            title: e.title.clone(),
            event_url: format!("/events/{}", e.id),
            form_token,
            said,
            series: e.recurrence.is_some().then(|| SeriesChoice {
                action: format!("/events/{}/reply-series", e.id),
                standing: mine.series.iter().any(|(s, _)| s.id == e.id),
            }),
            dates: dates
                .iter()
                .filter(|o| o.status == EventStatus::Scheduled)
                .take(NEXT_DATES)
                .map(|o| ReplyDate {
                    when: words::local_range(o.start, o.end, e.timezone, e.all_day),
                    action: format!("/events/{}/reply/{}", e.id, o.local_start.format("%Y-%m-%dT%H:%M")),
                    mine: reply_to(o),
                })
                .collect(),
        }
    }
}
