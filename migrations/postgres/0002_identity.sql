-- Identities at OpenID Providers, assurance, sign-in flows, sessions, signing keys, apps and
-- rate-limit counters (shared by every replica).

create table identity (
    identity_id uuid primary key,
    person_id uuid not null references person (person_id) on delete cascade,
    provider text not null,
    issuer text not null,
    subject text not null,
    created_at timestamptz not null,
    last_login_at timestamptz not null,
    unique (issuer, subject)
);
create index identity_person on identity (person_id);

create table person_assurance (
    person_id uuid primary key references person (person_id) on delete cascade,
    level text not null check (level in ('none', 'low', 'medium', 'high')),
    provider text not null,
    source text not null,
    asserted_at timestamptz not null
);

-- One row per sign-in in progress, keyed by the SHA-256 of the browser-binding cookie value.
create table login_state (
    flow_hash bytea primary key,
    provider text not null,
    state text not null,
    nonce text not null,
    pkce_verifier text not null,
    link_person_id uuid references person (person_id) on delete cascade,
    return_to text,
    created_at timestamptz not null,
    expires_at timestamptz not null
);
create index login_state_expiry on login_state (expires_at);

create table session (
    session_hash bytea primary key,
    person_id uuid not null references person (person_id) on delete cascade,
    provider text not null,
    id_token text,
    created_at timestamptz not null,
    last_seen_at timestamptz not null,
    idle_expires_at timestamptz not null,
    absolute_expires_at timestamptz not null
);
create index session_person on session (person_id);
-- Idle expiry is never later than absolute expiry: expired sessions are found by this index.
create index session_expiry on session (idle_expires_at);

create table signing_key (
    kid text primary key,
    purpose text not null,
    algorithm text not null,
    private_der bytea not null,
    public_jwk text not null,
    created_at timestamptz not null,
    retired_at timestamptz,
    publish_until timestamptz
);
create unique index signing_key_active on signing_key (purpose) where retired_at is null;

create table app (
    app_id uuid primary key,
    client_id text not null unique,
    owner_person_id uuid not null references person (person_id) on delete cascade,
    name text not null,
    description text not null,
    homepage text,
    redirect_uris jsonb not null,
    requested_scopes text not null,
    granted_scopes text not null,
    secret_hash bytea not null,
    secret_created_at timestamptz not null,
    status text not null check (status in ('active', 'revoked')),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index app_owner on app (owner_person_id, app_id);

create unlogged table rate_limit (
    bucket text not null,
    window_start timestamptz not null,
    hits bigint not null,
    primary key (bucket, window_start)
);
create index rate_limit_window on rate_limit (window_start);
