package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The subtests of authorization requests and the tokens issued from them.

func testAuthRequests(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "authreq")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar := newAuthRequest(s, "web")
	if err := s.CreateAuthRequest(ctx, ar); err != nil {
		t.Fatal(err)
	}
	if ar.ID == "" || ar.TenantID != tn.ID || ar.CreatedAt.IsZero() {
		t.Errorf("CreateAuthRequest left id %q, tenant %q, created %v", ar.ID, ar.TenantID, ar.CreatedAt)
	}
	got, err := s.AuthRequestByID(ctx, ar.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "web" || got.RedirectURI != ar.RedirectURI || got.State != ar.State || got.Nonce != ar.Nonce ||
		!slices.Equal(got.Scopes, ar.Scopes) || got.Audience != ar.Audience || got.ResponseMode != "query" ||
		got.CodeChallenge != ar.CodeChallenge || got.CodeChallengeMethod != "S256" || !slices.Equal(got.Prompt, ar.Prompt) ||
		got.MaxAge == nil || *got.MaxAge != 300 || got.LoginHint != ar.LoginHint || got.BrowserHash != ar.BrowserHash ||
		got.UserID != "" || got.AuthTime != nil || got.CodeHash != nil || got.CodeRedeemedAt != nil || got.GrantID != nil {
		t.Errorf("AuthRequestByID = %+v, want %+v", got, ar)
	}
	if _, err := s.AuthRequestByID(ctx, tenants.NewRandomID()); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("unknown request: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if err := s.CreateAuthRequest(ctx, newAuthRequest(s, "nope")); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("request of an unknown client: err = %v, want %v", err, tenants.ErrNotFound)
	}

	authTime := s.Now().Truncate(time.Second)
	codeHash := randomHash()
	codeExpires := authTime.Add(time.Minute)
	unauthenticated := mustAuthRequest(t, ctx, s, "web")
	// The steps of one request, in order: log in (twice, as prompt=login
	// allows), issue the code, and then nothing more may change.
	steps := []struct {
		name    string
		do      func() error
		wantErr error
	}{
		{"code before login", func() error { return s.IssueCode(ctx, unauthenticated.ID, randomHash(), codeExpires) }, tenants.ErrConflict},
		{"login", func() error {
			return s.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: tenants.NewID(), Time: authTime, AMR: []string{"pwd"}})
		}, nil},
		{"login again", func() error {
			return s.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: u.ID, Time: authTime, AMR: []string{"pwd", "otp"}})
		}, nil},
		{"code", func() error { return s.IssueCode(ctx, ar.ID, codeHash, codeExpires) }, nil},
		{"second code", func() error { return s.IssueCode(ctx, ar.ID, randomHash(), codeExpires) }, tenants.ErrConflict},
		{"login after the code", func() error {
			return s.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: tenants.NewID(), Time: authTime, AMR: nil})
		}, tenants.ErrConflict},
		{"code of an unknown request", func() error { return s.IssueCode(ctx, tenants.NewRandomID(), randomHash(), codeExpires) }, tenants.ErrConflict},
		{"login to an unknown request", func() error {
			return s.SetAuthenticated(ctx, tenants.NewRandomID(), tenants.Authentication{UserID: u.ID, Time: authTime, AMR: nil})
		}, tenants.ErrConflict},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); !errors.Is(err, st.wantErr) {
				t.Errorf("err = %v, want %v", err, st.wantErr)
			}
		})
	}

	t.Run("AuthRequestByCodeHash", func(t *testing.T) {
		got, err := s.AuthRequestByCodeHash(ctx, codeHash)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != ar.ID || got.UserID != u.ID || !slices.Equal(got.AMR, []string{"pwd", "otp"}) || !samePtrTime(got.AuthTime, authTime) ||
			got.CodeHash == nil || *got.CodeHash != codeHash || !samePtrTime(got.CodeExpiresAt, codeExpires) || got.CodeRedeemedAt != nil {
			t.Errorf("AuthRequestByCodeHash = %+v", got)
		}
		if _, err := s.AuthRequestByCodeHash(ctx, randomHash()); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("unknown code: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if got, err := s.AuthRequestByID(ctx, unauthenticated.ID); err != nil || got.CodeHash != nil {
			t.Errorf("request whose code was refused: %+v, %v; want no code", got, err)
		}
	})
}

