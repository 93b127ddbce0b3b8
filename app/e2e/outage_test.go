package e2e

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// loadAnswer is what one request of a load test got.
type loadAnswer struct {
	start, end time.Time
	status     int
	retryAfter string
	code       string
	token      string
	requestID  string
	err        error
}

// ccLoad runs workers that each ask for client-credentials tokens until
// stop closes, and returns every loadAnswer.
func ccLoad(f *fixture, client *http.Client, workers int, stop <-chan struct{}) func() []loadAnswer {
	var mu sync.Mutex
	var all []loadAnswer
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := loadAnswer{start: time.Now()}
				req, _ := http.NewRequest(http.MethodPost, f.issuer+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
				resp, err := client.Do(req)
				if err != nil {
					a.err = err
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					a.status, a.retryAfter, a.requestID = resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("X-Request-ID")
					out := map[string]any{}
					_ = jsonUnmarshal(body, &out)
					a.code, _ = out["error"].(string)
					a.token, _ = out["access_token"].(string)
				}
				a.end = time.Now()
				mu.Lock()
				all = append(all, a)
				mu.Unlock()
			}
		}()
	}
	return func() []loadAnswer { wg.Wait(); return all }
}

// TestDatabaseOutage cuts the database under client-credentials load for
// 2 s: every failed request is a 503 with Retry-After and
// temporarily_unavailable (a page for people, a problem document for the
// management API), never a 500; readiness is red during the cut; traffic
// recovers within 2 s of the database's return without a restart; and no
// token was issued twice or audited twice.
func TestDatabaseOutage(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("PostgreSQL tests skipped: set " + storetest.EnvPostgres)
	}
	proxy, dbURL := storetest.NewDBProxy(t, storetest.PostgresURL(t))
	e := newEnv(t, dbURL)
	f := e.fixture("acme")
	op := e.managementClient(t, "", admin.ScopeTenantsRead)
	code, verifier := f.authCode(e.browser(), f.web.ClientID, "openid")
	status, body := f.exchange(code, verifier)
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	userToken := mustToken(t, body, "access_token")

	client := e.httpClient(false)
	stop := make(chan struct{})
	wait := ccLoad(f, client, 4, stop)
	time.Sleep(time.Second)

	proxy.Cut()
	cutAt := time.Now()
	time.Sleep(200 * time.Millisecond)
	// Every kind of endpoint, during the cut.
	wantUnavailable := func(what string, req *http.Request, contentType string) {
		t.Helper()
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" && what != "readyz" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), contentType) {
			t.Errorf("%s during the cut: %d Retry-After=%q %s %s, want 503 with Retry-After, %s",
				what, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), b, contentType)
			return
		}
		switch contentType {
		case "application/json":
			if what == "readyz" {
				if !strings.Contains(string(b), `"failed":"database"`) {
					t.Errorf("readyz during the cut: %s, want failed=database", b)
				}
			} else if !strings.Contains(string(b), `"error":"temporarily_unavailable"`) {
				t.Errorf("%s during the cut: %s, want temporarily_unavailable", what, b)
			}
		case "application/problem+json":
			if !strings.Contains(string(b), `"status":503`) || !strings.Contains(string(b), `"code":"temporarily_unavailable"`) {
				t.Errorf("%s during the cut: %s, want a 503 problem", what, b)
			}
		case "text/html":
			if !strings.Contains(string(b), "try again") {
				t.Errorf("%s during the cut: a page without 'try again': %s", what, b)
			}
		}
	}
	form := func(path, user, pass string, v url.Values) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		return req
	}
	wantUnavailable("introspection", form("/oauth/introspect", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {userToken}}), "application/json")
	wantUnavailable("revocation", form("/oauth/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {userToken}}), "application/json")
	ui, _ := http.NewRequest(http.MethodGet, f.issuer+"/userinfo", nil)
	ui.Header.Set("Authorization", "Bearer "+userToken)
	wantUnavailable("userinfo", ui, "application/json")
	mg, _ := http.NewRequest(http.MethodGet, e.base+admin.APIPath+"/tenants", nil)
	mg.Header.Set("Authorization", "Bearer "+op.token)
	wantUnavailable("management API", mg, "application/problem+json")
	page, _ := http.NewRequest(http.MethodGet, f.issuer+"/authorize?"+url.Values{"client_id": {f.web.ClientID}, "response_type": {"code"},
		"redirect_uri": {redirectURI}, "scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode(), nil)
	page.Header.Set("Accept", "text/html")
	wantUnavailable("a page", page, "text/html")
	ready, _ := http.NewRequest(http.MethodGet, e.base+"/readyz", nil)
	wantUnavailable("readyz", ready, "application/json")
	disc, _ := http.NewRequest(http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
	if resp, err := client.Do(disc); err != nil || resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("discovery during the cut: %v %v, want 200 (from the cache) or 503", resp, err)
	} else {
		resp.Body.Close()
	}

	time.Sleep(2*time.Second - time.Since(cutAt))
	proxy.Restore()
	restoredAt := time.Now()
	time.Sleep(3 * time.Second)
	close(stop)
	answers := wait()

	var ok, unavailable, lastFailure int
	var lastFailedAt time.Time
	tokens := map[string]bool{}
	okIDs := map[string]bool{}
	for _, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("a request failed: %v", a.err)
		case a.status == http.StatusOK:
			ok++
			if tokens[a.token] {
				t.Errorf("token issued twice")
			}
			tokens[a.token] = true
			okIDs[a.requestID] = true
		case a.status == http.StatusServiceUnavailable && a.code == "temporarily_unavailable" && a.retryAfter != "":
			unavailable++
			if a.start.Before(cutAt.Add(-time.Second)) {
				t.Errorf("a 503 before the cut (started %v before it)", cutAt.Sub(a.start))
			}
			if a.start.After(lastFailedAt) {
				lastFailedAt = a.start
			}
			lastFailure++
		default:
			t.Errorf("an loadAnswer %d %q Retry-After=%q, want 200 or 503 temporarily_unavailable with Retry-After", a.status, a.code, a.retryAfter)
			if a.start.After(lastFailedAt) {
				lastFailedAt = a.start
			}
		}
	}
	t.Logf("%d answers: %d tokens, %d refused with 503; last refusal started %v after the database returned",
		len(answers), ok, unavailable, lastFailedAt.Sub(restoredAt).Round(time.Millisecond))
	if unavailable == 0 {
		t.Errorf("no request was refused during the cut: did the cut happen?")
	}
	if d := lastFailedAt.Sub(restoredAt); d > 2*time.Second {
		t.Errorf("a request started %v after the database returned failed, want recovery within 2s", d)
	}
	var after int
	for _, a := range answers {
		if a.start.After(restoredAt.Add(2*time.Second)) && a.status == http.StatusOK {
			after++
		}
	}
	if after == 0 {
		t.Errorf("no token issued 2 s after the database returned")
	}

	// Every token handed out was audited exactly once; nothing was audited
	// twice.
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT request_id FROM audit_events WHERE action = 'token.issued' AND client_id = $1", f.worker.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		audited[id]++
	}
	rows.Close()
	for id, n := range audited {
		if n > 1 {
			t.Errorf("request %s audited %d times", id, n)
		}
	}
	for id := range okIDs {
		if audited[id] != 1 {
			t.Errorf("a token's request %s audited %d times, want once", id, audited[id])
		}
	}
}
