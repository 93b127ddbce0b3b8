package tenants

import (
	"context"
	"encoding/json"

	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
)

// RuleOf converts a stored claim rule for package claimrules.
func RuleOf(r *ClaimRule) claimrules.Rule {
	return claimrules.Rule{ID: r.ID, Name: r.Name, Condition: r.Condition, IDToken: r.IDTokenClaims, AccessToken: r.AccessTokenClaims, Deny: r.Deny}
}

// ClaimRuleInput reads what claim rules see of a token of user u for
// client c and api (nil: none) in the tenant of ctx (RuleInput, with the
// user's access read now): what the console's preview runs.
func ClaimRuleInput(ctx context.Context, s *Store, u *User, c *Client, api *API, req claimrules.Request) (claimrules.Input, error) {
	access, err := s.UserAccess(ctx, u.ID, AllAccess)
	if err != nil {
		return claimrules.Input{}, err
	}
	return RuleInput(u, c, api, access, req), nil
}

// RuleInput is what claim rules see of a token of user u, whose access
// (roles, groups) is as read for the token, for client c and api (nil:
// none): the user's profile, metadata, the names of their roles, of their
// groups and of the upstream groups passed through (apart: an upstream's
// name is no membership), at most MaxClaimNames of each, and req as given.
// The token path and the console's preview both use it.
func RuleInput(u *User, c *Client, api *API, access *UserAccess, req claimrules.Request) claimrules.Input {
	in := claimrules.Input{
		User: claimrules.User{
			ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
			UserMetadata: metadataObject(u.UserMetadata), AppMetadata: metadataObject(u.AppMetadata),
			Roles: access.RoleClaim(false), Groups: claimOf(access.Groups, nil, false), UpstreamGroups: claimOf(nil, access.Passed, false),
		},
		Client:     claimrules.Client{ID: c.ClientID, Name: c.Name, AppType: c.ApplicationType},
		Connection: claimrules.Connection{Claims: map[string]any{}},
		Request:    req,
	}
	if in.Request.Scopes == nil {
		in.Request.Scopes = []string{}
	}
	if in.Request.AMR == nil {
		in.Request.AMR = []string{}
	}
	if api != nil {
		in.API = claimrules.API{Audience: api.Audience, Name: api.Name}
	}
	return in
}

// metadataObject parses a user's metadata, a JSON object; anything else
// (empty, invalid) is an empty object.
func metadataObject(s string) map[string]any {
	m := map[string]any{}
	if s != "" {
		if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
			return map[string]any{}
		}
	}
	return m
}
