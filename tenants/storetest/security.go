package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// The subtests of account security: single-use links sent by email,
// password and address changes, second factors, recovery codes, steps of
// a login in progress, throttling counters and the development outbox.

// sameUserToken returns how got differs from want, or "" if it does not.
func sameUserToken(got, want *tenants.UserToken) string {
	switch {
	case got.ID != want.ID || got.TenantID != want.TenantID || got.UserID != want.UserID:
		return fmt.Sprintf("id, tenant, user = %s, %s, %s; want %s, %s, %s", got.ID, got.TenantID, got.UserID, want.ID, want.TenantID, want.UserID)
	case got.Purpose != want.Purpose || got.Email != want.Email:
		return fmt.Sprintf("purpose, email = %q, %q; want %q, %q", got.Purpose, got.Email, want.Purpose, want.Email)
	case !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt):
		return fmt.Sprintf("created, expires = %v, %v; want %v, %v", got.CreatedAt, got.ExpiresAt, want.CreatedAt, want.ExpiresAt)
	}
	return ""
}

// sameFactor returns how got differs from want, or "" if it does not.
func sameFactor(got, want *tenants.MFAFactor) string {
	switch {
	case got.ID != want.ID || got.TenantID != want.TenantID || got.UserID != want.UserID:
		return fmt.Sprintf("id, tenant, user = %s, %s, %s; want %s, %s, %s", got.ID, got.TenantID, got.UserID, want.ID, want.TenantID, want.UserID)
	case got.Type != want.Type || got.Name != want.Name || got.Confirmed != want.Confirmed:
		return fmt.Sprintf("type, name, confirmed = %q, %q, %v; want %q, %q, %v", got.Type, got.Name, got.Confirmed, want.Type, want.Name, want.Confirmed)
	case !bytes.Equal(got.SecretSealed, want.SecretSealed) || got.CredentialID != want.CredentialID || got.Credential != want.Credential:
		return fmt.Sprintf("secret, credential id, credential = %q, %q, %q; want %q, %q, %q",
			got.SecretSealed, got.CredentialID, got.Credential, want.SecretSealed, want.CredentialID, want.Credential)
	case !sameTime(got.CreatedAt, want.CreatedAt):
		return fmt.Sprintf("created = %v, want %v", got.CreatedAt, want.CreatedAt)
	case (got.LastUsedAt == nil) != (want.LastUsedAt == nil) || (got.LastUsedAt != nil && !sameTime(*got.LastUsedAt, *want.LastUsedAt)):
		return fmt.Sprintf("last used = %v, want %v", got.LastUsedAt, want.LastUsedAt)
	}
	return ""
}

// sameLoginStep returns how got differs from want, or "" if it does not.
func sameLoginStep(got, want *tenants.LoginStep) string {
	switch {
	case got.ID != want.ID || got.TenantID != want.TenantID || got.UserID != want.UserID || got.AuthRequestID != want.AuthRequestID:
		return fmt.Sprintf("id, tenant, user, request = %s, %s, %s, %s; want %s, %s, %s, %s",
			got.ID, got.TenantID, got.UserID, got.AuthRequestID, want.ID, want.TenantID, want.UserID, want.AuthRequestID)
	case got.BrowserHash != want.BrowserHash || got.Purpose != want.Purpose || got.Data != want.Data:
		return fmt.Sprintf("browser, purpose, data = %s, %q, %q; want %s, %q, %q", got.BrowserHash, got.Purpose, got.Data, want.BrowserHash, want.Purpose, want.Data)
	case !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt):
		return fmt.Sprintf("created, expires = %v, %v; want %v, %v", got.CreatedAt, got.ExpiresAt, want.CreatedAt, want.ExpiresAt)
	}
	return ""
}

// factorIDs returns the ids of fs.
func factorIDs(fs []tenants.MFAFactor) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

// oneWinner checks the errors of calls that raced for something only one
// of them may have: exactly one succeeded, every other failed with lost.
// It returns the winner, or -1.
func oneWinner(t *testing.T, errs []error, lost error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("calls %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lost):
			t.Errorf("call %d: err = %v, want nil or %v", i, err, lost)
		}
	}
	if winner < 0 {
		t.Error("no call succeeded")
	}
	return winner
}

