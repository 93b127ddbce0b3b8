-- Gatehouse schema, version 4: account security and self-service —
-- sign-up, email verification, password reset, MFA (TOTP, WebAuthn),
-- throttling, and the development outbox.

-- Per-tenant policy.
ALTER TABLE tenants ADD COLUMN signup_mode TEXT NOT NULL DEFAULT 'off';
ALTER TABLE tenants ADD COLUMN signup_domains TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN password_min_length BIGINT NOT NULL DEFAULT 12;
ALTER TABLE tenants ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT 'optional';
ALTER TABLE tenants ADD COLUMN email_from_name TEXT NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMPTZ;

-- Single-use links sent by email (verify an address, reset a password,
-- change an address); ID is the SHA-256 of the token in the link.
CREATE TABLE user_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_tokens_user_idx ON user_tokens (tenant_id, user_id, purpose);
CREATE INDEX user_tokens_expires_idx ON user_tokens (expires_at);

-- Second factors and passkeys. A TOTP secret is sealed under the master
-- key; a WebAuthn credential is its id and public key.
CREATE TABLE mfa_factors (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    type          TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    secret_sealed BYTEA NOT NULL DEFAULT ''::bytea,
    credential_id TEXT NOT NULL DEFAULT '',
    credential    TEXT NOT NULL DEFAULT '',
    confirmed     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX mfa_factors_user_idx ON mfa_factors (tenant_id, user_id);
CREATE UNIQUE INDEX mfa_factors_credential_key ON mfa_factors (tenant_id, credential_id) WHERE credential_id <> '';

-- One-time recovery codes, hashed.
CREATE TABLE recovery_codes (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (tenant_id, user_id);

-- Steps of a login or enrolment in progress (an MFA step after the
-- password, a WebAuthn challenge), bound to the browser; ID is the SHA-256
-- of the token that names it.
CREATE TABLE login_steps (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    auth_request_id TEXT NOT NULL DEFAULT '',
    browser_hash    TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    data            TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);
CREATE INDEX login_steps_expires_idx ON login_steps (expires_at);

-- Throttling counters, in the database so that every node sees them.
CREATE TABLE throttles (
    key          TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL DEFAULT 0,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX throttles_updated_idx ON throttles (updated_at);

-- Mail sent in development mode without SMTP, for operators to read.
CREATE TABLE outbox (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL DEFAULT '',
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_created_idx ON outbox (created_at);

-- The ACR a session's authentication reached (acr claim).
ALTER TABLE sessions ADD COLUMN acr TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN acr TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN acr_values TEXT NOT NULL DEFAULT '[]';
ALTER TABLE grants ADD COLUMN acr TEXT NOT NULL DEFAULT '';
