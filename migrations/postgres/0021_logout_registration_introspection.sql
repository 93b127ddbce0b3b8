-- OpenID Connect Back-Channel Logout 1.0: where a client wants to hear of
-- a logout, the session (sid) each sign-in and each token family belongs
-- to, and the outbox of logout tokens. A delivery is written in the
-- transaction that ends the session (or disables the user, or changes
-- their password), and nodes claim due deliveries with a lease
-- (claim_token, claimed_until), as webhook deliveries are.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE auth_requests ADD COLUMN sid TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN sid TEXT NOT NULL DEFAULT '';
CREATE INDEX grants_sid_idx ON grants (tenant_id, sid) WHERE sid <> '';

-- A logout token to send to one client: the claims it will carry (the
-- token is signed when it is sent, with the tenant's key of that moment).
CREATE TABLE logout_deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id        TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    sid              TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    status           TEXT NOT NULL,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    claim_token      TEXT NOT NULL DEFAULT '',
    claimed_until    TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX logout_deliveries_due_idx ON logout_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX logout_deliveries_client_idx ON logout_deliveries (tenant_id, client_id, id);

-- Dynamic client registration (RFC 7591) and management (RFC 7592): who
-- may register (off, token: with an initial access token an admin made,
-- open: anyone, throttled per address), the clients that registered
-- themselves with the hash of their registration access token, and the
-- initial access tokens (hashes only).
ALTER TABLE tenants ADD COLUMN client_registration TEXT NOT NULL DEFAULT 'off';
ALTER TABLE clients ADD COLUMN registered BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN registration_token_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE initial_access_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    uses_left   INTEGER NOT NULL DEFAULT 1,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX initial_access_tokens_hash_key ON initial_access_tokens (tenant_id, token_hash);

-- Introspection for resource servers: the confidential client an API
-- designates as itself may introspect the access tokens issued for it.
ALTER TABLE apis ADD COLUMN resource_server_client_id TEXT NOT NULL DEFAULT '';
-- The scopes of an API that clients registering themselves may be granted
-- (RFC 7591 scope): none unless an admin lists them.
ALTER TABLE apis ADD COLUMN registration_scopes TEXT NOT NULL DEFAULT '[]';
