//! Council notices: timely information an operator or an authorised publisher sends to the groups
//! it concerns (their area, by outward codes or a radius, and/or their interests, by category),
//! rather than as a general release. This module owns what a notice is, its checks, and which
//! groups it concerns; publishing, showing and dismissing are the service's.

use crate::event_search::Area;
use crate::group::{Category, Group, GroupStatus, Link};
use crate::{DomainError, FieldError, NoticeId, Outcode, PersonId, codes, text};
use chrono::{DateTime, Duration, Utc};

pub const TITLE_MAX: usize = 120;
pub const BODY_MAX: usize = 4_000;
pub const MAX_LINKS: usize = 5;
pub const MAX_OUTCODES: usize = 50;
/// The longest a notice may stay up.
pub const MAX_DAYS: i64 = 366;
/// The widest radius a notice may target.
pub const MAX_RADIUS_KM: f64 = 50.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: NoticeId,
    pub title: String,
    /// Plain text; paragraphs separated by blank lines.
    pub body: String,
    pub links: Vec<Link>,
    pub outcodes: Vec<Outcode>,
    /// A circle around an outward code's centre.
    pub radius: Option<(Outcode, f64)>,
    pub categories: Vec<Category>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub published_by: PersonId,
    pub created_at: DateTime<Utc>,
}

impl Notice {
    /// Whether it is up at `now`.
    pub fn current(&self, now: DateTime<Utc>) -> bool {
        self.valid_from <= now && now < self.valid_until
    }

    /// Whether the notice concerns the group: an active group of this instance, in the area when
    /// one is targeted (an outward code named, or its point within the radius), with one of the
    /// categories when they are targeted. Both are needed when both are given.
    pub fn concerns(&self, g: &Group) -> bool {
        if g.status != GroupStatus::Active || g.origin.is_some() {
            return false;
        }
        let targets_area = !self.outcodes.is_empty() || self.radius.is_some();
        let in_area = g.area.as_ref().is_some_and(|a| {
            self.outcodes.contains(&a.outcode)
                || self.radius.as_ref().is_some_and(|(centre, km)| {
                    centre.centroid().is_some_and(|(lat, lon)| {
                        Area { lat, lon, radius_km: *km }.distance_km(a.latitude, a.longitude) <= *km
                    })
                })
        });
        let of_interest = self.categories.iter().any(|c| g.categories.contains(c));
        (!targets_area || in_area) && (self.categories.is_empty() || of_interest)
    }
}

/// A notice as a publisher sends it.
#[derive(Debug, Clone, Default)]
pub struct NoticeDraft {
    pub title: String,
    pub body: String,
    pub links: Vec<(String, String)>,
    pub outcodes: Vec<String>,
    pub radius: Option<(String, f64)>,
    pub categories: Vec<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

impl NoticeDraft {
    pub fn validate(&self, id: NoticeId, by: PersonId, now: DateTime<Utc>) -> Result<Notice, DomainError> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<String, FieldError>| r.map_err(|e| errors.push(e)).unwrap_or_default();
        let title = keep(text::bounded("/title", &self.title, 1, TITLE_MAX, false));
        let body = keep(text::bounded("/body", &self.body, 1, BODY_MAX, true));
        let mut links = Vec::new();
        if self.links.len() > MAX_LINKS {
            errors.push(FieldError::new("/links", codes::TOO_MANY, format!("at most {MAX_LINKS} links")));
        }
        for (i, (label, url)) in self.links.iter().enumerate().take(MAX_LINKS) {
            let label = text::bounded(&format!("/links/{i}/label"), label, 1, 80, false);
            let url = text::http_url(&format!("/links/{i}/url"), url, 2_000);
            match (label, url) {
                (Ok(label), Ok(url)) => links.push(Link { label, url }),
                (l, u) => errors.extend(l.err().into_iter().chain(u.err())),
            }
        }
        let mut outcodes = Vec::new();
        if self.outcodes.len() > MAX_OUTCODES {
            errors.push(FieldError::new("/outcodes", codes::TOO_MANY, format!("at most {MAX_OUTCODES} outward codes")));
        }
        for (i, o) in self.outcodes.iter().enumerate().take(MAX_OUTCODES) {
            match Outcode::parse(&format!("/outcodes/{i}"), o) {
                Ok(o) if outcodes.contains(&o) => {}
                Ok(o) => outcodes.push(o),
                Err(e) => errors.push(e),
            }
        }
        let radius = match &self.radius {
            None => None,
            Some((centre, km)) => {
                let centre = Outcode::parse("/radius/outcode", centre).and_then(|o| match o.centroid() {
                    Some(_) => Ok(o),
                    None => Err(FieldError::new("/radius/outcode", codes::UNKNOWN_OUTCODE, "has no known location")),
                });
                if !(0.1..=MAX_RADIUS_KM).contains(km) {
                    errors.push(FieldError::new("/radius/km", codes::OUT_OF_RANGE, "0.1 to 50 km"));
                }
                centre.map_err(|e| errors.push(e)).ok().map(|c| (c, *km))
            }
        };
        let mut categories = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            match Category::parse(c) {
                Some(c) if categories.contains(&c) => {}
                Some(c) => categories.push(c),
                None => errors.push(FieldError::new(
                    format!("/categories/{i}"),
                    codes::INVALID_VALUE,
                    format!("`{c}` is not a category (docs/taxonomy.md)"),
                )),
            }
        }
        if self.outcodes.is_empty() && self.radius.is_none() && self.categories.is_empty() {
            errors.push(FieldError::new(
                "/outcodes",
                codes::REQUIRED,
                "name the groups it is for: outward codes, a radius or categories",
            ));
        }
        let valid_from = self.valid_from.unwrap_or(now);
        let valid_until = match self.valid_until {
            None => {
                errors.push(FieldError::new("/valid_until", codes::REQUIRED, "say until when it applies"));
                valid_from
            }
            Some(u) if u <= valid_from || u <= now => {
                errors.push(FieldError::new(
                    "/valid_until",
                    codes::END_BEFORE_START,
                    "must be after now and after valid_from",
                ));
                u
            }
            Some(u) if u - valid_from > Duration::days(MAX_DAYS) => {
                errors.push(FieldError::new("/valid_until", codes::OUT_OF_RANGE, "a notice stays up at most 366 days"));
                u
            }
            Some(u) => u,
        };
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        Ok(Notice {
            id,
            title,
            body,
            links,
            outcodes,
            radius,
            categories,
            valid_from,
            valid_until,
            published_by: by,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Area as GroupArea;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).single().unwrap_or_default()
    }

