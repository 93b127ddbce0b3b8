package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// The system tenant is the built-in tenant whose users are Gatehouse's
// administrators: the console signs them in through it like any relying
// party, and it issues the management API's tokens.
const (
	SystemSlug      = "admin"
	ConsoleClientID = "gatehouse-console"
	// APIPath is where the management API lives on the apex.
	APIPath = "/api/v1"
	// ConsolePath is where the console lives on the apex.
	ConsolePath = "/admin"
)

// System describes the system tenant.
type System struct {
	Tenant *tenants.Tenant
	// Audience is the management API's audience: its URL on the apex.
	Audience string
	// ConsoleRedirectURI is where the system tenant sends administrators
	// back to the console.
	ConsoleRedirectURI string
}

// ConsoleSecret is the console's client secret at the system tenant: derived
// from the master key, so that every node (and the CLI) knows it and none
// stores it.
func ConsoleSecret(box *secret.Box) string {
	return base64.RawURLEncoding.EncodeToString(box.Derive("gatehouse console client secret v1", 32))
}

// APIAudience is the audience of the management API for base URL base.
func (s *Service) APIAudience() string { return s.baseURL.String() + APIPath }

// EnsureSystem creates the system tenant, the management API and the
// console's client if they do not exist yet. consoleSecret is the console's
// client secret, which every node derives from the master key.
func (s *Service) EnsureSystem(ctx context.Context, consoleSecret string) (*System, error) {
	sys := &System{Audience: s.APIAudience(), ConsoleRedirectURI: s.baseURL.String() + ConsolePath + "/callback"}
	t, err := s.store.SystemTenant(ctx)
	if errors.Is(err, tenants.ErrNotFound) {
		t, err = s.createTenant(ctx, CreateTenantInput{Slug: SystemSlug, Name: "Gatehouse Admin"}, true)
		if errors.Is(err, tenants.ErrAlreadyExists) { // another node was first
			t, err = s.store.SystemTenant(ctx)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("system tenant: %w", err)
	}
	sys.Tenant = t
	tctx := tenants.WithTenant(ctx, t)
	api, err := s.store.APIByAudience(tctx, sys.Audience)
	if errors.Is(err, tenants.ErrNotFound) {
		api = &tenants.API{Name: "Gatehouse management API", Audience: sys.Audience}
		for _, sc := range AllScopes() {
			api.Scopes = append(api.Scopes, tenants.Scope{Name: sc, Description: scopeDescriptions[sc]})
		}
		err = s.store.CreateAPI(tctx, api)
		if errors.Is(err, tenants.ErrAlreadyExists) {
			api, err = s.store.APIByAudience(tctx, sys.Audience)
		}
	} else if err == nil {
		err = s.ensureManagementScopes(tctx, api)
	}
	if err != nil {
		return nil, fmt.Errorf("management API: %w", err)
	}
	if _, err := s.store.ClientByClientID(tctx, ConsoleClientID); errors.Is(err, tenants.ErrNotFound) {
		c := &tenants.Client{
			ClientID: ConsoleClientID, Name: "Gatehouse console", ApplicationType: tenants.AppTypeWeb,
			TokenEndpointAuthMethod: tenants.AuthMethodBasic, SecretHash: secret.Hash(consoleSecret),
			RedirectURIs:           tenants.Strings{sys.ConsoleRedirectURI},
			PostLogoutRedirectURIs: tenants.Strings{s.baseURL.String() + ConsolePath + "/signed-out"},
			GrantTypes:             tenants.Strings{tenants.GrantAuthorizationCode}, Internal: true,
		}
		err := s.store.CreateClient(tctx, c, []tenants.ClientGrant{{APIID: api.ID, Scopes: AllScopes()}})
		if err != nil && !errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("console client: %w", err)
		}
	} else if err != nil {
		return nil, err
	} else if err := s.ensureConsoleGrant(tctx, api); err != nil {
		return nil, fmt.Errorf("console client: %w", err)
	}
	s.changed(t)
	return sys, nil
}

// ensureManagementScopes adds to the management API of a deployment made
// before them the scopes it lacks.
func (s *Service) ensureManagementScopes(ctx context.Context, api *tenants.API) error {
	have := map[string]bool{}
	for _, sc := range api.Scopes {
		have[sc.Name] = true
	}
	missing := false
	for _, sc := range AllScopes() {
		if !have[sc] {
			api.Scopes, missing = append(api.Scopes, tenants.Scope{Name: sc, Description: scopeDescriptions[sc]}), true
		}
	}
	if !missing {
		return nil
	}
	return s.store.UpdateAPI(ctx, api)
}

// ensureConsoleGrant gives the console's client every management scope
// (what an administrator acts with is still what they hold).
func (s *Service) ensureConsoleGrant(ctx context.Context, api *tenants.API) error {
	gs, err := s.store.ClientGrants(ctx, ConsoleClientID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.APIID == api.ID && len(g.Scopes) == len(AllScopes()) {
			return nil
		}
	}
	return s.store.SetClientGrants(ctx, ConsoleClientID, []tenants.ClientGrant{{APIID: api.ID, Scopes: AllScopes()}})
}

