package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// connKind is a type of connection: what the chooser says about it, and
// what its forms say and show.
type connKind struct {
	vc.ConnectionKind
	text string
}

var connKinds = []connKind{
	{vc.ConnectionKind{Key: tenants.ConnectionGoogle, Label: "Google", Provider: "Google",
		Setup: "In the Google Cloud console (APIs & Services → Credentials), create an OAuth client ID of type Web application, then give its client ID and secret here.",
		Where: "In the Google Cloud console: APIs & Services → Credentials → your OAuth client → Authorized redirect URIs"},
		"Google accounts: personal, or your organization's Google Workspace."},
	{vc.ConnectionKind{Key: tenants.ConnectionGitHub, Label: "GitHub", Provider: "GitHub",
		Setup: "In GitHub (Settings → Developer settings → OAuth Apps), register a new OAuth App, generate a client secret, then give its client ID and secret here.",
		Where: "In GitHub: Settings → Developer settings → OAuth Apps → your app → Authorization callback URL"},
		"GitHub accounts, for developer-facing applications."},
	{vc.ConnectionKind{Key: tenants.ConnectionMicrosoft, Label: "Microsoft", Provider: "Microsoft Entra ID", Microsoft: true,
		Setup: "In the Microsoft Entra admin center (App registrations), register an application with a Web platform and create a client secret (Certificates & secrets), then give its application (client) ID and the secret's value here.",
		Where: "In the Microsoft Entra admin center: App registrations → your application → Authentication → Web → Redirect URIs"},
		"Work, school and personal Microsoft accounts (Entra ID)."},
	{vc.ConnectionKind{Key: tenants.ConnectionApple, Label: "Apple", Provider: "Apple", Apple: true,
		Setup: "In the Apple developer account (Certificates, Identifiers & Profiles), create a Services ID with Sign in with Apple enabled, and a key for Sign in with Apple; download the key (.p8) and give its text here with the key id, your team id and the Services ID.",
		Where: "In the Apple developer account: Identifiers → your Services ID → Sign in with Apple → Configure → Return URLs"},
		"Apple IDs, including users who hide their address behind Apple's private relay."},
	{vc.ConnectionKind{Key: tenants.ConnectionOIDC, Label: "OpenID Connect", Provider: "the provider", OIDC: true,
		Setup: "Any OpenID provider, found by its issuer URL (discovery). Register a web application there (a confidential client, authorization code flow), then give its issuer, client ID and secret here.",
		Where: "At the provider: your application's redirect (callback) URIs"},
		"Any OpenID Connect provider, by its issuer URL: Okta, Auth0, Keycloak, another Gatehouse tenant…"},
	{vc.ConnectionKind{Key: tenants.ConnectionSAML, Label: "SAML 2.0", Provider: "the identity provider", SAML: true,
		Setup: "An enterprise identity provider that speaks SAML 2.0. Give its metadata (the XML, or the URL where it publishes it); once saved, give its admin this connection's service provider details."},
		"An enterprise identity provider: Okta, Entra ID, ADFS, Google Workspace, Keycloak, Shibboleth…"},
}

func connKindOf(key string) (connKind, bool) {
	for _, k := range connKinds {
		if k.Key == key {
			return k, true
		}
	}
	return connKind{}, false
}

// kindFor returns what a saved connection's pages say: an OpenID Connect
// connection's provider is the connection itself.
func kindFor(cn *admin.Connection) vc.ConnectionKind {
	k, ok := connKindOf(cn.Type)
	if !ok {
		return vc.ConnectionKind{Key: cn.Type, Label: cn.Type, Provider: cn.Name}
	}
	if k.OIDC {
		k.Provider = cn.Name
	}
	return k.ConnectionKind
}

func (h *Handler) connections(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListConnections(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Connections", "connections", t)
	if err != nil {
		return err
	}
	v := vc.ConnectionsView{Page: pg}
	for _, cn := range cs {
		v.Rows = append(v.Rows, vc.ConnectionRow{Name: cn.Name, TypeLabel: kindFor(cn).Label, Enabled: cn.Enabled, Domains: cn.Domains,
			Link: vc.TenantURL(t.Slug, "/connections/"+cn.ID), CertWarning: certWarning(cn, h.now())})
	}
	return render(c, http.StatusOK, vc.Connections(v))
}

func (h *Handler) newConnectionKinds(c echo.Context) error {
	_, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "New connection", "connections", t)
	if err != nil {
		return err
	}
	v := vc.NewConnectionKindsView{Page: pg}
	for _, k := range connKinds {
		v.Kinds = append(v.Kinds, vc.KindChoice{Key: k.Key, Label: k.Label, Text: k.text, Link: vc.TenantURL(t.Slug, "/connections/new/"+k.Key)})
	}
	return render(c, http.StatusOK, vc.NewConnectionKinds(v))
}

