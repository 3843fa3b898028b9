//! The public pages, read as a browser and a search engine would: content, JSON-LD, headers,
//! ETags, error pages, the home search with its errors, directory pages and the sitemap.

use crate::common::{TestApp, app, techmates};
use scaffold_testkit::TestResponse;
use serde_json::{Value, json};

const ORGANISER: &[&str] = &["groups:read", "groups:write", "events:read", "events:write"];
const HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

async fn page(app: &TestApp, path: &str) -> TestResponse {
    app.http.get(path).header("accept", HTML).send().await
}

/// The page's JSON-LD, parsed.
fn json_ld(html: &str) -> Value {
    let start = html.find("<script type=\"application/ld+json\">").expect("a JSON-LD block") + 35;
    let end = start + html[start..].find("</script>").expect("the block ends");
    serde_json::from_str(&html[start..end]).expect("JSON-LD parses")
}

/// A group with a verified charity number and a weekly series with one date cancelled.
async fn techmates_with_series(app: &TestApp) -> (String, String) {
    let owner = app.person("Ada", ORGANISER).await;
    let g = app.group(&owner.token, techmates()).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let ids = format!("/api/v1/groups/{gid}/identifiers/GB-CHC");
    let res = app.http.put(&ids).token(&owner.token).json(&json!({ "value": "1123456" })).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.http.post(&format!("{ids}/verify")).token(&app.operator).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    let event = json!({
        "title": "TechMates tea party",
        "summary": "Tea, cake & help with phones </script><script>alert(1)</script>",
        "description": "Bring your **own** device.",
        "start": "2026-03-03T10:00",
        "end": "2026-03-03T12:00",
        "place": { "name": "Wigan Library", "address": "The Wiend", "postcode": "WN1 1NU" },
        "accessibility": ["step-free", "hearing-loop"],
        "booking": "drop-in",
        "categories": ["digital-inclusion"],
        "rrule": "FREQ=WEEKLY;BYDAY=TU"
    });
    let res = app.http.post("/api/v1/groups/wigan-techmates/events").token(&owner.token).json(&event).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let eid = res.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .http
        .put(&format!("/api/v1/events/{eid}/occurrences/2026-04-07T10:00"))
        .token(&owner.token)
        .json(&json!({ "status": "cancelled", "reason": "Library closed for Easter" }))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.text);
    (owner.token, eid)
}

#[tokio::test]
async fn a_group_page_shows_the_group_its_dates_and_its_organization_json_ld() {
    let app = app().await;
    let (_, eid) = techmates_with_series(&app).await;
    let res = page(&app, "/groups/wigan-techmates").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    let html = &res.text;
    for text in [
        "<html lang=\"en-GB\">",
        "<h1>Wigan TechMates</h1>",
        "Tea, cake and friendly help with phones and tablets",
        "We meet <strong>every Tuesday</strong> at Wigan Library.",
        "Verified: Registered charity (England and Wales) 1123456",
        "Digital skills",
        "Older people",
        "href=\"/places/WN1\"",
        "Every Tuesday, 10:00 to 12:00",
        "Next: Tuesday 31 March 2026, 10:00 to 12:00 BST",
        "mailto:techmates@example.org",
        "Anyone can join: sign in and choose Join.",
        "href=\"/api/v1/groups/wigan-techmates/calendar.ics\"",
        "<a class=\"skip-link\" href=\"#main\">",
        "<link rel=\"canonical\" href=\"http://127.0.0.1:8080/groups/wigan-techmates\">",
        "<meta property=\"og:title\" content=\"Wigan TechMates – Community Scaffold\">",
    ] {
        assert!(html.contains(text), "the group page shows {text:?}:\n{html}");
    }
    assert!(!html.contains("<script>alert"), "text is escaped");
    let ld = json_ld(html);
    assert_eq!((ld["@context"].clone(), ld["@type"].clone()), (json!("https://schema.org"), json!("Organization")));
    assert_eq!(ld["name"], "Wigan TechMates");
    assert_eq!(ld["url"], "http://127.0.0.1:8080/groups/wigan-techmates");
    assert_eq!(ld["identifier"][0], json!({ "@type": "PropertyValue", "propertyID": "GB-CHC", "value": "1123456" }));
    let first = &ld["event"][0];
    assert_eq!(first["url"], format!("http://127.0.0.1:8080/events/{eid}"));
    assert_eq!(first["startDate"], "2026-03-31T10:00:00+01:00", "local time with its offset");

    // The calendar link works.
    let ics = app.http.get("/api/v1/groups/wigan-techmates/calendar.ics").send().await;
    assert_eq!(ics.status, 200, "{}", ics.text);
}

