// Package login serves the pages end users see on a tenant's host: the
// authorization endpoint's browser side, password login, consent and
// logout. It keeps the browser binding, sessions and anti-CSRF tokens, and
// hands protocol decisions to package oidc.
package login
