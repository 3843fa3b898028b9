-- Council notices: an operator or an authorised publisher sends timely information to the groups
-- of an area (outward codes, or a radius around one's centre) and/or of an interest
-- (categories), valid for a while. Which groups a notice concerns is decided when it is read (a
-- group that moves or changes its categories sees what concerns it now). Organisers dismiss a
-- notice for their group.

create table notice (
    notice_id uuid primary key,
    title text not null,
    body text not null,
    links jsonb not null,
    -- Space separated; empty for none.
    outcodes text not null,
    radius_outcode text,
    radius_km double precision,
    categories text not null,
    valid_from timestamptz not null,
    valid_until timestamptz not null,
    published_by uuid not null,
    created_at timestamptz not null
);
create index notice_until on notice (valid_until);

create table notice_dismissal (
    notice_id uuid not null references notice (notice_id) on delete cascade,
    group_id uuid not null references community_group (group_id) on delete cascade,
    dismissed_at timestamptz not null,
    primary key (notice_id, group_id)
);
create index notice_dismissal_group on notice_dismissal (group_id);
