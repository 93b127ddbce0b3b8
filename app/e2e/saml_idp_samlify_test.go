package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
)

// samlify runs the samlify service provider of testdata/saml-sp in Node.
type samlify struct {
	t                    *testing.T
	node, dir            string
	entityID, acs, idpMD string
}

func newSamlify(t *testing.T, entityID, acs string) *samlify {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("samlify check skipped: node not found (install Node.js 20+)")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "saml-sp"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "samlify")); err != nil {
		t.Skip("samlify check skipped: run `npm ci --prefix app/e2e/testdata/saml-sp` (.ci/run does)")
	}
	return &samlify{t: t, node: node, dir: dir, entityID: entityID, acs: acs, idpMD: filepath.Join(t.TempDir(), "idp.xml")}
}

func (s *samlify) run(stdin string, args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.node, append([]string{"sp.mjs"}, args...)...)
	cmd.Dir = s.dir
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", &nodeError{strings.TrimSpace(stderr.String())}
	}
	return string(out), nil
}

func (s *samlify) must(stdin string, args ...string) string {
	s.t.Helper()
	out, err := s.run(stdin, args...)
	if err != nil {
		s.t.Fatalf("sp.mjs %s: %v", args[0], err)
	}
	return out
}

// TestSAMLIdPWithSamlify signs in to samlify's service provider (Node)
// through Gatehouse: samlify's metadata registers the application, its
// HTTP-Redirect request signs the user in, and samlify accepts the answer —
// schema, signature with the IdP metadata's certificate, issuer, audience,
// validity window — for the request it made (InResponseTo), to its ACS
// (Destination). The answer of another tenant's IdP it refuses.
func TestSAMLIdPWithSamlify(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f, beta := e.fixture("acme"), e.fixture("beta")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		s := newSamlify(t, "https://samlify.example.com/metadata", "https://samlify.example.com/acs")
		md := s.must("", "metadata", s.entityID, s.acs)
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Samlify", "metadata_xml": md,
			"attributes": []any{map[string]any{"name": "email", "source": "email"}}})
		b := e.browser()
		idp := b.get(f.issuer + "/saml/idp/metadata")
		if err := os.WriteFile(s.idpMD, []byte(idp.body), 0o600); err != nil {
			t.Fatal(err)
		}
		var req struct{ ID, URL string }
		if err := json.Unmarshal([]byte(s.must("", "request", s.entityID, s.acs, s.idpMD)), &req); err != nil {
			t.Fatal(err)
		}
		action, fields, logins := toACS(t, b, f, b.get(req.URL))
		if action != s.acs || logins != 1 {
			t.Fatalf("posts to %s after %d logins", action, logins)
		}
		body, _ := json.Marshal(map[string]string{"SAMLResponse": fields.Get("SAMLResponse"), "RelayState": fields.Get("RelayState")})
		var got map[string]any
		if err := json.Unmarshal([]byte(s.must(string(body), "verify", s.entityID, s.acs, s.idpMD)), &got); err != nil {
			t.Fatal(err)
		}
		if got["nameID"] != f.email || got["issuer"] != f.issuer+"/saml/idp/metadata" || got["audience"] != s.entityID ||
			got["inResponseTo"] != req.ID || got["destination"] != s.acs {
			t.Fatalf("samlify accepted %v", got)
		}
		if attrs, _ := got["attributes"].(map[string]any); attrs["email"] != f.email {
			t.Fatalf("attributes %v", got["attributes"])
		}

		// Beta's IdP, with the same SP registered, answers: samlify, which
		// trusts acme's IdP, refuses it.
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/saml-apps", map[string]any{"name": "Samlify", "metadata_xml": md})
		betaMD := filepath.Join(t.TempDir(), "beta.xml")
		if err := os.WriteFile(betaMD, []byte(b.get(beta.issuer+"/saml/idp/metadata").body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s.must("", "request", s.entityID, s.acs, betaMD)), &req); err != nil {
			t.Fatal(err)
		}
		_, fields, _ = toACS(t, b, beta, b.get(req.URL))
		body, _ = json.Marshal(map[string]string{"SAMLResponse": fields.Get("SAMLResponse")})
		if out, err := s.run(string(body), "verify", s.entityID, s.acs, s.idpMD); err == nil {
			t.Fatalf("samlify accepted beta's answer: %s", out)
		}
	})
}
