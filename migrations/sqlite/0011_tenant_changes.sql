-- The change feed: a row per change of a tenant's cached configuration (or
-- its deletion), in commit order, so that a node catches up with what others
-- changed by reading the rows after the last one it saw rather than every
-- tenant's revision. Rows are pruned after an hour; a node that fell further
-- behind drops its whole cache. AUTOINCREMENT: a pruned seq is never reused.
CREATE TABLE tenant_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    changed_at DATETIME NOT NULL
);
CREATE INDEX tenant_changes_changed_at_idx ON tenant_changes (changed_at);
