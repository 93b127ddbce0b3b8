package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

func (h *Handler) apis(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	as, err := h.svc.ListAPIs(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "APIs", "apis", t)
	if err != nil {
		return err
	}
	v := vc.APIsView{Page: pg}
	for _, a := range as {
		v.Rows = append(v.Rows, vc.APIRow{Name: a.Name, Audience: a.Audience, Link: vc.TenantURL(t.Slug, "/apis/"+a.ID), Scopes: len(a.Scopes)})
	}
	return render(c, http.StatusOK, vc.APIs(v))
}

func (h *Handler) renderNewAPI(c echo.Context, t *tenants.Tenant, status int, v vc.NewAPIView) error {
	pg, err := h.page(c, "New API", "apis", t)
	if err != nil {
		return err
	}
	v.Page = pg
	return render(c, status, vc.NewAPI(v))
}

func (h *Handler) newAPI(c echo.Context) error {
	_, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	return h.renderNewAPI(c, t, http.StatusOK, vc.NewAPIView{SigningAlgs: algOptions("")})
}

// parseScopes reads the scopes textarea: one per line, "name = description".
func parseScopes(s string) []admin.ScopeInput {
	var out []admin.ScopeInput
	for _, l := range lines(s) {
		out = append(out, admin.ParseScopeFlag(l))
	}
	return out
}

