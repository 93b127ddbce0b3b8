package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// twoNodes returns two stores on one database: nodes A and B.
func twoNodes(t *testing.T, db storetest.Database) (a, b *tenants.Store) {
	url := db.URL(t)
	return storetest.Open(t, url), storetest.Open(t, url)
}

// eventually waits (up to 20 s: the machine may be busy) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func rename(t *testing.T, s *tenants.Store, tn *tenants.Tenant, name string) {
	t.Helper()
	cp := *tn
	cp.DisplayName = name
	if err := s.UpdateTenantSettings(tenants.WithTenant(context.Background(), tn), &cp); err != nil {
		t.Fatalf("rename %s: %v", tn.Slug, err)
	}
}

func displayName(c *cache.Cache, host string) string {
	t, err := c.TenantByHost(context.Background(), host)
	if err != nil {
		return err.Error()
	}
	return t.DisplayName
}

// TestChangeReachesOtherNode checks that a change node A makes reaches
// node B's cache through the feed: on PostgreSQL through a notification
// alone (B would not poll for an hour), on SQLite by polling.
func TestChangeReachesOtherNode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		a, b := twoNodes(t, db)
		tn := storetest.MustTenant(t, a, "feed")
		cfg := cache.Config{Poll: 20 * time.Millisecond, Fallback: time.Hour}
		if db.Name == tenants.DialectPostgres {
			cfg.Poll = time.Hour
		}
		cb := cache.New(b, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if db.Name == tenants.DialectPostgres {
			go cb.Run(ctx)
			eventually(t, "B listens", cb.Listening)
		} else {
			if err := cb.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			go cb.Run(ctx)
		}
		if got := displayName(cb, tn.Host); got != "Feed" {
			t.Fatalf("B serves %q", got)
		}
		rename(t, a, tn, "Renamed on A")
		eventually(t, "B sees A's change", func() bool { return displayName(cb, tn.Host) == "Renamed on A" })
		// A tenant created on A after B remembered its host as unknown.
		if got := displayName(cb, "later.localhost"); got != tenants.ErrNotFound.Error() {
			t.Fatalf("unknown host: %q", got)
		}
		storetest.MustTenant(t, a, "later")
		eventually(t, "B serves the tenant A created", func() bool { return displayName(cb, "later.localhost") == "Later" })

		// What B reports for the metrics: the feed read and its lag (a
		// change committed on A before B applied it), the lookups.
		st := cb.Stats()
		if st.FeedReadAt.IsZero() || time.Since(st.FeedReadAt) > time.Minute || st.FeedLag <= 0 || st.FeedLag > time.Minute {
			t.Errorf("feed read at %v, lag %v: want a recent read and the lag of a change just made", st.FeedReadAt, st.FeedLag)
		}
		if st.Listening != (db.Name == tenants.DialectPostgres) {
			t.Errorf("listening = %v on %s", st.Listening, db.Name)
		}
		hits, misses := st.TenantHits, st.TenantMisses
		displayName(cb, "later.localhost")
		if st := cb.Stats(); st.TenantHits != hits+1 || st.TenantMisses != misses || st.Tenants < 1 {
			t.Errorf("a cached lookup: hits %d→%d, misses %d→%d, %d tenants cached", hits, st.TenantHits, misses, st.TenantMisses, st.Tenants)
		}
		if misses == 0 {
			t.Error("no tenant lookup missed, though B read each tenant from the database")
		}
	})
}

