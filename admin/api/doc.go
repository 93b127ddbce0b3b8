// Package api is Gatehouse's management API, /api/v1 on the apex: JSON over
// the same admin services as the console and the CLI, for tenants and their
// applications, APIs, users, keys, connections and audit logs, described by the OpenAPI
// 3.1 document at /api/v1/openapi.json, which is built from the same route
// list that is mounted ([Handler.Routes]).
//
// Callers authenticate with bearer access tokens issued by the system
// tenant for the API's audience: client credentials for machines, the
// console's own token for administrators. Scopes: tenants:read for reads,
// tenants:write for changes (it implies tenants:read), audit:read for the
// audit log; each route's scope is checked before anything is looked up.
// The tenant a call acts on is checked against the caller's roles in one
// place, admin.Service.Tenant: another tenant's slug, or another tenant's
// object id under one's own slug, answers 404 exactly as a made-up one.
//
// Creates answer 201 with Location; actions (disable, rotate) 200; deletes
// 204, and a repeated delete 404 — the resource is gone either way, so
// DELETE is idempotent in effect (RFC 9110 §9.2.2) though not in status.
// Collections answer {items, next}: limit is 1 to 200 (50 by default) and
// next is an opaque cursor, passed back as after (before for the audit
// log). Errors are RFC 9457 problem documents, rendered by the server's one
// error handler; invalid input is 400 naming the field. Client secrets are
// in the answers that make them only; no answer holds a hash, nor a
// connection's upstream client secret or SAML key.
package api
