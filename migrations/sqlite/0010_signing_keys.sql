-- Signing keys per algorithm, published before they sign, rotated on a
-- schedule. A key whose activates_at is in the future is published in the
-- JWKS but does not sign yet (relying parties' cached JWKS learn it first);
-- a key signs from activates_at (created_at when NULL) until retired_at,
-- and stays published until expires_at.
ALTER TABLE signing_keys ADD COLUMN activates_at DATETIME;
CREATE INDEX signing_keys_tenant_alg_idx ON signing_keys (tenant_id, algorithm, created_at);
-- key_rotation_period is how often (seconds) a tenant's keys rotate on their
-- own; 0 never.
ALTER TABLE tenants ADD COLUMN key_rotation_period INTEGER NOT NULL DEFAULT 0;
-- The JWS algorithm of an API's access tokens, and of a client's ID tokens
-- (RFC 7591 id_token_signed_response_alg).
ALTER TABLE apis ADD COLUMN signing_alg TEXT NOT NULL DEFAULT 'RS256';
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';
