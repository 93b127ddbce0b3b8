package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
)

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
	// SigningAlg is the JWS algorithm of the API's access tokens, one of
	// tenants.SigningAlgorithms (empty: RS256).
	SigningAlg string
	// RBAC grants users only the scopes their roles hold.
	RBAC bool
	// TokenClaims are the claims of tenants.TokenClaimNames the API's
	// access tokens carry.
	TokenClaims []string
	// ResourceServerClientID names a confidential application of the
	// tenant that is the API at the introspection endpoint: it may
	// introspect the access tokens issued for the API ("" for none).
	ResourceServerClientID string
	// RegistrationScopes are the API's scopes a client that registers
	// itself may be granted (RFC 7591 scope); none by default.
	RegistrationScopes []string
}

// registrationScopes validates the scopes of an API that self-registered
// clients may be granted: scopes of the API (among scopes, its new ones).
func registrationScopes(in []string, scopes []tenants.Scope) (tenants.Strings, error) {
	out := tenants.Strings{}
	for _, sc := range in {
		sc = strings.TrimSpace(sc)
		if !slices.ContainsFunc(scopes, func(x tenants.Scope) bool { return x.Name == sc }) {
			return nil, tenants.Invalid("registration_scopes", "%q is not a scope of this API", tenants.Truncate(sc, 60))
		}
		if !out.Contains(sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// resourceServer validates the application an API designates as its
// resource server: "" for none, else a confidential application of the
// tenant in ctx (one that authenticates at the introspection endpoint).
func (s *Service) resourceServer(ctx context.Context, clientID string) (string, error) {
	clientID = strings.TrimSpace(clientID)
	if clientID == "" {
		return "", nil
	}
	if len(clientID) > 200 {
		return "", tenants.Invalid("resource_server_client_id", "no such application")
	}
	c, err := s.client(ctx, clientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return "", tenants.Invalid("resource_server_client_id", "no application %q in this tenant", tenants.Truncate(clientID, 60))
	}
	if err != nil {
		return "", err
	}
	if c.Public() {
		return "", tenants.Invalid("resource_server_client_id", "a public application cannot authenticate at the introspection endpoint")
	}
	return c.ClientID, nil
}

// tokenClaims validates the claims an API asks its access tokens to carry:
// each one of tenants.TokenClaimNames, once.
func tokenClaims(in []string) (tenants.Strings, error) {
	out := tenants.Strings{}
	for _, c := range in {
		c = strings.TrimSpace(c)
		if !slices.Contains(tenants.TokenClaimNames(), c) {
			return nil, tenants.Invalid("token_claims", "%q is not a claim an API may ask for (one of %s)", tenants.Truncate(c, 40), strings.Join(tenants.TokenClaimNames(), ", "))
		}
		if slices.Contains(out, c) {
			return nil, tenants.Invalid("token_claims", "%q is listed twice", c)
		}
		out = append(out, c)
	}
	return out, nil
}

func scopeRows(in []ScopeInput) ([]tenants.Scope, error) {
	var out []tenants.Scope
	seen := map[string]bool{}
	for _, sc := range in {
		sc.Name = strings.TrimSpace(sc.Name)
		if err := ValidateScopeName(sc.Name); err != nil {
			return nil, err
		}
		if seen[sc.Name] {
			return nil, tenants.Invalid("scope", "%q is listed twice", sc.Name)
		}
		seen[sc.Name] = true
		desc := strings.TrimSpace(sc.Description)
		if desc == "" {
			desc = describeScope(sc.Name)
		}
		if utf8.RuneCountInString(desc) > 300 {
			return nil, tenants.Invalid("scope", "the description of %q must be at most 300 characters", sc.Name)
		}
		if strings.ContainsFunc(desc, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, tenants.Invalid("scope", "the description of %q must not contain control characters", sc.Name)
		}
		out = append(out, tenants.Scope{Name: sc.Name, Description: desc})
	}
	if len(out) > 200 {
		return nil, tenants.Invalid("scope", "at most 200 scopes")
	}
	return out, nil
}

// CreateAPI registers an API (resource server) and its scopes.
func (s *Service) CreateAPI(ctx context.Context, in CreateAPIInput) (*API, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	in.Audience = strings.TrimSpace(in.Audience)
	if err := ValidateAudience(in.Audience); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = in.Audience
	}
	if err := validateName("name", in.Name, 200); err != nil {
		return nil, err
	}
	scopes, err := scopeRows(in.Scopes)
	if err != nil {
		return nil, err
	}
	alg, err := s.signingAlg(ctx, t, "signing_alg", in.SigningAlg)
	if err != nil {
		return nil, err
	}
	claims, err := tokenClaims(in.TokenClaims)
	if err != nil {
		return nil, err
	}
	rs, err := s.resourceServer(ctx, in.ResourceServerClientID)
	if err != nil {
		return nil, err
	}
	regScopes, err := registrationScopes(in.RegistrationScopes, scopes)
	if err != nil {
		return nil, err
	}
	api := &tenants.API{Name: strings.TrimSpace(in.Name), Audience: in.Audience, Scopes: scopes, SigningAlg: alg, RBAC: in.RBAC, TokenClaims: claims,
		ResourceServerClientID: rs, RegistrationScopes: regScopes}
	if err := s.store.CreateAPI(ctx, api); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("API %q: %w", in.Audience, err)
		}
		return nil, err
	}
	s.changed(t)
	v := apiView(api)
	return v, s.audit(ctx, t, ActionAPICreated, "api", api.ID, nil, v)
}

