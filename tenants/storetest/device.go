package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// sharedUserCode is the user code of a pending device authorization every
// world has, so that a lookup by it that forgets the tenant finds the other
// tenant's row.
const sharedUserCode = "BCDFGHJK"

// privateUserCode is a user code only this world has.
func (w *world) privateUserCode() string { return "P" + w.private }

// newDevice returns a pending device authorization of clientID with user
// code userCode, expiring in ttl.
func newDevice(s *tenants.Store, clientID, userCode string, ttl time.Duration) *tenants.DeviceAuthorization {
	return &tenants.DeviceAuthorization{
		ClientID: clientID, DeviceCodeHash: randomHash(), UserCode: userCode,
		Scopes: tenants.Strings{"openid", "offline_access"}, Audience: "https://api.example.com",
		IntervalSeconds: 5, ExpiresAt: s.Now().Add(ttl),
	}
}

func mustDevice(t testing.TB, ctx context.Context, s *tenants.Store, clientID, userCode string, ttl time.Duration) *tenants.DeviceAuthorization {
	t.Helper()
	d := newDevice(s, clientID, userCode, ttl)
	if err := s.CreateDeviceAuthorization(ctx, d); err != nil {
		t.Fatalf("create device authorization: %v", err)
	}
	return d
}

// mustApprovedDevice creates a device authorization its user approved.
func mustApprovedDevice(t testing.TB, ctx context.Context, s *tenants.Store, clientID, userCode, userID string) *tenants.DeviceAuthorization {
	t.Helper()
	d := mustDevice(t, ctx, s, clientID, userCode, 10*time.Minute)
	if err := s.ApproveDeviceAuthorization(ctx, d.ID, tenants.Authentication{UserID: userID, Time: s.Now(), AMR: []string{"pwd"}}); err != nil {
		t.Fatalf("approve device authorization: %v", err)
	}
	return d
}

