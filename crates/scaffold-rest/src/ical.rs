//! iCalendar (RFC 5545) for events and series: one VEVENT per event with its RRULE and EXDATEs,
//! one VEVENT per changed occurrence (same UID, `RECURRENCE-ID`), `STATUS:CANCELLED` where
//! cancelled, a VTIMEZONE for every TZID used (explicit transitions computed from the tz
//! database), stable UIDs, `DTSTAMP` from stored data, escaping, CRLF line ends and 75-octet
//! folding. Written by hand: the Rust `icalendar` crate invents UIDs and stamps when unset and does
//! not write VTIMEZONEs.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use scaffold_domain::event::{Event, EventStatus, OccurrenceOverride, Place};
use std::collections::BTreeSet;

pub const PRODID: &str = "-//Community Scaffold//Events//EN";
/// VTIMEZONEs cover transitions from the year before the earliest event to this many years on.
const ZONE_YEARS_AHEAD: i32 = 10;

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded at 75 octets without splitting a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn local(t: &NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn utc(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

/// The zone's offset changes between `from` and `to`: (instant, offset before, offset after).
fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, i32, i32)> {
    let off = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
    let mut out = Vec::new();
    let mut prev_t = from;
    let mut prev = off(from);
    let mut t = from + Duration::days(1);
    while t <= to {
        let now = off(t);
        if now != prev {
            // Binary search to the second, on whole seconds.
            let (mut lo, mut hi) = (prev_t.timestamp(), t.timestamp());
            let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(t);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if off(at(mid)) == prev {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push((at(hi), prev, now));
            prev = now;
        }
        prev_t = t;
        t += Duration::days(1);
    }
    out
}

fn vtimezone(out: &mut String, tz: Tz, first_year: i32) {
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{}", tz.name()));
    let from = Utc.with_ymd_and_hms(first_year - 1, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let to = Utc.with_ymd_and_hms(first_year + ZONE_YEARS_AHEAD, 12, 31, 0, 0, 0).single().unwrap_or_default();
    let list = transitions(tz, from, to);
    if list.is_empty() {
        // A zone without changes in the range: one STANDARD component.
        let o = tz.offset_from_utc_datetime(&from.naive_utc());
        let secs = o.fix().local_minus_utc();
        line(out, "BEGIN:STANDARD");
        line(out, "DTSTART:19700101T000000");
        line(out, &format!("TZOFFSETFROM:{}", offset(secs)));
        line(out, &format!("TZOFFSETTO:{}", offset(secs)));
        if let Some(name) = o.abbreviation() {
            line(out, &format!("TZNAME:{}", text(name)));
        }
        line(out, "END:STANDARD");
    }
    for (at, before, after) in list {
        let o = tz.offset_from_utc_datetime(&at.naive_utc());
        let kind = if o.dst_offset().is_zero() { "STANDARD" } else { "DAYLIGHT" };
        let starts = at.naive_utc() + Duration::seconds(i64::from(before));
        line(out, &format!("BEGIN:{kind}"));
        line(out, &format!("DTSTART:{}", local(&starts)));
        line(out, &format!("TZOFFSETFROM:{}", offset(before)));
        line(out, &format!("TZOFFSETTO:{}", offset(after)));
        if let Some(name) = o.abbreviation() {
            line(out, &format!("TZNAME:{}", text(name)));
        }
        line(out, &format!("END:{kind}"));
    }
    line(out, "END:VTIMEZONE");
}

fn status(s: EventStatus) -> &'static str {
    match s {
        EventStatus::Scheduled => "CONFIRMED",
        EventStatus::Cancelled => "CANCELLED",
        EventStatus::Postponed => "TENTATIVE",
    }
}

fn location(out: &mut String, place: Option<&Place>, online: Option<&str>) {
    if let Some(p) = place {
        let mut parts = vec![p.name.clone()];
        parts.extend(p.address.clone());
        parts.extend(p.postcode.clone());
        line(out, &format!("LOCATION:{}", text(&parts.join(", "))));
        if let (Some(la), Some(lo)) = (p.latitude, p.longitude) {
            line(out, &format!("GEO:{la:.6};{lo:.6}"));
        }
    } else if let Some(u) = online {
        line(out, &format!("LOCATION:{}", text(u)));
    }
}

fn times(out: &mut String, e: &Event, start: NaiveDateTime, end: NaiveDateTime) {
    let tz = e.timezone.name();
    if e.all_day {
        line(out, &format!("DTSTART;VALUE=DATE:{}", start.format("%Y%m%d")));
        line(out, &format!("DTEND;VALUE=DATE:{}", end.format("%Y%m%d")));
    } else {
        line(out, &format!("DTSTART;TZID={tz}:{}", local(&start)));
        line(out, &format!("DTEND;TZID={tz}:{}", local(&end)));
    }
}

/// Where an imported event comes from: said in its description, and as properties calendar tools
/// can read (RFC 5545 §3.8.8.2 allows `X-` properties).
fn origin(out: &mut String, e: &Event) {
    if let Some(o) = &e.origin {
        line(out, &format!("X-ORIGIN-SOURCE:{}", text(&o.source_name)));
        // A URI value, not text: written as it is (imported URLs are checked http(s) URLs with
        // no spaces or control characters).
        if let Some(u) = o.url.as_deref().filter(|u| !u.chars().any(char::is_control)) {
            line(out, &format!("X-ORIGIN-URL;VALUE=URI:{u}"));
        }
    }
}

/// The description, with where an imported event comes from first.
fn described(e: &Event, body: String) -> String {
    match &e.origin {
        Some(o) => format!("Listed from {}.\n\n{body}", o.source_name),
        None => body,
    }
}

/// A calendar of events with their changed occurrences. `host` makes UIDs globally unique;
/// `url` gives each event's page.
pub fn calendar(
    name: &str,
    host: &str,
    events: &[(Event, Vec<OccurrenceOverride>)],
    url: impl Fn(&Event) -> String,
) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    let zones: BTreeSet<&str> = events.iter().filter(|(e, _)| !e.all_day).map(|(e, _)| e.timezone.name()).collect();
    for z in zones {
        if let Ok(tz) = z.parse::<Tz>() {
            let first =
                events.iter().filter(|(e, _)| e.timezone == tz).map(|(e, _)| e.start.year()).min().unwrap_or(1970);
            vtimezone(&mut out, tz, first);
        }
    }
    for (e, overrides) in events {
        let uid = format!("{}@{host}", e.id);
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{uid}"));
        line(&mut out, &format!("DTSTAMP:{}", utc(&e.updated_at)));
        line(&mut out, &format!("CREATED:{}", utc(&e.created_at)));
        line(&mut out, &format!("LAST-MODIFIED:{}", utc(&e.updated_at)));
        line(&mut out, &format!("SEQUENCE:{}", e.version.saturating_sub(1)));
        times(&mut out, e, e.start, e.end);
        line(&mut out, &format!("SUMMARY:{}", text(&e.title)));
        let mut description = e.summary.clone();
        if let Some(d) = &e.description {
            description.push_str("\n\n");
            description.push_str(d);
        }
        line(&mut out, &format!("DESCRIPTION:{}", text(&described(e, description))));
        location(&mut out, e.place.as_ref(), e.online_url.as_deref());
        line(&mut out, &format!("URL:{}", url(e)));
        origin(&mut out, e);
        line(&mut out, &format!("STATUS:{}", status(e.status)));
        if !e.categories.is_empty() {
            let cats: Vec<String> = e.categories.iter().map(|c| text(c.as_str())).collect();
            line(&mut out, &format!("CATEGORIES:{}", cats.join(",")));
        }
        if let Some(r) = &e.recurrence {
            // Validation required UNTIL in UTC (RFC 5545 with a zoned DTSTART).
            line(&mut out, &format!("RRULE:{}", r.rule));
            for x in &r.exdates {
                if e.all_day {
                    line(&mut out, &format!("EXDATE;VALUE=DATE:{}", x.format("%Y%m%d")));
                } else {
                    line(&mut out, &format!("EXDATE;TZID={}:{}", e.timezone.name(), local(x)));
                }
            }
        }
        line(&mut out, "END:VEVENT");
        for ov in overrides {
            let length = e.end - e.start;
            let (start, end) = match (ov.start, ov.end) {
                (Some(s), Some(t)) => (s, t),
                _ => (ov.local_start, ov.local_start + length),
            };
            line(&mut out, "BEGIN:VEVENT");
            line(&mut out, &format!("UID:{uid}"));
            line(&mut out, &format!("DTSTAMP:{}", utc(&e.updated_at)));
            if e.all_day {
                line(&mut out, &format!("RECURRENCE-ID;VALUE=DATE:{}", ov.local_start.format("%Y%m%d")));
            } else {
                line(&mut out, &format!("RECURRENCE-ID;TZID={}:{}", e.timezone.name(), local(&ov.local_start)));
            }
            line(&mut out, &format!("SEQUENCE:{}", e.version.saturating_sub(1)));
            times(&mut out, e, start, end);
            let title = match (&ov.status, &ov.reason) {
                (EventStatus::Scheduled, _) | (_, None) => e.title.clone(),
                (_, Some(reason)) => format!("{} ({reason})", e.title),
            };
            line(&mut out, &format!("SUMMARY:{}", text(&title)));
            location(&mut out, ov.place.as_ref().or(e.place.as_ref()), e.online_url.as_deref());
            let s = if e.status == EventStatus::Scheduled { ov.status } else { e.status };
            line(&mut out, &format!("STATUS:{}", status(s)));
            line(&mut out, "END:VEVENT");
        }
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// One date of an event as its own VEVENT.
struct Dated<'a> {
    event: &'a Event,
    local_start: NaiveDateTime,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// The date's place when it is held elsewhere than the series.
    place: Option<&'a Place>,
    /// `STATUS`: the date's own, or the person's reply's.
    status: &'static str,
    /// Said before the summary in `DESCRIPTION`.
    note: Option<&'static str>,
}

/// A calendar of single dates: each is its own VEVENT, its UID made of the event's id and the
/// date's series local start, so it stays the same across refreshes.
fn dates_calendar(name: &str, host: &str, dates: &[Dated<'_>], url: impl Fn(&Event) -> String) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    let zones: BTreeSet<&str> = dates.iter().filter(|d| !d.event.all_day).map(|d| d.event.timezone.name()).collect();
    for z in zones {
        if let Ok(tz) = z.parse::<Tz>() {
            let first = dates
                .iter()
                .filter(|d| d.event.timezone == tz)
                .map(|d| d.start.with_timezone(&tz).year())
                .min()
                .unwrap_or(1970);
            vtimezone(&mut out, tz, first);
        }
    }
    for d in dates {
        let e = d.event;
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}-{}@{host}", e.id, d.local_start.format("%Y%m%dT%H%M%S")));
        line(&mut out, &format!("DTSTAMP:{}", utc(&e.updated_at)));
        line(&mut out, &format!("LAST-MODIFIED:{}", utc(&e.updated_at)));
        line(&mut out, &format!("SEQUENCE:{}", e.version.saturating_sub(1)));
        let (start, end) =
            (d.start.with_timezone(&e.timezone).naive_local(), d.end.with_timezone(&e.timezone).naive_local());
        times(&mut out, e, start, end);
        line(&mut out, &format!("SUMMARY:{}", text(&e.title)));
        let description = match d.note {
            Some(note) => format!("{note}\n\n{}", e.summary),
            None => e.summary.clone(),
        };
        line(&mut out, &format!("DESCRIPTION:{}", text(&described(e, description))));
        location(&mut out, d.place.or(e.place.as_ref()), e.online_url.as_deref());
        line(&mut out, &format!("URL:{}", url(e)));
        origin(&mut out, e);
        line(&mut out, &format!("STATUS:{}", d.status));
        if !e.categories.is_empty() {
            let cats: Vec<String> = e.categories.iter().map(|c| text(c.as_str())).collect();
            line(&mut out, &format!("CATEGORIES:{}", cats.join(",")));
        }
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// A calendar of single occurrences (a search).
pub fn occurrences_calendar(
    name: &str,
    host: &str,
    found: &[scaffold_service::search::Found],
    url: impl Fn(&Event) -> String,
) -> String {
    let dates: Vec<Dated<'_>> = found
        .iter()
        .map(|f| Dated {
            event: &f.event,
            local_start: f.occurrence.local_start,
            start: f.occurrence.start,
            end: f.occurrence.end,
            place: f.occurrence.place.as_ref(),
            status: status(f.occurrence.status),
            note: None,
        })
        .collect();
    dates_calendar(name, host, &dates, url)
}

/// A person's calendar: the dates they replied going or maybe to. A date where they wait for a
/// place, or said maybe, is `TENTATIVE` and says so; a cancelled date is `CANCELLED`.
pub fn personal_calendar(
    name: &str,
    host: &str,
    dates: &[scaffold_service::my_dates::MyDate],
    url: impl Fn(&Event) -> String,
) -> String {
    use scaffold_domain::rsvp::RsvpState;
    let dates: Vec<Dated<'_>> = dates
        .iter()
        .map(|d| {
            let (state, note) = match (d.occurrence.status, d.rsvp.state) {
                (EventStatus::Scheduled, RsvpState::Confirmed) => ("CONFIRMED", Some("You have a place.")),
                (EventStatus::Scheduled, RsvpState::Waitlisted) => ("TENTATIVE", Some("You are on the waiting list.")),
                (EventStatus::Scheduled, RsvpState::NotAttending) => ("TENTATIVE", Some("You said maybe.")),
                (s, _) => (status(s), None),
            };
            Dated {
                event: &d.event,
                local_start: d.occurrence.local_start,
                start: d.occurrence.start,
                end: d.occurrence.end,
                place: d.occurrence.place.as_ref(),
                status: state,
                note,
            }
        })
        .collect();
    dates_calendar(name, host, &dates, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let long = format!("DESCRIPTION:{}", "é".repeat(60));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("Tea; cake, and\nhelp \\ more"), "Tea\\; cake\\, and\\nhelp \\\\ more");
    }

    #[test]
    fn london_transitions_are_found_to_the_second() {
        let tz: Tz = "Europe/London".parse().unwrap();
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();
        let t = transitions(tz, from, to);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].0, t[0].1, t[0].2), (Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap(), 0, 3600));
        assert_eq!((t[1].0, t[1].1, t[1].2), (Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap(), 3600, 0));
    }

    /// Undoes `text`'s escaping.
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    proptest::proptest! {
        /// Any text, once escaped and written as a folded content line, is valid RFC 5545 (no bare
        /// CR or LF, no unescaped separator, lines of at most 75 octets) and reads back as the
        /// text without its control characters.
        #[test]
        fn any_text_escapes_folds_and_reads_back(s in proptest::prelude::any::<String>()) {
            let mut out = String::new();
            line(&mut out, &format!("SUMMARY:{}", text(&s)));
            proptest::prop_assert!(out.ends_with("\r\n"));
            let physical: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
            for l in &physical {
                proptest::prop_assert!(l.len() <= 75, "{} octets", l.len());
                proptest::prop_assert!(!l.contains(['\r', '\n']));
            }
            let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
            let value = unfolded.strip_prefix("SUMMARY:").unwrap_or_default();
            let mut escaped = false;
            for c in value.chars() {
                proptest::prop_assert!(escaped || !matches!(c, ';' | ','), "an unescaped separator in {value:?}");
                escaped = !escaped && c == '\\';
            }
            let expected: String = s.chars().filter(|c| *c == '\n' || !c.is_control()).collect();
            proptest::prop_assert_eq!(unescape(value), expected);
        }
    }
}
