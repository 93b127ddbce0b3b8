package cli_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

type result struct {
	code           int
	stdout, stderr string
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	return v
}

// TestQuickstart runs the README's quickstart commands and their failure
// cases through the real CLI, on every database.
func TestQuickstart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		env := map[string]string{
			"GATEHOUSE_DATABASE_URL": db.URL(t),
			"GATEHOUSE_DATA_DIR":     t.TempDir(),
			"GATEHOUSE_MASTER_KEY":   secret.NewMasterKey(),
		}
		run := func(stdin string, args ...string) result {
			var out, errOut bytes.Buffer
			code := cli.Main(context.Background(), cli.Env{
				Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
				Getenv: func(k string) string { return env[k] },
			})
			return result{code, out.String(), errOut.String()}
		}
		ok := func(stdin string, args ...string) map[string]any {
			t.Helper()
			r := run(stdin, args...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			return r.json(t)
		}

		tn := ok("", "tenant", "create", "acme", "--name", "Acme Inc")
		if tn["slug"] != "acme" || tn["issuer"] != "http://acme.localhost:8080" {
			t.Fatalf("tenant: %v", tn)
		}
		api := ok("", "api", "create", "--tenant", "acme", "--audience", "https://api.acme.test", "--scope", "read:orders", "--scope", "write:orders=Change your orders")
		if len(api["scopes"].([]any)) != 2 {
			t.Fatalf("api: %v", api)
		}
		web := ok("", "client", "create", "--tenant", "acme", "--name", "web", "--redirect-uri", "http://127.0.0.1:9000/cb",
			"--post-logout-redirect-uri", "http://127.0.0.1:9000/bye", "--grant-type", "authorization_code", "--grant-type", "refresh_token")
		if web["client_id"] == "" || len(web["client_secret"].(string)) < 43 || web["token_endpoint_auth_method"] != "client_secret_basic" {
			t.Fatalf("web client: %v", web)
		}
		spa := ok("", "client", "create", "--tenant", "acme", "--name", "spa", "--public", "--redirect-uri", "http://127.0.0.1:9000/cb")
		if _, has := spa["client_secret"]; has || spa["token_endpoint_auth_method"] != "none" {
			t.Fatalf("public client: %v", spa)
		}
		worker := ok("", "client", "create", "--tenant", "acme", "--name", "worker", "--grant-type", "client_credentials", "--audience", "https://api.acme.test", "--scope", "read:orders")
		grants := worker["api_grants"].([]any)
		if len(grants) != 1 || grants[0].(map[string]any)["audience"] != "https://api.acme.test" {
			t.Fatalf("worker grants: %v", worker)
		}
		user := ok("correct horse battery staple\n", "user", "create", "--tenant", "acme", "--email", "ann@acme.test", "--password-stdin")
		if user["email"] != "ann@acme.test" || user["id"] == "" {
			t.Fatalf("user: %v", user)
		}
		// The rotated key is published first; it signs once cached JWKS
		// know it, or at once with --now.
		key := ok("", "key", "rotate", "--tenant", "acme")
		if key["status"] != "next" || key["alg"] != "RS256" || key["activates_at"] == key["created_at"] {
			t.Fatalf("key: %v", key)
		}
		keys := ok("", "key", "list", "--tenant", "acme")
		if len(keys["keys"].([]any)) != 2 {
			t.Fatalf("after a rotation both keys are listed: %v", keys)
		}
		if key := ok("", "key", "rotate", "--tenant", "acme", "--now"); key["status"] != "active" {
			t.Fatalf("key rotate --now: %v", key)
		}
		if key := ok("", "key", "rotate", "--tenant", "acme", "--alg", "ES256"); key["status"] != "active" || key["alg"] != "ES256" {
			t.Fatalf("the first ES256 key signs at once: %v", key)
		}
		if v := ok("", "key", "schedule", "--tenant", "acme", "--every", "2160h"); v["rotation_period"] != float64(2160*3600) {
			t.Fatalf("key schedule: %v", v)
		}
		if a := ok("", "api", "create", "--tenant", "acme", "--audience", "https://ed.acme.test", "--signing-alg", "EdDSA"); a["signing_alg"] != "EdDSA" {
			t.Fatalf("api create --signing-alg: %v", a)
		}
		if a := ok("", "api", "create", "--tenant", "acme", "--audience", "https://rs.acme.test"); a["signing_alg"] != "RS256" {
			t.Fatalf("api create without --signing-alg: %v", a)
		}
		if c := ok("", "client", "create", "--tenant", "acme", "--name", "ps", "--grant-type", "client_credentials", "--id-token-signed-response-alg", "PS256"); c["id_token_signed_response_alg"] != "PS256" {
			t.Fatalf("client create --id-token-signed-response-alg: %v", c)
		}
		algs := map[string]bool{}
		for _, k := range ok("", "key", "list", "--tenant", "acme")["keys"].([]any) {
			if k := k.(map[string]any); k["status"] == "active" {
				algs[k["alg"].(string)] = true
			}
		}
		if len(algs) != 4 {
			t.Fatalf("active keys of %v, want RS256, ES256, EdDSA and PS256", algs)
		}
		if list := ok("", "client", "list", "--tenant", "acme"); len(list["clients"].([]any)) != 4 {
			t.Fatalf("clients: %v", list)
		}
		if _, has := ok("", "client", "list", "--tenant", "acme")["clients"].([]any)[0].(map[string]any)["client_secret"]; has {
			t.Fatal("a listed client shows its secret")
		}
		if c := ok("", "client", "create", "--tenant", "acme", "--name", "post", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "client_secret_post"); c["token_endpoint_auth_method"] != "client_secret_post" {
			t.Fatalf("client create --token-endpoint-auth-method: %v", c)
		}
		if c := ok("", "client", "create", "--tenant", "acme", "--name", "basic", "--grant-type", "client_credentials"); c["token_endpoint_auth_method"] != "client_secret_basic" {
			t.Fatalf("a confidential client's default method: %v", c)
		}
		if c := ok("", "client", "create", "--tenant", "acme", "--name", "spa-tabs", "--public", "--redirect-uri", "https://spa.acme.test/cb",
			"--dpop-bound-access-tokens", "--refresh-token-grace-period", "15"); c["dpop_bound_access_tokens"] != true || c["refresh_token_grace_period"] != float64(15) {
			t.Fatalf("client create --dpop-bound-access-tokens --refresh-token-grace-period: %v", c)
		}

		if tv := ok("", "tenant", "update", "acme", "--client-registration", "open"); tv["client_registration"] != "open" || tv["require_pushed_authorization_requests"] != false {
			t.Fatalf("tenant update --client-registration: %v", tv)
		}
		if tv := ok("", "tenant", "update", "acme", "--require-pushed-authorization-requests=true"); tv["client_registration"] != "open" || tv["require_pushed_authorization_requests"] != true {
			t.Fatalf("tenant update keeps what it is not told: %v", tv)
		}
		if c := ok("", "client", "create", "--tenant", "acme", "--name", "rp", "--redirect-uri", "https://rp.acme.test/cb",
			"--backchannel-logout-uri", "https://rp.acme.test/logout", "--backchannel-logout-session-required"); c["backchannel_logout_uri"] != "https://rp.acme.test/logout" || c["backchannel_logout_session_required"] != true {
			t.Fatalf("client create --backchannel-logout-uri: %v", c)
		}

		op := ok("correct horse battery staple\n", "admin", "create", "--email", "ops@example.test", "--password-stdin")
		if op["role"] != "operator" || op["login_url"] != "http://localhost:8080/admin" {
			t.Fatalf("admin create: %v", op)
		}
		ta := ok("correct horse battery staple\n", "admin", "create", "--email", "acme-admin@example.test", "--tenant", "acme", "--password-stdin")
		if ta["role"] != "tenant_admin" || ta["tenants"].([]any)[0] != "acme" {
			t.Fatalf("tenant admin: %v", ta)
		}
		ci := ok("", "admin", "client", "create", "--name", "ci", "--scope", "tenants:read", "--scope", "tenants:write")
		if ci["client_secret"] == "" || ci["token_endpoint"] != "http://admin.localhost:8080/oauth/token" || ci["audience"] != "http://localhost:8080/api/v1" {
			t.Fatalf("admin client: %v", ci)
		}
		if tl := ok("", "tenant", "list"); len(tl["tenants"].([]any)) != 1 {
			t.Fatalf("the system tenant must not be listed: %v", tl)
		}

		for _, tc := range []struct {
			name  string
			stdin string
			args  []string
			want  string
		}{
			{"duplicate admin", "correct horse battery staple\n", []string{"admin", "create", "--email", "ops@example.test", "--password-stdin"}, "already exists"},
			{"admin of unknown tenant", "correct horse battery staple\n", []string{"admin", "create", "--email", "x@example.test", "--tenant", "nope", "--password-stdin"}, `tenant "nope": not found`},
			{"admin of the system tenant", "correct horse battery staple\n", []string{"admin", "create", "--email", "y@example.test", "--tenant", "admin", "--password-stdin"}, "not found"},
			{"admin client without scope", "", []string{"admin", "client", "create", "--name", "x"}, "at least one scope"},
			{"admin client unknown scope", "", []string{"admin", "client", "create", "--name", "x", "--scope", "root"}, "unknown scope"},
			{"tenant named like the system tenant", "", []string{"tenant", "create", "admin"}, "reserved"},
			{"unknown tenant", "", []string{"client", "create", "--tenant", "nope", "--name", "x", "--redirect-uri", "https://x.test/cb"}, `tenant "nope": not found`},
			{"duplicate slug", "", []string{"tenant", "create", "acme"}, "already exists"},
			{"bad slug", "", []string{"tenant", "create", "Not_A_Slug"}, "not a valid slug"},
			{"unknown registration mode", "", []string{"tenant", "update", "acme", "--client-registration", "sometimes"}, "off, token or open"},
			{"update an unknown tenant", "", []string{"tenant", "update", "nope", "--client-registration", "open"}, "not found"},
			{"loopback logout URI", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--redirect-uri", "https://x.test/cb", "--backchannel-logout-uri", "http://127.0.0.1:9/x"}, "backchannel_logout_uri"},
			{"reserved slug", "", []string{"tenant", "create", "admin"}, "reserved"},
			{"duplicate email", "correct horse battery staple\n", []string{"user", "create", "--tenant", "acme", "--email", "ANN@acme.test", "--password-stdin"}, "already exists"},
			{"short password", "short\n", []string{"user", "create", "--tenant", "acme", "--email", "bob@acme.test", "--password-stdin"}, "at least 12"},
			{"password on the command line", "", []string{"user", "create", "--tenant", "acme", "--email", "bob@acme.test"}, "--password-stdin is required"},
			{"bad email", "correct horse battery staple\n", []string{"user", "create", "--tenant", "acme", "--email", "not-an-email", "--password-stdin"}, "not an email address"},
			{"http redirect URI", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--redirect-uri", "http://evil.test/cb"}, "must use https"},
			{"wildcard redirect URI", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--redirect-uri", "https://*.evil.test/cb"}, "wildcards"},
			{"fragment", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--redirect-uri", "https://app.test/cb#x"}, "fragments"},
			{"implicit grant", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--redirect-uri", "https://app.test/cb", "--grant-type", "implicit"}, "not supported"},
			{"public client credentials", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--public", "--grant-type", "client_credentials"}, "public client"},
			{"unknown API", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--audience", "https://nope.test"}, "no API"},
			{"scope of no API", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--audience", "https://api.acme.test", "--scope", "delete:everything"}, "not a scope"},
			{"duplicate audience", "", []string{"api", "create", "--tenant", "acme", "--audience", "https://api.acme.test"}, "already exists"},
			{"HS256 access tokens", "", []string{"api", "create", "--tenant", "acme", "--audience", "https://hs.acme.test", "--signing-alg", "HS256"}, "signing_alg: unsupported signing algorithm"},
			{"alg none ID tokens", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--id-token-signed-response-alg", "none"}, "id_token_signed_response_alg: unsupported signing algorithm"},
			{"public client with a secret method", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--public", "--redirect-uri", "https://app.test/cb", "--token-endpoint-auth-method", "client_secret_basic"}, "token_endpoint_auth_method: a public client"},
			{"confidential client with none", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "none"}, "token_endpoint_auth_method: a confidential client"},
			{"unsupported auth method", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "tls_client_auth"}, "token_endpoint_auth_method: unknown method"},
			{"public client_secret_jwt", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--public", "--redirect-uri", "https://app.test/cb", "--token-endpoint-auth-method", "client_secret_jwt"}, "token_endpoint_auth_method: a public client"},
			{"private_key_jwt without keys", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "private_key_jwt"}, "jwks: private_key_jwt needs"},
			{"private_key_jwt with a bad key file", "{}", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "private_key_jwt", "--jwks-file", "-"}, "jwks: holds no key"},
			{"missing key file", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "private_key_jwt", "--jwks-file", "/nonexistent/jwks.json"}, "--jwks-file"},
			{"jwks_uri on loopback", "", []string{"client", "create", "--tenant", "acme", "--name", "x", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", "https://127.0.0.1/jwks"}, "jwks_uri: names an address"},
			{"lower-case alg", "", []string{"key", "rotate", "--tenant", "acme", "--alg", "es256"}, "unsupported signing algorithm"},
			{"rotation every hour", "", []string{"key", "schedule", "--tenant", "acme", "--every", "1h"}, "rotation_period"},
			{"schedule without period", "", []string{"key", "schedule", "--tenant", "acme"}, "--every"},
			{"relative audience", "", []string{"api", "create", "--tenant", "acme", "--audience", "orders"}, "absolute URI"},
			{"OIDC scope on an API", "", []string{"api", "create", "--tenant", "acme", "--audience", "https://b.test", "--scope", "openid"}, "OpenID Connect scope"},
			{"unknown command", "", []string{"tenant", "explode"}, "unknown command"},
			{"unknown flag", "", []string{"tenant", "create", "x", "--colour", "red"}, `unknown flag "--colour"`},
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
		t.Run("private_key_jwt client from a key file", func(t *testing.T) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1"}}})
			r := run(string(set), "client", "create", "--tenant", "acme", "--name", "signer", "--grant-type", "client_credentials",
				"--token-endpoint-auth-method", "private_key_jwt", "--jwks-file", "-")
			var c map[string]any
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &c) != nil {
				t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
			}
			if c["token_endpoint_auth_method"] != "private_key_jwt" || c["client_secret"] != nil || c["jwks"] == nil {
				t.Fatalf("client %v", c)
			}
		})
	})
}

func TestProductionRefusesWithoutMasterKey(t *testing.T) {
	var out, errOut bytes.Buffer
	env := map[string]string{"GATEHOUSE_BASE_URL": "https://id.example.com", "GATEHOUSE_DATA_DIR": t.TempDir()}
	code := cli.Main(context.Background(), cli.Env{Args: []string{"serve"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] }})
	if code == 0 || !strings.Contains(errOut.String(), "GATEHOUSE_MASTER_KEY is required in production") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestRefusesAnotherDeploymentsDatabase(t *testing.T) {
	dbURL := storetest.SQLiteURL(t)
	key := secret.NewMasterKey()
	run := func(env map[string]string, args ...string) result {
		env["GATEHOUSE_DATABASE_URL"], env["GATEHOUSE_DATA_DIR"] = dbURL, t.TempDir()
		var out, errOut bytes.Buffer
		code := cli.Main(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string { return env[k] }})
		return result{code, out.String(), errOut.String()}
	}
	if r := run(map[string]string{"GATEHOUSE_MASTER_KEY": key}, "tenant", "create", "acme"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_BASE_URL": "http://localhost:9090"}, "tenant", "create", "beta")
	if r.code == 0 || !strings.Contains(r.stderr, "GATEHOUSE_BASE_URL=http://localhost:8080") {
		t.Fatalf("another base URL: exit %d %q", r.code, r.stderr)
	}
	r = run(map[string]string{"GATEHOUSE_MASTER_KEY": secret.NewMasterKey()}, "tenant", "create", "beta")
	if r.code == 0 || !strings.Contains(r.stderr, "master key is not the one") {
		t.Fatalf("another master key: exit %d %q", r.code, r.stderr)
	}
	if r := run(map[string]string{"GATEHOUSE_MASTER_KEY": key}, "tenant", "list"); r.code != 0 || strings.Contains(r.stdout, "beta") {
		t.Fatalf("a refused command changed the database: %s %s", r.stdout, r.stderr)
	}
}
