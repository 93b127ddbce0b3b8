package e2e

import (
	"net/http"
	"testing"

	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestSAMLIdPOptions checks the application's choices as crewjam/saml's
// SP sees them: an encrypted assertion it decrypts with its key; only the
// response signed, or only the assertion; persistent NameIDs that stay the
// same for a user at one application and differ at another; the SP's
// request for an email NameID honoured by an application of persistent
// ones.
func TestSAMLIdPOptions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		b := e.browser()
		one, two := startSP(t, b, f), startSP(t, b, f)
		signIn := func(sp *spServer, nameIDFormat saml.NameIDFormat) map[string]any {
			t.Helper()
			sp.sp.AuthnNameIDFormat = nameIDFormat
			start, _ := sp.redirectRequest(t, "rs", nil)
			action, fields, _ := toACS(t, b, f, b.get(start))
			return sp.deliver(t, b, action, fields)
		}
		a := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "One", "metadata_xml": one.metadata,
			"encrypt_assertions": true, "name_id_source": "persistent"})
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Two", "metadata_xml": two.metadata,
			"name_id_source": "persistent", "sign_response": false})

		first := signIn(one, saml.PersistentNameIDFormat)
		if first["format"] != string(saml.PersistentNameIDFormat) || first["name_id"] == f.email || first["name_id"] == f.userID {
			t.Fatalf("encrypted, persistent: %v", first)
		}
		if again := signIn(one, saml.PersistentNameIDFormat); again["name_id"] != first["name_id"] {
			t.Fatalf("persistent NameID changed: %v then %v", first["name_id"], again["name_id"])
		}
		if other := signIn(two, saml.PersistentNameIDFormat); other["name_id"] == first["name_id"] {
			t.Fatalf("two applications got the same persistent NameID %v", other["name_id"])
		}
		// The SP asks for an email NameID: it gets one.
		if got := signIn(two, saml.EmailAddressNameIDFormat); got["name_id"] != f.email || got["format"] != string(saml.EmailAddressNameIDFormat) {
			t.Fatalf("email NameID asked for: %v", got)
		}
		// Only the response signed.
		op.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/saml-apps/"+a["id"].(string), map[string]any{"encrypt_assertions": false,
			"sign_assertion": false, "sign_response": true})
		signIn(one, saml.PersistentNameIDFormat)
	})
}