#[tokio::test]
async fn an_event_page_says_the_series_in_words_and_lists_dates_with_changes() {
    let app = app().await;
    let (_, eid) = techmates_with_series(&app).await;
    let res = page(&app, &format!("/events/{eid}")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let html = &res.text;
    for text in [
        "<h1>TechMates tea party</h1>",
        "Run by <a href=\"/groups/wigan-techmates\">Wigan TechMates</a>",
        "Every Tuesday, 10:00 to 12:00",
        "Times are local to Europe/London.",
        "Tuesday 31 March 2026, 10:00 to 12:00 BST",
        "Tuesday 7 April 2026, 10:00 to 12:00 BST</span> <strong class=\"status\">Cancelled: Library closed for Easter",
        "Wigan Library<br>The Wiend<br>WN1 1NU",
        "https://www.openstreetmap.org/search?query=WN1%201NU",
        "Step-free access",
        "Hearing loop",
        "Drop in: no need to book.",
        "Cost: Free",
        "Bring your <strong>own</strong> device.",
        &format!("href=\"/api/v1/events/{eid}/calendar.ics\""),
    ] {
        assert!(html.contains(text), "the event page shows {text:?}:\n{html}");
    }
    assert!(!html.contains("</script><script>alert"), "the summary is escaped in the page and the JSON-LD");
    let ld = json_ld(html);
    assert_eq!(ld["@type"], "Event");
    assert_eq!(ld["description"], "Tea, cake & help with phones </script><script>alert(1)</script>");
    assert_eq!(
        (ld["startDate"].clone(), ld["endDate"].clone()),
        (json!("2026-03-31T10:00:00+01:00"), json!("2026-03-31T12:00:00+01:00"))
    );
    assert_eq!(ld["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(ld["eventAttendanceMode"], "https://schema.org/OfflineEventAttendanceMode");
    assert_eq!(ld["location"]["@type"], "Place");
    assert_eq!(ld["location"]["address"]["postalCode"], "WN1 1NU");
    assert_eq!(
        ld["organizer"],
        json!({ "@type": "Organization", "name": "Wigan TechMates", "url": "http://127.0.0.1:8080/groups/wigan-techmates" })
    );
    assert_eq!(ld["isAccessibleForFree"], true);
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_an_etag_answered_with_not_modified() {
    let app = app().await;
    let (owner, _) = techmates_with_series(&app).await;
    let res = page(&app, "/groups/wigan-techmates").await;
    let csp = res.header("content-security-policy").unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"), "no script may run: {csp}");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("referrer-policy"), Some("same-origin"), "pages send their address to this site only");
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    let etag = res.header("etag").unwrap().to_owned();
    let again = app.http.get("/groups/wigan-techmates").header("if-none-match", &etag).send().await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());

    // A change to the group is on the next read.
    let api = app.http.get("/api/v1/groups/wigan-techmates").send().await;
    let path = format!("/api/v1/groups/{}", api.json()["id"].as_str().unwrap());
    let version = api.header("etag").unwrap().to_owned();
    let owner_changes = app
        .http
        .patch(&path)
        .token(&owner)
        .header("if-match", &version)
        .json(&json!({ "summary": "Now with biscuits" }))
        .send()
        .await;
    assert!(owner_changes.status.is_success(), "{}", owner_changes.text);
    let changed = app.http.get("/groups/wigan-techmates").header("if-none-match", &etag).send().await;
    assert_eq!(changed.status, 200);
    assert!(changed.text.contains("Now with biscuits"));

    // The stylesheet the pages link to is served, cacheable for a year.
    let start = res.text.find("<link rel=\"stylesheet\" href=\"").unwrap() + 29;
    let href = &res.text[start..start + res.text[start..].find('"').unwrap()];
    let css = app.http.get(href).send().await;
    assert_eq!(css.status, 200, "{href}");
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
}

#[tokio::test]
async fn browsers_get_html_error_pages_and_api_clients_keep_problems() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(
        &owner.token,
        json!({ "slug": "secret-club", "name": "Secret club", "summary": "Hidden", "visibility": "private" }),
    )
    .await;
    for path in [
        "/groups/no-such-group",
        "/groups/secret-club",
        "/events/not-an-id",
        "/events/01890000-0000-7000-8000-000000000000",
        "/places/ZZ99",
        "/nowhere",
    ] {
        let res = page(&app, path).await;
        assert_eq!(res.status, 404, "{path}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"), "{path}");
        assert!(res.text.contains("<h1>Page not found</h1>"), "{path}");
        assert!(!res.text.contains("Secret club"), "a private group is not shown");
    }
    // The API and unknown routes asked for without HTML stay problem+json.
    app.http.get("/api/v1/groups/no-such-group").header("accept", HTML).send().await.problem(404, "GROUP_NOT_FOUND");
    app.http.get("/nowhere").send().await.problem(404, "ROUTE_NOT_FOUND");
}

#[tokio::test]
async fn the_home_search_finds_dates_by_place_and_keeps_what_was_typed_beside_its_error() {
    let app = app().await;
    techmates_with_series(&app).await;
    let res = page(&app, "/").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("<label for=\"place\">Postcode or area</label>"));
    assert!(res.text.contains("TechMates tea party"), "upcoming dates without a search");

    let res = page(&app, "/?place=wn1+1nu&category=digital-inclusion&accessibility=step-free&date=2026-03-31").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("Tuesday 31 March 2026, 10:00 to 12:00 BST"), "{}", res.text);
    assert!(res.text.contains("<option value=\"digital-inclusion\" selected>Digital skills</option>"));
    let res = page(&app, "/?place=wn1+1nu&accessibility=sign-language").await;
    assert!(res.text.contains("No events found"), "filtered by access needs");

    let res = page(&app, "/?place=ZZ99&q=tea+%3Cb%3E&date=31%2F03%2F2026").await;
    assert_eq!(res.status, 200);
    let html = &res.text;
    assert!(html.contains("<title>Error: find groups and events – Community Scaffold</title>"));
    assert!(html.contains("<h2 id=\"error-summary-title\">There is a problem</h2>"));
    assert!(html.contains("<a href=\"#date\">Enter a date as year-month-day"), "{html}");
    assert!(html.contains("<a href=\"#place\">Enter a UK postcode"), "every mistake at once: {html}");
    assert!(html.contains("value=\"ZZ99\""), "the place typed is kept");
    assert!(html.contains("value=\"tea &#60;b&#62;\"") || html.contains("value=\"tea &lt;b&gt;\""), "{html}");
    assert!(html.contains("value=\"31/03/2026\""), "the date typed is kept");
    assert!(html.contains("aria-invalid=\"true\""));
    let res = page(&app, "/?place=ZZ99").await;
    assert!(res.text.contains("<a href=\"#place\">Enter a UK postcode"), "{}", res.text);
}

#[tokio::test]
async fn a_place_page_lists_the_groups_there_and_the_sitemap_lists_public_pages() {
    let app = app().await;
    let (_, eid) = techmates_with_series(&app).await;
    let owner = app.person("Bea", ORGANISER).await;
    app.group(&owner.token, json!({ "slug": "secret-club", "name": "Secret club", "summary": "Hidden", "visibility": "private", "area": { "outcode": "WN1" } }))
        .await;
    let res = page(&app, "/places/wn1").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("<h1>Groups and events in WN1</h1>"));
    assert!(res.text.contains("<a href=\"/groups/wigan-techmates\">Wigan TechMates</a>"));
    assert!(res.text.contains("TechMates tea party"));
    assert!(!res.text.contains("Secret club"));

    let res = app.http.get("/sitemap.xml").send().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("application/xml; charset=utf-8"));
    for url in
        ["http://127.0.0.1:8080/", "http://127.0.0.1:8080/groups/wigan-techmates", "http://127.0.0.1:8080/places/WN1"]
    {
        assert!(res.text.contains(&format!("<loc>{url}</loc>")), "{url} in\n{}", res.text);
    }
    assert!(res.text.contains(&format!("<loc>http://127.0.0.1:8080/events/{eid}</loc>")));
    assert!(!res.text.contains("secret-club"));
    let robots = app.http.get("/robots.txt").send().await;
    assert!(robots.text.contains("Sitemap: http://127.0.0.1:8080/sitemap.xml"), "{}", robots.text);
}

