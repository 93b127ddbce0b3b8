-- Device authorization requests (RFC 8628): a device asks, the user enters
-- its user code on /device and approves or denies, the device polls the
-- token endpoint. The device code is stored as its SHA-256 only; the user
-- code, short and typed by people, as typed after normalization, unique per
-- tenant. interval_seconds and last_polled_at make every node enforce the
-- same polling interval (slow_down). Pending rows go at their expiry; the
-- others are kept for a grace period like authorization requests.
CREATE TABLE device_authorizations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    device_code_hash TEXT NOT NULL,
    user_code        TEXT NOT NULL,
    scopes           TEXT NOT NULL DEFAULT '[]',
    audience         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'pending',
    user_id          TEXT NOT NULL DEFAULT '',
    auth_time        TIMESTAMPTZ,
    amr              TEXT NOT NULL DEFAULT '[]',
    idp              TEXT NOT NULL DEFAULT '',
    acr              TEXT NOT NULL DEFAULT '',
    interval_seconds BIGINT NOT NULL,
    last_polled_at   TIMESTAMPTZ,
    grant_id         TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX device_authorizations_code_hash_key ON device_authorizations (device_code_hash);
CREATE UNIQUE INDEX device_authorizations_user_code_key ON device_authorizations (tenant_id, user_code);
CREATE INDEX device_authorizations_expires_idx ON device_authorizations (expires_at);
