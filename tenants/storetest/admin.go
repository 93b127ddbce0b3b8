package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The subtests of Gatehouse's own administration: the system tenant,
// administrators' roles, console sessions, setup links, and the audit log.

// testSystemTenant runs on a store of its own: there is one system tenant.
func testSystemTenant(t *testing.T, s *tenants.Store) {
	ctx := context.Background()
	if _, err := s.SystemTenant(ctx); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("before there is one: err = %v, want %v", err, tenants.ErrNotFound)
	}
	regular := MustTenant(t, s, "regular-"+suffix())
	sys := &tenants.Tenant{
		Slug: "system", DisplayName: "Gatehouse", Host: "admin.localhost", Issuer: "http://admin.localhost:8080", System: true,
		AccessTokenTTLSeconds: 60, IDTokenTTLSeconds: 60, RefreshTokenTTLSeconds: 60, SessionTTLSeconds: 60,
	}
	if err := s.CreateTenant(ctx, sys, newKey()); err != nil {
		t.Fatal(err)
	}
	got, err := s.SystemTenant(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != sys.ID || !got.System || got.Slug != "system" {
		t.Errorf("SystemTenant = %+v, want %+v", got, sys)
	}
	if got, err := s.TenantByID(ctx, sys.ID); err != nil || !got.System {
		t.Errorf("TenantByID = %+v, %v; want the system tenant", got, err)
	}
	ts, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, tn := range ts {
		slugs = append(slugs, tn.Slug)
	}
	if want := []string{regular.Slug}; !slices.Equal(slugs, want) {
		t.Errorf("ListTenants = %v, want %v: not the system tenant", slugs, want)
	}
}

// testAdminRoles runs on a store of its own, as CountOperators counts
// across the whole database, and with a clock, so that roles are listed in
// a known order.
func testAdminRoles(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx := context.Background()
	actx, a := newTenant(t, s, "roles-a")
	_, b := newTenant(t, s, "roles-b")
	if n, err := s.CountOperators(ctx); err != nil || n != 0 {
		t.Fatalf("CountOperators = %d, %v; want 0", n, err)
	}
	role := func(kind, id, name string, target *string) *tenants.AdminRole {
		return &tenants.AdminRole{PrincipalKind: kind, PrincipalID: id, Role: name, TargetTenantID: target}
	}
	unknown := tenants.NewID()
	first := role(tenants.PrincipalUser, "u1", tenants.RoleOperator, nil)
	tests := []struct {
		name    string
		role    *tenants.AdminRole
		wantErr error
	}{
		{"operator", first, nil},
		{"same operator again: no tenant on both", role(tenants.PrincipalUser, "u1", tenants.RoleOperator, nil), tenants.ErrAlreadyExists},
		{"a client with the same id", role(tenants.PrincipalClient, "u1", tenants.RoleOperator, nil), nil},
		{"admin of tenant a", role(tenants.PrincipalUser, "u1", tenants.RoleTenantAdmin, &a.ID), nil},
		{"admin of tenant a again", role(tenants.PrincipalUser, "u1", tenants.RoleTenantAdmin, &a.ID), tenants.ErrAlreadyExists},
		{"admin of tenant b", role(tenants.PrincipalUser, "u1", tenants.RoleTenantAdmin, &b.ID), nil},
		{"admin of an unknown tenant", role(tenants.PrincipalUser, "u1", tenants.RoleTenantAdmin, &unknown), tenants.ErrNotFound},
		{"another operator", role(tenants.PrincipalUser, "u2", tenants.RoleOperator, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(time.Second)
			if err := s.CreateAdminRole(ctx, tt.role); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (tt.role.ID == "" || !tt.role.CreatedAt.Equal(clk.Now())) {
				t.Errorf("CreateAdminRole left id %q, created %v", tt.role.ID, tt.role.CreatedAt)
			}
		})
	}
	taken := role(tenants.PrincipalUser, "u3", tenants.RoleOperator, nil)
	taken.ID = first.ID
	if err := s.CreateAdminRole(ctx, taken); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a taken id: err = %v, want %v", err, tenants.ErrAlreadyExists)
	}

	// roles returns the roles of a principal as "role@target".
	roles := func(kind, id string) []string {
		t.Helper()
		rs, err := s.AdminRoles(ctx, kind, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			if r.PrincipalKind != kind || r.PrincipalID != id || r.ID == "" || r.CreatedAt.IsZero() {
				t.Errorf("role %+v of %s %s", r, kind, id)
			}
			target := ""
			if r.TargetTenantID != nil {
				target = *r.TargetTenantID
			}
			out = append(out, r.Role+"@"+target)
		}
		return out
	}
	lookups := []struct {
		name     string
		kind, id string
		want     []string
	}{
		{"a user's roles, oldest first", tenants.PrincipalUser, "u1", []string{"operator@", "tenant_admin@" + a.ID, "tenant_admin@" + b.ID}},
		{"a client's roles", tenants.PrincipalClient, "u1", []string{"operator@"}},
		{"nobody's roles", tenants.PrincipalUser, "nobody", nil},
	}
	for _, l := range lookups {
		if got := roles(l.kind, l.id); !slices.Equal(got, l.want) {
			t.Errorf("%s = %v, want %v", l.name, got, l.want)
		}
	}
	if n, err := s.CountOperators(ctx); err != nil || n != 3 {
		t.Errorf("CountOperators = %d, %v; want 3 (tenant admins are not operators)", n, err)
	}

	t.Run("roles on a deleted tenant go with it", func(t *testing.T) {
		if err := s.DeleteTenant(actx); err != nil {
			t.Fatal(err)
		}
		if got, want := roles(tenants.PrincipalUser, "u1"), []string{"operator@", "tenant_admin@" + b.ID}; !slices.Equal(got, want) {
			t.Errorf("roles = %v, want %v", got, want)
		}
	})
}

