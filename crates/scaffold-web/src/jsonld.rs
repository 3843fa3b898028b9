//! schema.org JSON-LD for search engines and aggregators: an `Organization` on group pages and an
//! `Event` on event pages, with times as local date-times with their offsets.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use scaffold_domain::event::{Event, EventStatus, Occurrence, Place, instant};
use scaffold_domain::group::Group;
use scaffold_service::search::Found;
use serde_json::{Map, Value, json};

/// JSON that is safe inside `<script type="application/ld+json">`: no `<`, `>` or `&` can close
/// the element or start markup.
pub fn script_json(v: &Value) -> String {
    v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn place(p: &Place) -> Value {
    let mut address = Map::new();
    address.insert("@type".into(), json!("PostalAddress"));
    if let Some(a) = &p.address {
        address.insert("streetAddress".into(), json!(a));
    }
    if let Some(pc) = &p.postcode {
        address.insert("postalCode".into(), json!(pc));
    }
    address.insert("addressCountry".into(), json!("GB"));
    let mut out = json!({ "@type": "Place", "name": p.name, "address": address });
    if let (Some(lat), Some(lon)) = (p.latitude, p.longitude) {
        out["geo"] = json!({ "@type": "GeoCoordinates", "latitude": lat, "longitude": lon });
    }
    out
}

/// The group as an `Organization`, with its upcoming events.
pub fn organization(g: &Group, url: &str, base: &str, found: &[Found]) -> String {
    let mut org = json!({
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": g.name,
        "description": g.summary,
        "url": url,
    });
    if let Some(email) = &g.contact_email {
        org["email"] = json!(email);
    }
    if let Some(area) = &g.area {
        org["areaServed"] = json!({ "@type": "Place", "name": area.outcode.as_str(),
            "geo": { "@type": "GeoCoordinates", "latitude": area.latitude, "longitude": area.longitude } });
    }
    let ids: Vec<Value> = g
        .identifiers
        .iter()
        .filter(|i| i.verified_at.is_some())
        .map(|i| json!({ "@type": "PropertyValue", "propertyID": i.scheme.as_str(), "value": i.value }))
        .collect();
    if !ids.is_empty() {
        org["identifier"] = json!(ids);
    }
    let events: Vec<Value> = found
        .iter()
        .map(|f| {
            json!({ "@type": "Event", "name": f.event.title, "url": format!("{base}/events/{}", f.event.id),
                "startDate": local(f.occurrence.start, f.event.timezone),
                "endDate": local(f.occurrence.end, f.event.timezone) })
        })
        .collect();
    if !events.is_empty() {
        org["event"] = json!(events);
    }
    script_json(&org)
}

/// The event, dated by its next occurrence (or its first, when none is ahead).
pub fn event(e: &Event, group: &Group, url: &str, group_url: &str, next: Option<&Occurrence>) -> String {
    let (start, end) = match next {
        Some(o) => (o.start, o.end),
        None => (instant(e.timezone, e.start), instant(e.timezone, e.end)),
    };
    let status = match (e.status, next.map(|o| (o.status, o.moved))) {
        (EventStatus::Cancelled, _) | (_, Some((EventStatus::Cancelled, _))) => "EventCancelled",
        (EventStatus::Postponed, _) | (_, Some((EventStatus::Postponed, _))) => "EventPostponed",
        (_, Some((_, true))) => "EventRescheduled",
        _ => "EventScheduled",
    };
    let mode = match (&e.place, &e.online_url) {
        (Some(_), Some(_)) => "MixedEventAttendanceMode",
        (None, Some(_)) => "OnlineEventAttendanceMode",
        _ => "OfflineEventAttendanceMode",
    };
    let mut out = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": e.title,
        "description": e.summary,
        "url": url,
        "startDate": local(start, e.timezone),
        "endDate": local(end, e.timezone),
        "eventStatus": format!("https://schema.org/{status}"),
        "eventAttendanceMode": format!("https://schema.org/{mode}"),
        "organizer": { "@type": "Organization", "name": group.name, "url": group_url },
        "isAccessibleForFree": e.price_pence.unwrap_or(0) == 0,
    });
    let mut locations = Vec::new();
    if let Some(p) = next.and_then(|o| o.place.as_ref()).or(e.place.as_ref()) {
        locations.push(place(p));
    }
    if let Some(online) = &e.online_url {
        locations.push(json!({ "@type": "VirtualLocation", "url": online }));
    }
    if let [one] = locations.as_slice() {
        out["location"] = one.clone();
    } else if !locations.is_empty() {
        out["location"] = json!(locations);
    }
    if let Some(p) = e.price_pence.filter(|p| *p > 0) {
        out["offers"] = json!({ "@type": "Offer", "price": format!("{}.{:02}", p / 100, p % 100),
            "priceCurrency": "GBP", "url": e.booking_url.as_deref().unwrap_or(url) });
    }
    script_json(&out)
}
