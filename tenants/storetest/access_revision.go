package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// testAccessRevision checks the promise a cache of users' access rests on
// (migration 0031): every change of what a user's access is read from —
// through the store's services, a cascade or plain SQL — changes the
// user's access revision in the same write, and a change that concerns
// other users leaves it alone. A step that changes the user's access
// without a new revision fails the test: a cache would serve a revoked
// role from then on.
func testAccessRevision(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "access-revision")
	const billing = "https://billing.example.com"
	orders := mustAPI(t, ctx, s, ordersAudience, "read:orders", "write:orders", "refund:orders")
	bills := mustAPI(t, ctx, s, billing, "read:bills")
	reader := mustRole(t, ctx, s, "reader", tenants.Permission{Audience: ordersAudience, Scope: "read:orders"})
	writer := mustRole(t, ctx, s, "writer", tenants.Permission{Audience: ordersAudience, Scope: "write:orders"})
	refunder := mustRole(t, ctx, s, "refunder", tenants.Permission{Audience: ordersAudience, Scope: "refund:orders"})
	biller := mustRole(t, ctx, s, "biller", tenants.Permission{Audience: billing, Scope: "read:bills"})
	staff, ops, eng := mustGroup(t, ctx, s, "staff"), mustGroup(t, ctx, s, "ops"), mustGroup(t, ctx, s, "eng")
	u := mustUser(t, ctx, s, "held@example.com")
	// bystander holds nothing; neighbour holds a role of its own and is a
	// member of a group of its own: neither is concerned by u's changes.
	bystander := mustUser(t, ctx, s, "bystander@example.com")
	neighbour := mustUser(t, ctx, s, "neighbour@example.com")
	lone := mustRole(t, ctx, s, "lone")
	club, empty := mustGroup(t, ctx, s, "club"), mustGroup(t, ctx, s, "empty")
	must(t, "neighbour's role", s.AddUserRole(ctx, neighbour.ID, lone.ID))
	must(t, "neighbour's group", s.AddGroupMember(ctx, club.ID, neighbour.ID))
	conn := mustConnection(t, ctx, s, "corp")
	var x *tenants.ExternalIdentity

	revisionOf := func(id string) int64 {
		t.Helper()
		got, err := s.UserByID(ctx, id)
		must(t, "user by id", err)
		return got.AccessRevision
	}
	accessOf := func(aud string) string {
		t.Helper()
		a, err := s.UserAccess(ctx, u.ID, tenants.AccessQuery{Roles: true, Groups: true, Passed: true, PermissionsOf: aud})
		must(t, "user access", err)
		return fmt.Sprintf("%v %v %v %v", a.Roles, a.Groups, a.Passed, a.Permissions)
	}
	exec := func(query string, args ...any) error {
		db, err := s.SQLDB()
		if err != nil {
			return err
		}
		_, err = db.Exec(placeholders(s, query), args...)
		return err
	}
	withoutScope := func(a *tenants.API, scope string) error {
		again, err := s.APIByID(ctx, a.ID)
		if err != nil {
			return err
		}
		var kept []tenants.Scope
		for _, sc := range again.Scopes {
			if sc.Name != scope {
				kept = append(kept, tenants.Scope{Name: sc.Name, Description: sc.Description})
			}
		}
		again.Scopes = kept
		return s.UpdateAPI(ctx, again)
	}
	const (
		changes = iota // the access changes, and so must the revision
		same           // neither changes
		bumps          // the revision changes though the access need not (a conservative trigger)
	)
	steps := []struct {
		name string
		kind int
		// prep, if set, prepares the step: what it changes is not the
		// step's.
		prep, do func() error
	}{
		{name: "role given", do: func() error { return s.AddUserRole(ctx, u.ID, reader.ID) }},
		{name: "role given again", kind: same, do: func() error { return s.AddUserRole(ctx, u.ID, reader.ID) }},
		{name: "held role's permissions changed", do: func() error {
			reader.Permissions = []tenants.Permission{{Audience: ordersAudience, Scope: "read:orders"}, {Audience: ordersAudience, Scope: "refund:orders"}}
			return s.UpdateRole(ctx, reader)
		}},
		{name: "held role renamed", do: func() error { reader.Name = "orders reader"; return s.UpdateRole(ctx, reader) }},
		{name: "held role renamed in SQL", do: func() error {
			return exec("UPDATE roles SET name = ? WHERE tenant_id = ? AND id = ?", "order reader", reader.TenantID, reader.ID)
		}},
		{name: "held role's description changed in SQL", kind: same, do: func() error {
			return exec("UPDATE roles SET description = ? WHERE tenant_id = ? AND id = ?", "Reads", reader.TenantID, reader.ID)
		}},
		{name: "other role's permissions changed", kind: same, do: func() error {
			refunder.Description = "Changed"
			refunder.Permissions = []tenants.Permission{{Audience: ordersAudience, Scope: "read:orders"}}
			return s.UpdateRole(ctx, refunder)
		}},
		{name: "member of a group", do: func() error { return s.AddGroupMember(ctx, staff.ID, u.ID) }},
		{name: "group given a role", do: func() error { return s.AddGroupRole(ctx, staff.ID, writer.ID) }},
		{name: "group renamed", do: func() error { staff.Name = "staff members"; return s.UpdateGroup(ctx, staff) }},
		{name: "group's description changed", kind: same, do: func() error { staff.Description = "Changed"; return s.UpdateGroup(ctx, staff) }},
		{name: "role through a group renamed", do: func() error { writer.Name = "orders writer"; return s.UpdateRole(ctx, writer) }},
		{name: "scope of a held permission removed from its API", do: func() error { return withoutScope(orders, "write:orders") }},
		{name: "group's role taken", do: func() error { return s.RemoveGroupRole(ctx, staff.ID, writer.ID) }},
		{name: "other group given a role", kind: same, do: func() error { return s.AddGroupRole(ctx, empty.ID, writer.ID) }},
		{name: "identity linked", kind: bumps, do: func() error {
			x = newExternalIdentity(u.ID, conn.ID, "held-subject")
			return s.CreateExternalIdentity(ctx, x)
		}},
		{name: "group mapping set", kind: bumps, do: func() error {
			return s.SetConnectionGroupMaps(ctx, conn.ID, []tenants.GroupMap{{UpstreamGroup: "Engineering", GroupID: eng.ID}})
		}},
		{name: "upstream groups synced", do: func() error { _, err := s.SyncUpstreamGroups(ctx, x, []string{"Engineering", "Unmapped"}); return err }},
		{name: "connection passes groups", do: func() error { conn.PassGroups = true; return s.UpdateConnection(ctx, conn) }},
		{name: "connection renamed", kind: same, do: func() error { conn.Name = "corporate"; return s.UpdateConnection(ctx, conn) }},
		{name: "unmapped group mapped", do: func() error {
			return s.SetConnectionGroupMaps(ctx, conn.ID, []tenants.GroupMap{{UpstreamGroup: "Engineering", GroupID: eng.ID}, {UpstreamGroup: "Unmapped", GroupID: ops.ID}})
		}},
		{name: "upstream groups changed", do: func() error { _, err := s.SyncUpstreamGroups(ctx, x, []string{"Unmapped", "New"}); return err }},
		{name: "same upstream groups", kind: same, do: func() error { _, err := s.SyncUpstreamGroups(ctx, x, []string{"Unmapped", "New"}); return err }},
		{name: "identity unlinked", do: func() error { return s.DeleteExternalIdentity(ctx, u.ID, x.ID) }},
		{name: "identity linked again", do: func() error {
			x = newExternalIdentity(u.ID, conn.ID, "held-subject-2")
			if err := s.CreateExternalIdentity(ctx, x); err != nil {
				return err
			}
			_, err := s.SyncUpstreamGroups(ctx, x, []string{"Engineering", "Passed"})
			return err
		}},
		{name: "connection deleted", do: func() error { return s.DeleteConnection(ctx, conn.ID) }},
		{name: "membership ended", do: func() error { return s.RemoveGroupMember(ctx, staff.ID, u.ID) }},
		{name: "group with a member deleted",
			prep: func() error { return s.AddGroupMember(ctx, ops.ID, u.ID) },
			do:   func() error { return s.DeleteGroup(ctx, ops.ID) }},
		{name: "held role deleted", do: func() error { return s.DeleteRole(ctx, reader.ID) }},
		{name: "role given through a group", do: func() error {
			if err := s.AddGroupMember(ctx, staff.ID, u.ID); err != nil {
				return err
			}
			return s.AddGroupRole(ctx, staff.ID, biller.ID)
		}},
		{name: "API of a held permission renamed in SQL", do: func() error {
			return exec("UPDATE apis SET audience = ? WHERE tenant_id = ? AND id = ?", "https://bills.example.com", bills.TenantID, bills.ID)
		}},
		{name: "API of a held permission deleted", do: func() error { return s.DeleteAPI(ctx, bills.ID) }},
		{name: "role held directly deleted in SQL (cascade)",
			prep: func() error { return s.AddUserRole(ctx, u.ID, refunder.ID) },
			do: func() error {
				return exec("DELETE FROM roles WHERE tenant_id = ? AND id = ?", refunder.TenantID, refunder.ID)
			}},
		{name: "group with a member deleted in SQL (cascade)", do: func() error {
			return exec("DELETE FROM user_groups WHERE tenant_id = ? AND id = ?", staff.TenantID, staff.ID)
		}},
	}
	bystanderAt, neighbourAt := revisionOf(bystander.ID), revisionOf(neighbour.ID)
	accessAll := func() string {
		return accessOf(ordersAudience) + accessOf(billing) + accessOf("https://bills.example.com")
	}
	for _, st := range steps {
		if st.prep != nil {
			must(t, st.name+": prepare", st.prep())
		}
		rev, access := revisionOf(u.ID), accessAll()
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		after, now := revisionOf(u.ID), accessAll()
		if (now != access) != (st.kind == changes) {
			t.Errorf("%s: the step was meant to change the access (%v) and did not, or the reverse: %s -> %s", st.name, st.kind == changes, access, now)
		}
		if (after != rev) != (st.kind != same) {
			t.Errorf("%s: revision %d -> %d, access %s -> %s", st.name, rev, after, access, now)
		}
	}
	if got := revisionOf(bystander.ID); got != bystanderAt {
		t.Errorf("the bystander's revision went from %d to %d", bystanderAt, got)
	}
	if got := revisionOf(neighbour.ID); got != neighbourAt {
		t.Errorf("the neighbour's revision went from %d to %d", neighbourAt, got)
	}

	// The store never writes the revision: a profile saved from a user read
	// before a change keeps the change's revision.
	stale, err := s.UserByID(ctx, u.ID)
	must(t, "user by id", err)
	must(t, "role given", s.AddUserRole(ctx, u.ID, writer.ID))
	changed := revisionOf(u.ID)
	stale.Name = "Renamed"
	must(t, "update profile", s.UpdateUserProfile(ctx, stale))
	if got := revisionOf(u.ID); got != changed || got == stale.AccessRevision {
		t.Errorf("a stale profile's save set the revision to %d (stale %d, current %d)", got, stale.AccessRevision, changed)
	}
	// Users start at revisions of their own, never 0 (no revision).
	a, b := mustUser(t, ctx, s, "fresh@example.com"), mustUser(t, ctx, s, "fresh2@example.com")
	if ra, rb := revisionOf(a.ID), revisionOf(b.ID); ra == 0 || rb == 0 || ra == rb {
		t.Errorf("new users' revisions = %d and %d, want two of their own", ra, rb)
	}
}

