package server_test

import (
	"bufio"
	"bytes"

	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// syncBuffer is a bytes.Buffer the server's goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// TestJSONLogsCarryRequestIDAndTenant runs a node with
// GATEHOUSE_LOG_FORMAT=json over real HTTP: the line of a request to a
// tenant host is one JSON object with the id the answer's X-Request-ID
// names and the tenant's slug.
func TestJSONLogsCarryRequestIDAndTenant(t *testing.T) {
	env := map[string]string{
		"GATEHOUSE_BASE_URL": "http://localhost:8080", "GATEHOUSE_MODE": config.ModeDevelopment,
		"GATEHOUSE_MASTER_KEY": secret.NewMasterKey(), "GATEHOUSE_DATA_DIR": t.TempDir(),
		"GATEHOUSE_LOG_FORMAT": "json", "GATEHOUSE_LOG_LEVEL": "debug",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.Open(t, storetest.SQLiteURL(t))
	storetest.MustTenant(t, store, "acme")
	var logs syncBuffer
	srv, err := server.New(cfg, server.Deps{Store: store, Logger: server.NewLogger(cfg, &logs)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	req, _ := http.NewRequest("GET", hs.URL+"/?code=secret-code", nil)
	req.Host = "acme.localhost:8080"
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-ID")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("status %d, X-Request-ID %q", resp.StatusCode, id)
	}
	hs.Close() // the access line is written once the handler returns

	var found bool
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if line["msg"] != "http request" {
			continue
		}
		found = true
		if line["request_id"] != id || line["tenant"] != "acme" || line["path"] != "/" {
			t.Fatalf("access line %v: want request_id %q, tenant acme, path /", line, id)
		}
	}
	if !found {
		t.Fatalf("no access line in %q", logs.String())
	}
	if strings.Contains(logs.String(), "secret-code") {
		t.Fatalf("the query string was logged: %q", logs.String())
	}
}

// TestEveryLineOfARequestCarriesItsIDAndTenant: a refused token request
// makes lines in several packages (the provider's "request refused", the
// access line); each goes to the logger the server was given, not slog's
// default, and each carries the request's id and tenant.
func TestEveryLineOfARequestCarriesItsIDAndTenant(t *testing.T) {
	env := map[string]string{
		"GATEHOUSE_BASE_URL": "http://localhost:8080", "GATEHOUSE_MODE": config.ModeDevelopment,
		"GATEHOUSE_MASTER_KEY": secret.NewMasterKey(), "GATEHOUSE_DATA_DIR": t.TempDir(),
		"GATEHOUSE_LOG_FORMAT": "json", "GATEHOUSE_LOG_LEVEL": "debug",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.Open(t, storetest.SQLiteURL(t))
	storetest.MustTenant(t, store, "acme")
	// Lines logged to slog's default are caught here: there must be none.
	var stray syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&stray, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	var logs syncBuffer
	srv, err := server.New(cfg, server.Deps{Store: store, Logger: server.NewLogger(cfg, &logs)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	start := len(logs.String())

	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials&client_id=nobody&client_secret=x"))
	req.Host = "acme.localhost:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-ID")
	if resp.StatusCode/100 != 4 || id == "" {
		t.Fatalf("status %d, X-Request-ID %q", resp.StatusCode, id)
	}
	hs.Close()

	msgs := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(logs.String()[start:]))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		msgs[line["msg"].(string)] = true
		if line["request_id"] != id || line["tenant"] != "acme" {
			t.Errorf("line %v: want request_id %q and tenant acme", line, id)
		}
	}
	if !msgs["request refused"] || !msgs["http request"] {
		t.Fatalf("lines %v: want the provider's refusal and the access line", msgs)
	}
	if stray.String() != "" {
		t.Fatalf("lines logged to slog's default: %s", stray.String())
	}
}
