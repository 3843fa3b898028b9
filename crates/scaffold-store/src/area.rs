//! Where an occurrence is indexed for area search, and which index cells a search circle needs.
//!
//! Each placed occurrence carries two cell numbers, one on a grid of 0.1 degree (about 11 × 7 km in
//! Great Britain) and one on a grid of whole degrees (about 111 × 66 km), and its point on the unit
//! sphere. A search picks the finer grid whose cells touching the circle number at most
//! [`MAX_CELLS`], then reads each of those cells through the index `(cell, start_at, …)` in start
//! order and stops at the page's end, checking the exact circle (a dot product) as it goes: the
//! rows read grow with the page and the area, not with how many events the country holds. A circle
//! too large for either grid (more than about 60 km across) is read in start order through the
//! start-time index, where a page fills quickly.

use scaffold_domain::event_search::{Area, unit_vector};

/// The most cells a search reads, one ordered index range each.
pub const MAX_CELLS: usize = 12;

/// The grids, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grid {
    /// 0.1-degree cells: `occurrence.cell_tenth`.
    Tenth,
    /// 1-degree cells: `occurrence.cell_degree`.
    Degree,
}

impl Grid {
    /// Cells per degree.
    fn per_degree(self) -> f64 {
        match self {
            Grid::Tenth => 10.0,
            Grid::Degree => 1.0,
        }
    }

    /// The occurrence column holding this grid's cell.
    pub fn column(self) -> &'static str {
        match self {
            Grid::Tenth => "o.cell_tenth",
            Grid::Degree => "o.cell_degree",
        }
    }

    /// Row and column of the cell holding a point. Latitudes are within ±90 and longitudes within
    /// ±180, so both fit easily.
    #[allow(clippy::cast_possible_truncation)]
    fn index(self, lat: f64, lon: f64) -> (i64, i64) {
        ((lat * self.per_degree()).floor() as i64, (lon * self.per_degree()).floor() as i64)
    }

    /// One number per cell: rows apart by more than the widest range of columns (3,601 tenths).
    fn number(row: i64, column: i64) -> i64 {
        row * 4000 + column
    }

    /// The cell holding a point.
    pub fn cell(self, lat: f64, lon: f64) -> i64 {
        let (row, column) = self.index(lat, lon);
        Self::number(row, column)
    }

    /// The cells of this grid that the circle reaches, or `None` when there are more than
    /// [`MAX_CELLS`].
    fn cover(self, area: &Area) -> Option<Vec<i64>> {
        let (south, north, west, east) = area.bounds();
        let (west, east) = (west.max(-180.0), east.min(180.0));
        let (row0, col0) = self.index(south, west);
        let (row1, col1) = self.index(north, east);
        if (row1 - row0 + 1).saturating_mul(col1 - col0 + 1) > 64 {
            return None;
        }
        let size = 1.0 / self.per_degree();
        let mut cells = Vec::new();
        for row in row0..=row1 {
            for column in col0..=col1 {
                // The cell's nearest point to the centre, within half a kilometre: a cell the
                // circle misses is not read (it could only cost a scan of the cell).
                let lat = area.lat.clamp(row_f(row) * size, row_f(row + 1) * size);
                let lon = area.lon.clamp(row_f(column) * size, row_f(column + 1) * size);
                if area.distance_km(lat, lon) <= area.radius_km + 0.5 {
                    cells.push(Self::number(row, column));
                }
            }
        }
        (cells.len() <= MAX_CELLS).then_some(cells)
    }
}

/// A cell row or column as a float (all are far below 2^52).
#[allow(clippy::cast_precision_loss)]
fn row_f(i: i64) -> f64 {
    i as f64
}

/// The area columns of a placed occurrence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub cell_tenth: i64,
    pub cell_degree: i64,
    pub unit: [f64; 3],
}

/// Where an occurrence at this point is indexed.
pub fn placement(lat: f64, lon: f64) -> Placement {
    Placement {
        cell_tenth: Grid::Tenth.cell(lat, lon),
        cell_degree: Grid::Degree.cell(lat, lon),
        unit: unit_vector(lat, lon),
    }
}

/// What an area search reads: the cells (when a grid has few enough), the box round the circle
/// (checked in the index), and the circle itself (`centre · unit >= min_dot`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    pub cells: Option<(Grid, Vec<i64>)>,
    /// South, north, west, east.
    pub bounds: (f64, f64, f64, f64),
    pub centre: [f64; 3],
    pub min_dot: f64,
}

/// How a search reads the circle.
pub fn cover(area: &Area) -> Cover {
    let cells = [Grid::Tenth, Grid::Degree].into_iter().find_map(|g| g.cover(area).map(|cells| (g, cells)));
    Cover { cells, bounds: area.bounds(), centre: area.centre(), min_dot: area.min_dot() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WN1: (f64, f64) = (53.5448, -2.6318);

    fn area(radius_km: f64) -> Area {
        Area { lat: WN1.0, lon: WN1.1, radius_km }
    }

    #[test]
    fn small_circles_read_a_few_fine_cells_larger_ones_whole_degrees_and_the_largest_none() {
        let five = cover(&area(5.0));
        let (grid, cells) = five.cells.unwrap();
        assert_eq!(grid, Grid::Tenth);
        assert!((1..=6).contains(&cells.len()), "{cells:?}");
        assert!(cells.contains(&placement(WN1.0, WN1.1).cell_tenth));
        let (grid, cells) = cover(&area(30.0)).cells.unwrap();
        assert_eq!(grid, Grid::Degree);
        assert!(cells.len() <= 4, "{cells:?}");
        assert_eq!(cover(&area(200.0)).cells, None);
    }

    #[test]
    fn every_point_in_the_circle_is_in_a_cell_read() {
        for radius in [0.5, 2.0, 5.0, 10.0, 25.0, 50.0] {
            let a = area(radius);
            let Cover { cells: Some((grid, cells)), .. } = cover(&a) else { continue };
            for bearing in 0..72 {
                let b = f64::from(bearing * 5).to_radians();
                for step in 0..=20 {
                    let km = radius * f64::from(step) / 20.0 * 0.999;
                    let lat = a.lat + km / 111.195 * b.cos();
                    let lon = a.lon + km / (111.195 * a.lat.to_radians().cos()) * b.sin();
                    if a.distance_km(lat, lon) <= radius {
                        assert!(cells.contains(&grid.cell(lat, lon)), "{radius} km, {bearing}, {step}");
                    }
                }
            }
        }
    }

    #[test]
    fn cell_numbers_are_distinct_across_the_world() {
        let mut seen = std::collections::HashSet::new();
        for lat in (-90..=90).step_by(1) {
            for lon in (-180..=180).step_by(1) {
                assert!(seen.insert(Grid::Degree.cell(f64::from(lat), f64::from(lon))), "{lat} {lon}");
            }
        }
        assert_ne!(Grid::Tenth.cell(0.05, 179.95), Grid::Tenth.cell(0.15, -179.95));
        assert_ne!(Grid::Tenth.cell(-0.05, 0.05), Grid::Tenth.cell(0.05, -0.05));
    }
}