func (h *Handler) renderNewConnection(c echo.Context, t *tenants.Tenant, k connKind, f vc.ConnectionForm, status int, errs map[string]string) error {
	pg, err := h.page(c, "New "+k.Label+" connection", "connections", t)
	if err != nil {
		return err
	}
	return render(c, status, vc.NewConnection(vc.NewConnectionView{Page: pg, Kind: k.ConnectionKind, Form: f, Errors: errs}))
}

func (h *Handler) newConnection(c echo.Context) error {
	_, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	k, ok := connKindOf(c.Param("kind"))
	if !ok {
		return notFound()
	}
	return h.renderNewConnection(c, t, k, vc.ConnectionForm{Enabled: true}, http.StatusOK, nil)
}

func (h *Handler) createConnection(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	k, ok := connKindOf(c.Param("kind"))
	if !ok {
		return notFound()
	}
	f := connectionForm(c)
	in, errs := connectionInput(k.ConnectionKind, f, c.FormValue("client_secret"), nil)
	if errs == nil {
		var cn *admin.Connection
		cn, err = h.svc.CreateConnection(ctx, in)
		if err == nil {
			return done(c, vc.TenantURL(t.Slug, "/connections/"+cn.ID), "connection-created")
		}
		errs = connectionFormErrors(err, k.ConnectionKind, f)
	}
	if errs == nil {
		return err
	}
	return h.renderNewConnection(c, t, k, f, http.StatusUnprocessableEntity, errs)
}

// connectionForm reads a connection's form.
func connectionForm(c echo.Context) vc.ConnectionForm {
	on := func(name string) bool { return c.FormValue(name) == "true" }
	return vc.ConnectionForm{
		Name: c.FormValue("name"), Enabled: on("enabled"), Domains: c.FormValue("domains"), TrustEmail: on("trust_email"),
		Provisioning: c.FormValue("provisioning"),
		ClientID:     c.FormValue("client_id"), Issuer: c.FormValue("issuer"), MicrosoftTenant: c.FormValue("microsoft_tenant"),
		AppleTeamID: c.FormValue("apple_team_id"), AppleKeyID: c.FormValue("apple_key_id"),
		MetadataXML: c.FormValue("metadata_xml"), MetadataURL: c.FormValue("metadata_url"), RefreshMetadata: on("refresh_metadata"),
		AttrEmail: c.FormValue("attr_email"), AttrName: c.FormValue("attr_name"), AttrGivenName: c.FormValue("attr_given_name"),
		AttrFamilyName: c.FormValue("attr_family_name"), AttrGroups: c.FormValue("attr_groups"),
		AllowIDPInitiated: on("allow_idp_initiated"),
	}
}

// connectionInput turns a connection's form into the service's input; cur
// is the saved connection (nil for a new one). A blank client secret keeps
// the saved one; the IdP's metadata URL is fetched again only when it
// changed or the admin asks.
func connectionInput(k vc.ConnectionKind, f vc.ConnectionForm, clientSecret string, cur *admin.Connection) (admin.ConnectionInput, map[string]string) {
	in := admin.ConnectionInput{Type: k.Key, Domains: lines(f.Domains), Enabled: &f.Enabled, TrustEmail: &f.TrustEmail, Provisioning: &f.Provisioning}
	if name := f.Name; strings.TrimSpace(name) != "" || cur != nil || k.SAML || k.OIDC {
		in.Name = &name
	}
	if k.SAML {
		xml, mdURL := strings.TrimSpace(f.MetadataXML), strings.TrimSpace(f.MetadataURL)
		if xml != "" {
			in.MetadataXML = &xml
		}
		if mdURL != "" && (cur == nil || mdURL != cur.IdPMetadataURL || f.RefreshMetadata) {
			if xml != "" {
				return in, map[string]string{"metadata_url": "Give the metadata as XML or by URL, not both."}
			}
			in.MetadataURL = &mdURL
		}
		in.Attributes = map[string]string{}
		for field, v := range map[string]string{"email": f.AttrEmail, "name": f.AttrName, "given_name": f.AttrGivenName,
			"family_name": f.AttrFamilyName, "groups": f.AttrGroups} {
			if v = strings.TrimSpace(v); v != "" {
				in.Attributes[field] = v
			}
		}
		in.AllowIDPInitiated = &f.AllowIDPInitiated
		return in, nil
	}
	clientID := f.ClientID
	in.ClientID = &clientID
	if clientSecret != "" || cur == nil {
		in.ClientSecret = &clientSecret
	}
	if k.OIDC {
		issuer := f.Issuer
		in.Issuer = &issuer
	}
	if k.Microsoft {
		mt := f.MicrosoftTenant
		in.MicrosoftTenant = &mt
	}
	if k.Apple {
		team, key := f.AppleTeamID, f.AppleKeyID
		in.AppleTeamID, in.AppleKeyID = &team, &key
	}
	return in, nil
}

