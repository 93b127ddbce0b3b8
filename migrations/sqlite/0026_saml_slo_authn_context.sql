-- SAML identity provider, part two: Single Logout and RequestedAuthnContext.
-- An application's SLO binding (its SLO URL exists since 0017); what an
-- AuthnRequest asked of the sign-in's authentication context; the
-- applications each session signed in to (for logout: the NameID and
-- SessionIndex they were given), and the ids of logout messages already
-- accepted (no replay). Nothing here is secret.
ALTER TABLE saml_apps ADD COLUMN slo_binding TEXT NOT NULL DEFAULT '';
ALTER TABLE saml_requests ADD COLUMN authn_classes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE saml_requests ADD COLUMN authn_comparison TEXT NOT NULL DEFAULT '';

CREATE TABLE saml_participants (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    app_id         TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    sid            TEXT NOT NULL,
    name_id        TEXT NOT NULL,
    name_id_format TEXT NOT NULL,
    session_index  TEXT NOT NULL,
    created_at     DATETIME NOT NULL,
    expires_at     DATETIME NOT NULL,
    FOREIGN KEY (tenant_id, app_id) REFERENCES saml_apps (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX saml_participants_key ON saml_participants (tenant_id, app_id, sid, name_id);
CREATE INDEX saml_participants_sid_idx ON saml_participants (tenant_id, sid);
CREATE INDEX saml_participants_expires_idx ON saml_participants (expires_at);

CREATE TABLE saml_messages (
    tenant_id  TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    expires_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, app_id, message_id),
    FOREIGN KEY (tenant_id, app_id) REFERENCES saml_apps (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX saml_messages_expires_idx ON saml_messages (expires_at);
