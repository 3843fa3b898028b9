-- The same version as PostgreSQL's 0005, which repairs latitude bands that its occurrence upsert
-- left behind when a place moved. SQLite's upsert always moved them: nothing to repair.
select 1;
