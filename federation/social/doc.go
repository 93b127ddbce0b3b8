// Package social is the connectors to Google, GitHub and Microsoft (Entra
// ID), built on the github.com/markbates/goth providers for their
// endpoints, scopes and profiles, with Gatehouse's own protections around
// them: the state is federation's, PKCE (S256) is sent to every one of
// them, and the ID tokens of Google and Microsoft are verified against
// their JWKS with github.com/coreos/go-oidc/v3, nonce included.
package social
