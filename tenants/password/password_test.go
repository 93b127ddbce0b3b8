package password

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

var small = Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashVerifyAndRehash(t *testing.T) {
	ctx := context.Background()
	weak := New(small, Bound{})
	strong := New(Params{Memory: 2048, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}, Bound{})
	h, err := weak.Hash(ctx, "correct horse battery staple")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("PHC string %q, %v", h, err)
	}
	if rehash, err := weak.Verify(ctx, h, "correct horse battery staple"); err != nil || rehash {
		t.Fatalf("same parameters: rehash=%v err=%v", rehash, err)
	}
	if rehash, err := strong.Verify(ctx, h, "correct horse battery staple"); err != nil || !rehash {
		t.Fatalf("stronger parameters must ask for a rehash: rehash=%v err=%v", rehash, err)
	}
	if _, err := weak.Verify(ctx, h, "correct horse battery stapl"); err != ErrMismatch {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := weak.Verify(ctx, h, "correct horse battery staple"+strings.Repeat("x", MaxLength)); err != ErrMismatch {
		t.Fatalf("an overlong password must not match (no truncation): %v", err)
	}
	for _, bad := range []string{"", "$2y$10$abc", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=18$m=1024,t=1,p=1$c2FsdA$aGFzaA"} {
		if _, err := weak.Verify(ctx, bad, "x"); err == nil || err == ErrMismatch || errors.Is(err, ErrBusy) {
			t.Fatalf("malformed hash %q: %v", bad, err)
		}
	}
}

// TestDefaultBound: as many hashes at once as cores (per lane), fewer
// when GOMEMLIMIT would be exceeded by a quarter, never none.
func TestDefaultBound(t *testing.T) {
	owasp := DefaultParams() // 19 MiB
	for _, tc := range []struct {
		name     string
		p        Params
		procs    int
		limit    int64
		wantHash uint64 // hashes of p at once
	}{
		{"two cores, no limit", owasp, 2, math.MaxInt64, 2},
		{"eight cores, no limit", owasp, 8, math.MaxInt64, 8},
		{"two lanes a hash", Params{Memory: 19 * 1024, Time: 2, Threads: 2}, 8, math.MaxInt64, 4},
		{"more lanes than cores", Params{Memory: 19 * 1024, Time: 2, Threads: 4}, 2, math.MaxInt64, 1},
		{"a limit of 1 GiB allows 13 of 19 MiB", owasp, 64, 1 << 30, 13},
		{"a limit of 1 GiB on two cores", owasp, 2, 1 << 30, 2},
		{"a limit too small for one", owasp, 8, 32 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bound(tc.p, tc.procs, tc.limit)
			if want := tc.wantHash * uint64(tc.p.Memory); b.Memory != want {
				t.Errorf("Memory = %d KiB (%d hashes), want %d KiB (%d hashes)", b.Memory, b.Memory/uint64(tc.p.Memory), want, tc.wantHash)
			}
			if b.Wait <= 0 || b.Wait > 5*time.Second {
				t.Errorf("Wait = %v, want a short wait", b.Wait)
			}
		})
	}
}

// full takes all of h's memory, as hashes in progress would.
func full(t *testing.T, h *Hasher) (release func()) {
	t.Helper()
	if !h.sem.TryAcquire(h.capacity) {
		t.Fatal("the hasher is not idle")
	}
	var once sync.Once
	return func() { once.Do(func() { h.sem.Release(h.capacity) }) }
}

