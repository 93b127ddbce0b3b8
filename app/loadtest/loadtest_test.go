package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// databases are the databases the smoke runs use: a fresh SQLite always,
// and PostgreSQL with GATEHOUSE_TEST_DATABASE_URL.
func databases(t *testing.T) map[string]string {
	t.Helper()
	u, remove, err := tempDatabase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	dbs := map[string]string{"sqlite": u}
	if pg := os.Getenv("GATEHOUSE_TEST_DATABASE_URL"); pg != "" {
		dbs["postgres"] = pg
	}
	return dbs
}

// smoke is a short run: every scenario must finish some work without an
// error.
func smoke(t *testing.T, cfg runConfig, want []string) string {
	t.Helper()
	var out strings.Builder
	rows, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Scenario)
		if r.N == 0 || r.Errors != 0 || r.Rate <= 0 {
			t.Errorf("%s: %d done, %d errors (first: %v)", r.Scenario, r.N, r.Errors, r.FirstErr)
		}
		if (cfg.target == "" || cfg.targetPID > 0) && r.CPURate <= 0 {
			t.Errorf("%s: no rate per CPU-second", r.Scenario)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("scenarios %v, want %v", got, want)
	}
	return out.String()
}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

func TestEveryScenario(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			prof := filepath.Join(t.TempDir(), "cpu")
			out := smoke(t, runConfig{dbURL: db, duration: 150 * time.Millisecond, concurrency: 2, browsers: 2, tenants: 3,
				limits: true, limitsDuration: 30 * time.Millisecond, cpuProfile: prof, idle: 50 * time.Millisecond},
				[]string{"client_credentials", "client_credentials", "discovery", "discovery", "jwks", "jwks", "userinfo", "introspection", "login", "sso"})
			for _, sc := range append(allScenarios, "client_credentials-3tenants", "discovery-3tenants", "jwks-3tenants") {
				if st, err := os.Stat(prof + "." + sc + ".pprof"); err != nil || st.Size() == 0 {
					t.Errorf("profile of %s: %v", sc, err)
				}
			}
			for _, want := range []string{"| RSA-2048", "| ECDSA P-256", "| argon2id hashes (m=19456 KiB, t=2, p=1)",
				"3 tenants: creation", "idle for ", "with 3 tenants: ", "| client_credentials | 1 |", "| client_credentials | 3 |", "- jwks: over 3 tenants: ", "RSA-2048 signature a token", "1 argon2id hash a flow",
				"2 RSA-2048 signatures a flow", "login form in 0, consent page in 0 of"} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestKeepTenants runs twice over the same database with -keep-tenants: the
// first run creates the tenants, the second reuses them (no creation) and
// still reaches each one's discovery and JWKS.
func TestKeepTenants(t *testing.T) {
	u, remove, err := tempDatabase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	cfg := runConfig{dbURL: u, duration: 100 * time.Millisecond, concurrency: 2, browsers: 1, tenants: 3, keepTenants: true, scenarios: []string{"discovery", "jwks"}}
	want := []string{"discovery", "discovery", "jwks", "jwks"}
	if out := smoke(t, cfg, want); !strings.Contains(out, "3 tenants: creation") {
		t.Errorf("the first run created no tenants:\n%s", out)
	}
	if out := smoke(t, cfg, want); strings.Contains(out, "tenants: creation") {
		t.Errorf("the second run created tenants again:\n%s", out)
	}
}

// TestTarget drives a node as a foreign server: through its discovery
// document, its own login and consent pages and the client given on the
// command line, as the peers are driven.
func TestTarget(t *testing.T) {
	u, remove, err := tempDatabase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	n, err := startNode(context.Background(), u, true, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.close)
	cc := runConfig{duration: 100 * time.Millisecond, concurrency: 2, browsers: 1, tenants: 1, target: n.issuer, scenarios: []string{"client_credentials", "discovery", "jwks"},
		clientID: n.worker.ClientID, clientSecret: n.worker.ClientSecret, resource: n.api}
	cc.targetPID = os.Getpid() // here, the node's process is this one
	smoke(t, cc, []string{"client_credentials", "discovery", "jwks"})

	flows := runConfig{duration: 100 * time.Millisecond, concurrency: 1, browsers: 2, tenants: 1, target: n.issuer, scenarios: []string{"login", "sso"},
		clientID: n.web.ClientID, clientSecret: n.web.ClientSecret, redirectURI: n.web.RedirectURIs[0], scope: "openid email",
		username: "ann@load.test", password: "correct horse battery staple"}
	out := smoke(t, flows, []string{"login", "sso"})
	// ann consents once, in the first browser to get there.
	if !regexp.MustCompile(`login: before the clock, each browser signed in once: [^;]*; login form in 2, consent page in [12] of 2;`).MatchString(out) {
		t.Errorf("the first flow did not consent:\n%s", out)
	}

	// A wrong password is an error of every flow, not a hang.
	flows.password = "wrong"
	flows.scenarios = []string{"login"}
	if _, err := run(context.Background(), flows, io.Discard); err == nil || !errors.Is(err, errFlow) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := runConfig{duration: time.Second, concurrency: 1, browsers: 1, tenants: 1}
	target := ok
	target.target, target.clientID, target.redirectURI = "http://127.0.0.1:3000", "bench", "http://127.0.0.1:9000/cb"
	for _, tc := range []struct {
		name string
		edit func(*runConfig)
		base runConfig
	}{
		{"no tenants", func(c *runConfig) { c.tenants = 0 }, ok},
		{"kept tenants without tenants", func(c *runConfig) { c.keepTenants = true }, ok},
		{"kept tenants with client credentials", func(c *runConfig) { c.keepTenants, c.tenants = true, 3 }, ok},
		{"negative tenants", func(c *runConfig) { c.tenants = -5 }, ok},
		{"too many tenants", func(c *runConfig) { c.tenants = maxTenants + 1 }, ok},
		{"no clients", func(c *runConfig) { c.concurrency = 0 }, ok},
		{"a million browsers", func(c *runConfig) { c.browsers = 1 << 20 }, ok},
		{"no duration", func(c *runConfig) { c.duration = 0 }, ok},
		{"negative idle", func(c *runConfig) { c.idle = -time.Second }, ok},
		{"target: idle", func(c *runConfig) { c.idle = time.Second }, target},
		{"zero limits duration", func(c *runConfig) { c.limits, c.limitsDuration = true, 0 }, ok},
		{"unknown scenario", func(c *runConfig) { c.scenarios = []string{"client_credentials", "nope"} }, ok},
		{"client without target", func(c *runConfig) { c.clientID = "x" }, ok},
		{"target: not http", func(c *runConfig) { c.target = "ftp://127.0.0.1" }, target},
		{"target: credentials", func(c *runConfig) { c.target = "http://u:p@127.0.0.1" }, target},
		{"target: query", func(c *runConfig) { c.target = "http://127.0.0.1/?a=b" }, target},
		{"target: no host", func(c *runConfig) { c.target = "http:///x" }, target},
		{"target: huge", func(c *runConfig) { c.target = "http://127.0.0.1/" + strings.Repeat("a", 5000) }, target},
		{"target: control characters", func(c *runConfig) { c.target = "http://127.0.0.1/\x00" }, target},
		{"target: userinfo", func(c *runConfig) { c.scenarios = []string{"userinfo"} }, target},
		{"target: tenants", func(c *runConfig) { c.tenants = 2 }, target},
		{"target: no client", func(c *runConfig) { c.clientID = "" }, target},
		{"target: relative redirect", func(c *runConfig) { c.redirectURI = "/cb" }, target},
		{"target: no redirect", func(c *runConfig) { c.redirectURI = "" }, target},
		{"target: negative pid", func(c *runConfig) { c.targetPID = -1 }, target},
		{"target: no such process", func(c *runConfig) { c.targetPID = 1 << 30 }, target},
		{"pid without target", func(c *runConfig) { c.targetPID = os.Getpid() }, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.base
			tc.edit(&c)
			if err := c.validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	for _, c := range []runConfig{ok, target} {
		if err := c.validate(); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
	}
}

// TestHostileServer: a target that never gives a code, or gives a bad
// one, fails each flow quickly with a bounded read.
func TestHostileServer(t *testing.T) {
	var cb string
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?"+r.URL.RawQuery, http.StatusFound)
	})
	mux.HandleFunc("/forms", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<form method="post" action="/forms"><input type="hidden" name="x" value="1"><button>Continue</button></form>`)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		big := strings.Repeat("<form><input name='a' value='", 1<<16)
		for range 50 {
			_, _ = io.WriteString(w, big)
		}
	})
	mux.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cb+"?code=c&state=not-yours", http.StatusFound)
	})
	mux.HandleFunc("/denied", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cb+"?error=access_denied&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/lookalike", func(w http.ResponseWriter, r *http.Request) {
		// Not the redirect URI, only a prefix of it: followed, then a 404.
		http.Redirect(w, r, cb+"evil?code=c&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<form method=post action=/login><input name=login><input type=password name=password></form>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cb = srv.URL + "/cb"
	for _, tc := range []struct{ path, want string }{
		{"/loop", "no code after"},
		{"/forms", "no code after"},
		{"/huge", "no form"},
		{"/state", "another state"},
		{"/denied", "access_denied"},
		{"/lookalike", "HTTP 404"},
		{"/login", "asked to sign in"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rp := &relyingParty{authorize: srv.URL + tc.path, token: srv.URL + "/token", clientID: "c", redirectURI: cb, scope: "openid"}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			b := newBrowser(srv.Client().Transport)
			_, err := rp.flow(ctx, b, nil)
			if !errors.Is(err, errFlow) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseForms(t *testing.T) {
	forms := parseForms([]byte(`<html><form method="post" action="/consent" class="actions">
		<input type="hidden" name="id" value="a&amp;b"/><input type="hidden" name="csrf_token" value='t'/>
		<button type="submit" name="action" value="deny">Cancel</button><button type="submit" name="action" value="allow">Allow</button></form>`))
	f, kind := pickForm(forms)
	if f == nil || kind != consentForm || f.values.Get("action") != "allow" || f.values.Get("id") != "a&b" || f.values.Get("csrf_token") != "t" || f.method != http.MethodPost {
		t.Fatalf("consent form: %+v %d", f, kind)
	}
	// Only a button that says no: nothing to press.
	if f, _ := pickForm(parseForms([]byte(`<form method=post><button name=action value=deny>Cancel</button></form>`))); f != nil {
		t.Fatalf("pressed %+v", f)
	}
	for _, garbage := range []string{"", "<form", "<form><input", "<form action=\"x></form>", strings.Repeat("<form>", 10000), "<form><input name=a value=\"\x00\xff\"></form>"} {
		_ = parseForms([]byte(garbage)) // no panic, bounded
	}
}
