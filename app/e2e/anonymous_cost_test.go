package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// answer is what a concurrent request got.
type answer struct {
	status     int
	retryAfter string
	ctype      string
	body       string
	err        error
}

func answerOf(resp *http.Response, err error) answer {
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), ctype: resp.Header.Get("Content-Type"), body: string(b)}
}

// busyHasher hashes one password at a time (4 MiB, a few milliseconds
// each) and waits a millisecond for its turn: a handful of concurrent
// logins is more than its bound.
func busyHasher() *password.Hasher {
	return password.New(password.Params{Memory: 4 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16},
		password.Bound{Memory: 4 * 1024, Wait: time.Millisecond})
}

// TestLoginBeyondHashingBound: finding 6 of the security review. 48
// concurrent anonymous logins against a node that may hash one password at
// a time: those that do not get their turn within the wait are answered
// 503 with Retry-After (an HTML page), never 500 and never as a wrong
// password; the others as wrong passwords. Afterwards the bound is whole
// again: the right password signs in. On the management API, the same
// refusal is a problem document.
func TestLoginBeyondHashingBound(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		// Each login of the burst comes from an address of its own, so
		// that no address reaches its throttle (20 failures) and the
		// right password afterwards is answered by a hash, not by the
		// spraying address's brake.
		e := newEnv(t, db.URL(t), withHasher(busyHasher()), withTrustedProxies("127.0.0.1/32"))
		f := e.fixture("acme")
		const n = 48
		type form struct {
			b        *browser
			id, csrf string
		}
		forms := make([]form, n)
		for i := range forms {
			b := e.browser()
			p := f.loginPage(b)
			forms[i] = form{b, field(t, idField, p.body), field(t, csrfField, p.body)}
		}
		answers := make([]answer, n)
		var wg sync.WaitGroup
		for i, fm := range forms {
			wg.Go(func() {
				body := url.Values{"id": {fm.id}, "csrf_token": {fm.csrf}, "email": {fmt.Sprintf("nobody%d@acme.test", i)}, "password": {"not the password"}}
				req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(body.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				answers[i] = answerOf(fm.b.client.Do(req))
			})
		}
		wg.Wait()
		busy, wrong := 0, 0
		for i, a := range answers {
			switch {
			case a.err != nil:
				t.Fatalf("login %d: %v", i, a.err)
			case a.status == http.StatusServiceUnavailable:
				busy++
				if a.retryAfter != strconv.Itoa(int(password.RetryAfter.Seconds())) {
					t.Errorf("503 with Retry-After %q, want %v", a.retryAfter, password.RetryAfter)
				}
				if !strings.HasPrefix(a.ctype, "text/html") || strings.Contains(a.body, "Incorrect email or password") {
					t.Errorf("503 answer: %s, want an error page that is not a wrong password's\n%s", a.ctype, a.body)
				}
			case a.status == http.StatusUnauthorized && strings.Contains(a.body, "Incorrect email or password"):
				wrong++
			default:
				t.Errorf("login %d: %d, want 401 (checked) or 503 (busy)\n%s", i, a.status, a.body)
			}
		}
		if busy == 0 || wrong == 0 {
			t.Fatalf("%d busy, %d wrong of %d concurrent logins with room for one hash at a time: want both", busy, wrong, n)
		}
		t.Logf("%d concurrent logins: %d answered 503, %d checked", n, busy, wrong)
		// Nothing leaked: a login on its own gets its turn.
		try := f.loginForm(t)
		if p := try(f.email, f.password); p.status != http.StatusSeeOther {
			t.Fatalf("the right password after the burst: %d\n%s", p.status, p.body)
		}

		// Creating users through the management API hashes their
		// passwords too: beyond the bound, a problem document.
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		apiAnswers := make([]answer, 16)
		for i := range apiAnswers {
			wg.Go(func() {
				raw, _ := json.Marshal(map[string]any{"email": fmt.Sprintf("api%d@acme.test", i), "password": testPassword})
				req, _ := http.NewRequest(http.MethodPost, e.base+admin.APIPath+"/tenants/acme/users", bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.token)
				apiAnswers[i] = answerOf(e.httpClient(false).Do(req))
			})
		}
		wg.Wait()
		busy = 0
		for i, a := range apiAnswers {
			switch {
			case a.err != nil:
				t.Fatalf("API create %d: %v", i, a.err)
			case a.status == http.StatusServiceUnavailable:
				busy++
				if a.retryAfter == "" || a.ctype != "application/problem+json" || !strings.Contains(a.body, `"status":503`) {
					t.Errorf("API 503: Retry-After %q, %s %s", a.retryAfter, a.ctype, a.body)
				}
			case a.status != http.StatusCreated:
				t.Errorf("API create %d: %d %s", i, a.status, a.body)
			}
		}
		if busy == 0 {
			t.Log("no API request was refused: the 16 did not overlap enough this time")
		}
	})
}

