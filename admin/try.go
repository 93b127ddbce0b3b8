package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// The console's "Try it" client: one per tenant, made on demand, internal
// (not listed, not editable). Its only redirect URI is the console's try
// callback.
//
// It is confidential, with a secret derived from the master key
// ([TrySecret]) that only the nodes know and none stores: only the console
// can redeem its codes (in-process, through its Transport). An end user who
// runs a code flow with it gets a code and no token.
//
// It holds grants for one try at a time: when a try starts it is given the
// API grants of the application being tried (so that the login asks for
// what that application would), lapsing after TryTTL; when the try ends
// ([Service.EndTry]) they are removed, with the consent the user gave it
// and the tokens it got. A try that is abandoned leaves grants that lapse
// on their own within TryTTL, and the next try replaces them.
const (
	TryClientID   = "gatehouse-console-try"
	TryClientName = "Gatehouse console (Try it)"
	// TryTTL is how long a try may take, from the console's redirect to
	// the tenant's login page to its callback.
	TryTTL = 10 * time.Minute
)

// TrySecret is the client secret of the try client of the tenant with
// tenantID: derived from the master key, so that every node knows it, and
// different per tenant.
func TrySecret(box *secret.Box, tenantID string) string {
	return base64.RawURLEncoding.EncodeToString(box.Derive("gatehouse console try client secret v1 "+tenantID, 32))
}

// TryClient is what the console needs to start a "Try it" login for an
// application: the internal client to use and what it should request.
type TryClient struct {
	// ClientID is the internal client's id (not the application's).
	ClientID string
	// AppName is the name of the application being tried.
	AppName string
	// Scopes are openid, profile and email, plus the API scopes of the
	// application's API grant when it has exactly one.
	Scopes []string
	// Resource is the audience of that API grant (RFC 8707), or "".
	Resource string
}

// errNoTry is the answer when this service was built without try secrets
// (the CLI): there is no console to finish a try.
var errNoTry = tenants.Invalid("client_id", "Try it is only available in the console")

// TryClient prepares a "Try it" login for the application forClientID of
// the tenant in ctx: it creates the tenant's internal try client (with
// redirectURI) if it does not exist yet, and gives it the application's API
// grants until the try ends or TryTTL passes.
func (s *Service) TryClient(ctx context.Context, forClientID, redirectURI string) (*TryClient, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if s.trySecret == nil {
		return nil, errNoTry
	}
	app, err := s.client(ctx, forClientID)
	if err != nil {
		return nil, err
	}
	if !app.AllowsGrant(tenants.GrantAuthorizationCode) {
		return nil, tenants.Invalid("client_id", "only an application that signs users in (authorization code) can be tried")
	}
	if !t.AllowsGrant(tenants.GrantAuthorizationCode) {
		return nil, tenants.Invalid("client_id", "this tenant does not allow the authorization_code grant")
	}
	grants, err := s.store.ClientGrants(ctx, forClientID)
	if err != nil {
		return nil, err
	}
	if err := s.ensureTryClient(ctx, t, redirectURI); err != nil {
		return nil, err
	}
	lapses := s.store.Now().Add(TryTTL)
	rows := make([]tenants.ClientGrant, 0, len(grants))
	for _, g := range grants {
		rows = append(rows, tenants.ClientGrant{APIID: g.APIID, Scopes: slices.Clone(g.Scopes), ExpiresAt: &lapses})
	}
	if err := s.store.SetClientGrants(ctx, TryClientID, rows); err != nil {
		return nil, err
	}
	s.changed(t)
	out := &TryClient{ClientID: TryClientID, AppName: app.Name, Scopes: []string{tenants.ScopeOpenID, tenants.ScopeProfile, tenants.ScopeEmail}}
	if len(grants) == 1 {
		api, err := s.store.APIByID(ctx, grants[0].APIID)
		if err != nil {
			return nil, err
		}
		out.Resource = api.Audience
		out.Scopes = append(out.Scopes, grants[0].Scopes...)
	}
	return out, nil
}

// EndTry ends a try at the tenant in ctx, whatever its outcome: the try
// client loses its API grants and, when subject (the user who signed in)
// is known, that user's consent to it and every token it got for them.
func (s *Service) EndTry(ctx context.Context, subject string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	if err := s.store.SetClientGrants(ctx, TryClientID, nil); err != nil && !errors.Is(err, tenants.ErrNotFound) {
		return err
	}
	s.changed(t)
	if subject == "" {
		return nil
	}
	if err := s.store.RevokeConsent(ctx, subject, TryClientID); err != nil && !errors.Is(err, tenants.ErrNotFound) {
		return err
	}
	return nil
}

// ensureTryClient creates the tenant's try client, or brings the one there
// is to what it must be: confidential with this deployment's secret (a try
// client made by an older version was public, and is made anew) and
// redirectURI as its only redirect URI.
func (s *Service) ensureTryClient(ctx context.Context, t *tenants.Tenant, redirectURI string) error {
	hash := secret.Hash(s.trySecret(t.ID))
	create := func() (*tenants.Client, error) {
		c := &tenants.Client{
			ClientID: TryClientID, Name: TryClientName, ApplicationType: tenants.AppTypeWeb,
			TokenEndpointAuthMethod: tenants.AuthMethodBasic, SecretHash: hash, RedirectURIs: tenants.Strings{redirectURI},
			GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}, Internal: true,
		}
		err := s.store.CreateClient(ctx, c, nil)
		if errors.Is(err, tenants.ErrAlreadyExists) { // a concurrent try made it
			return s.store.ClientByClientID(ctx, TryClientID)
		}
		return c, err
	}
	c, err := s.store.ClientByClientID(ctx, TryClientID)
	if errors.Is(err, tenants.ErrNotFound) {
		c, err = create()
	}
	if err != nil {
		return err
	}
	if !c.Internal {
		return tenants.Invalid("client_id", "an application uses the try client's id")
	}
	if c.TokenEndpointAuthMethod != tenants.AuthMethodBasic || !secret.Equal(c.SecretHash, hash) || c.PreviousSecretHash != "" {
		if err := s.store.DeleteClient(ctx, TryClientID); err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return err
		}
		if c, err = create(); err != nil {
			return err
		}
	}
	if len(c.RedirectURIs) == 1 && c.RedirectURIs[0] == redirectURI {
		return nil
	}
	next := *c
	next.RedirectURIs = tenants.Strings{redirectURI}
	return s.store.UpdateClient(ctx, &next)
}
