package web

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// sessionKey caches a request's session in its echo.Context: the CSRF
// check and the handler read it once.
const sessionKey = "gatehouse.session"

// maxUserAgent is what a session keeps of the browser's user agent.
const maxUserAgent = 512

// Session returns the browser's unexpired session at the request's
// tenant, or nil. A cookie that matches no session of this tenant
// (another tenant's, an expired or forged one) counts as none.
func (s *Site) Session(c echo.Context) (*tenants.Session, error) {
	switch v := c.Get(sessionKey).(type) {
	case *tenants.Session:
		return v, nil
	case error:
		if errors.Is(v, errNoSession) {
			return nil, nil
		}
	}
	t, ctx, err := Tenant(c)
	if err != nil {
		return nil, err
	}
	for _, v := range CookieValues(c, t, SessionCookie) {
		sess, err := s.store.SessionByID(ctx, secret.Hash(v))
		if errors.Is(err, tenants.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		c.Set(sessionKey, sess)
		return sess, nil
	}
	c.Set(sessionKey, errNoSession)
	return nil, nil
}

// SessionID is the id a CSRF token binds to: the session's, or "".
func SessionID(sess *tenants.Session) string {
	if sess == nil {
		return ""
	}
	return sess.ID
}

// StartSession ends the browser's sessions at t and starts one for what a
// sign-in proved, under a new id (no session fixation). signInID names
// the sign-in; a session that rotates keeps its predecessor's.
func (s *Site) StartSession(c echo.Context, t *tenants.Tenant, a tenants.Authentication, signInID string) (*tenants.Session, error) {
	if err := s.EndSessions(c, t); err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	token := secret.Token(32)
	now := s.store.Now()
	authTime := now.Truncate(time.Second)
	if !a.Time.IsZero() && a.Time.Before(authTime) {
		// A step-up keeps the time of the first factor it builds on.
		authTime = a.Time
	}
	o, _ := tenants.OriginFrom(ctx)
	sess := &tenants.Session{
		ID:        secret.Hash(token),
		UserID:    a.UserID,
		AuthTime:  authTime,
		AMR:       a.AMR,
		IDP:       a.IDP,
		ACR:       a.ACR,
		SignInID:  signInID,
		IPAddress: tenants.Truncate(o.IP, 64),
		UserAgent: tenants.Truncate(o.UserAgent, maxUserAgent),
		ExpiresAt: now.Add(t.SessionTTL()),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	SetCookie(c, t, SessionCookie, token, int(t.SessionTTL().Seconds()))
	c.Set(sessionKey, sess)
	return sess, nil
}

// EndSessions deletes every session the browser's cookies name at t and
// clears the cookie: a session that rotates, or one a password reset ended
// (with its logouts).
func (s *Site) EndSessions(c echo.Context, t *tenants.Tenant) error {
	return s.endSessions(c, t, s.store.DeleteSession)
}

// SignOut ends every session the browser's cookies name at t, as the user
// signing out does: every application of each session that registered a
// back-channel logout URI is told (tenants.Store.LogoutSession).
func (s *Site) SignOut(c echo.Context, t *tenants.Tenant) error {
	return s.endSessions(c, t, s.store.LogoutSession)
}

func (s *Site) endSessions(c echo.Context, t *tenants.Tenant, end func(context.Context, string) error) error {
	ctx := c.Request().Context()
	vs := CookieValues(c, t, SessionCookie)
	for _, v := range vs {
		if err := end(ctx, secret.Hash(v)); err != nil {
			return err
		}
	}
	if len(vs) > 0 {
		SetCookie(c, t, SessionCookie, "", -1)
	}
	c.Set(sessionKey, errNoSession)
	return nil
}
