package e2e

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestMetrics: with GATEHOUSE_METRICS_ADDR a node serves Prometheus
// metrics and its probes on that listener only; a client-credentials token
// moves gatehouse_tokens_issued_total for its grant type and algorithm,
// and the request is in the HTTP histogram under its route pattern.
func TestMetrics(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	node := spawnNode(t, e, "GATEHOUSE_METRICS_ADDR=127.0.0.1:0")
	var maddr string
	select {
	case maddr = <-node.metrics:
	case <-time.After(10 * time.Second):
		t.Fatalf("the node did not announce its metrics listener\n%s", node.stderr)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	scrape := func() string {
		t.Helper()
		resp, err := plain.Get("http://" + maddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("metrics: %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	value := func(text, series string) float64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+]+)$`).FindStringSubmatch(text)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	const tokens = `gatehouse_tokens_issued_total{alg="RS256",grant_type="client_credentials"}`
	const requests = `gatehouse_http_request_duration_seconds_count{method="POST",route="/oauth/token",status="200"}`
	before := scrape()
	if !strings.Contains(before, "go_goroutines") {
		t.Errorf("no Go runtime metrics")
	}

	client := node.client()
	_, port, _ := net.SplitHostPort(node.addr)
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, "http://acme.localhost:"+port+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token: %d", resp.StatusCode)
		}
	}
	// A path nobody registered is counted under no path of its own.
	if resp, err := client.Get("http://acme.localhost:" + port + "/no/such/secret-path"); err == nil {
		resp.Body.Close()
	}
	after := scrape()
	if d := value(after, tokens) - value(before, tokens); d != 3 {
		t.Errorf("%s moved by %v, want 3:\n%s", tokens, d, after)
	}
	// Every audit event is counted by action and outcome: the three
	// tokens' among them.
	const issued = `gatehouse_audit_events_total{action="token.issued",outcome="success"}`
	if d := value(after, issued) - value(before, issued); d != 3 {
		t.Errorf("%s moved by %v, want 3", issued, d)
	}
	if d := value(after, requests) - value(before, requests); d != 3 {
		t.Errorf("%s moved by %v, want 3", requests, d)
	}
	if value(after, `gatehouse_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}`) < 1 {
		t.Errorf("the unknown path is not counted as route=unmatched")
	}
	if strings.Contains(after, "secret-path") {
		t.Errorf("a request's path is a label value")
	}
	// The cache answered the tenant of the later token requests from
	// memory; the database pool is reported.
	if value(after, `gatehouse_cache_lookups_total{kind="tenant",result="hit"}`) <= value(before, `gatehouse_cache_lookups_total{kind="tenant",result="hit"}`) {
		t.Errorf("no tenant cache hit counted")
	}
	if value(after, `gatehouse_cache_entries{kind="tenant"}`) < 1 {
		t.Errorf("no tenant counted in the cache")
	}
	if !strings.Contains(after, `go_sql_open_connections{db_name="gatehouse"}`) || !strings.Contains(after, "gatehouse_change_feed_last_read_timestamp_seconds") {
		t.Errorf("no database pool or change feed metrics")
	}
	// The profiler is off unless asked for (TestMetricsPprof).
	if resp, err := plain.Get("http://" + maddr + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/debug/pprof/ without GATEHOUSE_METRICS_PPROF: %d, want 404", resp.StatusCode)
		}
	}

	// The probes are on the metrics listener too; metrics are not on the
	// public listener.
	for _, p := range []string{"/livez", "/readyz"} {
		resp, err := plain.Get("http://" + maddr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s on the metrics listener: %d", p, resp.StatusCode)
		}
	}
	for _, host := range []string{"localhost", "acme.localhost"} {
		resp, err := client.Get("http://" + host + ":" + port + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on the public listener (%s): %d, want 404", host, resp.StatusCode)
		}
	}
}

// TestMetricsPprof: GATEHOUSE_METRICS_PPROF=true serves Go's profiler on
// the metrics listener, never on the public one.
func TestMetricsPprof(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	node := spawnNode(t, e, "GATEHOUSE_METRICS_ADDR=127.0.0.1:0", "GATEHOUSE_METRICS_PPROF=true")
	var maddr string
	select {
	case maddr = <-node.metrics:
	case <-time.After(10 * time.Second):
		t.Fatalf("the node did not announce its metrics listener\n%s", node.stderr)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	resp, err := plain.Get("http://" + maddr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(b) == 0 {
		t.Errorf("/debug/pprof/cmdline: %d %q", resp.StatusCode, b)
	}
	_, port, _ := net.SplitHostPort(node.addr)
	resp, err = node.client().Get("http://localhost:" + port + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/debug/pprof/ on the public listener: %d, want 404", resp.StatusCode)
	}
}
