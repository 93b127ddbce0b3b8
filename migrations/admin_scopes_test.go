package migrations_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/migrations"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestAdminScopesKeepEveryScopeOfExistingAdministrators upgrades a
// database with administrators made before administrators had scopes of
// their own: each keeps every management scope, and nobody else gets any.
func TestAdminScopesKeepEveryScopeOfExistingAdministrators(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := openEmpty(t, db.URL(t))
		ms, err := migrations.List(s.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		at := slices.IndexFunc(ms, func(m migrations.Migration) bool { return strings.HasSuffix(m.Name, "_admin_scopes") })
		if at < 0 {
			t.Fatal("no admin_scopes migration")
		}
		sqlDB, err := s.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		// The schema as it was before, recorded as applied.
		if _, err := sqlDB.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		ins := "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 'then')"
		if s.Dialect() == tenants.DialectPostgres {
			ins = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 'then')"
		}
		for _, m := range ms[:at] {
			if _, err := sqlDB.ExecContext(ctx, m.SQL); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			if _, err := sqlDB.ExecContext(ctx, ins, m.Version, m.Name); err != nil {
				t.Fatal(err)
			}
		}
		// The tenant row as that schema had it (the model has grown
		// columns since, which CreateTenant would write).
		sys := &tenants.Tenant{ID: tenants.NewID(), Slug: "admin"}
		insTenant := `INSERT INTO tenants (id, slug, display_name, host, issuer, system, access_token_ttl, id_token_ttl, refresh_token_ttl, session_ttl, created_at, updated_at)
			VALUES (?, 'admin', 'Gatehouse', 'admin.localhost', 'http://admin.localhost:8080', TRUE, 60, 60, 60, 60, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`
		if s.Dialect() == tenants.DialectPostgres {
			insTenant = strings.Replace(insTenant, "?", "$1", 1)
		}
		if _, err := sqlDB.ExecContext(ctx, insTenant, sys.ID); err != nil {
			t.Fatal(err)
		}
		// The user rows as that schema had them, too.
		admin, plain := &tenants.User{ID: tenants.NewID(), Email: "ops@example.test"}, &tenants.User{ID: tenants.NewID(), Email: "nobody@example.test"}
		insUser := `INSERT INTO users (id, tenant_id, email, email_normalized, created_at, updated_at) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`
		if s.Dialect() == tenants.DialectPostgres {
			insUser = `INSERT INTO users (id, tenant_id, email, email_normalized, created_at, updated_at) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`
		}
		for _, u := range []*tenants.User{admin, plain} {
			if _, err := sqlDB.ExecContext(ctx, insUser, u.ID, sys.ID, u.Email, u.Email); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range []*tenants.AdminRole{
			{PrincipalKind: tenants.PrincipalUser, PrincipalID: admin.ID, Role: tenants.RoleOperator},
			{PrincipalKind: tenants.PrincipalClient, PrincipalID: "ci", Role: tenants.RoleOperator},
		} {
			if err := s.CreateAdminRole(ctx, r); err != nil {
				t.Fatal(err)
			}
		}

		if _, err := up(ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := s.AdminUserScopes(ctx, admin.ID)
		if err != nil || !slices.Equal(got, tenants.Strings{"audit:read", "tenants:read", "tenants:write"}) {
			t.Fatalf("an administrator's scopes after the upgrade: %v, %v", got, err)
		}
		if got, err := s.AdminUserScopes(ctx, plain.ID); err == nil {
			t.Fatalf("a user who is no administrator got scopes: %v", got)
		}
		if err := s.VerifySchema(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
