-- People let apps act for them (OAuth 2.0 authorization code with PKCE): one grant per app and
-- person, with the scopes the person agreed to. Codes and refresh tokens are stored hashed under
-- their grant; deleting a grant (the person revokes it) deletes them, and access tokens naming
-- the grant stop working at once.
create table app_grant (
    grant_id uuid primary key,
    app_id uuid not null references app (app_id) on delete cascade,
    person_id uuid not null references person (person_id) on delete cascade,
    scopes text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (app_id, person_id)
);
create index app_grant_person on app_grant (person_id);

-- `code`: single use, for one redirect URI and PKCE challenge; `refresh`: rotated on each use,
-- and a second use of a rotated one (a stolen copy) deletes the grant.
create table app_token (
    token_hash bytea primary key,
    grant_id uuid not null references app_grant (grant_id) on delete cascade,
    kind text not null check (kind in ('code', 'refresh')),
    scopes text not null,
    redirect_uri text,
    code_challenge text,
    expires_at timestamptz not null,
    used_at timestamptz
);
create index app_token_grant on app_token (grant_id);
