package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// hooksHost is the webhook receiver's name: the node's allow list names
// it (withHooksHost), the test's name service routes it to the receiver.
const hooksHost = "hooks.test"

// withHooksHost lets the node send to hooksHost, which resolves to
// loopback (GATEHOUSE_UPSTREAM_ALLOW_HOSTS).
func withHooksHost() nodeOption {
	return func(n *nodeSetup) { n.env["GATEHOUSE_UPSTREAM_ALLOW_HOSTS"] += "," + hooksHost }
}

// hookReceiver is a webhook receiver on loopback that checks every
// delivery's signature as the Standard Webhooks specification says, with
// its own implementation, against the secrets it is told.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server
	url string

	mu      sync.Mutex
	got     []receivedHook
	failing int // answer 500 to this many requests
}

type receivedHook struct {
	id, timestamp, signature string
	body                     []byte
	payload                  map[string]any
	status                   int
}

func newHookReceiver(t *testing.T, e *env) *hookReceiver {
	r := &hookReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		h := receivedHook{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
			signature: req.Header.Get("webhook-signature"), body: body, status: http.StatusNoContent}
		if err := json.Unmarshal(body, &h.payload); err != nil || req.Method != http.MethodPost ||
			req.Header.Get("Content-Type") != "application/json" {
			h.status = http.StatusBadRequest
		}
		r.mu.Lock()
		if r.failing > 0 {
			r.failing--
			h.status = http.StatusInternalServerError
		}
		r.got = append(r.got, h)
		r.mu.Unlock()
		w.WriteHeader(h.status)
		if h.status != http.StatusNoContent {
			_, _ = w.Write([]byte("a body Gatehouse must not keep"))
		}
	}))
	t.Cleanup(r.srv.Close)
	_, port, _ := net.SplitHostPort(r.srv.Listener.Addr().String())
	e.names.route(hooksHost, r.srv.Listener.Addr().String())
	r.url = "http://" + hooksHost + ":" + port + "/in"
	return r
}

// fail makes the receiver answer 500 to the next n requests.
func (r *hookReceiver) fail(n int) {
	r.mu.Lock()
	r.failing = n
	r.mu.Unlock()
}

func (r *hookReceiver) all() []receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedHook(nil), r.got...)
}

// of returns the requests for message id, in order.
func (r *hookReceiver) of(id string) []receivedHook {
	var out []receivedHook
	for _, h := range r.all() {
		if h.id == id {
			out = append(out, h)
		}
	}
	return out
}

// wait returns the first request after the first n whose type is typ.
func (r *hookReceiver) wait(n int, typ string) receivedHook {
	r.t.Helper()
	var found receivedHook
	eventually(r.t, 10*time.Second, "a delivery of "+typ, func() bool {
		for _, h := range r.all()[min(n, len(r.all())):] {
			if h.payload["type"] == typ {
				found = h
				return true
			}
		}
		return false
	})
	return found
}

