//! The public directory as Open Referral UK sees it: public, active groups of this instance's own
//! (each an organisation providing one service) in numbered pages, by words, category, distance
//! from a postcode and time of change, and one group with its events. What is shown is what an
//! anonymous caller may see; imported groups are left to the directories they come from. The ORUK
//! shapes are made by the REST transport.

use crate::{Service, store_error};
use scaffold_domain::event::Event;
use scaffold_domain::group::{Group, Visibility};
use scaffold_domain::{Actor, DomainError, GroupId, codes};
use scaffold_store::GroupQuery;

/// The most items an ORUK page holds.
pub const ORUK_MAX_PER_PAGE: u32 = 100;
/// Events shown with one service (its schedules and locations).
const EVENTS_PER_SERVICE: u32 = 50;

/// One numbered page of a directory listing.
#[derive(Debug, Clone)]
pub struct NumberedPage<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// The most `proximity` (meters) a search may ask for.
pub const PROXIMITY_MAX_METERS: u32 = 200_000;

/// A directory search.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery<'a> {
    pub text: Option<&'a str>,
    pub category: Option<scaffold_domain::group::Category>,
    /// A UK postcode or outward code: groups in its district, or with `proximity` within that
    /// many meters of the district's centre.
    pub postcode: Option<&'a str>,
    pub proximity: Option<&'a str>,
    /// Groups changed at or after this (RFC 3339, or a date).
    pub modified_after: Option<&'a str>,
    pub page: u32,
    pub per_page: u32,
}

fn page_error(pointer: &str, message: &str) -> DomainError {
    DomainError::invalid_field(pointer, codes::OUT_OF_RANGE, message)
}

impl Service {
    /// Public groups by name, page `page` (from 1) of `per_page` (1 to 100), whose name or
    /// summary has every word of `text`, in `category`.
    pub async fn directory_groups(&self, d: &DirectoryQuery<'_>) -> Result<NumberedPage<Group>, DomainError> {
        let (page, per_page) = (d.page, d.per_page);
        if page == 0 {
            return Err(page_error("/page", "pages are numbered from 1"));
        }
        if per_page == 0 || per_page > ORUK_MAX_PER_PAGE {
            return Err(page_error("/per_page", "per_page is 1 to 100"));
        }
        let offset = (page - 1).checked_mul(per_page).ok_or_else(|| page_error("/page", "that page is too far"))?;
        let words = crate::groups::text_words("/search", d.text)?;
        let mut q = GroupQuery {
            text: words,
            category: d.category,
            offset,
            limit: per_page,
            local_only: true,
            ..GroupQuery::default()
        };
        if let Some(pc) = d.postcode {
            // `WN1 1NS`, `WN11NS` or the outward code alone: a full postcode ends with its
            // three-character inward code.
            let compact: String = pc.chars().filter(|c| !c.is_whitespace()).collect();
            let out = if pc.split_whitespace().count() > 1 {
                pc.split_whitespace().next().unwrap_or_default().to_owned()
            } else if compact.len() >= 5 && compact.as_bytes().get(compact.len() - 3).is_some_and(u8::is_ascii_digit) {
                compact[..compact.len() - 3].to_owned()
            } else {
                compact
            };
            let out = out.as_str();
            let outcode =
                scaffold_domain::Outcode::parse("/postcode", out).map_err(|e| DomainError::invalid(vec![e]))?;
            match d.proximity {
                None => q.outcode = Some(outcode.as_str().to_owned()),
                Some(p) => {
                    let meters =
                        p.trim().parse::<u32>().ok().filter(|m| (1..=PROXIMITY_MAX_METERS).contains(m)).ok_or_else(
                            || {
                                DomainError::invalid_field(
                                    "/proximity",
                                    codes::OUT_OF_RANGE,
                                    format!("proximity is a whole number of meters, 1 to {PROXIMITY_MAX_METERS}"),
                                )
                            },
                        )?;
                    let (latitude, longitude) = outcode.centroid().ok_or_else(|| {
                        DomainError::invalid_field(
                            "/postcode",
                            codes::UNKNOWN_OUTCODE,
                            "is not a known UK postcode district",
                        )
                    })?;
                    q.near = Some(scaffold_store::Near { latitude, longitude, meters: f64::from(meters) });
                }
            }
        } else if d.proximity.is_some() {
            return Err(DomainError::invalid_field("/postcode", codes::REQUIRED, "proximity needs a postcode"));
        }
        if let Some(m) = d.modified_after {
            // An unencoded `+` of an offset arrives as a space.
            let m = m.trim().replace(' ', "+");
            let m = m.as_str();
            let at = chrono::DateTime::parse_from_rfc3339(m)
                .map(|t| t.with_timezone(&chrono::Utc))
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(m, "%Y-%m-%d")
                        .ok()
                        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                })
                .ok_or_else(|| {
                    DomainError::invalid_field(
                        "/modified_after",
                        codes::INVALID,
                        "must be a date-time (RFC 3339, e.g. 2026-12-01T09:00:00Z) or a date",
                    )
                })?;
            q.modified_after = Some(at);
        }
        let items = self.store.list_groups(&q).await.map_err(store_error)?;
        let total = self.store.count_groups(&q).await.map_err(store_error)?;
        Ok(NumberedPage { items, total, page, per_page })
    }

    /// A public group with its first events (for its ORUK service); 404 for any other.
    pub async fn directory_group(&self, id: GroupId) -> Result<(Group, Vec<Event>), DomainError> {
        let anonymous = Actor::anonymous();
        let view = self.group(&anonymous, &crate::groups::GroupRef::Id(id)).await?;
        if view.group.visibility != Visibility::Public || view.group.origin.is_some() {
            return Err(GroupId::not_found());
        }
        let events = self.store.events_of_group(id, None, EVENTS_PER_SERVICE).await.map_err(store_error)?;
        Ok((view.group, events))
    }
}
