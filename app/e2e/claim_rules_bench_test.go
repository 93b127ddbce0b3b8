package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// typicalRules are ten claim rules of the kinds tenants write: claims from
// metadata, roles and the email domain, a namespaced claim, a condition on
// the client or the request, and deny rules that do not fire.
func typicalRules(clientID string) []tenants.ClaimRule {
	c := func(name, cond string, id, access map[string]string, deny string) tenants.ClaimRule {
		return tenants.ClaimRule{Name: name, Enabled: true, Condition: cond, IDTokenClaims: id, AccessTokenClaims: access, Deny: deny}
	}
	return []tenants.ClaimRule{
		c("plan", "", map[string]string{"plan": "has(user.app_metadata.plan) ? user.app_metadata.plan : 'free'"}, nil, ""),
		c("roles", "", nil, map[string]string{"https://example.com/roles": "user.roles"}, ""),
		c("domain", "", map[string]string{"email_domain": "user.email.split('@')[1]"}, nil, ""),
		c("admin", "'admin' in user.roles", nil, map[string]string{"is_admin": "true"}, ""),
		c("web only", "client.id == '"+clientID+"'", map[string]string{"app": "client.name"}, nil, ""),
		c("mfa", "'otp' in request.amr", nil, map[string]string{"strong": "true"}, ""),
		c("theme", "", map[string]string{"theme": "has(user.user_metadata.theme) ? user.user_metadata.theme : 'light'"}, nil, ""),
		c("groups", "", nil, map[string]string{"team_count": "user.groups.size()"}, ""),
		c("no contractors", "user.email.endsWith('@contractor.example')", nil, nil, "Contractors may not sign in here."),
		c("no unverified admins", "'admin' in user.roles && !user.email_verified", nil, nil, "Verify your address first."),
	}
}

// rulesWithoutAccess are the typical rules that name neither the user's
// roles nor groups: a token of theirs reads neither.
func rulesWithoutAccess(clientID string) []tenants.ClaimRule {
	var out []tenants.ClaimRule
	for _, r := range typicalRules(clientID) {
		text := r.Condition
		for _, v := range r.IDTokenClaims {
			text += v
		}
		for _, v := range r.AccessTokenClaims {
			text += v
		}
		if !strings.Contains(text, "user.roles") && !strings.Contains(text, "user.groups") {
			out = append(out, r)
		}
	}
	return out
}

// TestTypicalRulesCheck keeps the benchmark's rules valid.
func TestTypicalRulesCheck(t *testing.T) {
	env, err := claimrules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range typicalRules("web") {
		if _, err := env.Check(tenants.RuleOf(&r)); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
}

// holdTypicalAccess gives the user userID what a typical user holds: a role
// of its own and a membership of a group that gives another (the roles
// and groups are made once, by the first call).
func holdTypicalAccess(b *testing.B, e *env, ctx context.Context, userID string) {
	b.Helper()
	role, err := e.store.RoleByName(ctx, "editor")
	if errors.Is(err, tenants.ErrNotFound) {
		role = &tenants.Role{Name: "editor"}
		clerk := &tenants.Role{Name: "clerk"}
		staff := &tenants.Group{Name: "staff"}
		for _, err := range []error{e.store.CreateRole(ctx, role), e.store.CreateRole(ctx, clerk), e.store.CreateGroup(ctx, staff)} {
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := e.store.AddGroupRole(ctx, staff.ID, clerk.ID); err != nil {
			b.Fatal(err)
		}
	} else if err != nil {
		b.Fatal(err)
	}
	staff, err := e.store.GroupByName(ctx, "staff")
	if err != nil {
		b.Fatal(err)
	}
	if err := e.store.AddUserRole(ctx, userID, role.ID); err != nil {
		b.Fatal(err)
	}
	if err := e.store.AddGroupMember(ctx, staff.ID, userID); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkClaimRules measures the code exchange (token issuance with an
// ID token) of a tenant without claim rules, of one with ten typical rules
// and of one with those of them that name neither roles nor groups, each
// in a database of its own: run one after the other in one
// database, the second would also pay for the rows the first left. The
// user holds a role and a group that gives another. ten_rules is a user
// who signs in again (the node has their access in memory: the cache of
// users' access); the _new_user_each cases have every code for another
// user (as many users in the database as codes), so that with rules every
// exchange reads the access from the database. Run it
// on a quiet machine, with the SQLite files in memory:
//
//	TMPDIR=/dev/shm go test -run '^$' -bench ClaimRules ./app/e2e/
func BenchmarkClaimRules(b *testing.B) {
	for _, db := range storetest.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			if db.URL == nil {
				b.Skip(db.Skip)
			}
			exchange := func(rules func(string) []tenants.ClaimRule, userEach bool) func(*testing.B) {
				e := newEnv(b, db.URL(b))
				f := e.fixture("acme")
				ctx := tenants.WithTenant(context.Background(), f.tenant)
				for _, r := range rules(f.web.ClientID) {
					if err := e.store.CreateClaimRule(ctx, &r); err != nil {
						b.Fatal(err)
					}
				}
				holdTypicalAccess(b, e, ctx, f.userID)
				h := e.srv.Handler()
				host := "acme.localhost:" + e.port
				return func(b *testing.B) {
					userOf := func(int) string { return f.userID }
					if userEach {
						users := make([]string, b.N)
						for i := range users {
							u := &tenants.User{Email: fmt.Sprintf("user%d-%s@example.com", i, secret.Token(6)), EmailVerified: true}
							if err := e.store.CreateUser(ctx, u); err != nil {
								b.Fatal(err)
							}
							holdTypicalAccess(b, e, ctx, u.ID)
							users[i] = u.ID
						}
						userOf = func(i int) string { return users[i] }
					}
					forms := f.preparedCodesFor(b, b.N, userOf)
					i := 0
					benchPost(b, h, host, "/oauth/token", f.web.ClientID, f.web.ClientSecret, func() string { i++; return forms[i-1] })
				}
			}
			noRules := func(string) []tenants.ClaimRule { return nil }
			none, ten, six := exchange(noRules, false), exchange(typicalRules, false), exchange(rulesWithoutAccess, false)
			noneCold, tenCold := exchange(noRules, true), exchange(typicalRules, true)
			b.Run("no_rules", none)
			b.Run("ten_rules", ten)
			b.Run("six_rules_no_roles_or_groups", six)
			b.Run("no_rules_new_user_each", noneCold)
			b.Run("ten_rules_new_user_each", tenCold)
		})
	}
}
