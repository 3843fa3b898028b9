-- Area search by two-dimensional cells instead of latitude bands (a band spans the country, so
-- its candidates grew with every event at that latitude). Each placed occurrence carries its cell
-- on a 0.1-degree grid and on a 1-degree grid, and its point on the unit sphere, so that the exact
-- circle is a dot product. The service fills these for existing occurrences after migrating
-- (`place_occurrences`), the same code on both databases. The box is in the index, so rows outside
-- it are passed over without reading the table.
alter table occurrence add column cell_tenth integer;
alter table occurrence add column cell_degree integer;
alter table occurrence add column unit_x double precision;
alter table occurrence add column unit_y double precision;
alter table occurrence add column unit_z double precision;
drop index occurrence_area;
alter table occurrence drop column lat_cell;
create index occurrence_cell_tenth on occurrence (cell_tenth, start_at, event_id, local_start, latitude, longitude)
    where not deleted;
create index occurrence_cell_degree on occurrence (cell_degree, start_at, event_id, local_start, latitude, longitude)
    where not deleted;

-- What the fill after migrating looks for: empty once filled, so a start finds nothing to do at
-- once instead of scanning every occurrence.
create index occurrence_unplaced on occurrence (event_id) where unit_x is null and latitude is not null;
