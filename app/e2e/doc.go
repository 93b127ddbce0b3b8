// Package e2e holds Gatehouse's end-to-end tests and benchmarks: the real
// server over real HTTP, on SQLite and PostgreSQL, driven by real OAuth
// client libraries (golang.org/x/oauth2, github.com/coreos/go-oidc/v3) and,
// for pages, a real browser.
package e2e
