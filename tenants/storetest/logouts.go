package storetest

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// mustLogoutClient creates a client listening for back-channel logouts at
// uri ("" for not listening).
func mustLogoutClient(t testing.TB, ctx context.Context, s *tenants.Store, clientID, uri string, sessionRequired bool) *tenants.Client {
	t.Helper()
	c := mustClient(t, ctx, s, clientID)
	c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = uri, sessionRequired
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatalf("update client: %v", err)
	}
	return c
}

// mustSIDFamily redeems a code of client for user into a token family of
// the session sid names.
func mustSIDFamily(t testing.TB, ctx context.Context, s *tenants.Store, clientID, userID, sid string) *tenants.Grant {
	t.Helper()
	ar, _ := mustCode(t, ctx, s, clientID, userID)
	issue := newIssue(s, clientID, userID)
	issue.Grant.SID = sid
	if err := s.RedeemCode(ctx, ar.ID, issue); err != nil {
		t.Fatalf("redeem code: %v", err)
	}
	return issue.Grant
}

// logoutTargets lists a tenant's pending logout deliveries to clients as
// "client/sid", sorted.
func logoutTargets(t testing.TB, ctx context.Context, s *tenants.Store, clients ...string) []string {
	t.Helper()
	var out []string
	for _, c := range clients {
		ds, err := s.ListLogoutDeliveries(ctx, c, 1000)
		if err != nil {
			t.Fatalf("list logout deliveries: %v", err)
		}
		for _, d := range ds {
			if d.Status == tenants.DeliveryPending {
				out = append(out, d.ClientID+"/"+d.SID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// testBackchannelLogouts checks the logout outbox: which ends of a session
// tell which clients (OpenID Connect Back-Channel Logout 1.0), and the
// dispatcher's claims and outcomes with their audit events.
func testBackchannelLogouts(t *testing.T, s *tenants.Store) {
	clock := s.Now()
	s.SetClock(func() time.Time { return clock })
	ctx, tn := newTenant(t, s, "logouts")
	u := mustUser(t, ctx, s, "logout@example.com")
	mustLogoutClient(t, ctx, s, "rp-a", "https://a.example.com/logout?x=1", false)
	mustLogoutClient(t, ctx, s, "rp-b", "https://b.example.com/logout", true)
	mustLogoutClient(t, ctx, s, "rp-c", "", false)
	clients := []string{"rp-a", "rp-b", "rp-c"}

	newSess := func(signIn string) *tenants.Session {
		sess := newSession(s, u.ID, time.Hour)
		sess.SignInID = signIn
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		return sess
	}
	s1, s2 := newSess("sign-in-1"), newSess("sign-in-2")
	sid1, sid2 := tenants.SessionSID(s1), tenants.SessionSID(s2)
	if sid1 == sid2 || sid1 == "" || sid1 == s1.ID || sid1 == s1.SignInID {
		t.Fatalf("sids %q, %q: want distinct values that are neither the session id nor the sign-in", sid1, sid2)
	}
	rotated := *s1
	rotated.ID = randomHash()
	if tenants.SessionSID(&rotated) != sid1 {
		t.Fatal("a rotated session (same sign-in) changed its sid")
	}
	for _, c := range clients {
		mustSIDFamily(t, ctx, s, c, u.ID, sid1)
	}
	mustSIDFamily(t, ctx, s, "rp-a", u.ID, sid2)
	mustSIDFamily(t, ctx, s, "rp-b", u.ID, "") // a family of no session

	// Signing out of s1: the listening clients of its families.
	if err := s.LogoutSession(ctx, s1.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := logoutTargets(t, ctx, s, clients...), []string{"rp-a/" + sid1, "rp-b/" + sid1}; !slices.Equal(got, want) {
		t.Fatalf("after signing out: deliveries %v, want %v", got, want)
	}
	if _, err := s.SessionByID(ctx, s1.ID); err == nil {
		t.Fatal("the session survived signing out")
	}
	if err := s.LogoutSession(ctx, s1.ID); err != nil {
		t.Fatalf("signing out of a session gone: %v", err)
	}
	// A session that merely rotates tells nobody.
	if err := s.DeleteSession(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if got := logoutTargets(t, ctx, s, clients...); len(got) != 2 {
		t.Fatalf("a deleted (rotated) session queued logouts: %v", got)
	}
	// An admin (or the user) revokes a session.
	s3 := newSess("sign-in-3")
	sid3 := tenants.SessionSID(s3)
	mustSIDFamily(t, ctx, s, "rp-a", u.ID, sid3)
	if err := s.DeleteUserSession(ctx, u.ID, s3.ID); err != nil {
		t.Fatal(err)
	}
	if got := logoutTargets(t, ctx, s, "rp-a"); !slices.Contains(got, "rp-a/"+sid3) {
		t.Fatalf("revoking a session: deliveries %v, want one for %s", got, sid3)
	}
	// A password change ends every session: every listening client with
	// a live family hears, but not a client needing a sid for a family
	// without one.
	s4 := newSess("sign-in-4")
	sid4 := tenants.SessionSID(s4)
	mustSIDFamily(t, ctx, s, "rp-a", u.ID, sid4)
	if err := s.ChangePassword(ctx, u.ID, "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	got := logoutTargets(t, ctx, s, clients...)
	if !slices.Contains(got, "rp-a/"+sid4) || slices.Contains(got, "rp-b/") || slices.ContainsFunc(got, func(x string) bool { return x[:4] == "rp-c" }) {
		t.Fatalf("after a password change: deliveries %v", got)
	}
	// Once the families are revoked, disabling the user has no session
	// left to end.
	before := len(got)
	if err := s.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := logoutTargets(t, ctx, s, clients...); len(got) != before {
		t.Fatalf("disabling a user with no live family: %d deliveries, want %d", len(got), before)
	}

	// The dispatcher claims every pending delivery once, with its URL.
	cs, err := s.ClaimLogoutDeliveries(context.Background(), "claim-1", time.Minute, 100)
	if err != nil || len(cs) != before {
		t.Fatalf("claimed %d, %v; want %d", len(cs), err, before)
	}
	for _, c := range cs {
		want := map[string]string{"rp-a": "https://a.example.com/logout?x=1", "rp-b": "https://b.example.com/logout"}[c.ClientID]
		if c.URL != want || c.TenantID != tn.ID || c.UserID != u.ID {
			t.Fatalf("claimed %+v: want URL %s", c, want)
		}
	}
	if again, _ := s.ClaimLogoutDeliveries(context.Background(), "claim-2", time.Minute, 100); len(again) != 0 {
		t.Fatalf("claimed %d leased deliveries", len(again))
	}
	ok, failed, retry := cs[0], cs[1], cs[2]
	must(t, "complete ok", s.CompleteLogoutDelivery(ctx, tenants.LogoutResult{Delivery: &ok, Token: "claim-1", OK: true, StatusCode: 200}))
	must(t, "complete failed", s.CompleteLogoutDelivery(ctx, tenants.LogoutResult{Delivery: &failed, Token: "claim-1", StatusCode: 500, Error: "answered HTTP 500"}))
	must(t, "complete retry", s.CompleteLogoutDelivery(ctx, tenants.LogoutResult{Delivery: &retry, Token: "claim-1", StatusCode: 503,
		Error: "answered HTTP 503", NextAttempt: clock.Add(time.Minute)}))
	// A stale claim records nothing.
	must(t, "complete stale", s.CompleteLogoutDelivery(ctx, tenants.LogoutResult{Delivery: &retry, Token: "claim-0", OK: true}))
	evs, err := s.ListAudit(ctx, tenants.AuditFilter{Action: "logout.backchannel", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action+" "+ev.ClientID+" "+ev.Outcome)
		if ev.TargetID != u.ID {
			t.Errorf("audit event %s names %s, want the user", ev.Action, ev.TargetID)
		}
	}
	sort.Strings(actions)
	want := []string{tenants.ActionLogoutDelivered + " " + ok.ClientID + " success", tenants.ActionLogoutFailed + " " + failed.ClientID + " failure"}
	sort.Strings(want)
	if !slices.Equal(actions, want) {
		t.Fatalf("audit events %v, want %v", actions, want)
	}
	// The retry comes due again; once its client stops listening it
	// fails without being sent.
	clock = clock.Add(2 * time.Minute)
	c := mustClientByID(t, ctx, s, retry.ClientID)
	c.BackchannelLogoutURI = ""
	must(t, "stop listening", s.UpdateClient(ctx, c))
	rest, err := s.ClaimLogoutDeliveries(context.Background(), "claim-3", time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rest {
		if r.ClientID == retry.ClientID {
			t.Fatalf("claimed a delivery to %s, which no longer listens", r.ClientID)
		}
	}
	n, err := s.PruneLogoutDeliveries(context.Background(), clock.Add(time.Second))
	if err != nil || n < 2 {
		t.Fatalf("pruned %d, %v; want the finished deliveries", n, err)
	}
}

func mustClientByID(t testing.TB, ctx context.Context, s *tenants.Store, clientID string) *tenants.Client {
	t.Helper()
	c, err := s.ClientByClientID(ctx, clientID)
	if err != nil {
		t.Fatalf("client %s: %v", clientID, err)
	}
	return c
}
