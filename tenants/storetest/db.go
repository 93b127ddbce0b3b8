// Package storetest is the conformance suite of the tenant store, run
// against every database Gatehouse supports, and the helpers that give
// tests a fresh, migrated database: SQLite always, PostgreSQL when
// GATEHOUSE_TEST_DATABASE_URL names one.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver, to create schemas

	"github.com/gatehouse-id/gatehouse/migrations"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// EnvPostgres names the PostgreSQL database tests may use; each test gets
// its own schema in it.
const EnvPostgres = "GATEHOUSE_TEST_DATABASE_URL"

// Database is a dialect tests run against.
type Database struct {
	Name string
	// URL returns the URL of a fresh, empty database for t; nil when the
	// dialect is not available (the reason is in Skip).
	URL  func(t testing.TB) string
	Skip string
}

// Databases returns SQLite, and PostgreSQL when EnvPostgres is set.
func Databases() []Database {
	dbs := []Database{{Name: tenants.DialectSQLite, URL: SQLiteURL}}
	pg := Database{Name: tenants.DialectPostgres, URL: PostgresURL}
	if os.Getenv(EnvPostgres) == "" {
		pg.URL = nil
		pg.Skip = "PostgreSQL tests skipped: set " + EnvPostgres + " (e.g. postgres://postgres@127.0.0.1:5432/gatehouse_test?sslmode=disable); .ci/run does"
	}
	return append(dbs, pg)
}

// ForEach runs fn as a subtest per database, skipping an unavailable one
// with its reason.
func ForEach(t *testing.T, fn func(t *testing.T, db Database)) {
	for _, db := range Databases() {
		t.Run(db.Name, func(t *testing.T) {
			if db.URL == nil {
				t.Skip(db.Skip)
			}
			fn(t, db)
		})
	}
}

// SQLiteURL returns the URL of a new SQLite file in t's temporary folder.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "gatehouse.db")
}

// PostgresURL returns a URL of the EnvPostgres database whose search_path is
// a new schema, dropped when t ends.
func PostgresURL(t testing.TB) string {
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + EnvPostgres)
	}
	schema := "t_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(secret.Token(9)))
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgres, err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store at databaseURL, closed when t ends.
func Open(t testing.TB, databaseURL string) *tenants.Store {
	t.Helper()
	ctx := context.Background()
	s, err := tenants.Open(ctx, databaseURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, db, s.Dialect()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// MustTenant creates a tenant row (with a dummy sealed key) for store tests.
func MustTenant(t testing.TB, s *tenants.Store, slug string) *tenants.Tenant {
	t.Helper()
	tn := &tenants.Tenant{
		Slug: slug, DisplayName: strings.ToUpper(slug[:1]) + slug[1:], Host: slug + ".localhost", Issuer: "http://" + slug + ".localhost:8080",
		AccessTokenTTLSeconds: 3600, IDTokenTTLSeconds: 3600, RefreshTokenTTLSeconds: 86400, SessionTTLSeconds: 86400,
	}
	key := &tenants.SigningKey{Algorithm: "RS256", PublicJWK: "{}", PrivateSealed: []byte("sealed")}
	if err := s.CreateTenant(context.Background(), tn, key); err != nil {
		t.Fatalf("create tenant %s: %v", slug, err)
	}
	return tn
}

// MustTenantOnce returns the tenant with slug, creating it the first time.
func MustTenantOnce(t testing.TB, s *tenants.Store, slug string) *tenants.Tenant {
	t.Helper()
	if tn, err := s.TenantBySlug(context.Background(), slug); err == nil {
		return tn
	}
	return MustTenant(t, s, slug)
}
