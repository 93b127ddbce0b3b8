// Package samlidp is Gatehouse as a SAML 2.0 identity provider: each
// tenant's IdP metadata, its single sign-on service (HTTP-Redirect and
// HTTP-POST bindings) for the tenant's SAML applications, and the
// assertions it issues, signed with the tenant's RS256 key. Signing in is
// the sign-in pages' (package login), through a sign-in intent, so that
// SAML and OAuth sign-ins share their session, MFA and throttling rules.
package samlidp