// testUserTokens runs on a store of its own, whose clock it moves.
func testUserTokens(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "user-tokens")
	otherCtx, _ := newTenant(t, s, "user-tokens-other")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	stranger := mustUser(t, otherCtx, s, "ada@example.com")
	unused := func(id string) bool {
		return countSQL(t, s, "SELECT COUNT(*) FROM user_tokens WHERE id = ? AND used_at IS NULL", id) == 1
	}

	t.Run("used once", func(t *testing.T) {
		tok := newUserToken(s, u.ID, tenants.TokenChangeEmail, time.Hour)
		if err := s.CreateUserToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if tok.TenantID != tn.ID || !tok.CreatedAt.Equal(clk.Now()) || tok.UsedAt != nil {
			t.Errorf("CreateUserToken left tenant %q, created %v, used %v", tok.TenantID, tok.CreatedAt, tok.UsedAt)
		}
		for range 2 {
			got, err := s.UserTokenValid(ctx, tok.ID, tok.Purpose)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameUserToken(got, tok); diff != "" || got.UsedAt != nil {
				t.Errorf("UserTokenValid: %s, used %v", diff, got.UsedAt)
			}
		}
		clk.Advance(time.Minute)
		got, err := s.UseUserToken(ctx, tok.ID, tok.Purpose)
		if err != nil {
			t.Fatal(err)
		}
		if diff := sameUserToken(got, tok); diff != "" || !samePtrTime(got.UsedAt, clk.Now()) {
			t.Errorf("UseUserToken: %s, used %v; want used at %v", diff, got.UsedAt, clk.Now())
		}
		if _, err := s.UseUserToken(ctx, tok.ID, tok.Purpose); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second use: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.UserTokenValid(ctx, tok.ID, tok.Purpose); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("UserTokenValid after use: err = %v, want %v", err, tenants.ErrNotFound)
		}
	})

	t.Run("purpose must match", func(t *testing.T) {
		tok := mustUserToken(t, ctx, s, u.ID, tenants.TokenVerifyEmail, time.Hour)
		for _, purpose := range []string{tenants.TokenResetPassword, tenants.TokenChangeEmail, ""} {
			if _, err := s.UserTokenValid(ctx, tok.ID, purpose); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UserTokenValid for %q: err = %v, want %v", purpose, err, tenants.ErrNotFound)
			}
			if _, err := s.UseUserToken(ctx, tok.ID, purpose); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UseUserToken for %q: err = %v, want %v", purpose, err, tenants.ErrNotFound)
			}
		}
		if !unused(tok.ID) {
			t.Fatal("a use for another purpose spent the link")
		}
		if _, err := s.UseUserToken(ctx, tok.ID, tenants.TokenVerifyEmail); err != nil {
			t.Errorf("use for its purpose: %v", err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			after   time.Duration // since creation, of a link that lives an hour
			wantErr error
		}{
			{"just before expiry", time.Hour - time.Second, nil},
			{"at expiry", time.Hour, tenants.ErrNotFound},
			{"after expiry", 24 * time.Hour, tenants.ErrNotFound},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tok := mustUserToken(t, ctx, s, u.ID, tenants.TokenResetPassword, time.Hour)
				clk.Advance(tt.after)
				if _, err := s.UserTokenValid(ctx, tok.ID, tok.Purpose); !errors.Is(err, tt.wantErr) {
					t.Errorf("UserTokenValid: err = %v, want %v", err, tt.wantErr)
				}
				if _, err := s.UseUserToken(ctx, tok.ID, tok.Purpose); !errors.Is(err, tt.wantErr) {
					t.Errorf("UseUserToken: err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil && !unused(tok.ID) {
					t.Error("an expired link was marked used")
				}
			})
		}
	})

	t.Run("a new link spends the earlier ones of its purpose", func(t *testing.T) {
		earlier := mustUserToken(t, ctx, s, u.ID, tenants.TokenResetPassword, time.Hour)
		verify := mustUserToken(t, ctx, s, u.ID, tenants.TokenVerifyEmail, time.Hour)
		othersReset := mustUserToken(t, ctx, s, other.ID, tenants.TokenResetPassword, time.Hour)
		strangersReset := mustUserToken(t, otherCtx, s, stranger.ID, tenants.TokenResetPassword, time.Hour)
		clk.Advance(time.Minute)
		newest := mustUserToken(t, ctx, s, u.ID, tenants.TokenResetPassword, time.Hour)
		if _, err := s.UserTokenValid(ctx, earlier.ID, earlier.Purpose); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("the earlier link: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.UseUserToken(ctx, earlier.ID, earlier.Purpose); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("using the earlier link: err = %v, want %v", err, tenants.ErrNotFound)
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			tok  *tenants.UserToken
		}{
			{"the newest link", ctx, newest},
			{"a link of another purpose", ctx, verify},
			{"another user's link", ctx, othersReset},
			{"another tenant's link", otherCtx, strangersReset},
		} {
			if _, err := s.UserTokenValid(c.ctx, c.tok.ID, c.tok.Purpose); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	})

	t.Run("another tenant's", func(t *testing.T) {
		tok := mustUserToken(t, otherCtx, s, stranger.ID, tenants.TokenVerifyEmail, time.Hour)
		if _, err := s.UserTokenValid(ctx, tok.ID, tok.Purpose); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("UserTokenValid: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.UseUserToken(ctx, tok.ID, tok.Purpose); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("UseUserToken: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if !unused(tok.ID) {
			t.Fatal("another tenant spent the link")
		}
		if got, err := s.UseUserToken(otherCtx, tok.ID, tok.Purpose); err != nil || got.UserID != stranger.ID {
			t.Errorf("use by its own tenant: %+v, %v", got, err)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		for _, id := range []string{randomHash(), ""} {
			if _, err := s.UserTokenValid(ctx, id, tenants.TokenVerifyEmail); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UserTokenValid(%q): err = %v, want %v", id, err, tenants.ErrNotFound)
			}
			if _, err := s.UseUserToken(ctx, id, tenants.TokenVerifyEmail); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UseUserToken(%q): err = %v, want %v", id, err, tenants.ErrNotFound)
			}
		}
	})

	t.Run("CreateUserToken failing", func(t *testing.T) {
		live := mustUserToken(t, ctx, s, u.ID, tenants.TokenChangeEmail, time.Hour)
		for _, c := range []struct {
			name    string
			tok     *tenants.UserToken
			wantErr error
		}{
			{"unknown user", newUserToken(s, tenants.NewID(), tenants.TokenChangeEmail, time.Hour), tenants.ErrNotFound},
			{"user of another tenant", newUserToken(s, stranger.ID, tenants.TokenChangeEmail, time.Hour), tenants.ErrNotFound},
			{"taken id", &tenants.UserToken{ID: live.ID, UserID: u.ID, Purpose: tenants.TokenChangeEmail, ExpiresAt: clk.Now().Add(time.Hour)}, tenants.ErrAlreadyExists},
		} {
			t.Run(c.name, func(t *testing.T) {
				if err := s.CreateUserToken(ctx, c.tok); !errors.Is(err, c.wantErr) {
					t.Errorf("err = %v, want %v", err, c.wantErr)
				}
				if c.tok.ID != live.ID && countRows(t, s, "user_tokens", "id", c.tok.ID) != 0 {
					t.Error("the failed create wrote a row")
				}
				// A failed create spends nothing.
				if got, err := s.UserTokenValid(ctx, live.ID, live.Purpose); err != nil || got.Email != live.Email {
					t.Errorf("the live link of the purpose: %+v, %v", got, err)
				}
			})
		}
	})
}

// testUseUserTokenConcurrently spends one link from many requests at
// once, as a link clicked twice does: exactly one wins.
func testUseUserTokenConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "user-token-race")
	u := mustUser(t, ctx, s, "ada@example.com")
	tok := mustUserToken(t, ctx, s, u.ID, tenants.TokenResetPassword, time.Hour)
	const n = 20
	got := make([]*tenants.UserToken, n)
	errs := race(n, func(i int) error {
		var err error
		got[i], err = s.UseUserToken(ctx, tok.ID, tok.Purpose)
		return err
	})
	winner := oneWinner(t, errs, tenants.ErrNotFound)
	if winner < 0 {
		return
	}
	if w := got[winner]; w.ID != tok.ID || w.UserID != u.ID || w.UsedAt == nil {
		t.Errorf("the winner got %+v, want the link, used", w)
	}
}

