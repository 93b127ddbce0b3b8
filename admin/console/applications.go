package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// appKind describes one kind of application: what the console says about
// it and the defaults it gets.
type appKind struct {
	key, label, text, help string
	redirects              bool
}

var appKinds = []appKind{
	{admin.KindWeb, "Regular web application",
		"A server-side web app (Go, Java, .NET, PHP, Rails, a Next.js server). It keeps a client secret.",
		"Confidential client: it gets a client secret, shown once. It signs users in with the authorization code flow and PKCE, and may use refresh tokens.",
		true},
	{admin.KindSPA, "Single-page application",
		"Runs in the browser (React, Vue, Angular, Svelte). It cannot keep a secret.",
		"Public client: no secret, PKCE required. It signs users in with the authorization code flow and may use refresh tokens (rotated on every use).",
		true},
	{admin.KindNative, "Native application",
		"A mobile or desktop app. It cannot keep a secret.",
		"Public client: no secret, PKCE required. Its redirect URIs may use a private-use scheme (com.example.app:/callback) or a loopback address (RFC 8252).",
		true},
	{admin.KindMachine, "Machine-to-machine",
		"A service, daemon or script that calls an API as itself, with no user.",
		"Confidential client: it gets a client secret, shown once, and requests tokens with the client credentials grant for the API it may use.",
		false},
}

func kindOf(key string) (appKind, bool) {
	for _, k := range appKinds {
		if k.key == key {
			return k, true
		}
	}
	return appKind{}, false
}

// appKindLabel is kindLabel, marked for an application that registered
// itself (RFC 7591).
func appKindLabel(cl *admin.Client) string {
	if cl.Registered {
		return kindLabel(cl.ApplicationType) + " (registered itself)"
	}
	return kindLabel(cl.ApplicationType)
}

func kindLabel(key string) string {
	if k, ok := kindOf(key); ok {
		return k.label
	}
	return key
}

func redirectHelp(kind string) string {
	if kind == admin.KindNative {
		return "One per line, exactly as the app sends them. A reverse-domain private-use scheme (com.example.app:/callback), https, or http on a loopback address. No wildcards, no fragments."
	}
	return "One per line, exactly as the app sends them: https (http only on localhost or 127.0.0.1). No wildcards, no fragments."
}

// grantChoices are the grant types an application of kind may choose
// from: those the registry offers its kind and the tenant allows, and any
// it has already.
func grantChoices(kind string, t *tenants.Tenant, have []string) []vc.Check {
	if kind == admin.KindMachine {
		return nil // its Machine grants are all it may have: nothing to choose
	}
	var out []vc.Check
	for _, g := range admin.ClientGrantOptions(kind) {
		on := slices.Contains(have, g.Name)
		if !t.AllowsGrant(g.Name) && !on {
			continue
		}
		note := ""
		if !t.AllowsGrant(g.Name) {
			note = " (no longer allowed by this tenant's settings)"
		}
		out = append(out, grantCheck(g, note, on))
	}
	return out
}

// grantCheck is the checkbox of grant g: its label and help from the
// registry, note added to the help.
func grantCheck(g tenants.GrantType, note string, checked bool) vc.Check {
	help := g.Help
	if len(g.Needs) > 0 {
		help += "; needs " + g.NeedsWords()
	}
	return vc.Check{Name: "grant_types", Value: g.Name, Label: g.Label, Code: g.Name, Help: help + note, Checked: checked}
}

func (h *Handler) apps(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListClients(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Applications", "applications", t)
	if err != nil {
		return err
	}
	v := vc.AppsView{Page: pg}
	for _, cl := range cs {
		v.Rows = append(v.Rows, vc.AppRow{Name: cl.ClientName, ClientID: cl.ClientID, KindLabel: appKindLabel(cl),
			Link: vc.TenantURL(t.Slug, "/applications/"+cl.ClientID), GrantTypes: cl.GrantTypes})
	}
	return render(c, http.StatusOK, vc.Apps(v))
}

func (h *Handler) newAppKinds(c echo.Context) error {
	_, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "New application", "applications", t)
	if err != nil {
		return err
	}
	v := vc.NewAppKindsView{Page: pg}
	for _, k := range appKinds {
		v.Kinds = append(v.Kinds, vc.KindChoice{Key: k.key, Label: k.label, Text: k.text, Link: vc.TenantURL(t.Slug, "/applications/new/"+k.key)})
	}
	return render(c, http.StatusOK, vc.NewAppKinds(v))
}

