package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestDomainChangesReachOtherNode checks that node B routes a custom
// domain verified on node A, and stops routing it once A removes it,
// learning both from the change feed alone (B remembered the domain as
// unknown first, and caches the tenant meanwhile).
func TestDomainChangesReachOtherNode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		a, b := twoNodes(t, db)
		tn := storetest.MustTenant(t, a, "domfeed")
		actx := tenants.WithTenant(context.Background(), tn)
		cfg := cache.Config{Poll: 20 * time.Millisecond, Fallback: time.Hour}
		if db.Name == tenants.DialectPostgres {
			cfg.Poll = time.Hour
		}
		cb := cache.New(b, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := cb.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		go cb.Run(ctx)
		if db.Name == tenants.DialectPostgres {
			eventually(t, "B listens", cb.Listening)
		}
		const host = "login.domfeed.example.org"
		routes := func() bool {
			got, err := cb.TenantByDomain(ctx, host)
			return err == nil && got.ID == tn.ID
		}
		gone := func() bool {
			_, err := cb.TenantByDomain(ctx, host)
			return errors.Is(err, tenants.ErrNotFound)
		}
		if err := a.CreateDomain(actx, &tenants.Domain{Host: host, Challenge: "c"}); err != nil {
			t.Fatal(err)
		}
		if !gone() {
			t.Fatal("B routes an unverified domain")
		}
		if _, err := cb.TenantByHost(ctx, tn.Host); err != nil {
			t.Fatal(err)
		}
		if err := a.MarkDomainVerified(actx, host); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B routes the domain A verified", routes)
		if !routes() || !routes() {
			t.Fatal("B forgets the domain") // answered from memory now
		}
		if err := a.DeleteDomain(actx, "LOGIN.domfeed.example.org"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B stops routing the domain A removed", gone)
	})
}
