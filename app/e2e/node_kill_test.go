package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// killFlow is one browser's code flow (authorize, password, consent, code
// exchange) through a balancer that sends every connection to the node
// that target names, written for goroutines: it returns errors rather
// than failing the test.
type killFlow struct {
	f      *fixture
	client *http.Client
}

func newKillFlow(f *fixture, target *atomic.Value) *killFlow {
	d := &net.Dialer{Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &killFlow{f: f, client: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, target.Load().(string))
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var consentOrLogin = regexp.MustCompile(`action="/(login|consent)"`)

// do sends req, and sends it again after a 503 with Retry-After (a busy
// node's password-hashing bound, or a node that is draining), as a person
// pressing the button again would: a few times, after the wait asked for
// (at most a second here).
func (k *killFlow) do(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var body []byte
		if req.GetBody != nil {
			rc, _ := req.GetBody()
			body, _ = io.ReadAll(rc)
		}
		resp, err := k.client.Do(req)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || attempt == 5 {
			return resp, err
		}
		resp.Body.Close()
		time.Sleep(time.Second)
		next := req.Clone(req.Context())
		if body != nil {
			next.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		req = next
	}
}

// run signs in (or uses the browser's session) and exchanges the code; it
// returns the code it redeemed.
func (k *killFlow) run(base string) (string, error) {
	verifier, challenge := pkce()
	authURL := k.f.authorizeURL(k.f.web.ClientID, url.Values{"scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	authURL = strings.Replace(authURL, k.f.issuer, base, 1)
	req, _ := http.NewRequest(http.MethodGet, authURL, nil)
	var code string
	for step := 0; step < 8 && code == ""; step++ {
		resp, err := k.do(req)
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		switch {
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther:
			if strings.HasPrefix(loc, redirectURI) {
				u, _ := url.Parse(loc)
				if code = u.Query().Get("code"); code == "" {
					return "", fmt.Errorf("callback without a code: %s", loc)
				}
				break
			}
			req, _ = http.NewRequest(http.MethodGet, resolve(base, loc), nil)
		case resp.StatusCode == http.StatusOK && consentOrLogin.Match(body):
			page := string(body)
			id, csrf := idField.FindStringSubmatch(page), csrfField.FindStringSubmatch(page)
			if id == nil || csrf == nil {
				return "", errors.New("form without id or csrf_token")
			}
			form := url.Values{"id": {id[1]}, "csrf_token": {csrf[1]}}
			action := "/consent"
			if strings.Contains(page, `action="/login"`) {
				action = "/login"
				form.Set("email", k.f.email)
				form.Set("password", k.f.password)
			} else {
				form.Set("action", "allow")
			}
			req, _ = http.NewRequest(http.MethodPost, base+action, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			return "", fmt.Errorf("unexpected answer %d at %s", resp.StatusCode, req.URL.Path)
		}
	}
	if code == "" {
		return "", errors.New("no code after 8 steps")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	treq, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.SetBasicAuth(k.f.web.ClientID, k.f.web.ClientSecret)
	resp, err := k.do(treq)
	if err != nil {
		return code, err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.IDToken == "" {
		return code, fmt.Errorf("exchange: %d %s %v", resp.StatusCode, tok.Error, err)
	}
	return code, nil
}

// TestNodeKilledMidFlow: two nodes on one PostgreSQL database behind a
// balancer; browsers run code flows on node A, which is killed (SIGKILL)
// under that load. The balancer then sends everything to node B: every
// flow that was under way on A completes on B — from where it was, or,
// when A died holding the step's answer, by starting again with the
// session it had — and no code is redeemed twice.
func TestNodeKilledMidFlow(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	e := newEnv(t, dbURL)
	f := e.fixture("acme")
	a := spawnNode(t, e)
	b := spawnNode(t, e)
	base := f.issuer // the balancer's address, which both nodes serve
	var target atomic.Value
	target.Store(a.addr)

	const browsers = 6
	var (
		killed   atomic.Bool
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		mu       sync.Mutex
		redeemed = map[string]int{}
		onA      [browsers]int // flows each browser completed before the kill
		onB      [browsers]int // flows each browser started and completed after it
		across   int           // flows under way when A died, completed on B
	)
	for i := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := newKillFlow(f, &target)
			for {
				select {
				case <-stop:
					return
				default:
				}
				startedOnA := !killed.Load()
				code, err := k.run(base)
				retried := false
				if err != nil && startedOnA {
					// A died under this flow: the browser tries again
					// (on B now), with whatever session it has.
					for attempt := 0; err != nil && attempt < 3 && killed.Load(); attempt++ {
						code, err = k.run(base)
						retried = true
					}
				}
				mu.Lock()
				if err != nil {
					mu.Unlock()
					t.Errorf("flow (started on A: %v, retried: %v) failed: %v", startedOnA, retried, err)
					return
				}
				redeemed[code]++
				switch {
				case !startedOnA:
					onB[i]++
				case killed.Load():
					across++
				default:
					onA[i]++
				}
				mu.Unlock()
			}
		}()
	}
	// No sleeps: the machine may be slow. Kill A once every browser has
	// completed a flow on it (each is then in the middle of its next),
	// and stop once every browser has completed one started on B.
	every := func(n *[browsers]int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range n {
				if c == 0 {
					return false
				}
			}
			return true
		}
	}
	eventually(t, 2*time.Minute, "every browser completes a flow on A", every(&onA))
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed.Store(true)
	target.Store(b.addr)
	a.exited <- <-a.exited // the node's cleanup waits for it too
	eventually(t, 2*time.Minute, "every browser completes a flow on B", every(&onB))
	close(stop)
	wg.Wait()

	if across == 0 {
		t.Error("no flow was under way when A was killed: the test proved nothing")
	}
	for code, n := range redeemed {
		if n > 1 {
			t.Errorf("code %s… redeemed %d times", code[:8], n)
		}
	}
	// The database agrees: every redeemed code issued one family.
	var dup int64
	sqlDB, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.QueryRow(`SELECT COUNT(*) FROM (SELECT grant_id FROM auth_requests WHERE grant_id IS NOT NULL GROUP BY grant_id HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d families issued from more than one code", dup)
	}
	t.Logf("flows completed on A %v, under way when it was killed %d, on B %v", onA, across, onB)
}