// testChangePassword runs on a store of its own, whose clock it moves: a
// new password ends the user's sessions, revokes their token families and
// spends their password reset and change-of-address links, and nothing of
// anyone else's.
func testChangePassword(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, _ := newTenant(t, s, "change-password")
	mustClient(t, ctx, s, "web")
	type rows struct {
		user    *tenants.User
		session *tenants.Session
		family  tenants.Issue
		reset   *tenants.UserToken
		email   *tenants.UserToken // a change of address
		verify  *tenants.UserToken
	}
	seed := func(email string) rows {
		u := mustUser(t, ctx, s, email)
		r := rows{user: u, session: mustSession(t, ctx, s, u.ID, time.Hour)}
		_, r.family = mustRedeemed(t, ctx, s, "web", u.ID)
		r.reset = mustUserToken(t, ctx, s, u.ID, tenants.TokenResetPassword, time.Hour)
		r.email = mustUserToken(t, ctx, s, u.ID, tenants.TokenChangeEmail, time.Hour)
		r.verify = mustUserToken(t, ctx, s, u.ID, tenants.TokenVerifyEmail, time.Hour)
		return r
	}
	target, bystander := seed("ada@example.com"), seed("bob@example.com")

	clk.Advance(time.Minute)
	if err := s.ChangePassword(ctx, target.user.ID, "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	changed := clk.Now()
	u, err := s.UserByID(ctx, target.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "$argon2id$new" || !samePtrTime(u.PasswordChangedAt, changed) || !sameTime(u.UpdatedAt, changed) {
		t.Errorf("password %q, changed %v, updated %v; want the new password changed and updated at %v", u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt, changed)
	}
	if _, err := s.SessionByID(ctx, target.session.ID); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("session of the user: err = %v, want %v", err, tenants.ErrNotFound)
	}
	checkFamily(t, ctx, s, "family of the user", target.family, true, "password changed")
	if _, err := s.UseUserToken(ctx, target.reset.ID, target.reset.Purpose); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("the user's password reset link: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if _, err := s.UseUserToken(ctx, target.email.ID, target.email.Purpose); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("the user's change-of-address link: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if _, err := s.UserTokenValid(ctx, target.verify.ID, target.verify.Purpose); err != nil {
		t.Errorf("the user's email verification link: %v, want it still valid", err)
	}

	t.Run("another user", func(t *testing.T) {
		b, err := s.UserByID(ctx, bystander.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.PasswordHash != bystander.user.PasswordHash || b.PasswordChangedAt != nil {
			t.Errorf("password %q, changed %v; want them untouched", b.PasswordHash, b.PasswordChangedAt)
		}
		if _, err := s.SessionByID(ctx, bystander.session.ID); err != nil {
			t.Errorf("session: %v", err)
		}
		checkFamily(t, ctx, s, "family", bystander.family, false, "")
		if _, err := s.UserTokenValid(ctx, bystander.reset.ID, bystander.reset.Purpose); err != nil {
			t.Errorf("password reset link: %v", err)
		}
		if _, err := s.UserTokenValid(ctx, bystander.email.ID, bystander.email.Purpose); err != nil {
			t.Errorf("change-of-address link: %v", err)
		}
	})

	t.Run("again", func(t *testing.T) {
		clk.Advance(time.Hour)
		if err := s.ChangePassword(ctx, target.user.ID, "$argon2id$newer"); err != nil {
			t.Fatal(err)
		}
		u, err := s.UserByID(ctx, target.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != "$argon2id$newer" || !samePtrTime(u.PasswordChangedAt, clk.Now()) {
			t.Errorf("password %q, changed %v; want the newer password changed at %v", u.PasswordHash, u.PasswordChangedAt, clk.Now())
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		if err := s.ChangePassword(ctx, tenants.NewID(), "$argon2id$new"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
		}
	})
}

func testSetEmail(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "set-email")
	otherCtx, _ := newTenant(t, s, "set-email-other")
	u := mustUser(t, ctx, s, "ada@example.com")
	mustUser(t, ctx, s, "grace@example.com")
	mustUser(t, otherCtx, s, "new@example.com")
	// In order: each step sees the changes of the steps before it.
	steps := []struct {
		name         string
		userID       string
		email        string
		verified     bool
		wantErr      error
		wantEmail    string
		wantVerified bool
	}{
		{"new address, not verified", u.ID, " New@Example.COM", false, nil, " New@Example.COM", false},
		{"verified", u.ID, "New@Example.com", true, nil, "New@Example.com", true},
		{"address of another user", u.ID, "GRACE@example.com", true, tenants.ErrAlreadyExists, "New@Example.com", true},
		{"unknown user", tenants.NewID(), "unknown@example.com", true, tenants.ErrNotFound, "New@Example.com", true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.SetEmail(ctx, st.userID, st.email, st.verified); !errors.Is(err, st.wantErr) {
				t.Fatalf("err = %v, want %v", err, st.wantErr)
			}
			got, err := s.UserByEmail(ctx, "new@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != u.ID || got.Email != st.wantEmail || got.EmailNormalized != "new@example.com" || got.EmailVerified != st.wantVerified {
				t.Errorf("user %s, email %q (%q), verified %v; want %s, %q (new@example.com), %v",
					got.ID, got.Email, got.EmailNormalized, got.EmailVerified, u.ID, st.wantEmail, st.wantVerified)
			}
		})
	}
	if _, err := s.UserByEmail(ctx, "ada@example.com"); !errors.Is(err, tenants.ErrNotFound) {
		t.Errorf("the old address: err = %v, want %v", err, tenants.ErrNotFound)
	}
	if n := countRows(t, s, "users", "email_normalized", "unknown@example.com"); n != 0 {
		t.Errorf("%d users of the unknown user's address", n)
	}
	// The address is the other tenant's user's too, and stays so.
	if got, err := s.UserByEmail(otherCtx, "new@example.com"); err != nil || got.Email != "new@example.com" {
		t.Errorf("the other tenant's user of the address: %+v, %v", got, err)
	}
}

// testFactors runs on a store of its own, whose clock it moves.
func testFactors(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "factors")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")

	totp := newTOTPFactor(u.ID)
	if err := s.CreateFactor(ctx, totp); err != nil {
		t.Fatal(err)
	}
	if totp.ID == "" || totp.TenantID != tn.ID || !totp.CreatedAt.Equal(clk.Now()) || totp.LastUsedAt != nil {
		t.Errorf("CreateFactor left id %q, tenant %q, created %v, last used %v", totp.ID, totp.TenantID, totp.CreatedAt, totp.LastUsedAt)
	}
	clk.Advance(time.Second)
	key := mustFactor(t, ctx, s, newWebAuthnFactor(u.ID, "cred-1"))
	clk.Advance(time.Second)
	// A factor without a sealed secret stores an empty one.
	bare := mustFactor(t, ctx, s, &tenants.MFAFactor{UserID: u.ID, Type: tenants.FactorTOTP})
	othersKey := mustFactor(t, ctx, s, newWebAuthnFactor(other.ID, "cred-2"))

	t.Run("ListFactors", func(t *testing.T) {
		fs, err := s.ListFactors(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []*tenants.MFAFactor{totp, key, bare}
		if len(fs) != len(want) {
			t.Fatalf("ListFactors = %v, want %s, %s, %s (oldest first)", factorIDs(fs), totp.ID, key.ID, bare.ID)
		}
		for i := range want {
			if diff := sameFactor(&fs[i], want[i]); diff != "" {
				t.Errorf("factor %d: %s", i, diff)
			}
		}
		for userID, want := range map[string][]string{other.ID: {othersKey.ID}, tenants.NewID(): nil} {
			if fs, err := s.ListFactors(ctx, userID); err != nil || !slices.Equal(factorIDs(fs), want) {
				t.Errorf("ListFactors(%s) = %v, %v; want %v", userID, factorIDs(fs), err, want)
			}
		}
	})

	t.Run("FactorByCredentialID", func(t *testing.T) {
		for _, tt := range []struct {
			name         string
			credentialID string
			want         *tenants.MFAFactor
		}{
			{"a user's", "cred-1", key},
			{"another user's", "cred-2", othersKey},
			{"empty, as TOTP factors have", "", nil},
			{"unknown", "cred-3", nil},
			{"other case", "CRED-1", nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.FactorByCredentialID(ctx, tt.credentialID)
				if tt.want == nil {
					if !errors.Is(err, tenants.ErrNotFound) {
						t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := sameFactor(got, tt.want); diff != "" {
					t.Error(diff)
				}
			})
		}
	})

	t.Run("UseFactor", func(t *testing.T) {
		// In order: each step sees the uses before it.
		for _, tt := range []struct {
			name           string
			factor         *tenants.MFAFactor
			credential     string
			wantErr        error
			wantCredential string
		}{
			{"TOTP, confirming it", totp, "", nil, ""},
			{"WebAuthn, with the credential updated", key, `{"id":"cred-1","signCount":5}`, nil, `{"id":"cred-1","signCount":5}`},
			{"WebAuthn, with no new credential", key, "", nil, `{"id":"cred-1","signCount":5}`},
			{"unknown", &tenants.MFAFactor{ID: tenants.NewID()}, "", tenants.ErrNotFound, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				clk.Advance(time.Minute)
				if err := s.UseFactor(ctx, tt.factor.ID, tt.credential); !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil {
					return
				}
				fs, err := s.ListFactors(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(fs, func(f tenants.MFAFactor) bool { return f.ID == tt.factor.ID })
				if i < 0 {
					t.Fatal("the factor is gone")
				}
				want, used := *tt.factor, clk.Now()
				want.Confirmed, want.Credential, want.LastUsedAt = true, tt.wantCredential, &used
				if diff := sameFactor(&fs[i], &want); diff != "" {
					t.Error(diff)
				}
			})
		}
		if fs, err := s.ListFactors(ctx, u.ID); err != nil || fs[2].LastUsedAt != nil || fs[2].Confirmed {
			t.Errorf("a factor not used: %+v, %v", fs[2], err)
		}
	})

	t.Run("DeleteFactor", func(t *testing.T) {
		if err := s.DeleteFactor(ctx, other.ID, totp.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("a factor of another user: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.DeleteFactor(ctx, u.ID, key.ID); err != nil {
			t.Fatal(err)
		}
		if fs, err := s.ListFactors(ctx, u.ID); err != nil || !slices.Equal(factorIDs(fs), []string{totp.ID, bare.ID}) {
			t.Errorf("ListFactors = %v, %v; want %s, %s", factorIDs(fs), err, totp.ID, bare.ID)
		}
		if _, err := s.FactorByCredentialID(ctx, "cred-1"); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("FactorByCredentialID of the deleted factor: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.DeleteFactor(ctx, u.ID, key.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second delete: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.UseFactor(ctx, key.ID, ""); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("UseFactor of the deleted factor: err = %v, want %v", err, tenants.ErrNotFound)
		}
		// Its credential id is free again.
		again := mustFactor(t, ctx, s, newWebAuthnFactor(other.ID, "cred-1"))
		if got, err := s.FactorByCredentialID(ctx, "cred-1"); err != nil || got.ID != again.ID {
			t.Errorf("FactorByCredentialID = %+v, %v; want the new factor", got, err)
		}
	})

	t.Run("CreateFactor of an unknown user", func(t *testing.T) {
		f := newWebAuthnFactor(tenants.NewID(), "cred-"+suffix())
		if err := s.CreateFactor(ctx, f); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
		}
		if n := countRows(t, s, "mfa_factors", "credential_id", f.CredentialID); n != 0 {
			t.Errorf("%d rows of the failed create", n)
		}
	})
}

func testRecoveryCodes(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "recovery")
	u := mustUser(t, ctx, s, "ada@example.com")
	other := mustUser(t, ctx, s, "bob@example.com")
	h1, h2, h3, h4 := randomHash(), randomHash(), randomHash(), randomHash()
	mustRecoveryCodes(t, ctx, s, u.ID, h1, h2, h3)
	// Another user may have a code of the same hash.
	mustRecoveryCodes(t, ctx, s, other.ID, h1, h4)
	count := func(userID string) int64 {
		t.Helper()
		n, err := s.CountRecoveryCodes(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(u.ID); n != 3 {
		t.Fatalf("CountRecoveryCodes = %d, want 3", n)
	}
	// In order: each step sees the uses before it.
	steps := []struct {
		name      string
		userID    string
		hash      string
		wantErr   error
		wantCount int64 // of u
	}{
		{"use", u.ID, h1, nil, 2},
		{"use again", u.ID, h1, tenants.ErrNotFound, 2},
		{"another user's code", u.ID, h4, tenants.ErrNotFound, 2},
		{"unknown code", u.ID, randomHash(), tenants.ErrNotFound, 2},
		{"unknown user", tenants.NewID(), h2, tenants.ErrNotFound, 2},
		{"use another", u.ID, h2, nil, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.UseRecoveryCode(ctx, st.userID, st.hash); !errors.Is(err, st.wantErr) {
				t.Errorf("err = %v, want %v", err, st.wantErr)
			}
			if n := count(u.ID); n != st.wantCount {
				t.Errorf("CountRecoveryCodes = %d, want %d", n, st.wantCount)
			}
			if n := count(other.ID); n != 2 {
				t.Errorf("CountRecoveryCodes of the other user = %d, want 2", n)
			}
		})
	}

	t.Run("ReplaceRecoveryCodes", func(t *testing.T) {
		h5, h6 := randomHash(), randomHash()
		mustRecoveryCodes(t, ctx, s, u.ID, h5, h6)
		if n := count(u.ID); n != 2 {
			t.Errorf("CountRecoveryCodes = %d, want 2", n)
		}
		if n := countRows(t, s, "recovery_codes", "user_id", u.ID); n != 2 {
			t.Errorf("%d rows of the user, want the 2 new codes: used and unused old codes go", n)
		}
		if err := s.UseRecoveryCode(ctx, u.ID, h3); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("an old unused code: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.UseRecoveryCode(ctx, u.ID, h5); err != nil {
			t.Errorf("a new code: %v", err)
		}
		mustRecoveryCodes(t, ctx, s, u.ID)
		if n := countRows(t, s, "recovery_codes", "user_id", u.ID); n != 0 {
			t.Errorf("%d rows of the user after replacing with none", n)
		}
		if err := s.UseRecoveryCode(ctx, u.ID, h6); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("a replaced code: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if n := count(other.ID); n != 2 {
			t.Errorf("CountRecoveryCodes of the other user = %d, want 2", n)
		}
		if err := s.UseRecoveryCode(ctx, other.ID, h1); err != nil {
			t.Errorf("the other user's code of a hash the user had: %v", err)
		}
	})

	t.Run("UseRecoveryCodeMadeBefore", func(t *testing.T) {
		h7, h8 := randomHash(), randomHash()
		made := s.Now()
		mustRecoveryCodes(t, ctx, s, u.ID, h7, h8)
		if err := s.UseRecoveryCodeMadeBefore(ctx, u.ID, h7, made.Add(-time.Minute)); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("a code made after the bound: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if err := s.UseRecoveryCodeMadeBefore(ctx, u.ID, h7, made.Add(time.Minute)); err != nil {
			t.Errorf("a code made before the bound: %v", err)
		}
		if err := s.UseRecoveryCodeMadeBefore(ctx, u.ID, h7, made.Add(time.Minute)); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("a spent code: err = %v, want %v", err, tenants.ErrNotFound)
		}
		mustRecoveryCodes(t, ctx, s, u.ID)
	})

	t.Run("ReplaceRecoveryCodes of an unknown user", func(t *testing.T) {
		id := tenants.NewID()
		if err := s.ReplaceRecoveryCodes(ctx, id, []string{randomHash()}); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("err = %v, want %v", err, tenants.ErrNotFound)
		}
		if n := countRows(t, s, "recovery_codes", "user_id", id); n != 0 {
			t.Errorf("%d rows of the failed replace", n)
		}
	})
}

// testUseRecoveryCodeConcurrently spends one recovery code from many
// requests at once: exactly one wins, and no other code is spent.
func testUseRecoveryCodeConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "recovery-race")
	u := mustUser(t, ctx, s, "ada@example.com")
	h := randomHash()
	mustRecoveryCodes(t, ctx, s, u.ID, h, randomHash())
	const n = 20
	oneWinner(t, race(n, func(int) error { return s.UseRecoveryCode(ctx, u.ID, h) }), tenants.ErrNotFound)
	if left, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || left != 1 {
		t.Errorf("CountRecoveryCodes = %d, %v; want 1", left, err)
	}
}

