package authn

import (
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// ReauthWindow is how long after a session's last authentication (its
// auth_time) it may make sensitive account changes — the email address,
// the password, second factors, passkeys, recovery codes, linked
// identities, other sessions — without proving it again. A stolen session
// older than this cannot add a lasting way in.
const ReauthWindow = 5 * time.Minute

// Recent reports whether session s authenticated within ReauthWindow
// before now (a time in the future, beyond a minute of skew, is not).
func Recent(s *tenants.Session, now time.Time) bool {
	if s == nil || s.AuthTime.After(now.Add(time.Minute)) {
		return false
	}
	return now.Sub(s.AuthTime) <= ReauthWindow
}

// Confirms reports whether factor f may stand for a re-authentication of
// session s: a confirmed factor that was not added in the sign-in s
// belongs to (a factor an attacker added with a stolen session proves
// nothing about who holds it).
func Confirms(f *tenants.MFAFactor, s *tenants.Session) bool {
	if f == nil || s == nil || !f.Confirmed {
		return false
	}
	return f.AddedSignIn == "" || f.AddedSignIn != s.SignInID
}
