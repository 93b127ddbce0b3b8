-- The audit log searched by reference: the id of the request an event was
-- written in is what an error page shows and an answer's X-Request-ID
-- carries (a refused authorization or token request is audited with it).
-- Most events of a tenant's log are looked up by it only when a sign-in
-- failed, so the index holds only the events that have one.
CREATE INDEX audit_events_request_idx ON audit_events (tenant_id, request_id) WHERE request_id <> '';