// testLoginSteps runs on a store of its own, whose clock it moves.
func testLoginSteps(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx, tn := newTenant(t, s, "login-steps")
	otherCtx, _ := newTenant(t, s, "login-steps-other")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")
	ar := mustAuthenticated(t, ctx, s, "web", u.ID)
	unused := func(id string) bool {
		return countSQL(t, s, "SELECT COUNT(*) FROM login_steps WHERE id = ? AND used_at IS NULL", id) == 1
	}

	t.Run("used once", func(t *testing.T) {
		st := newLoginStep(s, u.ID, ar.ID, 10*time.Minute)
		if err := s.CreateLoginStep(ctx, st); err != nil {
			t.Fatal(err)
		}
		if st.TenantID != tn.ID || !st.CreatedAt.Equal(clk.Now()) || st.UsedAt != nil {
			t.Errorf("CreateLoginStep left tenant %q, created %v, used %v", st.TenantID, st.CreatedAt, st.UsedAt)
		}
		for range 2 {
			got, err := s.LoginStepByID(ctx, st.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameLoginStep(got, st); diff != "" || got.UsedAt != nil {
				t.Errorf("LoginStepByID: %s, used %v", diff, got.UsedAt)
			}
		}
		clk.Advance(time.Minute)
		got, err := s.UseLoginStep(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := sameLoginStep(got, st); diff != "" || !samePtrTime(got.UsedAt, clk.Now()) {
			t.Errorf("UseLoginStep: %s, used %v; want used at %v", diff, got.UsedAt, clk.Now())
		}
		if _, err := s.UseLoginStep(ctx, st.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("second use: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.LoginStepByID(ctx, st.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("LoginStepByID after use: err = %v, want %v", err, tenants.ErrNotFound)
		}
	})

	t.Run("before anyone logged in", func(t *testing.T) {
		// A passkey login's challenge names no user yet.
		st := &tenants.LoginStep{ID: randomHash(), AuthRequestID: ar.ID, BrowserHash: randomHash(), Purpose: tenants.StepWebAuthnLogin, ExpiresAt: clk.Now().Add(time.Minute)}
		if err := s.CreateLoginStep(ctx, st); err != nil {
			t.Fatal(err)
		}
		if got, err := s.UseLoginStep(ctx, st.ID); err != nil || got.UserID != "" || got.Purpose != tenants.StepWebAuthnLogin {
			t.Errorf("UseLoginStep = %+v, %v", got, err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			after   time.Duration // since creation, of a step that lives 10 minutes
			wantErr error
		}{
			{"just before expiry", 10*time.Minute - time.Second, nil},
			{"at expiry", 10 * time.Minute, tenants.ErrNotFound},
			{"after expiry", time.Hour, tenants.ErrNotFound},
		} {
			t.Run(tt.name, func(t *testing.T) {
				st := mustLoginStep(t, ctx, s, u.ID, ar.ID, 10*time.Minute)
				clk.Advance(tt.after)
				if _, err := s.LoginStepByID(ctx, st.ID); !errors.Is(err, tt.wantErr) {
					t.Errorf("LoginStepByID: err = %v, want %v", err, tt.wantErr)
				}
				if _, err := s.UseLoginStep(ctx, st.ID); !errors.Is(err, tt.wantErr) {
					t.Errorf("UseLoginStep: err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil && !unused(st.ID) {
					t.Error("an expired step was marked used")
				}
			})
		}
	})

	t.Run("another tenant's", func(t *testing.T) {
		st := mustLoginStep(t, otherCtx, s, "", "", 10*time.Minute)
		if _, err := s.LoginStepByID(ctx, st.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("LoginStepByID: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if _, err := s.UseLoginStep(ctx, st.ID); !errors.Is(err, tenants.ErrNotFound) {
			t.Errorf("UseLoginStep: err = %v, want %v", err, tenants.ErrNotFound)
		}
		if !unused(st.ID) {
			t.Fatal("another tenant spent the step")
		}
		if got, err := s.UseLoginStep(otherCtx, st.ID); err != nil || got.BrowserHash != st.BrowserHash {
			t.Errorf("use by its own tenant: %+v, %v", got, err)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		for _, id := range []string{randomHash(), ""} {
			if _, err := s.LoginStepByID(ctx, id); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("LoginStepByID(%q): err = %v, want %v", id, err, tenants.ErrNotFound)
			}
			if _, err := s.UseLoginStep(ctx, id); !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("UseLoginStep(%q): err = %v, want %v", id, err, tenants.ErrNotFound)
			}
		}
	})

	t.Run("taken id", func(t *testing.T) {
		st := mustLoginStep(t, ctx, s, u.ID, ar.ID, time.Hour)
		dup := newLoginStep(s, u.ID, ar.ID, time.Hour)
		dup.ID = st.ID
		if err := s.CreateLoginStep(otherCtx, dup); !errors.Is(err, tenants.ErrAlreadyExists) {
			t.Errorf("err = %v, want %v", err, tenants.ErrAlreadyExists)
		}
		if got, err := s.LoginStepByID(ctx, st.ID); err != nil || got.Data != st.Data {
			t.Errorf("the step of the taken id: %+v, %v; want it unchanged", got, err)
		}
	})
}

// testUseLoginStepConcurrently spends one step from many requests at once,
// as a second factor submitted twice does: exactly one wins.
func testUseLoginStepConcurrently(t *testing.T, s *tenants.Store) {
	ctx, _ := newTenant(t, s, "step-race")
	u := mustUser(t, ctx, s, "ada@example.com")
	st := mustLoginStep(t, ctx, s, u.ID, tenants.NewRandomID(), time.Hour)
	const n = 20
	got := make([]*tenants.LoginStep, n)
	errs := race(n, func(i int) error {
		var err error
		got[i], err = s.UseLoginStep(ctx, st.ID)
		return err
	})
	winner := oneWinner(t, errs, tenants.ErrNotFound)
	if winner < 0 {
		return
	}
	if w := got[winner]; w.ID != st.ID || w.Data != st.Data || w.UsedAt == nil {
		t.Errorf("the winner got %+v, want the step, used", w)
	}
}

// lockFor returns a lock callback of RecordFailure that locks for d
// whatever the count.
func lockFor(d time.Duration) func(int64) time.Duration {
	return func(int64) time.Duration { return d }
}

// testThrottles runs on a store of its own, whose clock it moves. Keys are
// not tenant-scoped: they name their tenant themselves.
func testThrottles(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx := context.Background()
	const window = 10 * time.Minute
	lockedUntil := func(keys ...string) time.Time {
		t.Helper()
		rows, err := s.Throttles(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		var until time.Time
		for _, r := range rows {
			if !slices.Contains(keys, r.Key) {
				t.Fatalf("Throttles(%v) returned key %q", keys, r.Key)
			}
			if r.LockedUntil != nil && r.LockedUntil.After(until) {
				until = *r.LockedUntil
			}
		}
		return until
	}

	t.Run("failures lock", func(t *testing.T) {
		key := "login:account:" + suffix()
		t0 := clk.Now()
		var given []int64 // the counts the lock callback was given
		// From the third failure on, a minute per failure.
		lock := func(failures int64) time.Duration {
			given = append(given, failures)
			if failures < 3 {
				return 0
			}
			return time.Duration(failures) * time.Minute
		}
		steps := []struct {
			name         string
			at           time.Duration // since t0
			wantFailures int64
			wantLocked   time.Duration // until, since t0; 0: not locked
		}{
			{"first failure", 0, 1, 0},
			{"second", time.Minute, 2, 0},
			{"third", 2 * time.Minute, 3, 2*time.Minute + 3*time.Minute},
			{"fourth", 3 * time.Minute, 4, 3*time.Minute + 4*time.Minute},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				clk.Advance(t0.Add(st.at).Sub(clk.Now()))
				n, err := s.RecordFailure(ctx, key, window, lock)
				if err != nil {
					t.Fatal(err)
				}
				if n != st.wantFailures || len(given) == 0 || given[len(given)-1] != st.wantFailures {
					t.Errorf("RecordFailure = %d, lock given %v; want %d", n, given, st.wantFailures)
				}
				got := lockedUntil(key)
				if st.wantLocked == 0 && !got.IsZero() || st.wantLocked != 0 && !sameTime(got, t0.Add(st.wantLocked)) {
					t.Errorf("latest lock of Throttles = %v, want %v (zero: none)", got, t0.Add(st.wantLocked))
				}
			})
		}
	})

	t.Run("window", func(t *testing.T) {
		key := "login:ip:" + suffix()
		t0 := clk.Now()
		steps := []struct {
			name         string
			at           time.Duration // since t0
			wantFailures int64
		}{
			{"first failure", 0, 1},
			{"just before the window ends", window - time.Second, 2},
			{"when the window ends, it starts again", window, 1},
			{"in the new window", window + time.Minute, 2},
			{"just before the new window ends", 2*window - time.Second, 3},
			{"long after", 24 * time.Hour, 1},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				clk.Advance(t0.Add(st.at).Sub(clk.Now()))
				if n, err := s.RecordFailure(ctx, key, window, lockFor(0)); err != nil || n != st.wantFailures {
					t.Errorf("RecordFailure = %d, %v; want %d", n, err, st.wantFailures)
				}
			})
		}
	})

	t.Run("TakeTurn and RefundFailure", func(t *testing.T) {
		key := "login:pair:" + suffix()
		// Locks from the third failure on.
		lock := func(n int64) time.Duration {
			if n > 2 {
				return time.Minute
			}
			return 0
		}
		for i := int64(1); i <= 3; i++ {
			if n, err := s.TakeTurn(ctx, key, window, lock); err != nil || n != i {
				t.Fatalf("turn %d: %d, %v", i, n, err)
			}
		}
		// Locked now: no turn, nothing counted.
		if _, err := s.TakeTurn(ctx, key, window, lock); !errors.Is(err, tenants.ErrLocked) {
			t.Fatalf("a turn on a locked key: %v, want ErrLocked", err)
		}
		// The third gives its turn back: two failures, no lock.
		if err := s.RefundFailure(ctx, key, lock); err != nil {
			t.Fatal(err)
		}
		rows, err := s.Throttles(ctx, []string{key})
		if err != nil || len(rows) != 1 || rows[0].Failures != 2 || rows[0].LockedUntil != nil {
			t.Fatalf("after a refund: %+v, %v", rows, err)
		}
		if n, err := s.TakeTurn(ctx, key, window, lock); err != nil || n != 3 {
			t.Fatalf("a turn after the refund: %d, %v", n, err)
		}
		// A refund of a key reset meanwhile is nothing.
		if err := s.ResetThrottle(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := s.RefundFailure(ctx, key, lock); err != nil {
			t.Fatal(err)
		}
		if rows, _ := s.Throttles(ctx, []string{key}); len(rows) != 0 {
			t.Fatalf("a refund made a counter: %+v", rows)
		}
	})

	t.Run("Throttles", func(t *testing.T) {
		t0 := clk.Now()
		short, long, unasked, open := "short-"+suffix(), "long-"+suffix(), "unasked-"+suffix(), "open-"+suffix()
		for key, d := range map[string]time.Duration{short: 2 * time.Minute, long: 5 * time.Minute, unasked: time.Hour, open: 0} {
			if _, err := s.RecordFailure(ctx, key, window, lockFor(d)); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			name string
			keys []string
			want time.Duration // since t0; 0: zero time
		}{
			{"the latest lock of the keys", []string{short, long, open}, 5 * time.Minute},
			{"in any order", []string{open, long, short}, 5 * time.Minute},
			{"one key", []string{short}, 2 * time.Minute},
			{"a key not locked", []string{open}, 0},
			{"unknown keys", []string{"unknown-" + suffix()}, 0},
			{"no keys", nil, 0},
			{"a later lock of another key", []string{short, unasked}, time.Hour},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := lockedUntil(tt.keys...)
				if tt.want == 0 && !got.IsZero() || tt.want != 0 && !sameTime(got, t0.Add(tt.want)) {
					t.Errorf("latest lock of Throttles(%v) = %v, want %v (zero: none)", tt.keys, got, t0.Add(tt.want))
				}
			})
		}

		t.Run("ResetThrottle", func(t *testing.T) {
			if err := s.ResetThrottle(ctx, long); err != nil {
				t.Fatal(err)
			}
			if got := lockedUntil(short, long); !sameTime(got, t0.Add(2*time.Minute)) {
				t.Errorf("latest lock of Throttles = %v, want the lock of the key not reset, %v", got, t0.Add(2*time.Minute))
			}
			if n, err := s.RecordFailure(ctx, long, window, lockFor(0)); err != nil || n != 1 {
				t.Errorf("RecordFailure after a reset = %d, %v; want 1", n, err)
			}
			if got := lockedUntil(unasked); !sameTime(got, t0.Add(time.Hour)) {
				t.Errorf("another key's lock = %v, want %v", got, t0.Add(time.Hour))
			}
			if err := s.ResetThrottle(ctx, "unknown-"+suffix()); err != nil {
				t.Errorf("resetting an unknown key: %v", err)
			}
		})
	})
}

// testRecordFailureConcurrently counts the first failures of one key from
// many requests at once, as a password spray does: every one counts.
func testRecordFailureConcurrently(t *testing.T, s *tenants.Store) {
	ctx := context.Background()
	key := "login:tenant:" + suffix()
	const n = 10
	counts := make([]int64, n)
	errs := race(n, func(i int) error {
		var err error
		counts[i], err = s.RecordFailure(ctx, key, time.Hour, lockFor(time.Minute))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("failure %d: %v", i, err)
		}
	}
	slices.Sort(counts)
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(counts, want) {
		t.Errorf("RecordFailure returned %v, want each of 1 to %d once", counts, n)
	}
	if got, err := s.RecordFailure(ctx, key, time.Hour, lockFor(0)); err != nil || got != n+1 {
		t.Errorf("the next failure = %d, %v; want %d", got, err, n+1)
	}
}

// testOutbox runs on a store of its own, whose clock it moves: the outbox
// is every tenant's.
func testOutbox(t *testing.T, s *tenants.Store) {
	clk := newClock()
	s.SetClock(clk.Now)
	ctx := context.Background()
	_, tn := newTenant(t, s, "outbox")
	var sent []*tenants.OutboxMessage // oldest first
	for i, tenantID := range []string{tn.ID, "", tn.ID} {
		m := &tenants.OutboxMessage{TenantID: tenantID, Recipient: fmt.Sprintf("user-%d@example.com", i), Subject: fmt.Sprintf("Message %d", i), Body: "Hello,\n\n" + suffix()}
		if err := s.AppendOutbox(ctx, m); err != nil {
			t.Fatal(err)
		}
		if m.ID == "" || !m.CreatedAt.Equal(clk.Now()) {
			t.Errorf("AppendOutbox left id %q, created %v", m.ID, m.CreatedAt)
		}
		sent = append(sent, m)
		clk.Advance(time.Minute)
	}
	given := &tenants.OutboxMessage{ID: tenants.NewID(), Recipient: "given@example.com", Subject: "Given id", Body: "."}
	if err := s.AppendOutbox(ctx, given); err != nil {
		t.Fatal(err)
	}
	sent = append(sent, given)

	for _, tt := range []struct {
		limit int
		want  []*tenants.OutboxMessage
	}{
		{10, []*tenants.OutboxMessage{sent[3], sent[2], sent[1], sent[0]}},
		{2, []*tenants.OutboxMessage{sent[3], sent[2]}},
	} {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			ms, err := s.ListOutbox(ctx, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(tt.want) {
				t.Fatalf("ListOutbox = %d messages, want %d", len(ms), len(tt.want))
			}
			for i, want := range tt.want {
				got := ms[i]
				if got.ID != want.ID || got.TenantID != want.TenantID || got.Recipient != want.Recipient || got.Subject != want.Subject ||
					got.Body != want.Body || !sameTime(got.CreatedAt, want.CreatedAt) {
					t.Errorf("message %d = %+v, want %+v (newest first)", i, got, want)
				}
			}
		})
	}
	if err := s.AppendOutbox(ctx, &tenants.OutboxMessage{ID: given.ID, Recipient: "x@example.com", Subject: "x", Body: "x"}); !errors.Is(err, tenants.ErrAlreadyExists) {
		t.Errorf("a taken id: err = %v, want %v", err, tenants.ErrAlreadyExists)
	}
}

