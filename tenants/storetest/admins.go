package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The subtests of the lifecycle of Gatehouse's administrators: changing and
// deleting the access of users and clients of the system tenant.

// newSystemTenant creates the system tenant of a store of its own.
func newSystemTenant(t *testing.T, s *tenants.Store) context.Context {
	t.Helper()
	sys := &tenants.Tenant{
		Slug: "system", DisplayName: "Gatehouse", Host: "admin.localhost", Issuer: "http://admin.localhost:8080", System: true,
		AccessTokenTTLSeconds: 60, IDTokenTTLSeconds: 60, RefreshTokenTTLSeconds: 60, SessionTTLSeconds: 60,
	}
	if err := s.CreateTenant(context.Background(), sys, newKey()); err != nil {
		t.Fatal(err)
	}
	return tenants.WithTenant(context.Background(), sys)
}

// rolesOf returns a principal's roles as "role@target", oldest first.
func rolesOf(t *testing.T, s *tenants.Store, kind, id string) []string {
	t.Helper()
	rs, err := s.AdminRoles(context.Background(), kind, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		target := ""
		if r.TargetTenantID != nil {
			target = *r.TargetTenantID
		}
		out = append(out, r.Role+"@"+target)
	}
	return out
}

func operator() []tenants.AdminRole { return []tenants.AdminRole{{Role: tenants.RoleOperator}} }

func tenantAdmin(ids ...string) []tenants.AdminRole {
	var out []tenants.AdminRole
	for _, id := range ids {
		out = append(out, tenants.AdminRole{Role: tenants.RoleTenantAdmin, TargetTenantID: &id})
	}
	return out
}