// testDeviceAuthorizations walks a device authorization through its
// states: found by user code while pending only, answered once, redeemed
// once and only when approved; user codes are unique per tenant.
func testDeviceAuthorizations(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "device")
	mustClient(t, ctx, s, "tv")
	u := mustUser(t, ctx, s, "ada@example.com")
	d := mustDevice(t, ctx, s, "tv", "WXYZWXYZ", 10*time.Minute)
	if d.ID == "" || d.Status != tenants.DevicePending || d.TenantID == "" {
		t.Fatalf("created %+v", d)
	}
	for name, get := range map[string]func() (*tenants.DeviceAuthorization, error){
		"by user code": func() (*tenants.DeviceAuthorization, error) { return s.DeviceAuthorizationByUserCode(ctx, "WXYZWXYZ") },
		"by id":        func() (*tenants.DeviceAuthorization, error) { return s.DeviceAuthorizationByID(ctx, d.ID) },
		"by code hash": func() (*tenants.DeviceAuthorization, error) {
			return s.DeviceAuthorizationByCodeHash(ctx, d.DeviceCodeHash)
		},
	} {
		got, err := get()
		if err != nil || got.ID != d.ID || got.ClientID != "tv" || got.IntervalSeconds != 5 || !got.Scopes.Contains("offline_access") {
			t.Fatalf("%s: %+v, %v", name, got, err)
		}
	}
	if _, err := s.DeviceAuthorizationByUserCode(ctx, "wxyzwxyz"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("user code in another case: err = %v, want ErrNotFound (normalizing is the caller's)", err)
	}
	if err := s.CreateDeviceAuthorization(ctx, newDevice(s, "tv", "WXYZWXYZ", time.Minute)); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("second authorization with the same user code: err = %v, want ErrAlreadyExists", err)
	}
	if err := s.CreateDeviceAuthorization(ctx, newDevice(s, "nobody", "NOBODYNO", time.Minute)); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("authorization of an unknown client: err = %v, want ErrNotFound", err)
	}
	other, _ := newTenant(t, s, "device-other")
	mustClient(t, other, s, "tv")
	mustDevice(t, other, s, "tv", "WXYZWXYZ", time.Minute) // another tenant may hold the same code

	// Pending: nothing to redeem.
	if err := s.RedeemDeviceAuthorization(ctx, d.ID, newIssue(s, "tv", u.ID)); !errors.Is(err, tenants.ErrConflict) {
		t.Fatalf("redeem pending: err = %v, want ErrConflict", err)
	}
	a := tenants.Authentication{UserID: u.ID, Time: s.Now().Truncate(time.Second), AMR: []string{"pwd", "otp"}, ACR: "mfa"}
	if err := s.ApproveDeviceAuthorization(ctx, d.ID, a); err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDeviceAuthorization(ctx, d.ID, a); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("second approval: err = %v, want ErrConflict", err)
	}
	if err := s.DenyDeviceAuthorization(ctx, d.ID); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("denial after approval: err = %v, want ErrConflict", err)
	}
	if _, err := s.DeviceAuthorizationByUserCode(ctx, "WXYZWXYZ"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("an answered code is still found by its user code: %v", err)
	}
	got, err := s.DeviceAuthorizationByID(ctx, d.ID)
	if err != nil || got.Status != tenants.DeviceApproved || got.UserID != u.ID || !samePtrTime(got.AuthTime, a.Time) || !got.AMR.Contains("otp") || got.ACR != "mfa" {
		t.Fatalf("approved: %+v, %v", got, err)
	}
	issue := newIssue(s, "tv", u.ID)
	if err := s.RedeemDeviceAuthorization(ctx, d.ID, issue); err != nil {
		t.Fatal(err)
	}
	if g, e, r := issueWritten(t, ctx, s, issue); !g || !e || !r {
		t.Errorf("redemption wrote grant, events, refresh = %v, %v, %v", g, e, r)
	}
	second := newIssue(s, "tv", u.ID)
	if err := s.RedeemDeviceAuthorization(ctx, d.ID, second); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("second redemption: err = %v, want ErrConflict", err)
	}
	if g, e, r := issueWritten(t, ctx, s, second); g || e || r {
		t.Errorf("a refused redemption wrote grant, events, refresh = %v, %v, %v", g, e, r)
	}
	got, _ = s.DeviceAuthorizationByCodeHash(ctx, d.DeviceCodeHash)
	if got.Status != tenants.DeviceRedeemed || got.GrantID == nil || *got.GrantID != issue.Grant.ID {
		t.Errorf("redeemed: %+v", got)
	}

	// Denied: answered, never redeemable.
	n := mustDevice(t, ctx, s, "tv", "NNNNNNNN", time.Minute)
	if err := s.DenyDeviceAuthorization(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDeviceAuthorization(ctx, n.ID, a); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("approval after denial: err = %v, want ErrConflict", err)
	}
	if err := s.RedeemDeviceAuthorization(ctx, n.ID, newIssue(s, "tv", u.ID)); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("redeem denied: err = %v, want ErrConflict", err)
	}
	if got, _ := s.DeviceAuthorizationByCodeHash(ctx, n.DeviceCodeHash); got.Status != tenants.DeviceDenied {
		t.Errorf("denied: %+v", got)
	}
	if _, _, err := s.PollDeviceAuthorization(ctx, "no-such-id", 5*time.Second); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("poll of an unknown id: err = %v, want ErrNotFound", err)
	}
}

// testDevicePolling checks the polling interval the store keeps for every
// node: a poll sooner than the interval after the last is early and adds
// the backoff to the interval, and the next poll is judged by the new one.
func testDevicePolling(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, _ := newTenant(t, s, "device-poll")
	mustClient(t, ctx, s, "tv")
	d := mustDevice(t, ctx, s, "tv", "POLLPOLL", 10*time.Minute)
	steps := []struct {
		name         string
		wait         time.Duration
		wantEarly    bool
		wantInterval int64
	}{
		{"first poll", 0, false, 5},
		{"right away", time.Second, true, 10},
		{"after the old interval", 6 * time.Second, true, 15},
		{"after the new interval", 15 * time.Second, false, 15},
		{"at the interval exactly", 15 * time.Second, false, 15},
	}
	for _, st := range steps {
		clk.Advance(st.wait)
		got, early, err := s.PollDeviceAuthorization(ctx, d.ID, 5*time.Second)
		if err != nil || early != st.wantEarly || got.IntervalSeconds != st.wantInterval || !samePtrTime(got.LastPolledAt, clk.Now()) {
			t.Fatalf("%s: %+v, early %v, %v; want early %v, interval %d", st.name, got, early, err, st.wantEarly, st.wantInterval)
		}
		stored, _ := s.DeviceAuthorizationByID(ctx, d.ID)
		if stored.IntervalSeconds != st.wantInterval || !samePtrTime(stored.LastPolledAt, clk.Now()) {
			t.Fatalf("%s: stored %+v", st.name, stored)
		}
	}
}

