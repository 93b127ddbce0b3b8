package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
)

// Role-based access control in the token path (issue 10). An API with RBAC
// on grants a user's tokens only the scopes the user holds through roles,
// intersected with what the client may request and the user asked for; a
// scope the user lacks is dropped, never an error. It is evaluated at the
// consent page (which shows only what will be granted), at the code
// exchange and at every refresh, so that a role taken away is gone from
// the next token. Client credentials tokens keep the client's grant.

// tokenAPI is the API of audience for client c: the cached one of c's
// grant, or, for a grant c lost since, the store's (nil when the API is
// gone too).
func (p *Provider) tokenAPI(ctx context.Context, c *cache.Client, audience string) (*tenants.API, error) {
	if audience == "" {
		return nil, nil
	}
	if g, ok := c.Grants[audience]; ok && g.API != nil {
		return g.API, nil
	}
	api, err := p.store.APIByAudience(ctx, audience)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, nil
	}
	return api, err
}

// userScopes returns, of scopes (already within c's grant on audience),
// those the user may be granted (tenants.GrantableScopes).
func (p *Provider) userScopes(ctx context.Context, c *cache.Client, userID string, scopes []string, audience string) ([]string, error) {
	api, err := p.tokenAPI(ctx, c, audience)
	if err != nil || api == nil || !api.RBAC {
		return slices.Clone(scopes), err
	}
	held, err := p.store.UserPermissions(ctx, userID, api.Audience)
	if err != nil {
		return nil, err
	}
	return tenants.GrantableScopes(api, scopes, held), nil
}

// readsUserAccess reports whether some API c was granted has RBAC on or
// asks for claims: only then does a token of c read the user's roles.
func readsUserAccess(c *cache.Client) bool {
	for _, g := range c.Grants {
		if g.API != nil && (g.API.RBAC || len(g.API.TokenClaims) > 0) {
			return true
		}
	}
	return false
}

// userAccess is what a user's roles and groups say for a token of one
// audience: read before the code exchange claims its code, whose
// transaction reads nothing else.
type userAccess struct {
	userID, audience string
	api              *tenants.API
	held             []string
	claims           map[string]any
}

// readUserAccess reads the user's permissions on audience and the claims
// its API asks for.
func (p *Provider) readUserAccess(ctx context.Context, c *cache.Client, userID, audience string) (*userAccess, error) {
	api, err := p.tokenAPI(ctx, c, audience)
	if err != nil {
		return nil, err
	}
	a := &userAccess{userID: userID, audience: audience, api: api}
	if api != nil && api.RBAC {
		if a.held, err = p.store.UserPermissions(ctx, userID, api.Audience); err != nil {
			return nil, err
		}
	}
	if a.claims, err = p.accessTokenClaims(ctx, c, userID, audience); err != nil {
		return nil, err
	}
	return a, nil
}

// errAccessUnread stops a code exchange whose user's roles were not read
// for the request the code belongs to (they are read for the code's
// request before the claim, so this does not happen): it fails closed.
var errAccessUnread = errors.New("the user's roles were not read for this request")

// scopes returns, of requested, what the user may be granted.
func (a *userAccess) scopes(requested []string) []string {
	return tenants.GrantableScopes(a.api, requested, a.held)
}

// GrantableScopes returns the scopes of an authenticated request that its
// user may be granted now: what the consent page shows and records.
func (p *Provider) GrantableScopes(ctx context.Context, ar *tenants.AuthRequest) ([]string, error) {
	c, err := p.lookupClient(ctx, ar.ClientID)
	if err != nil {
		return nil, err
	}
	return p.userScopes(ctx, c.Client, ar.UserID, ar.Scopes, ar.Audience)
}

// accessTokenClaims returns the claims of a user's access token for
// audience that its API asks for (RFC 9068 §2.2.3.1): roles, the roles the
// user holds directly or through groups, and groups, the user's groups (and
// the upstream groups passed through, see groupClaim); names, or ids for a
// client whose claim format says so; each at most tenants.MaxClaimNames.
func (p *Provider) accessTokenClaims(ctx context.Context, c *cache.Client, userID, audience string) (map[string]any, error) {
	api, err := p.tokenAPI(ctx, c, audience)
	if err != nil || api == nil {
		return nil, err
	}
	claims := map[string]any{}
	if api.WantsClaim(tenants.ClaimRoles) {
		roles, err := p.store.EffectiveRoles(ctx, userID)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = r.Role.Name
			if c.ClaimsByID() {
				names[i] = r.Role.ID
			}
		}
		claims[tenants.ClaimRoles] = tenants.ClaimNames(names)
	}
	if api.WantsClaim(tenants.ClaimGroups) {
		names, err := p.groupClaim(ctx, c.Client, userID)
		if err != nil {
			return nil, err
		}
		claims[tenants.ClaimGroups] = names
	}
	if len(claims) == 0 {
		return nil, nil
	}
	return claims, nil
}

// groupClaim returns the groups claim of a user's token for client c: the
// names (or, for a client whose claim format is ids, the ids) of the
// user's groups, and the upstream groups that connections passing groups
// through asserted and map to no group (by name: they have no id); at most
// tenants.MaxClaimNames.
func (p *Provider) groupClaim(ctx context.Context, c *tenants.Client, userID string) ([]string, error) {
	gs, err := p.store.UserGroups(ctx, userID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
		if c.ClaimsByID() {
			names[i] = g.ID
		}
	}
	passed, err := p.store.PassedGroups(ctx, userID)
	if err != nil {
		return nil, err
	}
	return tenants.ClaimNames(append(names, passed...)), nil
}
