-- Issue 10, the rest of authorization.

-- Whether an application's roles and groups claims carry names (the
-- default) or the stable ids of the roles and groups.
ALTER TABLE clients ADD COLUMN claim_format TEXT NOT NULL DEFAULT 'names';

-- The groups an upstream last asserted for an identity (a JSON array of
-- names, refreshed at every sign-in through the connection).
ALTER TABLE external_identities ADD COLUMN upstream_groups TEXT NOT NULL DEFAULT '[]';

-- Whether a connection's upstream groups that map to no tenant group are
-- passed through in the groups claim.
ALTER TABLE connections ADD COLUMN pass_groups BOOLEAN NOT NULL DEFAULT FALSE;

-- Where a membership comes from: '' for an admin's (manual), else the
-- connection whose group mapping made it; a sign-in through that
-- connection adds and removes only its own memberships.
ALTER TABLE group_members ADD COLUMN connection_id TEXT NOT NULL DEFAULT '';

-- A connection's explicit mapping of upstream group names to the
-- tenant's groups.
CREATE TABLE connection_group_maps (
    tenant_id      TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    upstream_group TEXT NOT NULL,
    group_id       TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection_id, upstream_group, group_id),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX connection_group_maps_group_idx ON connection_group_maps (tenant_id, group_id);

-- The user_metadata fields a tenant lets its users edit on the account
-- page (a JSON array of {name, label, type, max_length}).
ALTER TABLE tenants ADD COLUMN user_metadata_fields TEXT NOT NULL DEFAULT '[]';
