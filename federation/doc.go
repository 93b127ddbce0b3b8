// Package federation owns upstream identity: the connectors that log a user
// in at another identity provider (social providers through goth, any
// OpenID provider, SAML 2.0 IdPs through crewjam/saml), the state that
// binds each upstream login to the tenant, the connection, the browser and
// our own authorization request, and the rules that turn an upstream
// identity into a user of the tenant: keyed by (connection, issuer,
// subject), provisioned just in time, linked by email only when the
// upstream is authoritative for a verified address and the local account is
// verified too.
package federation
