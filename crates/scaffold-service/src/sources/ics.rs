//! Reading an iCalendar (RFC 5545) calendar into event drafts. Series stay series: RRULE, EXDATE
//! and RECURRENCE-ID are kept (as the rule, excluded dates and changed dates), never expanded,
//! and times stay in their zone. The `icalendar` crate parses each VEVENT on its own, so one
//! malformed event is skipped and reported without losing the others.

use super::{Item, ItemChange, clip};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property, read_components, unfold};
use scaffold_domain::event::{
    BookingMode, DESCRIPTION_MAX, EventDraft, EventStatus, OverrideDraft, PlaceInput, SUMMARY_MAX, TITLE_MAX,
};
use scaffold_domain::source::ItemProblem;

const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";
const DEFAULT_TZ: Tz = chrono_tz::Europe::London;

/// A time as a calendar gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Date(NaiveDate),
    /// A wall-clock time in a zone (UTC for `…Z` times; London for floating ones).
    Local(NaiveDateTime, Tz),
}

/// A calendar as read.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub items: Vec<Item>,
    /// Events skipped, each by its UID when it has one, with why.
    pub problems: Vec<ItemProblem>,
    /// It had more events than were read: nothing may be removed for being absent.
    pub truncated: bool,
}

/// The calendar's events, and the ones skipped with why. `Err` when the text is no calendar, or
/// a calendar cut off before its end (so that a broken answer never looks like deletions).
pub(crate) fn parse(text: &str, max_items: usize) -> Result<Parsed, String> {
    let unfolded = unfold(text);
    if !unfolded.trim_start().to_ascii_uppercase().starts_with("BEGIN:VCALENDAR") {
        return Err("this is not an iCalendar file (it does not start with BEGIN:VCALENDAR)".to_owned());
    }
    if !unfolded.trim_end().to_ascii_uppercase().ends_with("END:VCALENDAR") {
        return Err("the calendar is cut off (it does not end with END:VCALENDAR)".to_owned());
    }
    let mut truncated = false;
    let mut problems = Vec::new();
    // One series' changed dates come as further VEVENTs with the same UID and a RECURRENCE-ID.
    let mut masters: Vec<(String, Component<'_>)> = Vec::new();
    let mut changes: Vec<(String, Component<'_>)> = Vec::new();
    for (n, block) in vevents(&unfolded).into_iter().enumerate() {
        if masters.len() >= max_items {
            truncated = true;
            problems.push(ItemProblem {
                item: format!("event {}", n + 1),
                message: format!("the calendar has more than {max_items} events: the rest were not read"),
            });
            break;
        }
        let c = match read_components(block).map(|mut v| (v.len() == 1).then(|| v.swap_remove(0))) {
            Ok(Some(c)) => c,
            // Reported by its UID when one can be read, so that what was imported for it before
            // is kept.
            Ok(None) => {
                problems.push(ItemProblem { item: raw_uid(block, n), message: "unreadable".to_owned() });
                continue;
            }
            Err(e) => {
                let first = e.lines().find(|l| !l.trim().is_empty()).unwrap_or("unreadable").to_owned();
                problems.push(ItemProblem { item: raw_uid(block, n), message: clip(&first, 200) });
                continue;
            }
        };
        let Some(uid) = value(&c, "UID").filter(|u| !u.trim().is_empty()) else {
            problems.push(ItemProblem { item: format!("event {}", n + 1), message: "it has no UID".to_owned() });
            continue;
        };
        if c.find_prop("RECURRENCE-ID").is_some() {
            changes.push((uid, c));
        } else if masters.iter().any(|(u, _)| *u == uid) {
            problems.push(ItemProblem { item: uid, message: "another event has the same UID".to_owned() });
        } else {
            masters.push((uid, c));
        }
    }
    let mut items = Vec::new();
    for (uid, c) in &masters {
        match event(c) {
            Ok((draft, url, tz)) => {
                let mut item_changes = Vec::new();
                for (_, ch) in changes.iter().filter(|(u, _)| u == uid) {
                    match change(ch, tz, draft.all_day) {
                        Ok(x) => item_changes.push(x),
                        Err(message) => problems.push(ItemProblem { item: uid.clone(), message }),
                    }
                }
                items.push(Item { key: uid.clone(), url, draft, changes: item_changes });
            }
            Err(message) => problems.push(ItemProblem { item: uid.clone(), message }),
        }
    }
    Ok(Parsed { items, problems, truncated })
}

/// The UID line of an event block the parser could not read, or its position.
fn raw_uid(block: &str, n: usize) -> String {
    block
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            let name = name.split(';').next()?.trim();
            (name.eq_ignore_ascii_case("UID") && !value.trim().is_empty()).then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| format!("event {}", n + 1))
}

/// The text of each VEVENT block (BEGIN:VEVENT … END:VEVENT), in order.
fn vevents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end_matches(['\r', '\n']);
        if t.eq_ignore_ascii_case("BEGIN:VEVENT") {
            start = Some(pos);
        } else if t.eq_ignore_ascii_case("END:VEVENT")
            && let Some(s) = start.take()
        {
            out.push(&text[s..pos + line.len()]);
        }
        pos += line.len();
    }
    out
}

