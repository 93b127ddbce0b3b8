package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Service manages tenants and what they own. Methods on tenant-owned data act
// on the tenant carried by ctx (see [Service.WithTenant]).
type Service struct {
	store    *tenants.Store
	keys     *keyring.Keyring
	hasher   *password.Hasher
	baseURL  *url.URL
	onChange func(tenantID string)
}

// Config configures a Service.
type Config struct {
	// BaseURL is the apex URL; tenant acme is served at acme.<apex host>.
	BaseURL *url.URL
	// OnChange, if set, is called after every change to a tenant's cached
	// configuration (clients, APIs, keys), with the tenant's id.
	OnChange func(tenantID string)
}

// New returns a Service.
func New(cfg Config, store *tenants.Store, keys *keyring.Keyring, hasher *password.Hasher) *Service {
	on := cfg.OnChange
	if on == nil {
		on = func(string) {}
	}
	return &Service{store: store, keys: keys, hasher: hasher, baseURL: cfg.BaseURL, onChange: on}
}

// WithTenant returns ctx carrying the tenant with slug, or an error naming
// the slug if there is none.
func (s *Service) WithTenant(ctx context.Context, slug string) (context.Context, *tenants.Tenant, error) {
	t, err := s.store.TenantBySlug(ctx, slug)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, nil, fmt.Errorf("tenant %q: %w", slug, tenants.ErrNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	return tenants.WithTenant(ctx, t), t, nil
}

func current(ctx context.Context) (*tenants.Tenant, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	return t, nil
}

// CreateTenantInput is what a new tenant needs.
type CreateTenantInput struct {
	Slug string
	Name string
}

// CreateTenant creates a tenant, its issuer and its first signing key.
func (s *Service) CreateTenant(ctx context.Context, in CreateTenantInput) (*Tenant, error) {
	in.Slug = strings.TrimSpace(in.Slug)
	if err := ValidateSlug(in.Slug); err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = in.Slug
	}
	if err := validateName("name", in.Name, 100); err != nil {
		return nil, err
	}
	host := in.Slug + "." + s.baseURL.Hostname()
	issuer := s.baseURL.Scheme + "://" + in.Slug + "." + s.baseURL.Host
	t := &tenants.Tenant{
		ID:                     tenants.NewID(),
		Slug:                   in.Slug,
		DisplayName:            in.Name,
		Host:                   host,
		Issuer:                 issuer,
		AccessTokenTTLSeconds:  int64(tenants.DefaultAccessTokenTTL.Seconds()),
		IDTokenTTLSeconds:      int64(tenants.DefaultIDTokenTTL.Seconds()),
		RefreshTokenTTLSeconds: int64(tenants.DefaultRefreshTokenTTL.Seconds()),
		SessionTTLSeconds:      int64(tenants.DefaultSessionTTL.Seconds()),
	}
	key, err := s.keys.Generate(t.ID, jose.RS256)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateTenant(ctx, t, key); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("tenant %q: %w", in.Slug, err)
		}
		return nil, err
	}
	s.onChange(t.ID)
	return tenantView(t), nil
}

// ListTenants returns every tenant.
func (s *Service) ListTenants(ctx context.Context) ([]*Tenant, error) {
	ts, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Tenant, len(ts))
	for i := range ts {
		out[i] = tenantView(&ts[i])
	}
	return out, nil
}

// ScopeInput is a scope an API defines.
type ScopeInput struct {
	Name        string
	Description string
}

// ParseScopeFlag reads "read:orders" or "read:orders=Read your orders".
func ParseScopeFlag(v string) ScopeInput {
	name, desc, _ := strings.Cut(v, "=")
	return ScopeInput{Name: strings.TrimSpace(name), Description: strings.TrimSpace(desc)}
}

// CreateAPIInput is what a new API needs.
type CreateAPIInput struct {
	Name     string
	Audience string
	Scopes   []ScopeInput
}