// appForm is what the new-application form sent.
type appForm struct {
	Name, Redirects, PostLogout, Audience, IDTokenAlg string
	// AuthMethod, JWKS and JWKSURI: how a confidential application
	// authenticates, chosen once, at creation.
	AuthMethod, JWKS, JWKSURI string
}

// authMethodLabels are the words for each confidential client
// authentication method (tenants.AuthMethods, less none).
var authMethodLabels = map[string]string{
	tenants.AuthMethodBasic:      "Client secret in the Authorization header (client_secret_basic)",
	tenants.AuthMethodPost:       "Client secret in the request body (client_secret_post)",
	tenants.AuthMethodSecretJWT:  "JWT signed with the client secret, HS256 (client_secret_jwt)",
	tenants.AuthMethodPrivateKey: "JWT signed with the application's private key (private_key_jwt)",
}

// authMethodOptions are the choices of methods among methods, selected
// the one chosen ("": client_secret_basic).
func authMethodOptions(selected string, methods []string) []vc.Option {
	if selected == "" {
		selected = tenants.AuthMethodBasic
	}
	var out []vc.Option
	for _, m := range methods {
		out = append(out, vc.Option{Value: m, Label: authMethodLabels[m], Selected: m == selected})
	}
	return out
}

// confidentialMethods are the methods a new confidential application may
// choose, in discovery's order.
func confidentialMethods() []string {
	var out []string
	for _, m := range tenants.AuthMethods() {
		if m != tenants.AuthMethodNone {
			out = append(out, m)
		}
	}
	return out
}

func (h *Handler) newAppView(c echo.Context, ctx context.Context, t *tenants.Tenant, k appKind, f appForm, errs map[string]string) (vc.NewAppView, error) {
	pg, err := h.page(c, "New "+strings.ToLower(k.label), "applications", t)
	if err != nil {
		return vc.NewAppView{}, err
	}
	apis, err := h.svc.ListAPIs(ctx)
	if err != nil {
		return vc.NewAppView{}, err
	}
	v := vc.NewAppView{Page: pg, Kind: k.key, KindLabel: strings.ToLower(k.label), KindHelp: k.help, Name: f.Name,
		RedirectURIs: f.Redirects, PostLogout: f.PostLogout, ShowRedirects: k.redirects, RedirectHelp: redirectHelp(k.key),
		Defaults: admin.DefaultClientGrants(k.key, t), IDTokenAlgs: algOptions(f.IDTokenAlg), Errors: errs}
	if k.key == admin.KindWeb || k.key == admin.KindMachine {
		v.AuthMethods, v.JWKS, v.JWKSURI = authMethodOptions(f.AuthMethod, confidentialMethods()), f.JWKS, f.JWKSURI
	}
	if k.key == admin.KindMachine {
		v.KindLabel = "machine-to-machine application"
	}
	for _, a := range apis {
		v.APIs = append(v.APIs, vc.Option{Value: a.Audience, Label: a.Name + " (" + a.Audience + ")", Selected: a.Audience == f.Audience})
	}
	return v, nil
}

func (h *Handler) newApp(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	k, ok := kindOf(c.Param("kind"))
	if !ok {
		return notFound()
	}
	v, err := h.newAppView(c, ctx, t, k, appForm{}, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, vc.NewApp(v))
}

