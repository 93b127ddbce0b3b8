// Command loadtest measures a Gatehouse node under load over real HTTP: it
// starts a node in-process (on a fresh embedded SQLite, or on the
// PostgreSQL named by -database-url), sets up a tenant, then drives each
// endpoint with concurrent keep-alive clients for a while and prints
// throughput and latency percentiles as a Markdown table.
//
//	go run ./app/loadtest -duration 10s -concurrency 8
//
// The load generator shares the machine with the server, so the figures are
// a lower bound of what the server alone would do.
//
// The floods (-endpoints login_flood, authorize_flood) measure what
// anonymous requests cost the node instead: they run the node as a separate
// process (this command with -serve), so that its memory is its own, and
// send each request from another client address through X-Forwarded-For,
// as a botnet would:
//
//	go run ./app/loadtest -endpoints login_flood -concurrency 48 -duration 10s
//	go run ./app/loadtest -endpoints authorize_flood -requests 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type target struct {
	name string
	req  func() (*http.Request, error)
}

func run() error {
	dbURL := flag.String("database-url", "", "database to run on (default: a fresh SQLite file in a temporary folder)")
	duration := flag.Duration("duration", 10*time.Second, "how long to drive each endpoint")
	concurrency := flag.Int("concurrency", 8, "concurrent clients")
	only := flag.String("endpoints", "", "comma-separated subset: client_credentials,discovery,jwks,userinfo,introspection; or one of the floods, which run the node as a separate process: "+strings.Join(floodNames(), ","))
	addresses := flag.Int("addresses", 0, "floods: client addresses the requests come from, through X-Forwarded-For (0: a new address for every request)")
	requests := flag.Int("requests", 1000, "authorize_flood: how many authorization requests to send")
	serve := flag.Bool("serve", false, "internal: run as the node process of a flood")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	if *dbURL == "" {
		u, remove, err := tempDatabase()
		if err != nil {
			return err
		}
		defer remove()
		*dbURL = u
	}
	if *serve {
		return serveNode(ctx, *dbURL)
	}
	if fl, ok := floods[*only]; ok {
		return fl(ctx, floodConfig{dbURL: *dbURL, concurrency: *concurrency, duration: *duration, addresses: *addresses, requests: *requests})
	}

	n, err := startNode(ctx, *dbURL, false)
	if err != nil {
		return err
	}
	defer n.close()
	store, tn, tctx, worker, web := n.store, n.tenant, n.tctx, n.worker, n.web
	client := client(n.addr, *concurrency)
	accessToken, err := userToken(tctx, store, client, tn, web, n.user.ID)
	if err != nil {
		return err
	}

	post := func(path, user, pass string, form url.Values) func() (*http.Request, error) {
		body := form.Encode()
		return func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodPost, n.issuer+path, strings.NewReader(body))
			if err != nil {
				return nil, err
			}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth(user, pass)
			return r, nil
		}
	}
	get := func(path, auth string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodGet, n.issuer+path, nil)
			if err == nil && auth != "" {
				r.Header.Set("Authorization", auth)
			}
			return r, err
		}
	}
	targets := []target{
		{"client_credentials", post("/oauth/token", worker.ClientID, worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})},
		{"discovery", get("/.well-known/openid-configuration", "")},
		{"jwks", get("/.well-known/jwks.json", "")},
		{"userinfo", get("/userinfo", "Bearer "+accessToken)},
		{"introspection", post("/oauth/introspect", web.ClientID, web.ClientSecret, url.Values{"token": {accessToken}})},
	}
	fmt.Printf("Gatehouse load test: %s, %d clients, %s per endpoint, GOMAXPROCS shared with the server\n\n", store.Dialect(), *concurrency, *duration)
	fmt.Println("| endpoint | requests | req/s | p50 | p90 | p99 | errors |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, tg := range targets {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), tg.name) {
			continue
		}
		r := drive(client, tg, *concurrency, *duration)
		fmt.Printf("| %s | %d | %.0f | %s | %s | %s | %d |\n", tg.name, r.n, float64(r.n)/r.elapsed.Seconds(),
			ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), r.errors)
	}
	return nil
}

// userToken gets an access token of the user the way a web app does,
// except that the login itself is recorded straight in the store.
func userToken(ctx context.Context, store *tenants.Store, client *http.Client, t *tenants.Tenant, web *admin.Client, userID string) (string, error) {
	verifier := secret.Token(32)
	challenge := s256(verifier)
	ar := &tenants.AuthRequest{ClientID: web.ClientID, RedirectURI: web.RedirectURIs[0], Scopes: tenants.Strings{"openid", "email"},
		CodeChallenge: challenge, CodeChallengeMethod: "S256", BrowserHash: "load", ExpiresAt: time.Now().Add(time.Hour)}
	if err := store.CreateAuthRequest(ctx, ar); err != nil {
		return "", err
	}
	if err := store.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: userID, Time: time.Now().Truncate(time.Second), AMR: []string{"pwd"}}); err != nil {
		return "", err
	}
	code := secret.Token(32)
	if err := store.IssueCode(ctx, ar.ID, secret.Hash(code), time.Now().Add(time.Minute)); err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ar.RedirectURI}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, t.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.ClientID, web.ClientSecret)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("code exchange: %d %s", resp.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := jsonUnmarshal(body, &tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

type result struct {
	n, errors int
	elapsed   time.Duration
	latencies []time.Duration
}

func (r *result) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, len(r.latencies)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func drive(client *http.Client, tg target, concurrency int, d time.Duration) *result {
	var mu sync.Mutex
	res := &result{}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			var local []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				req, err := tg.req()
				if err != nil {
					errs++
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					errs++
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, local...)
			res.errors += errs
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.n = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}