// verifyHook checks a delivery's signature with whsec, written from the
// Standard Webhooks specification: the base64 HMAC-SHA256, keyed with the
// base64-decoded secret after whsec_, of "id.timestamp.body", among the
// space-separated "v1,<signature>" of the header; and a timestamp within
// five minutes.
func verifyHook(h receivedHook, whsec string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
	if err != nil || !strings.HasPrefix(whsec, "whsec_") {
		return false
	}
	ts, err := strconv.ParseInt(h.timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.id + "." + h.timestamp + "."))
	mac.Write(h.body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(h.signature) {
		if v, sig, ok := strings.Cut(s, ","); ok && v == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// TestWebhooksDeliverSignedEvents: an endpoint added through the API gets
// a signed user.signed_in delivery within seconds of a sign-in; a delivery
// answered with 500 arrives again; one redelivered by hand arrives again
// with its id; after a rotation deliveries carry the signatures of both
// secrets; a disabled endpoint gets nothing; the delivery log and the
// metrics say what happened.
func TestWebhooksDeliverSignedEvents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e := newEnv(t, db.URL(t), withHooksHost())
		f := e.fixture("acme")
		rcv := newHookReceiver(t, e)
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		base := "/tenants/acme/webhooks"

		status, hdr, w := c.do(t, http.MethodPost, base, map[string]any{"url": rcv.url, "events": []string{"user.signed_in"}})
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, w)
		}
		id, whsec := w["id"].(string), w["secret"].(string)
		if !strings.HasPrefix(whsec, "whsec_") || hdr.Get("Location") != admin.APIPath+base+"/"+id {
			t.Fatalf("create: secret %q, Location %q", whsec, hdr.Get("Location"))
		}
		if got := c.must(t, http.StatusOK, http.MethodGet, base+"/"+id, nil); got["secret"] != nil || got["url"] != rcv.url {
			t.Fatalf("get: %v", got)
		}
		if ws := c.items(t, base); len(ws) != 1 || ws[0]["secret"] != nil {
			t.Fatalf("list: %v", ws)
		}

		// A sign-in arrives within seconds, signed, in the contract's shape.
		start := time.Now()
		tok, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "offline_access"})
		h := rcv.wait(0, "user.signed_in")
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("delivered %s after the sign-in", took)
		}
		if !verifyHook(h, whsec) {
			t.Fatalf("signature %q does not verify", h.signature)
		}
		data, _ := h.payload["data"].(map[string]any)
		target, _ := data["target"].(map[string]any)
		if h.payload["id"] != h.id || h.payload["tenant"] != "acme" || target["id"] != f.userID || data["action"] != "login.succeeded" {
			t.Fatalf("payload %s", h.body)
		}
		if _, err := time.Parse(time.RFC3339Nano, h.payload["timestamp"].(string)); err != nil {
			t.Fatalf("timestamp %v", h.payload["timestamp"])
		}
		for _, leak := range []string{tok.AccessToken, tok.RefreshToken, f.password, f.email} {
			if strings.Contains(string(h.body), leak) {
				t.Fatalf("the payload holds a token, password or email: %s", h.body)
			}
		}
		for _, other := range rcv.all() {
			if other.payload["type"] != "user.signed_in" {
				t.Fatalf("an event the endpoint did not subscribe to: %s", other.body)
			}
		}

		// Answered with 500, it arrives again, and the log says both.
		rcv.fail(1)
		n := len(rcv.all())
		f.codeFlow(e.browser(), f.web, []string{"openid"})
		retried := rcv.wait(n, "user.signed_in")
		eventually(t, 10*time.Second, "the retry of a delivery answered 500", func() bool {
			hs := rcv.of(retried.id)
			return len(hs) == 2 && hs[0].status == http.StatusInternalServerError && hs[1].status == http.StatusNoContent
		})
		if !verifyHook(rcv.of(retried.id)[1], whsec) {
			t.Fatal("the retry does not verify")
		}
		ds := c.items(t, base+"/"+id+"/deliveries")
		if len(ds) != 2 || ds[0]["event_id"] != retried.id {
			t.Fatalf("deliveries %v", ds)
		}
		eventually(t, 5*time.Second, "the log of the retried delivery", func() bool {
			d := c.items(t, base+"/"+id+"/deliveries")[0]
			log := objects(t, d["log"])
			return d["status"] == tenants.DeliveryDelivered && d["attempts"] == float64(2) && len(log) == 2 &&
				log[0]["status_code"] == float64(500) && log[0]["error"] == "answered HTTP 500" && log[1]["status_code"] == float64(204)
		})
		if strings.Contains(fmtAny(c.items(t, base+"/"+id+"/deliveries")), "a body Gatehouse must not keep") {
			t.Fatal("the delivery log keeps an answer's body")
		}

		// Redelivered by hand, the first one arrives again with its id.
		first := ds[1]["id"].(string)
		c.must(t, http.StatusAccepted, http.MethodPost, base+"/"+id+"/deliveries/"+first+"/redeliver", nil)
		eventually(t, 10*time.Second, "the redelivery", func() bool { return len(rcv.of(h.id)) == 2 })
		if !verifyHook(rcv.of(h.id)[1], whsec) {
			t.Fatal("the redelivery does not verify")
		}
		c.must(t, http.StatusNotFound, http.MethodPost, base+"/"+id+"/deliveries/no-such-delivery/redeliver", nil)

		// Rotation: both secrets sign during the overlap.
		rot := c.must(t, http.StatusOK, http.MethodPost, base+"/"+id+"/rotate-secret", nil)
		newSecret, _ := rot["secret"].(string)
		if !strings.HasPrefix(newSecret, "whsec_") || newSecret == whsec || rot["previous_secret_expires_at"] == nil {
			t.Fatalf("rotate: %v", rot)
		}
		n = len(rcv.all())
		f.codeFlow(e.browser(), f.web, []string{"openid"})
		after := rcv.wait(n, "user.signed_in")
		if !verifyHook(after, newSecret) || !verifyHook(after, whsec) || len(strings.Fields(after.signature)) != 2 {
			t.Fatalf("after rotation: signatures %q verify with new %v, old %v", after.signature, verifyHook(after, newSecret), verifyHook(after, whsec))
		}
		if verifyHook(after, "whsec_"+base64.StdEncoding.EncodeToString([]byte(secret.Token(32)))) {
			t.Fatal("a made-up secret verifies")
		}

		// Disabled, the endpoint gets nothing.
		c.must(t, http.StatusOK, http.MethodPatch, base+"/"+id, map[string]any{"enabled": false})
		n = len(rcv.all())
		f.codeFlow(e.browser(), f.web, []string{"openid"})
		time.Sleep(time.Second)
		if got := rcv.all(); len(got) != n {
			t.Fatalf("a disabled endpoint got %s", got[n].body)
		}

		// The counter moved by outcome.
		rec := httptest.NewRecorder()
		e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for outcome, least := range map[string]float64{"delivered": 4, "retry": 1} {
			m := regexp.MustCompile(`gatehouse_webhook_deliveries_total\{outcome="` + outcome + `"\} ([0-9.e+]+)`).FindStringSubmatch(rec.Body.String())
			if m == nil {
				t.Fatalf("no %s deliveries counted", outcome)
			}
			if v, _ := strconv.ParseFloat(m[1], 64); v < least {
				t.Errorf("%s deliveries: %v, want at least %v", outcome, v, least)
			}
		}

		// The audit log has the endpoint's life.
		for _, action := range []string{tenants.ActionWebhookCreated, tenants.ActionWebhookSecretRotated, tenants.ActionWebhookUpdated} {
			if evs := c.items(t, "/tenants/acme/audit?action="+action); len(evs) != 1 {
				t.Errorf("audit %s: %v", action, evs)
			}
		}
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/"+id, nil)
		c.must(t, http.StatusNotFound, http.MethodDelete, base+"/"+id, nil)
		c.must(t, http.StatusNotFound, http.MethodGet, base+"/"+id+"/deliveries", nil)
	})
}