// CreateAPI registers an API (resource server) and its scopes.
func (s *Service) CreateAPI(ctx context.Context, in CreateAPIInput) (*API, error) {
	t, err := current(ctx)
	if err != nil {
		return nil, err
	}
	in.Audience = strings.TrimSpace(in.Audience)
	if err := ValidateAudience(in.Audience); err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = in.Audience
	}
	if err := validateName("name", in.Name, 200); err != nil {
		return nil, err
	}
	api := &tenants.API{Name: in.Name, Audience: in.Audience}
	seen := map[string]bool{}
	for _, sc := range in.Scopes {
		if err := ValidateScopeName(sc.Name); err != nil {
			return nil, err
		}
		if seen[sc.Name] {
			return nil, tenants.Invalid("scope", "%q is listed twice", sc.Name)
		}
		seen[sc.Name] = true
		if sc.Description == "" {
			sc.Description = describeScope(sc.Name)
		}
		if utf8.RuneCountInString(sc.Description) > 300 {
			return nil, tenants.Invalid("scope", "the description of %q must be at most 300 characters", sc.Name)
		}
		api.Scopes = append(api.Scopes, tenants.Scope{Name: sc.Name, Description: sc.Description})
	}
	if err := s.store.CreateAPI(ctx, api); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("API %q: %w", in.Audience, err)
		}
		return nil, err
	}
	s.onChange(t.ID)
	return apiView(api), nil
}

// ListAPIs returns the APIs of the tenant in ctx.
func (s *Service) ListAPIs(ctx context.Context) ([]*API, error) {
	as, err := s.store.ListAPIs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*API, len(as))
	for i := range as {
		out[i] = apiView(&as[i])
	}
	return out, nil
}

// CreateClientInput is what a new application needs. Audiences and Scopes
// grant it API scopes: each scope must be defined by one of the audiences;
// an audience given without scopes grants all of its scopes.
type CreateClientInput struct {
	Name                   string
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Audiences              []string
	Scopes                 []string
}

// CreateClient registers an application. The returned view carries the
// client secret; it is not stored and cannot be shown again.
func (s *Service) CreateClient(ctx context.Context, in CreateClientInput) (*Client, error) {
	t, err := current(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name, 200); err != nil {
		return nil, err
	}
	grantTypes, err := normalizeGrantTypes(in)
	if err != nil {
		return nil, err
	}
	native := false
	redirects, err := validateURIs("redirect_uris", in.RedirectURIs, in.Public)
	if err != nil {
		return nil, err
	}
	for _, r := range redirects {
		if u, _ := url.Parse(r); u != nil && u.Scheme != "http" && u.Scheme != "https" {
			native = true
		}
	}
	postLogout, err := validateURIs("post_logout_redirect_uris", in.PostLogoutRedirectURIs, in.Public)
	if err != nil {
		return nil, err
	}
	if slices.Contains(grantTypes, tenants.GrantAuthorizationCode) && len(redirects) == 0 {
		return nil, tenants.Invalid("redirect_uris", "the authorization_code grant needs at least one redirect URI")
	}
	grants, err := s.resolveGrants(ctx, in.Audiences, in.Scopes)
	if err != nil {
		return nil, err
	}
	c := &tenants.Client{
		ClientID:               secret.Token(16),
		Name:                   strings.TrimSpace(in.Name),
		RedirectURIs:           redirects,
		PostLogoutRedirectURIs: postLogout,
		GrantTypes:             grantTypes,
	}
	var plain string
	switch {
	case in.Public && native:
		c.ApplicationType, c.TokenEndpointAuthMethod = tenants.AppTypeNative, tenants.AuthMethodNone
	case in.Public:
		c.ApplicationType, c.TokenEndpointAuthMethod = tenants.AppTypeSPA, tenants.AuthMethodNone
	default:
		c.ApplicationType, c.TokenEndpointAuthMethod = tenants.AppTypeWeb, tenants.AuthMethodBasic
		if !slices.Contains(grantTypes, tenants.GrantAuthorizationCode) {
			c.ApplicationType = tenants.AppTypeMachine
		}
		plain = secret.Token(32)
		c.SecretHash = secret.Hash(plain)
	}
	if err := s.store.CreateClient(ctx, c, grants); err != nil {
		return nil, err
	}
	s.onChange(t.ID)
	v := clientView(c, grants, s.apiAudiences(ctx, grants))
	v.ClientSecret = plain
	return v, nil
}

