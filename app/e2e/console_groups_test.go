package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleConnectionGroupsAndClaimFormat: a SAML connection's page
// edits its group mapping (one "upstream = group" a line) and
// pass-through; a group that does not exist (or is another tenant's) is a
// 422 that changes nothing; another tenant's connection is a 404. An
// application's page sets its claim format.
func TestConsoleConnectionGroupsAndClaimFormat(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	other := e.fixture("beta")
	svc := e.srv.Admin()
	md := string(samltest.NewIdP(t).Metadata())
	mk := func(fx *fixture) *admin.Connection {
		name := "Corp"
		c, err := svc.CreateConnection(fx.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Name: &name, MetadataXML: &md})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	conn, betaConn := mk(f), mk(other)
	for _, g := range []string{"eng", "admins"} {
		n := g
		if _, err := svc.CreateGroup(f.adminCtx(), admin.GroupInput{Name: &n}); err != nil {
			t.Fatal(err)
		}
	}
	bn := "beta-only"
	if _, err := svc.CreateGroup(other.adminCtx(), admin.GroupInput{Name: &bn}); err != nil {
		t.Fatal(err)
	}
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	page := e.base + "/admin/t/acme/connections/" + conn.ID
	if p := b.get(page); p.status != http.StatusOK || !strings.Contains(p.body, `id="connection-groups"`) {
		t.Fatalf("connection page: %d %s", p.status, p.body)
	}
	p := b.post(page+"/groups", url.Values{"csrf_token": {csrf}, "mappings": {"Engineering = eng\n\nDomain Admins=admins\n"}, "pass_groups": {"true"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save groups: %d\n%s", p.status, p.body)
	}
	ms, err := svc.ConnectionGroupMappings(f.adminCtx(), conn.ID)
	if err != nil || len(ms) != 2 || ms[0].Upstream != "Domain Admins" || ms[0].GroupName != "admins" || ms[1].GroupName != "eng" {
		t.Fatalf("mappings %+v %v", ms, err)
	}
	if c, _ := svc.GetConnection(f.adminCtx(), conn.ID); !c.PassGroups {
		t.Fatal("pass_groups not saved")
	}
	if p := b.get(page); !strings.Contains(p.body, "Engineering = eng") {
		t.Fatalf("the page does not show the mapping:\n%s", p.body)
	}
	for name, m := range map[string]string{"missing group": "x = nope", "another tenant's group": "x = beta-only", "no equals": "Engineering"} {
		if p := b.post(page+"/groups", url.Values{"csrf_token": {csrf}, "mappings": {m}}); p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, p.status)
		}
	}
	if ms, _ := svc.ConnectionGroupMappings(f.adminCtx(), conn.ID); len(ms) != 2 {
		t.Fatalf("a refused form changed the mapping: %+v", ms)
	}
	if p := b.post(e.base+"/admin/t/acme/connections/"+betaConn.ID+"/groups", url.Values{"csrf_token": {csrf}, "mappings": {""}}); p.status != http.StatusNotFound {
		t.Fatalf("another tenant's connection: %d", p.status)
	}
	if p := b.post(page+"/groups", url.Values{"mappings": {""}}); p.status != http.StatusForbidden {
		t.Fatalf("without the anti-CSRF token: %d", p.status)
	}

	// The claim format on the application's page.
	app := e.base + "/admin/t/acme/applications/" + f.web.ClientID
	if p := b.get(app); !strings.Contains(p.body, `name="claim_format"`) {
		t.Fatalf("application page without the claim format:\n%s", p.body)
	}
	cl, err := svc.GetClient(f.adminCtx(), f.web.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"csrf_token": {csrf}, "name": {cl.ClientName}, "redirect_uris": {strings.Join(cl.RedirectURIs, "\n")}, "claim_format": {"ids"}}
	for _, g := range cl.GrantTypes {
		form.Add("grant_types", g)
	}
	if p := b.post(app, form); p.status != http.StatusSeeOther {
		t.Fatalf("save claim format: %d\n%s", p.status, p.body)
	}
	if cl, _ := svc.GetClient(f.adminCtx(), f.web.ClientID); cl.ClaimFormat != tenants.ClaimFormatIDs {
		t.Fatalf("claim format %q", cl.ClaimFormat)
	}
	form.Set("claim_format", "uuid")
	if p := b.post(app, form); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad claim format: %d", p.status)
	}
}
