// Package console is Gatehouse's admin console, on the apex under /admin:
// templ pages over the same admin services as the management API and the
// CLI. The console is a relying party of the system tenant: administrators
// sign in through Gatehouse's own authorization code + PKCE flow, and their
// principal (operator, or admin of some tenants) comes from that login,
// never from a path or a form.
package console