func (h *Handler) createApp(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	k, ok := kindOf(c.Param("kind"))
	if !ok {
		return notFound()
	}
	f := appForm{Name: c.FormValue("name"), Redirects: c.FormValue("redirect_uris"), PostLogout: c.FormValue("post_logout_redirect_uris"),
		Audience: strings.TrimSpace(c.FormValue("audience")), IDTokenAlg: c.FormValue("id_token_signed_response_alg"),
		AuthMethod: c.FormValue("token_endpoint_auth_method"), JWKS: c.FormValue("jwks"), JWKSURI: c.FormValue("jwks_uri")}
	in := admin.CreateClientInput{Name: f.Name, Kind: k.key, GrantTypes: admin.DefaultClientGrants(k.key, t)}
	if k.key == admin.KindWeb || k.key == admin.KindMachine {
		in.TokenEndpointAuthMethod, in.JWKS, in.JWKSURI = f.AuthMethod, f.JWKS, f.JWKSURI
	}
	if k.redirects {
		in.RedirectURIs, in.PostLogoutRedirectURIs = lines(f.Redirects), lines(f.PostLogout)
		in.IDTokenSignedResponseAlg = f.IDTokenAlg
	}
	if f.Audience != "" {
		in.Audiences = []string{f.Audience}
	}
	cl, err := h.svc.CreateClient(ctx, in)
	if errs := formErrors(err, "name", "redirect_uris", "post_logout_redirect_uris", "audience", "scope", "grant_types", "id_token_signed_response_alg",
		"token_endpoint_auth_method", "jwks", "jwks_uri"); errs != nil {
		v, verr := h.newAppView(c, ctx, t, k, f, errs)
		if verr != nil {
			return verr
		}
		return render(c, http.StatusUnprocessableEntity, vc.NewApp(v))
	}
	if err != nil {
		return err
	}
	link := vc.TenantURL(t.Slug, "/applications/"+cl.ClientID)
	if cl.ClientSecret == "" {
		return done(c, link, "app-created")
	}
	return h.showOnce(c, link+"/secret", shownOnce{Secret: cl.ClientSecret})
}

// appSecret shows the client secret that creating or rotating just made,
// once; a second look sends the admin to the application's page.
func (h *Handler) appSecret(c echo.Context) error {
	_, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	link := vc.TenantURL(t.Slug, "/applications/"+cl.ClientID)
	once, ok := h.takeOnce(c, link+"/secret")
	if !ok {
		return done(c, link, "secret-gone")
	}
	title := cl.ClientName + ": client secret"
	if once.Rotated {
		title = cl.ClientName + ": new client secret"
	}
	pg, err := h.page(c, title, "applications", t)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, vc.Secret(vc.SecretView{Page: pg, AppName: cl.ClientName, ClientID: cl.ClientID, Secret: once.Secret,
		AppLink: link, Rotated: once.Rotated, Grace: once.Note, Sealed: cl.TokenEndpointAuthMethod == tenants.AuthMethodSecretJWT}))
}

// appEdit is what the admin typed in an application's forms, when a form
// comes back with errors; nil fields show what is stored.
type appEdit struct {
	name, redirects, postLogout *string
	idTokenAlg                  *string
	logoutURI                   *string
	logoutSession               *bool
	consent                     *string
	claimFormat                 *string
	authMethod, jwks, jwksURI   *string
	par, dpop                   *bool
	grace                       *string
	logoURI                     *string
	grantTypes                  []string
	errs                        map[string]string
	accessErrs                  map[string]string
	access                      map[string][]string // API id -> scopes, as submitted
	graceErrs                   map[string]string
	tryErrs                     map[string]string
}

