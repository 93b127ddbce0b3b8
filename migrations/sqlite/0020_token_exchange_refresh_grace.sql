-- Token exchange (RFC 8693): a tenant may let an exchange without an
-- actor_token impersonate the subject (a token without act); off, every
-- exchanged token names the client that acts.
ALTER TABLE tenants ADD COLUMN token_exchange_impersonation BOOLEAN NOT NULL DEFAULT 0;

-- Refresh token rotation with a grace period: for this many seconds (0 to
-- 60) after a refresh token was rotated, the same client may present it
-- again and is answered with the same successor; 0 keeps strict reuse
-- detection.
ALTER TABLE clients ADD COLUMN refresh_token_grace_seconds INTEGER NOT NULL DEFAULT 0;
-- The seed that, with a rotated refresh token's value, derives its
-- successor's (neither value is stored): within the grace period any node
-- answers the same successor again. '' for a token rotated without grace.
ALTER TABLE refresh_tokens ADD COLUMN successor_seed TEXT NOT NULL DEFAULT '';