fn value(c: &Component<'_>, name: &str) -> Option<String> {
    c.find_prop(name).map(|p| p.val.clone().unescape_text().as_str().trim().to_owned())
}

fn param<'a>(p: &'a Property<'_>, key: &str) -> Option<&'a str> {
    p.params.iter().find(|x| x.key.as_str().eq_ignore_ascii_case(key)).and_then(|x| x.val.as_ref()).map(|v| v.as_str())
}

/// An IANA zone from a TZID (quoted or not; Outlook's name for London too).
fn zone(tzid: &str) -> Result<Tz, String> {
    let t = tzid.trim().trim_matches('"').trim_start_matches('/');
    match t {
        "GMT Standard Time" | "GMT Standard Time 1" => Ok(DEFAULT_TZ),
        _ => t.parse::<Tz>().map_err(|_| format!("the time zone {t:?} is not an IANA time zone")),
    }
}

fn when_text(raw: &str, tzid: Option<&str>, date_only: bool) -> Result<When, String> {
    let raw = raw.trim();
    if date_only || raw.len() == 8 {
        return NaiveDate::parse_from_str(raw, "%Y%m%d").map(When::Date).map_err(|_| format!("{raw:?} is not a date"));
    }
    let (text, utc) = match raw.strip_suffix('Z') {
        Some(t) => (t, true),
        None => (raw, false),
    };
    let at = NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S").map_err(|_| format!("{raw:?} is not a date-time"))?;
    let tz = match (utc, tzid) {
        (true, _) => chrono_tz::UTC,
        (false, Some(z)) => zone(z)?,
        (false, None) => DEFAULT_TZ,
    };
    Ok(When::Local(at, tz))
}

fn when(p: &Property<'_>) -> Result<When, String> {
    let date_only = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    when_text(p.val.as_str(), param(p, "TZID"), date_only)
}

/// A time in another zone, as a wall-clock time of `tz`.
fn in_zone(at: NaiveDateTime, from: Tz, to: Tz) -> NaiveDateTime {
    match from.from_local_datetime(&at).earliest() {
        Some(t) => t.with_timezone(&to).naive_local(),
        None => at,
    }
}

fn local_of(w: When, tz: Tz) -> NaiveDateTime {
    match w {
        When::Date(d) => d.and_time(chrono::NaiveTime::MIN),
        When::Local(at, from) if from == tz => at,
        When::Local(at, from) => in_zone(at, from, tz),
    }
}

