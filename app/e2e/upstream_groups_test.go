package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// groupNamesOf returns the names of the groups user id of f is a member of.
func (f *fixture) groupNamesOf(t *testing.T, id string) []string {
	t.Helper()
	gs, err := f.e.store.UserGroups(f.tctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

// mapGroups makes the groups of f named in to (if missing) and maps conn's
// upstream groups to them: upstream name → group name.
func (f *fixture) mapGroups(t *testing.T, conn *admin.Connection, maps map[string]string) {
	t.Helper()
	svc := f.e.srv.Admin()
	var in []admin.GroupMappingInput
	for up, g := range maps {
		if _, err := svc.GetGroup(f.adminCtx(), g); err != nil {
			name := g
			if _, err := svc.CreateGroup(f.adminCtx(), admin.GroupInput{Name: &name}); err != nil {
				t.Fatal(err)
			}
		}
		in = append(in, admin.GroupMappingInput{Upstream: up, Group: g})
	}
	if _, err := svc.SetConnectionGroupMappings(f.adminCtx(), conn.ID, in); err != nil {
		t.Fatal(err)
	}
	pass := true
	if _, err := svc.UpdateConnection(f.adminCtx(), conn.ID, admin.ConnectionInput{PassGroups: &pass}); err != nil {
		t.Fatal(err)
	}
}

// TestUpstreamGroupsSAML: a SAML login whose group attribute changed
// updates the user's groups at the next login, through the connection's
// group mapping (memberships an admin made stay), refreshes the user's
// name, and passes unmapped groups through.
func TestUpstreamGroupsSAML(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		s := newSAMLEnv(t, e, "acme")
		f := s.f
		f.mapGroups(t, s.conn, map[string]string{"staff": "eng", "oncall": "ops"})
		manual := "manual"
		mg, err := e.srv.Admin().CreateGroup(f.adminCtx(), admin.GroupInput{Name: &manual})
		if err != nil {
			t.Fatal(err)
		}

		first, _ := s.login(t)
		if got := f.groupNamesOf(t, first.Subject); !slices.Equal(got, []string{"eng"}) {
			t.Fatalf("after the first login: groups %v, want [eng]", got)
		}
		// An admin adds the user to ops and to manual by hand.
		for _, g := range []string{"ops", mg.ID} {
			if _, err := e.srv.Admin().AddGroupMember(f.adminCtx(), g, first.Subject); err != nil {
				t.Fatal(err)
			}
		}

		// At the IdP, Sam moved from staff to oncall and contractors, and
		// was renamed.
		changed := samlUser
		changed.Groups, changed.CommonName = []string{"oncall", "contractors"}, "Samantha Jones"
		s.idp.AddUser(t, changed)
		second, _ := s.login(t)
		if second.Subject != first.Subject || second.Name != "Samantha Jones" {
			t.Fatalf("second login: %+v", second)
		}
		if got := f.groupNamesOf(t, first.Subject); !slices.Equal(got, []string{"manual", "ops"}) {
			t.Fatalf("after the second login: groups %v, want [manual ops] (eng removed, the admin's kept)", got)
		}
		if u := f.userByID(first.Subject); u.Name != "Samantha Jones" || u.Email != samlUser.Email {
			t.Fatalf("profile not refreshed: %+v", u)
		}
		if passed, err := e.store.PassedGroups(f.tctx(), first.Subject); err != nil || !slices.Equal(passed, []string{"contractors"}) {
			t.Fatalf("passed groups %v, %v; want [contractors]", passed, err)
		}
		// Claim rules see the tenant's groups in user.groups and the
		// passed-through ones apart, in user.upstream_groups.
		name := "groups"
		pv, err := e.srv.Admin().PreviewClaims(f.adminCtx(), admin.PreviewInput{User: first.Subject, Client: f.web.ClientID,
			Rules: []admin.ClaimRuleInput{{Name: &name, IDToken: &map[string]string{"g": "user.groups", "u": "user.upstream_groups"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if g, u := fmt.Sprint(pv.IDToken["g"]), fmt.Sprint(pv.IDToken["u"]); g != "[manual ops]" || u != "[contractors]" {
			t.Fatalf("in a claim rule: user.groups = %s, user.upstream_groups = %s; want [manual ops] and [contractors]", g, u)
		}
		if len(f.audit("user.groups_synced")) < 2 || len(f.audit("user.profile_refreshed")) != 1 {
			t.Fatalf("audit: %d groups_synced, %d profile_refreshed", len(f.audit("user.groups_synced")), len(f.audit("user.profile_refreshed")))
		}

		// No groups at all: the connection's memberships end, an admin's
		// (ops was the admin's too) stay.
		changed.Groups = nil
		s.idp.AddUser(t, changed)
		s.login(t)
		if got := f.groupNamesOf(t, first.Subject); !slices.Equal(got, []string{"manual", "ops"}) {
			t.Fatalf("after a login without groups: %v", got)
		}
	})
}

// TestUpstreamGroupsOIDC: the same with an OpenID Connect upstream on a
// loopback address (another tenant of the node, whose ID tokens carry
// groups for the groups scope its discovery lists).
func TestUpstreamGroupsOIDC(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		partner := e.fixture("partner").verified(t)
		svc := e.srv.Admin()
		app, err := svc.CreateClient(partner.adminCtx(), admin.CreateClientInput{Name: "Acme sign-in",
			RedirectURIs: []string{f.issuer + "/federation/pending/callback"}, GrantTypes: []string{"authorization_code"}})
		if err != nil {
			t.Fatal(err)
		}
		name, trust := "Partner", true
		conn, err := svc.CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionOIDC, Provisioning: provisionCreate(), Name: &name,
			Issuer: &partner.issuer, ClientID: &app.ClientID, ClientSecret: &app.ClientSecret, TrustEmail: &trust})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateClient(partner.adminCtx(), app.ClientID, admin.UpdateClientInput{RedirectURIs: []string{conn.CallbackURL}}); err != nil {
			t.Fatal(err)
		}
		// At partner: the user is in Engineering and Unmapped.
		for _, g := range []string{"Engineering", "Ops", "Unmapped"} {
			n := g
			if _, err := svc.CreateGroup(partner.adminCtx(), admin.GroupInput{Name: &n}); err != nil {
				t.Fatal(err)
			}
		}
		member := func(g string, in bool) {
			t.Helper()
			if in {
				_, err = svc.AddGroupMember(partner.adminCtx(), g, partner.userID)
			} else {
				err = svc.RemoveGroupMember(partner.adminCtx(), g, partner.userID)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		member("Engineering", true)
		member("Unmapped", true)
		f.mapGroups(t, conn, map[string]string{"Engineering": "eng", "Ops": "ops"})

		b := e.browser()
		fl, up := f.beginFederated(b, conn)
		if u, _ := url.Parse(up); u.Query().Get("scope") != "openid email profile groups" {
			t.Fatalf("upstream scope %q, want groups asked for (the upstream lists it)", u.Query().Get("scope"))
		}
		c := fl.finish(up, b.get(up), url.Values{"email": {partner.email}, "password": {partner.password}})
		if got := f.groupNamesOf(t, c.Subject); !slices.Equal(got, []string{"eng"}) {
			t.Fatalf("after the first login: %v, want [eng]", got)
		}
		if passed, _ := e.store.PassedGroups(f.tctx(), c.Subject); !slices.Equal(passed, []string{"Unmapped"}) {
			t.Fatalf("passed groups %v", passed)
		}

		// At partner: moved from Engineering to Ops, and renamed.
		member("Engineering", false)
		member("Ops", true)
		newName := "Renamed Partner"
		if _, err := svc.UpdateUser(partner.adminCtx(), partner.userID, admin.UpdateUserInput{Name: &newName}); err != nil {
			t.Fatal(err)
		}
		b2 := e.browser()
		at, _ := url.Parse(partner.issuer)
		b2.client.Jar.SetCookies(at, b.client.Jar.Cookies(at))
		fl, up = f.beginFederated(b2, conn)
		again := fl.finish(up, b2.get(up))
		if again.Subject != c.Subject {
			t.Fatalf("second login is %s, want %s", again.Subject, c.Subject)
		}
		if got := f.groupNamesOf(t, c.Subject); !slices.Equal(got, []string{"ops"}) {
			t.Fatalf("after the second login: %v, want [ops]", got)
		}
		if u := f.userByID(c.Subject); u.Name != newName {
			t.Fatalf("name %q, want %q refreshed", u.Name, newName)
		}
	})
}
