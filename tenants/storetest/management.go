package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The subtests of what the admin console and the management API do to a
// tenant's users, clients and APIs.

func testSearchUsers(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "search")
	for _, u := range []struct{ email, name string }{
		{"ada@example.com", "Ada Lovelace"},
		{"Alan@Example.com", "Alan Turing"},
		{"grace@navy.mil", "Grace Hopper"},
		{"per%cent@example.com", "Percy"},
		{"under_score@example.com", "Uma"},
		{"underxscore@example.com", "Ulla"},
		{"zed@example.com", `Back\Slash`},
	} {
		if err := s.CreateUser(ctx, &tenants.User{Email: u.email, Name: u.name}); err != nil {
			t.Fatal(err)
		}
	}
	// By normalized email, as SearchUsers orders them.
	all := []string{
		"ada@example.com", "alan@example.com", "grace@navy.mil", "per%cent@example.com",
		"under_score@example.com", "underxscore@example.com", "zed@example.com",
	}

	tests := []struct {
		name     string
		query    string
		after    string
		limit    int
		want     []string
		wantNext string
	}{
		{"everyone, first page", "", "", 3, all[:3], all[2]},
		{"everyone, second page", "", all[2], 3, all[3:6], all[5]},
		{"everyone, last page", "", all[5], 3, all[6:], ""},
		{"a page that ends at the last user", "", all[3], 3, all[4:], ""},
		{"a cursor past the end", "", "zzz", 3, nil, ""},
		{"no limit: the default", "", "", 0, all, ""},
		{"a negative limit: the default", "", "", -1, all, ""},
		{"email, in another case", "ALAN@EXAMPLE", "", 10, []string{"alan@example.com"}, ""},
		{"name, in another case", "hopper", "", 10, []string{"grace@navy.mil"}, ""},
		{"name, in upper case", "LOVELACE", "", 10, []string{"ada@example.com"}, ""},
		{"spaces around the query", "  Turing ", "", 10, []string{"alan@example.com"}, ""},
		{"part of a domain", "navy", "", 10, []string{"grace@navy.mil"}, ""},
		{"query and cursor", "example.com", "per%cent@example.com", 2, all[4:6], all[5]},
		{"percent is literal", "%", "", 10, []string{"per%cent@example.com"}, ""},
		{"underscore is literal", "under_", "", 10, []string{"under_score@example.com"}, ""},
		{"backslash is literal", `\`, "", 10, []string{"zed@example.com"}, ""},
		{"no match", "nobody", "", 10, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.SearchUsers(ctx, tt.query, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := emails(p.Users); !slices.Equal(got, tt.want) || p.Next != tt.wantNext {
				t.Errorf("SearchUsers = %v, next %q; want %v, next %q", got, p.Next, tt.want, tt.wantNext)
			}
		})
	}

	t.Run("every page", func(t *testing.T) {
		var got []string
		after := ""
		for pages := 1; ; pages++ {
			p, err := s.SearchUsers(ctx, "", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, emails(p.Users)...)
			if p.Next == "" {
				if pages != 4 {
					t.Errorf("%d pages of 2 for %d users, want 4", pages, len(all))
				}
				break
			}
			if pages > len(all) {
				t.Fatalf("no last page after %d pages", pages)
			}
			after = p.Next
		}
		if !slices.Equal(got, all) {
			t.Errorf("pages hold %v, want %v", got, all)
		}
	})
}

// emails returns the normalized emails of us.
func emails(us []tenants.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.EmailNormalized)
	}
	return out
}

// testCounts checks the figures of a tenant's overview: how many users,
// clients (not the internal ones) and APIs it has, and who logged in last.
func testCounts(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "counts")
	counts := func(t *testing.T, users, clients, apis int64) {
		t.Helper()
		for _, c := range []struct {
			name  string
			count func(context.Context) (int64, error)
			want  int64
		}{
			{"CountUsers", s.CountUsers, users},
			{"CountClients", s.CountClients, clients},
			{"CountAPIs", s.CountAPIs, apis},
		} {
			if n, err := c.count(ctx); err != nil || n != c.want {
				t.Errorf("%s = %d, %v; want %d", c.name, n, err, c.want)
			}
		}
	}
	recent := func(limit int) []string {
		us, err := s.RecentLogins(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		return emails(us)
	}

	t.Run("empty tenant", func(t *testing.T) {
		counts(t, 0, 0, 0)
		if got := recent(10); len(got) != 0 {
			t.Errorf("RecentLogins = %v, want none", got)
		}
	})

	first := mustUser(t, ctx, s, "first@example.com")
	last := mustUser(t, ctx, s, "last@example.com")
	mustUser(t, ctx, s, "never@example.com")
	at := s.Now().Truncate(time.Second)
	for i, u := range []*tenants.User{first, last} {
		if err := s.RecordLogin(ctx, u.ID, at.Add(time.Duration(i)*time.Minute), ""); err != nil {
			t.Fatal(err)
		}
	}
	mustClient(t, ctx, s, "web")
	mustClient(t, ctx, s, "cli")
	mustInternalClient(t, ctx, s, "try-it")
	mustAPI(t, ctx, s, "https://a.example.com", "read")
	mustAPI(t, ctx, s, "https://b.example.com")

	t.Run("counts", func(t *testing.T) { counts(t, 3, 2, 2) })
	t.Run("RecentLogins", func(t *testing.T) {
		tests := []struct {
			limit int
			want  []string
		}{
			{10, []string{"last@example.com", "first@example.com"}},
			{1, []string{"last@example.com"}},
		}
		for _, tt := range tests {
			if got := recent(tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("RecentLogins(%d) = %v, want %v (newest first, never-logged-in users left out)", tt.limit, got, tt.want)
			}
		}
	})
}

func testUpdateUserProfile(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "profile")
	u := mustUser(t, ctx, s, "ada@example.com")
	mustUser(t, ctx, s, "bob@example.com")
	login := s.Now().Truncate(time.Second)
	if err := s.RecordLogin(ctx, u.ID, login, ""); err != nil {
		t.Fatal(err)
	}
	now := s.Now()
	want := *u
	tests := []struct {
		name    string
		in      tenants.User
		wantErr error
	}{
		{"new email and names", tenants.User{
			ID: u.ID, Email: " Ada.King@Example.com", EmailVerified: false, Name: "Ada King", GivenName: "Ada", FamilyName: "King",
		}, nil},
		{"email of another user, in another case", tenants.User{ID: u.ID, Email: "BOB@example.com", Name: "Bob"}, tenants.ErrAlreadyExists},
		{"its own email again", tenants.User{
			ID: u.ID, Email: "ada.king@example.com", EmailVerified: true, Name: "Ada, Countess of Lovelace", GivenName: "Ada", FamilyName: "King",
		}, nil},
		// Fields a profile does not include must be ignored.
		{"password and state ignored", tenants.User{
			ID: u.ID, Email: "ada.king@example.com", Name: "Ada", TenantID: tenants.NewID(),
			PasswordHash: "$argon2id$hijack", DisabledAt: &now, LastLoginAt: &now,
		}, nil},
		{"unknown user", tenants.User{ID: tenants.NewID(), Email: "nobody@example.com"}, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if err := s.UpdateUserProfile(ctx, &in); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				want.Email, want.EmailVerified, want.Name, want.GivenName, want.FamilyName = in.Email, in.EmailVerified, in.Name, in.GivenName, in.FamilyName
			}
			got, err := s.UserByEmail(ctx, want.Email)
			if err != nil {
				t.Fatalf("UserByEmail(%q): %v", want.Email, err)
			}
			if got.ID != u.ID || got.TenantID != u.TenantID || got.Email != want.Email || got.EmailNormalized != tenants.NormalizeEmail(want.Email) ||
				got.EmailVerified != want.EmailVerified || got.Name != want.Name || got.GivenName != want.GivenName || got.FamilyName != want.FamilyName ||
				got.PasswordHash != u.PasswordHash || got.DisabledAt != nil || !samePtrTime(got.LastLoginAt, login) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	if _, err := s.UserByEmail(ctx, "ada@example.com"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("old email: err = %v, want %v", err, tenants.ErrNotFound)
	}
}

// testUserAccess checks that a new password or disabling a user ends the
// user's sessions, revokes every token family of theirs and spends their
// outstanding password reset and change-of-address links, so that what the
// old password (or a link sent before) opened stays shut; and that enabling
// a user does not. A link to confirm the address is not a way in and stays.
func testUserAccess(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "access")
	mustClient(t, ctx, s, "web")
	type rows struct {
		user    *tenants.User
		session *tenants.Session
		live    tenants.Issue
		earlier tenants.Issue // revoked before the change
		// Links sent before the change.
		reset, changeEmail, verify *tenants.UserToken
	}
	seed := func(email string, disabled bool) rows {
		u := &tenants.User{Email: email, PasswordHash: "$argon2id$old"}
		if disabled {
			at := s.Now().Add(-time.Hour)
			u.DisabledAt = &at
		}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		r := rows{user: u, session: mustSession(t, ctx, s, u.ID, time.Hour)}
		_, r.live = mustRedeemed(t, ctx, s, "web", u.ID)
		_, r.earlier = mustRedeemed(t, ctx, s, "web", u.ID)
		if err := s.RevokeGrant(ctx, r.earlier.Grant.ID, "earlier"); err != nil {
			t.Fatal(err)
		}
		r.reset = mustUserToken(t, ctx, s, u.ID, tenants.TokenResetPassword, time.Hour)
		r.changeEmail = mustUserToken(t, ctx, s, u.ID, tenants.TokenChangeEmail, time.Hour)
		r.verify = mustUserToken(t, ctx, s, u.ID, tenants.TokenVerifyEmail, time.Hour)
		return r
	}
	// links checks which of a user's links still work: spent ones are
	// refused, without spending the others.
	links := func(t *testing.T, who string, r rows, wantSpent bool) {
		t.Helper()
		for _, l := range []struct {
			tok   *tenants.UserToken
			spent bool
		}{{r.reset, wantSpent}, {r.changeEmail, wantSpent}, {r.verify, false}} {
			_, err := s.UserTokenValid(ctx, l.tok.ID, l.tok.Purpose)
			if l.spent && !errors.Is(err, tenants.ErrNotFound) || !l.spent && err != nil {
				t.Errorf("%s link of %s: err = %v, want spent %v", l.tok.Purpose, who, err, l.spent)
			}
		}
	}

	tests := []struct {
		name string
		// disabled seeds the user disabled.
		disabled   bool
		change     func(userID string) error
		wantReason string // of the revocation; empty: nothing is revoked
		check      func(t *testing.T, u *tenants.User)
	}{
		{"ChangePassword", false, func(id string) error { return s.ChangePassword(ctx, id, "$argon2id$new") }, "password changed",
			func(t *testing.T, u *tenants.User) {
				if u.PasswordHash != "$argon2id$new" || u.DisabledAt != nil {
					t.Errorf("password %q, disabled %v; want the new password, enabled", u.PasswordHash, u.DisabledAt)
				}
			}},
		{"SetUserDisabled, disabling", false, func(id string) error { return s.SetUserDisabled(ctx, id, true) }, "user disabled",
			func(t *testing.T, u *tenants.User) {
				if u.DisabledAt == nil || u.PasswordHash != "$argon2id$old" {
					t.Errorf("password %q, disabled %v; want the old password, disabled", u.PasswordHash, u.DisabledAt)
				}
			}},
		{"SetUserDisabled, enabling", true, func(id string) error { return s.SetUserDisabled(ctx, id, false) }, "",
			func(t *testing.T, u *tenants.User) {
				if u.DisabledAt != nil || u.PasswordHash != "$argon2id$old" {
					t.Errorf("password %q, disabled %v; want the old password, enabled", u.PasswordHash, u.DisabledAt)
				}
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := seed("user-"+string(rune('a'+i))+"@example.com", tt.disabled)
			bystander := seed("bystander-"+string(rune('a'+i))+"@example.com", tt.disabled)
			earlier, err := s.GrantByID(ctx, target.earlier.Grant.ID)
			if err != nil || earlier.RevokedAt == nil {
				t.Fatalf("family revoked before = %+v, %v", earlier, err)
			}
			if err := tt.change(target.user.ID); err != nil {
				t.Fatal(err)
			}
			u, err := s.UserByID(ctx, target.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, u)
			revoked := tt.wantReason != ""

			_, err = s.SessionByID(ctx, target.session.ID)
			if revoked && !errors.Is(err, tenants.ErrNotFound) || !revoked && err != nil {
				t.Errorf("session of the user: err = %v, want ended %v", err, revoked)
			}
			checkFamily(t, ctx, s, "family of the user", target.live, revoked, tt.wantReason)
			g, err := s.GrantByID(ctx, target.earlier.Grant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if g.RevokedReason != "earlier" || !samePtrTime(g.RevokedAt, *earlier.RevokedAt) {
				t.Errorf("a family revoked before: revoked %v for %q, want %v for %q", g.RevokedAt, g.RevokedReason, earlier.RevokedAt, "earlier")
			}

			links(t, "the user", target, revoked)

			if _, err := s.SessionByID(ctx, bystander.session.ID); err != nil {
				t.Errorf("session of another user: %v", err)
			}
			checkFamily(t, ctx, s, "family of another user", bystander.live, false, "")
			links(t, "another user", bystander, false)
		})
	}

	t.Run("unknown user", func(t *testing.T) {
		id := tenants.NewID()
		for name, err := range map[string]error{
			"ChangePassword":         s.ChangePassword(ctx, id, "$argon2id$new"),
			"SetUserDisabled(true)":  s.SetUserDisabled(ctx, id, true),
			"SetUserDisabled(false)": s.SetUserDisabled(ctx, id, false),
		} {
			if !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s: err = %v, want %v", name, err, tenants.ErrNotFound)
			}
		}
	})
}

// checkFamily checks that the token family of issue, its access and its
// refresh token are revoked (for reason) or all live: an access token of
// a revoked family is not usable (its jti names the family).
func checkFamily(t *testing.T, ctx context.Context, s *tenants.Store, what string, issue tenants.Issue, wantRevoked bool, reason string) {
	t.Helper()
	g, err := s.GrantByID(ctx, issue.Grant.ID)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if (g.RevokedAt != nil) != wantRevoked || g.RevokedReason != reason {
		t.Errorf("%s: grant revoked %v for %q, want revoked %v for %q", what, g.RevokedAt, g.RevokedReason, wantRevoked, reason)
	}
	at := familyToken(s, issue.Grant)
	if st := mustStatus(t, ctx, s, at); st.GrantRevoked != wantRevoked || at.usable(st) == wantRevoked {
		t.Errorf("%s: access token status %+v, want its family revoked %v", what, *st, wantRevoked)
	}
	rt, _, err := s.RefreshTokenByHash(ctx, issue.Refresh.TokenHash)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if (rt.RevokedAt != nil) != wantRevoked {
		t.Errorf("%s: refresh token revoked %v, want revoked %v", what, rt.RevokedAt, wantRevoked)
	}
	if wantRevoked {
		if err := s.RotateRefreshToken(ctx, issue.Refresh.ID, refreshIssue(s, issue.Grant)); !errors.Is(err, tenants.ErrConflict) {
			t.Errorf("%s: rotating its refresh token: err = %v, want %v", what, err, tenants.ErrConflict)
		}
	}
}

// testDeleteUser checks that deleting a user deletes everything of theirs
// and nothing of anyone else.
func testDeleteUser(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "delete-user")
	mustClient(t, ctx, s, "web")
	mustClient(t, ctx, s, "cli")
	conn, conn2 := mustConnection(t, ctx, s, "Corporate"), mustConnection(t, ctx, s, "Other")
	type rows struct {
		user     *tenants.User
		session  *tenants.Session
		family   tenants.Issue
		authed   *tenants.AuthRequest // logged in, no code yet
		coded    *tenants.AuthRequest // code issued, not redeemed
		identity *tenants.ExternalIdentity
	}
	seed := func(email string) rows {
		u := mustUser(t, ctx, s, email)
		r := rows{user: u, session: mustSession(t, ctx, s, u.ID, time.Hour)}
		r.identity = mustExternalIdentity(t, ctx, s, u.ID, conn.ID, "sub-"+email)
		mustExternalIdentity(t, ctx, s, u.ID, conn2.ID, "sub-"+email)
		mustConsent(t, ctx, s, u.ID, "web", tenants.ScopeSet{"": {"openid"}})
		mustConsent(t, ctx, s, u.ID, "cli", tenants.ScopeSet{"": {"openid"}})
		_, r.family = mustRedeemed(t, ctx, s, "web", u.ID)
		r.authed = mustAuthenticated(t, ctx, s, "web", u.ID)
		r.coded, _ = mustCode(t, ctx, s, "cli", u.ID)
		mustUserToken(t, ctx, s, u.ID, tenants.TokenVerifyEmail, time.Hour)
		mustFactor(t, ctx, s, newTOTPFactor(u.ID))
		mustFactor(t, ctx, s, newWebAuthnFactor(u.ID, "cred-"+email))
		mustRecoveryCodes(t, ctx, s, u.ID, randomHash(), randomHash())
		return r
	}
	doomed, kept := seed("doomed@example.com"), seed("kept@example.com")
	machine := machineToken(s, "web", time.Hour)
	revokedMachine := mustRevoke(t, ctx, s, machineToken(s, "web", time.Hour))
	// A revoked token of the user's family stays on the list (its client
	// is there) until it expires; its family is gone.
	revokedFamily := mustRevoke(t, ctx, s, familyToken(s, doomed.family.Grant))

	if err := s.DeleteUser(ctx, doomed.user.ID); err != nil {
		t.Fatal(err)
	}
	tables := []struct {
		table, column string
		kept          int // rows of the other user
	}{
		{"users", "id", 1},
		{"sessions", "user_id", 1},
		{"consents", "user_id", 2},
		{"grants", "user_id", 1},
		{"refresh_tokens", "user_id", 1},
		{"external_identities", "user_id", 2},
		{"user_tokens", "user_id", 1},
		{"mfa_factors", "user_id", 2},
		{"recovery_codes", "user_id", 2},
	}
	for _, tt := range tables {
		if n := countRows(t, s, tt.table, tt.column, doomed.user.ID); n != 0 {
			t.Errorf("%s has %d rows of the deleted user", tt.table, n)
		}
		if n := countRows(t, s, tt.table, tt.column, kept.user.ID); n != tt.kept {
			t.Errorf("%s has %d rows of the other user, want %d", tt.table, n, tt.kept)
		}
	}
	lookups := []struct {
		name string
		get  func(r rows) error
	}{
		{"UserByID", func(r rows) error { _, err := s.UserByID(ctx, r.user.ID); return err }},
		{"UserByEmail", func(r rows) error { _, err := s.UserByEmail(ctx, r.user.Email); return err }},
		{"SessionByID", func(r rows) error { _, err := s.SessionByID(ctx, r.session.ID); return err }},
		{"ConsentFor", func(r rows) error { _, err := s.ConsentFor(ctx, r.user.ID, "cli"); return err }},
		{"GrantByID", func(r rows) error { _, err := s.GrantByID(ctx, r.family.Grant.ID); return err }},
		{"AccessTokenStatus", func(r rows) error {
			tok := familyToken(s, r.family.Grant)
			st, err := tok.status(ctx, s)
			if err == nil && !st.GrantFound {
				return tenants.ErrNotFound
			}
			if err == nil && !tok.usable(st) {
				err = fmt.Errorf("status %+v: not usable", *st)
			}
			return err
		}},
		{"RefreshTokenByHash", func(r rows) error { _, _, err := s.RefreshTokenByHash(ctx, r.family.Refresh.TokenHash); return err }},
		{"ExternalIdentity", func(r rows) error {
			_, err := s.ExternalIdentity(ctx, conn.ID, sharedIssuer, r.identity.Subject)
			return err
		}},
		{"ListExternalIdentities", func(r rows) error {
			xs, err := s.ListExternalIdentities(ctx, r.user.ID)
			if err == nil && len(xs) == 0 {
				return tenants.ErrNotFound
			}
			return err
		}},
	}
	for _, l := range lookups {
		if err := l.get(doomed); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("%s of the deleted user: err = %v, want %v", l.name, err, tenants.ErrNotFound)
		}
		if err := l.get(kept); err != nil {
			t.Errorf("%s of the other user: %v", l.name, err)
		}
	}
	if st := mustStatus(t, ctx, s, machine); !machine.usable(st) {
		t.Errorf("a client's own token: status %+v, want usable", *st)
	}
	for _, tok := range []accessToken{revokedMachine, revokedFamily} {
		if st := mustStatus(t, ctx, s, tok); !st.Revoked || tok.usable(st) {
			t.Errorf("revoked token %s: status %+v, want still revoked", tok.jti, *st)
		}
	}
	if st := mustStatus(t, ctx, s, revokedFamily); st.GrantFound || st.GrantUserID != "" {
		t.Errorf("revoked token of the deleted user's family: status %+v, want the family gone", *st)
	}

	t.Run("requests in flight", func(t *testing.T) {
		for _, tt := range []struct {
			r        rows
			wantUser string
		}{{doomed, ""}, {kept, kept.user.ID}} {
			ar, err := s.AuthRequestByID(ctx, tt.r.authed.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ar.UserID != tt.wantUser {
				t.Errorf("logged-in request of %s: user %q, want %q", tt.r.user.Email, ar.UserID, tt.wantUser)
			}
		}
		if err := s.IssueCode(ctx, doomed.authed.ID, randomHash(), s.Now().Add(time.Minute)); !errors.Is(err, tenants.ErrConflict) {
			t.Errorf("code for the deleted user's login: err = %v, want %v", err, tenants.ErrConflict)
		}
		issue := newIssue(s, "cli", doomed.user.ID)
		if err := s.RedeemCode(ctx, doomed.coded.ID, issue); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("redeeming the deleted user's code: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if g, e, r := issueWritten(t, ctx, s, issue); g || e || r {
			t.Errorf("redeeming the deleted user's code wrote grant %v, events %v, refresh %v", g, e, r)
		}
	})

	if err := s.DeleteUser(ctx, doomed.user.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
	}
	for _, c := range []*tenants.Connection{conn, conn2} {
		if _, err := s.ConnectionByID(ctx, c.ID); err != nil {
			t.Errorf("connection %s of the deleted user's identities: %v", c.Name, err)
		}
	}
	// The email, and the upstream identity, are free again.
	again := mustUser(t, ctx, s, doomed.user.Email)
	mustExternalIdentity(t, ctx, s, again.ID, conn.ID, doomed.identity.Subject)
}

func testDeleteUserSession(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "user-session")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	doomed := mustSession(t, ctx, s, u.ID, time.Hour)
	kept := mustSession(t, ctx, s, u.ID, time.Hour)
	others := mustSession(t, ctx, s, other.ID, time.Hour)
	tests := []struct {
		name      string
		userID    string
		sessionID string
		wantErr   error
	}{
		{"session of another user", u.ID, others.ID, tenants.ErrNotFound},
		{"unknown session", u.ID, randomHash(), tenants.ErrNotFound},
		{"unknown user", tenants.NewID(), doomed.ID, tenants.ErrNotFound},
		{"the user's session", u.ID, doomed.ID, nil},
		{"again", u.ID, doomed.ID, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.DeleteUserSession(ctx, tt.userID, tt.sessionID); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := s.SessionByID(ctx, doomed.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("deleted session: err = %v, want %v", err, tenants.ErrNotFound)
	}
	for _, id := range []string{kept.ID, others.ID} {
		if _, err := s.SessionByID(ctx, id); err != nil {
			t.Errorf("session %s: %v", id, err)
		}
	}
}

func testUpdateClient(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "update-client")
	c := mustClient(t, ctx, s, "web")
	other := mustClient(t, ctx, s, "other")
	want := *c
	tests := []struct {
		name    string
		in      tenants.Client
		wantErr error
	}{
		{"new name, URIs and grant types", tenants.Client{
			ClientID: "web", Name: "Renamed",
			RedirectURIs: tenants.Strings{"https://new.example.com/cb", "http://localhost:8080/cb"}, PostLogoutRedirectURIs: tenants.Strings{"https://new.example.com/"},
			GrantTypes: tenants.Strings{tenants.GrantClientCredentials},
			// Fields UpdateClient does not save must be ignored.
			ID: tenants.NewID(), TenantID: tenants.NewID(), ApplicationType: tenants.AppTypeSPA, TokenEndpointAuthMethod: tenants.AuthMethodNone,
			SecretHash: "hijack", PreviousSecretHash: "hijack", Internal: true,
		}, nil},
		{"lists emptied", tenants.Client{ClientID: "web", Name: "Emptied"}, nil},
		{"secret method switched", tenants.Client{ClientID: "web", Name: "Post", TokenEndpointAuthMethod: tenants.AuthMethodPost}, nil},
		{"secret method switched back", tenants.Client{ClientID: "web", Name: "Basic", TokenEndpointAuthMethod: tenants.AuthMethodBasic}, nil},
		{"unknown client", tenants.Client{ClientID: "nope", Name: "Nope"}, tenants.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if err := s.UpdateClient(ctx, &in); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				want.Name, want.RedirectURIs, want.PostLogoutRedirectURIs, want.GrantTypes = in.Name, in.RedirectURIs, in.PostLogoutRedirectURIs, in.GrantTypes
				if in.TokenEndpointAuthMethod == tenants.AuthMethodBasic || in.TokenEndpointAuthMethod == tenants.AuthMethodPost {
					want.TokenEndpointAuthMethod = in.TokenEndpointAuthMethod
				}
			}
			got, err := s.ClientByClientID(ctx, "web")
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != c.ID || got.TenantID != tn.ID || got.Name != want.Name || !slices.Equal(got.RedirectURIs, want.RedirectURIs) ||
				!slices.Equal(got.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs) || !slices.Equal(got.GrantTypes, want.GrantTypes) ||
				got.ApplicationType != c.ApplicationType || got.TokenEndpointAuthMethod != want.TokenEndpointAuthMethod ||
				got.SecretHash != c.SecretHash || got.PreviousSecretHash != "" || got.Internal {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	got, err := s.ClientByClientID(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != other.Name || !slices.Equal(got.RedirectURIs, other.RedirectURIs) || !slices.Equal(got.GrantTypes, other.GrantTypes) {
		t.Errorf("other client changed: %+v", got)
	}
}

// grantsOf returns the scopes clientID is granted, per API id; an API on
// which it holds no scope is left out.
func grantsOf(t *testing.T, ctx context.Context, s *tenants.Store, clientID string) map[string][]string {
	t.Helper()
	gs, err := s.ClientGrants(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := tenants.FromContext(ctx)
	out := map[string][]string{}
	for _, g := range gs {
		if g.TenantID != tn.ID || g.ClientID != clientID || g.ID == "" {
			t.Errorf("grant %+v: want tenant %s, client %s", g, tn.ID, clientID)
		}
		if len(g.Scopes) > 0 {
			out[g.APIID] = g.Scopes
		}
	}
	return out
}

func sameGrants(a, b map[string][]string) bool {
	return len(a) == len(b) && sameScopes(a, b)
}

func testSetClientGrants(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "client-grants")
	octx, _ := newTenant(t, s, "client-grants-other")
	x := mustAPI(t, ctx, s, "https://x.example.com", "read", "write")
	y := mustAPI(t, ctx, s, "https://y.example.com", "admin")
	foreign := mustAPI(t, octx, s, "https://x.example.com", "read")
	mustClient(t, ctx, s, "web", tenants.ClientGrant{APIID: x.ID, Scopes: tenants.Strings{"read"}})
	mustClient(t, ctx, s, "other", tenants.ClientGrant{APIID: x.ID, Scopes: tenants.Strings{"write"}})
	grant := func(apiID string, scopes ...string) tenants.ClientGrant {
		return tenants.ClientGrant{APIID: apiID, Scopes: scopes}
	}
	want := map[string][]string{x.ID: {"read"}}
	tests := []struct {
		name     string
		clientID string
		grants   []tenants.ClientGrant
		wantErr  error
	}{
		{"replaces the grants", "web", []tenants.ClientGrant{grant(x.ID, "write"), grant(y.ID, "admin")}, nil},
		{"an API named twice", "web", []tenants.ClientGrant{grant(x.ID, "read"), grant(x.ID, "write")}, tenants.ErrAlreadyExists},
		{"an API of another tenant", "web", []tenants.ClientGrant{grant(x.ID, "read"), grant(foreign.ID, "read")}, tenants.ErrNotFound},
		{"an unknown API", "web", []tenants.ClientGrant{grant(tenants.NewID(), "read")}, tenants.ErrNotFound},
		{"unknown client", "nope", []tenants.ClientGrant{grant(x.ID, "read")}, tenants.ErrNotFound},
		{"no grants at all", "web", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetClientGrants(ctx, tt.clientID, tt.grants); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				want = map[string][]string{}
				for _, g := range tt.grants {
					want[g.APIID] = g.Scopes
				}
			}
			if got := grantsOf(t, ctx, s, "web"); !sameGrants(got, want) {
				t.Errorf("grants = %v, want %v", got, want)
			}
			if got, w := grantsOf(t, ctx, s, "other"), map[string][]string{x.ID: {"write"}}; !sameGrants(got, w) {
				t.Errorf("grants of another client = %v, want %v", got, w)
			}
			if got := grantsOf(t, ctx, s, "nope"); len(got) != 0 {
				t.Errorf("grants of an unknown client = %v", got)
			}
		})
	}
}

// testUpdateAPI checks that an API's scopes are replaced, and that a scope
// removed from it is removed from every client's grant of it.
func testUpdateAPI(t *testing.T, s *tenants.Store) {
	ctx, tn := newTenant(t, s, "update-api")
	api := mustAPI(t, ctx, s, "https://api.example.com", "read", "write", "admin")
	other := mustAPI(t, ctx, s, "https://other.example.com", "read", "write")
	mustClient(t, ctx, s, "both",
		tenants.ClientGrant{APIID: api.ID, Scopes: tenants.Strings{"read", "write"}},
		tenants.ClientGrant{APIID: other.ID, Scopes: tenants.Strings{"read", "write"}})
	mustClient(t, ctx, s, "admin", tenants.ClientGrant{APIID: api.ID, Scopes: tenants.Strings{"admin"}})
	scopes := func(names ...string) []tenants.Scope {
		var out []tenants.Scope
		for _, n := range names {
			out = append(out, tenants.Scope{Name: n, Description: "May " + n})
		}
		return out
	}
	tests := []struct {
		name       string
		in         tenants.API
		wantErr    error
		wantName   string
		wantScopes []string
		wantGrants map[string]map[string][]string // client -> API id -> scopes
	}{
		{"renames and replaces the scopes", tenants.API{
			ID: api.ID, Name: "Renamed", Scopes: scopes("read", "delete"),
			// Fields UpdateAPI does not save must be ignored.
			Audience: "https://hijack.example.com", TenantID: tenants.NewID(),
		}, nil, "Renamed", []string{"delete", "read"}, map[string]map[string][]string{
			"both":  {api.ID: {"read"}, other.ID: {"read", "write"}},
			"admin": {},
		}},
		{"a scope named twice", tenants.API{ID: api.ID, Name: "Twice", Scopes: scopes("read", "read")},
			tenants.ErrAlreadyExists, "Renamed", []string{"delete", "read"}, map[string]map[string][]string{
				"both":  {api.ID: {"read"}, other.ID: {"read", "write"}},
				"admin": {},
			}},
		{"unknown API", tenants.API{ID: tenants.NewID(), Name: "Nope", Scopes: scopes("read")},
			tenants.ErrNotFound, "Renamed", []string{"delete", "read"}, map[string]map[string][]string{
				"both":  {api.ID: {"read"}, other.ID: {"read", "write"}},
				"admin": {},
			}},
		{"no scopes at all", tenants.API{ID: api.ID, Name: "Bare"}, nil, "Bare", nil, map[string]map[string][]string{
			"both":  {other.ID: {"read", "write"}},
			"admin": {},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if err := s.UpdateAPI(ctx, &in); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got, err := s.APIByID(ctx, api.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, sc := range got.Scopes {
				names = append(names, sc.Name)
				if sc.TenantID != tn.ID || sc.APIID != api.ID || sc.Description != "May "+sc.Name {
					t.Errorf("scope %+v", sc)
				}
			}
			if got.Name != tt.wantName || got.Audience != api.Audience || !slices.Equal(names, tt.wantScopes) {
				t.Errorf("API %q at %s with scopes %v, want %q at %s with %v", got.Name, got.Audience, names, tt.wantName, api.Audience, tt.wantScopes)
			}
			for clientID, want := range tt.wantGrants {
				if got := grantsOf(t, ctx, s, clientID); !sameGrants(got, want) {
					t.Errorf("grants of %s = %v, want %v", clientID, got, want)
				}
			}
		})
	}
	if got, err := s.APIByID(ctx, other.ID); err != nil || len(got.Scopes) != 2 {
		t.Errorf("other API = %+v, %v; want its two scopes", got, err)
	}
}

// testDeleteAPI checks that deleting an API deletes its scopes and every
// client's grant of it, and leaves the clients and other APIs.
func testDeleteAPI(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "delete-api")
	doomed := mustAPI(t, ctx, s, "https://doomed.example.com", "read", "write")
	kept := mustAPI(t, ctx, s, "https://kept.example.com", "read")
	mustClient(t, ctx, s, "web",
		tenants.ClientGrant{APIID: doomed.ID, Scopes: tenants.Strings{"read"}},
		tenants.ClientGrant{APIID: kept.ID, Scopes: tenants.Strings{"read"}})
	mustClient(t, ctx, s, "cli", tenants.ClientGrant{APIID: doomed.ID, Scopes: tenants.Strings{"write"}})

	if err := s.DeleteAPI(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIByID(ctx, doomed.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("APIByID: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if _, err := s.APIByAudience(ctx, doomed.Audience); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("APIByAudience: err = %v, want %v", err, tenants.ErrNotFound)
	}
	for _, table := range []string{"api_scopes", "client_grants"} {
		if n := countRows(t, s, table, "api_id", doomed.ID); n != 0 {
			t.Errorf("%s has %d rows of the deleted API", table, n)
		}
	}
	tests := []struct {
		clientID string
		want     map[string][]string
	}{
		{"web", map[string][]string{kept.ID: {"read"}}},
		{"cli", map[string][]string{}},
	}
	for _, tt := range tests {
		if _, err := s.ClientByClientID(ctx, tt.clientID); err != nil {
			t.Errorf("client %s: %v", tt.clientID, err)
		}
		if got := grantsOf(t, ctx, s, tt.clientID); !sameGrants(got, tt.want) {
			t.Errorf("grants of %s = %v, want %v", tt.clientID, got, tt.want)
		}
	}
	if got, err := s.APIByID(ctx, kept.ID); err != nil || len(got.Scopes) != 1 {
		t.Errorf("other API = %+v, %v; want it with its scope", got, err)
	}
	if err := s.DeleteAPI(ctx, doomed.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
	}
	// The audience is free again.
	mustAPI(t, ctx, s, doomed.Audience, "read")
}

// testClientGrantExpiry runs on a store of its own, whose clock it moves: a
// grant given with an expiry (the console's Try it grants: one try) is read
// until then and not after, whatever reads it, while the client's other
// grants stay; and DeleteExpired removes it once past the grace period.
func testClientGrantExpiry(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, _ := newTenant(t, s, "grant-expiry")
	x := mustAPI(t, ctx, s, "https://x.example.com", "read")
	y := mustAPI(t, ctx, s, "https://y.example.com", "read")
	mustClient(t, ctx, s, "try")
	lapses := clk.Now().Add(10 * time.Minute)
	if err := s.SetClientGrants(ctx, "try", []tenants.ClientGrant{
		{APIID: x.ID, Scopes: tenants.Strings{"read"}, ExpiresAt: &lapses},
		{APIID: y.ID, Scopes: tenants.Strings{"read"}},
	}); err != nil {
		t.Fatal(err)
	}
	gs, err := s.ClientGrants(ctx, "try")
	if err != nil || len(gs) != 2 {
		t.Fatalf("ClientGrants before the expiry = %+v, %v; want both", gs, err)
	}
	for _, g := range gs {
		if g.APIID == x.ID && !samePtrTime(g.ExpiresAt, lapses) || g.APIID == y.ID && g.ExpiresAt != nil {
			t.Errorf("grant %+v: expiry not kept", g)
		}
	}

	clk.Advance(10 * time.Minute)
	if got, want := grantsOf(t, ctx, s, "try"), map[string][]string{y.ID: {"read"}}; !sameGrants(got, want) {
		t.Errorf("grants at the expiry = %v, want %v: the lapsed one is gone", got, want)
	}
	if n := countRows(t, s, "client_grants", "client_id", "try"); n != 2 {
		t.Errorf("%d rows before the purge, want 2", n)
	}
	clk.Advance(24*time.Hour + time.Second)
	if _, err := s.DeleteExpired(context.Background(), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "client_grants", "client_id", "try"); n != 1 {
		t.Errorf("%d rows after the purge, want the grant without an expiry", n)
	}
}