// testAccessRevisionRace checks, on PostgreSQL (SQLite has one writer), the
// race a trigger that finds the users concerned by a change would lose
// without the tenant's access lock: a group's role is taken away while a
// transaction makes the user a member. The member's new revision commits
// first and is read with the role (the removal is not committed yet), as a
// token would cache it; the removal must then give the member a revision
// after that one.
func testAccessRevisionRace(t *testing.T, s *tenants.Store) {
	if s.Dialect() != tenants.DialectPostgres {
		t.Skip("SQLite runs one writer at a time")
	}
	ctx, tn := newTenant(t, s, "access-race")
	u := mustUser(t, ctx, s, "racer@example.com")
	role, group := mustRole(t, ctx, s, "racer"), mustGroup(t, ctx, s, "racers")
	must(t, "group role", s.AddGroupRole(ctx, group.ID, role.ID))
	db, err := s.SQLDB()
	must(t, "sql db", err)
	join, err := db.BeginTx(ctx, nil)
	must(t, "begin join", err)
	defer join.Rollback() //nolint:errcheck
	_, err = join.Exec("INSERT INTO group_members (tenant_id, group_id, user_id, created_at, connection_id) VALUES ($1, $2, $3, now(), '')", tn.ID, group.ID, u.ID)
	must(t, "join", err)
	take, err := db.BeginTx(ctx, nil)
	must(t, "begin take", err)
	defer take.Rollback() //nolint:errcheck
	taken := make(chan error, 1)
	go func() {
		_, err := take.Exec("DELETE FROM group_roles WHERE tenant_id = $1 AND group_id = $2 AND role_id = $3", tn.ID, group.ID, role.ID)
		taken <- err
	}()
	// Let the removal's trigger run as far as it can while the membership
	// is not committed (with the lock, it waits for the join).
	time.Sleep(300 * time.Millisecond)
	must(t, "commit join", join.Commit())
	joined, err := s.UserByID(ctx, u.ID)
	must(t, "user", err)
	if a, err := s.UserAccess(ctx, u.ID, tenants.AccessQuery{Roles: true}); err != nil || len(a.Roles) != 1 {
		t.Fatalf("access read while the removal is pending = %+v, %v, want the role", a, err)
	}
	must(t, "take", <-taken)
	must(t, "commit take", take.Commit())
	after, err := s.UserByID(ctx, u.ID)
	must(t, "user", err)
	if after.AccessRevision == joined.AccessRevision {
		t.Errorf("the role's removal left the member at revision %d, under which its access was read with the role", joined.AccessRevision)
	}
	if a, err := s.UserAccess(ctx, u.ID, tenants.AccessQuery{Roles: true}); err != nil || len(a.Roles) != 0 {
		t.Errorf("access after the removal = %+v, %v", a, err)
	}
}