/// A VEVENT as a draft, its page, and the zone its times are in.
fn event(c: &Component<'_>) -> Result<(EventDraft, Option<String>, Tz), String> {
    let title = value(c, "SUMMARY").filter(|t| !t.is_empty()).ok_or("it has no SUMMARY (title)")?;
    let start = when(c.find_prop("DTSTART").ok_or("it has no DTSTART")?)?;
    let series = c.find_prop("RRULE").is_some();
    let (all_day, tz) = match start {
        When::Date(_) => (true, DEFAULT_TZ),
        // A one-off given in UTC is shown in London time; a series keeps its zone, so that its rule
        // means what it said.
        When::Local(_, z) if z == chrono_tz::UTC && !series => (false, DEFAULT_TZ),
        When::Local(_, z) => (false, z),
    };
    let start_local = local_of(start, tz);
    let end_local = match (c.find_prop("DTEND"), value(c, "DURATION")) {
        (Some(p), _) => {
            let end = local_of(when(p)?, tz);
            // An all-day DTEND is exclusive; drafts give the last day.
            if all_day { end - chrono::Duration::days(1) } else { end }
        }
        (None, Some(d)) => start_local + duration(&d)?,
        (None, None) if all_day => start_local,
        (None, None) => start_local + chrono::Duration::hours(1),
    };
    let description = value(c, "DESCRIPTION").filter(|d| !d.is_empty());
    let summary = description
        .as_deref()
        .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
        .map_or_else(|| title.clone(), |l| clip(l.trim(), SUMMARY_MAX));
    let url = value(c, "URL").and_then(|u| scaffold_domain::text::http_url("/url", &u, 2_000).ok());
    let cancelled = value(c, "STATUS").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
    let mut exdates = Vec::new();
    for p in c.properties.iter().filter(|p| p.name.as_str().eq_ignore_ascii_case("EXDATE")) {
        let date_only = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
        for raw in p.val.as_str().split(',').filter(|r| !r.trim().is_empty()) {
            let w = when_text(raw, param(p, "TZID"), date_only)?;
            let at = match w {
                // A date excludes the occurrence that day, at the series' time.
                When::Date(d) => d.and_time(start_local.time()),
                w => local_of(w, tz),
            };
            exdates.push(at.format(LOCAL).to_string());
        }
    }
    let draft = EventDraft {
        title: clip(&title, TITLE_MAX),
        summary,
        description: description.map(|d| clip(&d, DESCRIPTION_MAX)),
        timezone: Some(tz.name().to_owned()),
        start: start_local.format(LOCAL).to_string(),
        end: end_local.format(LOCAL).to_string(),
        all_day,
        status: cancelled.then_some(EventStatus::Cancelled),
        // Every event here has a place; a calendar may leave it out.
        place: Some(place(
            &value(c, "LOCATION").filter(|l| !l.is_empty()).unwrap_or_else(|| "Place not stated".to_owned()),
            value(c, "GEO").as_deref(),
        )),
        booking: Some(if url.is_some() { BookingMode::External } else { BookingMode::DropIn }),
        booking_url: url.clone(),
        rrule: c.find_prop("RRULE").map(|p| p.val.as_str().trim().to_owned()),
        exdates,
        ..EventDraft::default()
    };
    Ok((draft, url, tz))
}

/// A changed date of a series (a VEVENT with RECURRENCE-ID).
fn change(c: &Component<'_>, tz: Tz, all_day: bool) -> Result<ItemChange, String> {
    let id = local_of(when(c.find_prop("RECURRENCE-ID").ok_or("no RECURRENCE-ID")?)?, tz);
    let cancelled = value(c, "STATUS").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
    let mut draft = OverrideDraft {
        status: Some(if cancelled { EventStatus::Cancelled } else { EventStatus::Scheduled }),
        ..OverrideDraft::default()
    };
    if !cancelled
        && !all_day
        && let Some(p) = c.find_prop("DTSTART")
    {
        let start = local_of(when(p)?, tz);
        let end = match (c.find_prop("DTEND"), value(c, "DURATION")) {
            (Some(e), _) => local_of(when(e)?, tz),
            (None, Some(d)) => start + duration(&d)?,
            (None, None) => start + chrono::Duration::hours(1),
        };
        if start != id {
            draft.start = Some(start.format(LOCAL).to_string());
            draft.end = Some(end.format(LOCAL).to_string());
        }
    }
    Ok(ItemChange { local_start: id.format(LOCAL).to_string(), draft })
}

