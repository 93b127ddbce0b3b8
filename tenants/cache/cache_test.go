package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestLapsedGrantLeavesTheCache checks that a cached client stops being
// served with a grant once it lapses, though nothing bumped the tenant's
// revision, on every database.
func TestLapsedGrantLeavesTheCache(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		tn := storetest.MustTenant(t, s, "lapse")
		ctx := tenants.WithTenant(context.Background(), tn)
		api := &tenants.API{Name: "x", Audience: "https://x.example.com", Scopes: []tenants.Scope{{Name: "read"}}}
		if err := s.CreateAPI(ctx, api); err != nil {
			t.Fatal(err)
		}
		lapses := now.Add(10 * time.Minute)
		c := &tenants.Client{ClientID: "try", Name: "try", ApplicationType: tenants.AppTypeWeb, TokenEndpointAuthMethod: tenants.AuthMethodBasic,
			GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}}
		if err := s.CreateClient(ctx, c, []tenants.ClientGrant{{APIID: api.ID, Scopes: tenants.Strings{"read"}, ExpiresAt: &lapses}}); err != nil {
			t.Fatal(err)
		}
		cc := cache.New(s, cache.Config{Poll: time.Hour})
		tn, err := cc.TenantByHost(ctx, tn.Host) // cached, at its revision after the writes
		if err != nil {
			t.Fatal(err)
		}
		ctx = tenants.WithTenant(context.Background(), tn)
		if cl, err := cc.Client(ctx, "try"); err != nil || len(cl.Grants) != 1 {
			t.Fatalf("before it lapses: %+v, %v", cl, err)
		}
		now = lapses.Add(-time.Second)
		if cl, _ := cc.Client(ctx, "try"); len(cl.Grants) != 1 {
			t.Fatal("the grant left the cache before it lapsed")
		}
		now = lapses
		if cl, err := cc.Client(ctx, "try"); err != nil || len(cl.Grants) != 0 {
			t.Fatalf("after it lapsed, the cache serves %+v, %v", cl.Grants, err)
		}
	})
}
