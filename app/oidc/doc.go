// Package oidc is Gatehouse's OpenID provider and OAuth 2.0 authorization
// server: every tenant is its own issuer, and this package owns its
// protocol endpoints end to end.
//
//   - The authorization request ([Provider.Authorize], [Provider.Begin],
//     [Provider.Request], [Provider.Authenticated], [Provider.Complete],
//     [Provider.Fail]): created, bound to the browser, completed once.
//     Package login drives it from the pages.
//   - The token endpoint ([Provider.Token]): one strict form parser, one
//     client authentication, the grant looked up in the registry
//     (tenants.GrantTypes) and checked against the tenant's and the
//     client's grants once, then one handler per grant (token.go).
//   - The device authorization grant (RFC 8628): its endpoint
//     ([Provider.DeviceAuthorization]), the device authorization the
//     device page answers ([Provider.DeviceByUserCode],
//     [Provider.ApproveDevice], [Provider.DenyDevice]) and its polling at
//     the token endpoint (token_device.go).
//   - Introspection, revocation, userinfo, discovery and the JWKS.
//
// ID and access tokens are minted here (mint.go) with the zitadel/oidc
// library's claim types and JOSE signing; the library's server (pkg/op) is
// not used. Failures are *httperr.Error, which the server writes as OAuth's
// JSON error (RFC 6749 §5.2) with its WWW-Authenticate challenge.
//
// It knows nothing of Echo or GORM.
package oidc
