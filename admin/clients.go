package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Kinds of application, each with its defaults.
const (
	KindWeb     = "web"     // server-side web app: confidential, code + refresh
	KindSPA     = "spa"     // single-page app: public, PKCE, code + refresh
	KindNative  = "native"  // mobile or desktop app: public, PKCE, private-use schemes allowed
	KindMachine = "machine" // machine-to-machine: confidential, client credentials
)

// SecretGracePeriod is how long a rotated secret keeps working by default.
const SecretGracePeriod = 24 * time.Hour

// CreateClientInput is what a new application needs. Audiences and Scopes
// grant it API scopes: each scope must be defined by one of the audiences;
// an audience given without scopes grants all of its scopes.
type CreateClientInput struct {
	Name string
	// Kind is KindWeb, KindSPA, KindNative or KindMachine; empty means
	// inferred from Public, GrantTypes and the redirect URIs.
	Kind                   string
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Audiences              []string
	Scopes                 []string
	// IDTokenSignedResponseAlg is the JWS algorithm of the application's ID
	// tokens (RFC 7591), one of tenants.SigningAlgorithms (empty: RS256).
	IDTokenSignedResponseAlg string
	// TokenEndpointAuthMethod is how the application authenticates at the
	// token, introspection and revocation endpoints (RFC 7591 §2): for a
	// confidential one client_secret_basic (the default),
	// client_secret_post, client_secret_jwt (HS256 assertions keyed by
	// its secret), or private_key_jwt with JWKS or JWKSURI; for a public
	// one none.
	TokenEndpointAuthMethod string
	// JWKS (a JSON Web Key Set) or JWKSURI (where the application
	// publishes one) holds the public keys of a private_key_jwt
	// application's assertions: exactly one of them, for that method only.
	JWKS    string
	JWKSURI string
	// RequirePushedAuthorizationRequests makes /authorize refuse the
	// application's requests unless pushed first (RFC 9126).
	RequirePushedAuthorizationRequests bool
	// RefreshTokenGracePeriod is the application's refresh token grace
	// period in seconds, 0 to 60 (see tenants.Client.RefreshTokenGraceSeconds).
	RefreshTokenGracePeriod int64
	// DPoPBoundAccessTokens makes the application send a DPoP proof with
	// every token request (RFC 9449 §5.2).
	DPoPBoundAccessTokens bool
	// BackchannelLogoutURI is where the application hears of its users'
	// logouts (OpenID Connect Back-Channel Logout 1.0 §2.2): https, or a
	// host of GATEHOUSE_UPSTREAM_ALLOW_HOSTS; "" for nowhere. With
	// BackchannelLogoutSessionRequired every logout token names the
	// session (sid).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// Consent is tenants.ConsentRequired (the default, for "") or
	// tenants.ConsentSkip, for the tenant's own applications.
	Consent string
	// ClaimFormat is tenants.ClaimFormatNames (the default, for "") or
	// tenants.ClaimFormatIDs: what the roles and groups claims carry.
	ClaimFormat string
	// LogoURI is the logo the consent page shows (https; "" for none).
	LogoURI string
}

// refreshGrace checks a refresh token grace period in seconds.
func refreshGrace(v int64) (int64, error) {
	if v < 0 || v > int64(tenants.MaxRefreshTokenGrace/time.Second) {
		return 0, tenants.Invalid("refresh_token_grace_period", "must be 0 to %d seconds", int64(tenants.MaxRefreshTokenGrace/time.Second))
	}
	return v, nil
}

// CreateClient registers an application. The returned view carries the
// client secret; it is not stored and cannot be shown again.
func (s *Service) CreateClient(ctx context.Context, in CreateClientInput) (*Client, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	return s.createClient(ctx, t, in, func(c *tenants.Client, grants []tenants.ClientGrant) error {
		return s.store.CreateClient(ctx, c, grants)
	})
}

