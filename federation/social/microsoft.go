package social

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/markbates/goth/providers/azureadv2"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
)

const (
	// microsoftAuthority is the Microsoft identity platform (v2.0).
	microsoftAuthority = "https://login.microsoftonline.com/"
	// consumersTenant is the Entra tenant of personal Microsoft accounts.
	consumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	// defaultMicrosoftTenant lets work, school and personal accounts sign
	// in, as goth's azureadv2 does.
	defaultMicrosoftTenant = "common"
)

var (
	// microsoftTenant is a tenant of the authority's path: an id, a
	// verified domain, or common, organizations or consumers.
	microsoftTenant = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	// tenantID is a tenant id as the tid claim gives it.
	tenantID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// Microsoft logs users in with their Microsoft work, school or personal
// account (Entra ID, the v2.0 endpoints, OpenID Connect). goth's azureadv2
// provider fits Entra better than its microsoftonline one: it takes the
// tenant of the authority (microsoftonline is fixed to "common") and reads
// the profile from Microsoft Graph.
type Microsoft struct {
	base
	tenant string
	goth   *azureadv2.Provider

	mu        sync.Mutex
	provider  *gooidc.Provider
	issuer    string // as discovered: fixed, or the template with {tenantid}
	oauth     *oauth2.Config
	discovery string
}

var _ federation.Connector = (*Microsoft)(nil)

// NewMicrosoft builds the connector of a Microsoft connection; its tenant
// is the connection's MicrosoftTenant ("common" if unset).
func NewMicrosoft(st federation.Settings) (federation.Connector, error) {
	c := st.Connection
	if st.HTTPClient == nil {
		return nil, federation.ErrNoUpstreamClient
	}
	if c.ClientID == "" {
		return nil, fmt.Errorf("microsoft connection %s: client id is required", c.Name)
	}
	cfg, err := federation.ParseConfig(c)
	if err != nil {
		return nil, err
	}
	tenant := cfg.MicrosoftTenant
	if tenant == "" {
		tenant = defaultMicrosoftTenant
	}
	if !microsoftTenant.MatchString(tenant) {
		return nil, fmt.Errorf("microsoft connection %s: tenant %q is not a tenant id, a domain, common, organizations or consumers", c.Name, tenant)
	}
	// goth's default scopes: openid profile email User.Read (for Graph).
	p := azureadv2.New(c.ClientID, st.ClientSecret, st.CallbackURL, azureadv2.ProviderOptions{Tenant: azureadv2.TenantType(tenant)})
	p.HTTPClient = st.HTTPClient
	return &Microsoft{
		base: base{st: st, name: "Microsoft"}, tenant: tenant, goth: p,
		discovery: microsoftAuthority + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration",
	}, nil
}

// discover reads the tenant's discovery document on first use. go-oidc's
// own discovery cannot: a multi-tenant authority names the issuer template
// https://login.microsoftonline.com/{tenantid}/v2.0, not its own URL.
func (m *Microsoft) discover(ctx context.Context) (*gooidc.Provider, string, *oauth2.Config, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.provider != nil {
		return m.provider, m.issuer, m.oauth, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.discovery, nil)
	if err != nil {
		return nil, "", nil, err
	}
	// The upstream client answers only a 2xx, read whole within its size.
	resp, err := m.st.HTTPClient.Do(req)
	if err != nil {
		return nil, "", nil, err
	}
	defer resp.Body.Close()
	var d struct {
		Issuer     string   `json:"issuer"`
		AuthURL    string   `json:"authorization_endpoint"`
		TokenURL   string   `json:"token_endpoint"`
		JWKSURL    string   `json:"jwks_uri"`
		Algorithms []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return nil, "", nil, upstream.Invalid(req.URL.Host, "the discovery document is not JSON")
	}
	for _, u := range []string{d.Issuer, d.TokenURL, d.JWKSURL} {
		if !strings.HasPrefix(u, microsoftAuthority) {
			return nil, "", nil, upstream.Invalid(req.URL.Host, "the discovery document names an issuer or endpoint outside "+microsoftAuthority)
		}
	}
	p := (&gooidc.ProviderConfig{IssuerURL: d.Issuer, AuthURL: d.AuthURL, TokenURL: d.TokenURL, JWKSURL: d.JWKSURL,
		Algorithms: d.Algorithms}).NewProvider(m.ctx(ctx))
	m.provider, m.issuer = p, d.Issuer
	m.oauth = &oauth2.Config{ClientID: m.st.Connection.ClientID, ClientSecret: m.st.ClientSecret, RedirectURL: m.st.CallbackURL,
		Endpoint: p.Endpoint()}
	return m.provider, m.issuer, m.oauth, nil
}

// Start sends the browser to the tenant's authorization endpoint with
// Gatehouse's state, nonce and PKCE challenge.
func (m *Microsoft) Start(_ context.Context, b federation.Begin) (*federation.Step, error) {
	sess, err := m.goth.BeginAuth(b.State)
	if err != nil {
		return nil, err
	}
	raw, err := sess.GetAuthURL()
	if err != nil {
		return nil, err
	}
	u, err := authURL(raw, b.Verifier, map[string]string{"nonce": b.Nonce, "login_hint": b.LoginHint})
	if err != nil {
		return nil, err
	}
	return &federation.Step{RedirectURL: u}, nil
}

// Finish exchanges the code with the PKCE verifier and verifies the ID
// token against the tenant's JWKS, and its issuer against its tenant. The
// identity is the user's object id (oid) under the issuer of their tenant
// (tid): the pair names one account in every application. The address is
// never verified: any Entra tenant may put any address in a user's email
// (nOAuth).
func (m *Microsoft) Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*federation.Identity, error) {
	code, err := m.code(r)
	if err != nil {
		return nil, err
	}
	p, issuer, oauth, err := m.discover(ctx)
	if err != nil {
		return nil, federation.Reject("Microsoft cannot be reached", err)
	}
	tok, err := m.exchange(ctx, oauth, code, st.PKCEVerifier)
	if err != nil {
		return nil, err
	}
	v := p.Verifier(&gooidc.Config{ClientID: m.st.Connection.ClientID, Now: m.st.Now, SkipIssuerCheck: true})
	idt, c, err := m.verifyIDToken(ctx, v, "", tok, st.Nonce)
	if err != nil {
		return nil, err
	}
	if err := m.checkIssuer(issuer, idt.Issuer, c.TenantID); err != nil {
		return nil, err
	}
	if c.ObjectID == "" {
		return nil, federation.Reject("the ID token has no object id (oid)", nil)
	}
	id := &federation.Identity{Issuer: idt.Issuer, Subject: c.ObjectID, Email: c.Email, Name: c.Name}
	u, err := m.goth.FetchUser(&azureadv2.Session{AccessToken: tok.AccessToken})
	switch {
	case err != nil:
		tenants.Logger(ctx).WarnContext(ctx, "federation: Microsoft Graph profile", "connection", m.st.Connection.ID, "err", upstream.Safe(err))
	case u.UserID != c.ObjectID:
		return nil, federation.Reject("Microsoft's profile is not the ID token's user", nil)
	default:
		id.GivenName, id.FamilyName = u.FirstName, u.LastName
		if id.Name == "" {
			id.Name = u.Name
		}
		if id.Email == "" {
			id.Email = u.Email
		}
	}
	if id.Email == "" && strings.Contains(c.PreferredUsername, "@") {
		id.Email = c.PreferredUsername
	}
	return id, nil
}

// checkIssuer checks the issuer of a Microsoft ID token, which the verifier
// skipped: it must be the issuer of the token's own tenant (tid), and fit
// the discovered issuer, the template {tenantid} standing for any tenant.
// "organizations" refuses personal accounts.
func (m *Microsoft) checkIssuer(discovered, iss, tid string) error {
	if !tenantID.MatchString(tid) {
		return federation.Reject("the ID token names no valid tenant (tid)", nil)
	}
	if iss != microsoftAuthority+tid+"/v2.0" || iss != strings.ReplaceAll(discovered, "{tenantid}", tid) {
		return federation.Reject("the ID token is from another issuer than its tenant's", nil)
	}
	if strings.EqualFold(m.tenant, "organizations") && tid == consumersTenant {
		return federation.Reject("personal Microsoft accounts cannot sign in with this connection", nil)
	}
	return nil
}