// testConsoleSessions runs on a store of its own, whose clock it moves.
func testConsoleSessions(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx := context.Background()
	t0 := clk.Now()
	cs := &tenants.ConsoleSession{ID: randomHash(), UserID: "admin-1", Scopes: tenants.Strings{"tenants:read", "tenants:write"}, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateConsoleSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if !cs.CreatedAt.Equal(t0) || !cs.LastSeenAt.Equal(t0) {
		t.Errorf("CreateConsoleSession left created %v, last seen %v; want %v", cs.CreatedAt, cs.LastSeenAt, t0)
	}
	other := &tenants.ConsoleSession{ID: randomHash(), UserID: "admin-2", ExpiresAt: t0.Add(2 * time.Hour)}
	if err := s.CreateConsoleSession(ctx, other); err != nil {
		t.Fatal(err)
	}
	dup := &tenants.ConsoleSession{ID: cs.ID, UserID: "intruder", ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateConsoleSession(ctx, dup); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a taken id: err = %v, want %v", err, tenants.ErrAlreadyExists)
	}

	t.Run("ConsoleSessionByID", func(t *testing.T) {
		got, err := s.ConsoleSessionByID(ctx, cs.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != "admin-1" || !slices.Equal(got.Scopes, cs.Scopes) || got.TryState != "" ||
			!got.CreatedAt.Equal(t0) || !got.LastSeenAt.Equal(t0) || !got.ExpiresAt.Equal(cs.ExpiresAt) {
			t.Errorf("ConsoleSessionByID = %+v, want %+v", got, cs)
		}
		if _, err := s.ConsoleSessionByID(ctx, randomHash()); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("unknown id: err = %v, want %v", err, tenants.ErrNotFound)
		}
	})

	t.Run("SetConsoleTryState", func(t *testing.T) {
		tests := []struct {
			name    string
			id      string
			state   string
			wantErr error
		}{
			{"a state", cs.ID, "state-1", nil},
			{"the same state again", cs.ID, "state-1", nil},
			{"unknown session", randomHash(), "state-2", tenants.ErrNotFound},
		}
		for _, tt := range tests {
			if err := s.SetConsoleTryState(ctx, tt.id, tt.state); !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			}
		}
		for id, want := range map[string]string{cs.ID: "state-1", other.ID: ""} {
			got, err := s.ConsoleSessionByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.TryState != want {
				t.Errorf("session of %s: try state %q, want %q", got.UserID, got.TryState, want)
			}
		}
	})

	tests := []struct {
		name    string
		at      time.Time
		wantErr error
	}{
		{"just before expiry", cs.ExpiresAt.Add(-time.Second), nil},
		{"at expiry", cs.ExpiresAt, tenants.ErrNotFound},
		{"after expiry", cs.ExpiresAt.Add(time.Minute), tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.at.Sub(clk.Now()))
			if _, err := s.ConsoleSessionByID(ctx, cs.ID); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if _, err := s.ConsoleSessionByID(ctx, other.ID); err != nil {
				t.Errorf("a session that expires later: %v", err)
			}
		})
	}

	t.Run("DeleteConsoleSession", func(t *testing.T) {
		if err := s.DeleteConsoleSession(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsoleSessionByID(ctx, other.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("after delete: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.DeleteConsoleSession(ctx, other.ID); err != nil {
			t.Errorf("deleting a deleted session: %v, want nil", err)
		}
	})
}

// testSetupTokens runs on a store of its own, whose clock it moves: each
// step uses a link once, after checking whether it is valid.
func testSetupTokens(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx := context.Background()
	t0 := clk.Now()
	create := func(ttl time.Duration) string {
		h := randomHash()
		if err := s.CreateSetupToken(ctx, h, ttl); err != nil {
			t.Fatal(err)
		}
		return h
	}
	fresh := create(time.Hour)
	if err := s.CreateSetupToken(ctx, fresh, time.Hour); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a taken hash: err = %v, want %v", err, tenants.ErrAlreadyExists)
	}
	early, atExpiry, late := create(time.Minute), create(time.Minute), create(time.Minute)

	steps := []struct {
		name      string
		hash      string
		at        time.Duration // since t0; the clock only moves forward
		wantValid bool
		wantErr   error // of UseSetupToken
	}{
		{"unused", fresh, 0, true, nil},
		{"used already", fresh, 0, false, tenants.ErrConflict},
		{"unknown", randomHash(), 0, false, tenants.ErrConflict},
		{"just before expiry", early, time.Minute - time.Second, true, nil},
		{"at expiry", atExpiry, time.Minute, false, tenants.ErrConflict},
		{"after expiry", late, time.Hour, false, tenants.ErrConflict},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(t0.Add(st.at).Sub(clk.Now()))
			if ok, err := s.SetupTokenValid(ctx, st.hash); err != nil || ok != st.wantValid {
				t.Errorf("SetupTokenValid = %v, %v; want %v", ok, err, st.wantValid)
			}
			if err := s.UseSetupToken(ctx, st.hash); !errors.Is(err, st.wantErr) {
				t.Errorf("UseSetupToken: err = %v, want %v", err, st.wantErr)
			}
			if ok, err := s.SetupTokenValid(ctx, st.hash); err != nil || ok {
				t.Errorf("SetupTokenValid after use = %v, %v; want false", ok, err)
			}
		})
	}
}

