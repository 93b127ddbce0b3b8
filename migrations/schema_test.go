package migrations_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/migrations"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// openEmpty returns a store on a fresh database that no migration has
// touched, closed when t ends.
func openEmpty(t *testing.T, databaseURL string) *tenants.Store {
	t.Helper()
	s, err := tenants.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func up(ctx context.Context, s *tenants.Store) ([]string, error) {
	db, err := s.SQLDB()
	if err != nil {
		return nil, err
	}
	return migrations.Up(ctx, db, s.Dialect())
}

func names(t *testing.T, dialect string) []string {
	t.Helper()
	ms, err := migrations.List(dialect)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	pg, lite := names(t, tenants.DialectPostgres), names(t, tenants.DialectSQLite)
	if len(pg) == 0 {
		t.Fatal("no migrations")
	}
	if !slices.Equal(pg, lite) {
		t.Errorf("postgres migrations %v, sqlite migrations %v: want the same list", pg, lite)
	}
	if _, err := migrations.List("mysql"); err == nil {
		t.Error("List(mysql): want an error for an unknown dialect")
	}
}

func TestSchemaMatchesModels(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		if err := s.VerifySchema(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestVerifySchemaReportsDrift proves the schema check can fail: each case
// changes a migrated schema behind the models' back and expects every
// change to be named.
func TestVerifySchemaReportsDrift(t *testing.T) {
	tests := []struct {
		name string
		// sql is run in order, per dialect.
		sql  map[string][]string
		want []string
	}{
		{
			name: "column without a field",
			sql: map[string][]string{
				tenants.DialectPostgres: {"ALTER TABLE users ADD COLUMN nickname TEXT"},
				tenants.DialectSQLite:   {"ALTER TABLE users ADD COLUMN nickname TEXT"},
			},
			want: []string{"users.nickname: column has no field in model User"},
		},
		{
			name: "field without a column",
			sql: map[string][]string{
				tenants.DialectPostgres: {"ALTER TABLE sessions DROP COLUMN user_agent"},
				tenants.DialectSQLite:   {"ALTER TABLE sessions DROP COLUMN user_agent"},
			},
			want: []string{"sessions.user_agent: column missing (field Session.UserAgent)"},
		},
		{
			name: "model without a table",
			sql: map[string][]string{
				tenants.DialectPostgres: {"DROP TABLE refresh_tokens"},
				tenants.DialectSQLite:   {"DROP TABLE refresh_tokens"},
			},
			want: []string{"refresh_tokens: table missing (model RefreshToken)"},
		},
		{
			name: "nullable column for a plain field",
			sql: map[string][]string{
				tenants.DialectPostgres: {"ALTER TABLE users ALTER COLUMN given_name DROP NOT NULL"},
				tenants.DialectSQLite:   {"ALTER TABLE users DROP COLUMN given_name", "ALTER TABLE users ADD COLUMN given_name TEXT"},
			},
			want: []string{"users.given_name: column is nullable but field User.GivenName is not a pointer"},
		},
		{
			name: "NOT NULL column for a pointer field",
			sql: map[string][]string{
				tenants.DialectPostgres: {"UPDATE grants SET revoked_at = now()", "ALTER TABLE grants ALTER COLUMN revoked_at SET NOT NULL"},
				tenants.DialectSQLite:   {"ALTER TABLE grants DROP COLUMN revoked_at", "ALTER TABLE grants ADD COLUMN revoked_at DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00+00:00'"},
			},
			want: []string{"grants.revoked_at: column is NOT NULL but field Grant.RevokedAt is a pointer"},
		},
		{
			name: "column type that cannot hold the field",
			sql: map[string][]string{
				tenants.DialectPostgres: {"ALTER TABLE sessions ALTER COLUMN last_seen_at TYPE TEXT"},
				tenants.DialectSQLite:   {"ALTER TABLE sessions DROP COLUMN last_seen_at", "ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT ''"},
			},
			want: []string{"sessions.last_seen_at: column type text cannot hold field Session.LastSeenAt"},
		},
		{
			name: "every difference is listed",
			sql: map[string][]string{
				tenants.DialectPostgres: {"ALTER TABLE clients ADD COLUMN tos_uri TEXT", "ALTER TABLE api_scopes DROP COLUMN description"},
				tenants.DialectSQLite:   {"ALTER TABLE clients ADD COLUMN tos_uri TEXT", "ALTER TABLE api_scopes DROP COLUMN description"},
			},
			want: []string{
				"clients.tos_uri: column has no field in model Client",
				"api_scopes.description: column missing (field Scope.Description)",
			},
		},
	}
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				s := storetest.Open(t, db.URL(t))
				sqlDB, err := s.SQLDB()
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range tt.sql[s.Dialect()] {
					if _, err := sqlDB.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				err = s.VerifySchema(ctx)
				var schemaErr *tenants.SchemaError
				if !errors.As(err, &schemaErr) {
					t.Fatalf("VerifySchema = %v, want a *tenants.SchemaError", err)
				}
				if len(schemaErr.Problems) != len(tt.want) {
					t.Errorf("got %d problems, want %d:\n%v", len(schemaErr.Problems), len(tt.want), err)
				}
				for _, w := range tt.want {
					if !slices.ContainsFunc(schemaErr.Problems, func(p string) bool { return strings.HasPrefix(p, w) }) {
						t.Errorf("problems do not include %q:\n%v", w, err)
					}
				}
			})
		}
	})
}

func TestUpIsIdempotent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := openEmpty(t, db.URL(t))
		all := names(t, s.Dialect())
		applied, err := up(ctx, s)
		if err != nil {
			t.Fatalf("first Up: %v", err)
		}
		if !slices.Equal(applied, all) {
			t.Errorf("first Up applied %v, want %v", applied, all)
		}
		applied, err = up(ctx, s)
		if err != nil {
			t.Fatalf("second Up: %v", err)
		}
		if len(applied) != 0 {
			t.Errorf("second Up applied %v, want nothing", applied)
		}
		sqlDB, err := s.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(all) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(all))
		}
		if err := s.VerifySchema(ctx); err != nil {
			t.Error(err)
		}
	})
}

// TestConcurrentUp starts two nodes' migrations at once on one database, as
// two replicas starting together do: both must succeed, and every migration
// must be applied exactly once.
func TestConcurrentUp(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		url := db.URL(t)
		nodes := []*tenants.Store{openEmpty(t, url), openEmpty(t, url)}
		applied := make([][]string, len(nodes))
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, s := range nodes {
			wg.Go(func() { applied[i], errs[i] = up(ctx, s) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("node %d: Up: %v", i, err)
			}
		}
		got := slices.Concat(applied...)
		slices.Sort(got)
		want := names(t, nodes[0].Dialect())
		if !slices.Equal(got, want) {
			t.Errorf("nodes applied %v between them, want each of %v exactly once", applied, want)
		}
		if err := nodes[0].VerifySchema(ctx); err != nil {
			t.Error(err)
		}
	})
}
