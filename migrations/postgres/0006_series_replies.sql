-- A person's standing reply to every upcoming date of an event ("I'll come every week"). It is
-- applied as ordinary replies to each date (places and the waiting list stay per date); replies it
-- made are marked, so undoing it withdraws those and leaves replies the person set by hand.
create table series_rsvp (
    event_id uuid not null references event (event_id) on delete cascade,
    person_id uuid not null references person (person_id) on delete cascade,
    response text not null check (response in ('going', 'maybe', 'declined')),
    party_size smallint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (event_id, person_id)
);
create index series_rsvp_person on series_rsvp (person_id);

alter table rsvp add column from_series boolean not null default false;

-- A person's calendar feed of the dates they replied to: the URL's secret, hashed; one per person,
-- replaced to revoke.
create table calendar_feed (
    person_id uuid primary key references person (person_id) on delete cascade,
    token_hash bytea not null unique,
    created_at timestamptz not null
);