// connectionFormErrors puts a validation error next to its field of the
// connection's form. The services name the SAML metadata "metadata", and a
// configuration the connector refused "connection": the field that
// configures it, by type.
func connectionFormErrors(err error, k vc.ConnectionKind, f vc.ConnectionForm) map[string]string {
	errs := fieldErrors(err)
	if errs == nil {
		return nil
	}
	metadata := "metadata_xml"
	if strings.TrimSpace(f.MetadataXML) == "" && strings.TrimSpace(f.MetadataURL) != "" {
		metadata = "metadata_url"
	}
	rename := map[string]string{"metadata": metadata}
	switch {
	case k.SAML:
		rename["connection"] = metadata
	case k.OIDC:
		rename["connection"] = "issuer"
	case k.Microsoft:
		rename["connection"] = "microsoft_tenant"
	case k.Apple:
		rename["connection"] = "client_secret"
	}
	for from, to := range rename {
		if msg, ok := errs[from]; ok {
			delete(errs, from)
			errs[to] = msg
		}
	}
	fields := []string{"name", "domains", "trust_email", "provisioning", "enabled"}
	if k.SAML {
		fields = append(fields, "metadata_xml", "metadata_url", "attributes", "allow_idp_initiated")
	} else {
		fields = append(fields, "client_id", "client_secret", "issuer", "microsoft_tenant", "apple_team_id", "apple_key_id")
	}
	for f, msg := range errs {
		if f == "form" || !slices.Contains(fields, f) {
			delete(errs, f)
			f = "form"
		}
		errs[f] = sentence(msg)
	}
	return errs
}

