// Package oidc is the connector to any OpenID Connect provider, found by
// its issuer URL (discovery): authorization code with PKCE and nonce, the
// ID token verified against the upstream's JWKS with
// github.com/coreos/go-oidc/v3.
package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

var errorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// Connector logs users in at an OpenID provider.
type Connector struct {
	st     federation.Settings
	scopes []string

	mu       sync.Mutex
	provider *gooidc.Provider
}

var _ federation.Connector = (*Connector)(nil)

// New builds the connector of a generic OpenID Connect connection.
func New(st federation.Settings) (federation.Connector, error) {
	c := st.Connection
	if st.HTTPClient == nil {
		return nil, federation.ErrNoUpstreamClient
	}
	if c.Issuer == "" || c.ClientID == "" {
		return nil, fmt.Errorf("oidc connection %s: issuer and client id are required", c.Name)
	}
	return &Connector{st: st, scopes: []string{gooidc.ScopeOpenID, "email", "profile"}}, nil
}

func (c *Connector) ctx(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, c.st.HTTPClient)
}

// discover returns the upstream's provider, discovering it on first use (a
// provider that is down only fails the logins that need it).
func (c *Connector) discover(ctx context.Context) (*gooidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := gooidc.NewProvider(c.ctx(ctx), c.st.Connection.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", c.st.Connection.Issuer, err)
	}
	c.provider = p
	return p, nil
}

// Check fetches the issuer's discovery document through the upstream
// client, so that an issuer that does not answer, or answers for another
// issuer (OpenID Connect Discovery 1.0 §4.3), is refused when the
// connection is saved. What the admin is told never tells a closed port
// from an open one (upstream.Message); the operator's log has the kind.
func (c *Connector) Check(ctx context.Context) error {
	if _, err := c.discover(ctx); err != nil {
		iss := c.st.Connection.Issuer
		tenants.Logger(ctx).WarnContext(ctx, "federation: OpenID discovery at save", "issuer", iss, "err", upstream.Safe(err))
		return tenants.Invalid("issuer", "%s: %s/.well-known/openid-configuration must answer from the server, with issuer %s",
			upstream.Message("fetch the issuer's discovery document", err), iss, iss)
	}
	return nil
}

var _ federation.Checker = (*Connector)(nil)

func (c *Connector) config(p *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.st.Connection.ClientID, ClientSecret: c.st.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: c.st.CallbackURL, Scopes: c.scopesFor(p)}
}

// scopesFor is what the connector asks p for: openid, email and profile,
// and groups when p's discovery lists that scope (an upstream that does
// not know it may refuse it), so that the user's upstream groups come
// back for the connection's group mapping.
func (c *Connector) scopesFor(p *gooidc.Provider) []string {
	var d struct {
		Scopes []string `json:"scopes_supported"`
	}
	if err := p.Claims(&d); err == nil && slices.Contains(d.Scopes, "groups") {
		return append(slices.Clone(c.scopes), "groups")
	}
	return c.scopes
}

// Start sends the browser to the upstream's authorization endpoint.
func (c *Connector) Start(ctx context.Context, b federation.Begin) (*federation.Step, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(b.Nonce), oauth2.S256ChallengeOption(b.Verifier)}
	if b.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", b.LoginHint))
	}
	return &federation.Step{RedirectURL: c.config(p).AuthCodeURL(b.State, opts...)}, nil
}

// Finish exchanges the code (with the PKCE verifier) and verifies the ID
// token: signature by the upstream's JWKS, issuer, audience, expiry, nonce.
func (c *Connector) Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*federation.Identity, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		// The page and the log name only an error code (RFC 6749
		// §4.1.2.1), never other text the answer carries.
		if !errorCode.MatchString(e) {
			e = "an unknown error"
		}
		return nil, federation.Reject("the provider answered "+e, nil)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, federation.Reject("the provider cannot be reached", err)
	}
	if iss := q.Get("iss"); iss != "" && iss != c.st.Connection.Issuer {
		return nil, federation.Reject("the answer names another issuer (mix-up)", nil)
	}
	code := q.Get("code")
	if code == "" {
		return nil, federation.Reject("the answer has no code", nil)
	}
	tok, err := c.config(p).Exchange(c.ctx(ctx), code, oauth2.VerifierOption(st.PKCEVerifier))
	if err != nil {
		return nil, federation.Reject("the code exchange failed", err)
	}
	id, err := VerifyIDToken(c.ctx(ctx), p, c.st.Connection.ClientID, tok, st.Nonce)
	if err != nil {
		return nil, err
	}
	if id.Email == "" && p.UserInfoEndpoint() != "" {
		if err := c.userinfo(ctx, p, tok, id); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// userinfo completes id from the upstream's userinfo endpoint: when an
// access token is issued, a provider may return the profile and email
// claims there only (OpenID Connect Core §5.4). Its sub must be the ID
// token's (§5.3.4).
func (c *Connector) userinfo(ctx context.Context, p *gooidc.Provider, tok *oauth2.Token, id *federation.Identity) error {
	info, err := p.UserInfo(c.ctx(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		return federation.Reject("the provider's userinfo cannot be read", err)
	}
	if info.Subject != id.Subject {
		return federation.Reject("the userinfo is not the ID token's user", nil)
	}
	var claims struct {
		Name       string   `json:"name"`
		GivenName  string   `json:"given_name"`
		FamilyName string   `json:"family_name"`
		Groups     []string `json:"groups"`
	}
	if err := info.Claims(&claims); err != nil {
		return federation.Reject("the provider's userinfo cannot be read", err)
	}
	id.Email, id.EmailVerified = info.Email, info.EmailVerified
	if id.Name == "" && id.GivenName == "" && id.FamilyName == "" {
		id.Name, id.GivenName, id.FamilyName = claims.Name, claims.GivenName, claims.FamilyName
	}
	if id.Groups == nil {
		id.Groups = claims.Groups
	}
	return nil
}

// VerifyIDToken checks the ID token of tok (signature by p's JWKS, issuer,
// audience clientID, expiry, nonce) and returns its identity.
func VerifyIDToken(ctx context.Context, p *gooidc.Provider, clientID string, tok *oauth2.Token, nonce string) (*federation.Identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, federation.Reject("the provider sent no ID token", nil)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		return nil, federation.Reject("the ID token is not valid", err)
	}
	if !secret.Equal(idt.Nonce, nonce) {
		return nil, federation.Reject("the ID token's nonce is not this login's", nil)
	}
	var claims struct {
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		Name          string          `json:"name"`
		GivenName     string          `json:"given_name"`
		FamilyName    string          `json:"family_name"`
		Groups        []string        `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, federation.Reject("the ID token's claims cannot be read", err)
	}
	return &federation.Identity{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: claims.Email, EmailVerified: truthy(claims.EmailVerified),
		Name: claims.Name, GivenName: claims.GivenName, FamilyName: claims.FamilyName, Groups: claims.Groups,
	}, nil
}

// truthy reads email_verified, which some providers send as a string.
func truthy(raw json.RawMessage) bool {
	s := strings.Trim(string(raw), `"`)
	return s == "true"
}
