package api

import "net/http"

// Routes lists every endpoint of the API; Register mounts them and the
// OpenAPI document describes them.
func (h *Handler) Routes() []Route {
	return []Route{
		{http.MethodGet, "/tenants", "List the tenants you administer", "tenants:read", h.listTenants},
		{http.MethodPost, "/tenants", "Create a tenant (operators)", "tenants:write", h.createTenant},
		{http.MethodGet, "/tenants/:slug", "Get a tenant and its settings", "tenants:read", h.getTenant},
		{http.MethodPatch, "/tenants/:slug", "Change a tenant's settings", "tenants:write", h.updateTenant},
		{http.MethodDelete, "/tenants/:slug", "Delete a tenant and everything it owns (operators)", "tenants:write", h.deleteTenant},
		{http.MethodGet, "/tenants/:slug/overview", "Counts and recent sign-ins of a tenant", "tenants:read", h.overview},
	}
}