// testACR checks that the authentication context class a login reached
// (acr) is kept by the session, by the authorization request and by the
// token family its code brings, and that a client's acr_values are kept.
func testACR(t *testing.T, s *tenants.Store) {
	const mfa = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	ctx, _ := newTenant(t, s, "acr")
	mustClient(t, ctx, s, "web")
	u := mustUser(t, ctx, s, "ada@example.com")

	t.Run("session", func(t *testing.T) {
		sess := newSession(s, u.ID, time.Hour)
		sess.AMR, sess.ACR = tenants.Strings{"pwd", "otp", "mfa"}, mfa
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		got, err := s.SessionByID(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ACR != mfa {
			t.Errorf("SessionByID: acr %q, want %q", got.ACR, mfa)
		}
		if ss, err := s.ListSessions(ctx, u.ID); err != nil || len(ss) != 1 || ss[0].ACR != mfa {
			t.Errorf("ListSessions = %+v, %v; want the session with acr %q", ss, err, mfa)
		}
	})

	ar := newAuthRequest(s, "web")
	ar.ACRValues = tenants.Strings{mfa, "0"}
	if err := s.CreateAuthRequest(ctx, ar); err != nil {
		t.Fatal(err)
	}
	authTime := s.Now().Truncate(time.Second)
	steps := []struct {
		name    string
		a       tenants.Authentication
		wantACR string
	}{
		{"login with a password", tenants.Authentication{UserID: u.ID, Time: authTime, AMR: []string{"pwd"}}, ""},
		{"login with a second factor", tenants.Authentication{UserID: u.ID, Time: authTime, AMR: []string{"pwd", "otp", "mfa"}, ACR: mfa}, mfa},
	}
	for _, st := range steps {
		t.Run("SetAuthenticated/"+st.name, func(t *testing.T) {
			if err := s.SetAuthenticated(ctx, ar.ID, st.a); err != nil {
				t.Fatal(err)
			}
			got, err := s.AuthRequestByID(ctx, ar.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ACR != st.wantACR || !slices.Equal(got.AMR, st.a.AMR) || !slices.Equal(got.ACRValues, ar.ACRValues) {
				t.Errorf("AuthRequestByID: acr %q, amr %v, acr_values %v; want %q, %v, %v", got.ACR, got.AMR, got.ACRValues, st.wantACR, st.a.AMR, ar.ACRValues)
			}
		})
	}

	t.Run("code exchange", func(t *testing.T) {
		codeHash := randomHash()
		if err := s.IssueCode(ctx, ar.ID, codeHash, s.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		coded, err := s.AuthRequestByCodeHash(ctx, codeHash)
		if err != nil {
			t.Fatal(err)
		}
		if coded.ACR != mfa {
			t.Fatalf("AuthRequestByCodeHash: acr %q, want %q", coded.ACR, mfa)
		}
		// As the token endpoint does: the family takes the request's acr.
		issue := newIssue(s, "web", u.ID)
		issue.Grant.AMR, issue.Grant.ACR = coded.AMR, coded.ACR
		if err := s.RedeemCode(ctx, coded.ID, issue); err != nil {
			t.Fatal(err)
		}
		g, err := s.GrantByID(ctx, issue.Grant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.ACR != mfa {
			t.Errorf("GrantByID: acr %q, want %q", g.ACR, mfa)
		}
		next := refreshIssue(s, issue.Grant)
		if err := s.RotateRefreshToken(ctx, issue.Refresh.ID, next); err != nil {
			t.Fatal(err)
		}
		if _, rg, err := s.RefreshTokenByHash(ctx, next.Refresh.TokenHash); err != nil || rg.ACR != mfa {
			t.Errorf("family of the rotated refresh token: %+v, %v; want acr %q", rg, err, mfa)
		}
	})

	t.Run("password login has none", func(t *testing.T) {
		ar, issue := mustRedeemed(t, ctx, s, "web", u.ID)
		got, err := s.AuthRequestByID(ctx, ar.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ACR != "" || len(got.ACRValues) != 0 {
			t.Errorf("request of a password login: acr %q, acr_values %v; want none", got.ACR, got.ACRValues)
		}
		g, err := s.GrantByID(ctx, issue.Grant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.ACR != "" {
			t.Errorf("family of a password login: acr %q, want none", g.ACR)
		}
	})
}