#[tokio::test]
async fn posters_carry_a_qr_code_and_only_the_embed_may_be_framed() {
    let app = app().await;
    let (_, eid) = techmates_with_series(&app).await;
    let res = page(&app, "/groups/wigan-techmates").await;
    assert!(res.text.contains("href=\"/groups/wigan-techmates/poster\""));
    assert!(
        res.text.contains("&#60;iframe src=&#34;http://127.0.0.1:8080/embed/groups/wigan-techmates&#34; title=&#34;Events of Wigan TechMates&#34;"),
        "the snippet to paste, escaped: {}",
        res.text
    );

    let poster = page(&app, "/groups/wigan-techmates/poster").await;
    assert_eq!(poster.status, 200, "{}", poster.text);
    assert!(
        poster
            .text
            .contains("<svg role=\"img\" aria-label=\"QR code for http://127.0.0.1:8080/groups/wigan-techmates\"")
    );
    assert!(poster.text.contains("Tea, cake and friendly help with phones and tablets"));
    assert!(poster.text.contains("TechMates tea party: Every Tuesday, 10:00 to 12:00"));
    assert_eq!(poster.header("x-frame-options"), Some("DENY"));
    let poster = page(&app, &format!("/events/{eid}/poster")).await;
    assert_eq!(poster.status, 200, "{}", poster.text);
    for text in [
        "Every Tuesday, 10:00 to 12:00",
        "Wigan Library, The Wiend, WN1 1NU",
        "Free. Drop in",
        "Tuesday 31 March 2026, 10:00 to 12:00 BST",
    ] {
        assert!(poster.text.contains(text), "{text}: {}", poster.text);
    }
    assert!(!poster.text.contains("Tuesday 7 April 2026"), "a cancelled date is not advertised");
    assert!(poster.text.contains(&format!("aria-label=\"QR code for http://127.0.0.1:8080/events/{eid}\"")));

    let embed = page(&app, "/embed/groups/wigan-techmates").await;
    assert_eq!(embed.status, 200, "{}", embed.text);
    let csp = embed.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors *") && !csp.contains("script-src"), "{csp}");
    assert_eq!(embed.header("x-frame-options"), None, "the embed may be framed");
    assert!(
        embed.text.contains(&format!("href=\"http://127.0.0.1:8080/events/{eid}\" target=\"_blank\" rel=\"noopener\""))
    );
    for other in ["/groups/wigan-techmates", "/"] {
        let res = page(&app, other).await;
        assert!(res.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"), "{other}");
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{other}");
    }

    let owner = app.person("Bea", ORGANISER).await;
    app.group(
        &owner.token,
        json!({ "slug": "secret-club", "name": "Secret club", "summary": "Hidden", "visibility": "private" }),
    )
    .await;
    for path in ["/embed/groups/secret-club", "/groups/secret-club/poster"] {
        assert_eq!(page(&app, path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_sign_in_link_signs_a_person_in_once_and_only_from_these_pages() {
    let (app, clock) = crate::common::app_with_clock(Default::default()).await;
    let member = app.member("Mo").await;
    let links = "/api/v1/sign-in-links";
    app.http
        .post(links)
        .token(&member.token)
        .json(&json!({ "display_name": "Ada" }))
        .send()
        .await
        .problem(403, "INSUFFICIENT_SCOPE");
    let before = app.state().await;
    for bad in [
        json!({}),
        json!({ "display_name": "Ada", "person_id": member.id }),
        json!({ "display_name": "Ada", "expires_in_minutes": 0 }),
    ] {
        app.http.post(links).token(&app.operator).json(&bad).send().await.problem(422, "VALIDATION_FAILED");
    }
    app.http
        .post(links)
        .token(&app.operator)
        .json(&json!({ "person_id": "01890000-0000-7000-8000-000000000000" }))
        .send()
        .await
        .problem(404, "PERSON_NOT_FOUND");
    assert_eq!(app.state().await, before, "refused requests change nothing");

    let res = app.http.post(links).token(&app.operator).json(&json!({ "display_name": "Ada" })).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let url = res.json()["url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix("http://127.0.0.1:8080").expect("an address on this instance").to_owned();
    assert!(path.starts_with("/sign-in/"), "{path}");
    let token = path.trim_start_matches("/sign-in/");
    let audit = app.http.get("/api/v1/audit?limit=5").token(&app.operator).send().await;
    assert!(audit.text.contains("person.sign_in_link"));
    assert!(!audit.text.contains(token), "the token is not kept in the audit log");

    // Opening the link shows a button; it does not sign in (a link preview must not spend it).
    let page_res = page(&app, &path).await;
    assert_eq!(page_res.status, 200);
    assert!(page_res.text.contains(&format!("<form method=\"post\" action=\"{path}\">")), "{}", page_res.text);
    assert_eq!(page_res.header("cache-control"), Some("no-store"));
    // A form on another site cannot use it.
    let res = app.http.post(&path).header("accept", HTML).header("origin", "https://evil.example").send().await;
    assert_eq!(res.status, 403);
    assert!(res.header("set-cookie").is_none());

    let res = app.http.post(&path).header("accept", HTML).header("origin", "http://127.0.0.1:8080").send().await;
    assert_eq!(res.status, 303, "{}", res.text);
    assert_eq!(res.header("location"), Some("/me"));
    let cookie = res.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-scaffold-session=") && cookie.contains("HttpOnly") && cookie.contains("Secure"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let me = app.http.get("/me").header("cookie", &session).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert!(me.text.contains("Signed in as <strong>Ada</strong>"));
    assert_eq!(me.header("cache-control"), Some("no-store"));
    let api = app.http.get("/api/v1/me").header("cookie", &session).send().await;
    assert_eq!(api.json()["display_name"], "Ada", "an ordinary session");

    // Once only.
    let again = app.http.post(&path).header("accept", HTML).send().await;
    assert_eq!(again.status, 410);
    assert!(again.text.contains("This sign-in link cannot be used"));

    // A link for an existing person, used after it expired.
    let ada = api.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .http
        .post(links)
        .token(&app.operator)
        .json(&json!({ "person_id": ada, "expires_in_minutes": 5 }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let late = res.json()["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:8080").to_owned();
    clock.advance(chrono::Duration::minutes(6));
    assert_eq!(app.http.post(&late).header("accept", HTML).send().await.status, 410);

    // Signed out, `/me` sends the browser to sign in; with no provider configured it explains
    // how to get a link.
    let res = app.http.get("/me").send().await;
    assert_eq!((res.status.as_u16(), res.header("location")), (303, Some("/sign-in")));
    let res = page(&app, "/sign-in").await;
    assert!(res.text.contains("Ask them for one"), "{}", res.text);
}

/// Signs a new person in with a sign-in link and returns their session cookie (`name=value`).
pub async fn signed_in(app: &TestApp, name: &str) -> String {
    let res =
        app.http.post("/api/v1/sign-in-links").token(&app.operator).json(&json!({ "display_name": name })).send().await;
    let path = res.json()["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:8080").to_owned();
    let res = app.http.post(&path).header("origin", "http://127.0.0.1:8080").send().await;
    assert_eq!(res.status, 303, "{}", res.text);
    res.header("set-cookie").unwrap().split(';').next().unwrap().to_owned()
}

pub fn form_token(html: &str) -> String {
    let start = html.find("name=\"form_token\" value=\"").expect("a form token") + 25;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Creates a group through the form as the person signed in with `cookie` (its owner), with the
/// welcoming-space guidelines and `fields` besides; returns the session's form token.
async fn group_through_form(app: &TestApp, cookie: &str, fields: &[(&str, &str)]) -> String {
    let token = form_token(&app.http.get("/groups/new").header("cookie", cookie).send().await.text);
    let mut form = vec![("form_token", token.as_str()), ("guidelines", "welcoming-space")];
    form.extend_from_slice(fields);
    let res = post_form(app, "/groups/new", cookie, &form).await;
    assert_eq!(res.status, 303, "{}", res.text);
    token
}

pub async fn post_form(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> TestResponse {
    let body: String = form
        .iter()
        .map(|(k, v)| {
            format!("{k}={}", v.replace('%', "%25").replace('&', "%26").replace('+', "%2B").replace(' ', "+"))
        })
        .collect::<Vec<_>>()
        .join("&");
    app.http
        .post(path)
        .header("cookie", cookie)
        .header("origin", "http://127.0.0.1:8080")
        .header("accept", HTML)
        .body("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await
}

#[tokio::test]
async fn an_organiser_creates_a_group_and_a_weekly_event_through_the_forms() {
    let app = app().await;
    assert_eq!(app.http.get("/groups/new").send().await.header("location"), Some("/sign-in"), "signed out");
    let ada = signed_in(&app, "Ada").await;
    let me = app.http.get("/me").header("cookie", &ada).send().await;
    assert!(me.text.contains("<a href=\"/groups/new\">Create a group</a>"));
    let form = app.http.get("/groups/new").header("cookie", &ada).send().await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("<label for=\"name\">Name of the group</label>"));
    let token = form_token(&form.text);

    // Not from our page: refused, nothing made.
    let good = [
        ("form_token", token.as_str()),
        ("name", "Tea and Cake Club"),
        ("summary", "Tea, cake and a chat"),
        ("outcode", "WN1"),
        ("categories", "food"),
        ("categories", "older-people"),
        ("join_policy", "open"),
        ("guidelines", "welcoming-space"),
    ];
    let mut forged = good.to_vec();
    forged[0] = ("form_token", "forged");
    assert_eq!(post_form(&app, "/groups/new", &ada, &forged).await.status, 403);
    let other_site = app
        .http
        .post("/groups/new")
        .header("cookie", &ada)
        .header("origin", "https://evil.example")
        .body("application/x-www-form-urlencoded", format!("form_token={token}&name=Evil+club&summary=x").into_bytes())
        .send()
        .await;
    assert_eq!(other_site.status, 403);

    // Mistakes are shown beside their fields, and everything typed is kept.
    let bad = [
        ("form_token", token.as_str()),
        ("name", "Te"),
        ("summary", ""),
        ("outcode", "ZZ99"),
        ("categories", "food"),
        ("join_policy", "approval"),
        ("description", "Our <b>club</b>"),
    ];
    let res = post_form(&app, "/groups/new", &ada, &bad).await;
    assert_eq!(res.status, 422, "{}", res.text);
    let html = &res.text;
    assert!(html.contains("<title>Error: Create a group – Community Scaffold</title>"));
    for text in [
        "<a href=\"#name\">Name of the group:",
        "<a href=\"#summary\">In one line, what the group does:",
        "<a href=\"#outcode\">Area:",
        "id=\"name\" name=\"name\" type=\"text\" value=\"Te\"",
        "value=\"ZZ99\"",
        "id=\"categories-food\" name=\"categories\" value=\"food\" checked",
        "id=\"join_policy-approval\" name=\"join_policy\" value=\"approval\" checked",
        "&#60;b&#62;club&#60;/b&#62;</textarea>",
        "(TOO_SHORT)",
    ] {
        assert!(html.contains(text), "{text}: {html}");
    }
    assert_eq!(app.http.get("/api/v1/groups/tea-and-cake-club").send().await.status, 404, "nothing was made");

    let res = post_form(&app, "/groups/new", &ada, &good).await;
    assert_eq!((res.status.as_u16(), res.header("location")), (303, Some("/groups/tea-and-cake-club")), "{}", res.text);
    let group = page(&app, "/groups/tea-and-cake-club").await;
    assert!(
        group.text.contains("<h1>Tea and Cake Club</h1>")
            && group.text.contains("We want everyone who comes along to feel welcome")
    );
    let again = post_form(&app, "/groups/new", &ada, &good).await;
    assert_eq!(again.status, 422, "the same address twice is refused: {}", again.text);
    assert!(again.text.contains("<a href=\"#slug\">"), "{}", again.text);

    // An event: a weekly series.
    let me = app.http.get("/me").header("cookie", &ada).send().await;
    assert!(me.text.contains("href=\"/groups/tea-and-cake-club/events/new\""), "{}", me.text);
    let form = app.http.get("/groups/tea-and-cake-club/events/new").header("cookie", &ada).send().await;
    assert_eq!(form.status, 200);
    let token = form_token(&form.text);
    let mut event = vec![
        ("form_token", token.as_str()),
        ("title", "Tuesday tea"),
        ("summary", "Tea and cake every week"),
        ("date", "2026-03-31"),
        ("start_time", "10:00"),
        ("end_time", ""),
        ("repeats", "weekly"),
        ("place_name", "Wigan Library"),
        ("postcode", "WN1 1NU"),
        ("accessibility", "step-free"),
        ("booking", "drop-in"),
        ("price", "two pounds"),
    ];
    let res = post_form(&app, "/groups/tea-and-cake-club/events/new", &ada, &event).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.text.contains("<a href=\"#end_time\">Ends at: Enter the end time"), "{}", res.text);
    assert!(res.text.contains("<a href=\"#price\">Price in pounds:"));
    assert!(res.text.contains("value=\"Tuesday tea\"") && res.text.contains("value=\"two pounds\""));
    assert!(res.text.contains("id=\"accessibility-step-free\" name=\"accessibility\" value=\"step-free\" checked"));
    event[5] = ("end_time", "12:00");
    event[11] = ("price", "");
    let res = post_form(&app, "/groups/tea-and-cake-club/events/new", &ada, &event).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let location = res.header("location").unwrap().to_owned();
    let event_page = page(&app, &location).await;
    assert!(event_page.text.contains("Every Tuesday, 10:00 to 12:00"), "{}", event_page.text);
    assert!(event_page.text.contains("Tuesday 31 March 2026, 10:00 to 12:00 BST"));
    assert!(event_page.text.contains("Step-free access") && event_page.text.contains("Cost: Free"));

    // Someone who is not an organiser of the group cannot add events to it.
    let bea = signed_in(&app, "Bea").await;
    let form = app.http.get("/me").header("cookie", &bea).send().await;
    assert!(!form.text.contains("events/new"));
    let token = form_token(&app.http.get("/groups/new").header("cookie", &bea).send().await.text);
    let mut theirs = event.clone();
    theirs[0] = ("form_token", token.as_str());
    let res = post_form(&app, "/groups/tea-and-cake-club/events/new", &bea, &theirs).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
}

#[tokio::test]
async fn a_resident_joins_a_group_from_its_page() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, techmates()).await;
    app.group(
        &owner.token,
        json!({ "slug": "book-club", "name": "Book club", "summary": "Books", "join_policy": "approval" }),
    )
    .await;
    app.group(&owner.token, json!({ "slug": "choir", "name": "Choir", "summary": "Singing", "join_policy": "invite" }))
        .await;
    let group = page(&app, "/groups/wigan-techmates").await;
    assert!(group.text.contains("<a href=\"/groups/wigan-techmates/join\">Join Wigan TechMates</a>"), "{}", group.text);
    assert!(!page(&app, "/groups/choir").await.text.contains("/groups/choir/join"), "invitation only");
    assert_eq!(app.http.get("/groups/wigan-techmates/join").send().await.header("location"), Some("/sign-in"));

    let bea = signed_in(&app, "Bea").await;
    let form = app.http.get("/groups/wigan-techmates/join").header("cookie", &bea).send().await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("<button type=\"submit\">Join the group</button>"));
    let token = form_token(&form.text);
    assert_eq!(post_form(&app, "/groups/wigan-techmates/join", &bea, &[("form_token", "forged")]).await.status, 403);
    let res = post_form(&app, "/groups/wigan-techmates/join", &bea, &[("form_token", &token)]).await;
    assert_eq!((res.status.as_u16(), res.header("location")), (303, Some("/me")), "{}", res.text);
    let res = post_form(&app, "/groups/book-club/join", &bea, &[("form_token", &token)]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let me = app.http.get("/me").header("cookie", &bea).send().await;
    assert!(
        me.text.contains("<a href=\"/groups/wigan-techmates\">Wigan TechMates</a> <span>Member</span>"),
        "{}",
        me.text
    );
    assert!(me.text.contains("<a href=\"/groups/book-club\">Book club</a> <span>Member (waiting for approval)</span>"));
    let again = app.http.get("/groups/wigan-techmates/join").header("cookie", &bea).send().await;
    assert!(again.text.contains("You are a member of this group."));
    let choir = app.http.get("/groups/choir/join").header("cookie", &bea).send().await;
    assert!(!choir.text.contains("<button"), "no button for an invitation-only group");
    assert_eq!(post_form(&app, "/groups/choir/join", &bea, &[("form_token", &token)]).await.status, 403);
    let id = app.http.get("/api/v1/groups/wigan-techmates").send().await.json()["id"].as_str().unwrap().to_owned();
    let members = app.http.get(&format!("/api/v1/groups/{id}/members")).token(&owner.token).send().await;
    assert_eq!(members.json()["items"].as_array().unwrap().len(), 2, "{}", members.text);
}

fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn an_organiser_edits_the_group_page_and_a_stale_form_loses_nothing() {
    let app = app().await;
    let ada = signed_in(&app, "Ada").await;
    let token = form_token(&app.http.get("/groups/new").header("cookie", &ada).send().await.text);
    let created = post_form(
        &app,
        "/groups/new",
        &ada,
        &[
            ("form_token", &token),
            ("name", "Tea and Cake Club"),
            ("summary", "Tea"),
            ("outcode", "WN1"),
            ("categories", "food"),
            ("join_policy", "open"),
            ("guidelines", "welcoming-space"),
        ],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.text);
    let me = app.http.get("/me").header("cookie", &ada).send().await;
    assert!(me.text.contains("href=\"/groups/tea-and-cake-club/edit\""));

    let form = app.http.get("/groups/tea-and-cake-club/edit").header("cookie", &ada).send().await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.text.contains("value=\"Tea and Cake Club\"") && form.text.contains("value=\"food\" checked"),
        "the form shows the group as it is"
    );
    assert!(!form.text.contains("name=\"slug\""), "the address stays");
    let version = hidden(&form.text, "version");
    let edit = |summary: &'static str, version: String| {
        vec![
            ("form_token", token.clone()),
            ("version", version),
            ("name", "Tea and Cake Club".to_owned()),
            ("summary", summary.to_owned()),
            ("outcode", "WN1".to_owned()),
            ("categories", "food".to_owned()),
            ("categories", "older-people".to_owned()),
            ("join_policy", "approval".to_owned()),
            ("guidelines", "none".to_owned()),
        ]
    };

    let first = edit("Tea, cake and a chat", version.clone());
    let res = post_form(&app, "/groups/tea-and-cake-club/edit", &ada, &as_refs(&first)).await;
    assert_eq!((res.status.as_u16(), res.header("location")), (303, Some("/groups/tea-and-cake-club")), "{}", res.text);
    let group = page(&app, "/groups/tea-and-cake-club").await;
    assert!(
        group.text.contains("Tea, cake and a chat")
            && group.text.contains("Older people")
            && group.text.contains("Ask to join")
    );
    assert!(group.text.contains("We want everyone who comes along to feel welcome"), "guidelines kept");

    // A form opened before that change: nothing typed is lost, and it can be sent again.
    let stale = edit("Now on Thursdays", version);
    let res = post_form(&app, "/groups/tea-and-cake-club/edit", &ada, &as_refs(&stale)).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(
        res.text.contains("Someone else changed this group") && res.text.contains("value=\"Now on Thursdays\""),
        "{}",
        res.text
    );
    let current = hidden(&res.text, "version");
    let res =
        post_form(&app, "/groups/tea-and-cake-club/edit", &ada, &as_refs(&edit("Now on Thursdays", current))).await;
    assert_eq!(res.status, 303, "{}", res.text);
    assert!(page(&app, "/groups/tea-and-cake-club").await.text.contains("Now on Thursdays"));

    // Mistakes beside their fields; someone who does not run the group cannot edit it.
    let form = app.http.get("/groups/tea-and-cake-club/edit").header("cookie", &ada).send().await;
    let mut bad = edit("", hidden(&form.text, "version"));
    bad[2].1 = "X".to_owned();
    let res = post_form(&app, "/groups/tea-and-cake-club/edit", &ada, &as_refs(&bad)).await;
    assert_eq!(res.status, 422);
    assert!(
        res.text.contains("<a href=\"#name\">Name of the group:") && res.text.contains("value=\"X\""),
        "{}",
        res.text
    );
    let bea = signed_in(&app, "Bea").await;
    let theirs = form_token(&app.http.get("/groups/new").header("cookie", &bea).send().await.text);
    let mut forged = edit("Hijacked", hidden(&form.text, "version"));
    forged[0].1 = theirs;
    assert_eq!(post_form(&app, "/groups/tea-and-cake-club/edit", &bea, &as_refs(&forged)).await.status, 403);
    assert!(!page(&app, "/groups/tea-and-cake-club").await.text.contains("Hijacked"));
}

#[tokio::test]
async fn an_organiser_cancels_moves_and_restores_one_date_of_a_series() {
    let app = app().await;
    let ada = signed_in(&app, "Ada").await;
    let token = group_through_form(
        &app,
        &ada,
        &[("name", "Tea and Cake Club"), ("summary", "Tea"), ("outcode", "WN1"), ("join_policy", "open")],
    )
    .await;
    let event = [
        ("form_token", token.as_str()),
        ("title", "Tuesday tea"),
        ("summary", "Tea every week"),
        ("date", "2026-03-31"),
        ("start_time", "10:00"),
        ("end_time", "12:00"),
        ("repeats", "weekly"),
        ("place_name", "Wigan Library"),
        ("postcode", "WN1 1NU"),
        ("booking", "drop-in"),
    ];
    let res = post_form(&app, "/groups/tea-and-cake-club/events/new", &ada, &event).await;
    let event_path = res.header("location").unwrap().to_owned();
    assert!(page(&app, &event_path).await.text.contains(&format!("href=\"{event_path}/dates\"")));

    let dates = app.http.get(&format!("{event_path}/dates")).header("cookie", &ada).send().await;
    assert_eq!(dates.status, 200, "{}", dates.text);
    let change = format!("{event_path}/dates/2026-04-07T10:00");
    assert!(dates.text.contains(&format!("href=\"{change}\"")), "{}", dates.text);
    let form = app.http.get(&change).header("cookie", &ada).send().await;
    assert!(form.text.contains("It is cancelled"));

    let res = post_form(
        &app,
        &change,
        &ada,
        &[("form_token", &token), ("what", "cancelled"), ("reason", "Library closed for Easter")],
    )
    .await;
    assert_eq!(
        (res.status.as_u16(), res.header("location")),
        (303, Some(format!("{event_path}/dates").as_str())),
        "{}",
        res.text
    );
    assert!(page(&app, &event_path).await.text.contains("Cancelled: Library closed for Easter"));

    let res = post_form(
        &app,
        &change,
        &ada,
        &[
            ("form_token", &token),
            ("what", "moved"),
            ("new_date", "2026-04-08"),
            ("new_start", "14:00"),
            ("new_end", "13:00"),
        ],
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(
        res.text.contains("<a href=\"#new_end\">New end time (when it moves):")
            && res.text.contains("value=\"2026-04-08\""),
        "{}",
        res.text
    );
    let res = post_form(
        &app,
        &change,
        &ada,
        &[
            ("form_token", &token),
            ("what", "moved"),
            ("new_date", "2026-04-08"),
            ("new_start", "14:00"),
            ("new_end", "16:00"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.text);
    let moved = page(&app, &event_path).await.text;
    assert!(
        moved.contains(
            "Wednesday 8 April 2026, 14:00 to 16:00 BST</span> <strong class=\"status\">Moved from its usual time"
        ),
        "{moved}"
    );

    let res = post_form(&app, &change, &ada, &[("form_token", &token), ("what", "usual")]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let restored = page(&app, &event_path).await.text;
    assert!(
        restored.contains("Tuesday 7 April 2026, 10:00 to 12:00 BST</span></li>"),
        "back to the series: {restored}"
    );

    let bea = signed_in(&app, "Bea").await;
    let theirs = form_token(&app.http.get("/groups/new").header("cookie", &bea).send().await.text);
    let res = post_form(&app, &change, &bea, &[("form_token", &theirs), ("what", "cancelled")]).await;
    assert_eq!(res.status, 403, "{}", res.text);
}

#[tokio::test]
async fn an_organiser_approves_a_join_request_from_the_members_page() {
    let app = app().await;
    let ada = signed_in(&app, "Ada").await;
    let token =
        group_through_form(&app, &ada, &[("name", "Book Club"), ("summary", "Books"), ("join_policy", "approval")])
            .await;
    let bea = signed_in(&app, "Bea").await;
    let theirs = form_token(&app.http.get("/groups/new").header("cookie", &bea).send().await.text);
    assert_eq!(post_form(&app, "/groups/book-club/join", &bea, &[("form_token", &theirs)]).await.status, 303);
    assert_eq!(
        app.http.get("/groups/book-club/members").header("cookie", &bea).send().await.status,
        403,
        "not a member yet"
    );

    let me = app.http.get("/me").header("cookie", &ada).send().await;
    assert!(me.text.contains("href=\"/groups/book-club/members\""));
    let members = app.http.get("/groups/book-club/members").header("cookie", &ada).send().await;
    assert_eq!(members.status, 200, "{}", members.text);
    let requests =
        &members.text[members.text.find("Asking to join").unwrap()..members.text.find("id=\"members-title\"").unwrap()];
    assert!(requests.contains("Bea"), "{}", members.text);
    let start = members.text.find("action=\"/groups/book-club/members/").unwrap() + 8;
    let approve = members.text[start..start + members.text[start..].find('"').unwrap()].to_owned();
    assert_eq!(post_form(&app, &approve, &ada, &[("form_token", "forged")]).await.status, 403);
    assert_eq!(
        post_form(&app, &approve, &bea, &[("form_token", &theirs)]).await.status,
        403,
        "not by the person asking"
    );
    let res = post_form(&app, &approve, &ada, &[("form_token", &token)]).await;
    assert_eq!((res.status.as_u16(), res.header("location")), (303, Some("/groups/book-club/members")), "{}", res.text);
    let members = app.http.get("/groups/book-club/members").header("cookie", &ada).send().await;
    assert!(
        members.text.contains("Nobody is waiting.") && members.text.contains("Bea <span>Member</span>"),
        "{}",
        members.text
    );
    let me = app.http.get("/me").header("cookie", &bea).send().await;
    assert!(me.text.contains("<a href=\"/groups/book-club\">Book Club</a> <span>Member</span>"), "{}", me.text);

    // Roles: Bea becomes an organiser; the last owner cannot step down; then Bea is removed.
    let bea_id = approve.trim_end_matches("/approve").rsplit('/').next().unwrap().to_owned();
    let role = format!("/groups/book-club/members/{bea_id}/role");
    assert_eq!(post_form(&app, &role, &bea, &[("form_token", &theirs), ("role", "owner")]).await.status, 403);
    let res = post_form(&app, &role, &ada, &[("form_token", &token), ("role", "organiser")]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let members = app.http.get("/groups/book-club/members").header("cookie", &ada).send().await.text;
    assert!(members.contains("Bea <span>Organiser</span>"), "{members}");
    assert!(members.contains(&format!("<label for=\"role-{bea_id}\">Role of Bea</label>")), "{members}");
    let ada_id = members
        .split("action=\"/groups/book-club/members/")
        .skip(1)
        .filter_map(|p| p.split('/').next())
        .find(|id| *id != bea_id)
        .unwrap()
        .to_owned();
    let res = post_form(
        &app,
        &format!("/groups/book-club/members/{ada_id}/role"),
        &ada,
        &[("form_token", &token), ("role", "member")],
    )
    .await;
    assert_eq!(res.status, 409, "the group keeps an owner: {}", res.text);
    let res = post_form(&app, &role, &ada, &[("form_token", &token), ("role", "emperor")]).await;
    assert_eq!(res.status, 422);
    let res =
        post_form(&app, &format!("/groups/book-club/members/{bea_id}/remove"), &ada, &[("form_token", &token)]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let members = app.http.get("/groups/book-club/members").header("cookie", &ada).send().await.text;
    assert!(!members.contains("Bea"), "{members}");
}

#[tokio::test]
async fn the_event_form_keeps_what_it_does_not_show() {
    let app = app().await;
    let ada = signed_in(&app, "Ada").await;
    let token =
        group_through_form(&app, &ada, &[("name", "Swim Club"), ("summary", "Swims"), ("join_policy", "open")]).await;
    let body = json!({
        "title": "Lane swim", "summary": "Lengths", "start": "2026-04-07T10:00", "end": "2026-04-07T11:00",
        "rrule": "INTERVAL=2;FREQ=WEEKLY;UNTIL=20261229T100000Z", "exdates": ["2026-04-21T10:00"],
        "place": { "name": "Robin Park", "postcode": "WN5 0UH" }, "booking": "rsvp", "capacity": 12,
        "online_url": "https://example.org/live", "categories": ["sport-physical-activity"], "min_age": 16,
        "accessibility_notes": "Hoist at the shallow end", "status": "postponed", "status_reason": "Pool repairs"
    });
    let res = app
        .http
        .post("/api/v1/groups/swim-club/events")
        .header("cookie", &ada)
        .header("origin", "http://127.0.0.1:8080")
        .json(&body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let before = res.json();
    let id = before["id"].as_str().unwrap().to_owned();
    let form = app.http.get(&format!("/events/{id}/edit")).header("cookie", &ada).send().await;
    assert!(form.text.contains("value=\"fortnightly\" checked"), "{}", form.text);
    let mut fields: Vec<(&str, String)> = Vec::new();
    let value = |name: &str| {
        let at = form.text.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("{name}"));
        let start = at + form.text[at..].find("value=\"").unwrap() + 7;
        form.text[start..start + form.text[start..].find('"').unwrap()].to_owned()
    };
    for name in ["title", "summary", "date", "start_time", "end_time", "place_name", "postcode", "version"] {
        fields.push((name, value(name)));
    }
    fields.retain(|(k, _)| *k != "title");
    fields.push(("title", "Lane swimming".to_owned()));
    fields.extend([
        ("repeats", "fortnightly".to_owned()),
        ("booking", "rsvp".to_owned()),
        ("form_token", token.clone()),
    ]);
    let res = post_form(&app, &format!("/events/{id}/edit"), &ada, &as_refs(&fields)).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let after = app.http.get(&format!("/api/v1/events/{id}")).send().await.json();
    assert_eq!(after["title"], "Lane swimming");
    for kept in [
        "capacity",
        "online_url",
        "categories",
        "min_age",
        "accessibility_notes",
        "status",
        "status_reason",
        "exdates",
        "timezone",
    ] {
        assert_eq!(after[kept], before[kept], "{kept} is kept: {after}");
    }
    assert!(after["rrule"].as_str().unwrap().contains("UNTIL=20261229T100000Z"), "{after}");
}

#[tokio::test]
async fn an_organiser_changes_a_whole_event_and_a_stale_form_loses_nothing() {
    let app = app().await;
    let ada = signed_in(&app, "Ada").await;
    let token =
        group_through_form(&app, &ada, &[("name", "Walking Group"), ("summary", "Walks"), ("join_policy", "open")])
            .await;
    let event = [
        ("form_token", token.as_str()),
        ("title", "Saturday walk"),
        ("summary", "A gentle walk"),
        ("date", "2026-04-04"),
        ("start_time", "10:00"),
        ("end_time", "11:30"),
        ("repeats", "fortnightly"),
        ("place_name", "Haigh Hall"),
        ("postcode", "WN2 1PE"),
        ("accessibility", "step-free"),
        ("booking", "drop-in"),
        ("price", "1.50"),
    ];
    let res = post_form(&app, "/groups/walking-group/events/new", &ada, &event).await;
    let event_path = res.header("location").unwrap().to_owned();
    assert!(page(&app, &event_path).await.text.contains(&format!("href=\"{event_path}/edit\"")));
    let form = app.http.get(&format!("{event_path}/edit")).header("cookie", &ada).send().await;
    assert_eq!(form.status, 200, "{}", form.text);
    for filled in
        ["value=\"Saturday walk\"", "value=\"2026-04-04\"", "value=\"11:30\"", "value=\"1.50\"", "value=\"WN2 1PE\""]
    {
        assert!(form.text.contains(filled), "{filled}: {}", form.text);
    }
    assert!(
        form.text.contains("id=\"repeats-fortnightly\" name=\"repeats\" value=\"fortnightly\" checked"),
        "{}",
        form.text
    );
    let version = hidden(&form.text, "version");
    // Someone else cannot; a stranger gets a refusal, not the form.
    let bea = signed_in(&app, "Bea").await;
    assert_eq!(app.http.get(&format!("{event_path}/edit")).header("cookie", &bea).send().await.status, 403);

    let mut changed: Vec<(&str, String)> = event.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    changed.retain(|(k, _)| *k != "title" && *k != "start_time");
    changed.push(("title", "Saturday stroll".to_owned()));
    changed.push(("start_time", "10:30".to_owned()));
    changed.push(("version", "0".to_owned()));
    let res = post_form(&app, &format!("{event_path}/edit"), &ada, &as_refs(&changed)).await;
    assert_eq!(res.status, 422, "a stale version");
    assert!(
        res.text.contains("Someone else changed this event") && res.text.contains("value=\"Saturday stroll\""),
        "{}",
        res.text
    );
    assert_eq!(hidden(&res.text, "version"), version, "sending it again replaces the other change");
    changed.retain(|(k, _)| *k != "version");
    changed.push(("version", version));
    let res = post_form(&app, &format!("{event_path}/edit"), &ada, &as_refs(&changed)).await;
    assert_eq!((res.status.as_u16(), res.header("location")), (303, Some(event_path.as_str())), "{}", res.text);
    let shown = page(&app, &event_path).await.text;
    assert!(shown.contains("Saturday stroll") && shown.contains("10:30"), "{shown}");
    // A validation error keeps what was typed beside the field.
    changed.retain(|(k, _)| *k != "end_time" && *k != "version");
    changed.push(("end_time", "9 o'clock".to_owned()));
    let version =
        hidden(&app.http.get(&format!("{event_path}/edit")).header("cookie", &ada).send().await.text, "version");
    changed.push(("version", version));
    let res = post_form(&app, &format!("{event_path}/edit"), &ada, &as_refs(&changed)).await;
    assert_eq!(res.status, 422);
    assert!(
        res.text.contains("Enter the end time as hours:minutes") && res.text.contains("value=\"9 o&#39;clock\""),
        "{}",
        res.text
    );
}

#[tokio::test]
async fn residents_reply_to_a_date_from_the_pages_with_places_and_a_waiting_list() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, techmates()).await;
    let mut event = json!({
        "title": "Coding club", "summary": "Learn to code", "start": "2026-03-31T10:00", "end": "2026-03-31T12:00",
        "rrule": "FREQ=WEEKLY", "place": { "name": "Wigan Library", "postcode": "WN1 1NU" }, "booking": "rsvp", "capacity": 1
    });
    let res = app.http.post("/api/v1/groups/wigan-techmates/events").token(&owner.token).json(&event).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    assert!(page(&app, &format!("/events/{id}")).await.text.contains(&format!("href=\"/events/{id}/reply\"")));

    let bea = signed_in(&app, "Bea").await;
    let form = app.http.get(&format!("/events/{id}/reply")).header("cookie", &bea).send().await;
    assert_eq!(form.status, 200, "{}", form.text);
    let action = format!("/events/{id}/reply/2026-03-31T10:00");
    assert!(form.text.contains(&format!("action=\"{action}\"")), "{}", form.text);
    let token = form_token(&form.text);
    assert_eq!(post_form(&app, &action, &bea, &[("form_token", "forged"), ("response", "going")]).await.status, 403);
    let date = "Tuesday 31 March 2026, 10:00 to 12:00 BST";
    let res = post_form(&app, &action, &bea, &[("form_token", &token), ("response", "going"), ("date", date)]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let after = app.http.get(res.header("location").unwrap()).header("cookie", &bea).send().await;
    assert!(after.text.contains(&format!("You are coming on {date}.")), "{}", after.text);

    let cat = signed_in(&app, "Cat").await;
    let theirs = form_token(&app.http.get(&format!("/events/{id}/reply")).header("cookie", &cat).send().await.text);
    let res = post_form(&app, &action, &cat, &[("form_token", &theirs), ("response", "going"), ("date", date)]).await;
    let after = app.http.get(res.header("location").unwrap()).header("cookie", &cat).send().await;
    assert!(after.text.contains("is full: you are on the waiting list"), "{}", after.text);

    let replies = app
        .http
        .get(&format!("/api/v1/events/{id}/occurrences/2026-03-31T10:00/rsvps"))
        .token(&owner.token)
        .send()
        .await;
    assert_eq!(replies.status, 200, "{}", replies.text);
    assert!(replies.text.contains("Bea") && replies.text.contains("Cat"), "{}", replies.text);

    // An event booked elsewhere has no replies here.
    event["title"] = json!("Booked elsewhere");
    event["booking"] = json!("external");
    event["booking_url"] = json!("https://example.org/book");
    let res = app.http.post("/api/v1/groups/wigan-techmates/events").token(&owner.token).json(&event).send().await;
    let other = res.json()["id"].as_str().unwrap().to_owned();
    assert!(!page(&app, &format!("/events/{other}")).await.text.contains("/reply\""));
}

#[tokio::test]
async fn a_resident_comes_to_every_date_finds_them_on_their_account_and_subscribes_to_them() {
    let app = app().await;
    let owner = app.person("Ada", ORGANISER).await;
    app.group(&owner.token, techmates()).await;
    let event = json!({
        "title": "Coding club", "summary": "Learn to code", "start": "2026-03-31T10:00", "end": "2026-03-31T12:00",
        "rrule": "FREQ=WEEKLY;COUNT=4", "place": { "name": "Wigan Library", "postcode": "WN1 1NU" },
        "booking": "rsvp", "capacity": 1
    });
    let res = app.http.post("/api/v1/groups/wigan-techmates/events").token(&owner.token).json(&event).send().await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let bea = signed_in(&app, "Bea").await;
    // Bea takes the only place on the second date first.
    let form = app.http.get(&format!("/events/{id}/reply")).header("cookie", &bea).send().await.text;
    let token = form_token(&form);
    post_form(
        &app,
        &format!("/events/{id}/reply/2026-04-07T10:00"),
        &bea,
        &[("form_token", &token), ("response", "going")],
    )
    .await;

    let cat = signed_in(&app, "Cat").await;
    let form = app.http.get(&format!("/events/{id}/reply")).header("cookie", &cat).send().await.text;
    let series = format!("/events/{id}/reply-series");
    assert!(form.contains(&format!("action=\"{series}\"")) && form.contains("I'm coming to every date"), "{form}");
    let token = form_token(&form);
    assert_eq!(post_form(&app, &series, &cat, &[("form_token", "forged"), ("response", "going")]).await.status, 403);
    let res = post_form(&app, &series, &cat, &[("form_token", &token), ("response", "going")]).await;
    assert_eq!(res.status, 303, "{}", res.text);
    let after = app.http.get(res.header("location").unwrap()).header("cookie", &cat).send().await.text;
    assert!(
        after.contains(
            "You are coming to every date: you have a place on 3 dates, and are on the waiting list for 1 date"
        ),
        "{after}"
    );
    assert!(after.contains("Stop coming to every date") && after.contains("You are on the waiting list"), "{after}");

    // The account page lists the dates and the series, and makes a calendar link shown once.
    let me = app.http.get("/me").header("cookie", &cat).send().await.text;
    assert!(me.contains("You have a place") && me.contains("On the waiting list"), "{me}");
    assert!(me.contains("You are coming to every date of:") && me.contains("Make my calendar link"), "{me}");
    let token = form_token(&me);
    let res = post_form(&app, "/me/calendar", &cat, &[("form_token", &token), ("action", "new")]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let start = res.text.find("value=\"http://127.0.0.1:8080/calendars/").expect("the link") + 7;
    let url = &res.text[start..start + res.text[start..].find('"').unwrap()];
    assert!(res.text.contains("href=\"webcal://127.0.0.1:8080/calendars/"), "{}", res.text);
    let feed = app.http.get(url.trim_start_matches("http://127.0.0.1:8080")).send().await;
    assert_eq!(feed.status, 200);
    assert_eq!(feed.text.matches("BEGIN:VEVENT").count(), 4, "{}", feed.text);
    let me = app.http.get("/me").header("cookie", &cat).send().await.text;
    assert!(me.contains("You made your calendar link on") && !me.contains("/calendars/"), "never shown again: {me}");
    let res = post_form(&app, "/me/calendar", &cat, &[("form_token", &token), ("action", "off")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.http.get(url.trim_start_matches("http://127.0.0.1:8080")).send().await.status, 404);

    // Undo: the dates replied to with the series are given up.
    let res = post_form(&app, &series, &cat, &[("form_token", &token), ("response", "undo")]).await;
    let after = app.http.get(res.header("location").unwrap()).header("cookie", &cat).send().await.text;
    assert!(after.contains("You are no longer coming to every date."), "{after}");
    let me = app.http.get("/me").header("cookie", &cat).send().await.text;
    assert!(me.contains("You have not said you are coming to anything yet."), "{me}");
}

#[tokio::test]
async fn a_group_page_reads_the_group_once_and_its_dates_once() {
    use scaffold_server::app::{AppOptions, router};
    let store = scaffold_testkit::counting_store(scaffold_testkit::store().await);
    let service = scaffold_service::Service::new(store.clone(), scaffold_testkit::clock());
    let operator = service.bootstrap_operator().await.unwrap().unwrap().expose().to_owned();
    let http = scaffold_testkit::TestClient::new(router(service, &AppOptions::default()));
    let res = http.post("/api/v1/groups").token(&operator).json(&techmates()).send().await;
    assert_eq!(res.status, 201, "{}", res.text);
    store.reset();
    let res = http.get("/groups/wigan-techmates").header("accept", HTML).send().await;
    assert_eq!(res.status, 200);
    let calls = store.calls();
    assert_eq!(calls.get("group_by_slug"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("group_by_id"), None, "the group is not read again for its dates: {calls:?}");
    assert_eq!(calls.get("search_occurrences"), Some(&1), "{calls:?}");
}
