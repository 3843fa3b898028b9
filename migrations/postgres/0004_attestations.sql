-- Attestations (DESIGN §6): which groups may issue which types, the attestations offered to and
-- held by people, and the status lists that say which credentials are revoked.

create table issuer_authorisation (
    group_id uuid not null references community_group (group_id) on delete cascade,
    attestation_type text not null
        check (attestation_type in ('identity-verified', 'dbs-check', 'role-status', 'qualification')),
    authorised_at timestamptz not null,
    primary key (group_id, attestation_type)
);

-- One 1-bit status list per row (the raw bytes; set bit = revoked). Indexes are allocated at
-- random among the unused ones, so an index says nothing about when or to whom it was issued.
create table status_list (
    list_id bigint primary key,
    bits bytea not null,
    updated_at timestamptz not null
);

-- The claims are the credential's claims only (for DBS checks: check metadata and the decision,
-- never certificate content); the evidence records how the issuer checked. The credential (the
-- SD-JWT VC with all its disclosures) exists once the person has accepted it.
create table attestation (
    attestation_id uuid primary key,
    attestation_type text not null
        check (attestation_type in ('identity-verified', 'dbs-check', 'role-status', 'qualification')),
    subject_id uuid not null references person (person_id) on delete cascade,
    -- The issuing group; none for identity-verified credentials, which the instance issues from
    -- the person's sign-in assurance.
    issuer_group_id uuid references community_group (group_id),
    issued_by uuid not null,
    state text not null check (state in ('offered', 'active', 'declined', 'revoked', 'withdrawn')),
    claims jsonb not null,
    evidence jsonb not null,
    valid_days bigint not null,
    credential text,
    status_list bigint references status_list (list_id),
    status_idx bigint,
    issued_at timestamptz,
    expires_at timestamptz,
    reason text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create unique index attestation_status on attestation (status_list, status_idx);
create index attestation_subject on attestation (subject_id, created_at);
create index attestation_issuer on attestation (issuer_group_id, created_at);

-- A holder's consented share of some claims with a verifier app (or any), redeemed with a short
-- code that is stored only as its SHA-256 hash.
create table attestation_share (
    share_id uuid primary key,
    attestation_id uuid not null references attestation (attestation_id) on delete cascade,
    code_hash bytea not null unique,
    claims jsonb not null,
    verifier_app_id uuid,
    max_uses bigint not null,
    uses bigint not null,
    expires_at timestamptz not null,
    withdrawn_at timestamptz,
    created_at timestamptz not null
);
create index attestation_share_attestation on attestation_share (attestation_id, created_at);

-- Every redemption, successful or not, visible to the holder.
create table share_redemption (
    redemption_id uuid primary key,
    share_id uuid not null references attestation_share (share_id) on delete cascade,
    verifier_id uuid not null,
    app_id uuid,
    result text not null,
    redeemed_at timestamptz not null
);
create index share_redemption_share on share_redemption (share_id, redeemed_at);