func normalizeGrantTypes(in CreateClientInput) ([]string, error) {
	gts := slices.Clone(in.GrantTypes)
	if len(gts) == 0 {
		if len(in.RedirectURIs) == 0 && !in.Public {
			return nil, tenants.Invalid("grant_types", "give a redirect URI (for a login flow) or the client_credentials grant type")
		}
		gts = []string{tenants.GrantAuthorizationCode, tenants.GrantRefreshToken}
	}
	slices.Sort(gts)
	gts = slices.Compact(gts)
	for _, g := range gts {
		switch g {
		case tenants.GrantAuthorizationCode, tenants.GrantRefreshToken:
		case tenants.GrantClientCredentials:
			if in.Public {
				return nil, tenants.Invalid("grant_types", "a public client cannot use client_credentials: it has no secret")
			}
		case "implicit", "password":
			return nil, tenants.Invalid("grant_types", "the %s grant is not supported (OAuth 2.0 Security BCP)", g)
		default:
			return nil, tenants.Invalid("grant_types", "unknown grant type %q", g)
		}
	}
	if slices.Contains(gts, tenants.GrantRefreshToken) && !slices.Contains(gts, tenants.GrantAuthorizationCode) {
		return nil, tenants.Invalid("grant_types", "refresh_token needs authorization_code")
	}
	return gts, nil
}

func validateURIs(field string, uris []string, native bool) ([]string, error) {
	var out []string
	for _, u := range uris {
		u = strings.TrimSpace(u)
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
		api, err := s.store.APIByAudience(ctx, aud)
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
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Client, len(cs))
	for i := range cs {
		grants, err := s.store.ClientGrants(ctx, cs[i].ClientID)
		if err != nil {
			return nil, err
		}
		out[i] = clientView(&cs[i], grants, s.apiAudiences(ctx, grants))
	}
	return out, nil
}

// MinPasswordLength is the shortest password accepted (NIST 800-63B asks
// for at least 8; we ask for 12, with no composition rules).
const MinPasswordLength = 12

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return tenants.Invalid("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > password.MaxLength {
		return tenants.Invalid("password", "must be at most %d bytes", password.MaxLength)
	}
	return nil
}

// CreateUserInput is what a new user needs.
type CreateUserInput struct {
	Email    string
	Password string
	Name     string
}

// CreateUser creates an end user of the tenant in ctx.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*User, error) {
	if _, err := current(ctx); err != nil {
		return nil, err
	}
	in.Email = strings.TrimSpace(in.Email)
	if err := ValidateEmail(in.Email); err != nil {
		return nil, err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	if in.Name != "" {
		if err := validateName("name", in.Name, 200); err != nil {
			return nil, err
		}
	}
	u := &tenants.User{Email: in.Email, Name: strings.TrimSpace(in.Name), PasswordHash: s.hasher.Hash(in.Password)}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("user %q: %w", in.Email, err)
		}
		return nil, err
	}
	return userView(u), nil
}

// RotateKey gives the tenant in ctx a new signing key; tokens signed with the
// old one keep verifying until they expire.
func (s *Service) RotateKey(ctx context.Context) (*Key, error) {
	t, err := current(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.keys.Rotate(ctx, t)
	if err != nil {
		return nil, err
	}
	s.onChange(t.ID)
	return keyView(k), nil
}

// ListKeys returns every signing key of the tenant in ctx.
func (s *Service) ListKeys(ctx context.Context) ([]*Key, error) {
	ks, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Key, len(ks))
	for i := range ks {
		out[i] = keyView(&ks[i])
	}
	return out, nil
}