func (h *Handler) appView(c echo.Context, ctx context.Context, t *tenants.Tenant, cl *admin.Client, e appEdit) (vc.AppView, error) {
	pg, err := h.page(c, cl.ClientName, "applications", t)
	if err != nil {
		return vc.AppView{}, err
	}
	apis, err := h.svc.ListAPIs(ctx)
	if err != nil {
		return vc.AppView{}, err
	}
	k, _ := kindOf(cl.ApplicationType)
	v := vc.AppView{Page: pg, ClientID: cl.ClientID, Name: cl.ClientName, Kind: cl.ApplicationType, KindLabel: appKindLabel(cl),
		AuthMethod: cl.TokenEndpointAuthMethod, Public: cl.TokenEndpointAuthMethod == tenants.AuthMethodNone,
		HasSecret: tenants.HasSecret(cl.TokenEndpointAuthMethod),
		Created:   when(time.Unix(cl.ClientIDIssuedAt, 0)), Issuer: t.Issuer, Discovery: t.Issuer + "/.well-known/openid-configuration",
		ShowRedirects: k.redirects || len(cl.RedirectURIs) > 0, RedirectHelp: redirectHelp(cl.ApplicationType),
		FormName: cl.ClientName, FormRedirects: strings.Join(cl.RedirectURIs, "\n"), FormPostLogout: strings.Join(cl.PostLogoutRedirectURIs, "\n"),
		Errors: e.errs, AccessErrors: e.accessErrs, SecretErrors: e.graceErrs, Alert: e.tryErrs["form"]}
	if msg, ok := e.graceErrs["form"]; ok {
		v.Alert = msg
	}
	ds, err := h.svc.ListDomains(ctx)
	if err != nil {
		return vc.AppView{}, err
	}
	for _, d := range ds {
		if d.Verified {
			v.DomainIssuers = append(v.DomainIssuers, d.Issuer)
		}
	}
	if e.name != nil {
		v.FormName = *e.name
	}
	if e.redirects != nil {
		v.FormRedirects = *e.redirects
	}
	if e.postLogout != nil {
		v.FormPostLogout = *e.postLogout
	}
	if cl.ApplicationType != admin.KindMachine {
		v.ShowLogout, v.FormLogoutURI, v.FormLogoURI = true, cl.BackchannelLogoutURI, cl.LogoURI
		if e.logoutURI != nil {
			v.FormLogoutURI = *e.logoutURI
		}
		if e.logoURI != nil {
			v.FormLogoURI = *e.logoURI
		}
		required := cl.BackchannelLogoutSessionRequired
		if e.logoutSession != nil {
			required = *e.logoutSession
		}
		v.LogoutSessionOnly = []vc.Check{{Name: "backchannel_logout_session_required", Value: "on", Label: "Logout tokens name the session",
			Code: "backchannel_logout_session_required", Checked: required}}
		alg := cl.IDTokenSignedResponseAlg
		if e.idTokenAlg != nil {
			alg = *e.idTokenAlg
		}
		v.IDTokenAlg, v.IDTokenAlgs = cl.IDTokenSignedResponseAlg, algOptions(alg)
		consent := cl.Consent
		if e.consent != nil {
			consent = *e.consent
		}
		v.ConsentOptions = consentOptions(consent)
		format := cl.ClaimFormat
		if e.claimFormat != nil {
			format = *e.claimFormat
		}
		v.ClaimFormats = claimFormatOptions(format)
	}
	// Protocol settings: how it authenticates (a confidential one
	// switches only between the two ways of sending its secret), its
	// private_key_jwt keys, PAR, DPoP and the refresh token grace period.
	if tenants.SecretMethod(cl.TokenEndpointAuthMethod) {
		m := cl.TokenEndpointAuthMethod
		if e.authMethod != nil {
			m = *e.authMethod
		}
		v.AuthMethods = authMethodOptions(m, []string{tenants.AuthMethodBasic, tenants.AuthMethodPost})
	}
	if cl.TokenEndpointAuthMethod == tenants.AuthMethodPrivateKey {
		v.ShowKeys, v.FormJWKSURI = true, cl.JWKSURI
		if len(cl.JWKS) > 0 {
			v.FormJWKS = string(cl.JWKS)
		}
		if e.jwks != nil {
			v.FormJWKS = *e.jwks
		}
		if e.jwksURI != nil {
			v.FormJWKSURI = *e.jwksURI
		}
	}
	par, dpop := cl.RequirePushedAuthorizationRequests, cl.DPoPBoundAccessTokens
	if e.par != nil {
		par = *e.par
	}
	if e.dpop != nil {
		dpop = *e.dpop
	}
	if cl.ApplicationType != admin.KindMachine {
		v.Protocol = append(v.Protocol, vc.Check{Name: "require_pushed_authorization_requests", Value: "on", Label: "Authorization requests must be pushed first",
			Code: "require_pushed_authorization_requests", Help: "/authorize takes only a request_uri from /oauth/par (RFC 9126).", Checked: par})
		v.ShowGrace, v.FormGrace = true, strconv.FormatInt(cl.RefreshTokenGraceSeconds, 10)
		if e.grace != nil {
			v.FormGrace = *e.grace
		}
	}
	v.Protocol = append(v.Protocol, vc.Check{Name: "dpop_bound_access_tokens", Value: "on", Label: "Every token request must carry a DPoP proof",
		Code: "dpop_bound_access_tokens", Help: "Its tokens are bound to the application's key (RFC 9449).", Checked: dpop})
	grantTypes := cl.GrantTypes
	if e.grantTypes != nil {
		grantTypes = e.grantTypes
	}
	v.GrantTypes = grantChoices(cl.ApplicationType, t, grantTypes)
	v.Grants = cl.GrantTypes
	switch {
	case slices.Contains(cl.GrantTypes, tenants.GrantAuthorizationCode):
		v.CanTry = true
	case cl.ApplicationType != admin.KindMachine:
		v.TryNote = "Only an application that signs users in (authorization code grant) can be tried."
	}
	// API access: what is stored, or what was submitted.
	granted := map[string][]string{}
	byAudience := map[string]string{}
	for _, a := range apis {
		byAudience[a.Audience] = a.ID
	}
	for _, g := range cl.APIGrants {
		granted[byAudience[g.Audience]] = g.Scopes
	}
	if e.access != nil {
		granted = e.access
	}
	for _, a := range apis {
		scopes, on := granted[a.ID]
		row := vc.AccessRow{ID: a.ID, Name: a.Name, Audience: a.Audience, Granted: on, Link: vc.TenantURL(t.Slug, "/apis/"+a.ID)}
		for _, s := range a.Scopes {
			row.Scopes = append(row.Scopes, vc.Check{Name: "scope-" + a.ID, Value: s.Value, Label: s.Value, Help: s.Description, Checked: slices.Contains(scopes, s.Value)})
		}
		v.Access = append(v.Access, row)
	}
	qi := quickstartInput{Kind: cl.ApplicationType, Issuer: t.Issuer, ClientID: cl.ClientID, AuthMethod: cl.TokenEndpointAuthMethod}
	if len(cl.RedirectURIs) > 0 {
		qi.Redirect = cl.RedirectURIs[0]
	}
	if len(cl.APIGrants) > 0 {
		qi.Audience, qi.Scopes = cl.APIGrants[0].Audience, cl.APIGrants[0].Scopes
	}
	v.Quickstart = quickstart(qi)
	for _, g := range graces {
		v.GraceOptions = append(v.GraceOptions, vc.Option{Value: g.value, Label: g.label, Selected: g.d == admin.SecretGracePeriod})
	}
	return v, nil
}

