-- When an attestation's expiry was announced to webhooks (`attestation.expired`): expiry happens
-- by time, not by a write, so a job records it once, in the transaction that writes its change.
alter table attestation add column expiry_announced_at integer;
-- Expiries before this migration are not news: they are marked announced, not sent.
update attestation set expiry_announced_at = expires_at
where expires_at <= cast((julianday('now') - 2440587.5) * 86400000000 as integer);
create index attestation_expiring on attestation (expires_at) where state = 'active' and expiry_announced_at is null;
