-- Access tokens are no longer stored: a JWT access token carries what it
-- says, and issuing one costs the database nothing but its audit event.
-- Revocation stays exact with a revocation list, checked by jti at
-- introspection, userinfo and Gatehouse's own resource servers until the
-- token would have expired anyway; a family's tokens are revoked with the
-- family (grants.revoked_at), which the jti of a family token names.
CREATE TABLE revoked_tokens (
    tenant_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    expires_at DATETIME NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, jti),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

-- What was revoked before stays revoked until it expires.
INSERT INTO revoked_tokens (tenant_id, jti, client_id, expires_at, created_at)
SELECT tenant_id, id, client_id, expires_at, revoked_at
FROM access_tokens
WHERE revoked_at IS NOT NULL AND expires_at > strftime('%Y-%m-%d %H:%M:%f', 'now');

DROP TABLE access_tokens;
