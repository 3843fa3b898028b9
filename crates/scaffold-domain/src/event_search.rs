//! Finding upcoming occurrences: the rules for a search (area, dates, filters) and the distance
//! arithmetic. The store filters on a latitude/longitude box through an index; the exact
//! great-circle distance is checked here.

use crate::codes;
use crate::event::{AccessibilityFeature, LISTING_AHEAD_DAYS, LISTING_PAST_DAYS};
use crate::group::Category;
use crate::{DomainError, FieldError, Outcode};
use chrono::{DateTime, Duration, Utc};

/// The largest radius, in kilometres.
pub const MAX_RADIUS_KM: f64 = 200.0;
/// The radius when an area is given without one.
pub const DEFAULT_RADIUS_KM: f64 = 5.0;
/// The longest date range, in days.
pub const MAX_RANGE_DAYS: i64 = 92;
/// The range when only a start (or nothing) is given.
pub const DEFAULT_RANGE_DAYS: i64 = 14;
const EARTH_RADIUS_KM: f64 = 6371.0088;
const KM_PER_DEGREE: f64 = 111.195;

/// A search as the transports receive it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchDraft {
    pub outcode: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_km: Option<f64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub category: Option<Category>,
    pub accessibility: Option<AccessibilityFeature>,
    pub q: Option<String>,
}

/// A circle on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

/// A checked search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub area: Option<Area>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub category: Option<Category>,
    pub accessibility: Option<AccessibilityFeature>,
    /// Lower-cased words, all of which must match.
    pub words: Vec<String>,
}

impl SearchDraft {
    /// Checks every parameter and reports every problem at once.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<Search, DomainError> {
        let mut errors = Vec::new();
        let centre = match (&self.outcode, self.lat, self.lon) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                errors.push(FieldError::new("/outcode", codes::AREA_TWICE, "give an outcode or lat and lon, not both"));
                None
            }
            (Some(code), None, None) => match Outcode::parse("/outcode", code) {
                Ok(o) => match o.centroid() {
                    Some(c) => Some(c),
                    None => {
                        errors.push(FieldError::new("/outcode", codes::UNKNOWN_OUTCODE, "has no known location"));
                        None
                    }
                },
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            (None, Some(lat), Some(lon)) => {
                let mut ok = true;
                if !(-90.0..=90.0).contains(&lat) {
                    errors.push(FieldError::new("/lat", codes::OUT_OF_RANGE, "latitude is -90 to 90"));
                    ok = false;
                }
                if !(-180.0..=180.0).contains(&lon) {
                    errors.push(FieldError::new("/lon", codes::OUT_OF_RANGE, "longitude is -180 to 180"));
                    ok = false;
                }
                ok.then_some((lat, lon))
            }
            (None, Some(_), None) => {
                errors.push(FieldError::new("/lon", codes::REQUIRED, "give lon with lat"));
                None
            }
            (None, None, Some(_)) => {
                errors.push(FieldError::new("/lat", codes::REQUIRED, "give lat with lon"));
                None
            }
            (None, None, None) => None,
        };
        let area_given = self.outcode.is_some() || self.lat.is_some() || self.lon.is_some();
        let radius_km = match self.radius_km {
            Some(r) if !r.is_finite() || r <= 0.0 || r > MAX_RADIUS_KM => {
                errors.push(FieldError::new(
                    "/radius_km",
                    codes::RADIUS_OUT_OF_RANGE,
                    format!("must be more than 0 and at most {MAX_RADIUS_KM} km"),
                ));
                None
            }
            Some(_) if !area_given => {
                errors.push(FieldError::new(
                    "/radius_km",
                    codes::AREA_REQUIRED,
                    "a radius needs an outcode or lat and lon",
                ));
                None
            }
            r => Some(r.unwrap_or(DEFAULT_RADIUS_KM)),
        };
        let from = self.from.unwrap_or(now);
        let to = self.to.unwrap_or(from + Duration::days(DEFAULT_RANGE_DAYS));
        if to <= from {
            errors.push(FieldError::new("/to", codes::DATE_RANGE_EMPTY, "must be after from"));
        } else if to - from > Duration::days(MAX_RANGE_DAYS) {
            errors.push(FieldError::new(
                "/to",
                codes::DATE_RANGE_TOO_LONG,
                format!("a search spans at most {MAX_RANGE_DAYS} days"),
            ));
        }
        if from < now - Duration::days(LISTING_PAST_DAYS) {
            errors.push(FieldError::new(
                "/from",
                codes::DATE_RANGE_OUTSIDE_LISTINGS,
                format!("search finds occurrences from {LISTING_PAST_DAYS} day ago onwards"),
            ));
        }
        if to > now + Duration::days(LISTING_AHEAD_DAYS) {
            errors.push(FieldError::new(
                "/to",
                codes::DATE_RANGE_OUTSIDE_LISTINGS,
                format!("search finds occurrences up to {LISTING_AHEAD_DAYS} days ahead"),
            ));
        }
        let words = match &self.q {
            None => Vec::new(),
            Some(q) => {
                let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
                if q.chars().count() > 200 || words.len() > 8 {
                    errors.push(FieldError::new("/q", codes::TOO_LONG, "at most 8 words and 200 characters"));
                }
                words
            }
        };
        if !errors.is_empty() {
            return Err(DomainError::invalid(errors));
        }
        let area = centre.zip(radius_km).map(|((lat, lon), radius_km)| Area { lat, lon, radius_km });
        Ok(Search { area, from, to, category: self.category, accessibility: self.accessibility, words })
    }
}

