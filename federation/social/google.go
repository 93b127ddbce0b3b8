package social

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/markbates/goth/providers/google"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// googleIssuer is the issuer of Google's ID tokens, and of every Google
// identity.
const googleIssuer = "https://accounts.google.com"

// Google logs users in with their Google account (OpenID Connect).
type Google struct {
	base
	goth  *google.Provider
	oauth *oauth2.Config

	mu       sync.Mutex
	provider *gooidc.Provider
}

var _ federation.Connector = (*Google)(nil)

// NewGoogle builds the connector of a Google connection. goth's provider
// gives the endpoints (its google.Endpoint, which tests leave as it is and
// reach through the HTTP client), the scopes and the userinfo profile.
func NewGoogle(st federation.Settings) (federation.Connector, error) {
	c := st.Connection
	if st.HTTPClient == nil {
		return nil, federation.ErrNoUpstreamClient
	}
	if c.ClientID == "" {
		return nil, fmt.Errorf("google connection %s: client id is required", c.Name)
	}
	scopes := []string{gooidc.ScopeOpenID, "email", "profile"}
	p := google.New(c.ClientID, st.ClientSecret, st.CallbackURL, scopes...)
	p.HTTPClient = st.HTTPClient
	return &Google{
		base: base{st: st, name: "Google"},
		goth: p,
		oauth: &oauth2.Config{ClientID: c.ClientID, ClientSecret: st.ClientSecret, RedirectURL: st.CallbackURL,
			Endpoint: google.Endpoint, Scopes: scopes},
	}, nil
}

// discover returns Google's provider (JWKS), discovered on first use.
func (g *Google) discover(ctx context.Context) (*gooidc.Provider, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.provider != nil {
		return g.provider, nil
	}
	p, err := gooidc.NewProvider(g.ctx(ctx), googleIssuer)
	if err != nil {
		return nil, err
	}
	g.provider = p
	return p, nil
}

// Start sends the browser to Google with Gatehouse's state, nonce and PKCE
// challenge; no refresh token is asked for (goth asks for one by default).
func (g *Google) Start(_ context.Context, b federation.Begin) (*federation.Step, error) {
	sess, err := g.goth.BeginAuth(b.State)
	if err != nil {
		return nil, err
	}
	raw, err := sess.GetAuthURL()
	if err != nil {
		return nil, err
	}
	u, err := authURL(raw, b.Verifier, map[string]string{"nonce": b.Nonce, "login_hint": b.LoginHint}, "access_type")
	if err != nil {
		return nil, err
	}
	return &federation.Step{RedirectURL: u}, nil
}

// Finish exchanges the code with the PKCE verifier and verifies the ID
// token against Google's JWKS. The identity is Google's sub, and
// email_verified is Google's word for the address. The profile comes from
// the ID token, or from userinfo when the ID token has no name.
func (g *Google) Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*federation.Identity, error) {
	code, err := g.code(r)
	if err != nil {
		return nil, err
	}
	p, err := g.discover(ctx)
	if err != nil {
		return nil, federation.Reject("Google cannot be reached", err)
	}
	tok, err := g.exchange(ctx, g.oauth, code, st.PKCEVerifier)
	if err != nil {
		return nil, err
	}
	v := p.Verifier(&gooidc.Config{ClientID: g.st.Connection.ClientID, Now: g.st.Now})
	idt, c, err := g.verifyIDToken(ctx, v, googleIssuer, tok, st.Nonce)
	if err != nil {
		return nil, err
	}
	id := &federation.Identity{
		Issuer: googleIssuer, Subject: idt.Subject, Email: c.Email, EmailVerified: truthy(c.EmailVerified),
		Name: c.Name, GivenName: c.GivenName, FamilyName: c.FamilyName,
	}
	if id.Name == "" {
		u, err := g.goth.FetchUser(&google.Session{AccessToken: tok.AccessToken})
		switch {
		case err != nil:
			// goth's error names the userinfo URL, with the access
			// token in its query: only what upstream.Safe keeps is logged.
			tenants.Logger(ctx).WarnContext(ctx, "federation: Google userinfo", "connection", g.st.Connection.ID, "err", upstream.Safe(err))
		case u.UserID != idt.Subject:
			return nil, federation.Reject("Google's profile is not the ID token's user", nil)
		default:
			id.Name, id.GivenName, id.FamilyName = u.Name, u.FirstName, u.LastName
		}
	}
	return id, nil
}