// testUseSetupTokenConcurrently spends one setup link from many requests
// at once, as a double-submitted form does: exactly one wins.
func testUseSetupTokenConcurrently(t *testing.T, s *tenants.Store) {
	ctx := context.Background()
	h := randomHash()
	if err := s.CreateSetupToken(ctx, h, time.Hour); err != nil {
		t.Fatal(err)
	}
	const n = 8
	wins := 0
	for i, err := range race(n, func(int) error { return s.UseSetupToken(ctx, h) }) {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, tenants.ErrConflict):
			t.Errorf("use %d: err = %v, want nil or %v", i, err, tenants.ErrConflict)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d uses won, want exactly 1", wins, n)
	}
}

// testAudit checks the listing of a tenant's audit log: newest first,
// filtered and paged.
func testAudit(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "audit")
	t0 := s.Now().Truncate(time.Second).Add(-time.Hour)
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	full := &tenants.AuditEvent{
		Action: "user.disabled", ActorKind: tenants.PrincipalUser, ActorID: "op-1", ActorName: "Grace", TargetType: "user", TargetID: "u1",
		Outcome: "denied", Reason: "not an admin of this tenant", Before: `{"disabled":false}`, After: `{"disabled":true}`,
		IPAddress: "192.0.2.7", UserAgent: "storetest", RequestID: "req-1", OccurredAt: at(8),
	}
	// Appended in order: oldest first.
	evs := []*tenants.AuditEvent{
		{Action: "tenant.updated", ActorID: "op-1", TargetType: "tenant", TargetID: tn.ID, OccurredAt: at(0)},
		{Action: "client.created", ActorID: "op-1", TargetType: "client", TargetID: "web", OccurredAt: at(1)},
		{Action: "client.updated", ActorID: "op-2", TargetType: "client", TargetID: "web", OccurredAt: at(2).In(time.FixedZone("UTC-5", -5*3600))},
		{Action: "client.secret_rotated", ActorID: "op-2", TargetType: "client", TargetID: "web", OccurredAt: at(3)},
		{Action: "client.secretXrotated", ActorID: "op-2", TargetType: "client", TargetID: "cli", OccurredAt: at(4)},
		{Action: "client%.odd", ActorID: "op-3", TargetType: "client", TargetID: "cli", OccurredAt: at(5)},
		{Action: "client_grants.changed", ActorID: "op-3", TargetType: "client", TargetID: "cli", OccurredAt: at(6)},
		{Action: `user\odd`, ActorID: "op-3", TargetType: "user", TargetID: "u1", OccurredAt: at(7)},
		full,
	}
	for _, ev := range evs {
		mustAudit(t, ctx, s, ev)
	}
	// An event of another tenant that every filter below would match.
	octx, _ := newTenant(t, s, "audit-other")
	mustAudit(t, octx, s, &tenants.AuditEvent{Action: "client.created", ActorID: "op-2", TargetID: "cli", RequestID: "req-1", OccurredAt: at(5)})

	// list returns the indexes in evs of the events ListAudit returns.
	list := func(t *testing.T, f tenants.AuditFilter) []int {
		t.Helper()
		got, err := s.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, ev := range got {
			i := slices.IndexFunc(evs, func(e *tenants.AuditEvent) bool { return e.ID == ev.ID })
			if i < 0 || ev.TenantID != tn.ID {
				t.Errorf("ListAudit returned %+v, not one of the tenant's", ev)
			}
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name   string
		filter tenants.AuditFilter
		want   []int
	}{
		{"everything, newest first", tenants.AuditFilter{}, []int{8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"action prefix", tenants.AuditFilter{Action: "client."}, []int{4, 3, 2, 1}},
		{"whole action", tenants.AuditFilter{Action: "client.created"}, []int{1}},
		{"percent in the prefix is literal", tenants.AuditFilter{Action: "client%"}, []int{5}},
		{"underscore in the prefix is literal", tenants.AuditFilter{Action: "client_"}, []int{6}},
		{"underscore inside the prefix is literal", tenants.AuditFilter{Action: "client.secret_"}, []int{3}},
		{"backslash in the prefix is literal", tenants.AuditFilter{Action: `user\`}, []int{7}},
		{"action prefix in another case", tenants.AuditFilter{Action: "CLIENT."}, nil},
		{"actor", tenants.AuditFilter{ActorID: "op-2"}, []int{4, 3, 2}},
		{"target", tenants.AuditFilter{TargetID: "cli"}, []int{6, 5, 4}},
		{"actor and target", tenants.AuditFilter{ActorID: "op-3", TargetID: "cli"}, []int{6, 5}},
		{"unknown actor", tenants.AuditFilter{ActorID: "nobody"}, nil},
		{"request id (a reference)", tenants.AuditFilter{RequestID: "req-1"}, []int{8}},
		{"unknown request id", tenants.AuditFilter{RequestID: "req-2"}, nil},
		{"since, inclusive", tenants.AuditFilter{Since: at(7)}, []int{8, 7}},
		{"until, exclusive", tenants.AuditFilter{Until: at(2)}, []int{1, 0}},
		{"since and until in other zones", tenants.AuditFilter{
			Since: at(1).In(time.FixedZone("UTC+5", 5*3600)), Until: at(3).In(time.FixedZone("UTC-5", -5*3600)),
		}, []int{2, 1}},
		{"limit", tenants.AuditFilter{Limit: 2}, []int{8, 7}},
		{"before an event", tenants.AuditFilter{Before: evs[5].ID}, []int{4, 3, 2, 1, 0}},
		{"before an event, filtered and limited", tenants.AuditFilter{Before: evs[4].ID, Action: "client.", Limit: 2}, []int{3, 2}},
		{"before the oldest", tenants.AuditFilter{Before: evs[0].ID}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(t, tt.filter); !slices.Equal(got, tt.want) {
				t.Errorf("ListAudit = %v, want %v (indexes of the events, oldest 0)", got, tt.want)
			}
		})
	}

	t.Run("every page", func(t *testing.T) {
		var got []int
		f := tenants.AuditFilter{Limit: 4}
		for pages := 1; ; pages++ {
			page := list(t, f)
			got = append(got, page...)
			if len(page) < f.Limit {
				break
			}
			if pages > len(evs) {
				t.Fatalf("no last page after %d pages", pages)
			}
			last := page[len(page)-1]
			if last < 0 {
				t.FailNow() // list reported the stranger
			}
			f.Before = evs[last].ID
		}
		if want := []int{8, 7, 6, 5, 4, 3, 2, 1, 0}; !slices.Equal(got, want) {
			t.Errorf("pages hold %v, want %v", got, want)
		}
	})

	t.Run("every field", func(t *testing.T) {
		got, err := s.ListAudit(ctx, tenants.AuditFilter{Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("ListAudit = %v, %v; want the newest event", got, err)
		}
		e := got[0]
		if e.ID != full.ID || e.TenantID != tn.ID || e.Action != full.Action || e.ActorKind != full.ActorKind || e.ActorID != full.ActorID ||
			e.ActorName != full.ActorName || e.TargetType != full.TargetType || e.TargetID != full.TargetID || e.Outcome != full.Outcome ||
			e.Reason != full.Reason || e.Before != full.Before || e.After != full.After || e.IPAddress != full.IPAddress ||
			e.UserAgent != full.UserAgent || e.RequestID != full.RequestID || !sameTime(e.OccurredAt, full.OccurredAt) {
			t.Errorf("got %+v, want %+v", e, full)
		}
	})

	t.Run("default limit", func(t *testing.T) {
		lctx, _ := newTenant(t, s, "audit-limit")
		for range 101 {
			mustAudit(t, lctx, s, &tenants.AuditEvent{Action: "user.created"})
		}
		tests := []struct {
			limit, want int
		}{{0, 100}, {-1, 100}, {1001, 100}, {1000, 101}}
		for _, tt := range tests {
			got, err := s.ListAudit(lctx, tenants.AuditFilter{Limit: tt.limit})
			if err != nil || len(got) != tt.want {
				t.Errorf("Limit %d: %d events, %v; want %d", tt.limit, len(got), err, tt.want)
			}
		}
	})
}

// testAppendAudit checks which tenant's log an event goes to: the one it
// names, whatever ctx carries, or else the one in ctx.
func testAppendAudit(t *testing.T, s *tenants.Store) {
	checkAppendAudit(t, s, "append-audit", s.AppendAudit)
}

// checkAppendAudit checks an append of the audit log as testAppendAudit
// says.
func checkAppendAudit(t *testing.T, s *tenants.Store, prefix string, appendAudit func(context.Context, *tenants.AuditEvent) error) {
	ctx, tn := newTenant(t, s, prefix)
	octx, _ := newTenant(t, s, prefix+"-other")
	taken := mustAudit(t, ctx, s, &tenants.AuditEvent{Action: "tenant.updated"})
	tests := []struct {
		name    string
		ctx     context.Context
		ev      tenants.AuditEvent
		wantErr error
	}{
		{"tenant in the event, none in ctx", context.Background(), tenants.AuditEvent{TenantID: tn.ID, Action: "tenant.deleted"}, nil},
		{"tenant in the event and another in ctx", octx, tenants.AuditEvent{TenantID: tn.ID, Action: "admin.access_denied"}, nil},
		{"tenant in ctx", ctx, tenants.AuditEvent{Action: "client.created"}, nil},
		{"no tenant anywhere", context.Background(), tenants.AuditEvent{Action: "client.created"}, tenants.ErrNoTenant},
		{"a taken id", ctx, tenants.AuditEvent{ID: taken.ID, Action: "client.created"}, tenants.ErrAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := tt.ev
			before := s.Now()
			if err := appendAudit(tt.ctx, &ev); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if ev.ID == "" || ev.TenantID != tn.ID || ev.Outcome != "success" || ev.OccurredAt.Before(before) || ev.OccurredAt.After(s.Now()) {
				t.Errorf("AppendAudit left id %q, tenant %q, outcome %q, time %v", ev.ID, ev.TenantID, ev.Outcome, ev.OccurredAt)
			}
			got, err := s.ListAudit(ctx, tenants.AuditFilter{Limit: 1})
			if err != nil || len(got) != 1 || got[0].ID != ev.ID {
				t.Errorf("newest event of the tenant = %+v, %v; want %s", got, err, ev.ID)
			}
		})
	}
	if got, err := s.ListAudit(octx, tenants.AuditFilter{}); err != nil || len(got) != 0 {
		t.Errorf("log of the tenant in ctx = %+v, %v; want it empty", got, err)
	}
}

// testAppendAuditGrouped checks the grouped append of the hot path as
// testAppendAudit does the plain one, alone and with an origin; and that
// an event naming a client that is not there (deleted, or another
// tenant's) is refused, as the token it records must not be issued.
func testAppendAuditGrouped(t *testing.T, s *tenants.Store) {
	checkAppendAudit(t, s, "grouped-audit", s.AppendAuditGrouped)
	ctx, tn := newTenant(t, s, "grouped-origin")
	octx, _ := newTenant(t, s, "grouped-origin-other")
	mustClient(t, ctx, s, "machine")
	theirs := mustClient(t, octx, s, "theirs-"+suffix())
	mustClient(t, ctx, s, "doomed")
	if err := s.DeleteClient(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	for name, ev := range map[string]*tenants.AuditEvent{
		"an unknown client":       {Action: "token.issued", ClientID: "nope"},
		"a deleted client":        {Action: "token.issued", ClientID: "doomed"},
		"another tenant's client": {Action: "token.issued", ClientID: theirs.ClientID},
	} {
		if err := s.AppendAuditGrouped(ctx, ev); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("event of %s: err = %v, want %v", name, err, tenants.ErrNotFound)
		}
		if n := countRows(t, s, "audit_events", "id", ev.ID); n != 0 {
			t.Errorf("event of %s: %d rows, want none", name, n)
		}
	}
	ctx = tenants.WithOrigin(ctx, tenants.Origin{IP: "192.0.2.9", UserAgent: "storetest\xff-grouped", RequestID: "req-1"})
	ev := &tenants.AuditEvent{Action: "token.issued", ClientID: "machine"}
	if err := s.AppendAuditGrouped(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, tenants.AuditFilter{Limit: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("log = %+v, %v; want the one event", got, err)
	}
	if g := got[0]; g.ID != ev.ID || g.TenantID != tn.ID || g.IPAddress != "192.0.2.9" || g.UserAgent != "storetest-grouped" || g.RequestID != "req-1" || g.ClientID != "machine" {
		t.Errorf("event %+v, want the origin of ctx, its user agent valid UTF-8", g)
	}
}

// testAppendAuditGroupedConcurrently appends from many requests at once,
// as the token endpoint under load does: every call returns nil once its
// event is stored, every event is stored exactly once in its own tenant's
// log, and a caller that gives up (its context cancelled) fails nobody
// else.
func testAppendAuditGroupedConcurrently(t *testing.T, s *tenants.Store) {
	const n = 50
	actx, a := newTenant(t, s, "grouped-a")
	bctx, b := newTenant(t, s, "grouped-b")
	mustClient(t, actx, s, "machine")
	mustClient(t, bctx, s, "machine")
	onlyA := mustClient(t, actx, s, "only-a-"+suffix())
	cancelled, cancel := context.WithCancel(actx)
	cancel()
	tenantOf := func(i int) (context.Context, string) {
		if i%2 == 0 {
			return actx, a.ID
		}
		return bctx, b.ID
	}
	stored := func(t *testing.T, ev *tenants.AuditEvent, tenantID string) int {
		t.Helper()
		return countSQL(t, s, "SELECT COUNT(*) FROM audit_events WHERE id = ? AND tenant_id = ?", ev.ID, tenantID)
	}
	events := func(round string) []*tenants.AuditEvent {
		evs := make([]*tenants.AuditEvent, n)
		for i := range evs {
			evs[i] = &tenants.AuditEvent{Action: "token.issued", TargetType: "client", TargetID: fmt.Sprintf("%s-%d", round, i), ClientID: "machine"}
		}
		return evs
	}

	t.Run("every event once", func(t *testing.T) {
		evs := events("all")
		errs := race(n, func(i int) error {
			ctx, _ := tenantOf(i)
			return s.AppendAuditGrouped(ctx, evs[i])
		})
		ids := map[string]bool{}
		for i, err := range errs {
			_, tid := tenantOf(i)
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
			if got := stored(t, evs[i], tid); got != 1 {
				t.Errorf("event %d: %d rows in its tenant's log when the call returned, want 1", i, got)
			}
			if ids[evs[i].ID] {
				t.Errorf("event %d: id %s given twice", i, evs[i].ID)
			}
			ids[evs[i].ID] = true
		}
		for _, c := range []struct {
			ctx  context.Context
			want int
		}{{actx, n / 2}, {bctx, n / 2}} {
			if got, err := s.ListAudit(c.ctx, tenants.AuditFilter{Limit: 1000}); err != nil || len(got) != c.want {
				t.Errorf("log of %d events, %v; want %d", len(got), err, c.want)
			}
		}
	})
	t.Run("a refused event fails no other", func(t *testing.T) {
		// Some events name a client their tenant does not have: each of
		// those is refused, in the same batches as the others.
		evs := events("refused")
		refused := func(i int) bool { return i%7 == 0 }
		for i, ev := range evs {
			switch {
			case refused(i) && i%2 == 0:
				ev.ClientID = "gone"
			case refused(i):
				ev.ClientID = onlyA.ClientID // b's event, a's client
			}
		}
		errs := race(n, func(i int) error {
			ctx, _ := tenantOf(i)
			return s.AppendAuditGrouped(ctx, evs[i])
		})
		for i, err := range errs {
			_, tid := tenantOf(i)
			want, rows := error(nil), 1
			if refused(i) {
				want, rows = tenants.ErrNotFound, 0
			}
			if !errors.Is(err, want) {
				t.Errorf("append %d: err = %v, want %v", i, err, want)
			}
			if got := stored(t, evs[i], tid); got != rows {
				t.Errorf("event %d: %d rows, want %d", i, got, rows)
			}
		}
	})
	t.Run("a cancelled caller fails no other", func(t *testing.T) {
		evs := events("cancel")
		gaveUp := func(i int) bool { return i%10 == 0 }
		errs := race(n, func(i int) error {
			ctx, _ := tenantOf(i)
			if gaveUp(i) {
				ctx = cancelled
			}
			return s.AppendAuditGrouped(ctx, evs[i])
		})
		for i, err := range errs {
			if gaveUp(i) {
				// It may have led the insert of its event, or given up
				// waiting for it.
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled append %d: err = %v, want nil or %v", i, err, context.Canceled)
				}
				if got := stored(t, evs[i], a.ID); got > 1 || err == nil && got != 1 {
					t.Errorf("cancelled append %d (err %v): %d rows", i, err, got)
				}
				continue
			}
			_, tid := tenantOf(i)
			if err != nil {
				t.Errorf("append %d beside cancelled ones: %v", i, err)
			}
			if got := stored(t, evs[i], tid); got != 1 {
				t.Errorf("event %d: %d rows when the call returned, want 1", i, got)
			}
		}
		// The group is not stuck: a cancelled caller alone, and then a
		// live one, are written.
		alone := &tenants.AuditEvent{Action: "token.issued", TargetID: "alone"}
		if err := s.AppendAuditGrouped(cancelled, alone); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled append alone: %v", err)
		}
		after := &tenants.AuditEvent{Action: "token.issued", TargetID: "after"}
		if err := s.AppendAuditGrouped(actx, after); err != nil {
			t.Fatalf("append after the cancelled ones: %v", err)
		}
		if got := stored(t, after, a.ID); got != 1 {
			t.Errorf("append after the cancelled ones: %d rows, want 1", got)
		}
	})
}

// testAppendAuditGroupedCancelledLeader cancels the request of the caller
// that leads a grouped insert while the insert waits for the database, with
// other callers' events queued behind it: their appends must not fail with
// its cancellation, and its own event is written too.
func testAppendAuditGroupedCancelledLeader(t *testing.T, s *tenants.Store) {
	const n = 20
	ctx, tn := newTenant(t, s, "grouped-leader")
	release := blockAuditWrites(t, s)
	defer release()

	leaderCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	leading := make(chan struct{})
	leaderEv := &tenants.AuditEvent{Action: "token.issued", TargetID: "leader"}
	leaderErr := make(chan error, 1)
	go func() {
		leaderErr <- s.AppendAuditGrouped(&valueSeen{Context: leaderCtx, seen: func() { close(leading) }}, leaderEv)
	}()
	<-leading // it is taking the lead, and its insert will wait for the lock

	evs := make([]*tenants.AuditEvent, n)
	errs := make([]error, n)
	var queued, done sync.WaitGroup
	queued.Add(n)
	for i := range n {
		evs[i] = &tenants.AuditEvent{Action: "token.issued", TargetID: fmt.Sprintf("queued-%d", i)}
		done.Go(func() { errs[i] = s.AppendAuditGrouped(&valueSeen{Context: ctx, seen: queued.Done}, evs[i]) })
	}
	queued.Wait() // every one is joining the group behind the leader
	cancel()
	release()
	done.Wait()
	if err := <-leaderErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled leader: err = %v, want nil or %v", err, context.Canceled)
	}
	stored := func(ev *tenants.AuditEvent) int {
		return countSQL(t, s, "SELECT COUNT(*) FROM audit_events WHERE id = ? AND tenant_id = ?", ev.ID, tn.ID)
	}
	if got := stored(leaderEv); got != 1 {
		t.Errorf("cancelled leader's event: %d rows, want 1 (it led the insert)", got)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("append %d behind the cancelled leader: %v", i, err)
		}
		if got := stored(evs[i]); got != 1 {
			t.Errorf("event %d behind the cancelled leader: %d rows, want 1", i, got)
		}
	}
}

// testAppendAuditGroupedPartialFailure queues one batch behind a held
// insert, and while it waits deletes the client some of its events name
// (as another node does while this one still caches the client) and gives
// one event the id of an event already written: those events fail, each
// with its own error (ErrNotFound for the deleted client, the token must
// not be issued; ErrAlreadyExists for the id), and every other event of the
// batch is still written, once.
func testAppendAuditGroupedPartialFailure(t *testing.T, s *tenants.Store) {
	const n = 24
	ctx, tn := newTenant(t, s, "grouped-partial")
	mustClient(t, ctx, s, "machine")
	mustClient(t, ctx, s, "doomed")
	written := &tenants.AuditEvent{Action: "token.issued", TargetID: "written", ClientID: "machine"}
	if err := s.AppendAuditGrouped(ctx, written); err != nil {
		t.Fatal(err)
	}
	// The client row goes in the transaction that holds the inserts, so
	// that it is gone exactly when the queued batch is written.
	release := holdAuditWrites(t, s, "COMMIT", fmt.Sprintf("DELETE FROM clients WHERE tenant_id = '%s' AND client_id = 'doomed'", tn.ID))
	defer release()

	leading := make(chan struct{})
	leaderEv := &tenants.AuditEvent{Action: "token.issued", TargetID: "leader", ClientID: "machine"}
	leaderErr := make(chan error, 1)
	go func() {
		leaderErr <- s.AppendAuditGrouped(&valueSeen{Context: ctx, seen: func() { close(leading) }}, leaderEv)
	}()
	<-leading

	doomed := func(i int) bool { return i%5 == 1 }
	const dup = 3
	evs := make([]*tenants.AuditEvent, n)
	errs := make([]error, n)
	var queued, done sync.WaitGroup
	queued.Add(n)
	for i := range n {
		evs[i] = &tenants.AuditEvent{Action: "token.issued", TargetID: fmt.Sprintf("queued-%d", i), ClientID: "machine"}
		if doomed(i) {
			evs[i].ClientID = "doomed"
		}
		if i == dup {
			evs[i].ID = written.ID
		}
		done.Go(func() { errs[i] = s.AppendAuditGrouped(&valueSeen{Context: ctx, seen: queued.Done}, evs[i]) })
	}
	queued.Wait()
	release()
	done.Wait()
	if err := <-leaderErr; err != nil {
		t.Errorf("leader: %v", err)
	}
	stored := func(ev *tenants.AuditEvent) int {
		return countSQL(t, s, "SELECT COUNT(*) FROM audit_events WHERE id = ? AND tenant_id = ? AND target_id = ?", ev.ID, tn.ID, ev.TargetID)
	}
	if got := stored(leaderEv); got != 1 {
		t.Errorf("leader's event: %d rows, want 1", got)
	}
	for i, err := range errs {
		want, rows := error(nil), 1
		switch {
		case doomed(i):
			want, rows = tenants.ErrNotFound, 0
		case i == dup:
			want, rows = tenants.ErrAlreadyExists, 0
		}
		if !errors.Is(err, want) {
			t.Errorf("append %d: err = %v, want %v", i, err, want)
		}
		if got := stored(evs[i]); got != rows {
			t.Errorf("event %d: %d rows, want %d", i, got, rows)
		}
	}
}

// valueSeen is a context that calls seen the first time a value is read
// of it: an append reads the tenant and origin of its ctx just before it
// joins the group.
type valueSeen struct {
	context.Context
	once sync.Once
	seen func()
}

func (c *valueSeen) Value(key any) any {
	c.once.Do(c.seen)
	return c.Context.Value(key)
}

// blockAuditWrites makes inserts into audit_events wait, from a connection
// of the store's pool, until release is called (once is enough; it may be
// called again).
func blockAuditWrites(t *testing.T, s *tenants.Store) (release func()) {
	t.Helper()
	return holdAuditWrites(t, s, "ROLLBACK")
}

// holdAuditWrites is blockAuditWrites that ends its transaction with end
// (ROLLBACK, or COMMIT when it also wrote through the connection) after
// running before; release runs them and lets the inserts go on.
func holdAuditWrites(t *testing.T, s *tenants.Store, end string, before ...string) (release func()) {
	t.Helper()
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{"BEGIN IMMEDIATE"}
	if s.Dialect() == tenants.DialectPostgres {
		stmts = []string{"BEGIN", "LOCK TABLE audit_events IN EXCLUSIVE MODE"}
	}
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			_ = conn.Close()
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, stmt := range append(before, end) {
				if _, err := conn.ExecContext(ctx, stmt); err != nil {
					t.Errorf("release the audit table: %s: %v", stmt, err)
				}
			}
			_ = conn.Close()
		})
	}
}
