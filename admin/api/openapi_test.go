package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestDocumentMatchesMountedRoutes mounts the API on an Echo of its own and
// checks that every route under /api/v1 is an operation of the document and
// every operation a route.
func TestDocumentMatchesMountedRoutes(t *testing.T) {
	h := New(nil, nil)
	e := echo.New()
	h.Register(e)
	mounted := map[string]bool{}
	for _, r := range e.Routes() {
		if p, ok := strings.CutPrefix(r.Path, admin.APIPath); ok {
			mounted[r.Method+" "+openAPIPath(p)] = true
		}
	}
	documented := map[string]bool{}
	for p, ops := range documentOf(t, h)["paths"].(map[string]any) {
		for m := range ops.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for k := range mounted {
		if !documented[k] {
			t.Errorf("%s is mounted but not in the document", k)
		}
	}
	for k := range documented {
		if !mounted[k] {
			t.Errorf("%s is in the document but not mounted", k)
		}
	}
	if len(mounted) != len(h.Routes())+1 {
		t.Errorf("%d routes mounted, want the %d of Routes and the document", len(mounted), len(h.Routes())+1)
	}
}

// documentOf returns the document as a client decodes it.
func documentOf(t *testing.T, h *Handler) map[string]any {
	t.Helper()
	b, err := json.Marshal(h.Document())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestDocumentIsConsistent checks the document the way a generator would
// read it: every $ref resolves, operation ids are unique, path parameters
// are declared, every operation is tagged, scoped and answers its success
// status, and bodies have properties.
func TestDocumentIsConsistent(t *testing.T) {
	h := New(nil, nil)
	doc := documentOf(t, h)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	raw, _ := json.Marshal(doc)
	for _, m := range regexp.MustCompile(`"\$ref":"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if schemas[m[1]] == nil {
			t.Errorf("$ref to missing schema %s", m[1])
		}
	}
	var tagNames []string
	for _, tg := range doc["tags"].([]any) {
		tagNames = append(tagNames, tg.(map[string]any)["name"].(string))
	}
	ids := map[string]bool{}
	for p, ops := range doc["paths"].(map[string]any) {
		for m, o := range ops.(map[string]any) {
			op := o.(map[string]any)
			name := strings.ToUpper(m) + " " + p
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s: operationId %q missing or not unique", name, id)
			}
			ids[id] = true
			for _, tg := range op["tags"].([]any) {
				if !slices.Contains(tagNames, tg.(string)) {
					t.Errorf("%s: tag %v not declared", name, tg)
				}
			}
			declared := map[string]bool{}
			for _, prm := range asList(op["parameters"]) {
				prm := prm.(map[string]any)
				if prm["in"] == "path" {
					declared[prm["name"].(string)] = true
				}
				if prm["description"] == "" {
					t.Errorf("%s: parameter %v has no description", name, prm["name"])
				}
			}
			for _, pm := range pathParamRE.FindAllStringSubmatch(p, -1) {
				if !declared[pm[1]] {
					t.Errorf("%s: path parameter %s not declared", name, pm[1])
				}
			}
			resp := op["responses"].(map[string]any)
			if p == "/openapi.json" {
				continue
			}
			for _, code := range []string{"401", "403"} {
				if resp[code] == nil {
					t.Errorf("%s: no %s answer", name, code)
				}
			}
			if strings.Contains(p, "{") && resp["404"] == nil {
				t.Errorf("%s: no 404 answer", name)
			}
			if m == "delete" && (resp["204"] == nil || !strings.Contains(op["description"].(string), "idempotent")) {
				t.Errorf("%s: a DELETE answers 204 and says it is idempotent in effect", name)
			}
			if sec := op["security"].([]any)[0].(map[string]any)["bearer"].([]any); len(sec) != 1 || !slices.Contains(admin.AllScopes(), sec[0].(string)) {
				t.Errorf("%s: security %v", name, sec)
			}
			if rb, ok := op["requestBody"].(map[string]any); ok {
				content := rb["content"].(map[string]any)
				media, _ := content["application/json"].(map[string]any)
				if media == nil {
					media, _ = content["application/x-ndjson"].(map[string]any)
				}
				s := media["schema"].(map[string]any)
				if s["type"] == "array" {
					s = s["items"].(map[string]any)
				}
				ref, _ := s["$ref"].(string)
				body, _ := schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
				if body == nil || len(body["properties"].(map[string]any)) == 0 {
					t.Errorf("%s: request body schema %v has no properties", name, s)
				}
			}
		}
	}
	for _, name := range []string{"Client", "User", "API", "Tenant", "AuditEvent", "Key", "Session", "Consent", "CreateClientRequest", "CreateUserRequest", "GrantRequest"} {
		s, _ := schemas[name].(map[string]any)
		if s == nil || len(s["properties"].(map[string]any)) == 0 {
			t.Errorf("schema %s missing or empty", name)
		}
	}
	// No answer documents a secret hash but the tenant document's
	// applications (DocApplication, which an export carries only with
	// tenants:write); the client secret is in Client only. Password
	// hashes are in the user import and export format only (UserRecord),
	// where an export has them with their own scope.
	for name, sch := range schemas {
		b, _ := json.Marshal(sch)
		if name != "DocApplication" && strings.Contains(string(b), "secret_hash") {
			t.Errorf("schema %s mentions a secret hash", name)
		}
		if name != "UserRecord" && strings.Contains(string(b), "password_hash") {
			t.Errorf("schema %s mentions a password hash", name)
		}
	}
	if schemas["CreateUserRequest"].(map[string]any)["required"] == nil {
		t.Error("required fields of a request are not documented")
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestRoutesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range New(nil, nil).Routes() {
		k := r.Method + " " + r.Path
		if seen[k] {
			t.Errorf("%s twice", k)
		}
		seen[k] = true
		if r.Summary == "" || r.Tag == "" || r.Scope == "" || r.handler == nil {
			t.Errorf("%s: summary, tag, scope and handler are required", k)
		}
		switch {
		case r.Method == http.MethodDelete && r.success() != http.StatusNoContent:
			t.Errorf("%s: a DELETE answers 204", k)
		case r.Method == http.MethodPost && r.success() == http.StatusCreated && r.Body == nil:
			t.Errorf("%s: a create has a body", k)
		case (r.Method == http.MethodPatch || r.Method == http.MethodPut) && r.Body == nil:
			t.Errorf("%s: no body type", k)
		case r.Method == http.MethodGet && r.Scope == admin.ScopeTenantsWrite:
			t.Errorf("%s: a read needs a write scope", k)
		case r.Method != http.MethodGet && r.Scope != admin.ScopeTenantsWrite:
			t.Errorf("%s: a change needs tenants:write", k)
		}
	}
}

// TestGrantTypeEnumIsTheRegistry checks that every grant_types field of a
// request body lists exactly the grant registry, in its order, with a
// description of each.
func TestGrantTypeEnumIsTheRegistry(t *testing.T) {
	schemas := documentOf(t, New(nil, nil))["components"].(map[string]any)["schemas"].(map[string]any)
	want := tenants.GrantNames()
	found := 0
	for name, s := range schemas {
		props, _ := s.(map[string]any)["properties"].(map[string]any)
		gt, ok := props["grant_types"].(map[string]any)
		if !ok || !strings.HasSuffix(name, "Request") {
			continue
		}
		found++
		items := gt["items"].(map[string]any)
		var got, descs []string
		for _, v := range items["enum"].([]any) {
			got = append(got, v.(string))
		}
		for _, v := range items["x-enum-descriptions"].([]any) {
			descs = append(descs, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s.grant_types enum = %v, want the registry's %v", name, got, want)
		}
		if len(descs) != len(want) {
			t.Errorf("%s.grant_types has %d descriptions for %d values", name, len(descs), len(want))
		}
		for i, g := range tenants.GrantTypes() {
			if i < len(descs) && !strings.HasPrefix(descs[i], g.Label+": "+g.Help) {
				t.Errorf("%s.grant_types description %d = %q", name, i, descs[i])
			}
		}
	}
	if found != 3 { // CreateClientRequest, UpdateClientRequest, UpdateTenantRequest
		t.Fatalf("%d request bodies with grant_types, want 3", found)
	}
}
