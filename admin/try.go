package admin

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The console's "Try it" client: one per tenant, made on demand, internal
// (not listed, not editable). It is a public client (PKCE) whose only
// redirect URI is the console's try callback; before each try it is given
// the API grants of the application being tried, so that the login asks
// for what that application would.
const (
	TryClientID   = "gatehouse-console-try"
	TryClientName = "Gatehouse console (Try it)"
)

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

// TryClient prepares a "Try it" login for the application forClientID of
// the tenant in ctx: it creates the tenant's internal try client (with
// redirectURI) if it does not exist yet, and copies the application's API
// grants to it.
func (s *Service) TryClient(ctx context.Context, forClientID, redirectURI string) (*TryClient, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
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
	if err := s.ensureTryClient(ctx, redirectURI); err != nil {
		return nil, err
	}
	rows := make([]tenants.ClientGrant, 0, len(grants))
	for _, g := range grants {
		rows = append(rows, tenants.ClientGrant{APIID: g.APIID, Scopes: slices.Clone(g.Scopes)})
	}
	if err := s.store.SetClientGrants(ctx, TryClientID, rows); err != nil {
		return nil, err
	}
	s.changed(t)
	out := &TryClient{ClientID: TryClientID, AppName: app.Name, Scopes: []string{"openid", "profile", "email"}}
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

// ensureTryClient creates the tenant's try client, or points its redirect
// URI at redirectURI.
func (s *Service) ensureTryClient(ctx context.Context, redirectURI string) error {
	c, err := s.store.ClientByClientID(ctx, TryClientID)
	if errors.Is(err, tenants.ErrNotFound) {
		c = &tenants.Client{
			ClientID: TryClientID, Name: TryClientName, ApplicationType: tenants.AppTypeSPA,
			TokenEndpointAuthMethod: tenants.AuthMethodNone, RedirectURIs: tenants.Strings{redirectURI},
			GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}, Internal: true,
		}
		err = s.store.CreateClient(ctx, c, nil)
		if errors.Is(err, tenants.ErrAlreadyExists) { // a concurrent try made it
			c, err = s.store.ClientByClientID(ctx, TryClientID)
		} else if err == nil {
			return nil
		}
	}
	if err != nil {
		return err
	}
	if !c.Internal {
		return tenants.Invalid("client_id", "an application uses the try client's id")
	}
	if len(c.RedirectURIs) == 1 && c.RedirectURIs[0] == redirectURI {
		return nil
	}
	next := *c
	next.RedirectURIs = tenants.Strings{redirectURI}
	return s.store.UpdateClient(ctx, &next)
}
