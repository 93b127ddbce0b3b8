package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// addConnection adds a GitHub connection to f's tenant through the
// services (GitHub needs no network to be checked).
func (e *env) addConnection(t testing.TB, f *fixture, name string) *admin.Connection {
	t.Helper()
	clientID, clientSecret := "gh-"+secret.Token(6), secret.Token(20)
	c, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionGitHub, Name: &name,
		ClientID: &clientID, ClientSecret: &clientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storedConnection reads a connection's row, with its sealed secrets.
func (f *fixture) storedConnection(t testing.TB, id string) *tenants.Connection {
	t.Helper()
	c, err := f.e.store.ConnectionByID(tenants.WithTenant(context.Background(), f.tenant), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loginPageOf starts an authorization request of f's web application and
// returns the tenant's login page it leads to.
func (f *fixture) loginPageOf(b *browser) *page {
	t := b.t
	t.Helper()
	cur := f.oauth2Config(f.web, "openid").AuthCodeURL(secret.Token(8), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	p := b.get(cur)
	for i := 0; i < 4 && (p.status == http.StatusFound || p.status == http.StatusSeeOther); i++ {
		cur = resolve(cur, p.location)
		p = b.get(cur)
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("no login page: %d\n%s", p.status, p.body)
	}
	return p
}

// TestAPIConnections adds a connection of each type through the API, reads,
// pages, changes and deletes them: answers never hold a secret, the client
// secret is sealed at rest and kept when an update leaves it out, and the
// login page offers the enabled ones.
func TestAPIConnections(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		partner := e.fixture("partner")
		idp := samltest.NewIdP(t)
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/acme/connections"
		if items := c.items(t, base); len(items) != 0 {
			t.Fatalf("connections of a new tenant: %v", items)
		}
		secrets := []string{"google-" + secret.Token(16), "partner-" + secret.Token(16), "ms-" + secret.Token(16)}
		connURL := func(id, suffix string) string { return f.issuer + "/federation/" + id + suffix }

		// Google: the name defaults, domains are normalized, the callback
		// URL to register is in the answer, the secret is not.
		status, hdr, g := c.do(t, http.MethodPost, base, map[string]any{"type": "google", "client_id": "1234.apps.googleusercontent.com",
			"client_secret": secrets[0], "domains": []string{"Acme.test", "acme.test", "eu.acme.test"}})
		if status != http.StatusCreated {
			t.Fatalf("create google: %d %v", status, g)
		}
		gid := g["id"].(string)
		if hdr.Get("Location") != "/api/v1"+base+"/"+gid || g["name"] != "Google" || g["type"] != "google" || g["enabled"] != true ||
			g["callback_url"] != connURL(gid, "/callback") || g["has_client_secret"] != true || fmtAny(g["domains"]) != fmtAny([]any{"acme.test", "eu.acme.test"}) {
			t.Fatalf("google connection: %v %v", hdr.Get("Location"), g)
		}
		for _, k := range []string{"client_secret", "entity_id", "acs_url", "metadata_url", "microsoft_tenant"} {
			if _, ok := g[k]; ok {
				t.Fatalf("a google connection shows %s: %v", k, g)
			}
		}
		// OpenID Connect to another tenant of this server.
		o := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"type": "oidc", "name": "Partner", "issuer": partner.issuer + "/",
			"client_id": "acme-at-partner", "client_secret": secrets[1], "trust_email": true})
		if o["issuer"] != partner.issuer || o["trust_email"] != true || o["callback_url"] != connURL(o["id"].(string), "/callback") {
			t.Fatalf("oidc connection: %v", o)
		}
		// Microsoft, for organizations only.
		m := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"type": "microsoft", "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
			"client_secret": secrets[2], "microsoft_tenant": "organizations"})
		if m["name"] != "Microsoft" || m["microsoft_tenant"] != "organizations" {
			t.Fatalf("microsoft connection: %v", m)
		}
		// SAML from the IdP's metadata: our service provider's URLs.
		s := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp", "metadata_xml": string(idp.Metadata()),
			"domains": []string{"corp.test"}, "attributes": map[string]string{"email": "mail", "groups": "memberOf"}})
		sid := s["id"].(string)
		if s["entity_id"] != connURL(sid, "/saml") || s["acs_url"] != connURL(sid, "/saml/acs") || s["metadata_url"] != connURL(sid, "/saml/metadata") ||
			s["allow_idp_initiated"] != nil || s["idp_metadata_url"] != nil || fmtAny(s["attributes"]) != fmtAny(map[string]any{"email": "mail", "groups": "memberOf"}) {
			t.Fatalf("saml connection: %v", s)
		}
		for _, k := range []string{"client_id", "callback_url", "has_client_secret", "issuer"} {
			if _, ok := s[k]; ok {
				t.Fatalf("a saml connection shows %s: %v", k, s)
			}
		}
		if md := fetch(t, e, s["metadata_url"].(string)); !strings.Contains(md, `entityID="`+s["entity_id"].(string)+`"`) ||
			!strings.Contains(md, `Location="`+s["acs_url"].(string)+`"`) || strings.Contains(md, "PRIVATE KEY") {
			t.Fatalf("our SP metadata:\n%s", md)
		}
		// SAML from the IdP's metadata URL.
		u := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp by URL", "metadata_url": samlMetadataURL(idp)})
		if u["idp_metadata_url"] != samlMetadataURL(idp) {
			t.Fatalf("saml connection by URL: %v", u)
		}

		// Listed in order of name, a page at a time.
		first := c.must(t, http.StatusOK, http.MethodGet, base+"?limit=3", nil)
		second := c.must(t, http.StatusOK, http.MethodGet, base+"?limit=3&after="+first["next"].(string), nil)
		var names []string
		for _, x := range append(objects(t, first["items"]), objects(t, second["items"])...) {
			names = append(names, x["name"].(string))
		}
		if strings.Join(names, ",") != "Corp,Corp by URL,Google,Microsoft,Partner" || second["next"] != nil {
			t.Fatalf("pages: %v, next %v", names, second["next"])
		}
		// (created_at aside: the database keeps microseconds.)
		got := c.must(t, http.StatusOK, http.MethodGet, base+"/"+sid, nil)
		delete(got, "created_at")
		delete(s, "created_at")
		if fmtAny(got) != fmtAny(s) {
			t.Fatalf("get %v\nwant %v", got, s)
		}

		// The client secret is sealed at rest; an update that leaves it out
		// keeps it, a new one replaces it.
		sealed := f.storedConnection(t, gid).ClientSecretSealed
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(secrets[0])) {
			t.Fatalf("sealed secret %q", sealed)
		}
		g = c.must(t, http.StatusOK, http.MethodPatch, base+"/"+gid, map[string]any{"name": "Acme Google", "enabled": false, "domains": []string{"acme.test"}})
		if g["name"] != "Acme Google" || g["enabled"] != false || fmtAny(g["domains"]) != fmtAny([]any{"acme.test"}) || g["has_client_secret"] != true {
			t.Fatalf("patched google: %v", g)
		}
		if !bytes.Equal(f.storedConnection(t, gid).ClientSecretSealed, sealed) {
			t.Fatal("an update without client_secret changed the secret")
		}
		secrets = append(secrets, "google-new-"+secret.Token(16))
		c.must(t, http.StatusOK, http.MethodPatch, base+"/"+gid, map[string]any{"client_secret": secrets[3]})
		row := f.storedConnection(t, gid)
		if st, err := e.srv.Federation().Settings(f.tenant, row); err != nil || st.ClientSecret != secrets[3] || bytes.Contains(row.ClientSecretSealed, []byte(secrets[3])) {
			t.Fatalf("new secret: %v, sealed %q", err, row.ClientSecretSealed)
		}
		// SAML settings; metadata given as XML replaces the URL it came from.
		s = c.must(t, http.StatusOK, http.MethodPatch, base+"/"+sid, map[string]any{"allow_idp_initiated": true, "attributes": map[string]string{"name": "displayName"}})
		if s["allow_idp_initiated"] != true || fmtAny(s["attributes"]) != fmtAny(map[string]any{"name": "displayName"}) || s["entity_id"] != connURL(sid, "/saml") {
			t.Fatalf("patched saml: %v", s)
		}
		u = c.must(t, http.StatusOK, http.MethodPatch, base+"/"+u["id"].(string), map[string]any{"metadata_xml": string(idp.Metadata())})
		if u["idp_metadata_url"] != nil {
			t.Fatalf("metadata replaced by XML still names its URL: %v", u)
		}
		// Microsoft's tenant.
		if m = c.must(t, http.StatusOK, http.MethodPatch, base+"/"+m["id"].(string), map[string]any{"microsoft_tenant": "contoso.com"}); m["microsoft_tenant"] != "contoso.com" {
			t.Fatalf("patched microsoft: %v", m)
		}

		// The login page offers the enabled connections.
		login := f.loginPageOf(e.browser()).body
		for _, want := range []string{"Continue with Partner", "Continue with Corp", "Continue with Microsoft"} {
			if !strings.Contains(login, want) {
				t.Errorf("login page lacks %q", want)
			}
		}
		if strings.Contains(login, "Acme Google") {
			t.Error("login page offers a disabled connection")
		}

		// Deleted: 204, then 404.
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/"+gid, nil)
		for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
			var body any
			if m == http.MethodPatch {
				body = map[string]any{"name": "x"}
			}
			status, hdr, resp := c.do(t, m, base+"/"+gid, body)
			wantProblem(t, m+" a deleted connection", status, hdr, resp, http.StatusNotFound, "")
		}
		if len(c.items(t, base)) != 4 {
			t.Fatal("the deleted connection is listed")
		}
		// No answer held a secret, nor the SAML key.
		noSecretsIn(t, *c.transcript, secrets, 0)
		for _, x := range *c.transcript {
			if strings.Contains(x, "PRIVATE KEY") || strings.Contains(x, "sealed") || strings.Contains(x, "sp_certificate") {
				t.Fatalf("an answer shows key material: %s", x)
			}
		}
	})
}