func testAuthRequestExpiry(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, _ := newTenant(t, s, "authreq-expiry")
	mustClient(t, ctx, s, "web")
	ar := mustAuthRequest(t, ctx, s, "web")
	tests := []struct {
		name    string
		at      time.Time
		wantErr error
	}{
		{"new", ar.CreatedAt, nil},
		{"just before expiry", ar.ExpiresAt.Add(-time.Second), nil},
		{"at expiry", ar.ExpiresAt, tenants.ErrNotFound},
		{"after expiry", ar.ExpiresAt.Add(time.Hour), tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.at.Sub(clk.Now()))
			if _, err := s.AuthRequestByID(ctx, ar.ID); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// issueWritten reports which of the rows of issue exist: its family, its
// audit events (all of them or none, or t fails), its refresh token.
func issueWritten(t *testing.T, ctx context.Context, s *tenants.Store, issue tenants.Issue) (grant, events, refresh bool) {
	t.Helper()
	check := func(what string, err error) bool {
		t.Helper()
		if err != nil && !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("%s: %v", what, err)
		}
		return err == nil
	}
	if issue.Grant != nil {
		_, err := s.GrantByID(ctx, issue.Grant.ID)
		grant = check("grant", err)
	}
	n := 0
	for _, ev := range issue.Events {
		n += countRows(t, s, "audit_events", "id", ev.ID)
	}
	if n != 0 && n != len(issue.Events) {
		t.Errorf("%d of the %d audit events of the issue written, want all or none", n, len(issue.Events))
	}
	events = n > 0
	_, _, err := s.RefreshTokenByHash(ctx, issue.Refresh.TokenHash)
	refresh = check("refresh token", err)
	return grant, events, refresh
}

func testRedeemCode(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "redeem")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar, _ := mustCode(t, ctx, s, "web", u.ID)
	noCode := mustAuthenticated(t, ctx, s, "web", u.ID)
	_, taken := mustRedeemed(t, ctx, s, "web", u.ID)

	failing := newIssue(s, "web", u.ID)
	failing.Refresh.TokenHash = taken.Refresh.TokenHash // a write before the events fails
	failingEvent := newIssue(s, "web", u.ID)
	failingEvent.Events[0].ID = taken.Events[0].ID // the last write fails
	first := newIssue(s, "web", u.ID)
	first.Events = append(first.Events, &tenants.AuditEvent{Action: "consent.granted", TargetType: "client", TargetID: "web"})
	origin := tenants.Origin{IP: "192.0.2.7", UserAgent: "storetest-redeem", RequestID: "req-" + suffix()}
	tests := []struct {
		name      string
		requestID string
		issue     tenants.Issue
		wantErr   error
		written   bool
	}{
		{"a failing write claims nothing", ar.ID, failing, tenants.ErrAlreadyExists, false},
		{"a failing event claims nothing", ar.ID, failingEvent, tenants.ErrAlreadyExists, false},
		{"redeem", ar.ID, first, nil, true},
		// A conflicting redemption (a replayed code) writes no event.
		{"second redeem", ar.ID, newIssue(s, "web", u.ID), tenants.ErrConflict, false},
		{"request without a code", noCode.ID, newIssue(s, "web", u.ID), tenants.ErrConflict, false},
		{"unknown request", tenants.NewRandomID(), newIssue(s, "web", u.ID), tenants.ErrConflict, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RedeemCode(tenants.WithOrigin(ctx, origin), tt.requestID, tt.issue); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			g, e, r := issueWritten(t, ctx, s, tt.issue)
			// The failing issues' refresh hash or event id is taken's,
			// which exists.
			if tt.issue.Refresh.TokenHash == taken.Refresh.TokenHash {
				r = tt.written
			}
			if tt.issue.Events[0].ID == taken.Events[0].ID {
				e = tt.written
			}
			if g != tt.written || e != tt.written || r != tt.written {
				t.Errorf("grant, events, refresh written = %v, %v, %v; want %v", g, e, r, tt.written)
			}
		})
	}

	t.Run("what the redemption wrote", func(t *testing.T) {
		got, err := s.AuthRequestByID(ctx, ar.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CodeRedeemedAt == nil || got.GrantID == nil || *got.GrantID != first.Grant.ID {
			t.Errorf("request after redeem: redeemed %v, grant %v; want the first issue's grant %s", got.CodeRedeemedAt, got.GrantID, first.Grant.ID)
		}
		g, err := s.GrantByID(ctx, first.Grant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.TenantID != tn.ID || g.UserID != u.ID || g.ClientID != "web" || !slices.Equal(g.Scopes, first.Grant.Scopes) ||
			!slices.Equal(g.AMR, []string{"pwd"}) || g.RevokedAt != nil || !sameTime(g.ExpiresAt, first.Grant.ExpiresAt) {
			t.Errorf("GrantByID = %+v, want %+v", g, first.Grant)
		}
		at := familyToken(s, g)
		if st := mustStatus(t, ctx, s, at); !at.usable(st) || !st.GrantFound || st.GrantClientID != "web" || st.GrantUserID != u.ID {
			t.Errorf("access token status %+v: want a usable token of grant %s", *st, g.ID)
		}
		// The events, in the same transaction: of the tenant, with what
		// the request's origin and the store fill in.
		for _, want := range first.Events {
			evs, err := s.ListAudit(ctx, tenants.AuditFilter{TargetID: want.TargetID, Action: want.Action})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Errorf("%d %s events of %s, want 1", len(evs), want.Action, want.TargetID)
				continue
			}
			ev := evs[0]
			if ev.ID != want.ID || ev.TenantID != tn.ID || want.TenantID != tn.ID || ev.Outcome != "success" || ev.OccurredAt.IsZero() ||
				ev.IPAddress != origin.IP || ev.UserAgent != origin.UserAgent || ev.RequestID != origin.RequestID || ev.ClientID != want.ClientID {
				t.Errorf("event %+v, want %+v of tenant %s from %+v", ev, *want, tn.ID, origin)
			}
		}
		rt, rg, err := s.RefreshTokenByHash(ctx, first.Refresh.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if rt.ID == "" || rt.GrantID != g.ID || rt.UsedAt != nil || rt.RevokedAt != nil || rg.ID != g.ID {
			t.Errorf("refresh token %+v of grant %+v", rt, rg)
		}
	})
}

// testRedeemCodeConcurrently redeems one code from many requests at once,
// as an attacker replaying a stolen code does: exactly one wins.
func testRedeemCodeConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "redeem-race")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar, _ := mustCode(t, ctx, s, "web", u.ID)
	const n = 20
	issues := make([]tenants.Issue, n)
	for i := range issues {
		issues[i] = newIssue(s, "web", u.ID)
	}
	errs := race(n, func(i int) error { return s.RedeemCode(ctx, ar.ID, issues[i]) })
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
	got, err := s.AuthRequestByID(ctx, ar.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.GrantID == nil || *got.GrantID != issues[winner].Grant.ID {
		t.Errorf("request's grant = %v, want the winner's %s", got.GrantID, issues[winner].Grant.ID)
	}
	for i, issue := range issues {
		g, e, r := issueWritten(t, ctx, s, issue)
		if want := i == winner; g != want || e != want || r != want {
			t.Errorf("redemption %d: grant, events, refresh written = %v, %v, %v; want %v", i, g, e, r, want)
		}
	}
}

// testRedeemCodeMatching redeems codes as the token endpoint does: only a
// redemption that presents the request's client, redirect_uri and PKCE
// challenge, before the code expires, claims it; every other writes
// nothing. The claim reads the request and its user back, and an error of
// the caller's build undoes the claim.
func testRedeemCodeMatching(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "redeem-match")
	mustClient(t, ctx, s, "web")
	mustClient(t, ctx, s, "other")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar, codeHash := mustCode(t, ctx, s, "web", u.ID)
	good := tenants.CodeMatch{ClientID: "web", RedirectURI: ar.RedirectURI, Challenge: ar.CodeChallenge}
	boom := errors.New("build failed")
	redeem := func(hash string, m tenants.CodeMatch, buildErr error) (*tenants.AuthRequest, *tenants.User, tenants.Issue, error) {
		issue := newIssue(s, "web", u.ID)
		got, gu, err := s.RedeemCodeMatching(ctx, hash, issue.Grant.ID, m, func(_ context.Context, a *tenants.AuthRequest, gu *tenants.User) (tenants.Issue, error) {
			if a.ID != ar.ID || gu == nil || gu.ID != u.ID {
				t.Errorf("build got request %v and user %v, want %s and %s", a, gu, ar.ID, u.ID)
			}
			return issue, buildErr
		})
		return got, gu, issue, err
	}
	tests := []struct {
		name     string
		hash     string
		m        tenants.CodeMatch
		buildErr error
		wantErr  error
	}{
		{"unknown code", randomHash(), good, nil, tenants.ErrConflict},
		{"another client", codeHash, tenants.CodeMatch{ClientID: "other", RedirectURI: good.RedirectURI, Challenge: good.Challenge}, nil, tenants.ErrConflict},
		{"another redirect_uri", codeHash, tenants.CodeMatch{ClientID: "web", RedirectURI: good.RedirectURI + "/x", Challenge: good.Challenge}, nil, tenants.ErrConflict},
		{"another challenge", codeHash, tenants.CodeMatch{ClientID: "web", RedirectURI: good.RedirectURI, Challenge: strings.Repeat("A", 43)}, nil, tenants.ErrConflict},
		{"build fails", codeHash, good, boom, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, issue, err := redeem(tt.hash, tt.m, tt.buildErr)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if g, e, r := issueWritten(t, ctx, s, issue); g || e || r {
				t.Errorf("grant, events, refresh written = %v, %v, %v; want none", g, e, r)
			}
			got, err := s.AuthRequestByID(ctx, ar.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.CodeRedeemedAt != nil || got.GrantID != nil {
				t.Errorf("code claimed by a redemption that failed: redeemed %v, grant %v", got.CodeRedeemedAt, got.GrantID)
			}
		})
	}
	t.Run("redeem", func(t *testing.T) {
		got, gu, issue, err := redeem(codeHash, good, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != ar.ID || got.TenantID != tn.ID || got.Nonce != ar.Nonce || !slices.Equal(got.Scopes, ar.Scopes) ||
			got.CodeRedeemedAt == nil || got.GrantID == nil || *got.GrantID != issue.Grant.ID || gu.ID != u.ID || gu.Email != u.Email {
			t.Errorf("claim read back request %+v and user %+v", got, gu)
		}
		if g, e, r := issueWritten(t, ctx, s, issue); !g || !e || !r {
			t.Errorf("grant, events, refresh written = %v, %v, %v; want all", g, e, r)
		}
		if _, _, again, err := redeem(codeHash, good, nil); !errors.Is(err, tenants.ErrConflict) {
			t.Errorf("second redemption: err = %v, want %v", err, tenants.ErrConflict)
		} else if g, _, _ := issueWritten(t, ctx, s, again); g {
			t.Error("second redemption wrote its grant")
		}
	})
	t.Run("expired code", func(t *testing.T) {
		old := mustAuthenticated(t, ctx, s, "web", u.ID)
		oldHash := randomHash()
		if err := s.IssueCode(ctx, old.ID, oldHash, s.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		m := tenants.CodeMatch{ClientID: "web", RedirectURI: old.RedirectURI, Challenge: old.CodeChallenge}
		issue := newIssue(s, "web", u.ID)
		if _, _, err := s.RedeemCodeMatching(ctx, oldHash, issue.Grant.ID, m, func(context.Context, *tenants.AuthRequest, *tenants.User) (tenants.Issue, error) { return issue, nil }); !errors.Is(err, tenants.ErrConflict) {
			t.Errorf("err = %v, want %v", err, tenants.ErrConflict)
		}
	})
}

// testRedeemCodeMatchingConcurrently presents one code from many requests
// at once: exactly one claims it, with its own grant.
func testRedeemCodeMatchingConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "redeem-match-race")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar, codeHash := mustCode(t, ctx, s, "web", u.ID)
	m := tenants.CodeMatch{ClientID: "web", RedirectURI: ar.RedirectURI, Challenge: ar.CodeChallenge}
	const n = 20
	issues := make([]tenants.Issue, n)
	for i := range issues {
		issues[i] = newIssue(s, "web", u.ID)
	}
	errs := race(n, func(i int) error {
		_, _, err := s.RedeemCodeMatching(ctx, codeHash, issues[i].Grant.ID, m, func(context.Context, *tenants.AuthRequest, *tenants.User) (tenants.Issue, error) {
			return issues[i], nil
		})
		return err
	})
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, tenants.ErrConflict):
			t.Errorf("redemption %d: err = %v, want nil or %v", i, err, tenants.ErrConflict)
		}
		g, _, _ := issueWritten(t, ctx, s, issues[i])
		if g != (err == nil) {
			t.Errorf("redemption %d: err %v, grant written %v", i, err, g)
		}
	}
	if winners != 1 {
		t.Errorf("%d redemptions succeeded, want 1", winners)
	}
}

