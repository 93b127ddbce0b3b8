-- Token exchange (RFC 8693): a tenant may let an exchange without an
-- actor_token impersonate the subject (a token without act); off, every
-- exchanged token names the client that acts.
ALTER TABLE tenants ADD COLUMN token_exchange_impersonation BOOLEAN NOT NULL DEFAULT FALSE;

-- Refresh token rotation with a grace period: for this many seconds (0 to
-- 60) after a refresh token was rotated, the same client may present it
-- again and is answered with the same successor; 0 keeps strict reuse
-- detection.
ALTER TABLE clients ADD COLUMN refresh_token_grace_seconds BIGINT NOT NULL DEFAULT 0;
