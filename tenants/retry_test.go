package tenants_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestReadRetriedOnceOnDroppedConnection cuts the store's one PostgreSQL
// connection in the middle of a statement, through the fault proxy: a
// read is sent again on a new connection and succeeds; a write, which
// reached the server, is not sent again (the caller sees the outage, not
// the duplicate its retry would have met).
func TestReadRetriedOnceOnDroppedConnection(t *testing.T) {
	proxy, dbURL := storetest.NewDBProxy(t, storetest.PostgresURL(t))
	s := storetest.Open(t, dbURL)
	sqlDB, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1) // the connection cut is the one the pool holds
	var retries atomic.Int64
	s.ObserveReadRetries(func() { retries.Add(1) })
	tn := storetest.MustTenant(t, s, "acme")
	ctx := tenants.WithTenant(context.Background(), tn)
	if _, err := s.TenantByID(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}

	proxy.DropNextAnswer(1)
	got, err := s.TenantByID(ctx, tn.ID)
	if err != nil || got.ID != tn.ID {
		t.Fatalf("a read across a dropped connection: %v", err)
	}
	if proxy.Dropped() != 1 || retries.Load() != 1 {
		t.Fatalf("the proxy dropped %d answers, %d retries: want 1 each", proxy.Dropped(), retries.Load())
	}

	// Twice in a row: the retry is once, and its failure is the caller's.
	proxy.DropNextAnswer(2)
	if _, err := s.TenantByID(ctx, tn.ID); !tenants.Unavailable(err) {
		t.Fatalf("a read whose retry is cut too: %v, want the outage", err)
	}
	if proxy.Dropped() != 3 || retries.Load() != 2 {
		t.Fatalf("the proxy dropped %d answers, %d retries: want 3 and 2, a read is sent at most twice", proxy.Dropped(), retries.Load())
	}

	proxy.DropNextAnswer(1)
	until := time.Now().Add(time.Minute)
	err = s.UseDPoPProof(ctx, "jkt", "jti-1", until)
	if errors.Is(err, tenants.ErrAlreadyExists) || !tenants.Unavailable(err) {
		t.Fatalf("a write across a dropped connection: %v, want the outage (a retry would find its own row)", err)
	}
	if proxy.Dropped() != 4 {
		t.Fatalf("the proxy dropped %d answers, want 4", proxy.Dropped())
	}
	// The write did reach the server, once: that is why it is not retried.
	if err := s.UseDPoPProof(ctx, "jkt", "jti-1", until); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Fatalf("the cut write was not done: %v", err)
	}

	// A write that is answered with rows (INSERT ... RETURNING) travels as
	// a query does, and is not retried either.
	proxy.DropNextAnswer(1)
	err = tenants.InsertReturningForTest(ctx, s, tn.ID, "jkt", "jti-2")
	if errors.Is(err, tenants.ErrAlreadyExists) || !tenants.Unavailable(err) {
		t.Fatalf("an INSERT ... RETURNING across a dropped connection: %v, want the outage", err)
	}
	if err := s.UseDPoPProof(ctx, "jkt", "jti-2", until); !errors.Is(err, tenants.ErrAlreadyExists) || proxy.Dropped() != 5 || retries.Load() != 2 {
		t.Fatalf("the cut INSERT ... RETURNING: %v, %d answers dropped, %d retries", err, proxy.Dropped(), retries.Load())
	}
}