// testIssueCodeConcurrently issues codes for one request from many
// requests at once: exactly one code is recorded.
func testIssueCodeConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "code-race")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar := mustAuthenticated(t, ctx, s, "web", u.ID)
	const n = 10
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = randomHash()
	}
	errs := race(n, func(i int) error { return s.IssueCode(ctx, ar.ID, hashes[i], s.Now().Add(time.Minute)) })
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("codes %d and %d both issued", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, tenants.ErrConflict):
			t.Errorf("code %d: err = %v, want nil or %v", i, err, tenants.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no code was issued")
	}
	got, err := s.AuthRequestByID(ctx, ar.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CodeHash == nil || *got.CodeHash != hashes[winner] {
		t.Errorf("CodeHash = %v, want the winner's", got.CodeHash)
	}
}

func testBurnCode(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "burn")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar, _ := mustCode(t, ctx, s, "web", u.ID)
	if err := s.BurnCode(ctx, ar.ID); err != nil {
		t.Fatal(err)
	}
	burnt, err := s.AuthRequestByID(ctx, ar.ID)
	if err != nil {
		t.Fatal(err)
	}
	if burnt.CodeRedeemedAt == nil || burnt.GrantID != nil {
		t.Fatalf("burnt request: redeemed %v, grant %v; want redeemed, no grant", burnt.CodeRedeemedAt, burnt.GrantID)
	}
	issue := newIssue(s, "web", u.ID)
	if err := s.RedeemCode(ctx, ar.ID, issue); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("redeeming a burnt code: err = %v, want %v", err, tenants.ErrConflict)
	}
	if g, e, r := issueWritten(t, ctx, s, issue); g || e || r {
		t.Errorf("redeeming a burnt code wrote grant, events, refresh = %v, %v, %v", g, e, r)
	}
	if err := s.BurnCode(ctx, ar.ID); err != nil {
		t.Errorf("burning twice: %v", err)
	}
	again, err := s.AuthRequestByID(ctx, ar.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !samePtrTime(again.CodeRedeemedAt, *burnt.CodeRedeemedAt) {
		t.Errorf("second burn moved CodeRedeemedAt from %v to %v", burnt.CodeRedeemedAt, again.CodeRedeemedAt)
	}
	if err := s.BurnCode(ctx, tenants.NewRandomID()); err != nil {
		t.Errorf("burning an unknown request: %v", err)
	}
}

