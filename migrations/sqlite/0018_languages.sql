-- Languages of the end-user pages and email: the ui_locales an
-- authorization request asked for (OpenID Connect Core §3.1.2.1), the
-- language a user chose, the tenant's default, and a tenant's own wording
-- of any message of the catalogs, per language.
ALTER TABLE auth_requests ADD COLUMN ui_locales TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN default_locale TEXT NOT NULL DEFAULT '';
-- Where answers to the tenant's email go.
ALTER TABLE tenants ADD COLUMN email_reply_to TEXT NOT NULL DEFAULT '';

CREATE TABLE tenant_strings (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    locale     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    text       TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, locale, message_id)
);
