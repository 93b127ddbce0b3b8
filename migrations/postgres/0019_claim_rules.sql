-- Claim rules (issue 10): per tenant, an ordered list of CEL expressions
-- that add claims to ID and access tokens or deny a sign-in. The
-- expressions are checked when saved and run when a token is minted.
CREATE TABLE claim_rules (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    position            INTEGER NOT NULL DEFAULT 0,
    enabled             BOOLEAN NOT NULL DEFAULT FALSE,
    condition           TEXT NOT NULL DEFAULT '',
    id_token_claims     TEXT NOT NULL DEFAULT '{}',
    access_token_claims TEXT NOT NULL DEFAULT '{}',
    deny                TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX claim_rules_tenant_name_key ON claim_rules (tenant_id, name);
CREATE INDEX claim_rules_tenant_position_idx ON claim_rules (tenant_id, position, id);

-- First-party applications: a client whose consent is 'skip' is not asked
-- for; the consent is recorded as implicit, and the user still sees and
-- may revoke it.
ALTER TABLE clients ADD COLUMN consent TEXT NOT NULL DEFAULT 'required';
ALTER TABLE consents ADD COLUMN implicit BOOLEAN NOT NULL DEFAULT FALSE;