// createClient validates in for tenant t, stores the client with save,
// audits it and returns its view with the secret (if it has one).
func (s *Service) createClient(ctx context.Context, t *tenants.Tenant, in CreateClientInput, save func(*tenants.Client, []tenants.ClientGrant) error) (*Client, error) {
	kind, err := clientKind(in)
	if err != nil {
		return nil, err
	}
	in.Public = kind == KindSPA || kind == KindNative
	if len(in.GrantTypes) == 0 {
		if len(in.RedirectURIs) == 0 && kind == KindWeb && in.Kind == "" {
			return nil, tenants.Invalid("grant_types", "give a redirect URI (for a login flow) or the %s grant type", grantWords(machineGrants()))
		}
		if in.GrantTypes = DefaultClientGrants(kind, t); len(in.GrantTypes) == 0 {
			return nil, tenants.Invalid("grant_types", "this tenant allows none of the grant types a %s application uses", kind)
		}
	}
	grace, err := refreshGrace(in.RefreshTokenGracePeriod)
	if err != nil {
		return nil, err
	}
	c := &tenants.Client{ClientID: secret.Token(16), RequirePushedAuthorizationRequests: in.RequirePushedAuthorizationRequests, RefreshTokenGraceSeconds: grace,
		DPoPBoundAccessTokens: in.DPoPBoundAccessTokens, Consent: tenants.ConsentPolicyOf(in.Consent), ClaimFormat: tenants.ClaimFormatOf(strings.TrimSpace(in.ClaimFormat))}
	if err := tenants.CheckClaimFormat(c.ClaimFormat); err != nil {
		return nil, err
	}
	// Registered by an administrator: it may skip consent.
	if err := tenants.CheckConsentPolicy(c.Consent, false); err != nil {
		return nil, err
	}
	if c.SkipsConsent() && kind == KindMachine {
		return nil, tenants.Invalid("consent", "a machine-to-machine application signs no user in: there is no consent to skip")
	}
	if err := s.applyClient(t, c, kind, clientFields{
		Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs, GrantTypes: in.GrantTypes,
		AuthMethod: in.TokenEndpointAuthMethod, JWKS: in.JWKS, JWKSURI: in.JWKSURI,
	}); err != nil {
		return nil, err
	}
	grants, err := s.resolveGrants(ctx, in.Audiences, in.Scopes)
	if err != nil {
		return nil, err
	}
	if c.BackchannelLogoutURI, err = s.backchannelLogoutURI(ctx, in.BackchannelLogoutURI); err != nil {
		return nil, err
	}
	c.BackchannelLogoutSessionRequired = in.BackchannelLogoutSessionRequired
	if c.LogoURI, err = logoURI(in.LogoURI); err != nil {
		return nil, err
	}
	if c.IDTokenSignedResponseAlg, err = s.signingAlg(ctx, t, "id_token_signed_response_alg", in.IDTokenSignedResponseAlg); err != nil {
		return nil, err
	}
	var plain string
	if tenants.HasSecret(c.TokenEndpointAuthMethod) {
		plain = secret.Token(32)
		c.SecretHash = secret.Hash(plain)
		if c.SecretSealed, err = s.sealSecret(t, c, plain); err != nil {
			return nil, err
		}
	}
	if err := save(c, grants); err != nil {
		return nil, err
	}
	s.changed(t)
	v := clientView(c, grants, s.apiAudiences(ctx, grants))
	if err := s.audit(ctx, t, ActionClientCreated, "client", c.ClientID, nil, v); err != nil {
		return nil, err
	}
	v.ClientSecret = plain
	return v, nil
}

// sealSecret is the sealed copy of client c's secret plain that a
// client_secret_jwt client keeps next to the hash (it verifies HMAC
// assertions with the secret itself); nil for every other client.
func (s *Service) sealSecret(t *tenants.Tenant, c *tenants.Client, plain string) ([]byte, error) {
	if c.TokenEndpointAuthMethod != tenants.AuthMethodSecretJWT {
		return nil, nil
	}
	if s.secrets == nil {
		return nil, tenants.Invalid("token_endpoint_auth_method", "this server cannot keep client secrets sealed: client_secret_jwt is not offered here")
	}
	return tenants.SealClientSecret(s.secrets, t.ID, c.ClientID, plain), nil
}

