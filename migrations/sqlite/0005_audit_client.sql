-- The client an audit event is about (token issued, revoked, replayed;
-- consent granted), next to its actor and subject.
ALTER TABLE audit_events ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