// TestWebhookURLsAndBodies: an endpoint's URL must be one the guarded
// client sends to — https, or http for a host of the allow list; never
// loopback or private otherwise, by address or by name — and bad bodies
// answer 400 (413 beyond the API's size), with nothing created.
func TestWebhookURLsAndBodies(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e := newEnv(t, db.URL(t), withHooksHost())
		e.fixture("acme")
		rcv := newHookReceiver(t, e)
		e.names.route("internal.test", "127.0.0.1")
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/acme/webhooks"
		_, port, _ := net.SplitHostPort(rcv.srv.Listener.Addr().String())
		badURLs := []string{
			"http://127.0.0.1:" + port + "/in", "https://127.0.0.1/in", "http://[::1]:" + port + "/", "https://10.0.0.1/in",
			"https://169.254.169.254/latest/meta-data", "http://localhost:" + port + "/", "https://acme.localhost/",
			"https://internal.test/in", "http://example.com/in", "https://user:pw@example.com/in", "ftp://example.com/in",
			"javascript:alert(1)", "", "   ", "https://example.com/" + strings.Repeat("a", 5000),
		}
		for _, u := range badURLs {
			status, hdr, body := c.do(t, http.MethodPost, base, map[string]any{"url": u, "events": []string{"*"}})
			wantProblem(t, "url "+tenants.Truncate(u, 60), status, hdr, body, http.StatusBadRequest, "url")
		}
		badBodies := []struct {
			name, body, field string
		}{
			{"no events", `{"url":"https://example.com/in"}`, "events"},
			{"empty events", `{"url":"https://example.com/in","events":[]}`, "events"},
			{"unknown event", `{"url":"https://example.com/in","events":["user.exploded"]}`, "events"},
			{"events not a list", `{"url":"https://example.com/in","events":"user.created"}`, "events"},
			{"too many events", `{"url":"https://example.com/in","events":[` + strings.Repeat(`"user.created",`, 100) + `"user.created"]}`, "events"},
			{"no url", `{"events":["*"]}`, "url"},
			{"url not a string", `{"url":42,"events":["*"]}`, "url"},
			{"NUL in url", `{"url":"https://example.com/\u0000","events":["*"]}`, "url"},
			{"unknown field", `{"url":"https://example.com/in","events":["*"],"secret":"whsec_mine"}`, "secret"},
			{"malformed", `{"url":"https://example.com/in",`, ""},
			{"not an object", `["https://example.com/in"]`, ""},
		}
		for _, b := range badBodies {
			status, hdr, raw := c.raw(t, http.MethodPost, base, "application/json", []byte(b.body))
			var body map[string]any
			_ = json.Unmarshal(raw, &body)
			wantProblem(t, b.name, status, hdr, body, http.StatusBadRequest, b.field)
		}
		huge := `{"url":"https://example.com/in","events":["*"],"x":"` + strings.Repeat("a", 70<<10) + `"}`
		if status, _, _ := c.raw(t, http.MethodPost, base, "application/json", []byte(huge)); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("a 70 KiB body: %d, want 413", status)
		}
		if ws := c.items(t, base); len(ws) != 0 {
			t.Fatalf("refused endpoints were created: %v", ws)
		}
		// The allow list lets the receiver's host use http on loopback;
		// https on a public name needs nothing.
		w := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"url": rcv.url, "events": []string{"*"}})
		c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"url": "https://hooks.example.com/in", "events": []string{"user.created", "user.created"}})
		id := w["id"].(string)
		status, hdr, body := c.do(t, http.MethodPatch, base+"/"+id, map[string]any{"url": "http://127.0.0.1:" + port + "/in"})
		wantProblem(t, "patch to loopback", status, hdr, body, http.StatusBadRequest, "url")
		if got := c.must(t, http.StatusOK, http.MethodGet, base+"/"+id, nil); got["url"] != rcv.url {
			t.Fatalf("a refused change changed the endpoint: %v", got)
		}
	})
}