func clientKind(in CreateClientInput) (string, error) {
	switch in.Kind {
	case KindWeb, KindMachine:
		if in.Public {
			return "", tenants.Invalid("kind", "a %s application is confidential, not public", in.Kind)
		}
		return in.Kind, nil
	case KindSPA, KindNative:
		return in.Kind, nil
	case "":
	default:
		return "", tenants.Invalid("kind", "unknown application kind %q (web, spa, native or machine)", in.Kind)
	}
	if in.Public {
		for _, r := range in.RedirectURIs {
			if u, err := url.Parse(strings.TrimSpace(r)); err == nil && u.Scheme != "http" && u.Scheme != "https" {
				return KindNative, nil
			}
		}
		return KindSPA, nil
	}
	if onlyMachineGrants(in.GrantTypes) {
		return KindMachine, nil
	}
	return KindWeb, nil
}

// clientFields are the fields of a client an admin edits.
type clientFields struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	// AuthMethod is the token endpoint authentication method; empty: the
	// default of the kind.
	AuthMethod string
	// JWKS and JWKSURI are a private_key_jwt client's keys.
	JWKS, JWKSURI string
}

// applyClient validates f for a client of kind at tenant t and sets it on c.
func (s *Service) applyClient(t *tenants.Tenant, c *tenants.Client, kind string, f clientFields) error {
	if err := validateName("name", f.Name, 200); err != nil {
		return err
	}
	public := kind == KindSPA || kind == KindNative
	grantTypes, err := clientGrants(t, kind, f.GrantTypes)
	if err != nil {
		return err
	}
	redirects, err := validateURIs("redirect_uris", f.RedirectURIs, kind == KindNative)
	if err != nil {
		return err
	}
	postLogout, err := validateURIs("post_logout_redirect_uris", f.PostLogoutRedirectURIs, kind == KindNative)
	if err != nil {
		return err
	}
	if len(redirects) == 0 {
		for _, n := range grantTypes {
			if g, _ := tenants.LookupGrant(n); g.Redirect {
				return tenants.Invalid("redirect_uris", "the %s grant needs at least one redirect URI", n)
			}
		}
	}
	c.Name = strings.TrimSpace(f.Name)
	c.RedirectURIs, c.PostLogoutRedirectURIs, c.GrantTypes = redirects, postLogout, grantTypes
	c.ApplicationType = kind
	method, err := tenants.ValidateAuthMethod(f.AuthMethod, public)
	if err != nil {
		return err
	}
	c.TokenEndpointAuthMethod = method
	c.JWKS, c.JWKSURI, err = s.assertionKeys(method, f.JWKS, f.JWKSURI)
	return err
}

// assertionKeys validates the keys of a client authenticating with
// method: a private_key_jwt client registers exactly one of jwks (a JSON
// Web Key Set of public signing keys, stored compact) and jwks_uri (a URL
// the upstream client would fetch: https, or http on a loopback host
// allowed by GATEHOUSE_UPSTREAM_ALLOW_HOSTS); any other client neither.
func (s *Service) assertionKeys(method, jwks, jwksURI string) (string, string, error) {
	jwks, jwksURI = strings.TrimSpace(jwks), strings.TrimSpace(jwksURI)
	if method != tenants.AuthMethodPrivateKey {
		if jwks != "" || jwksURI != "" {
			return "", "", tenants.Invalid("jwks", "keys are registered only with token_endpoint_auth_method private_key_jwt")
		}
		return "", "", nil
	}
	switch {
	case jwks == "" && jwksURI == "":
		return "", "", tenants.Invalid("jwks", "private_key_jwt needs the application's public keys: jwks or jwks_uri")
	case jwks != "" && jwksURI != "":
		return "", "", tenants.Invalid("jwks", "give jwks or jwks_uri, not both")
	case jwks != "":
		set, err := tenants.ParseClientKeys("jwks", []byte(jwks))
		if err != nil {
			return "", "", err
		}
		b, err := json.Marshal(set)
		if err != nil {
			return "", "", tenants.Invalid("jwks", "cannot be stored")
		}
		return string(b), "", nil
	}
	if len(jwksURI) > tenants.MaxJWKSURILength {
		return "", "", tenants.Invalid("jwks_uri", "at most %d characters", tenants.MaxJWKSURILength)
	}
	u, err := url.Parse(jwksURI)
	if err != nil || u.Host == "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return "", "", tenants.Invalid("jwks_uri", "must be an https URL without a fragment (http only on loopback hosts)")
	}
	if s.fed == nil {
		return "", "", tenants.Invalid("jwks_uri", "this server fetches no URLs")
	}
	if err := s.fed.CheckURL(jwksURI); err != nil {
		return "", "", upstreamURLProblem("jwks_uri", err)
	}
	return "", jwksURI, nil
}

