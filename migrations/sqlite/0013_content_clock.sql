-- A number every change to what the public can read moves on: every audited write, and every
-- write that takes a feed change number (imports, the listing job). Replicas compare it to tell
-- whether a cached public page may still be served (docs/operations.md, "Public-read cache").
create table content_clock (
    id integer primary key,
    value bigint not null
);
insert into content_clock (id, value) values (1, 0);
