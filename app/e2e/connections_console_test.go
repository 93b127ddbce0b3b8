package e2e

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

var createdConnection = regexp.MustCompile(`^/admin/t/acme/connections/([^/?]+)\?done=connection-created$`)

// TestConsoleConnections adds, changes and deletes connections in the
// console: a Google one (its callback URL to register shown once saved, its
// secret never shown and kept when the form leaves it blank), an OpenID
// Connect, a Microsoft and a SAML one (our service provider's details for
// the IdP's admin); errors come back next to their fields with what was
// typed; the login page offers the enabled ones; every change is audited
// without a secret.
func TestConsoleConnections(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	partner := e.fixture("partner")
	idp := samltest.NewIdP(t)
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	svc := e.srv.Admin()
	conns := e.base + "/admin/t/acme/connections"
	var pages []string
	get := func(u string, want int) *page {
		t.Helper()
		p := b.get(u)
		if p.status != want {
			t.Fatalf("GET %s: %d, want %d\n%s", u, p.status, want, p.body)
		}
		pages = append(pages, p.body)
		return p
	}
	post := func(u string, form url.Values, want int) *page {
		t.Helper()
		form.Set("csrf_token", csrf)
		p := b.post(u, form)
		if p.status != want {
			t.Fatalf("POST %s: %d, want %d\n%s", u, p.status, want, p.body)
		}
		pages = append(pages, p.body)
		return p
	}
	has := func(what string, p *page, texts ...string) {
		t.Helper()
		for _, s := range texts {
			if !strings.Contains(p.body, s) {
				t.Fatalf("%s lacks %q:\n%s", what, s, p.body)
			}
		}
	}
	created := func(p *page) string {
		t.Helper()
		m := createdConnection.FindStringSubmatch(p.location)
		if m == nil {
			t.Fatalf("after create: %s", p.location)
		}
		return m[1]
	}

	p := get(conns, http.StatusOK)
	has("the empty list", p, "No connections yet", `href="/admin/t/acme/connections"`)
	p = get(conns+"/new", http.StatusOK)
	has("the chooser", p, `id="kind-google"`, `id="kind-github"`, `id="kind-microsoft"`, `id="kind-oidc"`, `id="kind-saml"`)
	get(conns+"/new/ldap", http.StatusNotFound)
	get(conns+"/new/google", http.StatusOK)

	// Google: a bad domain comes back next to its field, with what was
	// typed (but the secret); then it is fixed.
	secrets := []string{"GOCSPX-" + secret.Token(20)}
	form := url.Values{"enabled": {"true"}, "client_id": {"1234.apps.googleusercontent.com"}, "client_secret": {secrets[0]},
		"domains": {"acme.test\nnot a domain"}}
	p = post(conns+"/new/google", form, http.StatusUnprocessableEntity)
	has("the refused form", p, `id="domains-error"`, "is not a domain name", ">acme.test\nnot a domain</textarea>", `value="1234.apps.googleusercontent.com"`)
	form.Set("domains", "acme.test")
	gid := created(post(conns+"/new/google", form, http.StatusSeeOther))
	callback := f.issuer + "/federation/" + gid + "/callback"
	p = get(conns+"/"+gid+"?done=connection-created", http.StatusOK)
	has("the new Google connection", p, "Connection created.", `id="next-step"`, "Register this callback URL at Google", callback,
		`data-copy="`+callback+`"`, "Authorized redirect URIs", "A secret is set")
	if p = get(conns+"/"+gid, http.StatusOK); strings.Contains(p.body, `id="next-step"`) || !strings.Contains(p.body, callback) {
		t.Fatalf("the connection's page later:\n%s", p.body)
	}

	// Edit: a blank secret keeps the secret; a new one replaces it.
	sealed := f.storedConnection(t, gid).ClientSecretSealed
	edit := url.Values{"name": {"Acme Google"}, "client_id": {"1234.apps.googleusercontent.com"}, "client_secret": {""},
		"domains": {"acme.test\neu.acme.test"}, "trust_email": {"true"}}
	p = post(conns+"/"+gid, edit, http.StatusSeeOther)
	if !strings.HasSuffix(p.location, "/connections/"+gid+"?done=connection-updated") {
		t.Fatalf("after saving: %s", p.location)
	}
	g, err := svc.GetConnection(f.adminCtx(), gid)
	if err != nil || g.Name != "Acme Google" || g.Enabled || !g.TrustEmail || strings.Join(g.Domains, ",") != "acme.test,eu.acme.test" {
		t.Fatalf("saved: %+v %v", g, err)
	}
	if !bytes.Equal(f.storedConnection(t, gid).ClientSecretSealed, sealed) {
		t.Fatal("a blank secret changed the secret")
	}
	secrets = append(secrets, "GOCSPX-"+secret.Token(20))
	edit.Set("client_secret", secrets[1])
	edit.Set("enabled", "true")
	post(conns+"/"+gid, edit, http.StatusSeeOther)
	if st, err := e.srv.Federation().Settings(f.tenant, f.storedConnection(t, gid)); err != nil || st.ClientSecret != secrets[1] {
		t.Fatalf("the new secret: %v", err)
	}
	edit.Set("name", "")
	edit.Set("domains", "acme.test\nbad domain")
	p = post(conns+"/"+gid, edit, http.StatusUnprocessableEntity)
	has("the refused edit", p, `id="name-error"`, ">acme.test\nbad domain</textarea>")
	edit.Set("name", "Acme Google")
	edit.Set("domains", "")
	edit.Del("enabled")
	post(conns+"/"+gid, edit, http.StatusSeeOther)

	// OpenID Connect to another tenant: the issuer is required.
	oform := url.Values{"name": {"Partner"}, "enabled": {"true"}, "client_id": {"acme"}, "client_secret": {"partner-" + secret.Token(12)}}
	secrets = append(secrets, oform.Get("client_secret"))
	p = post(conns+"/new/oidc", oform, http.StatusUnprocessableEntity)
	has("an OpenID Connect connection without issuer", p, `id="issuer-error"`, `value="Partner"`)
	oform.Set("issuer", partner.issuer)
	oid := created(post(conns+"/new/oidc", oform, http.StatusSeeOther))
	p = get(conns+"/"+oid+"?done=connection-created", http.StatusOK)
	has("the new OpenID Connect connection", p, "Register this callback URL at Partner", f.issuer+"/federation/"+oid+"/callback", `value="`+partner.issuer+`"`)

	// Microsoft: trusting its email addresses is ignored, and says so.
	mform := url.Values{"enabled": {"true"}, "client_id": {"6731de76-14a6-49ae-97bc-6eba6914391e"}, "client_secret": {"ms-" + secret.Token(12)},
		"microsoft_tenant": {"not a tenant!"}, "trust_email": {"true"}}
	secrets = append(secrets, mform.Get("client_secret"))
	p = post(conns+"/new/microsoft", mform, http.StatusUnprocessableEntity)
	has("a bad Entra tenant", p, `id="microsoft_tenant-error"`, `value="not a tenant!"`)
	mform.Set("microsoft_tenant", "organizations")
	mid := created(post(conns+"/new/microsoft", mform, http.StatusSeeOther))
	p = get(conns+"/"+mid, http.StatusOK)
	has("the Microsoft connection", p, "Ignored for Microsoft", "nOAuth", `value="organizations"`, "Register this callback URL at Microsoft Entra ID")

	// SAML: metadata that is not metadata is refused next to the field;
	// then our service provider's details, attribute mapping, and
	// IdP-initiated login off unless asked for.
	sform := url.Values{"name": {"Corp"}, "enabled": {"true"}, "metadata_xml": {"<nope/>"}, "domains": {"corp.test"}, "attr_email": {"mail"}}
	p = post(conns+"/new/saml", sform, http.StatusUnprocessableEntity)
	has("bad metadata", p, `id="metadata_xml-error"`, "&lt;nope/&gt;</textarea>", `value="mail"`)
	sform.Set("metadata_xml", string(idp.Metadata()))
	sid := created(post(conns+"/new/saml", sform, http.StatusSeeOther))
	sp := f.issuer + "/federation/" + sid + "/saml"
	p = get(conns+"/"+sid+"?done=connection-created", http.StatusOK)
	has("the new SAML connection", p, "administrator", `id="entity-id">`+sp+"<", `id="acs-url">`+sp+"/acs<", `id="sp-metadata-url">`+sp+"/metadata<",
		`data-copy="`+sp+`/acs"`, "Uploaded XML", `name="allow_idp_initiated" value="true" aria-describedby`, "Off by default")
	if strings.Contains(p.body, `name="allow_idp_initiated" value="true" checked`) {
		t.Fatal("IdP-initiated login is on by default")
	}
	s, _ := svc.GetConnection(f.adminCtx(), sid)
	if s.Attributes["email"] != "mail" || s.AllowIDPInitiated {
		t.Fatalf("saml connection: %+v", s)
	}
	// Metadata by URL and by XML at once is refused; by URL alone, fetched.
	p = post(conns+"/"+sid, url.Values{"name": {"Corp"}, "enabled": {"true"}, "metadata_xml": {string(idp.Metadata())}, "metadata_url": {samlMetadataURL(idp)}},
		http.StatusUnprocessableEntity)
	has("metadata twice", p, `id="metadata_url-error"`)
	post(conns+"/"+sid, url.Values{"name": {"Corp"}, "enabled": {"true"}, "metadata_url": {samlMetadataURL(idp)}, "domains": {"corp.test"},
		"attr_groups": {"memberOf"}, "allow_idp_initiated": {"true"}}, http.StatusSeeOther)
	s, _ = svc.GetConnection(f.adminCtx(), sid)
	if s.IdPMetadataURL != samlMetadataURL(idp) || !s.AllowIDPInitiated || len(s.Attributes) != 1 || s.Attributes["groups"] != "memberOf" {
		t.Fatalf("saml connection after the edit: %+v", s)
	}
	has("the SAML connection by URL", get(conns+"/"+sid, http.StatusOK), "From <code>"+samlMetadataURL(idp)+"</code>", `name="refresh_metadata"`)

	// The list, and the login page's buttons.
	p = get(conns, http.StatusOK)
	has("the list", p, "Acme Google", "Partner", "Microsoft", "Corp", "SAML 2.0", "OpenID Connect", "corp.test", "disabled")
	login := f.loginPageOf(e.browser())
	has("the login page", login, "Continue with Partner", "Continue with Microsoft", "Continue with Corp")
	if strings.Contains(login.body, "Acme Google") {
		t.Fatal("the login page offers a disabled connection")
	}

	// Delete.
	p = post(conns+"/"+gid+"/delete", url.Values{}, http.StatusSeeOther)
	if p.location != "/admin/t/acme/connections?done=connection-deleted" {
		t.Fatalf("after delete: %s", p.location)
	}
	has("the list after delete", get(conns+"?done=connection-deleted", http.StatusOK), "Connection deleted")
	get(conns+"/"+gid, http.StatusNotFound)
	post(conns+"/"+gid+"/delete", url.Values{}, http.StatusNotFound)

	// Audited, and no page nor event shows a secret or key material.
	evs, err := svc.AuditLog(f.adminCtx(), admin.AuditFilter{Action: "connection.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var texts []string
	for _, ev := range evs {
		count[ev.Action]++
		raw, _ := json.Marshal(ev)
		texts = append(texts, string(raw))
	}
	if count[admin.ActionConnectionCreated] != 4 || count[admin.ActionConnectionUpdated] != 4 || count[admin.ActionConnectionDeleted] != 1 {
		t.Fatalf("connection events: %v", count)
	}
	for i, x := range append(texts, pages...) {
		x = html.UnescapeString(x)
		for _, s := range secrets {
			if strings.Contains(x, s) {
				t.Fatalf("a secret is shown: %.300s", x)
			}
		}
		if strings.Contains(x, "PRIVATE KEY") || i < len(texts) && (strings.Contains(x, `"client_secret"`) || strings.Contains(x, "sealed")) {
			t.Fatalf("key material or a secret field is shown: %.300s", x)
		}
	}
}