// CreateAdminInput is a new administrator: an operator, or with TenantSlug
// the admin of that tenant; with Scopes (default: every scope) as their
// management scopes.
type CreateAdminInput struct {
	Email      string
	Password   string
	Name       string
	TenantSlug string
	Scopes     []string
}

// Admin is the public view of an administrator.
type Admin struct {
	User   *User    `json:"user"`
	Role   string   `json:"role"`
	Slugs  []string `json:"tenants,omitempty"`
	Scopes []string `json:"scopes"`
	Login  string   `json:"login_url"`
}

// CreateAdmin creates an administrator in the system tenant. Only operators
// (the CLI, the setup link) create administrators, with no scope they do
// not hold.
func (s *Service) CreateAdmin(ctx context.Context, in CreateAdminInput) (*Admin, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	p, _ := PrincipalFrom(ctx)
	if !p.Operator {
		return nil, ErrForbidden
	}
	sys, err := s.store.SystemTenant(ctx)
	if err != nil {
		return nil, fmt.Errorf("system tenant: %w", err)
	}
	role, target, err := s.roleTarget(ctx, in.TenantSlug)
	if err != nil {
		return nil, err
	}
	scopes := DefaultScopes()
	if in.Scopes != nil {
		if scopes, err = normalizeScopes("scope", in.Scopes); err != nil {
			return nil, err
		}
	}
	a := access{operator: role == tenants.RoleOperator, scopes: sortedSet(scopes)}
	if target != nil {
		a.tenantIDs = []string{target.ID}
	}
	if err := checkChange(p, access{}, a); err != nil {
		return nil, err
	}
	u, err := s.newUser(ctx, sys, CreateUserInput{Email: in.Email, Password: in.Password, Name: in.Name, EmailVerified: true})
	if err != nil {
		return nil, err
	}
	sctx := tenants.WithTenant(ctx, sys)
	if err := s.store.CreateUser(sctx, u); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("administrator %q: %w", in.Email, err)
		}
		return nil, err
	}
	if err := s.store.ReplaceAdminUser(sctx, u.ID, a.roles(), a.scopes); err != nil {
		return nil, err
	}
	v := &Admin{User: userView(u), Role: role, Scopes: a.scopes, Login: s.baseURL.String() + ConsolePath}
	if target != nil {
		v.Slugs = []string{target.Slug}
	}
	if err := s.auditAccess(sctx, sys, ActionAdminCreated, KindUser, u.ID, access{}, a, nil, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Service) roleTarget(ctx context.Context, slug string) (string, *tenants.Tenant, error) {
	if slug == "" {
		return tenants.RoleOperator, nil, nil
	}
	t, err := s.store.TenantBySlug(ctx, slug)
	if errors.Is(err, tenants.ErrNotFound) || err == nil && t.System {
		return "", nil, fmt.Errorf("tenant %q: %w", slug, tenants.ErrNotFound)
	}
	if err != nil {
		return "", nil, err
	}
	return tenants.RoleTenantAdmin, t, nil
}

// CreateAdminClientInput is a machine-to-machine client of the management
// API: with TenantSlug it administers that tenant only.
type CreateAdminClientInput struct {
	Name       string
	Scopes     []string
	TenantSlug string
}

// AdminClient is the public view of a management API client; the secret is
// shown once.
type AdminClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Name         string   `json:"client_name"`
	Role         string   `json:"role"`
	Slugs        []string `json:"tenants,omitempty"`
	Scopes       []string `json:"scopes"`
	TokenURL     string   `json:"token_endpoint"`
	Audience     string   `json:"audience"`
}

