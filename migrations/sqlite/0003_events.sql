-- Events and series run by groups. Local times are ISO text in the event's zone; start_at is the
-- instant of the first occurrence (for ordering). Descriptive fields are one JSON document.

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
    updated_at integer not null
);
create index event_group on event (group_id, start_at, event_id);

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