// testPollDeviceConcurrently polls one device authorization from many
// requests at the same instant: one poll is on time, every other early.
func testPollDeviceConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "device-poll-race")
	mustClient(t, ctx, s, "tv")
	d := mustDevice(t, ctx, s, "tv", "RACERACE", 10*time.Minute)
	const n = 10
	early := make([]bool, n)
	errs := race(n, func(i int) error {
		var err error
		_, early[i], err = s.PollDeviceAuthorization(ctx, d.ID, 5*time.Second)
		return err
	})
	onTime := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		if !early[i] {
			onTime++
		}
	}
	if onTime != 1 {
		t.Fatalf("%d polls on time, want 1", onTime)
	}
	if got, _ := s.DeviceAuthorizationByID(ctx, d.ID); got.IntervalSeconds != 5+5*(n-1) {
		t.Errorf("interval after %d early polls = %d", n-1, got.IntervalSeconds)
	}
}

// testRedeemDeviceConcurrently redeems one approved device authorization
// from many polls at once: exactly one issues tokens.
func testRedeemDeviceConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "device-redeem-race")
	mustClient(t, ctx, s, "tv")
	u := mustUser(t, ctx, s, "ada@example.com")
	d := mustApprovedDevice(t, ctx, s, "tv", "REDEEMIT", u.ID)
	const n = 20
	issues := make([]tenants.Issue, n)
	for i := range issues {
		issues[i] = newIssue(s, "tv", u.ID)
	}
	errs := race(n, func(i int) error { return s.RedeemDeviceAuthorization(ctx, d.ID, issues[i]) })
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("redemptions %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, tenants.ErrConflict):
			t.Errorf("redemption %d: err = %v, want nil or %v", i, err, tenants.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no redemption succeeded")
	}
	for i, issue := range issues {
		g, e, r := issueWritten(t, ctx, s, issue)
		if want := i == winner; g != want || e != want || r != want {
			t.Errorf("redemption %d: grant, events, refresh written = %v, %v, %v; want %v", i, g, e, r, want)
		}
	}
}

// testDeviceExpiry checks that an expired device authorization is found by
// its device code only (to answer expired_token), can be neither answered
// nor redeemed, and that the sweep deletes unanswered ones at expiry and
// answered ones after the grace period.
func testDeviceExpiry(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, _ := newTenant(t, s, "device-expiry")
	mustClient(t, ctx, s, "tv")
	u := mustUser(t, ctx, s, "ada@example.com")
	pending := mustDevice(t, ctx, s, "tv", "PENDINGX", 10*time.Minute)
	approved := mustApprovedDevice(t, ctx, s, "tv", "APPROVED", u.ID)
	clk.Advance(10*time.Minute + time.Second)
	if _, err := s.DeviceAuthorizationByUserCode(ctx, "PENDINGX"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("expired, by user code: err = %v", err)
	}
	if _, err := s.DeviceAuthorizationByID(ctx, pending.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("expired, by id: err = %v", err)
	}
	if got, err := s.DeviceAuthorizationByCodeHash(ctx, pending.DeviceCodeHash); err != nil || got.ID != pending.ID {
		t.Errorf("expired, by code hash: %v, %v; want it, to say expired_token", got, err)
	}
	if err := s.ApproveDeviceAuthorization(ctx, pending.ID, tenants.Authentication{UserID: u.ID, Time: s.Now()}); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("approve expired: err = %v, want ErrConflict", err)
	}
	if err := s.RedeemDeviceAuthorization(ctx, approved.ID, newIssue(s, "tv", u.ID)); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("redeem expired: err = %v, want ErrConflict", err)
	}
	if _, err := s.DeleteExpired(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceAuthorizationByCodeHash(ctx, pending.DeviceCodeHash); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("an expired pending authorization survived the sweep: %v", err)
	}
	if _, err := s.DeviceAuthorizationByCodeHash(ctx, approved.DeviceCodeHash); err != nil {
		t.Errorf("an answered authorization went before the grace period: %v", err)
	}
	clk.Advance(time.Hour)
	if _, err := s.DeleteExpired(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceAuthorizationByCodeHash(ctx, approved.DeviceCodeHash); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("an answered authorization survived the grace period: %v", err)
	}
}