// testIssueEvents checks that the audit events of a token response are
// written with its family and refresh token, in one transaction: all of
// them or nothing, and in the tenant of ctx only.
func testIssueEvents(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "issue-events")
	octx, other := newTenant(t, s, "issue-events-other")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	logged := func(ctx context.Context, targetID string) int {
		t.Helper()
		evs, err := s.ListAudit(ctx, tenants.AuditFilter{TargetID: targetID, Action: "token.issued", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}

	t.Run("RedeemCode", func(t *testing.T) {
		ar, _ := mustCode(t, ctx, s, "web", u.ID)
		issue := newIssue(s, "web", u.ID)
		// An event that names another tenant goes to the log of the
		// tenant in ctx, as the family does.
		issue.Events = append(issue.Events, &tenants.AuditEvent{TenantID: other.ID, Action: "token.issued", TargetType: "grant", TargetID: issue.Grant.ID})
		if err := s.RedeemCode(ctx, ar.ID, issue); err != nil {
			t.Fatal(err)
		}
		if n := logged(ctx, issue.Grant.ID); n != 2 {
			t.Errorf("%d events of the redemption, want 2", n)
		}
		for _, ev := range issue.Events {
			if ev.TenantID != tn.ID {
				t.Errorf("event left of tenant %q, want %q", ev.TenantID, tn.ID)
			}
		}
		if n := logged(octx, issue.Grant.ID); n != 0 {
			t.Errorf("%d events of the redemption in the other tenant's log", n)
		}
		// The code replayed: a conflict, and no event.
		replay := newIssue(s, "web", u.ID)
		if err := s.RedeemCode(ctx, ar.ID, replay); !errors.Is(err, tenants.ErrConflict) {
			t.Fatalf("replay: err = %v, want %v", err, tenants.ErrConflict)
		}
		if n := logged(ctx, replay.Grant.ID); n != 0 {
			t.Errorf("the replay wrote %d events", n)
		}
		// Without a tenant: nothing at all.
		ar2, _ := mustCode(t, ctx, s, "web", u.ID)
		lost := newIssue(s, "web", u.ID)
		if err := s.RedeemCode(context.Background(), ar2.ID, lost); !errors.Is(err, tenants.ErrNoTenant) {
			t.Errorf("without a tenant: err = %v, want %v", err, tenants.ErrNoTenant)
		}
		if g, e, r := issueWritten(t, ctx, s, lost); g || e || r {
			t.Errorf("without a tenant: grant, events, refresh written = %v, %v, %v", g, e, r)
		}
		// Many events of one issue.
		ar3, _ := mustCode(t, ctx, s, "web", u.ID)
		many := newIssue(s, "web", u.ID)
		for range 20 {
			many.Events = append(many.Events, issueEvents(many.Grant)...)
		}
		if err := s.RedeemCode(ctx, ar3.ID, many); err != nil {
			t.Fatal(err)
		}
		if n := logged(ctx, many.Grant.ID); n != len(many.Events) {
			t.Errorf("%d events written, want %d", n, len(many.Events))
		}
	})
	t.Run("RotateRefreshToken", func(t *testing.T) {
		_, issue := mustRedeemed(t, ctx, s, "web", u.ID)
		taken := issue.Events[0].ID
		// A failing event fails the rotation: the old token is not used.
		failing := refreshIssue(s, issue.Grant)
		failing.Events[0].ID = taken
		if err := s.RotateRefreshToken(ctx, issue.Refresh.ID, failing); !errors.Is(err, tenants.ErrAlreadyExists) {
			t.Fatalf("failing event: err = %v, want %v", err, tenants.ErrAlreadyExists)
		}
		if _, _, r := issueWritten(t, ctx, s, failing); r {
			t.Error("a failing event wrote the refresh token")
		}
		if rt, _, err := s.RefreshTokenByHash(ctx, issue.Refresh.TokenHash); err != nil || rt.UsedAt != nil {
			t.Fatalf("old refresh token after a failed rotation: %+v, %v; want unused", rt, err)
		}
		next := refreshIssue(s, issue.Grant)
		next.SuccessorSeed = "seed-of-the-grace-period"
		if err := s.RotateRefreshToken(ctx, issue.Refresh.ID, next); err != nil {
			t.Fatal(err)
		}
		// The rotated token keeps the seed of its successor (grace period).
		if rt, _, err := s.RefreshTokenByHash(ctx, issue.Refresh.TokenHash); err != nil || rt.UsedAt == nil || rt.SuccessorSeed != next.SuccessorSeed {
			t.Fatalf("rotated token: %+v, %v; want used, with the seed", rt, err)
		}
		if _, e, r := issueWritten(t, ctx, s, next); !e || !r {
			t.Errorf("rotation: events, refresh written = %v, %v; want both", e, r)
		}
		if next.Events[0].TenantID != tn.ID {
			t.Errorf("event of tenant %q, want %q", next.Events[0].TenantID, tn.ID)
		}
		// Reuse of the rotated token: a conflict, and no event.
		reuse := refreshIssue(s, issue.Grant)
		if err := s.RotateRefreshToken(ctx, issue.Refresh.ID, reuse); !errors.Is(err, tenants.ErrConflict) {
			t.Fatalf("reuse: err = %v, want %v", err, tenants.ErrConflict)
		}
		if _, e, r := issueWritten(t, ctx, s, reuse); e || r {
			t.Errorf("reuse: events, refresh written = %v, %v", e, r)
		}
		// From another tenant: a conflict, and no event in either log.
		stolen := refreshIssue(s, issue.Grant)
		if err := s.RotateRefreshToken(octx, next.Refresh.ID, stolen); !errors.Is(err, tenants.ErrConflict) {
			t.Fatalf("from another tenant: err = %v, want %v", err, tenants.ErrConflict)
		}
		if _, e, _ := issueWritten(t, ctx, s, stolen); e {
			t.Error("a rotation from another tenant wrote its events")
		}
	})
}

// testAccessTokens checks the revocation list and what the store says of
// an access token: access tokens are not stored, so a token is revoked by
// its jti, and a family token dies with its family (which its jti names)
// and any token with its client.
func testAccessTokens(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "access")
	octx, other := newTenant(t, s, "access-other")
	mustClient(t, ctx, s, "machine")
	mustClient(t, ctx, s, "web")
	mustClient(t, octx, s, "machine")
	mustClient(t, octx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ou := mustUser(t, octx, s, "bob@example.com")

	live := machineToken(s, "machine", time.Hour)
	revoked := mustRevoke(t, ctx, s, machineToken(s, "machine", time.Hour))
	_, family := mustRedeemed(t, ctx, s, "web", u.ID)
	_, revokedFamily := mustRedeemed(t, ctx, s, "web", u.ID)
	if err := s.RevokeGrant(ctx, revokedFamily.Grant.ID, "logout"); err != nil {
		t.Fatal(err)
	}
	_, foreignFamily := mustRedeemed(t, octx, s, "web", ou.ID)
	ofFamily := familyToken(s, family.Grant)
	revokedOfFamily := mustRevoke(t, ctx, s, familyToken(s, family.Grant))
	// A token that claims a family of another client, or of another
	// tenant, or one that does not exist.
	otherClients := familyToken(s, family.Grant)
	otherClients.clientID, otherClients.subject = "machine", u.ID
	otherUsers := familyToken(s, family.Grant)
	otherUsers.subject = ou.ID
	foreign := familyToken(s, foreignFamily.Grant)
	unknownFamily := familyToken(s, &tenants.Grant{ID: tenants.NewID(), ClientID: "web", UserID: u.ID})
	unknownClient := machineToken(s, "nope", time.Hour)

	tests := []struct {
		name       string
		tok        accessToken
		want       tenants.TokenStatus
		wantUsable bool
	}{
		// A jti the store never heard of is not revoked: whether the
		// token was issued is for its signature to say.
		{"unknown jti", live, tenants.TokenStatus{ClientExists: true}, true},
		{"revoked jti", revoked, tenants.TokenStatus{Revoked: true, ClientExists: true}, false},
		{"of an unknown client", unknownClient, tenants.TokenStatus{}, false},
		{"of a family", ofFamily, tenants.TokenStatus{ClientExists: true, GrantFound: true, GrantClientID: "web", GrantUserID: u.ID}, true},
		{"revoked jti of a live family", revokedOfFamily, tenants.TokenStatus{Revoked: true, ClientExists: true, GrantFound: true, GrantClientID: "web", GrantUserID: u.ID}, false},
		{"of a revoked family", familyToken(s, revokedFamily.Grant), tenants.TokenStatus{ClientExists: true, GrantFound: true, GrantRevoked: true, GrantClientID: "web", GrantUserID: u.ID}, false},
		{"of another client's family", otherClients, tenants.TokenStatus{ClientExists: true, GrantFound: true, GrantClientID: "web", GrantUserID: u.ID}, false},
		{"of another user's family", otherUsers, tenants.TokenStatus{ClientExists: true, GrantFound: true, GrantClientID: "web", GrantUserID: u.ID}, false},
		{"of another tenant's family", foreign, tenants.TokenStatus{ClientExists: true}, false},
		{"of an unknown family", unknownFamily, tenants.TokenStatus{ClientExists: true}, false},
		{"huge jti", accessToken{jti: strings.Repeat("x", 100000), clientID: "machine", subject: "machine"}, tenants.TokenStatus{ClientExists: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mustStatus(t, ctx, s, tt.tok)
			if *st != tt.want {
				t.Errorf("AccessTokenStatus = %+v, want %+v", *st, tt.want)
			}
			if got := tt.tok.usable(st); got != tt.wantUsable {
				t.Errorf("usable = %v, want %v", got, tt.wantUsable)
			}
		})
	}
	if _, err := s.AccessTokenStatus(context.Background(), live.jti, live.clientID, ""); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("status without a tenant: err = %v, want %v", err, tenants.ErrNoTenant)
	}

	listed := func(tenantID, jti string) int {
		t.Helper()
		return countSQL(t, s, "SELECT COUNT(*) FROM revoked_tokens WHERE tenant_id = ? AND jti = ?", tenantID, jti)
	}
	tid := func(ctx context.Context) string {
		tn, _ := tenants.FromContext(ctx)
		return tn.ID
	}
	t.Run("RevokeAccessToken", func(t *testing.T) {
		tok := machineToken(s, "machine", time.Hour)
		if err := tok.revoke(ctx, s); err != nil {
			t.Fatal(err)
		}
		rows := sqlRows(t, s, "SELECT client_id FROM revoked_tokens WHERE tenant_id = ? AND jti = ?", tid(ctx), tok.jti)
		if len(rows) != 1 || fmt.Sprint(rows[0][0]) != "machine" {
			t.Errorf("revoked_tokens rows %v, want one of client machine", rows)
		}
		// Idempotent: again, later, with another expiry, or from many
		// requests at once.
		again := tok
		again.expiresAt = tok.expiresAt.Add(time.Hour)
		if err := again.revoke(ctx, s); err != nil {
			t.Errorf("revoking twice: %v", err)
		}
		for i, err := range race(10, func(int) error { return tok.revoke(ctx, s) }) {
			if err != nil {
				t.Errorf("concurrent revocation %d: %v", i, err)
			}
		}
		if n := listed(tid(ctx), tok.jti); n != 1 {
			t.Errorf("%d rows after revoking again, want 1", n)
		}
		if st := mustStatus(t, ctx, s, tok); !st.Revoked {
			t.Errorf("status %+v, want revoked", *st)
		}
		// A family token's jti, and one the store never heard of (it is
		// not for the store to tell).
		if err := familyToken(s, family.Grant).revoke(ctx, s); err != nil {
			t.Errorf("revoking a family token: %v", err)
		}
		if st := mustStatus(t, ctx, s, ofFamily); st.Revoked || st.GrantRevoked {
			t.Errorf("revoking one token of the family touched another: %+v", *st)
		}
		for name, bad := range map[string]accessToken{
			"of an unknown client": machineToken(s, "nope", time.Hour),
			"empty jti":            {clientID: "machine", expiresAt: tok.expiresAt},
			"huge jti":             {jti: strings.Repeat("x", 100000), clientID: "machine", expiresAt: tok.expiresAt},
			"of another tenant's client": func() accessToken {
				c := mustClient(t, octx, s, "theirs-"+suffix())
				return machineToken(s, c.ClientID, time.Hour)
			}(),
		} {
			if err := bad.revoke(ctx, s); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("revoking a token %s: err = %v, want %v", name, err, tenants.ErrNotFound)
			}
			if n := countSQL(t, s, "SELECT COUNT(*) FROM revoked_tokens WHERE jti = ?", bad.jti); n != 0 {
				t.Errorf("revoking a token %s listed %d rows", name, n)
			}
		}
		if err := tok.revoke(context.Background(), s); !errors.Is(err, tenants.ErrNoTenant) {
			t.Errorf("revoking without a tenant: err = %v, want %v", err, tenants.ErrNoTenant)
		}
	})
	t.Run("revocation lists are the tenants' own", func(t *testing.T) {
		// The same jti and client_id in two tenants: each revocation goes
		// on the list of the tenant in ctx, and is seen there only.
		tok := machineToken(s, "machine", time.Hour)
		mustRevoke(t, ctx, s, tok)
		if n := listed(other.ID, tok.jti); n != 0 {
			t.Errorf("revoking in one tenant listed %d rows in the other", n)
		}
		if st := mustStatus(t, octx, s, tok); st.Revoked {
			t.Errorf("the other tenant sees the revocation: %+v", *st)
		}
		if st := mustStatus(t, octx, s, revokedOfFamily); st.Revoked || st.GrantFound || st.GrantClientID != "" || st.GrantUserID != "" {
			t.Errorf("the other tenant sees the family or its revocation: %+v", *st)
		}
		if st := mustStatus(t, ctx, s, familyToken(s, revokedFamily.Grant)); !st.GrantRevoked {
			t.Fatalf("the revoked family: %+v", *st)
		}
		if st := mustStatus(t, octx, s, familyToken(s, revokedFamily.Grant)); st.GrantFound || st.GrantRevoked {
			t.Errorf("the other tenant sees the revoked family: %+v", *st)
		}
		mustRevoke(t, octx, s, tok)
		if a, b := listed(tid(ctx), tok.jti), listed(other.ID, tok.jti); a != 1 || b != 1 {
			t.Errorf("after revoking in both: %d and %d rows, want 1 and 1", a, b)
		}
	})
	t.Run("the revocation goes with the client", func(t *testing.T) {
		// Through the store.
		doomedID := "doomed-" + suffix()
		mustClient(t, ctx, s, doomedID)
		doomed := mustRevoke(t, ctx, s, machineToken(s, doomedID, time.Hour))
		kept := mustRevoke(t, ctx, s, machineToken(s, "machine", time.Hour))
		if err := s.DeleteClient(ctx, doomedID); err != nil {
			t.Fatal(err)
		}
		if n := listed(tid(ctx), doomed.jti); n != 0 {
			t.Errorf("%d revoked_tokens rows of the deleted client", n)
		}
		if st := mustStatus(t, ctx, s, doomed); st.ClientExists || doomed.usable(st) {
			t.Errorf("token of the deleted client: %+v, want its client gone", *st)
		}
		if n := listed(tid(ctx), kept.jti); n != 1 {
			t.Errorf("%d revoked_tokens rows of another client, want 1", n)
		}
		// By the schema itself (ON DELETE CASCADE), past the store.
		cascadedID := "cascaded-" + suffix()
		mustClient(t, ctx, s, cascadedID)
		cascaded := mustRevoke(t, ctx, s, machineToken(s, cascadedID, time.Hour))
		db, err := s.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(placeholders(s, "DELETE FROM clients WHERE tenant_id = ? AND client_id = ?"), tid(ctx), cascadedID); err != nil {
			t.Fatal(err)
		}
		if n := listed(tid(ctx), cascaded.jti); n != 0 {
			t.Errorf("%d revoked_tokens rows after the client row went, want the cascade", n)
		}
	})
}

