// Package oidc is Gatehouse's OpenID provider: it wires the zitadel/oidc
// engine (pkg/op) to the tenant stores, serves every tenant as its own
// issuer, and closes the engine's gaps: PKCE S256 for every client, auth
// requests bound to the browser, RFC 9068 access tokens, refresh rotation
// with family revocation, code replay revocation, RFC 8707 resources, and
// introspection and userinfo that honour revocation.
//
// It knows nothing of Echo or GORM: the browser-facing handlers (package
// login) call its Authorize/Complete services; the token, introspection,
// revocation, userinfo, discovery and JWKS endpoints are the engine's, with
// our overrides ([server]).
package oidc
