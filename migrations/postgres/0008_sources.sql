-- Sources an operator imports listings from (an iCalendar URL, an OpenActive RPDE feed, an Open
-- Referral UK API), and peer instances. Imported groups and events are ordinary rows marked with
-- their source (`source_id`) and their origin (`origin`: the source's name, the item's id there
-- and its page there) so that every surface shows where they came from; `origin_seen_at` is when
-- the source last listed the item. Deleting a source deletes what it brought.

create table peer (
    peer_id uuid primary key,
    base_url text not null unique,
    name text not null,
    -- The peer's issuer metadata as discovered (`/.well-known/jwt-vc-issuer`: issuer and keys).
    issuer text not null,
    jwks jsonb not null,
    -- Attestation types this instance accepts from the peer, space separated.
    trusted_types text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table source (
    source_id uuid primary key,
    kind text not null check (kind in ('ical', 'rpde', 'oruk')),
    url text not null,
    name text not null,
    peer_id uuid references peer (peer_id) on delete cascade,
    -- Conditional GET validators and the RPDE position: `{etag, last_modified, next}`.
    state jsonb not null,
    -- The last runs, for operators.
    health jsonb not null,
    next_run_at timestamptz not null,
    created_at timestamptz not null,
    version bigint not null,
    unique (kind, url)
);
create index source_due on source (next_run_at);

alter table community_group add column source_id uuid references source (source_id) on delete cascade;
alter table community_group add column origin jsonb;
alter table community_group add column origin_seen_at timestamptz;
create index community_group_source on community_group (source_id) where source_id is not null;

alter table event add column source_id uuid references source (source_id) on delete cascade;
alter table event add column origin jsonb;
alter table event add column origin_seen_at timestamptz;
create index event_source on event (source_id) where source_id is not null;
