package social

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// base is what every social connector shares: its settings, and the
// provider's name for the reasons of refused answers.
type base struct {
	st   federation.Settings
	name string
}

// ctx returns ctx carrying the upstream HTTP client for oauth2 and go-oidc.
func (b *base) ctx(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, b.st.HTTPClient)
}

// authURL adds Gatehouse's parameters to the authorization URL a goth
// provider built (with Gatehouse's state): the PKCE challenge (RFC 7636
// §4.3), and set (nonce, login_hint); the parameters in drop are removed.
func authURL(raw, verifier string, set map[string]string, drop ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for _, k := range drop {
		q.Del(k)
	}
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
	q.Set("code_challenge_method", "S256")
	for k, v := range set {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

var errorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// code returns the authorization code of the provider's answer (RFC 6749
// §4.1.2), or a Rejection for an error answer (§4.1.2.1).
func (b *base) code(r *http.Request) (string, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		if !errorCode.MatchString(e) {
			e = "an unknown error"
		}
		if e == "access_denied" {
			return "", federation.Reject("the sign-in was cancelled or refused at "+b.name+" (access_denied)", nil)
		}
		return "", federation.Reject(b.name+" answered "+e, nil)
	}
	code := q.Get("code")
	if code == "" {
		return "", federation.Reject("the answer has no code", nil)
	}
	return code, nil
}

// exchange redeems code with the PKCE verifier (RFC 7636 §4.5).
func (b *base) exchange(ctx context.Context, cfg *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	tok, err := cfg.Exchange(b.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, federation.Reject("the code exchange at "+b.name+" failed", err)
	}
	return tok, nil
}

// claims are the ID token claims the social connectors read.
type claims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
	GivenName     string          `json:"given_name"`
	FamilyName    string          `json:"family_name"`
	// Microsoft's tenant, object id and user name.
	TenantID          string `json:"tid"`
	ObjectID          string `json:"oid"`
	PreferredUsername string `json:"preferred_username"`
}

// verifyIDToken checks the ID token of tok with v (signature by the
// provider's JWKS, the issuer iss unless v skips it, audience, expiry) and
// its nonce (OpenID Connect Core §3.1.3.7), and returns it with its claims.
func (b *base) verifyIDToken(ctx context.Context, v *gooidc.IDTokenVerifier, iss string, tok *oauth2.Token, nonce string) (*gooidc.IDToken, *claims, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, federation.Reject(b.name+" sent no ID token", nil)
	}
	idt, err := v.Verify(b.ctx(ctx), raw)
	if err != nil {
		return nil, nil, federation.Reject(b.idTokenProblem(raw, iss, err), err)
	}
	if nonce == "" || !secret.Equal(idt.Nonce, nonce) {
		return nil, nil, federation.Reject("the ID token's nonce is not this login's", nil)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, nil, federation.Reject("the ID token's claims cannot be read", err)
	}
	return idt, &c, nil
}

// idTokenProblem names what is wrong with an ID token that go-oidc refused,
// for the page and the audit log (the refusal itself is go-oidc's): it
// expired, it is for another audience, another issuer's, or else its
// signature does not verify.
func (b *base) idTokenProblem(raw, iss string, err error) string {
	var expired *gooidc.TokenExpiredError
	if errors.As(err, &expired) {
		return "the ID token has expired"
	}
	var c struct {
		Issuer   string          `json:"iss"`
		Audience json.RawMessage `json:"aud"`
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "the ID token is malformed"
	}
	payload, derr := base64.RawURLEncoding.DecodeString(parts[1])
	if derr != nil || json.Unmarshal(payload, &c) != nil {
		return "the ID token is malformed"
	}
	var auds []string
	if json.Unmarshal(c.Audience, &auds) != nil {
		var one string
		_ = json.Unmarshal(c.Audience, &one)
		auds = []string{one}
	}
	if !slices.Contains(auds, b.st.Connection.ClientID) {
		return "the ID token is for another application (audience)"
	}
	if iss != "" && c.Issuer != iss && !(iss == googleIssuer && c.Issuer == "accounts.google.com") {
		return "the ID token is from another issuer"
	}
	return "the ID token's signature does not verify against " + b.name + "'s keys"
}

// truthy reads email_verified, which some providers send as a string.
func truthy(raw json.RawMessage) bool {
	return strings.Trim(string(raw), `"`) == "true"
}
