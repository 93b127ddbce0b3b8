// Package login serves signing in on a tenant's host: the browser side of
// the authorization endpoint, the password, second-factor and passkey
// steps, consent, logout, the device page (RFC 8628) and the answers of
// upstream providers. Protocol state (the authorization request, the
// device authorization) is package oidc's, sign-in policy
// package authn's; the user's own account is package account's.
package login
