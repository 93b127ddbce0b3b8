-- The change feed: a row per change of a tenant's cached configuration (or
-- its deletion), in commit order (writers take a transaction advisory lock
-- before they draw a seq), so that a node catches up with what others
-- changed by reading the rows after the last one it saw rather than every
-- tenant's revision; NOTIFY gatehouse_tenant_changes wakes it at once.
-- Rows are pruned after an hour; a node that fell further behind drops its
-- whole cache.
CREATE TABLE tenant_changes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tenant_changes_changed_at_idx ON tenant_changes (changed_at);