/// An RFC 5545 DURATION (`PT1H30M`, `P1D`, `P1W`).
fn duration(raw: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("the duration {raw:?} is not an iCalendar duration");
    let body = raw.trim().trim_start_matches('+').strip_prefix('P').ok_or_else(bad)?;
    let (mut total, mut num, mut in_time) = (0_i64, String::new(), false);
    for ch in body.chars() {
        match ch {
            'T' => in_time = true,
            '0'..='9' => num.push(ch),
            unit => {
                let n: i64 = num.parse().map_err(|_| bad())?;
                num.clear();
                total += n * match (unit, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return Err(bad()),
                };
                if total > 60 * 86_400 {
                    return Err(bad());
                }
            }
        }
    }
    if !num.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(chrono::Duration::seconds(total))
}

/// A LOCATION as a place: its text, the UK postcode in it (so that area search finds it), and GEO.
fn place(location: &str, geo: Option<&str>) -> PlaceInput {
    let words: Vec<&str> = location.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let postcode = words.windows(2).rev().find_map(|w| {
        let (out, inward) = (w[0].to_ascii_uppercase(), w[1].to_ascii_uppercase());
        let inward_ok = inward.len() == 3
            && inward.as_bytes()[0].is_ascii_digit()
            && inward.as_bytes()[1..].iter().all(u8::is_ascii_alphabetic);
        (inward_ok && scaffold_domain::Outcode::parse("", &out).is_ok()).then(|| format!("{out} {inward}"))
    });
    let (latitude, longitude) = geo
        .and_then(|g| g.split_once(';'))
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .map_or((None, None), |(a, b)| (Some(a), Some(b)));
    PlaceInput { name: clip(location, 200), address: None, postcode, latitude, longitude }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_rfc_5545_writes_them() {
        assert_eq!(duration("PT1H30M"), Ok(chrono::Duration::minutes(90)));
        assert_eq!(duration("P1D"), Ok(chrono::Duration::days(1)));
        assert_eq!(duration("P1W"), Ok(chrono::Duration::days(7)));
        assert!(duration("PT").is_err());
        assert!(duration("1H").is_err());
        assert!(duration("P9999999W").is_err());
    }

    #[test]
    fn a_postcode_in_the_location_is_found() {
        let p = place("Wigan Library, Believe Square, Wigan WN1 1NS", None);
        assert_eq!(p.postcode.as_deref(), Some("WN1 1NS"));
        assert_eq!(place("The Old Hall", Some("53.5;-2.6")).latitude, Some(53.5));
        assert_eq!(place("Room 1A 2BC", None).postcode, None);
    }

    #[test]
    fn one_bad_event_is_skipped_and_the_rest_are_read() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
            BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Tea party\r\nDTSTART;TZID=Europe/London:20270105T100000\r\n\
            DTEND;TZID=Europe/London:20270105T120000\r\nRRULE:FREQ=WEEKLY;BYDAY=TU\r\nEXDATE;TZID=Europe/London:20270112T100000\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20270105T100000Z\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=Europe/London:20270119T100000\r\nSTATUS:CANCELLED\r\n\
            SUMMARY:Tea party\r\nDTSTART;TZID=Europe/London:20270119T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let Parsed { items, problems, truncated } = parse(ics, 10).unwrap();
        assert!(!truncated);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].draft.start, "2027-01-05T10:00:00");
        assert_eq!(items[0].draft.exdates, vec!["2027-01-12T10:00:00".to_owned()]);
        assert_eq!(items[0].changes.len(), 1);
        assert_eq!(items[0].changes[0].local_start, "2027-01-19T10:00:00");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].item, "b");
        assert!(parse("<html>", 10).is_err());
        assert!(parse(&ics[..ics.len() - 30], 10).is_err(), "a calendar cut off is refused whole");
        let bad_block = ics.replace("UID:b\r\nDTSTART:20270105T100000Z", "UID:b\r\nDTSTART;;=:x");
        let Parsed { problems, .. } = parse(&bad_block, 10).unwrap();
        assert!(problems.iter().any(|p| p.item == "b"), "an unreadable event is reported by its UID: {problems:?}");
    }
}
