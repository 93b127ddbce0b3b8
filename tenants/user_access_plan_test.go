package tenants_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestUserAccessPlan checks, on SQLite (which has no statistics to choose
// by), that every table the token path's one read of a user's access
// names is searched by the tenant and the user, a group, a role or an id:
// never scanned, never searched by the tenant alone, so that a token costs
// the same in a tenant of ten users and of a million. Before migration
// 0032 a user's roles were searched through user_roles_role_idx
// (tenant_id=?), every hold of the tenant.
func TestUserAccessPlan(t *testing.T) {
	s := storetest.Open(t, storetest.SQLiteURL(t))
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	tenantOnly := regexp.MustCompile(`\(tenant_id=\?\)$`)
	for _, q := range []tenants.AccessQuery{
		{Roles: true, Groups: true, Passed: true, PermissionsOf: "https://api.example.com"},
		{Groups: true},
	} {
		query, args := tenants.AccessStatementForTest(q, "t", "u")
		rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		searches := 0
		for _, d := range plan {
			switch {
			case strings.HasPrefix(d, "SCAN ") && d != "SCAN CONSTANT ROW":
				t.Errorf("%+v: %s", q, d)
			case strings.HasPrefix(d, "SEARCH "):
				searches++
				if tenantOnly.MatchString(d) {
					t.Errorf("%+v: searched by the tenant alone: %s", q, d)
				}
			}
		}
		if searches == 0 {
			t.Errorf("%+v: no search in the plan %q", q, plan)
		}
	}
}