// TestThrottledLoginComputesNoHash: a throttled attempt costs the node no
// password hash, and its answer (status and page) is exactly a wrong
// password's.
func TestThrottledLoginComputesNoHash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		h := testHasher()
		e := newEnv(t, db.URL(t), withHasher(h))
		f := e.fixture("acme")
		try := f.loginForm(t)
		var wrong *page
		for i := 1; i <= 6; i++ { // five are free; the sixth locks the account
			before := h.Computed()
			wrong = try(f.email, fmt.Sprintf("wrong password %d", i))
			if wrong.status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", i, wrong.status)
			}
			if got := h.Computed() - before; got != 1 {
				t.Fatalf("wrong password %d cost %d hashes, want 1", i, got)
			}
		}
		for _, pw := range []string{f.password, "wrong password 7"} {
			before := h.Computed()
			p := try(f.email, pw)
			if got := h.Computed() - before; got != 0 {
				t.Errorf("a throttled attempt cost %d hashes, want none", got)
			}
			if p.status != wrong.status || p.body != wrong.body || len(p.header.Values("Set-Cookie")) != 0 {
				t.Errorf("a throttled attempt's answer (%d) differs from a wrong password's (%d)", p.status, wrong.status)
			}
		}
		if evs := f.audit("login.throttled"); len(evs) != 2 {
			t.Errorf("%d login.throttled events, want 2", len(evs))
		}
	})
}

// rateEnv is a node limiting costly anonymous requests to burst per
// minute per client address.
func rateEnv(t *testing.T, db storetest.Database, burst int, opts ...nodeOption) (*env, *fixture) {
	e := newEnv(t, db.URL(t), append(opts, withAnonymousRate(config.Rate{Requests: burst, Per: time.Minute}))...)
	return e, e.fixture("acme")
}

// authorizeFrom sends an authorization request as if from the client
// address xff (through X-Forwarded-For; "" sends none).
func (f *fixture) authorizeFrom(t *testing.T, xff string) *page {
	t.Helper()
	_, challenge := pkce()
	req, _ := http.NewRequest(http.MethodGet, f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}), nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return f.e.browser().do(req)
}

func (f *fixture) authRequests(t *testing.T) int {
	t.Helper()
	db, err := f.e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM auth_requests").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAnonymousRateLimit: a client address gets a burst of costly
// anonymous requests (authorize, sign-in, sign-up, reset...), then 429
// with Retry-After, before anything is stored or hashed; the pages that
// cost nothing, and the protocol endpoints, still answer. Without trusted
// proxies, X-Forwarded-For cannot make a client look like many.
func TestAnonymousRateLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e, f := rateEnv(t, db, 6)
		try := f.loginForm(t) // one authorization request
		for i := range 2 {
			if p := try(f.email, fmt.Sprintf("wrong %d", i)); p.status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d within the burst: %d", i, p.status)
			}
		}
		b := e.browser()
		if p := b.post(f.issuer+"/reset", url.Values{"email": {f.email}}); p.status == http.StatusTooManyRequests {
			t.Fatal("reset within the burst refused")
		}
		if p := b.post(f.issuer+"/signup", url.Values{"email": {"new@acme.test"}}); p.status == http.StatusTooManyRequests {
			t.Fatal("sign-up within the burst refused")
		}
		if p := f.authorizeFrom(t, "203.0.113.1"); p.status != http.StatusFound {
			t.Fatalf("the sixth request: %d", p.status)
		}
		rows := f.authRequests(t)
		for _, xff := range []string{"", "203.0.113.2", "2001:db8::7"} {
			p := f.authorizeFrom(t, xff)
			if p.status != http.StatusTooManyRequests {
				t.Fatalf("authorize over the burst (X-Forwarded-For %q from an untrusted peer): %d", xff, p.status)
			}
			if ra, err := strconv.Atoi(p.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
				t.Errorf("429 with Retry-After %q, want seconds until the next token", p.header.Get("Retry-After"))
			}
			if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
				t.Errorf("429 page: %s", p.header.Get("Content-Type"))
			}
		}
		if got := f.authRequests(t); got != rows {
			t.Errorf("refused authorization requests stored %d rows", got-rows)
		}
		before := f.audit("login.failed")
		if p := try(f.email, f.password); p.status != http.StatusTooManyRequests {
			t.Errorf("login over the burst: %d", p.status)
		}
		if after := f.audit("login.failed"); len(after) != len(before) {
			t.Error("a refused login was checked")
		}
		// What costs nothing is not limited.
		if p := b.get(f.issuer + "/.well-known/openid-configuration"); p.status != http.StatusOK {
			t.Errorf("discovery: %d", p.status)
		}
		if p := b.get(f.issuer + "/reset"); p.status != http.StatusOK {
			t.Errorf("the reset form: %d", p.status)
		}
	})
}

// TestAnonymousRateLimitByPrefix: behind a trusted proxy, the client
// address is X-Forwarded-For's, and IPv6 clients are counted by /64: an
// attacker rotating addresses inside its /64 shares one budget, the next
// /64 (and every IPv4 address) has its own.
func TestAnonymousRateLimitByPrefix(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		_, f := rateEnv(t, db, 3, withTrustedProxies("127.0.0.0/8"))
		for i := range 3 {
			if p := f.authorizeFrom(t, fmt.Sprintf("2001:db8:1:2::%x", i+1)); p.status != http.StatusFound {
				t.Fatalf("address %d of the /64 within the burst: %d", i+1, p.status)
			}
		}
		if p := f.authorizeFrom(t, "2001:db8:1:2:ffff:ffff:ffff:ffff"); p.status != http.StatusTooManyRequests {
			t.Fatalf("another address of the same /64: %d, want 429", p.status)
		}
		if p := f.authorizeFrom(t, "2001:db8:1:3::1"); p.status != http.StatusFound {
			t.Fatalf("the next /64: %d", p.status)
		}
		for i := range 3 {
			if p := f.authorizeFrom(t, fmt.Sprintf("192.0.2.%d", 10+i)); p.status != http.StatusFound {
				t.Fatalf("IPv4 address %d: %d", i, p.status)
			}
		}
	})
}
