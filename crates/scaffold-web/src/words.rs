//! How the pages say things: labels for the domain's enumerations, local times with their zone,
//! and a series' rule in plain words ("Every Tuesday, 10:00 to 12:00").

use chrono::{DateTime, Datelike, NaiveDateTime, Utc, Weekday};
use chrono_tz::Tz;
use scaffold_domain::event::{AccessibilityFeature, BookingMode, Event};
use scaffold_domain::group::{Category, GroupKind, IdentifierScheme, JoinPolicy};

pub fn category(c: Category) -> &'static str {
    c.label()
}

pub fn feature(f: AccessibilityFeature) -> &'static str {
    match f {
        AccessibilityFeature::StepFree => "Step-free access",
        AccessibilityFeature::AccessibleToilet => "Accessible toilet",
        AccessibilityFeature::HearingLoop => "Hearing loop",
        AccessibilityFeature::AccessibleParking => "Accessible parking",
        AccessibilityFeature::QuietSpace => "Quiet space",
        AccessibilityFeature::SignLanguage => "Sign language",
        AccessibilityFeature::LargePrint => "Large print",
        AccessibilityFeature::AssistanceDogsWelcome => "Assistance dogs welcome",
        AccessibilityFeature::Seating => "Seating available",
        AccessibilityFeature::ChangingPlaces => "Changing Places toilet",
    }
}

pub fn kind(k: GroupKind) -> &'static str {
    match k {
        GroupKind::CommunityGroup => "Community group",
        GroupKind::Charity => "Charity",
        GroupKind::SocialEnterprise => "Social enterprise",
        GroupKind::FaithGroup => "Faith group",
        GroupKind::SportsClub => "Sports club",
        GroupKind::ResidentsAssociation => "Residents' association",
        GroupKind::MutualAid => "Mutual aid group",
        GroupKind::PublicService => "Public service",
    }
}

pub fn how_to_join(p: JoinPolicy) -> &'static str {
    match p {
        JoinPolicy::Open => "Anyone can join: sign in and choose Join.",
        JoinPolicy::Approval => "Ask to join: sign in and choose Join, and an organiser will approve your request.",
        JoinPolicy::Invite => "By invitation: contact the group to ask about joining.",
    }
}

pub fn register(s: IdentifierScheme) -> &'static str {
    match s {
        IdentifierScheme::CharityEnglandWales => "Registered charity (England and Wales)",
        IdentifierScheme::CharityScotland => "Registered charity (Scotland)",
        IdentifierScheme::CharityNorthernIreland => "Registered charity (Northern Ireland)",
        IdentifierScheme::Company => "Registered company",
    }
}

pub fn booking(b: BookingMode) -> &'static str {
    match b {
        BookingMode::DropIn => "Drop in: no need to book.",
        BookingMode::Rsvp => "Please reply so the organisers know you are coming.",
        BookingMode::External => "Book through the organiser's booking page.",
    }
}

/// "Free", or the price with any concessions.
pub fn cost(e: &Event) -> String {
    match e.price_pence {
        None | Some(0) => "Free".to_owned(),
        Some(p) => {
            let price = format!("£{}.{:02}", p / 100, p % 100);
            match &e.concessions {
                Some(c) => format!("{price} ({c})"),
                None => price,
            }
        }
    }
}

/// The local time range of one occurrence: "Tuesday 31 March 2026, 10:00 to 12:00 BST".
pub fn local_range(start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz, all_day: bool) -> String {
    let (s, e) = (start.with_timezone(&zone), end.with_timezone(&zone));
    if all_day {
        return s.format("%A %-d %B %Y (all day)").to_string();
    }
    if s.date_naive() == e.date_naive() {
        format!("{}, {} to {} {}", s.format("%A %-d %B %Y"), s.format("%H:%M"), e.format("%H:%M"), e.format("%Z"))
    } else {
        format!("{} to {}", s.format("%A %-d %B %Y, %H:%M %Z"), e.format("%A %-d %B %Y, %H:%M %Z"))
    }
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn ordinal(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        -1 => "last",
        _ => return None,
    })
}

