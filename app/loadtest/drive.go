package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

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
	firstErr  error
}

func (r *result) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, len(r.latencies)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// drive runs op on workers goroutines for d (each at least once) and
// returns how many finished, how long each took and how many failed. A
// failed operation counts in the latencies too: it was answered.
func drive(ctx context.Context, workers int, d time.Duration, op func(ctx context.Context, worker int) error) *result {
	var mu sync.Mutex
	res := &result{}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("role", "loadgen"), func(ctx context.Context) {
				var local []time.Duration
				errs := 0
				var first error
				for {
					t0 := time.Now()
					if err := op(ctx, w); err != nil {
						errs++
						if first == nil {
							first = err
						}
					}
					local = append(local, time.Since(t0))
					if !time.Now().Before(deadline) || ctx.Err() != nil {
						break
					}
				}
				mu.Lock()
				res.latencies = append(res.latencies, local...)
				res.errors += errs
				if res.firstErr == nil {
					res.firstErr = first
				}
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.n = len(res.latencies) - res.errors
	slices.Sort(res.latencies)
	return res
}
