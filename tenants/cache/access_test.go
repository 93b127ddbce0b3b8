package cache_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestUserAccessFollowsTheRevision checks the cache of users' access on two
// nodes over one database: a second read of an unchanged user is answered
// from memory, a role given or taken away on one node is in the next read
// on the other at once (no change feed is followed here at all), a user of
// another tenant holds nothing, and the cache stays within its size.
func TestUserAccessFollowsTheRevision(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		a, b := twoNodes(t, db)
		tn := storetest.MustTenant(t, a, "access-cache")
		ctx := tenants.WithTenant(context.Background(), tn)
		admin := &tenants.Role{Name: "admin"}
		if err := a.CreateRole(ctx, admin); err != nil {
			t.Fatal(err)
		}
		u := &tenants.User{Email: "cached@example.com"}
		if err := a.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		cb := cache.New(b, cache.Config{Poll: time.Hour, Access: 2})
		q := tenants.AccessQuery{Roles: true, Groups: true}
		roles := func() []string {
			t.Helper()
			fresh, err := b.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			ua, err := cb.UserAccess(ctx, fresh, q)
			if err != nil {
				t.Fatal(err)
			}
			return ua.RoleClaim(false)
		}
		stats := func() (hits, misses uint64) { st := cb.Stats(); return st.AccessHits, st.AccessMisses }

		if got := roles(); len(got) != 0 {
			t.Fatalf("roles before any = %v", got)
		}
		if got := roles(); len(got) != 0 {
			t.Fatalf("roles before any, again = %v", got)
		}
		if h, m := stats(); h != 1 || m != 1 {
			t.Errorf("two reads of an unchanged user: %d hits, %d misses, want 1 and 1", h, m)
		}
		if err := a.AddUserRole(ctx, u.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		if got := roles(); !slices.Equal(got, []string{"admin"}) {
			t.Errorf("roles after A gave admin = %v on B", got)
		}
		if err := a.RemoveUserRole(ctx, u.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		if got := roles(); len(got) != 0 {
			t.Errorf("roles after A took admin away = %v on B", got)
		}
		if h, m := stats(); h != 1 || m != 3 {
			t.Errorf("after two changes: %d hits, %d misses, want 1 and 3", h, m)
		}

		// A user read without the revision (0) is read afresh, never kept.
		if err := a.AddUserRole(ctx, u.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		cz := cache.New(b, cache.Config{Poll: time.Hour})
		zero := &tenants.User{ID: u.ID, TenantID: tn.ID}
		if ua, err := cz.UserAccess(ctx, zero, q); err != nil || !slices.Equal(ua.RoleClaim(false), []string{"admin"}) {
			t.Errorf("a user without a revision: %+v, %v", ua, err)
		}
		if st := cz.Stats(); st.Access != 0 {
			t.Errorf("access of a user without a revision was kept (%d entries)", st.Access)
		}

		// A user of another tenant, read there, holds nothing here, even
		// with the same query and revision as a cached user of this one.
		other := storetest.MustTenant(t, a, "access-cache-other")
		octx := tenants.WithTenant(context.Background(), other)
		ou := &tenants.User{Email: "cached@example.com"}
		if err := a.CreateUser(octx, ou); err != nil {
			t.Fatal(err)
		}
		role := &tenants.Role{Name: "admin"}
		if err := a.CreateRole(octx, role); err != nil {
			t.Fatal(err)
		}
		if err := a.AddUserRole(octx, ou.ID, role.ID); err != nil {
			t.Fatal(err)
		}
		ou, err := b.UserByID(octx, ou.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ua, err := cb.UserAccess(octx, ou, q); err != nil || len(ua.Roles) != 1 {
			t.Fatalf("the other tenant's user in its tenant: %+v, %v", ua, err)
		}
		if ua, err := cb.UserAccess(ctx, ou, q); err != nil || len(ua.Roles) != 0 {
			t.Errorf("the other tenant's user read in this tenant = %+v, %v, want nothing", ua, err)
		}
		if st := cb.Stats(); st.Access > 2 || st.AccessEvictions == 0 {
			t.Errorf("cache of 2: %d entries, %d evictions", st.Access, st.AccessEvictions)
		}
	})
}