// maxBackchannelLogoutURI is the longest back-channel logout URI accepted.
const maxBackchannelLogoutURI = 2000

// backchannelLogoutURI validates a back-channel logout URI (Back-Channel
// Logout 1.0 §2.2): "" for none; else an absolute URL without a fragment
// (a query is allowed) that the server sends to, as a webhook's: https,
// and a public address unless the host is in
// GATEHOUSE_UPSTREAM_ALLOW_HOSTS (loopback and private addresses, http).
func (s *Service) backchannelLogoutURI(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > maxBackchannelLogoutURI {
		return "", tenants.Invalid("backchannel_logout_uri", "at most %d characters", maxBackchannelLogoutURI)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", tenants.Invalid("backchannel_logout_uri", "must be an absolute https URL without a fragment")
	}
	if s.upstream == nil {
		return "", tenants.Invalid("backchannel_logout_uri", "this server sends to no URLs")
	}
	if _, err := s.upstream.CheckPushURL(ctx, raw); err != nil {
		return "", tenants.Invalid("backchannel_logout_uri", "must be an https URL (without a user name or password) of a host this server sends to; "+
			"http, loopback and private addresses only for hosts in GATEHOUSE_UPSTREAM_ALLOW_HOSTS")
	}
	return raw, nil
}

func validateURIs(field string, uris []string, native bool) ([]string, error) {
	out := []string{}
	for _, u := range uris {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		if err := ValidateRedirectURI(field, u, native); err != nil {
			return nil, err
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if len(out) > 50 {
		return nil, tenants.Invalid(field, "at most 50 URIs")
	}
	return out, nil
}

// resolveGrants turns audiences and scopes into API grants.
func (s *Service) resolveGrants(ctx context.Context, audiences, scopes []string) ([]tenants.ClientGrant, error) {
	if len(audiences) == 0 {
		if len(scopes) > 0 {
			return nil, tenants.Invalid("scope", "API scopes need the API's --audience")
		}
		return nil, nil
	}
	var apis []*tenants.API
	for _, aud := range audiences {
		api, err := s.apiByAudience(ctx, aud)
		if errors.Is(err, tenants.ErrNotFound) {
			return nil, tenants.Invalid("audience", "no API with audience %q in this tenant", aud)
		}
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(apis, func(a *tenants.API) bool { return a.ID == api.ID }) {
			apis = append(apis, api)
		}
	}
	granted := map[string][]string{}
	for _, sc := range scopes {
		var owner *tenants.API
		for _, api := range apis {
			if slices.ContainsFunc(api.Scopes, func(x tenants.Scope) bool { return x.Name == sc }) {
				if owner != nil {
					return nil, tenants.Invalid("scope", "%q is defined by more than one of the given APIs", sc)
				}
				owner = api
			}
		}
		if owner == nil {
			return nil, tenants.Invalid("scope", "%q is not a scope of the given API", sc)
		}
		if !slices.Contains(granted[owner.ID], sc) {
			granted[owner.ID] = append(granted[owner.ID], sc)
		}
	}
	out := make([]tenants.ClientGrant, 0, len(apis))
	for _, api := range apis {
		sc, ok := granted[api.ID]
		if !ok && len(scopes) == 0 {
			for _, x := range api.Scopes {
				sc = append(sc, x.Name)
			}
		}
		slices.Sort(sc)
		out = append(out, tenants.ClientGrant{APIID: api.ID, Scopes: sc})
	}
	return out, nil
}

// apiByAudience returns the API of the tenant in ctx with audience; a value
// no audience can be (one with a NUL, which PostgreSQL cannot even compare)
// is not looked up.
func (s *Service) apiByAudience(ctx context.Context, aud string) (*tenants.API, error) {
	if ValidateAudience(aud) != nil {
		return nil, tenants.ErrNotFound
	}
	return s.store.APIByAudience(ctx, aud)
}

func (s *Service) apiAudiences(ctx context.Context, grants []tenants.ClientGrant) map[string]string {
	out := map[string]string{}
	for _, g := range grants {
		if api, err := s.store.APIByID(ctx, g.APIID); err == nil {
			out[g.APIID] = api.Audience
		}
	}
	return out
}

// ListClients returns the applications of the tenant in ctx.
func (s *Service) ListClients(ctx context.Context) ([]*Client, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Client, 0, len(cs))
	for i := range cs {
		if cs[i].Internal { // the console's try client: not the admin's to see
			continue
		}
		v, err := s.clientWithGrants(ctx, &cs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Service) clientWithGrants(ctx context.Context, c *tenants.Client) (*Client, error) {
	grants, err := s.store.ClientGrants(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	return clientView(c, grants, s.apiAudiences(ctx, grants)), nil
}

// client loads an editable client of the tenant in ctx.
func (s *Service) client(ctx context.Context, clientID string) (*tenants.Client, error) {
	c, err := s.store.ClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if c.Internal {
		return nil, tenants.ErrNotFound
	}
	return c, nil
}

// GetClient returns an application of the tenant in ctx.
func (s *Service) GetClient(ctx context.Context, clientID string) (*Client, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return s.clientWithGrants(ctx, c)
}

// UpdateClientInput changes an application; a nil field is left as it is.
type UpdateClientInput struct {
	Name                   *string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	// IDTokenSignedResponseAlg, when set, is the new algorithm of the
	// application's ID tokens.
	IDTokenSignedResponseAlg *string
	// TokenEndpointAuthMethod, when set, is how the application
	// authenticates from now on (a confidential one may switch between
	// client_secret_basic and client_secret_post).
	TokenEndpointAuthMethod *string
	// JWKS or JWKSURI, when set, replace a private_key_jwt application's
	// keys (giving one clears the other).
	JWKS, JWKSURI *string
	// RequirePushedAuthorizationRequests, when set, says whether the
	// application must push its authorization requests.
	RequirePushedAuthorizationRequests *bool
	// RefreshTokenGracePeriod, when set, is the application's refresh
	// token grace period in seconds from now on (0 to 60).
	RefreshTokenGracePeriod *int64
	// DPoPBoundAccessTokens, when set, says whether the application must
	// send a DPoP proof with every token request.
	DPoPBoundAccessTokens *bool
	// BackchannelLogoutURI, when set, replaces where the application hears
	// of logouts ("" for nowhere); BackchannelLogoutSessionRequired, when
	// set, whether its logout tokens must name the session.
	BackchannelLogoutURI             *string
	BackchannelLogoutSessionRequired *bool
	// Consent, when set, is the application's consent policy from now on.
	Consent *string
	// ClaimFormat, when set, is what the application's roles and groups
	// claims carry from now on (names or ids).
	ClaimFormat *string
	// LogoURI, when set, is the logo the consent page shows ("" for
	// none): an https URL.
	LogoURI *string
}

// UpdateClient changes an application of the tenant in ctx.
func (s *Service) UpdateClient(ctx context.Context, clientID string, in UpdateClientInput) (*Client, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return s.updateClient(ctx, t, c, in)
}

// updateClient applies in to client c of tenant t, stores and audits it.
func (s *Service) updateClient(ctx context.Context, t *tenants.Tenant, c *tenants.Client, in UpdateClientInput) (*Client, error) {
	before, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return nil, err
	}
	f := clientFields{Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, GrantTypes: c.GrantTypes,
		AuthMethod: c.TokenEndpointAuthMethod, JWKS: c.JWKS, JWKSURI: c.JWKSURI}
	if in.TokenEndpointAuthMethod != nil {
		f.AuthMethod = *in.TokenEndpointAuthMethod
		// The secret (sealed or not) and the keys are made at
		// registration: a client switches only between the two ways of
		// sending its secret.
		switching := f.AuthMethod != c.TokenEndpointAuthMethod
		if switching && !c.Public() && !(tenants.SecretMethod(f.AuthMethod) && tenants.SecretMethod(c.TokenEndpointAuthMethod)) {
			return nil, tenants.Invalid("token_endpoint_auth_method", "an application switches only between client_secret_basic and client_secret_post; register a new one for another method")
		}
	}
	if in.JWKS != nil {
		f.JWKS, f.JWKSURI = *in.JWKS, ""
	}
	if in.JWKSURI != nil {
		f.JWKSURI = *in.JWKSURI
		if in.JWKS == nil {
			f.JWKS = ""
		}
	}
	if in.Name != nil {
		f.Name = *in.Name
	}
	if in.RedirectURIs != nil {
		f.RedirectURIs = in.RedirectURIs
	}
	if in.PostLogoutRedirectURIs != nil {
		f.PostLogoutRedirectURIs = in.PostLogoutRedirectURIs
	}
	if in.GrantTypes != nil {
		f.GrantTypes = in.GrantTypes
	}
	next := *c
	if in.RequirePushedAuthorizationRequests != nil {
		next.RequirePushedAuthorizationRequests = *in.RequirePushedAuthorizationRequests
	}
	if in.DPoPBoundAccessTokens != nil {
		next.DPoPBoundAccessTokens = *in.DPoPBoundAccessTokens
	}
	if in.RefreshTokenGracePeriod != nil {
		if next.RefreshTokenGraceSeconds, err = refreshGrace(*in.RefreshTokenGracePeriod); err != nil {
			return nil, err
		}
	}
	if err := s.applyClient(t, &next, c.ApplicationType, f); err != nil {
		return nil, err
	}
	if in.BackchannelLogoutURI != nil {
		if next.BackchannelLogoutURI, err = s.backchannelLogoutURI(ctx, *in.BackchannelLogoutURI); err != nil {
			return nil, err
		}
	}
	if in.BackchannelLogoutSessionRequired != nil {
		next.BackchannelLogoutSessionRequired = *in.BackchannelLogoutSessionRequired
	}
	if in.LogoURI != nil {
		if next.LogoURI, err = logoURI(*in.LogoURI); err != nil {
			return nil, err
		}
	}
	if in.Consent != nil {
		next.Consent = strings.TrimSpace(*in.Consent)
		if err := tenants.CheckConsentPolicy(next.Consent, next.Registered); err != nil {
			return nil, err
		}
	}
	next.Consent = tenants.ConsentPolicyOf(next.Consent)
	if in.ClaimFormat != nil {
		next.ClaimFormat = tenants.ClaimFormatOf(strings.TrimSpace(*in.ClaimFormat))
		if err := tenants.CheckClaimFormat(next.ClaimFormat); err != nil {
			return nil, err
		}
	}
	next.ClaimFormat = tenants.ClaimFormatOf(next.ClaimFormat)
	if in.IDTokenSignedResponseAlg != nil {
		if next.IDTokenSignedResponseAlg, err = s.signingAlg(ctx, t, "id_token_signed_response_alg", *in.IDTokenSignedResponseAlg); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateClient(ctx, &next); err != nil {
		return nil, err
	}
	s.changed(t)
	after, err := s.clientWithGrants(ctx, &next)
	if err != nil {
		return nil, err
	}
	return after, s.audit(ctx, t, ActionClientUpdated, "client", c.ClientID, before, after)
}

// SetClientGrants replaces which API scopes an application may request.
func (s *Service) SetClientGrants(ctx context.Context, clientID string, grants []ClientGrant) (*Client, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	before, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return nil, err
	}
	var rows []tenants.ClientGrant
	seen := map[string]bool{}
	for _, g := range grants {
		api, err := s.apiByAudience(ctx, g.Audience)
		if errors.Is(err, tenants.ErrNotFound) {
			return nil, tenants.Invalid("audience", "no API with audience %q in this tenant", g.Audience)
		}
		if err != nil {
			return nil, err
		}
		if seen[api.ID] {
			return nil, tenants.Invalid("audience", "%q is listed twice", g.Audience)
		}
		seen[api.ID] = true
		scopes := slices.Clone(g.Scopes)
		slices.Sort(scopes)
		scopes = slices.Compact(scopes)
		for _, sc := range scopes {
			if !slices.ContainsFunc(api.Scopes, func(x tenants.Scope) bool { return x.Name == sc }) {
				return nil, tenants.Invalid("scope", "%q is not a scope of %s", sc, g.Audience)
			}
		}
		rows = append(rows, tenants.ClientGrant{APIID: api.ID, Scopes: scopes})
	}
	if err := s.store.SetClientGrants(ctx, clientID, rows); err != nil {
		return nil, err
	}
	s.changed(t)
	after, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return nil, err
	}
	return after, s.audit(ctx, t, ActionClientGrants, "client", c.ClientID, before.APIGrants, after.APIGrants)
}

// DeleteClient deletes an application of the tenant in ctx, with its grants,
// consents and tokens.
func (s *Service) DeleteClient(ctx context.Context, clientID string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return err
	}
	before, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteClient(ctx, clientID); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionClientDeleted, "client", clientID, before, nil)
}