// TestLostNotificationOnlyDelays makes a change without its notification
// (as if the listener's connection dropped it) and checks that the
// fallback poll still brings it to node B.
func TestLostNotificationOnlyDelays(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		a, b := twoNodes(t, db)
		tn := storetest.MustTenant(t, a, "lost")
		cb := cache.New(b, cache.Config{Poll: 30 * time.Millisecond, Fallback: 30 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := cb.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		go cb.Run(ctx)
		if db.Name == tenants.DialectPostgres {
			eventually(t, "B listens", cb.Listening)
		}
		if got := displayName(cb, tn.Host); got != "Lost" {
			t.Fatalf("B serves %q", got)
		}
		sqlA, err := a.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		// What recordChange writes, less the NOTIFY.
		tx, err := sqlA.Begin()
		if err != nil {
			t.Fatal(err)
		}
		q := func(sql string) string {
			if db.Name == tenants.DialectPostgres {
				return fmt.Sprintf(sql, "$1")
			}
			return fmt.Sprintf(sql, "?")
		}
		if _, err := tx.Exec(q("UPDATE tenants SET display_name = 'Silent', revision = revision + 1 WHERE id = %s"), tn.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(q("INSERT INTO tenant_changes (tenant_id, changed_at) VALUES (%s, CURRENT_TIMESTAMP)"), tn.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B sees the change whose notification was lost", func() bool { return displayName(cb, tn.Host) == "Silent" })
	})
}

// TestDeleteWhileChangesRace deletes a tenant on node A while A keeps
// changing it and B keeps reading it, and checks that once B has read
// the feed it no longer serves the tenant.
func TestDeleteWhileChangesRace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		a, b := twoNodes(t, db)
		tn := storetest.MustTenant(t, a, "doomed")
		cb := cache.New(b, cache.Config{Poll: time.Hour})
		ctx := context.Background()
		if err := cb.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; ; j++ {
					select {
					case <-stop:
						return
					default:
					}
					cp := *tn
					cp.DisplayName = fmt.Sprintf("w%d-%d", i, j)
					err := a.UpdateTenantSettings(tenants.WithTenant(ctx, tn), &cp)
					if errors.Is(err, tenants.ErrNotFound) {
						return
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = cb.TenantByHost(ctx, tn.Host)
				_ = cb.Refresh(ctx)
			}
		}()
		time.Sleep(50 * time.Millisecond)
		if err := a.DeleteTenant(tenants.WithTenant(ctx, tn)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
		if err := cb.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := cb.TenantByHost(ctx, tn.Host); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("B still serves the deleted tenant: %+v, %v", got, err)
		}
	})
}

// TestBehindPruningHorizon checks that a node whose last seen change was
// pruned drops everything it cached, including tenants the remaining
// changes do not name.
func TestBehindPruningHorizon(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		a, b := twoNodes(t, db)
		x := storetest.MustTenant(t, a, "xray")
		y := storetest.MustTenant(t, a, "yank")
		z := storetest.MustTenant(t, a, "zulu")
		cb := cache.New(b, cache.Config{Poll: time.Hour})
		ctx := context.Background()
		if err := cb.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		displayName(cb, x.Host)
		displayName(cb, y.Host)
		if n, _ := cb.Len(); n != 2 {
			t.Fatalf("cached %d tenants, want 2", n)
		}
		head, err := a.TenantChangesHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// y changes while B is away, then z; the feed is pruned to z's.
		rename(t, a, y, "Changed while away")
		rename(t, a, z, "Z")
		if _, err := a.PruneTenantChanges(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		changes, behind, err := a.TenantChangesSince(ctx, head, 100)
		if err != nil || !behind || len(changes) != 1 || changes[0].TenantID != z.ID {
			t.Fatalf("after pruning: %+v behind=%v, %v; want only z's change, behind", changes, behind, err)
		}
		// Pruning again, on any node, changes nothing.
		if n, err := b.PruneTenantChanges(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("second prune deleted %d, %v", n, err)
		}
		if err := cb.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := cb.Len(); n != 0 {
			t.Fatalf("B kept %d tenants after falling behind the feed", n)
		}
		if got := displayName(cb, y.Host); got != "Changed while away" {
			t.Fatalf("B serves %q", got)
		}
		// Caught up: a node at the head is not behind.
		changes, behind, err = a.TenantChangesSince(ctx, changes[0].Seq, 100)
		if err != nil || behind || len(changes) != 0 {
			t.Fatalf("at the head: %+v behind=%v, %v", changes, behind, err)
		}
	})
}

// TestCacheIsBounded checks that the caches keep at most their sizes.
func TestCacheIsBounded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		c := cache.New(s, cache.Config{Poll: time.Hour, Tenants: 2})
		for _, slug := range []string{"one", "two", "three", "one", "three"} {
			tn := storetest.MustTenantOnce(t, s, slug)
			got, err := c.TenantByHost(context.Background(), tn.Host)
			if err != nil || got.ID != tn.ID {
				t.Fatalf("%s: %+v, %v", slug, got, err)
			}
			got, err = c.TenantBySlug(context.Background(), slug)
			if err != nil || got.ID != tn.ID {
				t.Fatalf("%s by slug: %+v, %v", slug, got, err)
			}
		}
		if n, _ := c.Len(); n != 2 {
			t.Fatalf("cached %d tenants, want 2", n)
		}
		// one, two; three evicts one; one evicts two; three is cached.
		if st := c.Stats(); st.TenantEvictions != 2 || st.Tenants != 2 {
			t.Errorf("%d evictions, %d cached; want 2 and 2", st.TenantEvictions, st.Tenants)
		}
	})
}
