-- Gatehouse schema, version 1: tenants and everything they own.

-- The deployment this database belongs to: the base URL its issuers were
-- made from, and a check value of the master key that seals its keys, so
-- that a node started with other settings refuses instead of minting
-- tenants at the wrong host or sealing keys no other node can open.
CREATE TABLE deployment (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    base_url         TEXT NOT NULL,
    master_key_check TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE tenants (
    id                TEXT PRIMARY KEY,
    slug              TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    host              TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    revision          BIGINT NOT NULL DEFAULT 1,
    access_token_ttl  BIGINT NOT NULL,
    id_token_ttl      BIGINT NOT NULL,
    refresh_token_ttl BIGINT NOT NULL,
    session_ttl       BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE UNIQUE INDEX tenants_host_key ON tenants (host);

CREATE TABLE signing_keys (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    algorithm      TEXT NOT NULL,
    public_jwk     TEXT NOT NULL,
    private_sealed BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    retired_at     TIMESTAMPTZ,
    expires_at     TIMESTAMPTZ
);
CREATE INDEX signing_keys_tenant_idx ON signing_keys (tenant_id, created_at);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    email_verified   BOOLEAN NOT NULL DEFAULT FALSE,
    name             TEXT NOT NULL DEFAULT '',
    given_name       TEXT NOT NULL DEFAULT '',
    family_name      TEXT NOT NULL DEFAULT '',
    password_hash    TEXT NOT NULL DEFAULT '',
    disabled_at      TIMESTAMPTZ,
    last_login_at    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, email_normalized);
-- Rows that name a user, an API or a token family name it with their own
-- tenant: (tenant_id, id) is the key they reference, so that no row can point
-- into another tenant.
CREATE UNIQUE INDEX users_tenant_id_key ON users (tenant_id, id);

CREATE TABLE clients (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id                  TEXT NOT NULL,
    name                       TEXT NOT NULL,
    application_type           TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    secret_hash                TEXT NOT NULL DEFAULT '',
    previous_secret_hash       TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at TIMESTAMPTZ,
    redirect_uris              TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris  TEXT NOT NULL DEFAULT '[]',
    grant_types                TEXT NOT NULL DEFAULT '[]',
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX clients_tenant_client_key ON clients (tenant_id, client_id);

CREATE TABLE apis (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    audience   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX apis_tenant_audience_key ON apis (tenant_id, audience);
CREATE UNIQUE INDEX apis_tenant_id_key ON apis (tenant_id, id);

CREATE TABLE api_scopes (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    api_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, api_id) REFERENCES apis (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX api_scopes_api_name_key ON api_scopes (api_id, name);
CREATE INDEX api_scopes_tenant_idx ON api_scopes (tenant_id);

CREATE TABLE client_grants (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    api_id     TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, api_id) REFERENCES apis (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX client_grants_client_api_key ON client_grants (tenant_id, client_id, api_id);

CREATE TABLE consents (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX consents_user_client_key ON consents (tenant_id, user_id, client_id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    auth_time    TIMESTAMPTZ NOT NULL,
    amr          TEXT NOT NULL DEFAULT '[]',
    ip_address   TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE auth_requests (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    scopes                TEXT NOT NULL DEFAULT '[]',
    audience              TEXT NOT NULL DEFAULT '',
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age               BIGINT,
    login_hint            TEXT NOT NULL DEFAULT '',
    hint_subject          TEXT NOT NULL DEFAULT '',
    browser_hash          TEXT NOT NULL,
    user_id               TEXT NOT NULL DEFAULT '',
    auth_time             TIMESTAMPTZ,
    amr                   TEXT NOT NULL DEFAULT '[]',
    code_hash             TEXT,
    code_expires_at       TIMESTAMPTZ,
    code_redeemed_at      TIMESTAMPTZ,
    grant_id              TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX auth_requests_code_hash_key ON auth_requests (code_hash);
CREATE INDEX auth_requests_expires_idx ON auth_requests (expires_at);

CREATE TABLE grants (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    scopes         TEXT NOT NULL DEFAULT '[]',
    audience       TEXT NOT NULL DEFAULT '',
    auth_time      TIMESTAMPTZ NOT NULL,
    amr            TEXT NOT NULL DEFAULT '[]',
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX grants_tenant_id_key ON grants (tenant_id, id);
CREATE INDEX grants_user_client_idx ON grants (tenant_id, user_id, client_id);
CREATE INDEX grants_expires_idx ON grants (expires_at);

CREATE TABLE access_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    grant_id   TEXT,
    scopes     TEXT NOT NULL DEFAULT '[]',
    audience   TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX access_tokens_grant_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
