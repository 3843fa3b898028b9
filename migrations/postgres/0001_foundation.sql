-- People, API keys, groups, memberships, idempotency keys and the audit log.

create table person (
    person_id uuid primary key,
    display_name text not null,
    created_at timestamptz not null
);

create table api_key (
    api_key_id uuid primary key,
    person_id uuid not null references person (person_id),
    name text not null,
    token_hash bytea not null unique,
    scopes text not null,
    created_at timestamptz not null,
    revoked_at timestamptz
);
create index api_key_person on api_key (person_id);

create table community_group (
    group_id uuid primary key,
    slug text not null unique,
    name text not null,
    sort_name text not null,
    search_text text not null,
    summary text not null,
    description text,
    kind text not null,
    categories text not null,
    outcode text,
    latitude double precision,
    longitude double precision,
    contact_email text,
    links jsonb not null,
    visibility text not null check (visibility in ('public', 'unlisted', 'private')),
    join_policy text not null check (join_policy in ('open', 'approval', 'invite')),
    guidelines_template text,
    guidelines_text text not null,
    -- Registration numbers: [{scheme, value, verified_at, verified_by}].
    identifiers jsonb not null,
    -- Active memberships, kept in step by every membership change's transaction.
    member_count bigint not null default 0,
    status text not null check (status in ('active', 'archived')),
    version bigint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index community_group_listing on community_group (status, visibility, sort_name, group_id);
create index community_group_outcode on community_group (outcode, status, visibility, sort_name, group_id);

create table group_category (
    group_id uuid not null references community_group (group_id) on delete cascade,
    category text not null,
    primary key (group_id, category)
);
create index group_category_category on group_category (category, group_id);

create table membership (
    group_id uuid not null references community_group (group_id) on delete cascade,
    person_id uuid not null references person (person_id),
    role text not null check (role in ('owner', 'organiser', 'member')),
    status text not null check (status in ('active', 'pending', 'invited')),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (group_id, person_id)
);
create index membership_person on membership (person_id, group_id);

create table idempotency_key (
    scope text not null,
    key text not null,
    request_hash text not null,
    resource_id text not null,
    created_at timestamptz not null,
    primary key (scope, key)
);

-- Append-only. actor_person_id has no foreign key: audit entries outlive the people they name.
create table audit_entry (
    audit_id uuid primary key,
    occurred_at timestamptz not null,
    actor_person_id uuid,
    action text not null,
    target_type text not null,
    target_id text not null,
    detail jsonb not null
);