fn list(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A series' rule in words, with its local times: "Every Tuesday, 10:00 to 12:00". Rules the
/// words do not cover are "Repeats" with the times (the dates are listed beside it).
pub fn series(rule: &str, start: NaiveDateTime, end: NaiveDateTime, all_day: bool) -> String {
    let times =
        if all_day { "all day".to_owned() } else { format!("{} to {}", start.format("%H:%M"), end.format("%H:%M")) };
    match pattern(rule, start) {
        Some(p) => format!("{p}, {times}"),
        None => format!("Repeats, {times}"),
    }
}

fn pattern(rule: &str, start: NaiveDateTime) -> Option<String> {
    let parts: Vec<(&str, &str)> = rule.split(';').filter_map(|p| p.split_once('=')).collect();
    let get = |k: &str| parts.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    if parts
        .iter()
        .any(|(k, _)| !matches!(*k, "FREQ" | "INTERVAL" | "BYDAY" | "BYMONTHDAY" | "COUNT" | "UNTIL" | "WKST"))
    {
        return None;
    }
    let interval: u32 = get("INTERVAL").map_or(Some(1), |i| i.parse().ok())?;
    let days = get("BYDAY").map(|d| d.split(',').collect::<Vec<_>>()).unwrap_or_default();
    match get("FREQ")? {
        "DAILY" if days.is_empty() => {
            Some(if interval == 1 { "Every day".into() } else { format!("Every {interval} days") })
        }
        "WEEKLY" => {
            let named: Vec<String> = if days.is_empty() {
                vec![day_name(start.weekday()).to_owned()]
            } else {
                days.iter().map(|d| weekday(d).map(|w| day_name(w).to_owned())).collect::<Option<_>>()?
            };
            Some(match interval {
                1 => format!("Every {}", list(&named)),
                2 => format!("Every other {}", list(&named)),
                n => format!("Every {n} weeks on {}", list(&named)),
            })
        }
        "MONTHLY" => {
            let every = if interval == 1 { "Every month".to_owned() } else { format!("Every {interval} months") };
            match (days.as_slice(), get("BYMONTHDAY")) {
                ([day], None) => {
                    let (n, code) = day.split_at(day.len().checked_sub(2)?);
                    let which = ordinal(n.parse().ok()?)?;
                    Some(format!("{every} on the {which} {}", day_name(weekday(code)?)))
                }
                ([], Some(d)) => Some(format!("{every} on day {d}")),
                ([], None) => Some(format!("{every} on day {}", start.day())),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap_or_default()
    }

    #[test]
    fn series_are_said_in_words() {
        let (s, e) = (at("2026-03-03T10:00"), at("2026-03-03T12:00"));
        let say = |rule: &str| series(rule, s, e, false);
        assert_eq!(say("FREQ=WEEKLY;BYDAY=TU"), "Every Tuesday, 10:00 to 12:00");
        assert_eq!(say("FREQ=WEEKLY"), "Every Tuesday, 10:00 to 12:00");
        assert_eq!(say("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"), "Every other Tuesday and Thursday, 10:00 to 12:00");
        assert_eq!(
            say("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE,FR"),
            "Every 3 weeks on Monday, Wednesday and Friday, 10:00 to 12:00"
        );
        assert_eq!(say("FREQ=MONTHLY;BYDAY=1TU"), "Every month on the first Tuesday, 10:00 to 12:00");
        assert_eq!(say("FREQ=MONTHLY;BYDAY=-1FR;COUNT=6"), "Every month on the last Friday, 10:00 to 12:00");
        assert_eq!(say("FREQ=MONTHLY;BYMONTHDAY=15"), "Every month on day 15, 10:00 to 12:00");
        assert_eq!(say("FREQ=DAILY;INTERVAL=2"), "Every 2 days, 10:00 to 12:00");
        assert_eq!(say("FREQ=YEARLY"), "Repeats, 10:00 to 12:00");
        assert_eq!(say("FREQ=MONTHLY;BYDAY=TU"), "Repeats, 10:00 to 12:00");
        assert_eq!(say("FREQ=WEEKLY;BYSETPOS=1"), "Repeats, 10:00 to 12:00");
    }

    #[test]
    fn times_carry_their_zone() {
        let summer = DateTime::parse_from_rfc3339("2026-03-31T09:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        let end = summer + chrono::Duration::hours(2);
        assert_eq!(
            local_range(summer, end, chrono_tz::Europe::London, false),
            "Tuesday 31 March 2026, 10:00 to 12:00 BST"
        );
    }
}