func testRefreshTokens(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "refresh")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	_, issue := mustRedeemed(t, ctx, s, "web", u.ID)
	g := issue.Grant
	old := issue.Refresh

	rt, rg, err := s.RefreshTokenByHash(ctx, old.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if rt.ID != old.ID || rt.TenantID != tn.ID || rt.GrantID != g.ID || rt.ClientID != "web" || rt.UserID != u.ID ||
		rt.UsedAt != nil || rt.RevokedAt != nil || !sameTime(rt.ExpiresAt, old.ExpiresAt) || rg.ID != g.ID || rg.UserID != u.ID {
		t.Errorf("RefreshTokenByHash = %+v, %+v", rt, rg)
	}
	if _, _, err := s.RefreshTokenByHash(ctx, randomHash()); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("unknown hash: err = %v, want %v", err, tenants.ErrNotFound)
	}

	failing := refreshIssue(s, g)
	failing.Refresh.TokenHash = old.TokenHash // the last write fails
	next := refreshIssue(s, g)
	tests := []struct {
		name    string
		oldID   string
		issue   tenants.Issue
		wantErr error
		written bool
	}{
		{"a failing write uses nothing", old.ID, failing, tenants.ErrAlreadyExists, false},
		{"rotate", old.ID, next, nil, true},
		{"second rotation", old.ID, refreshIssue(s, g), tenants.ErrConflict, false},
		{"unknown token", tenants.NewID(), refreshIssue(s, g), tenants.ErrConflict, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RotateRefreshToken(ctx, tt.oldID, tt.issue); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			_, e, r := issueWritten(t, ctx, s, tt.issue)
			// The failing issue's refresh hash is that of old, which exists.
			if e != tt.written || (r != tt.written && tt.issue.Refresh.TokenHash != old.TokenHash) {
				t.Errorf("events, refresh written = %v, %v; want %v", e, r, tt.written)
			}
		})
	}
	t.Run("the rotated token is used", func(t *testing.T) {
		rt, _, err := s.RefreshTokenByHash(ctx, old.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if rt.UsedAt == nil || rt.RevokedAt != nil {
			t.Errorf("old token used %v, revoked %v; want used, not revoked", rt.UsedAt, rt.RevokedAt)
		}
		nt, ng, err := s.RefreshTokenByHash(ctx, next.Refresh.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if nt.UsedAt != nil || nt.GrantID != g.ID || ng.ID != g.ID || nt.ID == old.ID {
			t.Errorf("new token %+v", nt)
		}
	})
}

// testRotateRefreshTokenConcurrently rotates one refresh token from many
// requests at once: exactly one wins.
func testRotateRefreshTokenConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "rotate-race")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	_, issue := mustRedeemed(t, ctx, s, "web", u.ID)
	const n = 20
	issues := make([]tenants.Issue, n)
	for i := range issues {
		issues[i] = refreshIssue(s, issue.Grant)
	}
	errs := race(n, func(i int) error { return s.RotateRefreshToken(ctx, issue.Refresh.ID, issues[i]) })
	winners := 0
	for i, err := range errs {
		if err == nil {
			winners++
		} else if !errors.Is(err, tenants.ErrConflict) {
			t.Errorf("rotation %d: err = %v, want nil or %v", i, err, tenants.ErrConflict)
		}
		_, e, r := issueWritten(t, ctx, s, issues[i])
		if want := err == nil; e != want || r != want {
			t.Errorf("rotation %d (err %v): events, refresh written = %v, %v", i, err, e, r)
		}
	}
	if winners != 1 {
		t.Errorf("%d rotations succeeded, want exactly 1", winners)
	}
}

