// Package mfa owns the second factors that are not WebAuthn credentials:
// authenticator apps (TOTP, RFC 6238, with each time step accepted once,
// also under concurrent submissions) and recovery codes (single use,
// stored as hashes). Package passkey owns WebAuthn credentials.
package mfa
