-- The occurrence upsert did not move an occurrence's latitude band when its place moved, so such
-- occurrences dropped out of area search. The upsert is fixed; this puts every band right.
update occurrence
set lat_cell = floor(latitude * 10)::integer
where latitude is not null and lat_cell is distinct from floor(latitude * 10)::integer;
