package login

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// currentSession returns the browser's unexpired session at the tenant, or
// nil. A cookie that matches no session of this tenant (another tenant's,
// an expired or forged one) counts as none.
func (h *Handler) currentSession(c echo.Context, ctx context.Context, t *tenants.Tenant) (*tenants.Session, error) {
	for _, v := range cookieValues(c, cookieName(t, sessionCookieName)) {
		s, err := h.store.SessionByID(ctx, secret.Hash(v))
		if errors.Is(err, tenants.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, nil
}

// fromSession is the authentication a session records.
func fromSession(s *tenants.Session) tenants.Authentication {
	return tenants.Authentication{UserID: s.UserID, Time: s.AuthTime, AMR: s.AMR, IDP: s.IDP, ACR: s.ACR}
}

// sessionID is the id a CSRF token binds to: the session's, or "".
func sessionID(s *tenants.Session) string {
	if s == nil {
		return ""
	}
	return s.ID
}

// startSession ends the browser's sessions at the tenant and starts a new
// one under a new id (no session fixation).
func (h *Handler) startSession(c echo.Context, ctx context.Context, t *tenants.Tenant, u *tenants.User, ff firstFactor) (*tenants.Session, error) {
	if err := h.endSessions(c, ctx, t); err != nil {
		return nil, err
	}
	token := secret.Token(32)
	now := h.now().UTC()
	s := &tenants.Session{
		ID:        secret.Hash(token),
		UserID:    u.ID,
		AuthTime:  now.Truncate(time.Second),
		AMR:       ff.amr,
		IDP:       ff.idp,
		ACR:       ff.acr,
		IPAddress: c.RealIP(),
		UserAgent: truncate(c.Request().UserAgent(), 512),
		ExpiresAt: now.Add(t.SessionTTL()),
	}
	if err := h.store.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	setCookie(c, t, sessionCookieName, token, int(t.SessionTTL().Seconds()))
	return s, nil
}

// endSessions deletes every session the browser's cookies name at the
// tenant and clears the cookie.
func (h *Handler) endSessions(c echo.Context, ctx context.Context, t *tenants.Tenant) error {
	vs := cookieValues(c, cookieName(t, sessionCookieName))
	for _, v := range vs {
		if err := h.store.DeleteSession(ctx, secret.Hash(v)); err != nil {
			return err
		}
	}
	if len(vs) > 0 {
		setCookie(c, t, sessionCookieName, "", -1)
	}
	return nil
}

// satisfies reports whether session s may answer auth request ar at now
// without a new login (OIDC Core §3.1.2.1): prompt=login always asks again,
// as does max_age when the last authentication is older than it (max_age=0
// always), and id_token_hint asks for one user. A login performed for ar
// itself moves straight on to consent and is not checked again.
func satisfies(s *tenants.Session, ar *tenants.AuthRequest, now time.Time) bool {
	if s == nil {
		return false
	}
	if ar.HintSubject != "" && ar.HintSubject != s.UserID {
		return false
	}
	if slices.Contains(ar.Prompt, oidc.PromptLogin) {
		return false
	}
	if ar.MaxAge != nil && (*ar.MaxAge == 0 || now.Sub(s.AuthTime) > time.Duration(*ar.MaxAge)*time.Second) {
		return false
	}
	if need := requiredACR(ar); need != "" && !acrMeets(s.ACR, need) {
		return false
	}
	return true
}

// needsStepUp reports whether session s would satisfy ar but for the
// authentication class ar asks for: the user then only proves a second
// factor (step-up), not the password again.
func needsStepUp(s *tenants.Session, ar *tenants.AuthRequest, now time.Time) bool {
	if s == nil {
		return false
	}
	need := requiredACR(ar)
	if need == "" || acrMeets(s.ACR, need) {
		return false
	}
	saved := ar.ACRValues
	ar.ACRValues = nil
	ok := satisfies(s, ar, now)
	ar.ACRValues = saved
	return ok
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
