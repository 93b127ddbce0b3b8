package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConnections adds connections with the CLI, on every database: a
// social one whose secret comes from standard input and is never printed,
// SAML ones from a metadata file and URL; and the failures, each one line
// on stderr with a non-zero exit.
func TestConnections(t *testing.T) {
	idp := samltest.NewIdP(t)
	dir := t.TempDir()
	metadata, bad := filepath.Join(dir, "idp.xml"), filepath.Join(dir, "bad.xml")
	if err := os.WriteFile(metadata, idp.Metadata(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("<html>not metadata</html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	op := discoveryServer(t)
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		env := map[string]string{
			"GATEHOUSE_DATABASE_URL": db.URL(t),
			"GATEHOUSE_DATA_DIR":     t.TempDir(),
			"GATEHOUSE_MASTER_KEY":   secret.NewMasterKey(),
			// The IdP and the OpenID provider run on loopback: the operator
			// allows them.
			"GATEHOUSE_UPSTREAM_ALLOW_HOSTS": strings.TrimPrefix(idp.URL, "http://") + "," + strings.TrimPrefix(op.URL, "http://"),
		}
		run := func(stdin string, args ...string) result {
			var out, errOut bytes.Buffer
			code := cli.Main(context.Background(), cli.Env{
				Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
				Getenv: func(k string) string { return env[k] },
			})
			return result{code, out.String(), errOut.String()}
		}
		ok := func(stdin string, args ...string) (map[string]any, string) {
			t.Helper()
			r := run(stdin, args...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			return r.json(t), r.stdout
		}
		ok("", "tenant", "create", "acme", "--name", "Acme Inc")
		issuer := "http://acme.localhost:8080"

		if list, _ := ok("", "connection", "list", "--tenant", "acme"); len(list["connections"].([]any)) != 0 {
			t.Fatalf("connections of a new tenant: %v", list)
		}

		// Google: the secret is read from standard input, never printed.
		googleSecret := "GOCSPX-" + secret.Token(20)
		g, out := ok(googleSecret+"\n", "connection", "create", "--tenant", "acme", "--type", "google",
			"--client-id", "1234.apps.googleusercontent.com", "--client-secret-stdin", "--domain", "acme.test", "--domain", "EU.acme.test")
		id, _ := g["id"].(string)
		if id == "" || g["callback_url"] != issuer+"/federation/"+id+"/callback" || g["name"] != "Google" || g["has_client_secret"] != true ||
			g["enabled"] != true || strings.Join(strs(g["domains"]), ",") != "acme.test,eu.acme.test" {
			t.Fatalf("google connection: %s", out)
		}
		if strings.Contains(out, googleSecret) || strings.Contains(out, `"client_secret"`) {
			t.Fatalf("the secret is printed: %s", out)
		}

		// OpenID Connect: the issuer's discovery document is fetched
		// (through the upstream client) before the connection is saved.
		o, out := ok("partner-secret\n", "connection", "create", "--tenant", "acme", "--type", "oidc", "--name", "Partner",
			"--issuer", op.URL, "--client-id", "acme", "--client-secret-stdin", "--domain", "partner.test")
		if o["callback_url"] != issuer+"/federation/"+o["id"].(string)+"/callback" || o["issuer"] != op.URL || strings.Contains(out, "partner-secret") {
			t.Fatalf("oidc connection: %s", out)
		}

		// SAML from a metadata file: our service provider for the IdP's admin.
		s, out := ok("", "connection", "create", "--tenant", "acme", "--type", "saml", "--name", "corp", "--metadata-file", metadata, "--domain", "corp.test")
		sid, _ := s["id"].(string)
		base := issuer + "/federation/" + sid
		if sid == "" || s["entity_id"] != base+"/saml" || s["acs_url"] != base+"/saml/acs" || s["metadata_url"] != base+"/saml/metadata" ||
			s["allow_idp_initiated"] != nil || strings.Join(strs(s["domains"]), ",") != "corp.test" {
			t.Fatalf("saml connection: %s", out)
		}
		if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "CERTIFICATE") {
			t.Fatalf("key material printed: %s", out)
		}
		// SAML from a metadata URL.
		u, out := ok("", "connection", "create", "--tenant", "acme", "--type", "saml", "--name", "corp by url", "--metadata-url", idp.URL+"/metadata")
		if u["idp_metadata_url"] != idp.URL+"/metadata" || u["entity_id"] != issuer+"/federation/"+u["id"].(string)+"/saml" {
			t.Fatalf("saml connection by URL: %s", out)
		}

		list, out := ok("", "connection", "list", "--tenant", "acme")
		var names []string
		for _, c := range list["connections"].([]any) {
			names = append(names, c.(map[string]any)["name"].(string))
		}
		if strings.Join(names, ",") != "Google,Partner,corp,corp by url" || strings.Contains(out, googleSecret) {
			t.Fatalf("list: %s", out)
		}

		for _, tc := range []struct {
			name  string
			stdin string
			args  []string
			want  string
		}{
			{"unknown type", "x\n", []string{"connection", "create", "--tenant", "acme", "--type", "ldap", "--client-id", "x", "--client-secret-stdin"}, "unknown connection type"},
			{"secret on the command line", "", []string{"connection", "create", "--tenant", "acme", "--type", "github", "--client-id", "x"}, "--client-secret-stdin is required"},
			{"empty secret", "\n", []string{"connection", "create", "--tenant", "acme", "--type", "github", "--client-id", "x", "--client-secret-stdin"}, "client_secret"},
			{"no client id", "x\n", []string{"connection", "create", "--tenant", "acme", "--type", "github", "--client-secret-stdin"}, "client_id"},
			{"bad domain", "x\n", []string{"connection", "create", "--tenant", "acme", "--type", "github", "--client-id", "x", "--client-secret-stdin", "--domain", "not a domain"}, "not a domain name"},
			{"unknown tenant", "x\n", []string{"connection", "create", "--tenant", "nope", "--type", "github", "--client-id", "x", "--client-secret-stdin"}, `tenant "nope": not found`},
			{"no tenant", "", []string{"connection", "list"}, "--tenant is required"},
			{"list of an unknown tenant", "", []string{"connection", "list", "--tenant", "nope"}, `tenant "nope": not found`},
			{"bad metadata", "", []string{"connection", "create", "--tenant", "acme", "--type", "saml", "--name", "bad", "--metadata-file", bad}, "metadata"},
			{"missing metadata file", "", []string{"connection", "create", "--tenant", "acme", "--type", "saml", "--name", "bad", "--metadata-file", filepath.Join(dir, "nope.xml")}, "--metadata-file"},
			{"no metadata", "", []string{"connection", "create", "--tenant", "acme", "--type", "saml", "--name", "bad"}, "metadata"},
			{"a loopback metadata URL not allowed", "", []string{"connection", "create", "--tenant", "acme", "--type", "saml", "--name", "bad", "--metadata-url", "http://127.0.0.1:1/md"}, "names an address the server does not connect to"},
			{"unreachable metadata URL", "", []string{"connection", "create", "--tenant", "acme", "--type", "saml", "--name", "bad", "--metadata-url", idp.URL + "/no-such-metadata"}, "could not fetch metadata"},
			{"name taken", "", []string{"connection", "create", "--tenant", "acme", "--type", "saml", "--name", "corp", "--metadata-file", metadata}, "another connection is named"},
			{"oidc issuer that does not answer", "x\n", []string{"connection", "create", "--tenant", "acme", "--type", "oidc", "--name", "p3", "--issuer", op.URL + "/nowhere", "--client-id", "x", "--client-secret-stdin"},
				"issuer: could not fetch the issuer's discovery document"},
			{"oidc issuer answering for another issuer", "x\n", []string{"connection", "create", "--tenant", "acme", "--type", "oidc", "--name", "p4", "--issuer", op.URL + "/other", "--client-id", "x", "--client-secret-stdin"},
				"issuer: could not fetch the issuer's discovery document"},
			{"oidc issuer not https", "x\n", []string{"connection", "create", "--tenant", "acme", "--type", "oidc", "--name", "p2", "--issuer", "http://idp.test", "--client-id", "x", "--client-secret-stdin"}, "issuer"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := run(tc.stdin, tc.args...)
				if r.code == 0 {
					t.Fatalf("exit 0, stdout %s", r.stdout)
				}
				if r.stdout != "" {
					t.Fatalf("a failed command printed on stdout: %s", r.stdout)
				}
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
					t.Fatalf("stderr %q, want one line containing %q", r.stderr, tc.want)
				}
			})
		}
		if list, _ := ok("", "connection", "list", "--tenant", "acme"); len(list["connections"].([]any)) != 4 {
			t.Fatalf("failed commands added connections: %v", list)
		}
	})
}

// discoveryServer is an OpenID provider's discovery document, on
// loopback: at / for its own URL; at /other for an issuer that is not
// the URL it was fetched from.
func discoveryServer(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := srv.URL
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
		case "/other/.well-known/openid-configuration":
			iss = "https://elsewhere.example"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": iss + "/authorize",
			"token_endpoint": iss + "/token", "jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
