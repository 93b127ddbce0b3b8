-- Gatehouse schema, version 3: federation — social, OpenID Connect and SAML
-- connections per tenant, and the external identities they bring.

-- A connection to an upstream identity provider. The upstream client
-- secret and the SAML service provider's private key are sealed under the
-- master key. Config holds what only one type needs (JSON).
CREATE TABLE connections (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL DEFAULT 1,
    domains              TEXT NOT NULL DEFAULT '[]',
    client_id            TEXT NOT NULL DEFAULT '',
    client_secret_sealed BLOB NOT NULL DEFAULT x'',
    issuer               TEXT NOT NULL DEFAULT '',
    trust_email          BOOLEAN NOT NULL DEFAULT 0,
    config               TEXT NOT NULL DEFAULT '{}',
    sp_key_sealed        BLOB NOT NULL DEFAULT x'',
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);
CREATE UNIQUE INDEX connections_tenant_name_key ON connections (tenant_id, name);
CREATE UNIQUE INDEX connections_tenant_id_key ON connections (tenant_id, id);

-- An identity at an upstream provider, linked to a user: keyed by the
-- upstream issuer and subject, never by email.
CREATE TABLE external_identities (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    last_login_at DATETIME,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX external_identities_key ON external_identities (tenant_id, connection_id, issuer, subject);
CREATE INDEX external_identities_user_idx ON external_identities (tenant_id, user_id);

-- A login at an upstream provider in progress: bound to the tenant, the
-- connection, the browser and our own authorization request; single use.
-- ID is the SHA-256 of the state sent upstream.
CREATE TABLE federation_states (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    auth_request_id TEXT NOT NULL DEFAULT '',
    browser_hash    TEXT NOT NULL,
    purpose         TEXT NOT NULL DEFAULT 'login',
    user_id         TEXT NOT NULL DEFAULT '',
    nonce           TEXT NOT NULL DEFAULT '',
    pkce_verifier   TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    identity        TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    used_at         DATETIME,
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX federation_states_expires_idx ON federation_states (expires_at);

-- SAML assertions already used, so that none is accepted twice.
CREATE TABLE saml_assertions (
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    assertion_id  TEXT NOT NULL,
    expires_at    DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, assertion_id),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX saml_assertions_expires_idx ON saml_assertions (expires_at);

-- Which upstream connection a login came through (empty for a password),
-- carried from the session to the authorization request and the token
-- family, for the ID token's idp claim.
ALTER TABLE sessions ADD COLUMN idp TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN idp TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN idp TEXT NOT NULL DEFAULT '';