// CreateAdminClient creates a client of the system tenant that gets
// management API tokens with client credentials.
func (s *Service) CreateAdminClient(ctx context.Context, in CreateAdminClientInput) (*AdminClient, error) {
	if _, ok := PrincipalFrom(ctx); !ok {
		ctx = WithPrincipal(ctx, CLI())
	}
	p, _ := PrincipalFrom(ctx)
	if !p.Operator {
		return nil, ErrForbidden
	}
	if err := validateName("name", in.Name, 200); err != nil {
		return nil, err
	}
	if len(in.Scopes) == 0 {
		return nil, tenants.Invalid("scope", "give at least one scope (%s)", strings.Join(AllScopes(), ", "))
	}
	scopes, err := normalizeScopes("scope", in.Scopes)
	if err != nil {
		return nil, err
	}
	sys, err := s.store.SystemTenant(ctx)
	if err != nil {
		return nil, fmt.Errorf("system tenant: %w", err)
	}
	role, target, err := s.roleTarget(ctx, in.TenantSlug)
	if err != nil {
		return nil, err
	}
	a := access{operator: role == tenants.RoleOperator, scopes: scopes}
	if target != nil {
		a.tenantIDs = []string{target.ID}
	}
	if err := checkChange(p, access{}, a); err != nil {
		return nil, err
	}
	sctx := tenants.WithTenant(ctx, sys)
	api, err := s.store.APIByAudience(sctx, s.APIAudience())
	if err != nil {
		return nil, fmt.Errorf("management API: %w", err)
	}
	plain := secret.Token(32)
	c := &tenants.Client{ClientID: secret.Token(16), Name: strings.TrimSpace(in.Name), ApplicationType: tenants.AppTypeMachine,
		TokenEndpointAuthMethod: tenants.AuthMethodBasic, SecretHash: secret.Hash(plain), GrantTypes: tenants.Strings{tenants.GrantClientCredentials}}
	if err := s.store.CreateClient(sctx, c, []tenants.ClientGrant{{APIID: api.ID, Scopes: scopes}}); err != nil {
		return nil, err
	}
	r := &tenants.AdminRole{PrincipalKind: tenants.PrincipalClient, PrincipalID: c.ClientID, Role: role}
	if target != nil {
		r.TargetTenantID = &target.ID
	}
	if err := s.store.CreateAdminRole(ctx, r); err != nil {
		return nil, err
	}
	s.changed(sys)
	v := &AdminClient{ClientID: c.ClientID, Name: c.Name, Role: role, Scopes: scopes, TokenURL: sys.Issuer + "/oauth/token", Audience: s.APIAudience()}
	if target != nil {
		v.Slugs = []string{target.Slug}
	}
	if err := s.auditAccess(sctx, sys, ActionAdminClientMade, KindClient, c.ClientID, access{}, a, nil, v); err != nil {
		return nil, err
	}
	v.ClientSecret = plain
	return v, nil
}

// Authenticate returns the principal of a user or client of the system
// tenant whose token (or console session) carries scopes, with its roles
// and the scopes it acts with — those of scopes it still holds — as they
// are now: what was narrowed or revoked since the token was issued counts
// from this request on. ErrForbidden if it has no role.
func (s *Service) Authenticate(ctx context.Context, kind, id string, scopes []string) (*Principal, error) {
	roles, err := s.store.AdminRoles(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, ErrForbidden
	}
	sys, err := s.store.SystemTenant(ctx)
	if err != nil {
		return nil, err
	}
	sctx := tenants.WithTenant(ctx, sys)
	var name string
	var held []string
	switch kind {
	case KindUser:
		u, err := s.store.UserByID(sctx, id)
		if err != nil || u.DisabledAt != nil {
			return nil, ErrForbidden
		}
		name = u.Email
		if held, err = s.store.AdminUserScopes(sctx, id); err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return nil, err
		}
	case KindClient:
		c, err := s.store.ClientByClientID(sctx, id)
		if err != nil {
			return nil, ErrForbidden
		}
		name = c.Name
		if held, _, err = s.managementGrant(sctx, id); err != nil {
			return nil, err
		}
	default:
		return nil, ErrForbidden
	}
	a := accessOf(roles, nil)
	return &Principal{Kind: kind, ID: id, Name: name, Operator: a.operator, TenantIDs: a.tenantIDs, Scopes: effectiveScopes(scopes, held)}, nil
}

// NeedsSetup reports whether no operator exists yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.store.CountOperators(ctx)
	return n == 0, err
}

// SetupLinkTTL is how long a setup link works.
const SetupLinkTTL = time.Hour

// NewSetupLink returns a one-time link that creates the first operator.
func (s *Service) NewSetupLink(ctx context.Context) (string, error) {
	token := secret.Token(32)
	if err := s.store.CreateSetupToken(ctx, secret.Hash(token), SetupLinkTTL); err != nil {
		return "", err
	}
	return s.baseURL.String() + ConsolePath + "/setup?token=" + token, nil
}

// SetupLinkValid reports whether token is a usable setup link while no
// operator exists.
func (s *Service) SetupLinkValid(ctx context.Context, token string) (bool, error) {
	if token == "" || len(token) > 100 {
		return false, nil
	}
	need, err := s.NeedsSetup(ctx)
	if err != nil || !need {
		return false, err
	}
	return s.store.SetupTokenValid(ctx, secret.Hash(token))
}

// CompleteSetup spends a setup link to create the first operator.
func (s *Service) CompleteSetup(ctx context.Context, token string, in CreateAdminInput) (*Admin, error) {
	ok, err := s.SetupLinkValid(ctx, token)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tenants.ErrConflict
	}
	in.TenantSlug = ""
	sys, err := s.store.SystemTenant(ctx)
	if err != nil {
		return nil, fmt.Errorf("system tenant: %w", err)
	}
	if err := s.checkNewUser(sys, CreateUserInput{Email: in.Email, Password: in.Password, Name: in.Name}); err != nil {
		return nil, err
	}
	if err := s.store.UseSetupToken(ctx, secret.Hash(token)); err != nil {
		return nil, err
	}
	ctx = WithPrincipal(ctx, &Principal{Kind: KindCLI, ID: "setup", Name: "setup link", Operator: true, Scopes: AllScopes()})
	return s.CreateAdmin(ctx, in)
}
