package account

import (
	"context"
	"net/url"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
)

// launchable returns the SAML applications of the tenant in ctx that the
// user may open (My applications), by name.
func (h *Handler) launchable(ctx context.Context, userID string) ([]views.AccountLaunch, error) {
	apps, err := h.store.ListSAMLApps(ctx)
	if err != nil || len(apps) == 0 {
		return nil, err
	}
	var roleIDs, groupIDs []string
	roles, err := h.store.EffectiveRoles(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		roleIDs = append(roleIDs, r.Role.ID)
	}
	groups, err := h.store.UserGroups(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		groupIDs = append(groupIDs, g.ID)
	}
	var out []views.AccountLaunch
	for i := range apps {
		if apps[i].Admits(roleIDs, groupIDs) {
			out = append(out, views.AccountLaunch{Name: apps[i].Name, URL: tenants.PathSAMLIdPLaunch + url.PathEscape(apps[i].ID)})
		}
	}
	return out, nil
}
