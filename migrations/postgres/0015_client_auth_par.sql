-- Client authentication with signed assertions (RFC 7523 §2.2,
-- private_key_jwt): a client registers its public keys inline (jwks, a
-- JSON Web Key Set) or by URL (jwks_uri, fetched through the guarded
-- upstream client).
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';

-- Every assertion's jti is accepted once per client (RFC 7523 §3 item 7):
-- the row stays until the assertion would have expired, so that every
-- node refuses a replay; the sweeper deletes it after that.
CREATE TABLE client_assertions (
    tenant_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, client_id, jti),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
);
CREATE INDEX client_assertions_expires_idx ON client_assertions (expires_at);

-- Pushed authorization requests (RFC 9126): a client posts its
-- authorization request to /oauth/par and gets a request_uri for it, used
-- once at /authorize within a minute. id is the SHA-256 of the random part
-- of the request_uri; params the request's parameters (JSON), validated
-- when pushed and again when used. A client (or a whole tenant) may be
-- required to push every request.
CREATE TABLE pushed_requests (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
);
CREATE INDEX pushed_requests_expires_idx ON pushed_requests (expires_at);
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tenants ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT FALSE;
