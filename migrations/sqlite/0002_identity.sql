-- Identities at OpenID Providers, assurance, sign-in flows, sessions, signing keys and apps.
-- (Rate-limit counters live in the SQLite adapter's memory: a SQLite database has one server.)

create table identity (
    identity_id blob primary key,
    person_id blob not null references person (person_id) on delete cascade,
    provider text not null,
    issuer text not null,
    subject text not null,
    created_at integer not null,
    last_login_at integer not null,
    unique (issuer, subject)
);
create index identity_person on identity (person_id);

create table person_assurance (
    person_id blob primary key references person (person_id) on delete cascade,
    level text not null check (level in ('none', 'low', 'medium', 'high')),
    provider text not null,
    source text not null,
    asserted_at integer not null
);

-- One row per sign-in in progress, keyed by the SHA-256 of the browser-binding cookie value.
create table login_state (
    flow_hash blob primary key,
    provider text not null,
    state text not null,
    nonce text not null,
    pkce_verifier text not null,
    link_person_id blob references person (person_id) on delete cascade,
    return_to text,
    created_at integer not null,
    expires_at integer not null
);
create index login_state_expiry on login_state (expires_at);

create table session (
    session_hash blob primary key,
    person_id blob not null references person (person_id) on delete cascade,
    provider text not null,
    id_token text,
    created_at integer not null,
    last_seen_at integer not null,
    idle_expires_at integer not null,
    absolute_expires_at integer not null
);
create index session_person on session (person_id);
-- Idle expiry is never later than absolute expiry: expired sessions are found by this index.
create index session_expiry on session (idle_expires_at);

create table signing_key (
    kid text primary key,
    purpose text not null,
    algorithm text not null,
    private_der blob not null,
    public_jwk text not null,
    created_at integer not null,
    retired_at integer,
    publish_until integer
);
create unique index signing_key_active on signing_key (purpose) where retired_at is null;

create table app (
    app_id blob primary key,
    client_id text not null unique,
    owner_person_id blob not null references person (person_id) on delete cascade,
    name text not null,
    description text not null,
    homepage text,
    redirect_uris text not null,
    requested_scopes text not null,
    granted_scopes text not null,
    secret_hash blob not null,
    secret_created_at integer not null,
    status text not null check (status in ('active', 'revoked')),
    created_at integer not null,
    updated_at integer not null
);
create index app_owner on app (owner_person_id, app_id);
