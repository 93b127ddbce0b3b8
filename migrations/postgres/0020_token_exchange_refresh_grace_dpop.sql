-- Token exchange (RFC 8693): a tenant may let an exchange without an
-- actor_token impersonate the subject (a token without act); off, every
-- exchanged token names the client that acts.
ALTER TABLE tenants ADD COLUMN token_exchange_impersonation BOOLEAN NOT NULL DEFAULT FALSE;

-- Refresh token rotation with a grace period: for this many seconds (0 to
-- 60) after a refresh token was rotated, the same client may present it
-- again and is answered with the same successor; 0 keeps strict reuse
-- detection.
ALTER TABLE clients ADD COLUMN refresh_token_grace_seconds BIGINT NOT NULL DEFAULT 0;
-- The seed that, with a rotated refresh token's value, derives its
-- successor's (neither value is stored): within the grace period any node
-- answers the same successor again. '' for a token rotated without grace.
ALTER TABLE refresh_tokens ADD COLUMN successor_seed TEXT NOT NULL DEFAULT '';

-- DPoP (RFC 9449): a family's refresh tokens may be bound to the DPoP key
-- of a public client (its JWK SHA-256 thumbprint, '' for none).
ALTER TABLE grants ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';

-- Every DPoP proof's jti is accepted once per key (RFC 9449 §11.1): the
-- row stays until the proof is too old to be accepted anyway, so that
-- every node refuses a replay; the sweeper deletes it after that.
CREATE TABLE dpop_proofs (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    jkt        TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, jkt, jti)
);
CREATE INDEX dpop_proofs_expires_idx ON dpop_proofs (expires_at);

-- A client that registered dpop_bound_access_tokens (RFC 9449 §5.2) must
-- send a DPoP proof with every token request.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE;

-- An authorization code may be bound to a DPoP key (RFC 9449 §10,
-- dpop_jkt): it is redeemed only with a proof of that key.
ALTER TABLE auth_requests ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