// testAdminLifecycle runs on a store of its own, as operators are counted
// across the whole database: roles and scopes are replaced at once or not
// at all, only for principals of the system tenant, never leaving no
// operator where there was one; deleting an administrator ends what they
// held, and nothing of anyone else's.
func testAdminLifecycle(t *testing.T, s *tenants.Store) {
	sctx := newSystemTenant(t, s)
	actx, a := newTenant(t, s, "lifecycle-a")
	_, b := newTenant(t, s, "lifecycle-b")
	mustClient(t, sctx, s, "web")
	api := mustAPI(t, sctx, s, "http://localhost:8080/api/v1", "tenants:read", "tenants:write", "audit:read")
	op1, op2, ta := mustUser(t, sctx, s, "op1@example.com"), mustUser(t, sctx, s, "op2@example.com"), mustUser(t, sctx, s, "ta@example.com")
	outsider := mustUser(t, actx, s, "outsider@example.com") // a user of an ordinary tenant
	unknown := tenants.NewID()
	all := tenants.Strings{"audit:read", "tenants:read", "tenants:write"}

	scopesOf := func(id string) tenants.Strings {
		t.Helper()
		sc, err := s.AdminUserScopes(context.Background(), id)
		if errors.Is(err, tenants.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	users := []struct {
		name    string
		ctx     context.Context
		id      string
		roles   []tenants.AdminRole
		scopes  tenants.Strings
		wantErr error
		want    []string // roles afterwards
	}{
		{"an operator", sctx, op1.ID, operator(), all, nil, []string{"operator@"}},
		{"a tenant admin of two tenants", sctx, ta.ID, tenantAdmin(a.ID, b.ID), tenants.Strings{"tenants:read"}, nil,
			[]string{"tenant_admin@" + a.ID, "tenant_admin@" + b.ID}},
		{"narrowed to one", sctx, ta.ID, tenantAdmin(a.ID), tenants.Strings{"tenants:read"}, nil, []string{"tenant_admin@" + a.ID}},
		{"a tenant that does not exist: nothing changes", sctx, ta.ID, tenantAdmin(a.ID, unknown), all, tenants.ErrNotFound,
			[]string{"tenant_admin@" + a.ID}},
		{"the same role twice: nothing changes", sctx, ta.ID, tenantAdmin(b.ID, b.ID), all, tenants.ErrAlreadyExists,
			[]string{"tenant_admin@" + a.ID}},
		{"the last operator made a tenant admin", sctx, op1.ID, tenantAdmin(a.ID), all, tenants.ErrLastOperator, []string{"operator@"}},
		{"the last operator stripped of every role", sctx, op1.ID, nil, all, tenants.ErrLastOperator, []string{"operator@"}},
		{"a second operator", sctx, op2.ID, operator(), all, nil, []string{"operator@"}},
		{"now the first may step down", sctx, op1.ID, tenantAdmin(b.ID), all, nil, []string{"tenant_admin@" + b.ID}},
		{"a user of another tenant", sctx, outsider.ID, operator(), all, tenants.ErrNotFound, nil},
		{"through another tenant", actx, outsider.ID, operator(), all, tenants.ErrNotFound, nil},
		{"an unknown user", sctx, unknown, operator(), all, tenants.ErrNotFound, nil},
	}
	for _, tt := range users {
		t.Run("ReplaceAdminUser/"+tt.name, func(t *testing.T) {
			before := scopesOf(tt.id)
			err := s.ReplaceAdminUser(tt.ctx, tt.id, tt.roles, tt.scopes)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := rolesOf(t, s, tenants.PrincipalUser, tt.id); !slices.Equal(got, tt.want) {
				t.Errorf("roles = %v, want %v", got, tt.want)
			}
			want := tt.scopes
			if tt.wantErr != nil {
				want = before
			}
			if got := scopesOf(tt.id); !slices.Equal(got, want) {
				t.Errorf("scopes = %v, want %v", got, want)
			}
		})
	}

	// A management client: its scopes are its grant of the management API.
	mc := mustClient(t, sctx, s, "mgmt", tenants.ClientGrant{APIID: api.ID, Scopes: all})
	if err := s.CreateAdminRole(context.Background(), &tenants.AdminRole{PrincipalKind: tenants.PrincipalClient, PrincipalID: mc.ClientID, Role: tenants.RoleOperator}); err != nil {
		t.Fatal(err)
	}
	t.Run("ReplaceAdminClient", func(t *testing.T) {
		if err := s.ReplaceAdminClient(sctx, mc.ClientID, tenantAdmin(a.ID), []tenants.ClientGrant{{APIID: api.ID, Scopes: tenants.Strings{"tenants:read"}}}); err != nil {
			t.Fatal(err)
		}
		if got := rolesOf(t, s, tenants.PrincipalClient, mc.ClientID); !slices.Equal(got, []string{"tenant_admin@" + a.ID}) {
			t.Errorf("roles = %v", got)
		}
		if got := grantsOf(t, sctx, s, mc.ClientID); !sameGrants(got, map[string][]string{api.ID: {"tenants:read"}}) {
			t.Errorf("grants = %v", got)
		}
		for name, err := range map[string]error{
			"unknown client":           s.ReplaceAdminClient(sctx, "nope", operator(), nil),
			"a client of another":      s.ReplaceAdminClient(actx, mc.ClientID, operator(), nil),
			"unknown tenant in a role": s.ReplaceAdminClient(sctx, mc.ClientID, tenantAdmin(unknown), nil),
		} {
			if !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s: err = %v, want %v", name, err, tenants.ErrNotFound)
			}
		}
		if got := grantsOf(t, sctx, s, mc.ClientID); !sameGrants(got, map[string][]string{api.ID: {"tenants:read"}}) {
			t.Errorf("a refused change changed the grants: %v", got)
		}
	})

	// op2 is the last operator who is a person: an operator client does
	// not count.
	if err := s.ReplaceAdminClient(sctx, mc.ClientID, operator(), []tenants.ClientGrant{{APIID: api.ID, Scopes: all}}); err != nil {
		t.Fatal(err)
	}
	sess := &tenants.ConsoleSession{ID: randomHash(), UserID: op2.ID, Scopes: all, ExpiresAt: s.Now().Add(time.Hour)}
	if err := s.CreateConsoleSession(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	userSession := mustSession(t, sctx, s, op2.ID, time.Hour)
	_, family := mustRedeemed(t, sctx, s, "web", op2.ID)
	t.Run("DeleteAdminUser/the last operator", func(t *testing.T) {
		if err := s.DeleteAdminUser(sctx, op2.ID); !errors.Is(err, tenants.ErrLastOperator) {
			t.Fatalf("err = %v, want %v", err, tenants.ErrLastOperator)
		}
		if _, err := s.UserByID(sctx, op2.ID); err != nil {
			t.Errorf("the user: %v", err)
		}
		if _, err := s.ConsoleSessionByID(context.Background(), sess.ID); err != nil {
			t.Errorf("their console session: %v", err)
		}
		if tok := familyToken(s, family.Grant); !tok.usable(mustStatus(t, sctx, s, tok)) {
			t.Errorf("their access token: status %+v, want usable", *mustStatus(t, sctx, s, tok))
		}
		if got := rolesOf(t, s, tenants.PrincipalUser, op2.ID); !slices.Equal(got, []string{"operator@"}) {
			t.Errorf("roles = %v", got)
		}
	})
	t.Run("DeleteAdminUser", func(t *testing.T) {
		if err := s.ReplaceAdminUser(sctx, op1.ID, operator(), all); err != nil {
			t.Fatal(err)
		}
		other := &tenants.ConsoleSession{ID: randomHash(), UserID: op1.ID, ExpiresAt: s.Now().Add(time.Hour)}
		if err := s.CreateConsoleSession(context.Background(), other); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAdminUser(sctx, op2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByID(sctx, op2.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("the user: err = %v, want gone", err)
		}
		if _, err := s.ConsoleSessionByID(context.Background(), sess.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("their console session: err = %v, want gone", err)
		}
		if _, err := s.SessionByID(sctx, userSession.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("their session at the system tenant: err = %v, want gone", err)
		}
		tok := familyToken(s, family.Grant)
		if st := mustStatus(t, sctx, s, tok); st.GrantFound || tok.usable(st) {
			t.Errorf("their access token: status %+v, want its family gone", *st)
		}
		if got := rolesOf(t, s, tenants.PrincipalUser, op2.ID); len(got) != 0 {
			t.Errorf("roles = %v, want none", got)
		}
		if got := scopesOf(op2.ID); got != nil {
			t.Errorf("scopes = %v, want none", got)
		}
		// Someone else's are untouched.
		if _, err := s.ConsoleSessionByID(context.Background(), other.ID); err != nil {
			t.Errorf("another administrator's console session: %v", err)
		}
		for name, err := range map[string]error{
			"again":           s.DeleteAdminUser(sctx, op2.ID),
			"a user of a":     s.DeleteAdminUser(sctx, outsider.ID),
			"through a":       s.DeleteAdminUser(actx, outsider.ID),
			"an unknown user": s.DeleteAdminUser(sctx, unknown),
		} {
			if !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s: err = %v, want %v", name, err, tenants.ErrNotFound)
			}
		}
		if _, err := s.UserByID(actx, outsider.ID); err != nil {
			t.Errorf("the user of a: %v", err)
		}
	})
	t.Run("DeleteAdminClient", func(t *testing.T) {
		tok := machineToken(s, mc.ClientID, time.Hour)
		revoked := mustRevoke(t, sctx, s, machineToken(s, mc.ClientID, time.Hour))
		if st := mustStatus(t, sctx, s, tok); !tok.usable(st) {
			t.Fatalf("its access token before: status %+v, want usable", *st)
		}
		if err := s.DeleteAdminClient(sctx, mc.ClientID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClientByClientID(sctx, mc.ClientID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("the client: err = %v, want gone", err)
		}
		if st := mustStatus(t, sctx, s, tok); st.ClientExists || tok.usable(st) {
			t.Errorf("its access token: status %+v, want its client gone", *st)
		}
		if n := countSQL(t, s, "SELECT COUNT(*) FROM revoked_tokens WHERE jti = ?", revoked.jti); n != 0 {
			t.Errorf("its revoked access token: %d rows, want them gone with the client", n)
		}
		if got := rolesOf(t, s, tenants.PrincipalClient, mc.ClientID); len(got) != 0 {
			t.Errorf("roles = %v, want none", got)
		}
		if _, err := s.ClientByClientID(sctx, "web"); err != nil {
			t.Errorf("another client: %v", err)
		}
		for name, err := range map[string]error{
			"again":     s.DeleteAdminClient(sctx, mc.ClientID),
			"through a": s.DeleteAdminClient(actx, "web"),
		} {
			if !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s: err = %v, want %v", name, err, tenants.ErrNotFound)
			}
		}
	})
	t.Run("ListAdminRoles", func(t *testing.T) {
		rs, err := s.ListAdminRoles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.PrincipalKind+":"+r.PrincipalID+":"+r.Role)
		}
		want := []string{"user:" + op1.ID + ":operator", "user:" + ta.ID + ":tenant_admin"}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ListAdminRoles = %v, want %v", got, want)
		}
	})
}