// TestWebhooksOfAnotherTenant: beta's endpoints and deliveries, by id
// under acme's slug, answer 404 on every route and stay as they were.
func TestWebhooksOfAnotherTenant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		b := e.fixture("beta")
		hook, delivery := e.addWebhook(t, b)
		acme := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		beta := e.managementClient(t, "beta", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		before := beta.must(t, http.StatusOK, http.MethodGet, "/tenants/beta/webhooks/"+hook, nil)
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/tenants/acme/webhooks/" + hook, nil},
			{http.MethodPatch, "/tenants/acme/webhooks/" + hook, map[string]any{"url": "https://evil.example.com/"}},
			{http.MethodPost, "/tenants/acme/webhooks/" + hook + "/rotate-secret", nil},
			{http.MethodGet, "/tenants/acme/webhooks/" + hook + "/deliveries", nil},
			{http.MethodPost, "/tenants/acme/webhooks/" + hook + "/deliveries/" + delivery + "/redeliver", nil},
			{http.MethodDelete, "/tenants/acme/webhooks/" + hook, nil},
			{http.MethodGet, "/tenants/beta/webhooks/" + hook, nil},
		} {
			status, hdr, body := acme.do(t, r.method, r.path, r.body)
			wantProblem(t, r.method+" "+r.path, status, hdr, body, http.StatusNotFound, "")
		}
		if ws := acme.items(t, "/tenants/acme/webhooks"); len(ws) != 0 {
			t.Fatalf("acme lists %v", ws)
		}
		after := beta.must(t, http.StatusOK, http.MethodGet, "/tenants/beta/webhooks/"+hook, nil)
		delete(before, "failing_since")
		delete(after, "failing_since")
		if fmtAny(before) != fmtAny(after) {
			t.Fatalf("beta's endpoint changed: %v, then %v", before, after)
		}
	})
}

