package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
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

// tokenAccess is what a user's roles and groups say for one token of one
// audience: its API (nil: none) and the user's access (tenants.UserAccess),
// read once for everything the token needs of it — an RBAC API's scopes,
// the roles and groups claims of the access token, the groups claim of the
// ID token and the claim rules' input — or nil when nothing needs it.
type tokenAccess struct {
	api  *tenants.API
	user *tenants.UserAccess
}

// accessWanted says what a token needs of its user's access beyond its
// API's needs: what the tenant's claim rules read (nil: no rules), the
// groups scope's claim.
type accessWanted struct {
	rules  *claimrules.Set
	scopes []string
}

// readTokenAccess reads the access of a token of client c for user u and
// audience, of what it needs: when its API has RBAC on or asks for claims,
// when the rules read roles or groups, or when w.scopes hold the groups
// scope; nothing otherwise. u must have been read for this token: the
// access is the cache's for u's access revision (one statement when it
// has none).
func (p *Provider) readTokenAccess(ctx context.Context, c *cache.Client, u *tenants.User, audience string, w accessWanted) (*tokenAccess, error) {
	api, err := p.tokenAPI(ctx, c, audience)
	if err != nil {
		return nil, err
	}
	a := &tokenAccess{api: api}
	reads := w.rules.Reads()
	claimGroups := slices.Contains(w.scopes, ScopeGroups) || (api != nil && api.WantsClaim(tenants.ClaimGroups))
	var q tenants.AccessQuery
	q.Roles = reads.Roles || (api != nil && api.WantsClaim(tenants.ClaimRoles))
	q.Groups = reads.Groups || claimGroups
	q.Passed = (claimGroups || reads.UpstreamGroups) && p.passesGroups(ctx)
	if api != nil && api.RBAC {
		q.PermissionsOf = api.Audience
	}
	if !q.Roles && !q.Groups && !q.Passed && q.PermissionsOf == "" {
		if w.rules != nil {
			// Rules that read none of it: their input is empty.
			a.user = &tenants.UserAccess{}
		}
		return a, nil
	}
	if a.user, err = p.cache.UserAccess(ctx, u, q); err != nil {
		return nil, err
	}
	return a, nil
}

// scopes returns, of requested, what the user may be granted
// (tenants.GrantableScopes).
func (a *tokenAccess) scopes(requested []string) []string {
	if a.api == nil || !a.api.RBAC {
		return slices.Clone(requested)
	}
	return tenants.GrantableScopes(a.api, requested, a.user.Permissions)
}

// claims returns the claims of the access token for client c that its API
// asks for (RFC 9068 §2.2.3.1): roles, the roles the user holds directly
// or through groups, and groups, the user's groups and the upstream groups
// passed through; names, or ids for a client whose claim format says so;
// each at most tenants.MaxClaimNames. Nil for none.
func (a *tokenAccess) claims(c *tenants.Client) map[string]any {
	if a.api == nil || a.user == nil {
		return nil
	}
	claims := map[string]any{}
	if a.api.WantsClaim(tenants.ClaimRoles) {
		claims[tenants.ClaimRoles] = a.user.RoleClaim(c.ClaimsByID())
	}
	if a.api.WantsClaim(tenants.ClaimGroups) {
		claims[tenants.ClaimGroups] = a.user.GroupClaim(c.ClaimsByID())
	}
	if len(claims) == 0 {
		return nil
	}
	return claims
}

// GrantableScopes returns the scopes of an authenticated request that its
// user may be granted now: what the consent page shows and records.
func (p *Provider) GrantableScopes(ctx context.Context, ar *tenants.AuthRequest) ([]string, error) {
	c, err := p.lookupClient(ctx, ar.ClientID)
	if err != nil {
		return nil, err
	}
	api, err := p.tokenAPI(ctx, c.Client, ar.Audience)
	if err != nil || api == nil || !api.RBAC {
		return slices.Clone(ar.Scopes), err
	}
	held, err := p.store.UserPermissions(ctx, ar.UserID, api.Audience)
	if err != nil {
		return nil, err
	}
	return tenants.GrantableScopes(api, ar.Scopes, held), nil
}
