-- Events and series run by groups. Local times are ISO text in the event's zone; start_at is the
-- instant of the first occurrence (for ordering). Descriptive fields are one JSON document.

create table event (
    event_id uuid primary key,
    group_id uuid not null references community_group (group_id) on delete cascade,
    title text not null,
    start_at timestamptz not null,
    timezone text not null,
    start_local text not null,
    end_local text not null,
    all_day boolean not null,
    status text not null check (status in ('scheduled', 'cancelled', 'postponed')),
    recurrence_rule text,
    outcode text,
    latitude double precision,
    longitude double precision,
    categories text not null,
    details jsonb not null,
    version bigint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index event_group on event (group_id, start_at, event_id);

-- Changes to single occurrences of a series, named by the series' local start.
create table event_override (
    event_id uuid not null references event (event_id) on delete cascade,
    local_start text not null,
    status text not null check (status in ('scheduled', 'cancelled', 'postponed')),
    reason text,
    start_local text,
    end_local text,
    place jsonb,
    updated_at timestamptz not null,
    primary key (event_id, local_start)
);

-- Replies to single occurrences.
create table rsvp (
    event_id uuid not null references event (event_id) on delete cascade,
    occurrence text not null,
    person_id uuid not null references person (person_id) on delete cascade,
    response text not null check (response in ('going', 'maybe', 'declined')),
    party_size smallint not null,
    state text not null check (state in ('confirmed', 'waitlisted', 'not-attending')),
    waitlisted_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    checked_in_at timestamptz,
    primary key (event_id, occurrence, person_id)
);
create index rsvp_person on rsvp (person_id);
