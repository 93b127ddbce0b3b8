// Package tenants owns Gatehouse's domain and its storage: tenants, users,
// applications (OAuth clients), APIs and scopes, consents, sessions,
// authorization requests, tokens and signing keys.
//
// Every query for tenant-owned data is scoped in one place, [Store.scoped],
// from the tenant carried by the context ([WithTenant]); a context without a
// tenant is an error, never an unscoped query.
package tenants
