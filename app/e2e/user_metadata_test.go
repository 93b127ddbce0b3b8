package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestUserMetadata: user_metadata and app_metadata over the management
// API — replaced by PATCH, validated (a JSON object, 16 KiB at most),
// searchable by key and value on both dialects, and read by claim rules.
func TestUserMetadata(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/" + f.slug
		user := base + "/users/" + f.userID
		if u := op.must(t, http.StatusOK, http.MethodGet, user, nil); fmt.Sprint(u["app_metadata"]) != "map[]" {
			t.Fatalf("metadata of a new user: %v", u)
		}
		u := op.must(t, http.StatusOK, http.MethodPatch, user, map[string]any{
			"app_metadata":  map[string]any{"plan": "gold", "seats": 3, "vip": true},
			"user_metadata": map[string]any{"theme": "dark"},
		})
		if am, _ := u["app_metadata"].(map[string]any); am["plan"] != "gold" || u["user_metadata"].(map[string]any)["theme"] != "dark" {
			t.Fatalf("after PATCH: %v", u)
		}
		// A PATCH of the name keeps the metadata.
		u = op.must(t, http.StatusOK, http.MethodPatch, user, map[string]any{"name": "Ada"})
		if am, _ := u["app_metadata"].(map[string]any); am["plan"] != "gold" {
			t.Fatalf("metadata lost by a PATCH of the name: %v", u)
		}
		for _, bad := range []map[string]any{
			{"app_metadata": []any{1, 2}},
			{"user_metadata": "text"},
			{"app_metadata": map[string]any{"big": strings.Repeat("x", 17<<10)}},
		} {
			status, _, body := op.do(t, http.MethodPatch, user, bad)
			if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "metadata") {
				t.Fatalf("PATCH %.60v: %d %v", bad, status, body)
			}
		}
		search := func(q url.Values) int {
			t.Helper()
			return len(op.items(t, base+"/users?"+q.Encode()))
		}
		for _, tc := range []struct {
			spec, value string
			want        int
		}{
			{"app_metadata.plan", "gold", 1}, {"app_metadata.plan", "silver", 0}, {"app_metadata.plan", "", 1},
			{"app_metadata.seats", "3", 1}, {"app_metadata.vip", "true", 1}, {"user_metadata.theme", "dark", 1},
			{"user_metadata.plan", "", 0}, {"app_metadata.nope", "", 0},
		} {
			if got := search(url.Values{"metadata": {tc.spec}, "value": {tc.value}}); got != tc.want {
				t.Errorf("search %s=%q: %d users, want %d", tc.spec, tc.value, got, tc.want)
			}
		}
		for _, spec := range []string{"app_metadata.a.b", "other.plan", "app_metadata.", "app_metadata.x'--"} {
			if status, _, body := op.do(t, http.MethodGet, base+"/users?"+url.Values{"metadata": {spec}}.Encode(), nil); status != http.StatusBadRequest {
				t.Errorf("search %q: %d %v", spec, status, body)
			}
		}
		// Claim rules read it.
		p := op.must(t, http.StatusOK, http.MethodPost, base+"/claim-rules/preview", map[string]any{"user": f.userID, "client": f.web.ClientID,
			"rules": []any{map[string]any{"name": "plan", "id_token": map[string]any{"plan": "user.app_metadata.plan", "theme": "user.user_metadata.theme"}}}})
		if c, _ := p["id_token"].(map[string]any); c["plan"] != "gold" || c["theme"] != "dark" {
			t.Fatalf("preview: %v", p)
		}
	})
}