impl Area {
    /// A latitude/longitude box (south, north, west, east) that contains the circle, for an
    /// index range scan; near the poles it spans every longitude.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let dlat = self.radius_km / KM_PER_DEGREE;
        let (south, north) = ((self.lat - dlat).max(-90.0), (self.lat + dlat).min(90.0));
        let widest = south.abs().max(north.abs()).to_radians().cos();
        if widest < 1e-6 {
            return (south, north, -180.0, 180.0);
        }
        let dlon = (self.radius_km / (KM_PER_DEGREE * widest)).min(180.0);
        (south, north, self.lon - dlon, self.lon + dlon)
    }

    /// The centre as a point on the unit sphere (see [`unit_vector`]).
    pub fn centre(&self) -> [f64; 3] {
        unit_vector(self.lat, self.lon)
    }

    /// The smallest dot product of the centre's unit vector with a point's that is within the
    /// circle: a point is within `radius_km` (great-circle) exactly when `centre · point` is at least
    /// this, which a database checks with arithmetic alone.
    pub fn min_dot(&self) -> f64 {
        (self.radius_km / EARTH_RADIUS_KM).min(std::f64::consts::PI).cos()
    }

    /// The great-circle distance from the centre, in kilometres (haversine).
    pub fn distance_km(&self, lat: f64, lon: f64) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), lat.to_radians());
        let (dp, dl) = ((lat - self.lat).to_radians(), (lon - self.lon).to_radians());
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }
}

