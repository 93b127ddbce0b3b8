-- The sign-in core of the security hardening.
--
-- An authorization request may be a sign-in intent of Gatehouse's own pages
-- (the account page, a re-authentication, an IdP-initiated login) rather
-- than a client's request: it then names no client and says where the
-- browser goes when it completes.
ALTER TABLE auth_requests ALTER COLUMN client_id DROP NOT NULL;
ALTER TABLE auth_requests ADD COLUMN intent TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN return_to TEXT NOT NULL DEFAULT '';

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
ALTER TABLE external_identities ADD COLUMN linked_unproven BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE external_identities SET linked_unproven = TRUE
 WHERE EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = external_identities.tenant_id
                  AND u.id = external_identities.user_id AND NOT u.email_verified);

-- Whether a connection creates users at their first login: 'tenant' (when
-- the tenant's sign-up setting lets them sign up), 'create' (always: a
-- company's own IdP), 'existing' (never: only accounts that exist).
ALTER TABLE connections ADD COLUMN provisioning TEXT NOT NULL DEFAULT 'tenant';

-- The account pages no longer sign in through a client of their own (an
-- OAuth flow whose code nobody redeemed): they use a sign-in intent.
DELETE FROM clients WHERE client_id = 'gatehouse-account' AND internal = TRUE;
