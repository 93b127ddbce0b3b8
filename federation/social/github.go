package social

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/markbates/goth/providers/github"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// githubIssuer is the issuer of every GitHub identity (GitHub is OAuth 2.0
// only: there is no ID token to name one).
const githubIssuer = "https://github.com"

// GitHub logs users in with their GitHub account (OAuth 2.0 and the REST
// API).
type GitHub struct {
	base
	goth  *github.Provider
	oauth *oauth2.Config
}

var _ federation.Connector = (*GitHub)(nil)

// NewGitHub builds the connector of a GitHub connection; goth's provider
// gives the endpoints (its github.AuthURL, TokenURL, ProfileURL and
// EmailURL, left as they are), the scopes and the /user profile.
func NewGitHub(st federation.Settings) (federation.Connector, error) {
	c := st.Connection
	if st.HTTPClient == nil {
		return nil, federation.ErrNoUpstreamClient
	}
	if c.ClientID == "" {
		return nil, fmt.Errorf("github connection %s: client id is required", c.Name)
	}
	scopes := []string{"read:user", "user:email"}
	p := github.New(c.ClientID, st.ClientSecret, st.CallbackURL, scopes...)
	p.HTTPClient = st.HTTPClient
	return &GitHub{
		base: base{st: st, name: "GitHub"},
		goth: p,
		oauth: &oauth2.Config{ClientID: c.ClientID, ClientSecret: st.ClientSecret, RedirectURL: st.CallbackURL,
			Endpoint: oauth2.Endpoint{AuthURL: github.AuthURL, TokenURL: github.TokenURL}, Scopes: scopes},
	}, nil
}

// Start sends the browser to GitHub with Gatehouse's state and a PKCE
// challenge (which GitHub's OAuth apps accept since 2025).
func (g *GitHub) Start(_ context.Context, b federation.Begin) (*federation.Step, error) {
	sess, err := g.goth.BeginAuth(b.State)
	if err != nil {
		return nil, err
	}
	raw, err := sess.GetAuthURL()
	if err != nil {
		return nil, err
	}
	u, err := authURL(raw, b.Verifier, nil)
	if err != nil {
		return nil, err
	}
	return &federation.Step{RedirectURL: u}, nil
}

// Finish exchanges the code with the PKCE verifier and reads the user:
// the numeric id of /user is the subject (a login name can change hands),
// and the address is the primary one of /user/emails, verified as GitHub
// says.
func (g *GitHub) Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*federation.Identity, error) {
	code, err := g.code(r)
	if err != nil {
		return nil, err
	}
	tok, err := g.exchange(ctx, g.oauth, code, st.PKCEVerifier)
	if err != nil {
		return nil, err
	}
	// goth reads /user; when the profile shows no address, it looks for a
	// verified primary one itself and fails without one, which is no
	// reason to refuse: the address is ours to check below.
	u, err := g.goth.FetchUser(&github.Session{AccessToken: tok.AccessToken})
	if err != nil && !errors.Is(err, github.ErrNoVerifiedGitHubPrimaryEmail) {
		return nil, federation.Reject("GitHub's profile cannot be read", err)
	}
	if u.UserID == "" || u.UserID == "0" {
		return nil, federation.Reject("GitHub's profile has no user id", nil)
	}
	id := &federation.Identity{Issuer: githubIssuer, Subject: u.UserID, Name: u.Name}
	if id.Name == "" {
		id.Name = u.NickName
	}
	primary, err := g.primaryEmail(ctx, tok)
	switch {
	case err != nil:
		// Without the list, the profile's public address counts as
		// unverified.
		tenants.Logger(ctx).WarnContext(ctx, "federation: GitHub emails", "connection", g.st.Connection.ID, "err", upstream.Safe(err))
		id.Email = u.Email
	case primary != nil:
		id.Email, id.EmailVerified = primary.Email, primary.Verified
	default:
		id.Email = u.Email
	}
	return id, nil
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// primaryEmail returns the user's primary address from GitHub's
// /user/emails, or nil if there is none.
func (g *GitHub) primaryEmail(ctx context.Context, tok *oauth2.Token) (*githubEmail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, github.EmailURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	tok.SetAuthHeader(req)
	// The upstream client answers only a 2xx, read whole within its size.
	resp, err := g.st.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var emails []githubEmail
	if err := json.NewDecoder(resp.Body).Decode(&emails); err != nil {
		return nil, upstream.Invalid(req.URL.Host, "the email list is not JSON")
	}
	for i := range emails {
		if emails[i].Primary {
			return &emails[i], nil
		}
	}
	return nil, nil
}
