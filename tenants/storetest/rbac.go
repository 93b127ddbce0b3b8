package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

const ordersAudience = "https://orders.example.com"

// testRoles covers a role's life: permissions checked against the tenant's
// APIs, names unique per tenant, updates replacing permissions, and
// deletion taking every hold of the role with it.
func testRoles(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "roles")
	mustAPI(t, ctx, s, ordersAudience, "read:orders", "write:orders")
	r := mustRole(t, ctx, s, "clerk",
		tenants.Permission{Audience: ordersAudience, Scope: "write:orders"},
		tenants.Permission{Audience: ordersAudience, Scope: "read:orders"},
		tenants.Permission{Audience: ordersAudience, Scope: "read:orders"})
	got, err := s.RoleByID(ctx, r.ID)
	must(t, "role by id", err)
	want := []tenants.Permission{{Audience: ordersAudience, Scope: "read:orders"}, {Audience: ordersAudience, Scope: "write:orders"}}
	if got.Name != "clerk" || got.Description != "Role clerk" || !slices.Equal(got.Permissions, want) {
		t.Errorf("role = %+v, want clerk with %v", got, want)
	}
	if byName, err := s.RoleByName(ctx, "clerk"); err != nil || byName.ID != r.ID {
		t.Errorf("role by name = %v, %v", byName, err)
	}
	if err := s.CreateRole(ctx, &tenants.Role{Name: "clerk"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("second role named clerk: err = %v, want %v", err, tenants.ErrAlreadyExists)
	}
	var ve *tenants.ValidationError
	for name, p := range map[string]tenants.Permission{
		"unknown API":   {Audience: "https://nowhere.example.com", Scope: "read:orders"},
		"unknown scope": {Audience: ordersAudience, Scope: "delete:orders"},
	} {
		if err := s.CreateRole(ctx, &tenants.Role{Name: "bad " + name, Permissions: []tenants.Permission{p}}); !errors.As(err, &ve) {
			t.Errorf("role with %s: err = %v, want a validation error", name, err)
		}
		if _, err := s.RoleByName(ctx, "bad "+name); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("role with %s was stored: %v", name, err)
		}
	}

	got.Name, got.Description = "senior clerk", "More"
	got.Permissions = []tenants.Permission{{Audience: ordersAudience, Scope: "read:orders"}}
	must(t, "update role", s.UpdateRole(ctx, got))
	again, err := s.RoleByID(ctx, r.ID)
	must(t, "role by id", err)
	if again.Name != "senior clerk" || again.Description != "More" || len(again.Permissions) != 1 {
		t.Errorf("updated role = %+v", again)
	}
	bad := *again
	bad.Name = "renamed"
	bad.Permissions = []tenants.Permission{{Audience: ordersAudience, Scope: "nope"}}
	if err := s.UpdateRole(ctx, &bad); !errors.As(err, &ve) {
		t.Errorf("update with an unknown scope: err = %v, want a validation error", err)
	}
	if kept, _ := s.RoleByID(ctx, r.ID); kept.Name != "senior clerk" || len(kept.Permissions) != 1 {
		t.Errorf("a refused update changed the role: %+v", kept)
	}
	if err := s.UpdateRole(ctx, &tenants.Role{ID: "missing", Name: "x"}); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("update of a missing role: err = %v", err)
	}

	u := mustUser(t, ctx, s, "clerk@example.com")
	g := mustGroup(t, ctx, s, "staff")
	must(t, "add user role", s.AddUserRole(ctx, u.ID, r.ID))
	must(t, "add group role", s.AddGroupRole(ctx, g.ID, r.ID))
	must(t, "delete role", s.DeleteRole(ctx, r.ID))
	if _, err := s.RoleByID(ctx, r.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("deleted role: err = %v", err)
	}
	for _, table := range []string{"role_permissions", "user_roles", "group_roles"} {
		if n := countRows(t, s, table, "role_id", r.ID); n != 0 {
			t.Errorf("%d rows of %s outlive their role", n, table)
		}
	}
	if err := s.DeleteRole(ctx, r.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete: err = %v", err)
	}
}

