-- The sign-in core of the security hardening.
--
-- An authorization request may be a sign-in intent of Gatehouse's own pages
-- (the account page, a re-authentication, an IdP-initiated login) rather
-- than a client's request: it then names no client and says where the
-- browser goes when it completes. SQLite cannot drop NOT NULL: the table
-- is rebuilt (nothing references it).
CREATE TABLE auth_requests_new (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    client_id             TEXT,
    redirect_uri          TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    scopes                TEXT NOT NULL DEFAULT '[]',
    audience              TEXT NOT NULL DEFAULT '',
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age               INTEGER,
    login_hint            TEXT NOT NULL DEFAULT '',
    hint_subject          TEXT NOT NULL DEFAULT '',
    browser_hash          TEXT NOT NULL,
    user_id               TEXT NOT NULL DEFAULT '',
    auth_time             DATETIME,
    amr                   TEXT NOT NULL DEFAULT '[]',
    code_hash             TEXT,
    code_expires_at       DATETIME,
    code_redeemed_at      DATETIME,
    grant_id              TEXT,
    created_at            DATETIME NOT NULL,
    expires_at            DATETIME NOT NULL,
    idp                   TEXT NOT NULL DEFAULT '',
    acr                   TEXT NOT NULL DEFAULT '',
    acr_values            TEXT NOT NULL DEFAULT '[]',
    intent                TEXT NOT NULL DEFAULT '',
    return_to             TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
);
INSERT INTO auth_requests_new (id, tenant_id, client_id, redirect_uri, state, nonce, scopes, audience, response_mode,
    code_challenge, code_challenge_method, prompt, max_age, login_hint, hint_subject, browser_hash, user_id, auth_time,
    amr, code_hash, code_expires_at, code_redeemed_at, grant_id, created_at, expires_at, idp, acr, acr_values)
SELECT id, tenant_id, client_id, redirect_uri, state, nonce, scopes, audience, response_mode,
    code_challenge, code_challenge_method, prompt, max_age, login_hint, hint_subject, browser_hash, user_id, auth_time,
    amr, code_hash, code_expires_at, code_redeemed_at, grant_id, created_at, expires_at, idp, acr, acr_values
FROM auth_requests;
DROP TABLE auth_requests;
ALTER TABLE auth_requests_new RENAME TO auth_requests;
CREATE UNIQUE INDEX auth_requests_code_hash_key ON auth_requests (code_hash);
CREATE INDEX auth_requests_expires_idx ON auth_requests (expires_at);

-- A session belongs to one sign-in (the auth request it was made for),
-- kept when it rotates (a password change); a factor remembers the sign-in
-- it was added in, which it can never confirm.
ALTER TABLE sessions ADD COLUMN sign_in_id TEXT NOT NULL DEFAULT '';
ALTER TABLE mfa_factors ADD COLUMN added_sign_in TEXT NOT NULL DEFAULT '';

-- A user provisioned by an upstream that did not vouch for an address has
-- none: the address stays on the external identity. Uniqueness applies to
-- addresses only.
DROP INDEX users_tenant_email_key;
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, email_normalized) WHERE email_normalized <> '';

-- Identities linked while the account's address was unproven lose their
-- link when someone proves the address (a reset or verification link).
-- Identities of accounts whose address is unverified today were linked so.
ALTER TABLE external_identities ADD COLUMN linked_unproven BOOLEAN NOT NULL DEFAULT 0;
UPDATE external_identities SET linked_unproven = 1
 WHERE EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = external_identities.tenant_id
                  AND u.id = external_identities.user_id AND NOT u.email_verified);

-- Whether a connection creates users at their first login: 'tenant' (when
-- the tenant's sign-up setting lets them sign up), 'create' (always: a
-- company's own IdP), 'existing' (never: only accounts that exist).
ALTER TABLE connections ADD COLUMN provisioning TEXT NOT NULL DEFAULT 'tenant';

-- The account pages no longer sign in through a client of their own (an
-- OAuth flow whose code nobody redeemed): they use a sign-in intent.
DELETE FROM clients WHERE client_id = 'gatehouse-account' AND internal = 1;
