package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// scopeBody is a scope an API defines.
type scopeBody struct {
	Value       string `json:"value" required:"true" doc:"the scope token (RFC 6749 §3.3), such as read:orders; not an OpenID Connect scope"`
	Description string `json:"description" doc:"shown on the consent page; defaults to the value in words"`
}

type createAPIBody struct {
	Name     string      `json:"name" doc:"defaults to the audience"`
	Audience string      `json:"audience" required:"true" doc:"the API's identifier, an absolute URI (RFC 8707), unique in the tenant; cannot be changed"`
	Scopes   []scopeBody `json:"scopes"`
	// SigningAlg is the JWS algorithm of the API's access tokens.
	SigningAlg string `json:"signing_alg" enumFrom:"signing_algorithms" doc:"the JWS algorithm of the API's access tokens; defaults to RS256"`
	RBAC       bool   `json:"rbac" doc:"users get only the scopes their roles hold (intersected with what the application may request); client credentials tokens keep the application's grant"`
	// TokenClaims are the claims the API's access tokens carry.
	TokenClaims        []string `json:"token_claims" enumFrom:"token_claims" doc:"claims the API's access tokens carry for a user (RFC 9068 §2.2.3.1): roles (role names), groups (group names); at most 100 names each"`
	RegistrationScopes []string `json:"registration_scopes" doc:"scopes of this API that applications registering themselves (RFC 7591) may ask for with their scope metadata; none by default"`
	// ResourceServerClientID is the application that is the API at the
	// introspection endpoint.
	ResourceServerClientID string `json:"resource_server_client_id" doc:"a confidential application of the tenant that is the API itself at /oauth/introspect (RFC 7662): it may introspect the access tokens issued for this API (aud), and no others"`
}

// updateAPIBody is a partial update; scopes, when given, replace the API's
// scopes, and a scope left out is withdrawn from every application.
type updateAPIBody struct {
	Name       *string     `json:"name"`
	Scopes     []scopeBody `json:"scopes" doc:"replaces every scope of the API; a scope left out is withdrawn from the applications granted it"`
	SigningAlg *string     `json:"signing_alg" enumFrom:"signing_algorithms" doc:"the JWS algorithm of the API's access tokens from now on"`
	RBAC       *bool       `json:"rbac" doc:"users get only the scopes their roles hold, from their next token on"`
	// TokenClaims replaces the claims the API's access tokens carry.
	TokenClaims            *[]string `json:"token_claims" enumFrom:"token_claims" doc:"replaces the claims the API's access tokens carry: roles, groups"`
	RegistrationScopes     *[]string `json:"registration_scopes" doc:"replaces the scopes self-registered applications may ask for"`
	ResourceServerClientID *string   `json:"resource_server_client_id" doc:"replaces the application that may introspect this API's access tokens; \"\" for none"`
}

func scopeInputs(in []scopeBody) []admin.ScopeInput {
	if in == nil {
		return nil
	}
	out := make([]admin.ScopeInput, len(in))
	for i, s := range in {
		out[i] = admin.ScopeInput{Name: s.Value, Description: s.Description}
	}
	return out
}

var apiFieldNames = map[string]string{"scope": "scopes"}

func (h *Handler) listAPIs(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	as, err := h.svc.ListAPIs(ctx)
	if err != nil {
		return err
	}
	page, err := paginate(c, as, func(a *admin.API) string { return a.Audience })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createAPI(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createAPIBody
	if err := decode(c, &b); err != nil {
		return err
	}
	a, err := h.svc.CreateAPI(ctx, admin.CreateAPIInput{Name: b.Name, Audience: b.Audience, Scopes: scopeInputs(b.Scopes), SigningAlg: b.SigningAlg, RBAC: b.RBAC, TokenClaims: b.TokenClaims,
		ResourceServerClientID: b.ResourceServerClientID, RegistrationScopes: b.RegistrationScopes})
	if err != nil {
		return renamed(err, apiFieldNames)
	}
	return created(c, "/tenants/"+t.Slug+"/apis/"+a.ID, a)
}

func (h *Handler) getAPI(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.GetAPI(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) updateAPI(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b updateAPIBody
	if err := decode(c, &b); err != nil {
		return err
	}
	a, err := h.svc.UpdateAPI(ctx, id, admin.UpdateAPIInput{Name: b.Name, Scopes: scopeInputs(b.Scopes), SigningAlg: b.SigningAlg, RBAC: b.RBAC, TokenClaims: b.TokenClaims,
		ResourceServerClientID: b.ResourceServerClientID, RegistrationScopes: b.RegistrationScopes})
	if err != nil {
		return renamed(err, apiFieldNames)
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) deleteAPI(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAPI(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
