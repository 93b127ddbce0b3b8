package e2e

import (
	"context"
	"net/http"
	"strconv"
	"testing"
)

// The probes: /livez answers while the process runs, /readyz only while the
// database answers and the schema is at the binary's version; both live on
// the apex only.
func TestProbes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		get := func(url string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			status, h, body := e.doJSON(req)
			if status != http.StatusNotFound && h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", url, h.Get("Cache-Control"))
			}
			return status, body
		}
		// A schema behind the binary (a migration not applied) is not ready;
		// the process is still live. (Checked first: a node remembers a
		// current schema.)
		db, err := e.store.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var version int
		var name, applied string
		if err := db.QueryRowContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version DESC LIMIT 1").Scan(&version, &name, &applied); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = "+strconv.Itoa(version)); err != nil {
			t.Fatal(err)
		}
		if status, body := get(e.base + "/readyz"); status != http.StatusServiceUnavailable || body["failed"] != "migrations" {
			t.Errorf("readyz with a migration missing: %d %v, want 503 failed=migrations", status, body)
		}
		if status, _ := get(e.base + "/livez"); status != http.StatusOK {
			t.Errorf("livez with a migration missing: %d, want 200", status)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ("+strconv.Itoa(version)+", '"+name+"', '"+applied+"')"); err != nil {
			t.Fatal(err)
		}

		for _, p := range []string{"/livez", "/readyz"} {
			if status, body := get(e.base + p); status != http.StatusOK || body["status"] != "ok" {
				t.Errorf("%s: %d %v, want 200 ok", p, status, body)
			}
			if status, _ := get(f.issuer + p); status != http.StatusNotFound {
				t.Errorf("%s on a tenant host: %d, want 404", p, status)
			}
		}

	})
}
