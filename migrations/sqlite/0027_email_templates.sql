-- A tenant's own email templates: per kind of email (views/email's
-- vocabulary) and language, a subject, an HTML content and a text body in
-- the small template language (named variables only). Without one, the
-- built-in localized email is sent.
CREATE TABLE email_templates (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    html       TEXT NOT NULL DEFAULT '',
    text       TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, kind, locale)
);
