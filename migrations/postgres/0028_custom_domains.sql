-- Custom domains: a tenant may also be served on hosts of its own
-- (login.acme.com) once a DNS TXT record proves it controls them. A host
-- belongs to one tenant at most, verified or not: a second claim of it is
-- refused (an unverified claim lapses after a week, so a squatter cannot
-- hold a domain it does not own).
CREATE TABLE tenant_domains (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    host        TEXT NOT NULL UNIQUE,
    challenge   TEXT NOT NULL,
    verified_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

-- The issuer (the host) an authorization request was made at: its code is
-- redeemed at that issuer's token endpoint only ('' for requests made
-- before this migration: any).
ALTER TABLE auth_requests ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
