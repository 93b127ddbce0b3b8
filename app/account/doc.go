// Package account serves a user's own account on a tenant's host: the
// account page and its changes (profile, address, password, second
// factors, passkeys, sessions, applications, linked identities), and the
// self-service flows that reach it by email — sign-up, address
// verification, password reset. Every sensitive change needs a recent
// re-authentication (package authn); signing in is package login's.
package account
