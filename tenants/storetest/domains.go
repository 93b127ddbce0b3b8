package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// testDomains follows a custom domain through its life: claimed, found by
// its tenant only, routed only once verified, refused to a second tenant
// in any spelling, freed by its removal, and lapsing unverified after
// DomainClaimTTL so that a squatter cannot hold it.
func testDomains(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	actx, a := newTenant(t, s, "dom-a")
	bctx, _ := newTenant(t, s, "dom-b")
	host := "login." + suffix() + ".example.org"

	d := &tenants.Domain{Host: host, Challenge: "c1"}
	must(t, "claim", s.CreateDomain(actx, d))
	if d.ID == "" || d.TenantID != a.ID || d.Verified() {
		t.Fatalf("claimed %+v", d)
	}
	if _, err := s.TenantByDomain(actx, host); !errors.Is(err, tenants.ErrNotFound) {
		t.Fatalf("an unverified domain routes: %v", err)
	}
	before, _ := s.TenantByID(actx, a.ID)
	must(t, "verify", s.MarkDomainVerified(actx, host))
	after, _ := s.TenantByID(actx, a.ID)
	if after.Revision <= before.Revision {
		t.Errorf("verifying left the revision at %d: other nodes would not route it", after.Revision)
	}
	got, err := s.TenantByDomain(bctx, host)
	if err != nil || got.ID != a.ID || got.Host != a.Host || got.Issuer != a.Issuer {
		t.Fatalf("TenantByDomain = %+v, %v; want tenant a as stored", got, err)
	}
	if ds, err := s.ListDomains(actx); err != nil || len(ds) != 1 || !ds[0].Verified() || ds[0].Challenge != "c1" {
		t.Fatalf("ListDomains = %+v, %v", ds, err)
	}
	if err := s.CreateDomain(bctx, &tenants.Domain{Host: host, Challenge: "c2"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("b claims a's domain: %v, want ErrAlreadyExists", err)
	}
	if err := s.CreateDomain(bctx, &tenants.Domain{Host: strings.ToUpper(host), Challenge: "c2"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("b claims a's domain in upper case: %v, want ErrAlreadyExists", err)
	}
	if err := s.CreateDomain(actx, &tenants.Domain{Host: host, Challenge: "c3"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a claims its own domain twice: %v", err)
	}
	// Long verified: never lapses.
	clk.Advance(tenants.DomainClaimTTL + time.Hour)
	if err := s.CreateDomain(bctx, &tenants.Domain{Host: host, Challenge: "c4"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a verified domain lapsed: %v", err)
	}
	must(t, "remove", s.DeleteDomain(actx, host))
	if _, err := s.TenantByDomain(bctx, host); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("a removed domain routes: %v", err)
	}
	if err := s.DeleteDomain(actx, host); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	// Freed: b may claim it now; an unverified claim holds for the TTL,
	// then lapses and a may take it back.
	must(t, "b claims the freed domain", s.CreateDomain(bctx, &tenants.Domain{Host: host, Challenge: "c5"}))
	clk.Advance(tenants.DomainClaimTTL - time.Minute)
	if err := s.CreateDomain(actx, &tenants.Domain{Host: host, Challenge: "c6"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a fresh claim of b lapsed early: %v", err)
	}
	clk.Advance(2 * time.Minute)
	must(t, "a claims the lapsed domain", s.CreateDomain(actx, &tenants.Domain{Host: host, Challenge: "c7"}))
	if ds, err := s.ListDomains(bctx); err != nil || len(ds) != 0 {
		t.Errorf("b keeps its lapsed claim: %+v, %v", ds, err)
	}
	if err := s.MarkDomainVerified(bctx, host); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("b verifies a's claim: %v", err)
	}
	// The bound.
	for i := 1; i < tenants.MaxDomains; i++ {
		must(t, "claim more", s.CreateDomain(actx, &tenants.Domain{Host: suffix() + ".example.net", Challenge: "x"}))
	}
	if err := s.CreateDomain(actx, &tenants.Domain{Host: suffix() + ".example.net", Challenge: "x"}); !errors.Is(err, tenants.ErrTooManyDomains) {
		t.Errorf("claim %d: %v, want ErrTooManyDomains", tenants.MaxDomains+1, err)
	}
	// Deleting the tenant frees its domains.
	must(t, "delete tenant", s.DeleteTenant(actx))
	must(t, "b claims a's domain after a is gone", s.CreateDomain(bctx, &tenants.Domain{Host: host, Challenge: "c8"}))
}

// testClaimDomainConcurrently has two tenants claim one host at once, ten
// times over: exactly one claim stands each time.
func testClaimDomainConcurrently(t *testing.T, s *tenants.Store) {
	actx, _ := newTenant(t, s, "domrace-a")
	bctx, _ := newTenant(t, s, "domrace-b")
	for range 10 {
		host := suffix() + ".example.com"
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, ctx := range []context.Context{actx, bctx} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.CreateDomain(ctx, &tenants.Domain{Host: host, Challenge: "x"})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, tenants.ErrAlreadyExists):
				t.Errorf("a losing claim: %v, want ErrAlreadyExists", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d claims of %s stand, want 1", won, host)
		}
	}
}
