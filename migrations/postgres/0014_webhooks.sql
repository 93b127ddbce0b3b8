-- Webhooks: a tenant's endpoints, the outbox of their deliveries and the
-- log of every attempt. A delivery is written in the transaction of the
-- audit event it announces, so an event is never lost nor half-written;
-- nodes claim due deliveries with a lease (claim_token, claimed_until) so
-- that two never send one at the same time.

-- An endpoint: where a tenant's events go. The signing secret is sealed
-- under the master key; during a rotation the previous one signs too,
-- until previous_secret_until.
CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                    TEXT NOT NULL,
    events                 TEXT NOT NULL DEFAULT '[]',
    enabled                BOOLEAN NOT NULL DEFAULT TRUE,
    secret_sealed          BYTEA NOT NULL DEFAULT ''::bytea,
    previous_secret_sealed BYTEA NOT NULL DEFAULT ''::bytea,
    previous_secret_until  TIMESTAMPTZ,
    failing_since          TIMESTAMPTZ,
    disabled_reason        TEXT NOT NULL DEFAULT '',
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX webhook_endpoints_tenant_id_key ON webhook_endpoints (tenant_id, id);

-- A delivery of one event to one endpoint: the outbox.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    status           TEXT NOT NULL,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    claim_token      TEXT NOT NULL DEFAULT '',
    claimed_until    TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX webhook_deliveries_tenant_id_key ON webhook_deliveries (tenant_id, id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, id);

-- An attempt at a delivery: the delivery log. Never a response body.
CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    endpoint_id  TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    duration_ms  BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (tenant_id, delivery_id, id);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (tenant_id, endpoint_id, id);