func testRevokeGrant(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "revoke-grant")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	_, family := mustRedeemed(t, ctx, s, "web", u.ID)
	rotated := refreshIssue(s, family.Grant)
	if err := s.RotateRefreshToken(ctx, family.Refresh.ID, rotated); err != nil {
		t.Fatal(err)
	}
	_, otherFamily := mustRedeemed(t, ctx, s, "web", u.ID)

	if err := s.RevokeGrant(ctx, family.Grant.ID, "refresh token reused"); err != nil {
		t.Fatal(err)
	}
	g, err := s.GrantByID(ctx, family.Grant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g.RevokedAt == nil || g.RevokedReason != "refresh token reused" {
		t.Fatalf("grant revoked %v for %q", g.RevokedAt, g.RevokedReason)
	}
	if err := s.RevokeGrant(ctx, family.Grant.ID, "again"); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if again, err := s.GrantByID(ctx, g.ID); err != nil || !samePtrTime(again.RevokedAt, *g.RevokedAt) || again.RevokedReason != g.RevokedReason {
		t.Errorf("second revoke changed the grant to %+v (%v)", again, err)
	}
	if _, err := s.GrantByID(ctx, tenants.NewID()); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("unknown grant: err = %v, want %v", err, tenants.ErrNotFound)
	}

	tests := []struct {
		name        string
		issue       tenants.Issue
		wantRevoked bool
	}{
		{"first tokens of the family", family, true},
		{"rotated tokens of the family", rotated, true},
		{"another family", otherFamily, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grant := tt.issue.Grant
			if grant == nil {
				grant = family.Grant // a refresh issues no new family
			}
			at := familyToken(s, grant)
			if st := mustStatus(t, ctx, s, at); st.GrantRevoked != tt.wantRevoked || at.usable(st) == tt.wantRevoked {
				t.Errorf("access token status %+v, usable %v; want its family revoked %v", *st, at.usable(st), tt.wantRevoked)
			}
			rt, _, err := s.RefreshTokenByHash(ctx, tt.issue.Refresh.TokenHash)
			if err != nil {
				t.Fatal(err)
			}
			if (rt.RevokedAt != nil) != tt.wantRevoked {
				t.Errorf("refresh token RevokedAt = %v, want revoked %v", rt.RevokedAt, tt.wantRevoked)
			}
		})
	}
	if err := s.RotateRefreshToken(ctx, rotated.Refresh.ID, refreshIssue(s, family.Grant)); !errors.Is(err, tenants.ErrConflict) {
		t.Errorf("rotating a revoked token: err = %v, want %v", err, tenants.ErrConflict)
	}
}