// testEffectiveRoles checks what a user holds, directly and through
// groups, with where each role comes from, and the scopes it grants.
func testEffectiveRoles(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "effective")
	api := mustAPI(t, ctx, s, ordersAudience, "read:orders", "write:orders", "refund:orders")
	mustAPI(t, ctx, s, "https://other.example.com", "write:orders")
	reader := mustRole(t, ctx, s, "reader", tenants.Permission{Audience: ordersAudience, Scope: "read:orders"})
	writer := mustRole(t, ctx, s, "writer", tenants.Permission{Audience: ordersAudience, Scope: "write:orders"},
		tenants.Permission{Audience: "https://other.example.com", Scope: "write:orders"})
	refunder := mustRole(t, ctx, s, "refunder", tenants.Permission{Audience: ordersAudience, Scope: "refund:orders"})
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	staff, ops := mustGroup(t, ctx, s, "staff"), mustGroup(t, ctx, s, "ops")

	perms := func(userID string) []string {
		t.Helper()
		got, err := s.UserPermissions(ctx, userID, ordersAudience)
		must(t, "user permissions", err)
		return got
	}
	if got := perms(u.ID); len(got) != 0 {
		t.Errorf("permissions of a user without roles = %v", got)
	}
	must(t, "add user role", s.AddUserRole(ctx, u.ID, reader.ID))
	must(t, "add user role twice", s.AddUserRole(ctx, u.ID, reader.ID))
	must(t, "add member", s.AddGroupMember(ctx, staff.ID, u.ID))
	must(t, "add member", s.AddGroupMember(ctx, ops.ID, u.ID))
	must(t, "add member", s.AddGroupMember(ctx, staff.ID, other.ID))
	must(t, "add group role", s.AddGroupRole(ctx, staff.ID, writer.ID))
	must(t, "add group role", s.AddGroupRole(ctx, ops.ID, writer.ID))
	must(t, "add group role", s.AddGroupRole(ctx, ops.ID, reader.ID))
	must(t, "add group role", s.AddGroupRole(ctx, ops.ID, reader.ID))

	if got, want := perms(u.ID), []string{"read:orders", "write:orders"}; !slices.Equal(got, want) {
		t.Errorf("permissions = %v, want %v", got, want)
	}
	if got, want := perms(other.ID), []string{"write:orders"}; !slices.Equal(got, want) {
		t.Errorf("permissions of the other member = %v, want %v", got, want)
	}
	// The token path's one read: each role once however many ways it is
	// held, the groups, the permissions on the audience asked for only.
	ua, err := s.UserAccess(ctx, u.ID, tenants.AccessQuery{Roles: true, Groups: true, Passed: true, PermissionsOf: ordersAudience})
	must(t, "user access", err)
	if got, want := ua.RoleClaim(false), []string{"reader", "writer"}; !slices.Equal(got, want) {
		t.Errorf("access roles = %v, want %v", got, want)
	}
	if got, want := ua.RoleClaim(true), []string{reader.ID, writer.ID}; !slices.Equal(got, tenants.ClaimNames(want)) {
		t.Errorf("access role ids = %v, want %v", got, want)
	}
	if got, want := ua.GroupClaim(false), []string{"ops", "staff"}; !slices.Equal(got, want) || len(ua.Passed) != 0 {
		t.Errorf("access groups = %v (passed %v), want %v", got, ua.Passed, want)
	}
	if got, want := ua.Permissions, []string{"read:orders", "write:orders"}; !slices.Equal(got, want) {
		t.Errorf("access permissions = %v, want %v", got, want)
	}
	if ua, err := s.UserAccess(ctx, u.ID, tenants.AllAccess); err != nil || len(ua.Permissions) != 0 || len(ua.Roles) != 2 {
		t.Errorf("access without an audience = %+v, %v: want the roles, no permissions", ua, err)
	}
	eff, err := s.EffectiveRoles(ctx, u.ID)
	must(t, "effective roles", err)
	type row struct {
		name   string
		direct bool
		via    []string
	}
	var got []row
	for _, e := range eff {
		r := row{name: e.Role.Name, direct: e.Direct}
		for _, g := range e.Via {
			r.via = append(r.via, g.Name)
		}
		got = append(got, r)
	}
	want := []row{{"reader", true, []string{"ops"}}, {"writer", false, []string{"ops", "staff"}}}
	if len(got) != len(want) {
		t.Fatalf("effective roles = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].name != want[i].name || got[i].direct != want[i].direct || !slices.Equal(got[i].via, want[i].via) {
			t.Errorf("effective role %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	groups, err := s.UserGroups(ctx, u.ID)
	must(t, "user groups", err)
	if len(groups) != 2 || groups[0].Name != "ops" || groups[1].Name != "staff" {
		t.Errorf("groups = %+v, want ops, staff", groups)
	}
	members, err := s.ListGroupMembers(ctx, staff.ID)
	must(t, "members", err)
	if len(members) != 2 || members[0].ID != u.ID || members[1].ID != other.ID {
		t.Errorf("members of staff = %+v", members)
	}
	roles, err := s.GroupRoles(ctx, ops.ID)
	must(t, "group roles", err)
	if len(roles) != 2 || roles[0].Name != "reader" || len(roles[0].Permissions) != 1 || roles[1].Name != "writer" {
		t.Errorf("roles of ops = %+v", roles)
	}

	// Taking a role away, directly or through a group, takes its scopes.
	must(t, "remove user role", s.RemoveUserRole(ctx, u.ID, reader.ID))
	if got, want := perms(u.ID), []string{"read:orders", "write:orders"}; !slices.Equal(got, want) {
		t.Errorf("after removing the direct reader (still via ops): %v, want %v", got, want)
	}
	if err := s.RemoveUserRole(ctx, u.ID, reader.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second removal: err = %v", err)
	}
	must(t, "remove member", s.RemoveGroupMember(ctx, ops.ID, u.ID))
	if got, want := perms(u.ID), []string{"write:orders"}; !slices.Equal(got, want) {
		t.Errorf("after leaving ops: %v, want %v", got, want)
	}
	must(t, "remove group role", s.RemoveGroupRole(ctx, staff.ID, writer.ID))
	if got := perms(u.ID); len(got) != 0 {
		t.Errorf("after staff lost writer: %v", got)
	}
	if err := s.RemoveGroupRole(ctx, staff.ID, writer.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second removal of a group role: err = %v", err)
	}
	if err := s.RemoveGroupMember(ctx, ops.ID, u.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second removal of a member: err = %v", err)
	}

	// Links name rows that exist.
	if err := s.AddUserRole(ctx, u.ID, "missing"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("add a missing role: err = %v", err)
	}
	if err := s.AddUserRole(ctx, "missing", reader.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("add a role to a missing user: err = %v", err)
	}
	if err := s.AddGroupMember(ctx, "missing", u.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("add to a missing group: err = %v", err)
	}
	if err := s.AddGroupRole(ctx, staff.ID, "missing"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("add a missing role to a group: err = %v", err)
	}

	// An API that drops a scope takes it from every role; deleting the
	// API takes every permission on it.
	must(t, "add user role", s.AddUserRole(ctx, u.ID, refunder.ID))
	must(t, "add user role", s.AddUserRole(ctx, u.ID, reader.ID))
	api.Scopes = []tenants.Scope{{Name: "read:orders"}, {Name: "write:orders"}}
	must(t, "update API", s.UpdateAPI(ctx, api))
	if got, want := perms(u.ID), []string{"read:orders"}; !slices.Equal(got, want) {
		t.Errorf("after the API dropped refund:orders: %v, want %v", got, want)
	}
	if r, _ := s.RoleByID(ctx, refunder.ID); len(r.Permissions) != 0 {
		t.Errorf("refunder keeps %v", r.Permissions)
	}
	must(t, "delete API", s.DeleteAPI(ctx, api.ID))
	if n := countRows(t, s, "role_permissions", "api_id", api.ID); n != 0 {
		t.Errorf("%d permissions outlive their API", n)
	}

	// Deleting a group or a user takes their links.
	must(t, "delete group", s.DeleteGroup(ctx, staff.ID))
	for _, table := range []string{"group_members", "group_roles"} {
		if n := countRows(t, s, table, "group_id", staff.ID); n != 0 {
			t.Errorf("%d rows of %s outlive their group", n, table)
		}
	}
	if err := s.DeleteGroup(ctx, staff.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete of a group: err = %v", err)
	}
	must(t, "add member", s.AddGroupMember(ctx, ops.ID, u.ID))
	must(t, "delete user", s.DeleteUser(ctx, u.ID))
	for _, table := range []string{"group_members", "user_roles"} {
		if n := countRows(t, s, table, "user_id", u.ID); n != 0 {
			t.Errorf("%d rows of %s outlive their user", n, table)
		}
	}
}

// testGroups covers a group's own fields.
func testGroups(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "groups")
	g := mustGroup(t, ctx, s, "staff")
	if err := s.CreateGroup(ctx, &tenants.Group{Name: "staff"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("second group named staff: err = %v", err)
	}
	g.Name, g.Description = "employees", "Everyone"
	must(t, "update group", s.UpdateGroup(ctx, g))
	got, err := s.GroupByName(ctx, "employees")
	must(t, "group by name", err)
	if got.ID != g.ID || got.Description != "Everyone" {
		t.Errorf("group = %+v", got)
	}
	if _, err := s.GroupByID(ctx, g.ID); err != nil {
		t.Errorf("group by id: %v", err)
	}
	mustGroup(t, ctx, s, "admins")
	gs, err := s.ListGroups(ctx)
	must(t, "list groups", err)
	if len(gs) != 2 || gs[0].Name != "admins" || gs[1].Name != "employees" {
		t.Errorf("groups = %+v", gs)
	}
	if err := s.UpdateGroup(ctx, &tenants.Group{ID: "missing", Name: "x"}); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("update of a missing group: err = %v", err)
	}
}

// testUpstreamGroups covers the sync of a connection's group mapping at a
// sign-in: mapped groups asserted add memberships, groups no longer
// asserted end only the memberships the connection made, an admin's
// membership is never touched, and unmapped groups pass through only for a
// connection that allows it.
func testUpstreamGroups(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "upstream-groups")
	u := mustUser(t, ctx, s, "sync@example.com")
	conn := mustConnection(t, ctx, s, "corp")
	x := mustExternalIdentity(t, ctx, s, u.ID, conn.ID, "sync-subject")
	eng, ops, admins := mustGroup(t, ctx, s, "eng"), mustGroup(t, ctx, s, "ops"), mustGroup(t, ctx, s, "admins")
	must(t, "set maps", s.SetConnectionGroupMaps(ctx, conn.ID, []tenants.GroupMap{
		{UpstreamGroup: "Engineering", GroupID: eng.ID}, {UpstreamGroup: "Ops", GroupID: ops.ID}, {UpstreamGroup: "Admins", GroupID: admins.ID},
	}))
	if ms, err := s.ConnectionGroupMaps(ctx, conn.ID); err != nil || len(ms) != 3 {
		t.Fatalf("maps = %v, %v", ms, err)
	}
	if err := s.SetConnectionGroupMaps(ctx, conn.ID, []tenants.GroupMap{{UpstreamGroup: "x", GroupID: "missing"}}); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("map to a missing group: err = %v", err)
	}
	if ms, _ := s.ConnectionGroupMaps(ctx, conn.ID); len(ms) != 3 {
		t.Errorf("a refused replacement changed the maps: %v", ms)
	}
	// An admin made the user a member of ops by hand.
	must(t, "manual member", s.AddGroupMember(ctx, ops.ID, u.ID))
	names := func() []string {
		gs, err := s.UserGroups(ctx, u.ID)
		must(t, "user groups", err)
		var out []string
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return out
	}
	sync, err := s.SyncUpstreamGroups(ctx, x, []string{"Engineering", "Ops", "Unmapped"})
	must(t, "first sync", err)
	if got := names(); !slices.Equal(got, []string{"eng", "ops"}) || !slices.Equal(sync.Added, []string{eng.ID}) {
		t.Errorf("after the first sync: groups %v, added %v", got, sync.Added)
	}
	sync, err = s.SyncUpstreamGroups(ctx, x, []string{"Admins"})
	must(t, "second sync", err)
	if got := names(); !slices.Equal(got, []string{"admins", "ops"}) || !slices.Equal(sync.Removed, []string{eng.ID}) {
		t.Errorf("after the second sync: groups %v (the manual ops stays), removed %v", got, sync.Removed)
	}
	if xs, _ := s.ListExternalIdentities(ctx, u.ID); len(xs) != 1 || !slices.Equal(xs[0].UpstreamGroups, []string{"Admins"}) {
		t.Errorf("stored upstream groups = %v", xs)
	}
	if gs, err := s.PassedGroups(ctx, u.ID); err != nil || len(gs) != 0 {
		t.Errorf("passed groups of a connection that passes none = %v, %v", gs, err)
	}
	if passes, err := s.PassesGroups(ctx); err != nil || passes {
		t.Errorf("passes groups before any connection does = %v, %v", passes, err)
	}
	conn.PassGroups = true
	must(t, "update connection", s.UpdateConnection(ctx, conn))
	if passes, err := s.PassesGroups(ctx); err != nil || !passes {
		t.Errorf("passes groups once a connection does = %v, %v", passes, err)
	}
	_, err = s.SyncUpstreamGroups(ctx, x, []string{"Admins", "Unmapped", "Other"})
	must(t, "third sync", err)
	if gs, err := s.PassedGroups(ctx, u.ID); err != nil || !slices.Equal(gs, []string{"Other", "Unmapped"}) {
		t.Errorf("passed groups = %v, %v, want the unmapped ones", gs, err)
	}
	if ua, err := s.UserAccess(ctx, u.ID, tenants.AllAccess); err != nil || !slices.Equal(ua.GroupClaim(false), []string{"Other", "Unmapped", "admins", "ops"}) {
		t.Errorf("groups claim = %+v, %v, want the groups and the unmapped upstream ones", ua, err)
	}
	// An admin adding a membership the connection made makes it theirs.
	must(t, "manual admins", s.AddGroupMember(ctx, admins.ID, u.ID))
	_, err = s.SyncUpstreamGroups(ctx, x, nil)
	must(t, "empty sync", err)
	if got := names(); !slices.Equal(got, []string{"admins", "ops"}) {
		t.Errorf("after an empty sync: groups %v, want the admin's memberships only", got)
	}
	// Unlinking the identity ends the memberships its connection made.
	_, err = s.SyncUpstreamGroups(ctx, x, []string{"Engineering"})
	must(t, "sync eng", err)
	must(t, "unlink", s.DeleteExternalIdentity(ctx, u.ID, x.ID))
	if got := names(); !slices.Equal(got, []string{"admins", "ops"}) {
		t.Errorf("after unlinking: groups %v", got)
	}
	// An identity linked while the address was unproven loses its link,
	// and its memberships, when someone proves the address.
	un := newExternalIdentity(u.ID, conn.ID, "unproven-sync")
	un.LinkedUnproven = true
	must(t, "unproven identity", s.CreateExternalIdentity(ctx, un))
	_, err = s.SyncUpstreamGroups(ctx, un, []string{"Engineering"})
	must(t, "sync unproven", err)
	if got := names(); !slices.Equal(got, []string{"admins", "eng", "ops"}) {
		t.Errorf("after the unproven identity's sync: groups %v", got)
	}
	if _, err := s.DeleteUnprovenIdentities(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(); !slices.Equal(got, []string{"admins", "ops"}) {
		t.Errorf("after the address was proven: groups %v, want the unproven identity's memberships gone", got)
	}
}
