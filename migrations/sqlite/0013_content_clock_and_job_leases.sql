-- A number every change to what the public can read moves on: every audited write, and every
-- write that takes a feed change number (imports, the listing job). Replicas compare it to tell
-- whether a cached public page may still be served (docs/operations.md, "Public-read cache").
create table content_clock (
    id integer primary key,
    value bigint not null
);
insert into content_clock (id, value) values (1, 0);

-- Periodic jobs that one replica should run at a time (the listing job): a replica runs one
-- after taking its lease, which ends at `until`, so a replica that dies mid-run is followed by
-- another once it has ended.
create table job_lease (
    name text primary key,
    holder text not null,
    until integer not null
);