// testDeleteExpired checks the maintenance sweep, which acts on every
// tenant: rows past their expiry by more than the grace go, the others
// stay.
func testDeleteExpired(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	const grace = time.Hour
	type seeded struct {
		tenantID string
		keep     map[string][]string // table -> ids that must stay
		drop     map[string][]string // table -> ids that must go
	}
	seed := func(prefix string) seeded {
		ctx, tn := newTenant(t, s, prefix)
		mustClient(t, ctx, s, "web")
		u := mustUser(t, ctx, s, "ada@example.com")
		at := func(d time.Duration) time.Time { return clk.Now().Add(d) }
		sd := seeded{tenantID: tn.ID, keep: map[string][]string{}, drop: map[string][]string{}}
		put := func(into map[string][]string, table, id string) { into[table] = append(into[table], id) }

		oldAR := newAuthRequest(s, "web")
		oldAR.ExpiresAt = at(10 * time.Minute)
		newAR := newAuthRequest(s, "web")
		newAR.ExpiresAt = at(48 * time.Hour)
		for _, ar := range []*tenants.AuthRequest{oldAR, newAR} {
			if err := s.CreateAuthRequest(ctx, ar); err != nil {
				t.Fatal(err)
			}
		}
		put(sd.drop, "auth_requests", oldAR.ID)
		put(sd.keep, "auth_requests", newAR.ID)
		// Expired within the grace: a request nobody signed in to goes at
		// once (anonymous requests must not pile up for a day); one signed
		// in to, with or without a code, stays for replay detection.
		for _, step := range []string{"anonymous", "authenticated", "code issued"} {
			ar := newAuthRequest(s, "web")
			ar.ExpiresAt = at(2*time.Hour + 30*time.Minute)
			if err := s.CreateAuthRequest(ctx, ar); err != nil {
				t.Fatal(err)
			}
			if step == "anonymous" {
				put(sd.drop, "auth_requests", ar.ID)
				continue
			}
			if err := s.SetAuthenticated(ctx, ar.ID, tenants.Authentication{UserID: u.ID, Time: clk.Now(), AMR: []string{"pwd"}}); err != nil {
				t.Fatal(err)
			}
			if step == "code issued" {
				if err := s.IssueCode(ctx, ar.ID, randomHash(), at(time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			put(sd.keep, "auth_requests", ar.ID)
		}

		put(sd.drop, "sessions", mustSession(t, ctx, s, u.ID, time.Hour).ID)
		put(sd.keep, "sessions", mustSession(t, ctx, s, u.ID, 2*time.Hour+30*time.Minute).ID) // expired, within grace
		put(sd.keep, "sessions", mustSession(t, ctx, s, u.ID, 48*time.Hour).ID)

		// Revocations of access tokens, kept until the token would have
		// expired, and the grace.
		put(sd.drop, "revoked_tokens", mustRevoke(t, ctx, s, machineToken(s, "web", time.Hour)).jti)
		put(sd.keep, "revoked_tokens", mustRevoke(t, ctx, s, machineToken(s, "web", 2*time.Hour+30*time.Minute)).jti) // expired, within grace
		put(sd.keep, "revoked_tokens", mustRevoke(t, ctx, s, machineToken(s, "web", 48*time.Hour)).jti)

		// A family that expired whole: its tokens go, and then it does.
		dead := newIssue(s, "web", u.ID)
		dead.Grant.ExpiresAt = at(90 * time.Minute)
		dead.Refresh.ExpiresAt = dead.Grant.ExpiresAt
		// A live family stays, the expired revocation of one of its
		// access tokens goes.
		live := newIssue(s, "web", u.ID)
		for _, issue := range []tenants.Issue{dead, live} {
			ar, _ := mustCode(t, ctx, s, "web", u.ID) // expires in 10 minutes
			if err := s.RedeemCode(ctx, ar.ID, issue); err != nil {
				t.Fatal(err)
			}
			put(sd.drop, "auth_requests", ar.ID)
		}
		put(sd.drop, "grants", dead.Grant.ID)
		put(sd.drop, "refresh_tokens", dead.Refresh.ID)
		put(sd.drop, "revoked_tokens", mustRevoke(t, ctx, s, familyToken(s, dead.Grant)).jti)
		put(sd.keep, "grants", live.Grant.ID)
		put(sd.keep, "refresh_tokens", live.Refresh.ID)
		put(sd.drop, "revoked_tokens", mustRevoke(t, ctx, s, familyToken(s, live.Grant)).jti)
		liveRevoked := familyToken(s, live.Grant)
		liveRevoked.expiresAt = at(48 * time.Hour)
		put(sd.keep, "revoked_tokens", mustRevoke(t, ctx, s, liveRevoked).jti)

		// Logins at an upstream in progress, spent or not, and the SAML
		// assertions already accepted.
		conn := mustConnection(t, ctx, s, "Corporate")
		for _, r := range []struct {
			ttl  time.Duration
			into map[string][]string
		}{
			{time.Hour, sd.drop},
			{2*time.Hour + 30*time.Minute, sd.keep}, // expired, within grace
			{48 * time.Hour, sd.keep},
		} {
			for _, used := range []bool{false, true} {
				st := mustFederationState(t, ctx, s, conn.ID, r.ttl)
				if used {
					if _, err := s.UseFederationState(ctx, st.ID); err != nil {
						t.Fatal(err)
					}
				}
				put(r.into, "federation_states", st.ID)
			}
			id := "_" + suffix()
			mustSAMLAssertion(t, ctx, s, conn.ID, id, at(r.ttl))
			put(r.into, "saml_assertions", id)
		}

		// Links sent by email and steps of logins in progress, spent or
		// not; second factors and recovery codes do not expire.
		for _, r := range []struct {
			ttl  time.Duration
			into map[string][]string
		}{
			{time.Hour, sd.drop},
			{2*time.Hour + 30*time.Minute, sd.keep}, // expired, within grace
			{48 * time.Hour, sd.keep},
		} {
			for _, used := range []bool{false, true} {
				purpose := tenants.TokenResetPassword
				if used {
					purpose = tenants.TokenVerifyEmail
				}
				tok := mustUserToken(t, ctx, s, u.ID, purpose, r.ttl)
				st := mustLoginStep(t, ctx, s, u.ID, "", r.ttl)
				if used {
					if _, err := s.UseUserToken(ctx, tok.ID, purpose); err != nil {
						t.Fatal(err)
					}
					if _, err := s.UseLoginStep(ctx, st.ID); err != nil {
						t.Fatal(err)
					}
				}
				put(r.into, "user_tokens", tok.ID)
				put(r.into, "login_steps", st.ID)
			}
		}
		put(sd.keep, "mfa_factors", mustFactor(t, ctx, s, newTOTPFactor(u.ID)).ID)
		put(sd.keep, "mfa_factors", mustFactor(t, ctx, s, newWebAuthnFactor(u.ID, "cred-"+suffix())).ID)
		spent, kept := randomHash(), randomHash()
		mustRecoveryCodes(t, ctx, s, u.ID, spent, kept)
		if err := s.UseRecoveryCode(ctx, u.ID, spent); err != nil {
			t.Fatal(err)
		}
		put(sd.keep, "recovery_codes", spent)
		put(sd.keep, "recovery_codes", kept)

		// Used assertion jtis and pushed requests go as soon as they
		// expire: an expired one is refused by its expiry alone.
		for _, r := range []struct {
			ttl  time.Duration
			into map[string][]string
		}{
			{time.Hour, sd.drop},
			{2*time.Hour + 30*time.Minute, sd.drop}, // expired, within grace: no grace
			{48 * time.Hour, sd.keep},
		} {
			jti := "jti-" + suffix()
			if err := s.UseClientAssertion(ctx, "web", jti, at(r.ttl)); err != nil {
				t.Fatal(err)
			}
			put(r.into, "client_assertions", jti)
			id := "par-" + suffix()
			if err := s.CreatePushedRequest(ctx, &tenants.PushedRequest{ID: id, ClientID: "web", Params: "{}", ExpiresAt: at(r.ttl)}); err != nil {
				t.Fatal(err)
			}
			put(r.into, "pushed_requests", id)
		}
		return sd
	}
	all := []seeded{seed("expired-a"), seed("expired-b")}

	// Rows of Gatehouse's administration, of no tenant: console sessions
	// and setup links, used or not.
	admin := seeded{keep: map[string][]string{}, drop: map[string][]string{}}
	for _, r := range []struct {
		ttl  time.Duration
		into map[string][]string
	}{
		{time.Hour, admin.drop},
		{2*time.Hour + 30*time.Minute, admin.keep}, // expired, within grace
		{48 * time.Hour, admin.keep},
	} {
		cs := &tenants.ConsoleSession{ID: randomHash(), UserID: "admin", ExpiresAt: clk.Now().Add(r.ttl)}
		if err := s.CreateConsoleSession(context.Background(), cs); err != nil {
			t.Fatal(err)
		}
		r.into["console_sessions"] = append(r.into["console_sessions"], cs.ID)
		for _, used := range []bool{false, true} {
			h := randomHash()
			if err := s.CreateSetupToken(context.Background(), h, r.ttl); err != nil {
				t.Fatal(err)
			}
			if used {
				if err := s.UseSetupToken(context.Background(), h); err != nil {
					t.Fatal(err)
				}
			}
			r.into["setup_tokens"] = append(r.into["setup_tokens"], h)
		}
	}

	// Throttling counters and the development outbox, of no tenant either:
	// a counter goes when not updated since the cutoff, a message 6 days
	// after it.
	atTime := func(d time.Duration, fn func()) {
		clk.Advance(d)
		defer clk.Advance(-d)
		fn()
	}
	fail := func(key string) {
		if _, err := s.RecordFailure(context.Background(), key, time.Hour, lockFor(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	stale, touched, fresh := "stale-"+suffix(), "touched-"+suffix(), "fresh-"+suffix()
	fail(stale)
	fail(touched)
	atTime(2*time.Hour+30*time.Minute, func() { fail(touched); fail(fresh) })
	admin.drop["throttles"] = []string{stale}
	admin.keep["throttles"] = []string{touched, fresh}
	for _, r := range []struct {
		age  time.Duration // at t0
		into map[string][]string
	}{
		{143 * time.Hour, admin.drop}, // more than 6 days before the cutoff
		{141 * time.Hour, admin.keep},
		{0, admin.keep},
	} {
		atTime(-r.age, func() {
			m := &tenants.OutboxMessage{Recipient: "ada@example.com", Subject: "Verify your email", Body: "."}
			if err := s.AppendOutbox(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			r.into["outbox"] = append(r.into["outbox"], m.ID)
		})
	}
	all = append(all, admin)

	clk.Advance(3 * time.Hour) // cutoff: now - grace = t0 + 2h
	n, err := s.DeleteExpired(context.Background(), grace)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, sd := range all {
		for _, ids := range sd.drop {
			want += len(ids)
		}
	}
	if n != int64(want) {
		t.Errorf("DeleteExpired = %d, want %d", n, want)
	}
	// idColumn names the column that tells the rows of table apart.
	idColumn := func(table string) string {
		switch table {
		case "saml_assertions":
			return "assertion_id"
		case "recovery_codes":
			return "code_hash"
		case "throttles":
			return "key"
		case "revoked_tokens", "client_assertions":
			return "jti"
		}
		return "id"
	}
	for _, sd := range all {
		for table, ids := range sd.drop {
			for _, id := range ids {
				if countRows(t, s, table, idColumn(table), id) != 0 {
					t.Errorf("%s %s should have been deleted but was kept", table, id)
				}
			}
		}
		for table, ids := range sd.keep {
			for _, id := range ids {
				if countRows(t, s, table, idColumn(table), id) != 1 {
					t.Errorf("%s %s was deleted, want it kept", table, id)
				}
			}
		}
	}
	if n, err := s.DeleteExpired(context.Background(), grace); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; want 0", n, err)
	}
}

// testTimeZones gives the store times in zones other than UTC, as a
// caller on a server whose local zone is not UTC does: expiry must be
// judged by the instant, whatever the zone.
func testTimeZones(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	zones := []*time.Location{time.FixedZone("UTC-5", -5*3600), time.FixedZone("UTC+5", 5*3600)}
	for _, zone := range zones {
		t.Run(zone.String(), func(t *testing.T) {
			ctx, _ := newTenant(t, s, "zones")
			mustClient(t, ctx, s, "web")
			u := mustUser(t, ctx, s, "ada@example.com")
			t0 := clk.Now()
			in := func(d time.Duration) time.Time { return t0.Add(d).In(zone) }

			// Live until t0+2h.
			live := newSession(s, u.ID, 0)
			live.AuthTime, live.ExpiresAt = in(0), in(2*time.Hour)
			// Expired since t0+30m.
			dead := newSession(s, u.ID, 0)
			dead.AuthTime, dead.ExpiresAt = in(0), in(30*time.Minute)
			for _, sess := range []*tenants.Session{live, dead} {
				if err := s.CreateSession(ctx, sess); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.RotateSigningKey(ctx, newKey(), in(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			liveToken := machineToken(s, "web", 0)
			liveToken.expiresAt = in(2 * time.Hour)
			deadToken := machineToken(s, "web", 0)
			deadToken.expiresAt = in(30 * time.Minute)
			for _, at := range []accessToken{liveToken, deadToken} {
				mustRevoke(t, ctx, s, at)
			}
			conn := mustConnection(t, ctx, s, "Corporate")
			liveState := newFederationState(s, conn.ID, 0)
			liveState.ExpiresAt = in(2 * time.Hour)
			deadState := newFederationState(s, conn.ID, 0)
			deadState.ExpiresAt = in(30 * time.Minute)
			for _, st := range []*tenants.FederationState{liveState, deadState} {
				if err := s.CreateFederationState(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			liveAssertion, deadAssertion := "_live-"+suffix(), "_dead-"+suffix()
			mustSAMLAssertion(t, ctx, s, conn.ID, liveAssertion, in(2*time.Hour))
			mustSAMLAssertion(t, ctx, s, conn.ID, deadAssertion, in(30*time.Minute))
			x := mustExternalIdentity(t, ctx, s, u.ID, conn.ID, "subject")
			if err := s.TouchExternalIdentity(ctx, x.ID, in(time.Minute)); err != nil {
				t.Fatal(err)
			}

			clk.Advance(time.Hour)
			defer clk.Advance(-time.Hour)
			ss, err := s.ListSessions(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ss) != 1 || ss[0].ID != live.ID {
				t.Errorf("ListSessions = %d sessions, want only the live one", len(ss))
			} else if !ss[0].ExpiresAt.Equal(live.ExpiresAt) {
				t.Errorf("ExpiresAt = %v, want %v", ss[0].ExpiresAt, live.ExpiresAt)
			}
			ks, err := s.SigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ks) != 2 {
				t.Errorf("SigningKeys = %d keys, want 2: the retired key is published until t0+2h", len(ks))
			}
			if _, err := s.UseFederationState(ctx, deadState.ID); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UseFederationState of the expired state: err = %v, want %v", err, tenants.ErrNotFound)
			}
			if st, err := s.UseFederationState(ctx, liveState.ID); err != nil {
				t.Errorf("UseFederationState of the live state: %v", err)
			} else if !st.ExpiresAt.Equal(liveState.ExpiresAt) {
				t.Errorf("state ExpiresAt = %v, want %v", st.ExpiresAt, liveState.ExpiresAt)
			}
			if got, err := s.ExternalIdentity(ctx, conn.ID, sharedIssuer, "subject"); err != nil {
				t.Error(err)
			} else if !samePtrTime(got.LastLoginAt, in(time.Minute)) {
				t.Errorf("external identity last login = %v, want %v", got.LastLoginAt, in(time.Minute))
			}
			if _, err := s.DeleteExpired(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				id   string
				want int
			}{{"revocation of a live token", liveToken.jti, 1}, {"revocation of an expired token", deadToken.jti, 0}} {
				if got := countRows(t, s, "revoked_tokens", "jti", c.id); got != c.want {
					t.Errorf("%s: %d rows after DeleteExpired, want %d", c.name, got, c.want)
				}
			}
			for _, c := range []struct {
				name string
				id   string
				want int
			}{{"live SAML assertion", liveAssertion, 1}, {"expired SAML assertion", deadAssertion, 0}} {
				if got := countRows(t, s, "saml_assertions", "assertion_id", c.id); got != c.want {
					t.Errorf("%s: %d rows after DeleteExpired, want %d", c.name, got, c.want)
				}
			}
		})
	}
}
