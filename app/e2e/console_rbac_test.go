package e2e

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

var roleLink = regexp.MustCompile(`href="/admin/t/acme/roles/([0-9a-f-]{36})"`)
var groupLink = regexp.MustCompile(`href="/admin/t/acme/groups/([0-9a-f-]{36})"`)

// TestConsoleRolesAndGroups manages roles and groups in the console: a
// role and its permissions, a user holding it directly and through a
// group (the user's page says where each role comes from), the API's RBAC
// switch and claims; bad input comes back as the form with its error.
func TestConsoleRolesAndGroups(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme"
		post := func(path string, form url.Values) string {
			t.Helper()
			form.Set("csrf_token", csrf)
			p := b.post(base+path, form)
			if p.status != http.StatusSeeOther {
				t.Fatalf("POST %s: %d\n%s", path, p.status, p.body)
			}
			return p.location
		}

		loc := post("/roles", url.Values{"name": {"clerk"}, "description": {"Takes orders"}})
		m := regexp.MustCompile(`/roles/([0-9a-f-]{36})\?`).FindStringSubmatch(loc)
		if m == nil {
			t.Fatalf("after creating a role: %s", loc)
		}
		roleID := m[1]
		if p := b.post(base+"/roles", url.Values{"csrf_token": {csrf}, "name": {"clerk"}}); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.body, "a role of this name already") {
			t.Fatalf("a second role named clerk: %d", p.status)
		}
		post("/roles/"+roleID+"/permissions", url.Values{"permission": {f.api + " write:orders"}})
		page := b.get(base + "/roles/" + roleID)
		if page.status != http.StatusOK || !strings.Contains(page.body, `value="`+f.api+` write:orders" checked`) {
			t.Fatalf("role page: %d\n%s", page.status, page.body)
		}
		if p := b.post(base+"/roles/"+roleID+"/permissions", url.Values{"csrf_token": {csrf}, "permission": {f.api + " delete:orders"}}); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(html.UnescapeString(p.body), "has no scope") {
			t.Fatalf("an unknown scope: %d", p.status)
		}

		post("/users/"+f.userID+"/roles", url.Values{"role": {roleID}})
		loc = post("/groups", url.Values{"name": {"staff"}})
		gid := regexp.MustCompile(`/groups/([0-9a-f-]{36})\?`).FindStringSubmatch(loc)[1]
		post("/groups/"+gid+"/members", url.Values{"email": {f.email}})
		post("/groups/"+gid+"/roles", url.Values{"role": {roleID}})
		if p := b.post(base+"/groups/"+gid+"/members", url.Values{"csrf_token": {csrf}, "email": {"nobody@acme.test"}}); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.body, "o user of this tenant has this address") {
			t.Fatalf("adding an unknown member: %d", p.status)
		}
		user := b.get(base + "/users/" + f.userID)
		if !strings.Contains(user.body, `id="user-roles"`) || !strings.Contains(user.body, ">direct<") || len(groupLink.FindAllString(user.body, -1)) == 0 ||
			len(roleLink.FindAllString(user.body, -1)) == 0 {
			t.Fatalf("user page roles:\n%s", user.body)
		}
		roles, err := e.srv.Admin().UserRoles(f.adminCtx(), f.userID)
		if err != nil || len(roles) != 1 || !roles[0].Direct || len(roles[0].Groups) != 1 {
			t.Fatalf("effective roles: %+v %v", roles, err)
		}
		post("/users/"+f.userID+"/roles/"+roleID+"/remove", url.Values{})
		post("/groups/"+gid+"/members/"+f.userID+"/remove", url.Values{})
		if roles, _ := e.srv.Admin().UserRoles(f.adminCtx(), f.userID); len(roles) != 0 {
			t.Fatalf("roles after removal: %+v", roles)
		}

		// The API's RBAC switch and claims.
		apis, _ := e.srv.Admin().ListAPIs(f.adminCtx())
		post("/apis/"+apis[0].ID, url.Values{"name": {"Orders API"}, "rbac_form": {"1"}, "rbac": {"true"}, "token_claims": {"roles", "groups"}})
		a, _ := e.srv.Admin().GetAPI(f.adminCtx(), apis[0].ID)
		if !a.RBAC || len(a.TokenClaims) != 2 {
			t.Fatalf("API after the settings form: %+v", a)
		}
		if p := b.post(base+"/apis/"+apis[0].ID, url.Values{"csrf_token": {csrf}, "name": {"Orders API"}, "rbac_form": {"1"}, "token_claims": {"sub"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("an unknown claim: %d", p.status)
		}
		post("/apis/"+apis[0].ID, url.Values{"name": {"Orders API"}, "rbac_form": {"1"}})
		if a, _ := e.srv.Admin().GetAPI(f.adminCtx(), apis[0].ID); a.RBAC || len(a.TokenClaims) != 0 {
			t.Fatalf("API after unchecking: %+v", a)
		}

		post("/groups/"+gid+"/delete", url.Values{})
		post("/roles/"+roleID+"/delete", url.Values{})
		if rs, _ := e.srv.Admin().ListRoles(f.adminCtx()); len(rs) != 0 {
			t.Fatalf("roles after delete: %v", rs)
		}
		_ = admin.ActionRoleCreated
	})
}
