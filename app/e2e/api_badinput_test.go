package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestAPINoInputIsAServerError sends every route's body with each string in
// it replaced by hostile text (NUL and other control characters, invalid
// UTF-8 escapes, very long strings) and checks the answer is a client
// error problem document, never a 5xx: bad input is refused before it
// reaches the database.
func TestAPINoInputIsAServerError(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "", admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		ids := map[string]string{"slug": "acme", "client_id": f.web.ClientID, "users/id": f.userID, "session_id": "x",
			"apis/id": c.items(t, "/tenants/acme/apis")[0]["id"].(string), "connections/id": e.addConnection(t, f, "GitHub").ID,
			"roles/role": "walker", "groups/id": "walkers", "members/user": f.userID,
			"strings/locale": "de", ":locale/message": "consent.heading", "email-templates/kind": "reset", ":kind/locale": "de"}
		c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "walker"})
		c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/groups", map[string]any{"name": "walkers"})
		md := string(samltest.NewIdP(t).Metadata())
		hostile := []string{"a\x00b", "\x00", "line\nbreak\r\ttab\x07", "\xff\xfe", strings.Repeat("long", 3000)}
		for _, r := range writeRoutes() {
			body := bodyFor(t, r)
			if body == nil {
				continue
			}
			variants := mutations(body, hostile)
			// Fields the valid bodies leave out.
			for _, h := range hostile {
				switch routeKey(r) {
				case "PUT /tenants/:slug/applications/:client_id/grants":
					variants = append(variants, []any{map[string]any{"audience": h, "scopes": []string{h}}},
						[]any{map[string]any{"audience": f.api, "scopes": []string{h}}})
				case "POST /tenants/:slug/applications":
					variants = append(variants, map[string]any{"kind": "machine", "client_name": "x", "audiences": []string{h}},
						map[string]any{"kind": "machine", "client_name": "x", "audiences": []string{f.api}, "scopes": []string{h}},
						map[string]any{"kind": "web", "client_name": "x", "redirect_uris": []string{h}})
				case "PATCH /tenants/:slug":
					variants = append(variants, map[string]any{"logo_url": h}, map[string]any{"accent_color": h}, map[string]any{"grant_types": []string{h}})
				case "PATCH /tenants/:slug/users/:id":
					variants = append(variants, map[string]any{"email": h}, map[string]any{"given_name": h}, map[string]any{"family_name": h})
				case "PATCH /tenants/:slug/apis/:id":
					variants = append(variants, map[string]any{"scopes": []any{map[string]any{"value": h, "description": h}}})
				case "POST /tenants/:slug/connections":
					variants = append(variants, map[string]any{"type": "oidc", "name": "x", "client_id": "x", "client_secret": "x", "issuer": h},
						map[string]any{"type": "microsoft", "client_id": "x", "client_secret": "x", "microsoft_tenant": h},
						map[string]any{"type": "google", "client_id": "x", "client_secret": "x", "domains": []string{h}},
						map[string]any{"type": "saml", "name": "x", "metadata_xml": h},
						map[string]any{"type": "saml", "name": "x", "metadata_url": h},
						map[string]any{"type": "saml", "name": "x", "metadata_xml": md, "attributes": map[string]string{"email": h}},
						map[string]any{"type": "saml", "name": "x", "metadata_xml": md, "attributes": map[string]string{h: "mail"}})
				case "POST /tenants/:slug/roles":
					variants = append(variants, map[string]any{"name": "x", "permissions": []any{map[string]any{"audience": h, "scope": h}}},
						map[string]any{"name": "x", "permissions": []any{map[string]any{"audience": f.api, "scope": h}}},
						map[string]any{"name": h, "description": h})
				case "PATCH /tenants/:slug/roles/:role":
					variants = append(variants, map[string]any{"permissions": []any{map[string]any{"audience": h, "scope": "read:orders"}}}, map[string]any{"name": h})
				case "POST /tenants/:slug/users/:id/roles", "POST /tenants/:slug/groups/:id/roles":
					variants = append(variants, map[string]any{"role": h})
				case "POST /tenants/:slug/groups/:id/members":
					variants = append(variants, map[string]any{"user": h})
				case "PATCH /tenants/:slug/connections/:id":
					variants = append(variants, map[string]any{"client_id": h}, map[string]any{"domains": []string{h}})
				}
			}
			for i, v := range variants {
				status, hdr, resp := c.do(t, r.Method, fill(r.Path, ids), v)
				if status >= 500 || status < 400 && status != 200 && status != 201 && status != 202 && status != 204 {
					t.Fatalf("%s variant %d (%.80v): %d %v", routeKey(r), i, v, status, resp)
				}
				if status >= 400 && hdr.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%s variant %d: %d %q", routeKey(r), i, status, hdr.Get("Content-Type"))
				}
			}
		}
		// The services refuse such input themselves (the console and the
		// CLI reach them without this API's decoding).
		sctx := f.adminCtx()
		svc := e.srv.Admin()
		if _, err := svc.SetClientGrants(sctx, f.web.ClientID, []admin.ClientGrant{{Audience: "a\x00b"}}); !isInvalid(err, "audience") {
			t.Fatalf("grant of a NUL audience: %v", err)
		}
		if _, err := svc.CreateClient(sctx, admin.CreateClientInput{Kind: "machine", Name: "x", Audiences: []string{"\x00"}}); !isInvalid(err, "audience") {
			t.Fatalf("client with a NUL audience: %v", err)
		}
		if _, err := svc.CreateAPI(sctx, admin.CreateAPIInput{Audience: "https://nul.test", Scopes: []admin.ScopeInput{{Name: "a", Description: "b\x00"}}}); !isInvalid(err, "scope") {
			t.Fatalf("scope description with a NUL: %v", err)
		}
		// Query strings too.
		for _, q := range []string{"q", "after", "before", "action", "actor", "target", "since", "until", "limit"} {
			for _, h := range hostile {
				for _, p := range []string{"/tenants/acme/users", "/tenants/acme/audit", "/tenants/acme/applications", "/tenants/acme/audit/export"} {
					status, _, raw := c.raw(t, http.MethodGet, p+"?"+q+"="+urlEscape(h), "", nil)
					if status >= 500 {
						t.Fatalf("GET %s?%s=%.20q: %d %s", p, q, h, status, raw)
					}
				}
			}
		}
	})
}

// mutations returns copies of body, each with one string replaced by one of
// hostile.
func mutations(body any, hostile []string) []any {
	var out []any
	var walk func(v any, set func(any))
	root := body
	walk = func(v any, set func(any)) {
		switch x := v.(type) {
		case string:
			for _, h := range hostile {
				set(h)
				out = append(out, deepCopy(root))
			}
			set(x)
		case map[string]any:
			for k, y := range x {
				walk(y, func(n any) { x[k] = n })
			}
		case []any:
			for i, y := range x {
				walk(y, func(n any) { x[i] = n })
			}
		case []string:
			for i := range x {
				walk(x[i], func(n any) { x[i] = n.(string) })
			}
		}
	}
	root = deepCopy(body)
	walk(root, func(any) {})
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, y := range x {
			m[k] = deepCopy(y)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, y := range x {
			l[i] = deepCopy(y)
		}
		return l
	case []string:
		return append([]string(nil), x...)
	}
	return v
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func isInvalid(err error, field string) bool {
	var ve *tenants.ValidationError
	return errors.As(err, &ve) && ve.Field == field
}
