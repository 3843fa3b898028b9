//! Reading an OpenActive RPDE feed of SessionSeries (Opportunity data model 2.0, read as plain
//! JSON) into event drafts. A series' `eventSchedule` becomes the event's rule: `repeatFrequency`,
//! `byDay`, `repeatCount`, `endDate`, `exceptDate` and `scheduleTimezone`, never expanded.

use super::{Item, clip};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use scaffold_domain::event::{
    BookingMode, DESCRIPTION_MAX, EventDraft, EventStatus, PlaceInput, SUMMARY_MAX, TITLE_MAX,
};
use scaffold_domain::source::ItemProblem;
use serde_json::Value;

const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

/// One item of a page: a series listed (updated), or the id of one deleted.
#[derive(Debug)]
pub(crate) enum Entry {
    Updated(Box<Item>),
    Deleted(String),
}

/// One page of a feed.
#[derive(Debug, Default)]
pub(crate) struct FeedPage {
    pub next: Option<String>,
    /// The page's series and deletions, in the feed's order (a later state of an id wins).
    pub entries: Vec<Entry>,
    pub problems: Vec<ItemProblem>,
    /// Items on the page, of any state or kind.
    pub items: usize,
}

/// Reads one RPDE page. `Err` when it is no RPDE page at all.
pub(crate) fn page(text: &str) -> Result<FeedPage, String> {
    let v: Value = serde_json::from_str(text).map_err(|_| "the answer is not JSON".to_owned())?;
    let items = v.get("items").and_then(Value::as_array).ok_or("this is not an RPDE page (it has no items)")?;
    let next = v.get("next").and_then(Value::as_str).map(str::to_owned);
    let mut out = FeedPage { next, items: items.len(), ..FeedPage::default() };
    for (n, item) in items.iter().enumerate() {
        let id = match item.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(x)) => x.to_string(),
            _ => {
                out.problems.push(ItemProblem { item: format!("item {}", n + 1), message: "it has no id".to_owned() });
                continue;
            }
        };
        match item.get("state").and_then(Value::as_str) {
            Some("deleted") => out.entries.push(Entry::Deleted(id)),
            Some("updated") => {
                let kind = item.get("kind").and_then(Value::as_str).unwrap_or_default();
                if kind != "SessionSeries" {
                    out.problems.push(ItemProblem {
                        item: id,
                        message: format!("items of kind {kind:?} are not read (SessionSeries are)"),
                    });
                    continue;
                }
                match item.get("data").ok_or_else(|| "it has no data".to_owned()).and_then(series) {
                    Ok((draft, url)) => {
                        out.entries.push(Entry::Updated(Box::new(Item { key: id, url, draft, changes: Vec::new() })))
                    }
                    Err(message) => out.problems.push(ItemProblem { item: id, message }),
                }
            }
            _ => out
                .problems
                .push(ItemProblem { item: id, message: "its state is neither updated nor deleted".to_owned() }),
        }
    }
    Ok(out)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A `byDay` entry (a schema.org day URL, a day name, or an iCalendar code) as an RRULE code.
fn day_code(d: &str) -> Option<&'static str> {
    let name = d.rsplit('/').next().unwrap_or(d);
    Some(match name.to_ascii_lowercase().as_str() {
        "monday" | "mo" => "MO",
        "tuesday" | "tu" => "TU",
        "wednesday" | "we" => "WE",
        "thursday" | "th" => "TH",
        "friday" | "fr" => "FR",
        "saturday" | "sa" => "SA",
        "sunday" | "su" => "SU",
        _ => return None,
    })
}

/// `P1W` as (`WEEKLY`, 1).
fn frequency(p: &str) -> Option<(&'static str, u32)> {
    let body = p.strip_prefix('P')?;
    let (n, unit) = body.split_at(body.len().checked_sub(1)?);
    let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
    Some((
        match unit {
            "D" => "DAILY",
            "W" => "WEEKLY",
            "M" => "MONTHLY",
            "Y" => "YEARLY",
            _ => return None,
        },
        n,
    ))
}

