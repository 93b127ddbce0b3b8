-- Gatehouse schema, version 2: the admin console and management API.

-- Branding and policy per tenant; the system tenant is the built-in one
-- whose users and clients are Gatehouse's administrators.
ALTER TABLE tenants ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN accent_color TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN grant_types TEXT NOT NULL DEFAULT '["authorization_code","refresh_token","client_credentials"]';
ALTER TABLE tenants ADD COLUMN system BOOLEAN NOT NULL DEFAULT FALSE;

-- Clients Gatehouse makes for itself (the console's "Try it" client) are
-- internal: not listed, not editable.
ALTER TABLE clients ADD COLUMN internal BOOLEAN NOT NULL DEFAULT FALSE;

-- Who may administer what: a user or a client of the system tenant is an
-- operator (every tenant) or the admin of one tenant.
CREATE TABLE admin_roles (
    id               TEXT PRIMARY KEY,
    principal_kind   TEXT NOT NULL,
    principal_id     TEXT NOT NULL,
    role             TEXT NOT NULL,
    target_tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX admin_roles_key ON admin_roles (principal_kind, principal_id, role, COALESCE(target_tenant_id, ''));
CREATE INDEX admin_roles_principal_idx ON admin_roles (principal_kind, principal_id);

-- The console's sessions: a relying-party session of an administrator who
-- signed in through the system tenant.
CREATE TABLE console_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]',
    try_state    TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);

-- One-time links that let the first operator be created from the browser.
CREATE TABLE setup_tokens (
    id         TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

-- The audit log: append-only, per tenant (no foreign key: the events of a
-- deleted tenant stay). Never a secret.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL DEFAULT '',
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_kind  TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL DEFAULT 'success',
    reason      TEXT NOT NULL DEFAULT '',
    before      TEXT NOT NULL DEFAULT '',
    after       TEXT NOT NULL DEFAULT '',
    ip_address  TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_tenant_time_idx ON audit_events (tenant_id, occurred_at DESC, id DESC);