    fn notice(d: NoticeDraft) -> Result<Notice, DomainError> {
        d.validate(NoticeId::new_v7(now()), PersonId::new_v7(now()), now())
    }

    fn draft() -> NoticeDraft {
        NoticeDraft {
            title: "Warm spaces open this winter".to_owned(),
            body: "Libraries stay open late.".to_owned(),
            valid_until: Some(now() + Duration::days(30)),
            ..NoticeDraft::default()
        }
    }

    fn group_in(outcode: &str, categories: &[&str]) -> Group {
        use crate::group::{GroupKind, Guidelines, JoinPolicy, Visibility};
        Group {
            id: crate::GroupId(uuid::Uuid::nil()),
            slug: crate::Slug::parse("/slug", "a-group").unwrap_or_else(|_| unreachable!()),
            name: "A group".to_owned(),
            summary: "A group".to_owned(),
            description: None,
            kind: GroupKind::CommunityGroup,
            categories: categories.iter().filter_map(|c| Category::parse(c)).collect(),
            area: GroupArea::new("/area", outcode, None).ok(),
            contact_email: None,
            links: vec![],
            visibility: Visibility::Public,
            join_policy: JoinPolicy::Open,
            guidelines: Guidelines { template: None, text: String::new() },
            identifiers: vec![],
            member_count: 1,
            origin: None,
            status: GroupStatus::Active,
            version: 1,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_notice_names_whom_it_is_for_and_how_long() {
        let e = notice(NoticeDraft { valid_until: None, ..draft() }).unwrap_err();
        let codes: Vec<_> = e.fields.iter().map(|f| (f.pointer.as_str(), f.code)).collect();
        assert_eq!(codes, [("/outcodes", codes::REQUIRED), ("/valid_until", codes::REQUIRED)]);
        let e = notice(NoticeDraft {
            outcodes: vec!["nonsense!".to_owned()],
            radius: Some(("WN1".to_owned(), 500.0)),
            valid_until: Some(now() - Duration::hours(1)),
            ..draft()
        })
        .unwrap_err();
        let pointers: Vec<_> = e.fields.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/outcodes/0", "/radius/km", "/valid_until"]);
    }

    #[test]
    fn it_concerns_groups_in_its_area_and_of_its_interests() {
        let wn1 = notice(NoticeDraft { outcodes: vec!["wn1".to_owned()], ..draft() }).unwrap();
        assert!(wn1.concerns(&group_in("WN1", &[])));
        assert!(!wn1.concerns(&group_in("WN2", &[])));
        let food_wn1 =
            notice(NoticeDraft { outcodes: vec!["WN1".to_owned()], categories: vec!["food".to_owned()], ..draft() })
                .unwrap();
        assert!(food_wn1.concerns(&group_in("WN1", &["food"])));
        assert!(!food_wn1.concerns(&group_in("WN1", &["sport"])), "both area and interest when both are named");
        let near = notice(NoticeDraft { radius: Some(("WN1".to_owned(), 3.0)), ..draft() }).unwrap();
        assert!(near.concerns(&group_in("WN1", &[])));
        assert!(!near.concerns(&group_in("M1", &[])), "Manchester is further than 3 km from Wigan");
        let mut archived = group_in("WN1", &[]);
        archived.status = GroupStatus::Archived;
        assert!(!wn1.concerns(&archived));
        assert!(wn1.current(now()) && !wn1.current(now() + Duration::days(31)));
    }
}