// ListAPIs returns the APIs of the tenant in ctx.
func (s *Service) ListAPIs(ctx context.Context) ([]*API, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
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

// GetAPI returns an API of the tenant in ctx.
func (s *Service) GetAPI(ctx context.Context, id string) (*API, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	a, err := s.store.APIByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return apiView(a), nil
}

// UpdateAPIInput changes an API; a nil field is left as it is. Scopes, when
// given, replace the API's scopes: a scope left out is withdrawn from every
// application granted it.
type UpdateAPIInput struct {
	Name       *string
	Scopes     []ScopeInput
	SigningAlg *string
	RBAC       *bool
	// TokenClaims, when not nil, replaces the claims the API's access
	// tokens carry.
	TokenClaims *[]string
	// ResourceServerClientID, when set, replaces the application that
	// may introspect the API's tokens ("" for none).
	ResourceServerClientID *string
	// RegistrationScopes, when not nil, replaces the scopes self-registered
	// clients may be granted.
	RegistrationScopes *[]string
}

// UpdateAPI changes an API of the tenant in ctx.
func (s *Service) UpdateAPI(ctx context.Context, id string, in UpdateAPIInput) (*API, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	a, err := s.store.APIByID(ctx, id)
	if err != nil {
		return nil, err
	}
	before := apiView(a)
	next := *a
	if in.Name != nil {
		if err := validateName("name", *in.Name, 200); err != nil {
			return nil, err
		}
		next.Name = strings.TrimSpace(*in.Name)
	}
	if in.Scopes != nil {
		if next.Scopes, err = scopeRows(in.Scopes); err != nil {
			return nil, err
		}
	}
	if in.SigningAlg != nil {
		if next.SigningAlg, err = s.signingAlg(ctx, t, "signing_alg", *in.SigningAlg); err != nil {
			return nil, err
		}
	}
	if in.RBAC != nil {
		next.RBAC = *in.RBAC
	}
	if in.TokenClaims != nil {
		if next.TokenClaims, err = tokenClaims(*in.TokenClaims); err != nil {
			return nil, err
		}
	}
	if in.RegistrationScopes != nil || in.Scopes != nil {
		keep := []string(next.RegistrationScopes)
		if in.RegistrationScopes != nil {
			keep = *in.RegistrationScopes
		} else {
			// Scopes withdrawn from the API leave the list too.
			keep = slices.DeleteFunc(slices.Clone(keep), func(sc string) bool {
				return !slices.ContainsFunc(next.Scopes, func(x tenants.Scope) bool { return x.Name == sc })
			})
		}
		if next.RegistrationScopes, err = registrationScopes(keep, next.Scopes); err != nil {
			return nil, err
		}
	}
	if in.ResourceServerClientID != nil {
		if next.ResourceServerClientID, err = s.resourceServer(ctx, *in.ResourceServerClientID); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateAPI(ctx, &next); err != nil {
		return nil, err
	}
	s.changed(t)
	after := apiView(&next)
	return after, s.audit(ctx, t, ActionAPIUpdated, "api", a.ID, before, after)
}

// DeleteAPI deletes an API of the tenant in ctx; applications lose their
// grants of it.
func (s *Service) DeleteAPI(ctx context.Context, id string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	a, err := s.store.APIByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteAPI(ctx, id); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionAPIDeleted, "api", id, apiView(a), nil)
}
