package e2e

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
)

// testSP is a crewjam/saml service provider of a test, with its metadata.
type testSP struct {
	sp       *saml.ServiceProvider
	signer   *samltest.Signer
	metadata string
}

// newTestSP describes an SP whose ACS is acs; its metadata names its
// signing and encryption certificate.
func newTestSP(t *testing.T, entityID, acs string) *testSP {
	t.Helper()
	s := samltest.NewSigner(t, "test sp")
	acsURL, _ := url.Parse(acs)
	metaURL, _ := url.Parse(entityID)
	sp := &saml.ServiceProvider{EntityID: entityID, Key: s.Key, Certificate: s.Cert, AcsURL: *acsURL, MetadataURL: *metaURL,
		AuthnNameIDFormat: saml.EmailAddressNameIDFormat, SignatureMethod: dsig.RSASHA256SignatureMethod}
	raw, err := xml.MarshalIndent(sp.Metadata(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return &testSP{sp: sp, signer: s, metadata: string(raw)}
}

// TestSAMLAppsAPI creates SAML applications through the management API,
// from an SP's metadata and from fields, and refuses what no SP could use.
func TestSAMLAppsAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/acme/saml-apps"
		sp := newTestSP(t, "https://expenses.example.com/saml/metadata", "https://expenses.example.com/saml/acs")
		a := op.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})
		if a["entity_id"] != sp.sp.EntityID || a["metadata_url"] != f.issuer+"/saml/idp/metadata" || a["sso_url"] != f.issuer+"/saml/idp/sso" ||
			a["name_id_format"] != string(saml.EmailAddressNameIDFormat) || a["name_id_source"] != "email" || a["access"] != "everyone" ||
			a["sign_response"] != true || a["sign_assertion"] != true || a["enabled"] != true {
			t.Fatalf("created %v", a)
		}
		acs := a["acs"].([]any)
		if len(acs) != 1 || acs[0].(map[string]any)["url"] != "https://expenses.example.com/saml/acs" {
			t.Fatalf("acs %v", acs)
		}
		certs := a["signing_certificates"].([]any)
		if len(certs) != 1 || certs[0] != base64.StdEncoding.EncodeToString(sp.signer.Cert.Raw) || a["encryption_certificate"] == "" ||
			a["require_signed_requests"] != true {
			t.Fatalf("certificates %v / %v", certs, a["encryption_certificate"])
		}
		id := a["id"].(string)
		if got := op.must(t, http.StatusOK, http.MethodGet, base+"/"+id, nil); got["name"] != "Expenses" {
			t.Fatalf("get %v", got)
		}
		if items := op.items(t, base); len(items) != 1 {
			t.Fatalf("list %v", items)
		}
		// The same SP twice in a tenant is refused.
		status, hdr, body := op.do(t, http.MethodPost, base, map[string]any{"name": "Again", "metadata_xml": sp.metadata})
		wantProblem(t, "same entity ID", status, hdr, body, http.StatusBadRequest, "entity_id")

		// By hand, with a role as access.
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "finance"})
		b := op.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"name": "Ledger", "entity_id": "urn:ledger",
			"acs":            []any{map[string]any{"url": "http://127.0.0.1:7000/acs"}, map[string]any{"url": "https://ledger.example.com/acs", "index": 5}},
			"name_id_source": "persistent", "access": "roles", "access_roles": []any{"finance"},
			"attributes": []any{map[string]any{"name": "mail", "source": "email"}, map[string]any{"name": "memberOf", "source": "groups"}}})
		if b["name_id_format"] != string(saml.PersistentNameIDFormat) || len(b["access_roles"].([]any)) != 1 || len(b["acs"].([]any)) != 2 {
			t.Fatalf("by hand %v", b)
		}
		p := op.must(t, http.StatusOK, http.MethodPatch, base+"/"+b["id"].(string), map[string]any{"access": "everyone", "sign_response": false})
		if p["access"] != "everyone" || p["sign_response"] != false || p["sign_assertion"] != true || p["name"] != "Ledger" {
			t.Fatalf("patched %v", p)
		}

		bad := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"no name", map[string]any{"entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}}}, "name"},
			{"no entity", map[string]any{"name": "X", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}}}, "entity_id"},
			{"no acs", map[string]any{"name": "X", "entity_id": "urn:x"}, "acs"},
			{"http acs", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "http://x.example.com/acs"}}}, "acs"},
			{"javascript acs", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "javascript:alert(1)"}}}, "acs"},
			{"redirect binding", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs",
				"binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"}}}, "acs"},
			{"unknown source", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}},
				"attributes": []any{map[string]any{"name": "pw", "source": "password_hash"}}}, "attributes"},
			{"signed without cert", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}},
				"require_signed_requests": true}, "require_signed_requests"},
			{"nothing signed", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}},
				"sign_response": false, "sign_assertion": false}, "sign_assertion"},
			{"other tenant's role", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}},
				"access": "roles", "access_roles": []any{"nobody"}}, "access_roles"},
			{"garbage metadata", map[string]any{"name": "X", "metadata_xml": "<html>no</html>"}, "metadata"},
			{"bad certificate", map[string]any{"name": "X", "entity_id": "urn:x", "acs": []any{map[string]any{"url": "https://x.example.com/acs"}},
				"signing_certificates": []any{"bm90IGEgY2VydA=="}}, "signing_certificates"},
		}
		for _, c := range bad {
			status, hdr, body := op.do(t, http.MethodPost, base, c.body)
			wantProblem(t, c.name, status, hdr, body, http.StatusBadRequest, c.field)
		}
		if items := op.items(t, base); len(items) != 2 {
			t.Fatalf("after refusals: %d apps, want 2", len(items))
		}
		op.must(t, http.StatusNoContent, http.MethodDelete, base+"/"+id, nil)
		status, hdr, body = op.do(t, http.MethodGet, base+"/"+id, nil)
		wantProblem(t, "deleted", status, hdr, body, http.StatusNotFound, "")
	})
}

// TestSAMLAppCLI creates a SAML application from an SP's metadata file, as
// the README shows, and prints the IdP metadata URL to give the SP.
func TestSAMLAppCLI(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		sp := newTestSP(t, "https://hr.example.com/saml", "https://hr.example.com/saml/acs")
		file := filepath.Join(t.TempDir(), "sp.xml")
		if err := os.WriteFile(file, []byte(sp.metadata), 0o600); err != nil {
			t.Fatal(err)
		}
		a := e.cliOK(t, "", "saml-app", "create", "--tenant", "acme", "--name", "HR", "--metadata-file", file)
		if a["metadata_url"] != f.issuer+"/saml/idp/metadata" || a["entity_id"] != sp.sp.EntityID || a["name"] != "HR" {
			t.Fatalf("saml-app create printed %v", a)
		}
		list := e.cliOK(t, "", "saml-app", "list", "--tenant", "acme")
		if apps := list["saml_apps"].([]any); len(apps) != 1 {
			t.Fatalf("saml-app list printed %v", list)
		}
		if r := e.cli(t, "", "saml-app", "create", "--tenant", "acme", "--name", "HR again", "--metadata-file", file); r.code == 0 {
			t.Fatalf("the same SP twice: exit 0: %s", r.stdout)
		}
		e.cliOK(t, "", "saml-app", "delete", "--tenant", "acme", "--id", a["id"].(string))
	})
}