// graces are the grace periods a rotated secret may get.
var graces = []struct {
	value, label string
	d            time.Duration
}{
	{"0", "No grace period: the old secret stops working now", 0},
	{"1h", "1 hour", time.Hour},
	{"24h", "24 hours", 24 * time.Hour},
	{"168h", "7 days", 7 * 24 * time.Hour},
	{"720h", "30 days", 30 * 24 * time.Hour},
}

// loadApp resolves the tenant and the :app of the path: every application
// route answers "not found" for an application of another tenant before it
// looks at its form.
func (h *Handler) loadApp(c echo.Context) (context.Context, *tenants.Tenant, *admin.Client, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	cl, err := h.svc.GetClient(ctx, c.Param("app"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, cl, nil
}

func (h *Handler) renderApp(c echo.Context, ctx context.Context, t *tenants.Tenant, cl *admin.Client, status int, e appEdit) error {
	v, err := h.appView(c, ctx, t, cl, e)
	if err != nil {
		return err
	}
	return render(c, status, vc.App(v))
}

func (h *Handler) app(c echo.Context) error {
	ctx, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	return h.renderApp(c, ctx, t, cl, http.StatusOK, appEdit{})
}

func (h *Handler) updateApp(c echo.Context) error {
	ctx, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	name, redirects, postLogout := c.FormValue("name"), c.FormValue("redirect_uris"), c.FormValue("post_logout_redirect_uris")
	in := admin.UpdateClientInput{Name: &name}
	if k, _ := kindOf(cl.ApplicationType); k.redirects || len(cl.RedirectURIs) > 0 {
		in.RedirectURIs, in.PostLogoutRedirectURIs = lines(redirects), lines(postLogout)
	}
	if cl.ApplicationType != admin.KindMachine {
		in.GrantTypes = append([]string{}, formValues(c, "grant_types")...)
		if _, sent := c.Request().PostForm["id_token_signed_response_alg"]; sent {
			alg := c.FormValue("id_token_signed_response_alg")
			in.IDTokenSignedResponseAlg = &alg
		}
		if _, sent := c.Request().PostForm["backchannel_logout_uri"]; sent {
			uri, required := c.FormValue("backchannel_logout_uri"), c.FormValue("backchannel_logout_session_required") == "on"
			in.BackchannelLogoutURI, in.BackchannelLogoutSessionRequired = &uri, &required
		}
		if _, sent := c.Request().PostForm["consent"]; sent {
			consent := c.FormValue("consent")
			in.Consent = &consent
		}
		if _, sent := c.Request().PostForm["claim_format"]; sent {
			format := c.FormValue("claim_format")
			in.ClaimFormat = &format
		}
		if _, sent := c.Request().PostForm["logo_uri"]; sent {
			logo := c.FormValue("logo_uri")
			in.LogoURI = &logo
		}
	}
	edit := appEdit{name: &name, redirects: &redirects, postLogout: &postLogout}
	if h.protocolSettings(c, cl, &in, &edit) {
		_, err = h.svc.UpdateClient(ctx, cl.ClientID, in)
	}
	errs := formErrors(err, "name", "redirect_uris", "post_logout_redirect_uris", "grant_types", "id_token_signed_response_alg", "backchannel_logout_uri", "consent",
		"claim_format", "logo_uri", "token_endpoint_auth_method", "jwks", "jwks_uri", "refresh_token_grace_period")
	if edit.errs != nil {
		errs = edit.errs
	}
	if errs != nil {
		edit.idTokenAlg, edit.consent, edit.claimFormat, edit.grantTypes, edit.logoutURI = in.IDTokenSignedResponseAlg, in.Consent, in.ClaimFormat, in.GrantTypes, in.BackchannelLogoutURI
		edit.logoutSession, edit.logoURI, edit.errs = in.BackchannelLogoutSessionRequired, in.LogoURI, errs
		return h.renderApp(c, ctx, t, cl, http.StatusUnprocessableEntity, edit)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/applications/"+cl.ClientID), "app-updated")
}

// protocolSettings reads the settings form's protocol fields into in (and
// what was typed into e): sent only by the settings form of this
// version (protocol_form), so that an older form changes none of them. It
// reports false, with e.errs set, for a grace period that is no number.
func (h *Handler) protocolSettings(c echo.Context, cl *admin.Client, in *admin.UpdateClientInput, e *appEdit) bool {
	form := c.Request().PostForm
	if form.Get("protocol_form") == "" {
		return true
	}
	if tenants.SecretMethod(cl.TokenEndpointAuthMethod) {
		if _, sent := form["token_endpoint_auth_method"]; sent {
			m := form.Get("token_endpoint_auth_method")
			in.TokenEndpointAuthMethod, e.authMethod = &m, &m
		}
	}
	if cl.TokenEndpointAuthMethod == tenants.AuthMethodPrivateKey {
		jwks, uri := strings.TrimSpace(form.Get("jwks")), strings.TrimSpace(form.Get("jwks_uri"))
		e.jwks, e.jwksURI = &jwks, &uri
		// One of them replaces the keys; both is refused by the service.
		if uri != "" {
			in.JWKSURI = &uri
		}
		if jwks != "" || uri == "" {
			in.JWKS = &jwks
		}
	}
	dpop := form.Get("dpop_bound_access_tokens") == "on"
	in.DPoPBoundAccessTokens, e.dpop = &dpop, &dpop
	if cl.ApplicationType != admin.KindMachine {
		par := form.Get("require_pushed_authorization_requests") == "on"
		in.RequirePushedAuthorizationRequests, e.par = &par, &par
		raw := strings.TrimSpace(form.Get("refresh_token_grace_period"))
		e.grace = &raw
		if raw == "" {
			raw = "0"
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			e.errs = map[string]string{"refresh_token_grace_period": "A whole number of seconds, 0 to 60."}
			return false
		}
		in.RefreshTokenGracePeriod = &n
	}
	return true
}

func (h *Handler) updateAppGrants(c echo.Context) error {
	ctx, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	apis, err := h.svc.ListAPIs(ctx)
	if err != nil {
		return err
	}
	checked := formValues(c, "api")
	submitted := map[string][]string{}
	var grants []admin.ClientGrant
	for _, a := range apis {
		scopes := append([]string{}, formValues(c, "scope-"+a.ID)...)
		if !slices.Contains(checked, a.ID) && len(scopes) == 0 {
			continue
		}
		submitted[a.ID] = scopes
		grants = append(grants, admin.ClientGrant{Audience: a.Audience, Scopes: scopes})
	}
	_, err = h.svc.SetClientGrants(ctx, cl.ClientID, grants)
	if errs := formErrors(err, "audience", "scope"); errs != nil {
		return h.renderApp(c, ctx, t, cl, http.StatusUnprocessableEntity, appEdit{access: submitted, accessErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/applications/"+cl.ClientID), "grants-updated")
}

func (h *Handler) rotateSecret(c echo.Context) error {
	ctx, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	grace := time.Duration(-1)
	for _, g := range graces {
		if g.value == c.FormValue("grace") {
			grace = g.d
		}
	}
	if grace < 0 {
		return h.renderApp(c, ctx, t, cl, http.StatusUnprocessableEntity, appEdit{graceErrs: map[string]string{"grace_period": "Choose one of the grace periods offered."}})
	}
	rot, err := h.svc.RotateClientSecret(ctx, cl.ClientID, grace)
	if errs := formErrors(err, "grace_period"); errs != nil {
		return h.renderApp(c, ctx, t, cl, http.StatusUnprocessableEntity, appEdit{graceErrs: errs})
	}
	if err != nil {
		return err
	}
	note := "The previous secret no longer works."
	if grace > 0 {
		note = "The previous secret keeps working until " + when(h.now().Add(grace)) + ": update the application before then."
	}
	return h.showOnce(c, vc.TenantURL(t.Slug, "/applications/"+cl.ClientID+"/secret"), shownOnce{Secret: rot.ClientSecret, Rotated: true, Note: note})
}

func (h *Handler) deleteApp(c echo.Context) error {
	ctx, t, cl, err := h.loadApp(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteClient(ctx, cl.ClientID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/applications"), "app-deleted")
}

// claimFormatOptions are what an application's roles and groups claims
// may carry.
func claimFormatOptions(selected string) []vc.Option {
	selected = tenants.ClaimFormatOf(selected)
	labels := map[string]string{tenants.ClaimFormatNames: "Names", tenants.ClaimFormatIDs: "Stable ids"}
	var out []vc.Option
	for _, f := range tenants.ClaimFormats() {
		out = append(out, vc.Option{Value: f, Label: labels[f], Selected: f == selected})
	}
	return out
}

// consentOptions are the consent policies an application may have.
func consentOptions(selected string) []vc.Option {
	selected = tenants.ConsentPolicyOf(selected)
	labels := map[string]string{tenants.ConsentRequired: "Ask users to consent", tenants.ConsentSkip: "Skip consent: an application of this tenant"}
	var out []vc.Option
	for _, p := range tenants.ConsentPolicies() {
		out = append(out, vc.Option{Value: p, Label: labels[p], Selected: p == selected})
	}
	return out
}
