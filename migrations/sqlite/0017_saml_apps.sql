-- Gatehouse as a SAML 2.0 identity provider: a tenant's SAML applications
-- (service providers) and the AuthnRequests waiting for their user to sign
-- in. Nothing here is secret: the SP's certificates are public, and the
-- salt only keeps one application's persistent NameIDs unrelated to
-- another's.
CREATE TABLE saml_apps (
    id                      TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    entity_id               TEXT NOT NULL,
    acs                     TEXT NOT NULL DEFAULT '[]',
    slo_url                 TEXT NOT NULL DEFAULT '',
    name_id_format          TEXT NOT NULL,
    name_id_source          TEXT NOT NULL,
    name_id_salt            TEXT NOT NULL,
    attributes              TEXT NOT NULL DEFAULT '[]',
    sign_response           BOOLEAN NOT NULL DEFAULT 1,
    sign_assertion          BOOLEAN NOT NULL DEFAULT 1,
    require_signed_requests BOOLEAN NOT NULL DEFAULT 0,
    signing_certs           TEXT NOT NULL DEFAULT '[]',
    encryption_cert         TEXT NOT NULL DEFAULT '',
    encrypt_assertions      BOOLEAN NOT NULL DEFAULT 0,
    access                  TEXT NOT NULL DEFAULT 'everyone',
    access_roles            TEXT NOT NULL DEFAULT '[]',
    access_groups           TEXT NOT NULL DEFAULT '[]',
    enabled                 BOOLEAN NOT NULL DEFAULT 1,
    created_at              DATETIME NOT NULL,
    updated_at              DATETIME NOT NULL
);
CREATE UNIQUE INDEX saml_apps_tenant_id_key ON saml_apps (tenant_id, id);
CREATE UNIQUE INDEX saml_apps_entity_key ON saml_apps (tenant_id, entity_id);

-- A request waiting for sign-in: single use, bound to a browser, purged at
-- expiry.
CREATE TABLE saml_requests (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    app_id         TEXT NOT NULL,
    request_id     TEXT NOT NULL DEFAULT '',
    acs_url        TEXT NOT NULL,
    binding        TEXT NOT NULL,
    relay_state    TEXT NOT NULL DEFAULT '',
    force_authn    BOOLEAN NOT NULL DEFAULT 0,
    is_passive     BOOLEAN NOT NULL DEFAULT 0,
    name_id_format TEXT NOT NULL DEFAULT '',
    browser_hash   TEXT NOT NULL,
    created_at     DATETIME NOT NULL,
    expires_at     DATETIME NOT NULL,
    FOREIGN KEY (tenant_id, app_id) REFERENCES saml_apps (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX saml_requests_expires_idx ON saml_requests (expires_at);
