package authn

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestThrottleConcurrentFailuresAllCount fails one attempt from 20
// goroutines at once, each recording every counter the attempt takes
// (pair, account, address, tenant): every counter must count all 20, on
// PostgreSQL (row locks, a racing first insert) as on SQLite. A failure
// lost to a race is a free guess.
func TestThrottleConcurrentFailuresAllCount(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		tn := storetest.MustTenant(t, s, "race")
		th := NewThrottle(s)
		ctx := context.Background()
		for _, a := range []Attempt{
			{Action: "login", Rules: LoginRules, Tenant: tn.ID, Account: "ann@race.test", Address: "2001:db8::1"},
			{Action: "mfa", Rules: SecondFactorRules, Tenant: tn.ID, Account: "user-1", Address: "192.0.2.1"},
			{Action: "reset", Rules: MailRules, Tenant: tn.ID, Account: "bob@race.test", Address: "192.0.2.2"},
		} {
			const n = 20
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					th.Failed(ctx, a)
				}()
			}
			close(start)
			wg.Wait()
			keys := a.Keys()
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = k.Name
			}
			rows, err := s.Throttles(ctx, names)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(keys) {
				t.Fatalf("%s: %d counters of %d", a.Action, len(rows), len(keys))
			}
			for _, r := range rows {
				if r.Failures != n {
					t.Errorf("%s: counter %s counted %d of %d concurrent failures", a.Action, r.Key, r.Failures, n)
				}
			}
			// And the attempt is refused now.
			if !th.Check(ctx, a).Refuse && a.Action != "reset" {
				t.Errorf("%s: not refused after %d failures", a.Action, n)
			}
		}
	})
}

// TestThrottleBeginTakesTurns: 20 attempts at one account from one
// address begin at once; the pair's five free failures and the one that
// locks let exactly six go on to have their secret checked, and the rest
// are refused — as if they had come one after another. An attempt that
// succeeds (or is never judged) gives its turns back: the address's
// counter counts failures only.
func TestThrottleBeginTakesTurns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		tn := storetest.MustTenant(t, s, "turns")
		th := NewThrottle(s)
		ctx := context.Background()
		a := Attempt{Action: "login", Rules: LoginRules, Tenant: tn.ID, Account: "ann@turns.test", Address: "192.0.2.10"}
		const n = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		var passed []*Turn
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if u := th.Begin(ctx, a); !u.Refuse {
					mu.Lock()
					passed = append(passed, u)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(passed) != int(LoginRules.Pair.Free)+1 {
			t.Fatalf("%d of %d concurrent attempts went on, want %d", len(passed), n, LoginRules.Pair.Free+1)
		}
		// They all succeed: every turn is given back.
		for _, u := range passed {
			u.Cancel(ctx)
		}
		rows, err := s.Throttles(ctx, []string{a.Keys()[0].Name, a.Keys()[2].Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Failures != 0 || r.LockedUntil != nil {
				t.Errorf("counter %s after every turn was given back: %d failures, locked until %v", r.Key, r.Failures, r.LockedUntil)
			}
		}
		// Wrong twice, then right: the pair is forgotten, the address
		// keeps the two failures and not the success's turn.
		for range 2 {
			u := th.Begin(ctx, a)
			if u.Refuse {
				t.Fatal("refused after every turn was given back")
			}
			u.Failed(ctx)
		}
		if u := th.Begin(ctx, a); u.Refuse {
			t.Fatal("refused after two failures")
		} else {
			u.Succeeded(ctx)
		}
		rows, err = s.Throttles(ctx, []string{a.Keys()[0].Name, a.Keys()[2].Name})
		if err != nil || len(rows) != 1 || rows[0].Key != a.Keys()[2].Name || rows[0].Failures != 2 {
			t.Fatalf("after two failures and a success: %+v, %v; want the address's counter at 2 and no pair", rows, err)
		}
	})
}