// maxSecretOverlap is the longest an old secret keeps working after a
// rotation.
const maxSecretOverlap = 30 * 24 * time.Hour

// RotateClientSecret gives a confidential application a new secret; the old
// one keeps working for grace (zero: not at all). The new secret is in the
// returned view, once.
func (s *Service) RotateClientSecret(ctx context.Context, clientID string, grace time.Duration) (*Client, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if grace < 0 || grace > maxSecretOverlap {
		return nil, tenants.Invalid("grace_period", "must be between 0 and 30 days")
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if c.Public() {
		return nil, tenants.Invalid("client_id", "a public application has no secret")
	}
	if !tenants.HasSecret(c.TokenEndpointAuthMethod) {
		return nil, tenants.Invalid("client_id", "this application authenticates with %s: it has no secret", c.TokenEndpointAuthMethod)
	}
	plain := secret.Token(32)
	var until *time.Time
	if grace > 0 {
		u := s.store.Now().Add(grace)
		until = &u
	}
	// A client_secret_jwt client's sealed copy rotates with the hash.
	sealed, err := s.sealSecret(t, c, plain)
	if err != nil {
		return nil, err
	}
	if err := s.store.RotateClientSecret(ctx, clientID, secret.Hash(plain), sealed, until); err != nil {
		return nil, err
	}
	s.changed(t)
	c, err = s.store.ClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	v, err := s.clientWithGrants(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, t, ActionClientSecret, "client", clientID, nil, map[string]any{"previous_secret_valid_until": until}); err != nil {
		return nil, err
	}
	v.ClientSecret = plain
	return v, nil
}

// logoURI checks an application's logo: empty, or an https URL of at
// most 2000 bytes (the consent page shows it; the pages' CSP allows https
// images only).
func logoURI(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > 2000 ||
		strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", tenants.Invalid("logo_uri", "must be an https URL of at most 2000 characters")
	}
	return v, nil
}