fn time_of(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S")).ok()
}

/// A date or date-time as a local time of `tz` (a date-time with an offset is moved into it).
fn local(s: &str, tz: Tz) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&tz).naive_local());
    }
    NaiveDateTime::parse_from_str(s, LOCAL)
        .ok()
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| d.and_time(NaiveTime::MIN)))
}

/// An ISO 8601 duration of hours and minutes (`PT1H30M`) in minutes.
fn minutes(p: &str) -> Option<i64> {
    let body = p.strip_prefix("PT")?;
    let (mut total, mut num) = (0_i64, String::new());
    for c in body.chars() {
        match c {
            '0'..='9' => num.push(c),
            'H' => total += num.drain(..).as_str().parse::<i64>().ok()? * 60,
            'M' => total += num.drain(..).as_str().parse::<i64>().ok()?,
            _ => return None,
        }
    }
    (num.is_empty() && total > 0).then_some(total)
}

/// A SessionSeries as a draft and its page.
fn series(d: &Value) -> Result<(EventDraft, Option<String>), String> {
    let title = text(d, "name").ok_or("it has no name")?;
    let schedule = d
        .get("eventSchedule")
        .and_then(|s| s.as_array().and_then(|a| a.first()).or(Some(s)))
        .filter(|s| s.is_object())
        .ok_or("it has no eventSchedule")?;
    let tz_name = text(schedule, "scheduleTimezone").unwrap_or("Europe/London");
    let tz: Tz = tz_name.parse().map_err(|_| format!("the time zone {tz_name:?} is not an IANA time zone"))?;
    let start_date = text(schedule, "startDate").ok_or("its schedule has no startDate")?;
    let first = local(start_date, tz).ok_or_else(|| format!("{start_date:?} is not a date"))?;
    let start = match text(schedule, "startTime").and_then(time_of) {
        Some(t) => first.date().and_time(t),
        None => first,
    };
    let end = match (text(schedule, "endTime").and_then(time_of), text(schedule, "duration").and_then(minutes)) {
        (Some(t), _) if start.date().and_time(t) > start => start.date().and_time(t),
        (_, Some(m)) => start + chrono::Duration::minutes(m),
        _ => start + chrono::Duration::hours(1),
    };
    let rrule = match text(schedule, "repeatFrequency") {
        None => None,
        Some(f) => {
            let (freq, interval) =
                frequency(f).ok_or_else(|| format!("the repeatFrequency {f:?} is not P<n>D/W/M/Y"))?;
            let mut rule = format!("FREQ={freq}");
            if interval > 1 {
                rule.push_str(&format!(";INTERVAL={interval}"));
            }
            if let Some(n) = schedule.get("repeatCount").and_then(Value::as_u64) {
                rule.push_str(&format!(";COUNT={n}"));
            } else if let Some(until) = text(schedule, "endDate").and_then(|e| local(e, tz)) {
                rule.push_str(&format!(
                    ";UNTIL={}",
                    until.date().and_hms_opt(23, 59, 59).unwrap_or(until).format("%Y%m%dT%H%M%S")
                ));
            }
            let days: Vec<&str> = schedule
                .get("byDay")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).filter_map(day_code).collect())
                .unwrap_or_default();
            if !days.is_empty() {
                rule.push_str(&format!(";BYDAY={}", days.join(",")));
            }
            Some(rule)
        }
    };
    let exdates = schedule
        .get("exceptDate")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(|x| local(x, tz))
                .map(|x| x.format(LOCAL).to_string())
                .collect()
        })
        .unwrap_or_default();
    let description = text(d, "description").map(str::to_owned);
    let url = text(d, "url").and_then(|u| scaffold_domain::text::http_url("/url", u, 2_000).ok());
    let location = d.get("location");
    let place_name = location.and_then(|l| text(l, "name")).unwrap_or("Place not stated");
    let address = location.and_then(|l| l.get("address"));
    let geo = location.and_then(|l| l.get("geo"));
    let place = PlaceInput {
        name: clip(place_name, 200),
        address: address.and_then(|a| {
            let parts: Vec<&str> = ["streetAddress", "addressLocality"].iter().filter_map(|k| text(a, k)).collect();
            (!parts.is_empty()).then(|| clip(&parts.join(", "), 500))
        }),
        postcode: address.and_then(|a| text(a, "postalCode")).map(str::to_owned),
        latitude: geo.and_then(|g| g.get("latitude")).and_then(Value::as_f64),
        longitude: geo.and_then(|g| g.get("longitude")).and_then(Value::as_f64),
    };
    let activities = d
        .get("activity")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| text(x, "prefLabel").or_else(|| text(x, "@id")))
                .map(str::to_owned)
                .take(5)
                .collect()
        })
        .unwrap_or_default();
    let price = d
        .get("offers")
        .and_then(Value::as_array)
        .and_then(|o| o.first())
        .and_then(|o| o.get("price"))
        .and_then(Value::as_f64)
        .filter(|p| *p > 0.0 && *p < 10_000.0)
        .map(|p| (p * 100.0).round() as u32);
    let status = match text(d, "eventStatus") {
        Some(s) if s.ends_with("EventCancelled") => Some(EventStatus::Cancelled),
        Some(s) if s.ends_with("EventPostponed") => Some(EventStatus::Postponed),
        _ => None,
    };
    let draft = EventDraft {
        title: clip(title, TITLE_MAX),
        summary: clip(
            description.as_deref().and_then(|s| s.lines().find(|l| !l.trim().is_empty())).unwrap_or(title),
            SUMMARY_MAX,
        ),
        description: description.map(|s| clip(&s, DESCRIPTION_MAX)),
        timezone: Some(tz.name().to_owned()),
        start: start.format(LOCAL).to_string(),
        end: end.format(LOCAL).to_string(),
        status,
        place: Some(place),
        booking: Some(if url.is_some() { BookingMode::External } else { BookingMode::DropIn }),
        booking_url: url.clone(),
        price_pence: price,
        activities,
        rrule,
        exdates,
        ..EventDraft::default()
    };
    Ok((draft, url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_weekly_series_keeps_its_rule_and_a_tombstone_is_a_deletion() {
        let page_json = json!({
            "next": "https://peer.example/openactive/session-series?afterTimestamp=3&afterId=b",
            "items": [
                { "state": "updated", "kind": "SessionSeries", "id": "a", "modified": 2, "data": {
                    "@type": "SessionSeries", "name": "Walk", "url": "https://peer.example/events/a",
                    "activity": [{ "prefLabel": "Walking" }],
                    "location": { "name": "Mesnes Park", "geo": { "latitude": 53.55, "longitude": -2.63 } },
                    "eventSchedule": [{ "@type": "PartialSchedule", "scheduleTimezone": "Europe/London",
                        "startDate": "2027-01-05", "startTime": "10:00", "endTime": "11:30",
                        "repeatFrequency": "P1W", "byDay": ["https://schema.org/Tuesday"],
                        "exceptDate": ["2027-01-12T10:00:00+00:00"] }] } },
                { "state": "deleted", "kind": "SessionSeries", "id": "b", "modified": 3 },
                { "state": "updated", "kind": "SessionSeries", "id": "c", "modified": 3, "data": { "name": "No schedule" } },
            ]
        });
        let p = page(&page_json.to_string()).unwrap();
        let Some(Entry::Updated(item)) = p.entries.first() else { panic!("{p:?}") };
        let d = &item.draft;
        assert_eq!(d.rrule.as_deref(), Some("FREQ=WEEKLY;BYDAY=TU"));
        assert_eq!((d.start.as_str(), d.end.as_str()), ("2027-01-05T10:00:00", "2027-01-05T11:30:00"));
        assert_eq!(d.exdates, vec!["2027-01-12T10:00:00".to_owned()]);
        assert!(matches!(&p.entries[1], Entry::Deleted(id) if id == "b"));
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.problems.len(), 1);
        assert!(page("{}").is_err());
        assert!(page("<html>").is_err());
    }
}
