-- Sources an operator imports listings from (an iCalendar URL, an OpenActive RPDE feed, an Open
-- Referral UK API), and peer instances. Imported groups and events are ordinary rows marked with
-- their source (`source_id`) and their origin (`origin`: the source's name, the item's id there
-- and its page there) so that every surface shows where they came from; `origin_seen_at` is when
-- the source last listed the item. Deleting a source deletes what it brought.

create table peer (
    peer_id blob primary key,
    base_url text not null unique,
    name text not null,
    -- The peer's issuer metadata as discovered (`/.well-known/jwt-vc-issuer`: issuer and keys).
    issuer text not null,
    jwks text not null,
    -- Attestation types this instance accepts from the peer, space separated.
    trusted_types text not null,
    created_at integer not null,
    updated_at integer not null
);

create table source (
    source_id blob primary key,
    kind text not null check (kind in ('ical', 'rpde', 'oruk')),
    url text not null,
    name text not null,
    peer_id blob references peer (peer_id) on delete cascade,
    -- Conditional GET validators and the RPDE position: `{etag, last_modified, next}`.
    state text not null,
    -- The last runs, for operators.
    health text not null,
    next_run_at integer not null,
    created_at integer not null,
    version integer not null,
    unique (kind, url)
);
create index source_due on source (next_run_at);

alter table community_group add column source_id blob references source (source_id) on delete cascade;
alter table community_group add column origin text;
alter table community_group add column origin_seen_at integer;
create index community_group_source on community_group (source_id) where source_id is not null;

alter table event add column source_id blob references source (source_id) on delete cascade;
alter table event add column origin text;
alter table event add column origin_seen_at integer;
create index event_source on event (source_id) where source_id is not null;