// TestBusyAfterWait: when the bound is taken, every kind of hash waits
// its turn for Wait and then fails with ErrBusy, having computed nothing;
// once memory is free again, hashing works.
func TestBusyAfterWait(t *testing.T) {
	ctx := context.Background()
	const wait = 30 * time.Millisecond
	h := New(small, Bound{Memory: 1024, Wait: wait})
	stored, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	release := full(t, h)
	defer release()
	before := h.Computed()
	for name, try := range map[string]func() error{
		"Hash":        func() error { _, err := h.Hash(ctx, "pw"); return err },
		"Verify":      func() error { _, err := h.Verify(ctx, stored, "correct horse battery staple"); return err },
		"VerifyDummy": func() error { return h.VerifyDummy(ctx, "pw") },
		"Imitate":     func() error { return h.Imitate(ctx) },
	} {
		start := time.Now()
		err := try()
		if !errors.Is(err, ErrBusy) {
			t.Errorf("%s with the bound taken: err = %v, want ErrBusy", name, err)
		}
		if errors.Is(err, ErrMismatch) {
			t.Errorf("%s: busy must not read as a wrong password", name)
		}
		if d := time.Since(start); d < wait {
			t.Errorf("%s gave up after %v, before its wait of %v", name, d, wait)
		}
	}
	if n := h.Computed(); n != before {
		t.Errorf("%d hashes computed while busy, want none", n-before)
	}
	release()
	if _, err := h.Verify(ctx, stored, "correct horse battery staple"); err != nil {
		t.Errorf("Verify once the bound is free: %v", err)
	}
}

// TestCancelledWaitLeaksNothing: callers that give up while waiting (the
// client went away) get ErrBusy and leave the semaphore as it was, so the
// whole bound is available again afterwards.
func TestCancelledWaitLeaksNothing(t *testing.T) {
	h := New(small, Bound{Memory: 2048, Wait: time.Minute})
	release := full(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := h.Verify(ctx, h.dummy, "pw")
			errs <- err
		})
	}
	time.Sleep(20 * time.Millisecond) // let them queue
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled wait: err = %v, want ErrBusy (context canceled)", err)
		}
	}
	release()
	if !h.sem.TryAcquire(h.capacity) {
		t.Fatal("after cancelled waits, the bound is not whole again: weight leaked")
	}
	h.sem.Release(h.capacity)
}

// TestBoundHoldsMemoryNotCount: hashes take their own memory from the
// bound, so a bound of two small hashes lets two run while a third waits,
// and a stored hash heavier than the whole bound still runs (alone)
// instead of waiting for ever.
func TestBoundHoldsMemoryNotCount(t *testing.T) {
	ctx := context.Background()
	h := New(small, Bound{Memory: 2 * 1024, Wait: 20 * time.Millisecond})
	r1, err := h.acquire(ctx, 1024)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.acquire(ctx, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("a third hash with two in progress: err = %v, want ErrBusy", err)
	}
	r1()
	r2()
	heavy := New(Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, Bound{})
	stored, err := heavy.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Verify(ctx, stored, "correct horse battery staple"); err != nil {
		t.Errorf("a stored hash heavier than the bound: %v", err)
	}
}

// TestImitateComputesNothing: Imitate waits about a hash's time and
// computes none.
func TestImitateComputesNothing(t *testing.T) {
	ctx := context.Background()
	h := New(small, Bound{})
	for range 3 {
		if err := h.VerifyDummy(ctx, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Duration(h.took.Load())
	before := h.Computed()
	start := time.Now()
	if err := h.Imitate(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < took*9/10 {
		t.Errorf("Imitate took %v, less than a hash's %v", d, took)
	}
	if h.Computed() != before {
		t.Error("Imitate computed a hash")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.Imitate(cctx); !errors.Is(err, ErrBusy) {
		t.Errorf("Imitate for a cancelled request: %v, want ErrBusy", err)
	}
}

func TestCommonPasswords(t *testing.T) {
	c, err := LoadCommon()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.set) < 40000 {
		t.Fatalf("only %d common passwords loaded", len(c.set))
	}
	for _, pw := range []string{"password", "PASSWORD", " qwerty ", "123456654321", "qazwsxedcrfv"} {
		if !c.Contains(pw) {
			t.Errorf("%q is not found", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "Gatehouse-2026-is-fine"} {
		if c.Contains(pw) {
			t.Errorf("%q is found", pw)
		}
	}
}

// BenchmarkVerifyDefault is the cost of one login's hash with OWASP's
// parameters, which DefaultBound's wait is measured against.
func BenchmarkVerifyDefault(b *testing.B) {
	ctx := context.Background()
	h := New(DefaultParams(), Bound{})
	for b.Loop() {
		_ = h.VerifyDummy(ctx, "correct horse battery staple")
	}
}