func (h *Handler) createAPI(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	alg := c.FormValue("signing_alg")
	v := vc.NewAPIView{Name: c.FormValue("name"), Audience: c.FormValue("audience"), Scopes: c.FormValue("scopes"), SigningAlgs: algOptions(alg)}
	a, err := h.svc.CreateAPI(ctx, admin.CreateAPIInput{Name: v.Name, Audience: v.Audience, Scopes: parseScopes(v.Scopes), SigningAlg: alg})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("audience", "this tenant has an API with this audience already")
	}
	if v.Errors = formErrors(err, "name", "audience", "scope", "signing_alg"); v.Errors != nil {
		if msg, ok := v.Errors["scope"]; ok { // the scopes textarea is the field
			delete(v.Errors, "scope")
			v.Errors["scopes"] = msg
		}
		return h.renderNewAPI(c, t, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/apis/"+a.ID), "api-created")
}

// apiEdit is what the admin typed in an API's forms when one comes back
// with errors.
type apiEdit struct {
	name, signingAlg    *string
	scope, scopeDesc    string
	errs, scopeErrs     map[string]string
	accessErrs          map[string]string
	access              map[string][]string // client id -> scopes, as submitted
	accessApps          []string
	accessFromSubmitted bool
	rbac                *bool
	claims              []string
	resourceServer      *string
}

func (h *Handler) loadAPI(c echo.Context) (context.Context, *tenants.Tenant, *admin.API, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := h.svc.GetAPI(ctx, c.Param("api"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, a, nil
}

func (h *Handler) renderAPI(c echo.Context, ctx context.Context, t *tenants.Tenant, a *admin.API, status int, e apiEdit) error {
	pg, err := h.page(c, a.Name, "apis", t)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListClients(ctx)
	if err != nil {
		return err
	}
	v := vc.APIView{Page: pg, ID: a.ID, Name: a.Name, Audience: a.Audience, Created: when(a.CreatedAt), FormName: a.Name,
		SigningAlg: a.SigningAlg, SigningAlgs: algOptions(a.SigningAlg),
		Errors: e.errs, NewScope: e.scope, NewScopeDesc: e.scopeDesc, ScopeErrors: e.scopeErrs, AccessErrors: e.accessErrs}
	if e.name != nil {
		v.FormName = *e.name
	}
	if e.signingAlg != nil {
		v.SigningAlgs = algOptions(*e.signingAlg)
	}
	v.RBAC = a.RBAC
	claims := a.TokenClaims
	if e.rbac != nil {
		v.RBAC, claims = *e.rbac, e.claims
	}
	for _, name := range tenants.TokenClaimNames() {
		v.Claims = append(v.Claims, vc.Check{Name: "token_claims", Value: name, Label: name, Checked: slices.Contains(claims, name)})
	}
	for _, s := range a.Scopes {
		v.Scopes = append(v.Scopes, vc.ScopeRow{Name: s.Value, Description: s.Description})
	}
	v.ResourceServers = resourceServerOptions(cs, a.ResourceServerClientID, e.resourceServer)
	for _, cl := range cs {
		var scopes []string
		granted := false
		if e.accessFromSubmitted {
			scopes = e.access[cl.ClientID]
			granted = slices.Contains(e.accessApps, cl.ClientID) || len(scopes) > 0
		} else {
			for _, g := range cl.APIGrants {
				if g.Audience == a.Audience {
					scopes, granted = g.Scopes, true
				}
			}
		}
		row := vc.APIAppRow{ClientID: cl.ClientID, Name: cl.ClientName, KindLabel: kindLabel(cl.ApplicationType),
			Link: vc.TenantURL(t.Slug, "/applications/"+cl.ClientID), Granted: granted}
		for _, s := range a.Scopes {
			row.Scopes = append(row.Scopes, vc.Check{Name: "scope-" + cl.ClientID, Value: s.Value, Checked: slices.Contains(scopes, s.Value)})
		}
		v.Apps = append(v.Apps, row)
	}
	return render(c, status, vc.APIPage(v))
}

func (h *Handler) api(c echo.Context) error {
	ctx, t, a, err := h.loadAPI(c)
	if err != nil {
		return err
	}
	return h.renderAPI(c, ctx, t, a, http.StatusOK, apiEdit{})
}

func (h *Handler) updateAPI(c echo.Context) error {
	ctx, t, a, err := h.loadAPI(c)
	if err != nil {
		return err
	}
	name, alg := c.FormValue("name"), c.FormValue("signing_alg")
	in := admin.UpdateAPIInput{Name: &name}
	if _, sent := c.Request().PostForm["signing_alg"]; sent {
		in.SigningAlg = &alg
	}
	if _, sent := c.Request().PostForm["resource_server_client_id"]; sent {
		rs := strings.TrimSpace(c.FormValue("resource_server_client_id"))
		in.ResourceServerClientID = &rs
	}
	if c.FormValue("rbac_form") != "" {
		// The settings form carries the RBAC box and the claims: an
		// unchecked box sends nothing.
		rbac := c.FormValue("rbac") == "true"
		claims := append([]string{}, formValues(c, "token_claims")...)
		in.RBAC, in.TokenClaims = &rbac, &claims
	}
	_, err = h.svc.UpdateAPI(ctx, a.ID, in)
	if errs := formErrors(err, "name", "signing_alg", "token_claims", "resource_server_client_id"); errs != nil {
		e := apiEdit{name: &name, signingAlg: in.SigningAlg, resourceServer: in.ResourceServerClientID, errs: errs}
		if in.RBAC != nil {
			e.rbac, e.claims = in.RBAC, *in.TokenClaims
		}
		return h.renderAPI(c, ctx, t, a, http.StatusUnprocessableEntity, e)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/apis/"+a.ID), "api-updated")
}

// resourceServerOptions are the choices of the application an API
// designates as its resource server (it may introspect the API's tokens):
// none, or one of the tenant's confidential applications; the stored one
// selected, or the one submitted.
func resourceServerOptions(cs []*admin.Client, stored string, submitted *string) []vc.Option {
	sel := stored
	if submitted != nil {
		sel = *submitted
	}
	out := []vc.Option{{Value: "", Label: "None: only the application a token was issued to may introspect it", Selected: sel == ""}}
	for _, cl := range cs {
		if cl.TokenEndpointAuthMethod == tenants.AuthMethodNone {
			continue
		}
		out = append(out, vc.Option{Value: cl.ClientID, Label: cl.ClientName + " (" + cl.ClientID + ")", Selected: sel == cl.ClientID})
	}
	return out
}

func scopeInputs(a *admin.API) []admin.ScopeInput {
	out := make([]admin.ScopeInput, 0, len(a.Scopes))
	for _, s := range a.Scopes {
		out = append(out, admin.ScopeInput{Name: s.Value, Description: s.Description})
	}
	return out
}

// addScope adds a scope to an API, or changes the description of one it
// has.
func (h *Handler) addScope(c echo.Context) error {
	ctx, t, a, err := h.loadAPI(c)
	if err != nil {
		return err
	}
	name, desc := strings.TrimSpace(c.FormValue("scope")), strings.TrimSpace(c.FormValue("description"))
	scopes := scopeInputs(a)
	if i := slices.IndexFunc(scopes, func(s admin.ScopeInput) bool { return s.Name == name }); i >= 0 {
		scopes[i].Description = desc
	} else {
		scopes = append(scopes, admin.ScopeInput{Name: name, Description: desc})
	}
	_, err = h.svc.UpdateAPI(ctx, a.ID, admin.UpdateAPIInput{Scopes: scopes})
	if errs := formErrors(err, "scope"); errs != nil {
		return h.renderAPI(c, ctx, t, a, http.StatusUnprocessableEntity, apiEdit{scope: name, scopeDesc: desc, scopeErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/apis/"+a.ID), "scope-saved")
}

func (h *Handler) removeScope(c echo.Context) error {
	ctx, t, a, err := h.loadAPI(c)
	if err != nil {
		return err
	}
	name := c.FormValue("scope")
	scopes := scopeInputs(a)
	i := slices.IndexFunc(scopes, func(s admin.ScopeInput) bool { return s.Name == name })
	if i < 0 {
		return notFound()
	}
	if _, err := h.svc.UpdateAPI(ctx, a.ID, admin.UpdateAPIInput{Scopes: slices.Delete(scopes, i, i+1)}); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/apis/"+a.ID), "scope-removed")
}

// updateAPIAccess saves which applications may request which scopes of
// the API; each application's grants of other APIs are kept.
func (h *Handler) updateAPIAccess(c echo.Context) error {
	ctx, t, a, err := h.loadAPI(c)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListClients(ctx)
	if err != nil {
		return err
	}
	apps := formValues(c, "app")
	submitted := map[string][]string{}
	for _, cl := range cs {
		scopes := append([]string{}, formValues(c, "scope-"+cl.ClientID)...)
		submitted[cl.ClientID] = scopes
		want := slices.Contains(apps, cl.ClientID) || len(scopes) > 0
		var next []admin.ClientGrant
		had, changed := false, false
		for _, g := range cl.APIGrants {
			if g.Audience != a.Audience {
				next = append(next, g)
				continue
			}
			had = true
			if !want || !sameSet(g.Scopes, scopes) {
				changed = true
			}
		}
		if want {
			next = append(next, admin.ClientGrant{Audience: a.Audience, Scopes: scopes})
			changed = changed || !had
		} else if had {
			changed = true
		}
		if !changed {
			continue
		}
		if _, err := h.svc.SetClientGrants(ctx, cl.ClientID, next); err != nil {
			errs := formErrors(err, "audience", "scope")
			if errs == nil {
				return err
			}
			for f, msg := range errs {
				errs[f] = cl.ClientName + ": " + msg
			}
			return h.renderAPI(c, ctx, t, a, http.StatusUnprocessableEntity, apiEdit{accessErrs: errs, access: submitted, accessApps: apps, accessFromSubmitted: true})
		}
	}
	return done(c, vc.TenantURL(t.Slug, "/apis/"+a.ID), "access-updated")
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func (h *Handler) deleteAPI(c echo.Context) error {
	ctx, t, a, err := h.loadAPI(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAPI(ctx, a.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/apis"), "api-deleted")
}
