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

// ChangeRequirement is what a sensitive account change asks of the
// session, as Judge reads it: an authentication within ReauthWindow.
func ChangeRequirement() Requirement {
	w := int64(ReauthWindow / time.Second)
	return Requirement{MaxAge: &w}
}

// Recent reports whether session s authenticated within ReauthWindow
// before now (a time in the future, beyond a minute of skew, is not):
// Judge's verdict on ChangeRequirement, so that the account pages and the
// authorization endpoint read a session's age alike. A step-up keeps its
// session's auth_time, so a second factor alone never makes a session
// recent.
func Recent(s *tenants.Session, now time.Time) bool {
	return Judge(s, ChangeRequirement(), "", nil, now) == Satisfied
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
