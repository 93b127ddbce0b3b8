-- User import and export: what other platforms keep of a user besides
-- their profile (metadata the user may change, and metadata only admins
-- may), and the SHA-256 of the password hash an import last brought, so
-- that importing the same file again is no change even after the user's
-- first sign-in re-hashed it (or they changed their password since).
ALTER TABLE users ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN app_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN imported_hash_digest TEXT NOT NULL DEFAULT '';

-- An import run as a job: its input stored in chunks, so that any node
-- can take it up (its lease expired) and resume after the last line done.
CREATE TABLE import_jobs (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    update_existing BOOLEAN NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    next_chunk  INTEGER NOT NULL DEFAULT 0,
    lines       INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    refused     INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL DEFAULT '',
    lease_until DATETIME,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    finished_at DATETIME
);
CREATE UNIQUE INDEX import_jobs_tenant_id_key ON import_jobs (tenant_id, id);
CREATE INDEX import_jobs_status_idx ON import_jobs (status, lease_until);

CREATE TABLE import_job_chunks (
    job_id     TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    first_line INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (job_id, seq),
    FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, id) ON DELETE CASCADE
);

-- The lines a job refused, with their reasons (the other lines are counted).
CREATE TABLE import_job_refusals (
    job_id    TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    line      INTEGER NOT NULL,
    email     TEXT NOT NULL DEFAULT '',
    reason    TEXT NOT NULL,
    PRIMARY KEY (job_id, line),
    FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, id) ON DELETE CASCADE
);