/// A latitude and longitude as a point on the unit sphere (x towards 0°N 0°E, z to the North Pole).
pub fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [phi.cos() * lambda.cos(), phi.cos() * lambda.sin(), phi.sin()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 28, 9, 30, 0).unwrap()
    }

    fn codes(d: &SearchDraft) -> Vec<(String, &'static str)> {
        d.validate(now()).unwrap_err().fields.into_iter().map(|f| (f.pointer, f.code)).collect()
    }

    #[test]
    fn an_outcode_gives_a_centre_and_the_default_radius_and_range() {
        let s = SearchDraft { outcode: Some("wn1".into()), ..SearchDraft::default() }.validate(now()).unwrap();
        let area = s.area.unwrap();
        assert!((area.lat - 53.5).abs() < 0.5 && (area.lon + 2.6).abs() < 0.5, "{area:?}");
        assert_eq!(area.radius_km, DEFAULT_RADIUS_KM);
        assert_eq!((s.from, s.to), (now(), now() + Duration::days(DEFAULT_RANGE_DAYS)));
    }

    #[test]
    fn bad_areas_radii_and_ranges_are_each_reported() {
        let radius = |r: f64| SearchDraft { outcode: Some("WN1".into()), radius_km: Some(r), ..SearchDraft::default() };
        for r in [0.0, -1.0, 200.5, f64::NAN, f64::INFINITY] {
            assert_eq!(codes(&radius(r)), [("/radius_km".to_owned(), "RADIUS_OUT_OF_RANGE")], "{r}");
        }
        assert!(radius(200.0).validate(now()).is_ok());
        assert_eq!(
            codes(&SearchDraft { outcode: Some("ZZ99".into()), ..SearchDraft::default() })[0].1,
            "UNKNOWN_OUTCODE"
        );
        assert_eq!(
            codes(&SearchDraft { outcode: Some("not a code".into()), ..SearchDraft::default() })[0].0,
            "/outcode"
        );
        assert_eq!(codes(&SearchDraft { lat: Some(53.0), ..SearchDraft::default() })[0].1, "REQUIRED");
        assert_eq!(
            codes(&SearchDraft { lat: Some(91.0), lon: Some(0.0), ..SearchDraft::default() })[0].1,
            "OUT_OF_RANGE"
        );
        assert_eq!(codes(&SearchDraft { radius_km: Some(3.0), ..SearchDraft::default() })[0].1, "AREA_REQUIRED");
        let range = |days: i64| SearchDraft { to: Some(now() + Duration::days(days)), ..SearchDraft::default() };
        assert_eq!(codes(&range(93))[0].1, "DATE_RANGE_TOO_LONG");
        assert!(range(92).validate(now()).is_ok());
        assert_eq!(codes(&range(0))[0].1, "DATE_RANGE_EMPTY");
        let past = SearchDraft { from: Some(now() - Duration::days(3)), ..SearchDraft::default() };
        assert_eq!(codes(&past)[0], ("/from".to_owned(), "DATE_RANGE_OUTSIDE_LISTINGS"));
        let far = SearchDraft { from: Some(now() + Duration::days(360)), ..SearchDraft::default() };
        assert_eq!(codes(&far)[0], ("/to".to_owned(), "DATE_RANGE_OUTSIDE_LISTINGS"));
    }

    #[test]
    fn distances_are_great_circle_and_the_box_contains_the_circle() {
        // Wigan to Manchester city centre: about 26 km.
        let wigan = Area { lat: 53.5448, lon: -2.6318, radius_km: 30.0 };
        let d = wigan.distance_km(53.4794, -2.2453);
        assert!((d - 26.5).abs() < 1.5, "{d}");
        let (s, n, w, e) = wigan.bounds();
        for bearing in 0..36 {
            let b = f64::from(bearing * 10).to_radians();
            // A point just inside the circle in each direction is inside the box.
            let dlat = (29.9 / KM_PER_DEGREE) * b.cos();
            let dlon = (29.9 / (KM_PER_DEGREE * wigan.lat.to_radians().cos())) * b.sin();
            let (la, lo) = (wigan.lat + dlat, wigan.lon + dlon);
            assert!(la >= s && la <= n && lo >= w && lo <= e, "{bearing}");
        }
        let pole = Area { lat: 89.99, lon: 0.0, radius_km: 50.0 };
        assert_eq!(pole.bounds().2, -180.0);
    }

    #[test]
    fn the_dot_product_test_agrees_with_the_distance() {
        let wigan = Area { lat: 53.5448, lon: -2.6318, radius_km: 5.0 };
        let c = wigan.centre();
        let dot = |lat: f64, lon: f64| {
            let p = unit_vector(lat, lon);
            c[0] * p[0] + c[1] * p[1] + c[2] * p[2]
        };
        for bearing in 0..72 {
            let b = f64::from(bearing * 5).to_radians();
            for (km, inside) in [(4.99, true), (5.01, false), (0.0, true), (2.5, true), (7.0, false)] {
                let lat = wigan.lat + km / KM_PER_DEGREE * b.cos();
                let lon = wigan.lon + km / (KM_PER_DEGREE * wigan.lat.to_radians().cos()) * b.sin();
                let d = wigan.distance_km(lat, lon);
                assert_eq!(dot(lat, lon) >= wigan.min_dot(), d <= wigan.radius_km, "{bearing} {km} {d}");
                if (d - km).abs() < 0.05 {
                    assert_eq!(d <= wigan.radius_km, inside, "{bearing} {km}");
                }
            }
        }
        let everywhere = Area { radius_km: 30_000.0, ..wigan };
        assert!(dot(-53.5, 177.0) >= everywhere.min_dot());
    }
}