// addWebhook gives f's tenant an endpoint of every event at a host that
// does not exist, and returns its id and that of its first delivery (of
// its own creation).
func (e *env) addWebhook(t *testing.T, f *fixture) (id, delivery string) {
	t.Helper()
	w, err := e.srv.Admin().CreateWebhook(f.adminCtx(), admin.WebhookInput{URL: ptr("https://hooks." + f.slug + ".test/in"), Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.srv.Admin().WebhookDeliveries(f.adminCtx(), w.ID, "", 10)
	if err != nil || len(ds) == 0 {
		t.Fatalf("deliveries of a new endpoint: %v, %v", ds, err)
	}
	return w.ID, ds[0].ID
}

// TestWebhooksOnceAcrossNodes: two nodes on one database, both draining
// the outbox, deliver each event once.
func TestWebhooksOnceAcrossNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		dbURL := db.URL(t)
		key, _ := secret.ParseMasterKey(secret.NewMasterKey())
		lnA, _ := net.Listen("tcp", "127.0.0.1:0")
		lnB, _ := net.Listen("tcp", "127.0.0.1:0")
		_, port, _ := net.SplitHostPort(lnA.Addr().String())
		a := startNode(t, dbURL, key, lnA, "http://localhost:"+port, withHooksHost())
		b := startNode(t, dbURL, key, lnB, "http://localhost:"+port, withHooksHost())
		f := a.fixture("acme")
		rcv := newHookReceiver(t, a)
		b.names.route(hooksHost, rcv.srv.Listener.Addr().String())
		w, err := a.srv.Admin().CreateWebhook(f.adminCtx(), admin.WebhookInput{URL: &rcv.url, Events: []string{"user.created", "user.signed_in"}})
		if err != nil {
			t.Fatal(err)
		}
		const users = 40
		var wg sync.WaitGroup
		for i := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := a
				if i%2 == 1 {
					node = b
				}
				if _, err := node.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "u" + strconv.Itoa(i) + "@acme.test", Password: testPassword}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		fb := *f
		fb.e = b
		f.codeFlow(a.browser(), f.web, []string{"openid"})
		fb.codeFlow(b.browser(), f.web, []string{"openid"})
		want := users + 2
		eventually(t, 20*time.Second, "every event delivered", func() bool {
			ids := map[string]bool{}
			for _, h := range rcv.all() {
				ids[h.id] = true
			}
			return len(ids) >= want
		})
		time.Sleep(time.Second) // room for a duplicate to arrive
		seen := map[string]int{}
		for _, h := range rcv.all() {
			if !verifyHook(h, w.Secret) {
				t.Fatalf("delivery %s does not verify", h.id)
			}
			seen[h.id]++
		}
		if len(seen) != want {
			t.Fatalf("%d events delivered, want %d", len(seen), want)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestShutdownFinishesWebhookDeliveries: a node told to stop while it is
// sending a delivery (the receiver is slow) lets the send finish and
// records it before ListenAndServe returns: nothing is sent twice, nothing
// lost.
func TestShutdownFinishesWebhookDeliveries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		got := make(chan struct{}, 16)
		var answered atomic.Int32
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- struct{}{}
			time.Sleep(time.Second)
			answered.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(rcv.Close)
		key, _ := secret.ParseMasterKey(secret.NewMasterKey())
		store := storetest.Open(t, db.URL(t))
		vars := map[string]string{
			"GATEHOUSE_BASE_URL": "http://localhost:8080", "GATEHOUSE_ADDR": "127.0.0.1:0", "GATEHOUSE_MODE": config.ModeDevelopment,
			"GATEHOUSE_MASTER_KEY": hex.EncodeToString(key), "GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_ANONYMOUS_RATE_LIMIT": "off",
			"GATEHOUSE_UPSTREAM_ALLOW_HOSTS": rcv.Listener.Addr().String(), "GATEHOUSE_SHUTDOWN_TIMEOUT": "10s",
		}
		cfg, err := config.Load(func(k string) string { return vars[k] }, config.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.WebhookPoll = 100 * time.Millisecond
		srv, err := server.New(cfg, server.Deps{Store: store, Hasher: testHasher()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		if _, err := srv.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.ListenAndServe(ctx, nil) }()
		svc := srv.Admin()
		cli := admin.WithPrincipal(context.Background(), admin.CLI())
		if _, err := svc.CreateTenant(cli, admin.CreateTenantInput{Slug: "acme"}); err != nil {
			t.Fatal(err)
		}
		tctx, _, err := svc.WithTenant(cli, "acme")
		if err != nil {
			t.Fatal(err)
		}
		w, err := svc.CreateWebhook(tctx, admin.WebhookInput{URL: ptr(rcv.URL + "/in"), Events: []string{"user.created"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateUser(tctx, admin.CreateUserInput{Email: "ann@acme.test", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery")
		}
		stop() // SIGTERM, while the receiver takes its time
		select {
		case err := <-served:
			if err != nil {
				t.Fatalf("ListenAndServe: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the node did not stop")
		}
		if answered.Load() != 1 {
			t.Fatalf("the node stopped before the delivery in flight was answered (%d answers)", answered.Load())
		}
		ds, err := svc.WebhookDeliveries(tctx, w.ID, "", 10)
		if err != nil || len(ds) != 1 || ds[0].Status != tenants.DeliveryDelivered || ds[0].Attempts != 1 {
			t.Fatalf("after shutdown: %+v, %v; want the delivery recorded as delivered", ds, err)
		}
		if len(got) != 0 {
			t.Fatal("the delivery was sent twice")
		}
	})
}
