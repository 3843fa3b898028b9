-- Events and series run by groups. Local times are ISO text in the event's zone; start_at is the
-- instant of the first occurrence (for ordering). Descriptive fields are one JSON document;
-- search_text (lower-cased title, summary, place) and features (space-padded accessibility
-- features) are derived from it for search. `modified` is the feed change number (feed_clock).

create table event (
    event_id blob primary key,
    group_id blob not null references community_group (group_id) on delete cascade,
    title text not null,
    start_at integer not null,
    timezone text not null,
    start_local text not null,
    end_local text not null,
    all_day integer not null,
    status text not null check (status in ('scheduled', 'cancelled', 'postponed')),
    recurrence_rule text,
    outcode text,
    latitude double precision,
    longitude double precision,
    categories text not null,
    details text not null,
    version integer not null,
    created_at integer not null,
    updated_at integer not null,
    search_text text not null,
    features text not null,
    open_active integer not null,
    -- Published in the open-data feeds at some point: only such events (and occurrences) appear
    -- there, so removing one from the feeds is announced and nothing else is.
    published_ever integer not null default 0,
    modified integer not null,
    listed_until integer not null
);
create index event_group on event (group_id, start_at, event_id);
create index event_feed on event (modified, event_id) where published_ever;
create index event_listing on event (listed_until, event_id) where recurrence_rule is not null;

-- One change number for the open-data feeds, taken once by every transaction that changes what
-- they publish: the row lock orders those transactions, so numbers become visible in order and a
-- feed reader never skips one.
create table feed_clock (
    id integer primary key check (id = 1),
    value integer not null
);
insert into feed_clock (id, value) values (1, 0);

-- Occurrences of events from a day ago to a year ahead, expanded when an event or one of its
-- occurrences changes (and daily as the year moves on): search reads them through indexes and the
-- ScheduledSession feed publishes them. Removed ones stay as tombstones (deleted, with their own
-- change number) for the feed; event_id is not a foreign key so they outlive their event.
create table occurrence (
    event_id blob not null,
    local_start text not null,
    group_id blob not null,
    start_at integer not null,
    end_at integer not null,
    status text not null check (status in ('scheduled', 'cancelled', 'postponed')),
    reason text,
    place text,
    latitude double precision,
    longitude double precision,
    -- floor(latitude * 10): search looks up the 0.1-degree bands a circle touches by equality.
    lat_cell integer,
    open_active integer not null,
    published_ever integer not null default 0,
    deleted integer not null,
    modified integer not null,
    updated_at integer not null,
    primary key (event_id, local_start)
);
create index occurrence_start on occurrence (start_at, event_id, local_start) where not deleted;
create index occurrence_area on occurrence (lat_cell, start_at) where not deleted;
create index occurrence_feed on occurrence (modified, event_id, local_start) where published_ever;

-- Deleted events, kept for the SessionSeries feed.
create table event_tombstone (
    event_id blob primary key,
    modified integer not null,
    deleted_at integer not null
);
create index event_tombstone_feed on event_tombstone (modified, event_id);

-- Changes to single occurrences of a series, named by the series' local start.
create table event_override (
    event_id blob not null references event (event_id) on delete cascade,
    local_start text not null,
    status text not null check (status in ('scheduled', 'cancelled', 'postponed')),
    reason text,
    start_local text,
    end_local text,
    place text,
    updated_at integer not null,
    primary key (event_id, local_start)
);

-- Replies to single occurrences.
create table rsvp (
    event_id blob not null references event (event_id) on delete cascade,
    occurrence text not null,
    person_id blob not null references person (person_id) on delete cascade,
    response text not null check (response in ('going', 'maybe', 'declined')),
    party_size integer not null,
    state text not null check (state in ('confirmed', 'waitlisted', 'not-attending')),
    waitlisted_at integer,
    created_at integer not null,
    updated_at integer not null,
    checked_in_at integer,
    primary key (event_id, occurrence, person_id)
);
create index rsvp_person on rsvp (person_id);
