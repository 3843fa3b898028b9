-- Changes out. `change_record` is the outbox: one row per domain change, written in the same
-- transaction as the change, with the columns subscriptions filter on and the change's data (the
-- proto/ contract's canonical JSON: ids and what changed, nothing personal). `webhook` holds the
-- apps' subscriptions (Standard Webhooks; the secret signs deliveries, so it is kept in clear
-- like a signing key, and the previous one overlaps a rotation). `webhook_delivery` is each
-- change's delivery to each matching subscription, queued in the change's transaction: its state,
-- attempts and log. A worker takes due deliveries under a lease (`next_attempt_at` moved ahead),
-- so a delivery survives a restart and several replicas never send it at once.

create table change_record (
    change_id blob primary key,
    occurred_at integer not null,
    change_type text not null,
    group_id blob,
    outcode text,
    -- Space separated.
    categories text not null,
    attestation_type text,
    published integer not null,
    data text not null
);
create index change_record_at on change_record (occurred_at);

create table webhook (
    webhook_id blob primary key,
    app_id blob not null references app (app_id) on delete cascade,
    url text not null,
    -- Space separated; the filters are null for any.
    change_types text not null,
    group_id blob,
    outcodes text,
    attestation_types text,
    secret text not null,
    previous_secret text,
    previous_until integer,
    status text not null check (status in ('active', 'disabled')),
    disabled_reason text,
    consecutive_failures bigint not null,
    created_at integer not null,
    updated_at integer not null
);
create index webhook_app on webhook (app_id);

create table webhook_delivery (
    webhook_id blob not null references webhook (webhook_id) on delete cascade,
    change_id blob not null references change_record (change_id) on delete cascade,
    change_type text not null,
    state text not null check (state in ('pending', 'delivered', 'failed')),
    attempts bigint not null,
    next_attempt_at integer,
    last_attempt_at integer,
    last_status bigint,
    last_latency_ms bigint,
    last_error text,
    delivered_at integer,
    created_at integer not null,
    primary key (webhook_id, change_id)
);
create index webhook_delivery_due on webhook_delivery (next_attempt_at) where state = 'pending';
create index webhook_delivery_log on webhook_delivery (webhook_id, created_at);