// loadConnection resolves the tenant and the :conn of the path: every
// connection route answers "not found" for another tenant's connection
// before it looks at its form.
func (h *Handler) loadConnection(c echo.Context) (context.Context, *tenants.Tenant, *admin.Connection, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	cn, err := h.svc.GetConnection(ctx, c.Param("conn"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, cn, nil
}

// storedForm is the form of a saved connection.
func storedForm(cn *admin.Connection) vc.ConnectionForm {
	a := cn.Attributes
	return vc.ConnectionForm{Name: cn.Name, Enabled: cn.Enabled, Domains: strings.Join(cn.Domains, "\n"), TrustEmail: cn.TrustEmail, Provisioning: cn.Provisioning,
		ClientID: cn.ClientID, Issuer: cn.Issuer, MicrosoftTenant: cn.MicrosoftTenant, AppleTeamID: cn.AppleTeamID, AppleKeyID: cn.AppleKeyID,
		MetadataURL: cn.IdPMetadataURL,
		AttrEmail:   a["email"], AttrName: a["name"], AttrGivenName: a["given_name"], AttrFamilyName: a["family_name"], AttrGroups: a["groups"],
		AllowIDPInitiated: cn.AllowIDPInitiated}
}

// renderConnection shows a connection's page; f is what the admin typed
// when the form comes back with errors (nil: what is stored).
func (h *Handler) renderConnection(c echo.Context, ctx context.Context, t *tenants.Tenant, cn *admin.Connection, status int, f *vc.ConnectionForm, errs map[string]string) error {
	pg, err := h.page(c, cn.Name, "connections", t)
	if err != nil {
		return err
	}
	v := vc.ConnectionView{Page: pg, ID: cn.ID, Name: cn.Name, Kind: kindFor(cn), Enabled: cn.Enabled, Created: when(cn.CreatedAt),
		JustCreated: c.QueryParam("done") == "connection-created", CallbackURL: cn.CallbackURL, EntityID: cn.EntityID, ACSURL: cn.ACSURL,
		MetadataURL: cn.MetadataURL, IdPMetadataURL: cn.IdPMetadataURL, HasSecret: cn.HasClientSecret, Form: storedForm(cn), Errors: errs}
	if f != nil {
		v.Form = *f
	}
	if cn.Type == tenants.ConnectionSAML || cn.Type == tenants.ConnectionOIDC {
		ms, err := h.svc.ConnectionGroupMappings(ctx, cn.ID)
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, m := range ms {
			b.WriteString(m.Upstream + " = " + m.GroupName + "\n")
		}
		v.ShowGroups, v.GroupMappings, v.PassGroups = true, b.String(), cn.PassGroups
	}
	if cn.IdP != nil {
		v.IdP = &vc.IdPView{EntityID: cn.IdP.EntityID, SSOURL: cn.IdP.SSOURL, Warning: certWarning(cn, h.now())}
		worst, _ := cn.IdP.Expiry()
		v.IdP.Expired = worst == admin.CertExpired
		for _, cert := range cn.IdP.Certificates {
			v.IdP.Certificates = append(v.IdP.Certificates, vc.CertView{Subject: cert.Subject, NotAfter: when(cert.NotAfter), State: cert.Expiry})
		}
	}
	return render(c, status, vc.Connection(v))
}

// updateConnectionGroups replaces a connection's group mapping and whether
// it passes unmapped groups through.
func (h *Handler) updateConnectionGroups(c echo.Context) error {
	ctx, t, cn, err := h.loadConnection(c)
	if err != nil {
		return err
	}
	if cn.Type != tenants.ConnectionSAML && cn.Type != tenants.ConnectionOIDC {
		return httperr.NotFound()
	}
	raw := c.FormValue("mappings")
	in, err := admin.ParseGroupMappings(strings.Split(raw, "\n"))
	if err == nil {
		_, err = h.svc.SetConnectionGroupMappings(ctx, cn.ID, in)
	}
	if err == nil {
		pass := c.FormValue("pass_groups") == "true"
		_, err = h.svc.UpdateConnection(ctx, cn.ID, admin.ConnectionInput{PassGroups: &pass})
	}
	if err == nil {
		return done(c, vc.TenantURL(t.Slug, "/connections/"+cn.ID), "connection-updated")
	}
	msg := ""
	if errors.Is(err, tenants.ErrNotFound) {
		msg = "A group named there does not exist: " + sentence(err.Error())
	} else if errs := fieldErrors(err); errs != nil {
		for _, m := range errs {
			msg = sentence(m)
		}
	} else {
		return err
	}
	pg, perr := h.page(c, cn.Name, "connections", t)
	if perr != nil {
		return perr
	}
	v := vc.ConnectionView{Page: pg, ID: cn.ID, Name: cn.Name, Kind: kindFor(cn), Enabled: cn.Enabled, Created: when(cn.CreatedAt),
		CallbackURL: cn.CallbackURL, EntityID: cn.EntityID, ACSURL: cn.ACSURL, MetadataURL: cn.MetadataURL, IdPMetadataURL: cn.IdPMetadataURL,
		HasSecret: cn.HasClientSecret, Form: storedForm(cn), ShowGroups: true, GroupMappings: raw, PassGroups: c.FormValue("pass_groups") == "true",
		GroupErrors: map[string]string{"mappings": msg}}
	return render(c, http.StatusUnprocessableEntity, vc.Connection(v))
}

func (h *Handler) connection(c echo.Context) error {
	ctx, t, cn, err := h.loadConnection(c)
	if err != nil {
		return err
	}
	return h.renderConnection(c, ctx, t, cn, http.StatusOK, nil, nil)
}

func (h *Handler) updateConnection(c echo.Context) error {
	ctx, t, cn, err := h.loadConnection(c)
	if err != nil {
		return err
	}
	k := kindFor(cn)
	f := connectionForm(c)
	in, errs := connectionInput(k, f, c.FormValue("client_secret"), cn)
	if errs == nil {
		_, err = h.svc.UpdateConnection(ctx, cn.ID, in)
		if err == nil {
			return done(c, vc.TenantURL(t.Slug, "/connections/"+cn.ID), "connection-updated")
		}
		errs = connectionFormErrors(err, k, f)
	}
	if errs == nil {
		return err
	}
	return h.renderConnection(c, ctx, t, cn, http.StatusUnprocessableEntity, &f, errs)
}

func (h *Handler) deleteConnection(c echo.Context) error {
	ctx, t, cn, err := h.loadConnection(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteConnection(ctx, cn.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/connections"), "connection-deleted")
}

// certWarning says, in words, that a SAML connection's IdP certificate
// expires soon or has expired ("" when neither).
func certWarning(cn *admin.Connection, now time.Time) string {
	worst, cert := cn.IdP.Expiry()
	switch worst {
	case admin.CertExpired:
		return "The IdP's signing certificate expired on " + when(cert.NotAfter) + ": sign-ins with " + cn.Name + " fail until the connection has the IdP's new metadata."
	case admin.CertExpiring:
		days := int(cert.NotAfter.Sub(now).Hours() / 24)
		return "The IdP's signing certificate expires on " + when(cert.NotAfter) + " (in " + strconv.Itoa(days) + " days): get " + cn.Name + "'s new metadata before then, or fetch it again from its URL."
	}
	return ""
}