// testRemoveOperatorsConcurrently runs on a store of its own: two
// operators each remove the other at the same moment (one deleted, one
// made a tenant admin). Exactly one change wins; the other is refused, and
// an operator remains.
func testRemoveOperatorsConcurrently(t *testing.T, s *tenants.Store) {
	sctx := newSystemTenant(t, s)
	_, a := newTenant(t, s, "race-a")
	for round := range 4 {
		x, y := mustUser(t, sctx, s, "x"+suffix()+"@example.com"), mustUser(t, sctx, s, "y"+suffix()+"@example.com")
		for _, u := range []*tenants.User{x, y} {
			if err := s.ReplaceAdminUser(sctx, u.ID, operator(), tenants.Strings{"tenants:read"}); err != nil {
				t.Fatal(err)
			}
		}
		errs := race(2, func(i int) error {
			if i == 0 {
				return s.DeleteAdminUser(sctx, x.ID)
			}
			return s.ReplaceAdminUser(sctx, y.ID, tenantAdmin(a.ID), tenants.Strings{"tenants:read"})
		})
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, tenants.ErrLastOperator):
				t.Errorf("round %d, change %d: err = %v, want nil or %v", round, i, err, tenants.ErrLastOperator)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d changes won, want exactly 1", round, wins)
		}
		if n := countSQL(t, s, "SELECT COUNT(*) FROM admin_roles WHERE role = 'operator' AND principal_kind = 'user'"); n != 1 {
			t.Fatalf("round %d: %d operators left, want 1", round, n)
		}
		// Start the next round from no operator again.
		db, err := s.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("DELETE FROM admin_roles"); err != nil {
			t.Fatal(err)
		}
	}
}