// TestAPIConnectionsBadInput sends each field of a connection wrong, and
// checks each is refused naming the field, changing nothing.
func TestAPIConnectionsBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		idp := samltest.NewIdP(t)
		md := string(idp.Metadata())
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/acme/connections"
		gh := e.addConnection(t, f, "GitHub")
		name := "Corp"
		sc, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Name: &name, MetadataXML: &md})
		if err != nil {
			t.Fatal(err)
		}
		before := fmtAny(c.items(t, base+"?limit=200"))
		google := func(kv ...any) map[string]any {
			b := map[string]any{"type": "google", "client_id": "x.apps.googleusercontent.com", "client_secret": "s3cret"}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(b, kv[i].(string))
				} else {
					b[kv[i].(string)] = kv[i+1]
				}
			}
			return b
		}
		oidc := map[string]any{"type": "oidc", "name": "Partner", "client_id": "x", "client_secret": "s3cret"}
		with := func(b map[string]any, kv ...any) map[string]any {
			out := map[string]any{}
			for k, v := range b {
				out[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				out[kv[i].(string)] = kv[i+1]
			}
			return out
		}
		saml := map[string]any{"type": "saml", "name": "Corp 2", "metadata_xml": md}
		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			field  string
		}{
			{"no type", http.MethodPost, base, map[string]any{"name": "x"}, "type"},
			{"unknown type", http.MethodPost, base, google("type", "ldap"), "type"},
			{"type of the wrong JSON type", http.MethodPost, base, google("type", 7), "type"},
			{"no client id", http.MethodPost, base, google("client_id", nil), "client_id"},
			{"client id with a control character", http.MethodPost, base, google("client_id", "a\tb"), "client_id"},
			{"client id too long", http.MethodPost, base, google("client_id", strings.Repeat("x", 600)), "client_id"},
			{"no client secret", http.MethodPost, base, google("client_secret", nil), "client_secret"},
			{"client secret with a newline", http.MethodPost, base, google("client_secret", "s3cret\n"), "client_secret"},
			{"empty name", http.MethodPost, base, google("name", " "), "name"},
			{"long name", http.MethodPost, base, google("name", strings.Repeat("n", 101)), "name"},
			{"name taken", http.MethodPost, base, google("name", "GitHub"), "name"},
			{"name of the wrong JSON type", http.MethodPost, base, google("name", 42), "name"},
			{"not a domain", http.MethodPost, base, google("domains", []string{"not a domain"}), "domains"},
			{"domain without a dot", http.MethodPost, base, google("domains", []string{"localhost"}), "domains"},
			{"domains not a list", http.MethodPost, base, google("domains", "acme.test"), "domains"},
			{"enabled not a boolean", http.MethodPost, base, google("enabled", "yes"), "enabled"},
			{"trust_email not a boolean", http.MethodPost, base, google("trust_email", 1), "trust_email"},
			{"issuer on google", http.MethodPost, base, google("issuer", "https://accounts.google.com"), "issuer"},
			{"metadata on google", http.MethodPost, base, google("metadata_xml", md), "metadata_xml"},
			{"microsoft tenant on google", http.MethodPost, base, google("microsoft_tenant", "common"), "microsoft_tenant"},
			{"unknown field", http.MethodPost, base, google("client_secret_sealed", "x"), "client_secret_sealed"},
			{"no issuer", http.MethodPost, base, oidc, "issuer"},
			{"issuer not https", http.MethodPost, base, with(oidc, "issuer", "http://idp.example.test"), "issuer"},
			{"issuer not a URL", http.MethodPost, base, with(oidc, "issuer", "idp.example.test"), "issuer"},
			{"oidc without a name", http.MethodPost, base, with(oidc, "issuer", "https://idp.example.test", "name", ""), "name"},
			{"bad microsoft tenant", http.MethodPost, base, map[string]any{"type": "microsoft", "client_id": "x", "client_secret": "y", "microsoft_tenant": "not a tenant!"}, "microsoft_tenant"},
			{"no metadata", http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp 2"}, "metadata_xml"},
			{"metadata not metadata", http.MethodPost, base, with(saml, "metadata_xml", "<nope/>"), "metadata_xml"},
			{"metadata not XML", http.MethodPost, base, with(saml, "metadata_xml", "{}"), "metadata_xml"},
			{"metadata URL not http", http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp 2", "metadata_url": "ftp://idp.test/md"}, "metadata_url"},
			{"metadata URL at a loopback address", http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp 2", "metadata_url": "http://127.0.0.1:1/md"}, "metadata_url"},
			{"metadata URL unreachable", http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp 2", "metadata_url": "http://" + samlIdPHost + ":1/md"}, "metadata_url"},
			{"metadata URL not metadata", http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp 2", "metadata_url": strings.TrimSuffix(samlMetadataURL(idp), "/metadata") + "/nope"}, "metadata_url"},
			{"metadata URL with a password", http.MethodPost, base, map[string]any{"type": "saml", "name": "Corp 2", "metadata_url": "http://user:pw@" + samlIdPHost + ":" + idp.Port() + "/metadata"}, "metadata_url"},
			{"metadata twice", http.MethodPost, base, with(saml, "metadata_url", samlMetadataURL(idp)), "metadata_url"},
			{"unknown attribute field", http.MethodPost, base, with(saml, "attributes", map[string]string{"shoe_size": "x"}), "attributes"},
			{"empty attribute", http.MethodPost, base, with(saml, "attributes", map[string]string{"email": ""}), "attributes"},
			{"attribute with a NUL", http.MethodPost, base, with(saml, "attributes", map[string]string{"email": "ma\x00il"}), "attributes"},
			{"client id on saml", http.MethodPost, base, with(saml, "client_id", "x"), "client_id"},
			{"allow_idp_initiated not a boolean", http.MethodPost, base, with(saml, "allow_idp_initiated", "no"), "allow_idp_initiated"},

			{"changing the type", http.MethodPatch, base + "/" + gh.ID, map[string]any{"type": "saml"}, "type"},
			{"empty client secret", http.MethodPatch, base + "/" + gh.ID, map[string]any{"client_secret": ""}, "client_secret"},
			{"emptied name", http.MethodPatch, base + "/" + gh.ID, map[string]any{"name": ""}, "name"},
			{"another's name", http.MethodPatch, base + "/" + gh.ID, map[string]any{"name": "Corp"}, "name"},
			{"bad domain", http.MethodPatch, base + "/" + gh.ID, map[string]any{"domains": []string{"-x.test"}}, "domains"},
			{"emptied client id", http.MethodPatch, base + "/" + gh.ID, map[string]any{"client_id": ""}, "client_id"},
			{"metadata on github", http.MethodPatch, base + "/" + gh.ID, map[string]any{"metadata_url": samlMetadataURL(idp)}, "metadata_url"},
			{"bad metadata", http.MethodPatch, base + "/" + sc.ID, map[string]any{"metadata_xml": "<nope/>"}, "metadata_xml"},
			{"bad attributes", http.MethodPatch, base + "/" + sc.ID, map[string]any{"attributes": map[string]any{"groups": 7}}, "attributes"},
			{"client secret on saml", http.MethodPatch, base + "/" + sc.ID, map[string]any{"client_secret": "x"}, "client_secret"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
				wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, tc.field)
			})
		}
		if after := fmtAny(c.items(t, base+"?limit=200")); after != before {
			t.Fatalf("bad input changed the connections:\n%s\n%s", before, after)
		}
	})
}
